"""Structural checks for the NATO-Iraq evaluation question set (eval/questions.jsonl).

Fast and model-free: it only reads the JSONL file and the source document.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS_PATH = ROOT / "eval" / "questions.jsonl"
DOCUMENT_PATH = ROOT / "corpus" / "nato-iraq-political-dialogue.txt"

ID_PATTERN = re.compile(r"^nato-\d{3}$")
MIN_COUNTS = {
    "fact": 14,
    "paraphrase": 8,
    "multi-sentence": 6,
    "unanswerable": 10,
    "multi-turn": 6,
}
MIN_TOTAL = 48
LIST_FIELDS = ("answers", "key_phrases", "evidence")


def _load_records() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    text = QUESTIONS_PATH.read_text(encoding="utf-8")
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:  # pragma: no cover - failure path
            pytest.fail(f"line {line_no} of {QUESTIONS_PATH.name} is not valid JSON: {exc}")
        assert isinstance(record, dict), f"line {line_no} is not a JSON object"
        records.append(record)
    return records


RECORDS = _load_records()
DOCUMENT = DOCUMENT_PATH.read_text(encoding="utf-8")


def _rid(record: dict[str, Any]) -> str:
    return str(record.get("id", "<no id>"))


def test_file_is_not_empty() -> None:
    assert RECORDS, f"{QUESTIONS_PATH} holds no records"


def test_ids_unique_well_formed_and_in_order() -> None:
    ids = [record.get("id") for record in RECORDS]
    for rid in ids:
        assert isinstance(rid, str) and ID_PATTERN.match(rid), f"malformed id: {rid!r}"
    duplicates = [rid for rid, n in Counter(ids).items() if n > 1]
    assert not duplicates, f"duplicate ids: {duplicates}"
    expected = [f"nato-{i:03d}" for i in range(1, len(ids) + 1)]
    assert ids == expected, "ids must run nato-001, nato-002, ... in order"


@pytest.mark.parametrize("record", RECORDS, ids=_rid)
def test_record_fields_and_types(record: dict[str, Any]) -> None:
    rid = _rid(record)
    assert record.get("type") in MIN_COUNTS, f"{rid}: unknown type {record.get('type')!r}"
    assert isinstance(record.get("answerable"), bool), f"{rid}: 'answerable' must be a bool"
    for field in LIST_FIELDS:
        value = record.get(field)
        assert isinstance(value, list), f"{rid}: '{field}' must be a list"
        for item in value:
            assert isinstance(item, str) and item.strip(), (
                f"{rid}: every entry of '{field}' must be a non-empty string, got {item!r}"
            )

    has_question = "question" in record
    has_turns = "turns" in record
    assert has_question != has_turns, f"{rid}: needs exactly one of 'question' / 'turns'"
    if has_question:
        question = record["question"]
        assert isinstance(question, str) and question.strip(), f"{rid}: empty question"
    else:
        turns = record["turns"]
        assert isinstance(turns, list) and len(turns) >= 2, f"{rid}: 'turns' needs >= 2 turns"
        for turn in turns:
            assert isinstance(turn, str) and turn.strip(), f"{rid}: empty turn {turn!r}"

    if record["type"] == "multi-turn":
        assert has_turns, f"{rid}: multi-turn items must use 'turns'"
    else:
        assert has_question, f"{rid}: only multi-turn items may use 'turns'"
    if record["type"] == "unanswerable":
        assert record["answerable"] is False, f"{rid}: unanswerable items must not be answerable"


@pytest.mark.parametrize("record", RECORDS, ids=_rid)
def test_answer_fields_match_answerability(record: dict[str, Any]) -> None:
    rid = _rid(record)
    if record["answerable"]:
        assert 1 <= len(record["answers"]) <= 2, f"{rid}: needs 1-2 reference answers"
        assert 1 <= len(record["key_phrases"]) <= 3, f"{rid}: needs 1-3 key phrases"
        assert 1 <= len(record["evidence"]) <= 3, f"{rid}: needs 1-3 evidence quotes"
    else:
        for field in LIST_FIELDS:
            assert record[field] == [], f"{rid}: unanswerable item must have empty '{field}'"


@pytest.mark.parametrize("record", [r for r in RECORDS if r.get("answerable")], ids=_rid)
def test_evidence_and_key_phrases_occur_verbatim(record: dict[str, Any]) -> None:
    rid = _rid(record)
    for quote in record["evidence"]:
        assert quote in DOCUMENT, f"{rid}: evidence quote not found in document: {quote!r}"
    for phrase in record["key_phrases"]:
        assert phrase in DOCUMENT, f"{rid}: key phrase not found in document: {phrase!r}"


def test_type_counts_meet_minimums() -> None:
    counts = Counter(record.get("type") for record in RECORDS)
    assert len(RECORDS) >= MIN_TOTAL, f"only {len(RECORDS)} items, need >= {MIN_TOTAL}"
    for kind, minimum in MIN_COUNTS.items():
        assert counts[kind] >= minimum, f"type {kind!r}: {counts[kind]} items, need >= {minimum}"


def test_multi_turn_coverage() -> None:
    multi = [record for record in RECORDS if record.get("type") == "multi-turn"]
    assert any(not record["answerable"] for record in multi), (
        "need at least one multi-turn item whose last turn is unanswerable"
    )
    assert any(record["turns"][-1].lstrip().lower().startswith("and ") for record in multi), (
        "need at least one multi-turn item whose last turn uses ellipsis ('And ...?')"
    )
