"""How the code is shaped: no import cycle, a light core, and only public docqa names outside it."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "docqa"

# Only the extras may load these; `import docqa`, ingest and ask never do.
HEAVY = ("gradio", "matplotlib", "langchain_chroma", "langchain_text_splitters", "llama_cpp")
# Where each extra's library may be imported (the rest of the package is the core).
ALLOWED_HOME = {
    "gradio": "docqa.web",
    "fastapi": "docqa.web",
    "matplotlib": "docqa.evaluation",
    "langchain_chroma": None,  # bench/ alone
    "langchain_text_splitters": None,
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT / "src").with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path, *, type_checking: bool) -> set[str]:
    """Every module ``path`` imports (lazy imports inside functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            guarded.update(id(sub) for sub in ast.walk(node))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in guarded and not type_checking:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_in_the_package() -> None:
    for type_checking in (False, True):
        graph = {
            name: {m for m in _imports(path, type_checking=type_checking) if m in MODULES} - {name}
            for name, path in MODULES.items()
        }
        assert _cycles(graph) == [], f"import cycle (type-only imports: {type_checking})"


def test_extras_are_imported_only_where_they_belong() -> None:
    for name, path in MODULES.items():
        for imported in _imports(path, type_checking=True):
            top = imported.split(".")[0]
            if top in ALLOWED_HOME:
                home = ALLOWED_HOME[top]
                assert home is not None and (name == home or name.startswith(home + ".")), (
                    f"{name} imports {top}, which belongs to {home or 'bench/'} only"
                )


def test_core_never_loads_the_extras() -> None:
    """`import docqa`, then a whole ingest and question, load no extra's library."""
    script = f"""
import sys, tempfile, pathlib
sys.path.insert(0, {str(ROOT / "tests")!r})
import docqa
loaded = [m for m in {HEAVY!r} if m in sys.modules]
assert not loaded, f"import docqa loaded {{loaded}}"
from fakes import HashingEmbeddings
root = pathlib.Path(tempfile.mkdtemp())
(root / "corpus").mkdir()
(root / "corpus" / "a.txt").write_text("The aviary feeds its birds at dawn.", encoding="utf-8")
qa = docqa.DocQA(corpus_dir=root / "corpus", index_dir=root / "index",
                 embedder=HashingEmbeddings())
qa.ingest()
answer = qa.ask("When does the aviary feed its birds?")
docs = qa.retriever.invoke("aviary")
loaded = [m for m in {HEAVY!r} if m in sys.modules]
assert not loaded, f"ingest and ask loaded {{loaded}}"
print("ok", len(docs))
"""
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("ok 1")


def test_the_readme_import_check_holds() -> None:
    check = (
        "import docqa, sys; assert 'gradio' not in sys.modules and 'matplotlib' not in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]


def _private_uses(path: Path) -> list[str]:
    """``from docqa... import _name`` and ``obj._name`` (other than ``self``/``cls``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("docqa"):
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            owner = ast.unparse(node.value)
            if not node.attr.startswith("__") and owner not in {"self", "cls"}:
                found.append(ast.unparse(node))
    return found


def test_eval_and_bench_use_only_public_docqa_names() -> None:
    scripts = [*sorted((ROOT / "eval").glob("*.py")), *sorted((ROOT / "bench").glob("*.py"))]
    assert scripts
    offenders = {str(p.relative_to(ROOT)): _private_uses(p) for p in scripts}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_private_use_finder_finds_one(tmp_path: Path) -> None:
    sample = tmp_path / "s.py"
    sample.write_text("from docqa.api import _x\nqa._keyword_index()\nself._ok\n")
    assert _private_uses(sample) == ["docqa.api._x", "qa._keyword_index"]
