"""The ``docqa`` command, in-process (fast) and once through the installed console script."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import docqa.api
from docqa.cli import EXIT_ERROR, main

NATO_NAME = "nato-iraq-political-dialogue.txt"
NATO_FILE = Path(__file__).resolve().parents[1] / "corpus" / NATO_NAME
QUOTE_LINE = re.compile(r"^\s+\u201c(.+)\u201d$", re.MULTILINE)

pytestmark = pytest.mark.slow


TINY_NAME = "harbour.txt"
TINY_TEXT = (
    "The old harbour of Porto Velho was rebuilt in 1987. "
    "Fishing boats still leave it every morning.\n"
)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder) -> dict[str, Path]:
    """A one-sentence corpus and an empty index folder, named by DOCQA_* variables.

    The CLI loads the model in-process; it gets the session's copy of the same model.
    """
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / TINY_NAME).write_text(TINY_TEXT, encoding="utf-8")
    index = tmp_path / "index"
    monkeypatch.setenv("DOCQA_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("DOCQA_INDEX_DIR", str(index))
    monkeypatch.setattr(docqa.api, "load_embedder", lambda *args, **kwargs: embedder)
    return {"corpus": corpus, "index": index}


def one_line_error(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("docqa: error: ")
    return lines[0]


def normalised(text: str) -> str:
    return " ".join(text.split())


def test_ingest_prints_the_summary(cli, capsys, tmp_path: Path) -> None:
    other = tmp_path / "other-corpus"
    other.mkdir()
    (other / TINY_NAME).write_text(TINY_TEXT, encoding="utf-8")
    (other / "table.csv").write_text("a,b\n", encoding="utf-8")

    assert main(["ingest", "--corpus", str(other)]) == 0

    out = capsys.readouterr().out
    assert "added 1, updated 0, removed 0, unchanged 0, skipped 1 file(s)" in out
    assert "chunks indexed" in out
    assert "skipped table.csv: unsupported" in out
    assert (cli["index"] / "manifest.json").is_file()

    assert main(["--corpus", str(other), "ingest"]) == 0  # the global option works too
    assert "added 0, updated 0, removed 0, unchanged 1" in capsys.readouterr().out


def _index_nato_instead(cli: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """The corpus becomes the NATO report alone, indexed; the ingest output is discarded."""
    (cli["corpus"] / TINY_NAME).unlink()
    shutil.copy(NATO_FILE, cli["corpus"] / NATO_NAME)
    assert main(["ingest"]) == 0
    capsys.readouterr()


def _quotes_from_nato(printed: str) -> list[str]:
    """The quotes printed in ``printed``, each checked to be text of the NATO report."""
    quotes = QUOTE_LINE.findall(printed)
    text = normalised(NATO_FILE.read_bytes().decode("utf-8"))
    assert quotes and all(normalised(q) in text for q in quotes)
    return quotes


def test_ask_prints_the_answer_and_its_sources(cli, capsys) -> None:
    _index_nato_instead(cli, capsys)

    assert main(["ask", "When was the NATO Mission in Iraq established?"]) == 0

    out = capsys.readouterr().out
    answer, _, sources = out.partition("\nSources:\n")
    assert "2018" in answer
    assert "[1]" in answer
    assert f"[1] nato iraq political dialogue ({NATO_NAME}, chars " in sources
    assert "2018" in " ".join(_quotes_from_nato(sources))


def test_ask_prints_the_answer_phrase_first(cli, capsys) -> None:
    _index_nato_instead(cli, capsys)
    assert main(["ask", "In what year was the NATO Mission in Iraq established?"]) == 0
    out = capsys.readouterr().out
    first, _, rest = out.partition("\n\n")
    assert first == "Answer: 2018 [1]"
    assert rest.startswith("The NATO Mission in Iraq, established at Iraq’s request in 2018")


def test_ask_with_the_reader_prints_the_phrase_then_closest_passages_on_abstention(
    cli, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("DOCQA_ANSWERER", "reader")
    _index_nato_instead(cli, capsys)

    assert main(["ask", "Who led the Iraqi delegation?"]) == 0
    out = capsys.readouterr().out
    answer, _, sources = out.partition("\nSources:\n")
    assert "[1]" in answer and "Closest passages" not in out
    phrases = re.findall(r"^\s+answer phrase: (.+)$", sources, re.MULTILINE)
    assert phrases and all(p in normalised(sources) for p in phrases)

    assert main(["ask", "What is the boiling point of mercury?"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("The documents do not contain an answer")
    assert "Sources:" not in out
    closest = out.partition("Closest passages (NOT an answer; check them yourself):\n")[2]
    _quotes_from_nato(closest)


def test_ask_builds_the_index_on_first_run(cli, capsys, monkeypatch) -> None:
    monkeypatch.setenv("DOCQA_ABSTAIN_THRESHOLD", "0")  # always answer: sources get printed
    assert main(["ask", "When was the old harbour rebuilt?"]) == 0
    captured = capsys.readouterr()
    assert "Building the index" in captured.err
    assert "added 1" in captured.err
    assert "Sources:" in captured.out
    assert f"({TINY_NAME}, chars " in captured.out
    assert "1987" in captured.out
    assert (cli["index"] / "manifest.json").is_file()


def test_missing_corpus_folder_is_one_line_exit_2(cli, capsys, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"

    assert main(["ingest", "--corpus", str(missing)]) == EXIT_ERROR

    captured = capsys.readouterr()
    line = one_line_error(captured.err)
    assert str(missing) in line
    assert captured.out == ""


def test_ask_with_missing_corpus_and_no_index_is_exit_2(cli, capsys, tmp_path) -> None:
    missing = tmp_path / "gone"
    assert main(["--corpus", str(missing), "ask", "When was the harbour rebuilt?"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert str(missing) in err
    assert "Traceback" not in err


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_is_exit_2(cli, capsys, question: str) -> None:
    assert main(["ingest"]) == 0
    capsys.readouterr()

    assert main(["ask", question]) == EXIT_ERROR

    captured = capsys.readouterr()
    assert "empty" in one_line_error(captured.err)
    assert captured.out == ""


def test_empty_question_fails_before_building_the_index(cli, capsys) -> None:
    assert main(["ask", "  "]) == EXIT_ERROR
    captured = capsys.readouterr()
    assert "empty" in captured.err
    assert "Building the index" not in captured.err
    assert not (cli["index"] / "manifest.json").exists()


def test_question_over_the_limit_is_exit_2(cli, capsys, monkeypatch) -> None:
    assert main(["ingest"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("DOCQA_MAX_QUESTION_CHARS", "40")

    assert main(["ask", "When was the old harbour of Porto Velho rebuilt?"]) == EXIT_ERROR

    line = one_line_error(capsys.readouterr().err)
    assert "limit is 40" in line
    assert "DOCQA_MAX_QUESTION_CHARS" in line


def test_invalid_setting_in_environment_is_exit_2(cli, capsys, monkeypatch) -> None:
    monkeypatch.setenv("DOCQA_TOP_K", "0")
    assert main(["ask", "When was the harbour rebuilt?"]) == EXIT_ERROR
    line = one_line_error(capsys.readouterr().err)
    assert "top_k" in line
    assert "README" in line


def write_future_manifest(index: Path) -> None:
    index.mkdir(parents=True, exist_ok=True)
    payload = {"version": 99, "chunking": "future", "files": {}}
    (index / "manifest.json").write_text(json.dumps(payload), encoding="utf-8")


def test_ingest_into_incompatible_index_is_exit_2_naming_rebuild(cli, capsys) -> None:
    write_future_manifest(cli["index"])

    assert main(["ingest"]) == EXIT_ERROR

    line = one_line_error(capsys.readouterr().err)
    assert "--rebuild" in line
    assert "manifest" in line


def test_rebuild_replaces_an_incompatible_index(cli, capsys) -> None:
    write_future_manifest(cli["index"])

    assert main(["ingest", "--rebuild"]) == 0

    assert "added 1," in capsys.readouterr().out
    manifest = json.loads((cli["index"] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["version"] != 99
    assert TINY_NAME in manifest["files"]


def test_ask_on_incompatible_index_is_exit_2_naming_rebuild(cli, capsys) -> None:
    write_future_manifest(cli["index"])

    code = main(["ask", "When was the harbour rebuilt?"])

    captured = capsys.readouterr()
    assert code == EXIT_ERROR, f"exit {code}; printed {captured.out!r}"
    assert "--rebuild" in one_line_error(captured.err)


# --- the installed console script -----------------------------------------------------------


@pytest.fixture(scope="module")
def script_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for subprocess runs: a corpus copy and one index shared by both tests."""
    root = tmp_path_factory.mktemp("script")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(NATO_FILE, corpus / NATO_NAME)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCQA_")}
    env.update(
        DOCQA_CORPUS_DIR=str(corpus),
        DOCQA_INDEX_DIR=str(root / "index"),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        PYTHONWARNINGS="ignore",
    )
    return env


def docqa_script() -> str:
    script = Path(sys.executable).parent / "docqa"
    assert script.is_file(), f"console script not installed at {script}"
    return str(script)


def test_console_script_answers_with_sources(script_env: dict[str, str]) -> None:
    result = subprocess.run(
        [docqa_script(), "ask", "Who led the Iraqi delegation?"],
        env=script_env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "al-Araji" in result.stdout
    assert "Sources:" in result.stdout
    assert QUOTE_LINE.search(result.stdout)


def test_chat_rewrites_the_follow_up(script_env: dict[str, str]) -> None:
    result = subprocess.run(
        [docqa_script(), "chat"],
        input="Who is Tom Goffus?\nWhat did he emphasize?\n\n",
        env=script_env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    # input() writes its "you> " prompt without a newline when stdin is not a terminal.
    searched = re.findall(r"\(searched for: (.+)\)$", result.stdout, re.MULTILINE)
    assert len(searched) == 1, result.stdout
    assert "Tom Goffus" in searched[0]
    assert "emphasize" in searched[0]
    assert result.stdout.count("docqa> ") == 2
    after_follow_up = result.stdout.split("(searched for:", 1)[1]
    assert "emphasized" in after_follow_up
