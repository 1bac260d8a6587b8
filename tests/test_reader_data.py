"""The reader's training data: labels from SQuAD answer offsets, splits by article."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docqa.reader.data import ReaderExample, load_squad, split_by_article, training_pairs

SQUAD = Path(__file__).resolve().parents[1] / "eval" / "data" / "squad2"


def _squad_file(tmp_path: Path) -> Path:
    context = "The bridge opened in 1932. It carries six lanes. Its designer was Ann Lee."
    data = {
        "data": [
            {
                "title": "Bridge",
                "paragraphs": [
                    {
                        "context": context,
                        "qas": [
                            {
                                "question": "Who designed the bridge?",
                                "answers": [
                                    {"text": "Ann Lee", "answer_start": context.index("Ann")}
                                ],
                                "is_impossible": False,
                            },
                            {
                                "question": "What did the bridge cost?",
                                "answers": [],
                                "plausible_answers": [
                                    {"text": "six lanes", "answer_start": context.index("six")}
                                ],
                                "is_impossible": True,
                            },
                        ],
                    }
                ],
            }
        ]
    }
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_the_sentence_holding_the_answer_is_labelled(tmp_path: Path) -> None:
    answerable, unanswerable = load_squad(_squad_file(tmp_path))
    assert answerable.sentences == (
        "The bridge opened in 1932.",
        "It carries six lanes.",
        "Its designer was Ann Lee.",
    )
    assert answerable.labels == (0, 0, 1) and answerable.answerable
    assert unanswerable.labels == (0, 0, 0) and not unanswerable.answerable
    assert answerable.article == "Bridge"
    # The sentence the unanswerable question was written to look answerable from.
    assert unanswerable.plausible == (0, 1, 0)


def test_hard_negatives_come_first(tmp_path: Path) -> None:
    examples = load_squad(_squad_file(tmp_path))
    pairs = training_pairs(examples, 2, 0.5, seed=3, hard_negatives=True)
    assert [(p.sentence, p.label) for p in pairs if not p.label] == [("It carries six lanes.", 0)]
    plain = {p.sentence for s in range(20) for p in training_pairs(examples, 2, 0.5, seed=s)}
    assert len(plain) > 2  # without the option, any negative may be drawn


def test_every_labelled_sentence_of_the_shipped_data_holds_its_answer_text() -> None:
    raw = json.loads((SQUAD / "train-10-articles.json").read_text(encoding="utf-8"))
    answers = {
        qa["question"].strip(): {a["text"] for a in qa["answers"]}
        for article in raw["data"]
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    }
    examples = load_squad(SQUAD / "train-10-articles.json")
    assert len(examples) > 4000
    checked = 0
    for example in examples[:500]:
        for sentence, label in zip(example.sentences, example.labels, strict=True):
            if label:
                checked += 1
                # The answer starts in the sentence; its text (or its first word) is there.
                assert any(a.split()[0] in sentence for a in answers[example.question] if a)
    assert checked >= 400


def test_split_keeps_whole_articles_on_one_side() -> None:
    examples = [
        ReaderExample("q1", ("s",), (1,), "A"),
        ReaderExample("q2", ("s",), (0,), "B"),
        ReaderExample("q3", ("s",), (1,), "A"),
    ]
    train, held = split_by_article(examples, ["A"])
    assert {e.article for e in train} == {"B"} and [e.question for e in held] == ["q1", "q3"]
    with pytest.raises(ValueError, match="not in the data"):
        split_by_article(examples, ["C"])


def test_pairs_are_seeded_capped_and_mixed() -> None:
    examples = load_squad(SQUAD / "dev-8-articles.json")
    pairs = training_pairs(examples, 300, 1 / 3, seed=0)
    assert len(pairs) == 300
    assert sum(p.label for p in pairs) == 100
    assert pairs == training_pairs(examples, 300, 1 / 3, seed=0)
    assert pairs != training_pairs(examples, 300, 1 / 3, seed=1)
