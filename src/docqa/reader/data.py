"""Reader training data: SQuAD 2.0 questions against the sentences of their paragraph.

Each question becomes one ``ReaderExample``: its paragraph is cut with docqa's own sentence
splitter (the one ingest uses, so the reader sees at training what it will see at question time)
and a sentence is labelled 1 when it holds a gold answer's start; that answer's character span
inside the sentence (cut at the sentence's end) teaches the reader the answer phrase. An
unanswerable question's sentences are all 0: the reader must learn when a passage does not answer,
not only where.

Example:
    >>> examples = load_squad(Path("eval/data/squad2/train-10-articles.json"))
    >>> examples[0].question, examples[0].labels
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from docqa.chunking import split_sentences


@dataclass(frozen=True)
class ReaderExample:
    """One question against the sentences of the passage it was asked about.

    Attributes:
        question: The question.
        sentences: The passage's sentences, in reading order.
        labels: 1 for each sentence that holds a gold answer, else 0.
        article: The source article (splits are made by article).
        answers: For each sentence, the first gold answer's ``(start, end)`` inside it, or None.
        answer_texts: The gold answers' texts (for the answer-phrase F1).
        plausible: For an unanswerable question, 1 for each sentence holding one of SQuAD 2.0's
            "plausible answers" (the span its writer made the question look answerable by).
    """

    question: str
    sentences: tuple[str, ...]
    labels: tuple[int, ...]
    article: str
    answers: tuple[tuple[int, int] | None, ...] = ()
    answer_texts: tuple[str, ...] = ()
    plausible: tuple[int, ...] = ()

    @property
    def answerable(self) -> bool:
        """Whether some sentence holds the answer."""
        return any(self.labels)


@dataclass(frozen=True)
class Pair:
    """A (question, sentence) pair with its label: the unit the reader is trained on."""

    question: str
    sentence: str
    label: int
    answer: tuple[int, int] | None = None  # the answer phrase's span inside ``sentence``


def load_squad(path: Path) -> list[ReaderExample]:
    """Every question of a SQuAD 2.0 file, against its paragraph's sentences.

    A question whose answers all start outside every sentence (a splitter edge case) is dropped
    rather than mislabelled as unanswerable.
    """
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    examples: list[ReaderExample] = []
    for article in data:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            spans = split_sentences(context)
            sentences = tuple(context[start:end] for start, end in spans)
            for qa in paragraph["qas"]:
                gold = [
                    (a["answer_start"], a["answer_start"] + len(a["text"]))
                    for a in qa.get("answers", [])
                ]
                answers = tuple(_answer_in(gold, start, end) for start, end in spans)
                labels = tuple(int(a is not None) for a in answers)
                if gold and not any(labels):
                    continue
                decoys = [
                    (a["answer_start"], a["answer_start"] + len(a["text"]))
                    for a in qa.get("plausible_answers", [])
                ]
                plausible = tuple(int(_answer_in(decoys, s, e) is not None) for s, e in spans)
                examples.append(
                    ReaderExample(
                        qa["question"].strip(),
                        sentences,
                        labels,
                        article["title"],
                        answers,
                        tuple(dict.fromkeys(a["text"] for a in qa.get("answers", []))),
                        plausible,
                    )
                )
    return examples


def _answer_in(gold: list[tuple[int, int]], start: int, end: int) -> tuple[int, int] | None:
    """The first gold answer starting inside ``[start, end)``, relative to ``start``."""
    for a_start, a_end in gold:
        if start <= a_start < end:
            return a_start - start, min(a_end, end) - start
    return None


def split_by_article(
    examples: Sequence[ReaderExample], held_out: Iterable[str]
) -> tuple[list[ReaderExample], list[ReaderExample]]:
    """``(train, held_out)``: whole articles go to one side only."""
    held = set(held_out)
    unknown = held - {e.article for e in examples}
    if unknown:
        raise ValueError(f"held-out articles {sorted(unknown)} are not in the data")
    return [e for e in examples if e.article not in held], [
        e for e in examples if e.article in held
    ]


def training_pairs(
    examples: Sequence[ReaderExample],
    max_pairs: int,
    positive_share: float,
    seed: int,
    hard_negatives: bool = False,
) -> list[Pair]:
    """At most ``max_pairs`` shuffled pairs, about ``positive_share`` of them positive.

    Negatives are drawn from both kinds of question: other sentences of an answerable question's
    passage (where is the answer?) and every sentence of an unanswerable one (is there one?).
    With ``hard_negatives``, every sentence holding an unanswerable question's plausible answer
    is taken first: the sentence that looks like the answer but is not.
    """
    rng = random.Random(seed)
    positives = [
        Pair(e.question, s, 1, a)
        for e in examples
        for s, a in zip(e.sentences, e.answers, strict=True)
        if a is not None
    ]
    negatives = [
        Pair(e.question, s, 0)
        for e in examples
        for s, y in zip(e.sentences, e.labels, strict=True)
        if not y
    ]
    rng.shuffle(positives)
    rng.shuffle(negatives)
    if hard_negatives:
        decoy = {
            (e.question, s)
            for e in examples
            for s, p in zip(e.sentences, e.plausible, strict=False)
            if p and not e.answerable
        }
        # Stable: the decoys first, each group still in its shuffled order.
        negatives.sort(key=lambda pair: (pair.question, pair.sentence) not in decoy)
    n_pos = min(len(positives), round(max_pairs * positive_share))
    n_neg = min(len(negatives), max_pairs - n_pos)
    pairs = positives[:n_pos] + negatives[:n_neg]
    rng.shuffle(pairs)
    return pairs
