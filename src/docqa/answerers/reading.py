"""The reader answerer: the sentence docqa's trained reader judges to answer, with its phrase.

The reader (``docqa.reader``) reads the question together with each of the best-scored
sentences. The answer is the best sentence by score and reader together (``read_evidence``); the
runner-up joins only when the reader also judges that it answers (``second_probability``). Each
citation carries the answer phrase's document offsets when the reader found one, so the UI can
highlight it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from docqa.answerers.base import Draft
from docqa.boilerplate import is_boilerplate_for
from docqa.citations import show_sentence
from docqa.evidence import ReadFunction, ReadSentence, read_evidence
from docqa.lexical import normalize
from docqa.models import Citation
from docqa.scoring import ScoredSentence, reading_order

if TYPE_CHECKING:
    from docqa.evidence import Evidence


def choose_read(read: tuple[ReadSentence, ...], second_probability: float) -> list[ReadSentence]:
    """The best read sentence, and the runner-up when its reader probability reaches
    ``second_probability`` (and it says something else); in reading order."""
    if not read:
        return []
    chosen = [read[0]]
    if len(read) > 1:
        runner = read[1]
        if runner.reading.probability >= second_probability and normalize(
            runner.sentence.text
        ) != normalize(read[0].sentence.text):
            chosen.append(runner)
    return reading_order(chosen, _sentence)


def _sentence(read: ReadSentence) -> ScoredSentence:
    return read.sentence


def cite_read(number: int, read: ReadSentence) -> Citation:
    """The citation of a read sentence, with its answer phrase when the reader found one."""
    sentence, phrase = read.sentence, read.reading.phrase
    span = None
    if phrase is not None:
        span = (sentence.span[0] + phrase.start, sentence.span[0] + phrase.end)
    return Citation.of_sentence(
        number, sentence.chunk, sentence.span, read.reading.probability, phrase=span
    )


@dataclass
class ReaderAnswerer:
    """Answers with the reader's best sentence (and a second that also answers), phrase marked.

    Args:
        read: The reader (``Reader.read``); called only when the evidence was gathered without
            it (``Evidence.read`` empty), e.g. when this answerer is used on its own.
        read_sentences: How many of the best-scored sentences the reader reads then.
        second_probability: The reader probability a second sentence needs to join the answer.
    """

    read: Callable[[], ReadFunction]
    read_sentences: int
    second_probability: float
    name: str = "reader"

    def stream(self, evidence: Evidence) -> Iterator[str | Draft]:
        """The whole answer at once: one ``Draft`` (each part of a compound question read and
        answered on its own). Boilerplate is never an answer (``boilerplate.py``)."""
        chosen: list[ReadSentence] = []
        for part in evidence.questions():
            read = evidence.read if not evidence.parts else ()
            candidates = [
                s for s in part.sentences if not is_boilerplate_for(s.text, part.question)
            ]
            if read:
                read = tuple(
                    r for r in read if not is_boilerplate_for(r.sentence.text, part.question)
                )
            if not read and candidates:
                read = read_evidence(self.read(), part.question, candidates, self.read_sentences)
            chosen.extend(choose_read(read, self.second_probability))
        ordered = reading_order(chosen, _sentence)
        citations = tuple(cite_read(n, r) for n, r in enumerate(ordered, start=1))
        yield Draft(" ".join(show_sentence(c.quote, c.number) for c in citations), citations)
