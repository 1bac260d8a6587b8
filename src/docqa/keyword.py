"""The keyword (BM25) index: a derived cache of the chunks stored in Chroma.

It is rebuilt from the chunk texts whenever the store's generation changes, so it can never
disagree with the vector store for long, and losing it loses nothing.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import numpy as np

from docqa.lexical import (
    TOKENIZER_VERSION,
    acronyms_in,
    capitalised_phrases,
    initials,
    keyword_tokens,
    phrase_words,
)

_META = "docqa-keyword.json"

# bm25s logs routine progress at WARNING level; keep the user's terminal for real warnings.
logging.getLogger("bm25s").setLevel(logging.ERROR)


@dataclass
class KeywordIndex:
    """BM25 over chunk texts. ``chunk_ids[i]`` is the id of the i-th indexed chunk.

    ``acronyms`` maps the initials of the corpus's capitalised phrases to the phrase they most
    often stand for ("NMI" -> "NATO Mission in Iraq"), so that a question may use an acronym
    the documents never spell out (``expand_acronyms``).
    """

    chunk_ids: list[str]
    generation: str
    _bm25: bm25s.BM25 | None
    acronyms: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, chunk_ids: list[str], texts: list[str], generation: str) -> KeywordIndex:
        """Index ``texts`` (one per chunk id)."""
        if not chunk_ids:
            return cls([], generation, None)
        # bm25s cannot index an empty token list; a placeholder keeps positions aligned.
        tokens = [keyword_tokens(text) or ["\x00"] for text in texts]
        bm25 = bm25s.BM25()
        bm25.index(tokens, show_progress=False)
        return cls(list(chunk_ids), generation, bm25, acronym_table(texts))

    def expand_acronyms(self, question: str) -> str:
        """``question`` with each acronym the documents never use but whose phrase they hold
        spelled out after it: "When was the NMI set up?" -> "When was the NMI (NATO Mission in
        Iraq) set up?". The expansion is visible in ``Answer.standalone_question``."""
        vocabulary = self._bm25.vocab_dict if self._bm25 is not None else {}
        for acronym in acronyms_in(question):
            phrase = self.acronyms.get(acronym)
            if phrase is None or acronym.casefold() in vocabulary or phrase in question:
                continue
            question = question.replace(acronym, f"{acronym} ({phrase})", 1)
        return question

    def idf(self, term: str) -> float:
        """Inverse document frequency of a (stemmed) term; unseen terms get the maximum."""
        n = len(self.chunk_ids)
        df = 0
        if self._bm25 is not None:
            column = self._bm25.vocab_dict.get(term)
            indptr = self._bm25.scores["indptr"]
            if column is not None and column + 1 < len(indptr):
                df = int(indptr[column + 1] - indptr[column])
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def search(self, query: str, limit: int) -> list[tuple[str, float]]:
        """Best chunks for ``query`` as ``(chunk_id, bm25_score)``, best first, scores > 0."""
        if self._bm25 is None or limit <= 0:
            return []
        vocab = self._bm25.vocab_dict
        terms = [t for t in keyword_tokens(query) if t in vocab]
        if not terms:
            return []
        scores = self._bm25.get_scores(terms)
        limit = min(limit, len(self.chunk_ids))
        top = np.argpartition(-scores, limit - 1)[:limit]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.chunk_ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def save(self, folder: Path) -> None:
        """Write the index atomically: a crash leaves the old copy or the new one, never half."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".keyword-", dir=folder.parent))
        try:
            if self._bm25 is not None:
                self._bm25.save(str(staging))
            meta = {
                "chunk_ids": self.chunk_ids,
                "generation": self.generation,
                "tokenizer": TOKENIZER_VERSION,
                "acronyms": self.acronyms,
            }
            (staging / _META).write_text(json.dumps(meta), encoding="utf-8")
            backup = folder.with_name(folder.name + ".old")
            if backup.exists():
                shutil.rmtree(backup)
            if folder.exists():
                folder.rename(backup)
            staging.rename(folder)
            shutil.rmtree(backup, ignore_errors=True)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex | None:
        """Read a saved index, or None when missing, unreadable or tokenised by other rules
        (it is then rebuilt from the store)."""
        meta_path = folder / _META
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if meta.get("tokenizer") != TOKENIZER_VERSION:
                return None  # built with other tokenisation rules: rebuilt from the store
            chunk_ids = list(meta["chunk_ids"])
            generation = str(meta["generation"])
            bm25 = bm25s.BM25.load(str(folder)) if chunk_ids else None
            acronyms = {str(k): str(v) for k, v in dict(meta.get("acronyms", {})).items()}
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return cls(chunk_ids, generation, bm25, acronyms)


def acronym_table(texts: Iterable[str]) -> dict[str, str]:
    """Initials -> the capitalised phrase of two words or more that they most often abbreviate
    in ``texts`` (ties: the phrase seen first)."""
    counts: Counter[str] = Counter()
    for text in texts:
        for phrase in capitalised_phrases(text):
            tokens = phrase_words(phrase)
            if len(tokens) >= 2:
                counts[" ".join(tokens)] += 1
    table: dict[str, str] = {}
    best: dict[str, int] = {}
    for phrase, count in counts.items():
        for acronym in initials(phrase):
            if count > best.get(acronym, 0):
                table[acronym], best[acronym] = phrase, count
    return table
