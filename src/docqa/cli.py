"""The ``docqa`` command: ``ingest``, ``ask`` and ``chat`` (each in a ``--workspace``).

Errors print one line naming the problem and the fix, and exit non-zero; no tracebacks.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from docqa.cli_users import add_user_parser, cmd_user
from docqa.cli_workspaces import (
    add_workspace_option,
    add_workspace_parser,
    cmd_workspace,
    command_settings,
)
from docqa.errors import DocQAError
from docqa.settings import ANSWERERS
from docqa.workspaces import DEFAULT_WORKSPACE

if TYPE_CHECKING:
    from docqa.models import Citation

EXIT_ERROR = 2


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="docqa",
        description="Ask questions about a folder of documents; every answer sentence is cited.",
    )
    parser.add_argument("--corpus", type=Path, help="corpus folder (default: DOCQA_CORPUS_DIR)")
    parser.add_argument("--index", type=Path, help="index folder (default: DOCQA_INDEX_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="build or update the index from the corpus folder")
    ingest.add_argument("--corpus", type=Path, dest="sub_corpus", help="corpus folder")
    ingest.add_argument("--index", type=Path, dest="sub_index", help="index folder")
    ingest.add_argument(
        "--rebuild", action="store_true", help="delete the index first and build it anew"
    )
    add_workspace_option(ingest)

    ask = sub.add_parser("ask", help="answer one question, then list its sources")
    ask.add_argument("question", help="the question, in quotes")
    add_workspace_option(ask)

    chat = sub.add_parser("chat", help="multi-turn questions in the terminal (Ctrl-D to quit)")
    add_workspace_option(chat)

    ev = sub.add_parser("eval", help="score a question set against a corpus; write a report")
    ev.add_argument("--docs", type=Path, help="corpus folder or file (default: the corpus)")
    ev.add_argument(
        "--questions", type=Path, default=Path("eval/questions.jsonl"), help="question set"
    )
    ev.add_argument("--out", type=Path, default=Path("eval/reports"), help="report folder")
    ev.add_argument("--sample", type=int, help="score a reproducible sample of N questions")
    ev.add_argument("--seed", type=int, default=0, help="sample seed")
    ev.add_argument("--name", help="title of the report (default: the question file's name)")
    ev.add_argument(
        "--answerer",
        choices=ANSWERERS,
        help="answerer to evaluate (default: DOCQA_ANSWERER, else extractive)",
    )
    add_user_parser(sub)
    add_workspace_parser(sub)
    return parser


def _cmd_user(args: argparse.Namespace) -> int:
    from docqa.settings import load_settings

    overrides = {"index_dir": args.index} if args.index is not None else {}
    return cmd_user(args, load_settings(**overrides))


def _cmd_workspace(args: argparse.Namespace) -> int:
    from docqa.settings import load_settings

    overrides = {"index_dir": args.index} if args.index is not None else {}
    if args.corpus is not None:
        overrides["corpus_dir"] = args.corpus
    return cmd_workspace(args, load_settings(**overrides))


def _open(args: argparse.Namespace, **overrides: object):  # type: ignore[no-untyped-def]
    """The ``DocQA`` of ``args.workspace``, with the --corpus/--index and ``overrides``."""
    from docqa.api import DocQA
    from docqa.settings import load_settings

    corpus = getattr(args, "sub_corpus", None) or args.corpus
    if corpus is not None:
        overrides["corpus_dir"] = corpus
    index = getattr(args, "sub_index", None) or args.index
    if index is not None:
        overrides["index_dir"] = index
    base = load_settings(**overrides)
    return DocQA(command_settings(base, args.workspace, corpus_given=corpus is not None))


def _print_quotes(citations: Sequence[Citation], out: TextIO, numbered: str) -> None:
    """Each citation's location and quote (and answer phrase); ``numbered`` formats its number."""
    for c in citations:
        # People read a PDF by pages; character offsets help only in text files.
        where = f"page {c.page}" if c.page is not None else f"chars {c.start}-{c.end}"
        label = numbered.format(c.number)
        out.write(f"  {label} {c.title} ({c.source}, {where})\n")
        out.write(f"      \u201c{' '.join(c.quote.split())}\u201d\n")
        if c.answer_phrase:
            out.write(f"      answer phrase: {' '.join(c.answer_phrase.split())}\n")


