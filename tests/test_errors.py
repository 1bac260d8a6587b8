"""docqa's errors follow Python's conventions: a bad argument is also a ``ValueError``."""

from __future__ import annotations

import pytest

from docqa import DocQA
from docqa.errors import ConfigurationError, DocQAError, QuestionError
from docqa.settings import load_settings


def test_question_and_configuration_errors_are_value_errors() -> None:
    assert issubclass(QuestionError, ValueError) and issubclass(QuestionError, DocQAError)
    assert issubclass(ConfigurationError, ValueError)
    assert issubclass(ConfigurationError, DocQAError)


@pytest.mark.parametrize("question", ["", "   ", "\x00\x07", 42])
def test_a_bad_question_is_caught_by_except_value_error(tmp_path, question: object) -> None:
    qa = DocQA(corpus_dir=tmp_path, index_dir=tmp_path / "index")
    try:
        qa.ask(question)  # type: ignore[arg-type]
    except ValueError as exc:
        assert isinstance(exc, QuestionError)
        assert "question" in str(exc).lower()
    else:
        pytest.fail("a bad question must raise")


def test_a_bad_setting_is_caught_by_except_value_error() -> None:
    with pytest.raises(ValueError, match="top_k"):
        load_settings(top_k=0)
