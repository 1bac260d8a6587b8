"""Settings: defaults, DOCQA_* environment variables, and readable errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from docqa import DocQA, DocQAError, Settings
from docqa.errors import ConfigurationError
from docqa.settings import load_settings


def test_defaults() -> None:
    s = load_settings()
    assert s.corpus_dir == Path("corpus")
    assert s.index_dir == Path(".docqa")
    assert s.collection == "docqa"
    assert s.embedding_model == "bundled:all-MiniLM-L6-v2"
    assert s.retrieval_mode == "hybrid"
    assert s.fusion == "convex"
    assert s.top_k == 5
    assert s.chunk_chars == 1000
    assert s.chunk_overlap_sentences == 1
    assert s.max_answer_sentences == 3
    assert s.abstain_threshold is None  # the calibrated model's own threshold
    assert s.max_question_chars == 2000
    assert 0.0 <= s.dense_weight <= 1.0
    assert 0.0 <= s.sentence_keep_ratio <= 1.0
    assert s.candidates >= s.top_k


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCQA_TOP_K", "9")
    monkeypatch.setenv("DOCQA_RETRIEVAL_MODE", "dense")
    monkeypatch.setenv("DOCQA_INDEX_DIR", str(tmp_path / "idx"))
    monkeypatch.setenv("DOCQA_ABSTAIN_THRESHOLD", "0.25")

    s = load_settings()

    assert s.top_k == 9
    assert s.retrieval_mode == "dense"
    assert s.index_dir == tmp_path / "idx"
    assert s.abstain_threshold == 0.25
    assert DocQA().settings.top_k == 9


def test_keyword_arguments_beat_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCQA_TOP_K", "9")
    assert load_settings(top_k=3).top_k == 3
    assert DocQA(top_k=4).settings.top_k == 4


def test_home_is_expanded_in_paths() -> None:
    s = Settings(corpus_dir="~/docs", index_dir="~/idx")
    assert s.corpus_dir == Path.home() / "docs"
    assert s.index_dir == Path.home() / "idx"


def test_unknown_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(top_kk=3)
    message = str(caught.value)
    assert "top_kk" in message
    assert "README" in message
    assert isinstance(caught.value, DocQAError)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("top_k", 0),
        ("top_k", 51),
        ("collection", "a"),
        ("collection", "has space"),
        ("retrieval_mode", "fuzzy"),
        ("fusion", "max"),
        ("dense_weight", 1.5),
        ("chunk_chars", 100),
        ("abstain_threshold", -0.1),
        ("max_question_chars", 5),
    ],
)
def test_invalid_value_names_the_field_and_the_readme(field: str, value: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(**{field: value})
    message = str(caught.value)
    assert field in message
    assert "README" in message
    assert "DOCQA_" in message  # says where else the value may come from


def test_invalid_environment_value_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCQA_TOP_K", "zero")
    with pytest.raises(ConfigurationError, match="top_k"):
        load_settings()


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(top_k=0, collection="a")
    assert "top_k" in str(caught.value)
    assert "collection" in str(caught.value)


def test_settings_are_frozen() -> None:
    s = Settings()
    with pytest.raises(ValidationError):
        s.top_k = 3  # type: ignore[misc]
    assert s.top_k == 5
