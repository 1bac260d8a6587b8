"""The page renders a live answer and a kept one alike, without a server or a browser."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from docqa.conversation_store import Turn
from docqa.models import (
    AbstentionCode,
    AbstentionReason,
    Answer,
    Chunk,
    Citation,
    DroppedSentence,
    RetrievedChunk,
)
from docqa.transcript import ShownAnswer
from docqa.web.chat_view import aligned_turn_ids as _aligned
from docqa.web.chat_view import chat_of_turns as _chat_of
from docqa.web.chat_view import passage_pick_update as _passage_pick
from docqa.web.render import render_reply, render_sources, render_turn

TEXT = (
    "Preface words that set the scene for the report at some length before it begins. "
    'The keeper is <b>Ines</b> & "Duarte". Afterwards the report goes on about other things.'
)
QUOTE = 'The keeper is <b>Ines</b> & "Duarte".'
START = TEXT.index(QUOTE)
PHRASE = TEXT.index("<b>Ines</b>")


def _citation(number: int = 1, phrase: bool = True) -> Citation:
    return Citation(
        number=number,
        doc_id="d1",
        source="memo <x>.md",
        title="Memo <script>",
        start=START,
        end=START + len(QUOTE),
        quote=QUOTE,
        score=0.9,
        answer_start=PHRASE if phrase else None,
        answer_end=PHRASE + len("<b>Ines</b>") if phrase else None,
    )


def _retrieved() -> tuple[RetrievedChunk, ...]:
    chunk = Chunk("c1", "d1", "memo <x>.md", "Memo <script>", 0, len(TEXT), TEXT, ((0, 10),))
    return (RetrievedChunk(chunk, 0.9),)


def _kept(shown: ShownAnswer) -> dict[str, Any]:
    """The record as the database gives it back (JSON, without the retrieved chunks)."""
    return dict(json.loads(json.dumps(shown.record())))


def test_a_kept_answer_renders_as_the_live_one_did() -> None:
    answer = Answer(
        question="Who is the keeper?",
        text=f"{QUOTE} [1]",
        citations=(_citation(),),
        abstained=False,
        confidence=0.8,
        standalone_question="Who is the keeper?",
        retrieved=_retrieved(),
        dropped=(DroppedSentence("The keeper *flies* <i>kites</i>.", "no support"),),
        answerer="llm",
    )
    shown = ShownAnswer.of(answer)
    live = render_turn(shown.record(), "default")
    assert render_turn(_kept(shown), "default") == live
    assert live == (render_reply(answer, "default"), render_sources(shown, "default"))
    reply, sources = live
    assert reply.startswith(
        "**&lt;b&gt;Ines&lt;/b&gt;** [\\[1\\]](/view/default/memo%20%3Cx%3E.md?"
    )
    assert "~~The keeper \\*flies\\* &lt;i&gt;kites&lt;/i&gt;.~~" in reply
    assert "the scene for the report" in sources  # the context, kept with the answer
    assert "<script>" not in sources and "<b>Ines" not in sources and "&lt;script&gt;" in sources


def test_a_kept_abstention_shows_its_closest_passages_and_offers_them() -> None:
    answer = Answer(
        question="Who led the delegation?",
        text="The documents do not contain an answer to this question.",
        citations=(),
        abstained=True,
        confidence=0.1,
        standalone_question="Who led the delegation?",
        retrieved=_retrieved(),
        abstention_reason=AbstentionReason(AbstentionCode.NAME_NOT_FOUND, "not named"),
        closest=(_citation(1, phrase=False), _citation(2, phrase=False)),
    )
    shown = ShownAnswer.of(answer)
    reply, sources = render_turn(_kept(shown), "default")
    assert (reply, sources) == render_turn(shown.record(), "default")
    assert reply.startswith("ℹ️ The documents") and "not an answer" in sources
    assert "the scene for the report" in sources
    row, pick = _passage_pick(ShownAnswer.from_record(_kept(shown)))
    assert row["visible"] is True
    assert pick["choices"] == [("1", 1), ("2", 2)] and pick["value"] == 1
    assert _passage_pick(None)[0]["visible"] is False


def test_a_resumed_chat_lines_up_its_turn_ids() -> None:
    answer = Answer(
        "Q <1>?", "A. [1]", (_citation(),), False, 0.8, "Q <1>?", retrieved=_retrieved()
    )
    record = _kept(ShownAnswer.of(answer))
    now = datetime.now(UTC)
    chat, ids = _chat_of(
        [Turn(7, 0, "Q <1>?", record, now), Turn(9, 1, "Q *2*", record, now)], "default"
    )
    assert [m["content"] for m in chat[::2]] == ["Q &lt;1&gt;?", "Q \\*2\\*"]
    assert chat[1]["content"] == render_turn(record, "default")[0]
    assert ids == [None, 7, None, 9]
    assert _aligned([None, 7], 4) == [None, 7, None, None] and _aligned(ids, 2) == [None, 7]
