"""The question path's seams, with deterministic fake embeddings (fast lane).

gather (``Evidence``) -> decide (``Decision``) -> an ``Answerer`` writes a ``Draft`` -> review.
``ask``, ``ask_stream``, ``retrieve`` and the LangChain retriever all go through these stages;
these tests call each stage and check that the entry points agree with them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from conftest import MakeQA
from docqa import Answer, Answerer, DocQA, Draft, Evidence
from docqa.abstention import AbstentionModel
from docqa.answerers import ExtractiveAnswerer, LLMAnswerer
from docqa.citations import marker_numbers, strip_markers
from docqa.models import AbstentionCode, Citation
from fakes import HashingEmbeddings

MEMO = (
    "The falcon aviary feeds its birds at dawn every day. "
    "The aviary keeper is Ines Duarte, who has worked there since 2011. "
    "Visitors may watch the feeding from the northern gallery.\n"
)
OTHER = "The glacier station measures ice thickness every spring in the northern valley.\n"
FILES: dict[str, str | bytes] = {"memo.txt": MEMO, "glacier.txt": OTHER}
QUESTION = "When does the aviary feed its birds?"

ALWAYS = AbstentionModel(("best_sentence_similarity",), (0.0,), (1.0,), (0.0,), 10.0, 0.5)
NEVER = AbstentionModel(("best_sentence_similarity",), (0.0,), (1.0,), (0.0,), -10.0, 0.5)


@dataclass
class RecordingAnswerer:
    """An answerer that cites the best sentence and records the evidence it was given."""

    seen: list[Evidence] = field(default_factory=list)
    name: str = "recording"

    def stream(self, evidence: Evidence) -> Iterator[str | Draft]:
        self.seen.append(evidence)
        best = evidence.sentences[0]
        yield "thinking… "
        citation = Citation.of_sentence(1, best.chunk, best.span, best.score)
        yield Draft(f"{best.text} [1]", (citation,))


def _llm(reply: str) -> LLMAnswerer:
    chat = FakeListChatModel(responses=[reply])
    embedder = HashingEmbeddings()
    return LLMAnswerer(chat_model=lambda: chat, embedder=lambda: embedder, sources=3)


def _answerers() -> list[Answerer]:
    return [
        ExtractiveAnswerer(max_sentences=3, keep_ratio=1.0, pair_margin=0.0),
        _llm("The falcon aviary feeds its birds at dawn every day. [1]"),
    ]


@pytest.mark.parametrize("answerer", _answerers(), ids=["extractive", "llm"])
def test_every_answerer_keeps_the_contract(
    make_fake_qa: MakeQA, tmp_path: Path, answerer: Answerer
) -> None:
    assert isinstance(answerer, Answerer)
    qa = make_fake_qa(FILES)
    qa.ingest()
    evidence = qa.gather(QUESTION)
    items = list(answerer.stream(evidence))
    drafts = [item for item in items if isinstance(item, Draft)]
    assert len(drafts) == 1 and items[-1] is drafts[0]  # exactly one Draft, last
    assert all(isinstance(item, str) for item in items[:-1])
    draft = drafts[0]
    assert draft.citations, draft
    assert [c.number for c in draft.citations] == list(range(1, len(draft.citations) + 1))
    for citation in draft.citations:  # every quote is an exact span of its file
        text = (tmp_path / "corpus" / citation.source).read_bytes().decode("utf-8")
        assert text[citation.start : citation.end] == citation.quote
    # Every sentence ends with a marker of one of its citations.
    assert set(marker_numbers(draft.text)) <= {c.number for c in draft.citations}
    for sentence in re.split(r"(?<=\])\s+", draft.text.strip()):
        assert re.search(r"\[\d+\]$", sentence), sentence
    assert "dawn" in strip_markers(draft.text)


def test_llm_answerer_drops_what_no_document_supports(make_fake_qa: MakeQA) -> None:
    qa = make_fake_qa(FILES)
    qa.ingest()
    evidence = qa.gather(QUESTION)
    reply = "The falcon aviary feeds its birds at dawn every day. Penguins sing opera on Mondays."
    draft = list(_llm(reply).stream(evidence))[-1]
    assert isinstance(draft, Draft)
    assert "Penguins" not in draft.text
    assert [d.text for d in draft.dropped] == ["Penguins sing opera on Mondays."]


def test_ask_is_gather_decide_answer(make_fake_qa: MakeQA) -> None:
    recorder = RecordingAnswerer()
    qa = make_fake_qa(FILES, answerer=recorder, abstention_model=ALWAYS)
    qa.ingest()
    evidence = qa.gather(QUESTION)
    decision = qa.decide(evidence)
    assert decision.answers

    answer = qa.ask(QUESTION)
    assert len(recorder.seen) == 1
    seen = recorder.seen[0]
    assert seen.query == evidence.query
    assert [s.text for s in seen.sentences] == [s.text for s in evidence.sentences]
    assert answer.text == f"{evidence.sentences[0].text} [1]"
    assert answer.answerer == "recording"
    assert answer.confidence == pytest.approx(decision.confidence, abs=1e-4)
    assert [r.chunk.chunk_id for r in answer.retrieved] == [
        r.chunk.chunk_id for r in evidence.retrieved
    ]
    assert {"embed", "retrieve", "score", "answer", "total"} <= set(answer.timings)


def test_ask_stream_yields_the_answerers_text_then_the_answer(make_fake_qa: MakeQA) -> None:
    qa = make_fake_qa(FILES, answerer=RecordingAnswerer(), abstention_model=ALWAYS)
    qa.ingest()
    items = list(qa.ask_stream(QUESTION))
    assert items[0] == "thinking… "
    assert isinstance(items[-1], Answer) and not items[-1].abstained


def test_an_abstaining_decision_never_calls_the_answerer(make_fake_qa: MakeQA) -> None:
    recorder = RecordingAnswerer()
    qa = make_fake_qa(FILES, answerer=recorder, abstention_model=NEVER)
    qa.ingest()
    decision = qa.decide(qa.gather(QUESTION))
    answer = qa.ask(QUESTION)
    assert recorder.seen == []
    assert answer.abstained and answer.citations == ()
    assert answer.abstention_reason is not None
    assert answer.abstention_reason.code is AbstentionCode.LOW_CONFIDENCE
    assert answer.abstention_reason.code.value == decision.code
    assert answer.abstention_reason.message == decision.message
    assert answer.to_dict()["abstention_reason"] == {
        "code": "low_confidence",
        "message": decision.message,
    }


def test_an_answer_without_citations_becomes_an_abstention(make_fake_qa: MakeQA) -> None:
    class Uncited:
        name = "uncited"

        def stream(self, evidence: Evidence) -> Iterator[str | Draft]:
            yield Draft("Something unsupported.", ())

    qa = make_fake_qa(FILES, answerer=Uncited(), abstention_model=ALWAYS)
    qa.ingest()
    answer = qa.ask(QUESTION)
    assert answer.abstained
    assert answer.abstention_reason is not None
    assert answer.abstention_reason.code is AbstentionCode.UNSUPPORTED_ANSWER


def test_answerer_by_name_or_object(make_fake_qa: MakeQA) -> None:
    assert isinstance(make_fake_qa(FILES).answerer, ExtractiveAnswerer)
    assert make_fake_qa(answerer="llm").settings.answerer == "llm"
    assert isinstance(make_fake_qa(answerer="llm").answerer, LLMAnswerer)
    recorder = RecordingAnswerer()
    assert make_fake_qa(answerer=recorder).answerer is recorder


def test_retrieve_and_the_langchain_retriever_follow_the_same_rewrite(
    make_fake_qa: MakeQA,
) -> None:
    history = [("Who is the aviary keeper?", "The aviary keeper is Ines Duarte. [1]")]
    qa = make_fake_qa(FILES)
    qa.ingest()
    follow_up = "When did she start?"
    evidence = qa.gather(follow_up, history)
    assert "Ines Duarte" in evidence.query
    ids = [r.chunk.chunk_id for r in qa.retrieve(follow_up, history)]
    assert ids == [r.chunk.chunk_id for r in evidence.retrieved]

    # With history_turns=0 the follow-up is searched as it is: retrieve honours the setting.
    plain = make_fake_qa(history_turns=0)
    assert plain.gather(follow_up, history).query == follow_up
    assert [r.chunk.chunk_id for r in plain.retrieve(follow_up, history)] == [
        r.chunk.chunk_id for r in plain.gather(follow_up).retrieved
    ]

    documents = qa.retriever.invoke(QUESTION)
    expected = qa.retrieve(QUESTION)[: qa.settings.top_k]
    assert [d.id for d in documents] == [r.chunk.chunk_id for r in expected]
    assert documents[0].page_content == expected[0].chunk.text


def test_the_langchain_retriever_checks_the_question(make_fake_qa: MakeQA) -> None:
    qa: DocQA = make_fake_qa(FILES)
    with pytest.raises(ValueError, match="empty"):
        qa.retriever.invoke("   ")
