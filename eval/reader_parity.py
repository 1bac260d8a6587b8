"""The reader's held-out SQuAD figures, as question time runs it, against its model card.

    python eval/reader_parity.py                 # the exported graph (docqa.onnx_runtime)
    python eval/reader_parity.py --numpy         # docqa's own NumPy forward pass
    python eval/reader_parity.py --graph FILE    # any other graph of the same weights

``make train-reader`` measures the card's figures in torch on the 600 held-out questions it draws
with its seed; this script draws the same questions and reads them with the shipped weights as
``docqa`` runs them, so a runtime (an exported or quantised graph) is held to the card: every
figure within ``TOLERANCE``. Also prints the reading time per question (all candidate sentences
of the question in one batch, as ``ask`` reads its six).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from docqa.evaluation.metrics import token_f1
from docqa.onnx_runtime import OnnxBert
from docqa.reader.data import load_squad, split_by_article
from docqa.reader.reading import WEIGHTS_DIR, Reader, load_reader
from docqa.reader.train import SQUAD, TRAIN_FILES, TrainConfig, auc, held_out_articles

TOLERANCE = 0.01
FIGURES = ("answer_sentence_first", "answer_phrase_f1", "answerability_auc")


def held_out_questions(card: dict[str, Any]) -> list[Any]:
    """The card's held-out questions, drawn as ``make train-reader`` draws them."""
    fields = TrainConfig.__dataclass_fields__
    config = TrainConfig(**{k: v for k, v in card["config"].items() if k in fields})
    train_part, dev_part = (load_squad(SQUAD / name) for name in TRAIN_FILES)
    examples = train_part + dev_part
    held = held_out_articles(examples, {e.article for e in dev_part}, config)
    _, test = split_by_article(examples, held)
    return random.Random(config.seed).sample(test, min(config.eval_questions, len(test)))


def measure(reader: Reader, examples: list[Any]) -> dict[str, Any]:
    """The card's held-out figures and the reading time, for ``reader``."""
    first, f1, answerable, unanswerable, seconds = [], [], [], [], []
    for example in examples:
        started = time.perf_counter()
        readings = reader.read(example.question, example.sentences)
        seconds.append(time.perf_counter() - started)
        probabilities = np.array([r.probability for r in readings])
        top = int(probabilities.argmax())
        if example.answerable:
            first.append(example.labels[top] == 1)
            phrase = readings[top].phrase
            text = example.sentences[top][phrase.start : phrase.end] if phrase else ""
            f1.append(token_f1(text, example.answer_texts))
            answerable.append(float(probabilities.max()))
        else:
            unanswerable.append(float(probabilities.max()))
    return {
        "answer_sentence_first": round(float(np.mean(first)), 4),
        "answer_phrase_f1": round(float(np.mean(f1)), 4),
        "answerability_auc": round(auc(answerable, unanswerable) or 0.0, 4),
        "read_ms_median": round(statistics.median(seconds) * 1000, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--numpy", action="store_true", help="NumPy forward pass, no graph")
    parser.add_argument("--graph", type=Path, help="an ONNX graph of the reader to run")
    args = parser.parse_args(argv)
    reader = load_reader()
    if args.numpy:
        reader.encoder.use_runner(None)
    elif args.graph:
        reader.encoder.use_runner(OnnxBert(args.graph))
    card = json.loads((WEIGHTS_DIR / "reader.json").read_text(encoding="utf-8"))
    got = measure(reader, held_out_questions(card))
    want = card["held_out"]
    misses = [k for k in FIGURES if abs(got[k] - want[k]) > TOLERANCE]
    print(json.dumps({"measured": got, "card": {k: want[k] for k in FIGURES}}, indent=2))
    print("within the card's figures" if not misses else f"differs from the card: {misses}")
    sys.exit(1 if misses else 0)


if __name__ == "__main__":
    main()