def print_answer(answer: object, out: TextIO) -> None:
    """Answer text, then its numbered sources with their exact quotes; on abstention, the
    closest passages, marked as not an answer."""
    from docqa.models import Answer

    assert isinstance(answer, Answer)
    if answer.phrases:
        out.write("Answer: " + "; ".join(f"{p} [{n}]" for n, p in answer.phrases) + "\n\n")
    out.write(answer.text + "\n")
    if answer.citations:
        out.write("\nSources:\n")
        _print_quotes(answer.citations, out, "[{}]")
    if answer.closest:
        out.write("\nClosest passages (NOT an answer; check them yourself):\n")
        _print_quotes(answer.closest, out, "{}.")


def _cmd_ingest(args: argparse.Namespace) -> int:
    qa = _open(args)
    if not qa.settings.corpus_dir.is_dir():
        default = args.workspace == DEFAULT_WORKSPACE
        fix = "pass --corpus DIR" if default else "upload documents to the workspace"
        raise DocQAError(
            f"Corpus folder {qa.settings.corpus_dir} does not exist. Create it and put documents "
            f"in it, or {fix}."
        )
    report = qa.ingest(progress=sys.stderr.isatty(), rebuild=args.rebuild)
    print(report.summary())
    for skipped in report.skipped:
        print(f"  skipped {skipped.source}: {skipped.reason}")
    return 0


def _ensure_index(qa: object) -> None:
    from docqa.api import DocQA

    assert isinstance(qa, DocQA)
    if not qa.is_indexed():
        print("Building the index (first run)...", file=sys.stderr)
        report = qa.ingest(progress=sys.stderr.isatty())
        print(report.summary(), file=sys.stderr)


def _cmd_ask(args: argparse.Namespace) -> int:
    # One question: the reader (if configured) runs in NumPy rather than paying torch's import.
    one_shot = {} if "DOCQA_READER_TORCH" in os.environ else {"reader_torch": False}
    qa = _open(args, **one_shot)
    qa.check_question(args.question)  # a bad question fails before any indexing work
    _ensure_index(qa)
    print_answer(qa.ask(args.question), sys.stdout)
    return 0


def _cmd_chat(args: argparse.Namespace) -> int:
    from docqa.errors import QuestionError

    qa = _open(args)
    _ensure_index(qa)
    history: list[tuple[str, str]] = []
    print("Ask about your documents. An empty line or Ctrl-D quits; 'reset' forgets the chat.")
    while True:
        try:
            question = input("\nyou> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not question or question.lower() in {"quit", "exit"}:
            return 0
        if question.lower() == "reset":
            history.clear()
            print("(conversation forgotten)")
            continue
        try:
            answer = qa.ask(question, history)
        except QuestionError as exc:
            print(f"error: {exc}")
            continue
        if answer.standalone_question != question:
            print(f"(searched for: {answer.standalone_question})")
        print("docqa> ", end="")
        print_answer(answer, sys.stdout)
        history.append((question, answer.text))


def _cmd_eval(args: argparse.Namespace) -> int:
    from docqa.evaluation import run_eval
    from docqa.settings import load_settings

    overrides: dict[str, object] = {"index_dir": args.index} if args.index is not None else {}
    if args.answerer is not None:
        overrides["answerer"] = args.answerer
    docs = args.docs or args.corpus or load_settings().corpus_dir
    summary = run_eval(
        docs,
        args.questions,
        args.out,
        name=args.name,
        sample=args.sample,
        seed=args.seed,
        progress=sys.stderr.isatty(),
        overrides=overrides,
    )
    m = summary.metrics
    for key in (
        "questions",
        "answer_correctness",
        "rouge_l",
        "recall_at_5",
        "mrr_at_10",
        "citation_validity",
        "citation_support",
        "answered_rate",
        "abstention_recall",
        "abstention_precision",
        "sentences_dropped",
    ):
        value = m.get(key)
        shown = "—" if value is None else (f"{value:.3f}" if isinstance(value, float) else value)
        print(f"{key:22s} {shown}")
    print(f"report: {args.out / 'report.md'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``docqa`` command."""
    args = _build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    commands = {
        "ingest": _cmd_ingest,
        "ask": _cmd_ask,
        "chat": _cmd_chat,
        "eval": _cmd_eval,
        "user": _cmd_user,
        "token": _cmd_user,
        "workspace": _cmd_workspace,
        "feedback": _cmd_workspace,
    }
    try:
        return commands[args.command](args)
    except DocQAError as exc:
        print(f"docqa: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("docqa: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
