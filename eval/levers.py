"""Switch each lever of issue 19 off in turn and measure the three question sets.

    python eval/levers.py [all|parts|entities|compound|typed ...]

Each lever is switched off by replacing the one constant or function that owns it, so the rest
of the question path runs unchanged:
- ``parts``: long sentences are scored without their parts (``scoring.PART_WEIGHT = 0``);
- ``entities``: the entities found at ingest are ignored and the patterns stand in
  (``Chunk.entities_in`` answers None, as for an index built before entities were stored);
- ``compound``: compound questions are not split (``evidence.compound_parts``);
- ``typed``: a sentence holding the asked amount, date or name is never preferred to the best
  (``extractive.TYPE_CANDIDATES = 1``); the answer-type rule still applies.

Prints one line per setting: the NATO set's correctness and abstention, and for ClapNQ and the
held-out SQuAD articles the answered and abstained shares and the abstention where the threshold
answers at least 80% (``abstained_at_answered_80``). Indexes are kept in ``.docqa-eval/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import docqa.answerers.extractive as extractive
import docqa.evidence as evidence
import docqa.models as models
import docqa.scoring as scoring
from docqa.evaluation.run import run_eval

ROOT = Path(__file__).resolve().parents[1]
SETS = {
    "nato": (ROOT / "corpus", ROOT / "eval" / "questions.jsonl"),
    "clapnq": (ROOT / "eval/data/clapnq/docs.jsonl", ROOT / "eval/data/clapnq/questions.jsonl"),
    "squad": (
        ROOT / "eval/data/squad2/heldout/docs.jsonl",
        ROOT / "eval/data/squad2/heldout/questions.jsonl",
    ),
}


def switch_off(lever: str) -> None:
    """Switch one lever off in this process (see the module docstring)."""
    if lever == "parts":
        scoring.PART_WEIGHT = 0.0
    elif lever == "entities":
        models.Chunk.entities_in = lambda self, span: None  # type: ignore[method-assign]
    elif lever == "compound":
        evidence.compound_parts = lambda question: (question,)
    elif lever == "typed":
        extractive.TYPE_CANDIDATES = 1
    elif lever != "all":
        raise SystemExit(f"unknown lever {lever!r}: all, parts, entities, compound or typed")


def measure() -> str:
    """One line of figures over the three sets."""
    cells = []
    for name, (docs, questions) in SETS.items():
        m = run_eval(docs, questions, None, name=name, progress=False).metrics
        if name == "nato":
            cells.append(f"{m['answer_correctness']:.3f} / {m['abstention_recall']:.3f}")
        else:
            cells.append(
                f"{m['answered_rate']:.3f} / {m['abstention_recall']:.3f} / "
                f"{m['abstained_at_answered_80']:.3f}"
            )
    return " | ".join(cells)


def main() -> None:
    for lever in sys.argv[1:] or ["all", "parts", "entities", "compound", "typed"]:
        # Each setting in a fresh process: a switched-off lever must not leak into the next.
        if len(sys.argv) == 2:
            switch_off(lever)
            print(f"{lever}: {measure()}", flush=True)
        else:
            import subprocess

            subprocess.run([sys.executable, __file__, lever], check=True)


if __name__ == "__main__":
    main()
