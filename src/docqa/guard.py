"""The grounding guard: every sentence a language model writes is checked against the documents.

A generated sentence survives only when a sentence of one of the sources supports it, both by
meaning (cosine of sentence vectors) and by wording (its numbers, names and most of its content
terms occur in that source). The guard keeps a model's citation when it verifies, moves it to
the source that does support the sentence, or drops the sentence. It is pure: the embedding
function is injected and the evidence vectors were computed at ingest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from docqa.chunking import split_sentences
from docqa.citations import MARKER, MARKER_RUN, marker_numbers
from docqa.lexical import content_terms, names, numbers, stem, words
from docqa.models import ABSTENTION_TEXT, Chunk, Span

# Calibrated by eval/guard_calibrate.py on ClapNQ dev (eval/data/clapnq): 470 sentences of
# human reference answers vs their gold passage (supported) and 953 pairs of the same sentences vs
# plausible wrong passages (lexically closest, same article, random). These values keep 96.4% of
# supported sentences and reject 99.9% of unsupported pairs (precision 0.998); chosen on half the
# sentences, (0.475, 0.65) kept 96.6% / rejected 99.6% of the other half. ClapNQ answers copy
# their passage closely, so an LLM that paraphrases more will lose more sentences than this.
MIN_SIMILARITY = 0.425
MIN_TERM_OVERLAP = 0.80
# A claim needs at least this many content words before it can be checked against a source.
MIN_CLAIM_TERMS = 2

# Markers written after the final punctuation ("Text. [1] Next") would begin the next sentence
# once split, so they are moved in front of it first ("Text [1]. Next").
_AFTER_END = re.compile(rf"(?<![.!?])([.!?]+[\"'”’)]*)(\s*(?:{MARKER}\s*)+)(?=\S|$)")
_CLOSERS = frozenset(".,;:!?)]}\"'”’")
_CAPITALISED = re.compile(r"\b[A-Z][\w’'-]+")
_ABSTENTION_WORDS = words(ABSTENTION_TEXT)


@dataclass(frozen=True)
class SourceSentence:
    """One document sentence the answer may cite."""

    chunk: Chunk
    span: Span  # document coordinates, inside chunk
    vector: np.ndarray  # unit vector of the sentence (precomputed at ingest)

    @property
    def text(self) -> str:
        """The sentence, an exact slice of the document."""
        return self.chunk.sentence_text(self.span)


@dataclass(frozen=True)
class GuardedSentence:
    """One generated sentence and what the guard decided about it."""

    text: str
    claimed: tuple[int, ...]
    evidence: SourceSentence | None
    source: int | None
    status: Literal["kept", "corrected", "dropped"]
    reason: str
    similarity: float


@dataclass(frozen=True)
class GuardResult:
    """The guard's verdict on every sentence of a generated answer, in answer order."""

    sentences: tuple[GuardedSentence, ...]

    @property
    def kept(self) -> list[GuardedSentence]:
        """Kept and corrected sentences, in answer order."""
        return [s for s in self.sentences if s.status != "dropped"]

    @property
    def dropped(self) -> list[GuardedSentence]:
        """Sentences no source supports."""
        return [s for s in self.sentences if s.status == "dropped"]


def _strip_markers(sentence: str) -> tuple[str, list[int]]:
    cited: list[int] = []
    out: list[str] = []
    position = 0
    for match in MARKER_RUN.finditer(sentence):
        for marker in re.findall(MARKER, match.group(0)):
            cited.extend(marker_numbers(marker))
        out.append(sentence[position : match.start()])
        following = sentence[match.end() : match.end() + 1]
        # "word[1]word" must not become "wordword"; "word [1]." must become "word."
        if following and following not in _CLOSERS and not following.isspace():
            out.append(" ")
        position = match.end()
    out.append(sentence[position:])
    return " ".join("".join(out).split()), cited


def split_generated(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """Generated answer -> (sentence without markers, cited numbers), in order.

    Markers may follow the final punctuation ("... 2018. [1]") or precede it ("... 2018 [1]."),
    stand mid-sentence, be grouped ("[1][2]", "[1, 2]", "[1-2]") or be absent. A marker left on
    its own (a line holding only "[2]") belongs to the sentence before it. Numbers are returned
    in order of appearance without repeats; they are not checked against the sources here.
    """
    moved = _AFTER_END.sub(lambda m: f"{''.join(m.group(2).split())}{m.group(1)} ", text)
    result: list[tuple[str, list[int]]] = []
    for start, end in split_sentences(moved):
        sentence, cited = _strip_markers(moved[start:end])
        if sentence.strip(".!?;:, ") or not result:
            result.append((sentence, cited))
        else:
            result[-1][1].extend(cited)
    return [(s, tuple(dict.fromkeys(c))) for s, c in result if s]


def _vocabulary(text: str) -> frozenset[str]:
    """Stemmed words of ``text``, hyphenated words also by part ("al-Araji" gives "araji")."""
    vocab: set[str] = set()
    for word in words(text):
        vocab.update((word, stem(word)))
        vocab.update(stem(part) for part in word.split("-") if part)
    return frozenset(vocab)


def _name_found(name: str, vocab: frozenset[str]) -> bool:
    # names() keeps apostrophes and hyphens inside a word; words() splits on apostrophes.
    return name in vocab or all(stem(p) in vocab for p in re.split(r"[-'’]", name) if p)


@dataclass(frozen=True)
class ChunkSupport:
    """How well one source chunk supports one generated sentence (see ``chunk_support``)."""

    evidence: SourceSentence  # the sentence to cite
    similarity: float  # best cosine of one of the chunk's sentences or adjacent pairs
    term_overlap: float  # share of the sentence's content terms found in the chunk
    missing_numbers: tuple[str, ...]  # numbers of the sentence absent from the chunk
    missing_names: tuple[str, ...]  # names (capitalised words) absent from the chunk, as written

    def supports(self, min_similarity: float, min_term_overlap: float) -> bool:
        """The support test."""
        return (
            self.similarity >= min_similarity
            and self.term_overlap >= min_term_overlap
            and not self.missing_numbers
            and not self.missing_names
        )


def chunk_support(
    sentence: str, vector: np.ndarray, evidence: Sequence[SourceSentence]
) -> ChunkSupport:
    """Measure the support of ``sentence`` (unit ``vector``) by one chunk's ``evidence``.

    ``evidence`` must be non-empty, of one chunk, in document order. When an adjacent pair of
    sentences (sum of both vectors, normalised) matches better than any single sentence, as when
    the generated sentence merges two, the pair's cosine counts and the closer of the two is cited.
    """
    chunk = evidence[0].chunk
    matrix = np.stack([np.asarray(e.vector, dtype=np.float32) for e in evidence])
    sims = matrix @ vector
    best = int(np.argmax(sims))  # argmax takes the first of equals: earlier sentence wins ties
    similarity = float(sims[best])
    index = {span: i for i, span in enumerate(chunk.sentences)}
    for i in range(len(evidence) - 1):
        if index.get(evidence[i + 1].span, -1) != index.get(evidence[i].span, -2) + 1:
            continue
        pair = matrix[i] + matrix[i + 1]
        norm = float(np.linalg.norm(pair))
        pair_similarity = float(pair @ vector) / norm if norm else -1.0
        if pair_similarity > similarity:
            similarity = pair_similarity
            best = i if sims[i] >= sims[i + 1] else i + 1
    # The model reads each source under its title, and passages often leave out the subject
    # their title names ("Friends", "Joshua Tree National Park"): the title counts as source text.
    source_text = f"{chunk.title}\n{chunk.text}"
    vocab = _vocabulary(source_text)
    terms = set(content_terms(sentence))
    overlap = len({t for t in terms if t in vocab}) / len(terms) if terms else 1.0
    absent = sorted(n for n in numbers(sentence) if n not in numbers(source_text))
    # Report names as written ("Stoltenberg"), not as names() normalises them ("stoltenberg").
    written = {stem(w): m for m in _CAPITALISED.findall(sentence) for w in words(m)}
    missing = sorted(written.get(n, n) for n in names(sentence) if not _name_found(n, vocab))
    return ChunkSupport(evidence[best], similarity, overlap, tuple(absent), tuple(missing))


def _refs(numbers_: Sequence[int]) -> str:
    return ", ".join(f"[{n}]" for n in numbers_)


def verify_answer(
    generated: str,
    sources: Sequence[Chunk],
    evidence: Sequence[SourceSentence],
    embed: Callable[[list[str]], np.ndarray],
    *,
    min_similarity: float = MIN_SIMILARITY,
    min_term_overlap: float = MIN_TERM_OVERLAP,
) -> GuardResult:
    """Check every sentence of a generated answer against its numbered sources.

    A sentence is *kept* (citing the best supporting sentence of a source it claimed) when a
    claimed source supports it, *corrected* to the best supporting other source when none of the
    claimed ones does (claims outside ``1..len(sources)`` are invented and never verify), and
    *dropped* when no source supports it. Ties go to the higher similarity, then the earlier
    source. The abstention sentence claims nothing and is skipped, so an answer that only
    abstains gives an empty result.

    Args:
        generated: The model's answer, ``[n]`` markers after its sentences.
        sources: ``sources[i]`` is the chunk shown to the model as source ``i + 1``.
        evidence: The sentences of those chunks with their vectors; others are ignored.
        embed: Unit vectors for a list of texts, shape ``(n, d)``.
        min_similarity: Least cosine between the sentence and a document sentence (or pair).
        min_term_overlap: Least share of the sentence's content terms found in the source.

    Returns:
        One ``GuardedSentence`` per generated sentence, in answer order.

    Example:
        >>> emb = load_embedder()
        >>> embed = lambda texts: np.asarray(emb.embed_documents(texts))
        >>> answer = "The NATO Mission in Iraq was established in 2018 [2]."
        >>> result = verify_answer(answer, chunks, evidence, embed)
        >>> [(s.status, s.source, s.reason) for s in result.sentences]
        [('corrected', 1, 'moved from [2] to [1]')]
    """
    parts = [(t, c) for t, c in split_generated(generated) if words(t) != _ABSTENTION_WORDS]
    if not parts:
        return GuardResult(())
    by_chunk: dict[str, list[SourceSentence]] = {}
    for item in evidence:
        by_chunk.setdefault(item.chunk.chunk_id, []).append(item)
    for items in by_chunk.values():
        items.sort(key=lambda e: e.span)
    vectors = np.asarray(embed([text for text, _ in parts]), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    out: list[GuardedSentence] = []
    for (text, cited), vector in zip(parts, vectors, strict=True):
        if len(content_terms(text)) < MIN_CLAIM_TERMS:
            # "PWNED." or "Yes." states nothing a source could verify, even when the word
            # occurs in a document (an instruction planted there, for instance).
            reason = "too short to state anything the sources could verify"
            out.append(GuardedSentence(text, cited, None, None, "dropped", reason, 0.0))
            continue
        support = {
            number: chunk_support(text, vector, by_chunk[chunk.chunk_id])
            for number, chunk in enumerate(sources, start=1)
            if by_chunk.get(chunk.chunk_id)
        }
        passing = {n for n, s in support.items() if s.supports(min_similarity, min_term_overlap)}
        out.append(_judge(text, cited, len(sources), support, passing, min_similarity))
    return GuardResult(tuple(out))


def _best(support: dict[int, ChunkSupport], candidates: Iterable[int]) -> int:
    """Highest similarity first, then the earlier source."""
    return min(candidates, key=lambda n: (-support[n].similarity, n))


def _judge(
    text: str,
    cited: tuple[int, ...],
    n_sources: int,
    support: dict[int, ChunkSupport],
    passing: set[int],
    min_similarity: float,
) -> GuardedSentence:
    """Keep, correct or drop one sentence, given which sources support it."""
    valid = [n for n in cited if 1 <= n <= n_sources]
    invented = [n for n in cited if n not in valid]
    note = f"; invented source {_refs(invented)} removed" if invented else ""
    # Any claimed source that supports the sentence keeps the model's citation, even when
    # another source matches a little better: the model read them all, and churn confuses.
    if passing & set(valid):
        source = _best(support, passing & set(valid))
        status: Literal["kept", "corrected"] = "kept"
        reason = f"verified against [{source}]{note}"
    elif passing:
        source = _best(support, passing)
        status = "corrected"
        if valid:
            reason = f"moved from {_refs(valid)} to [{source}]{note}"
        elif invented:
            reason = f"invented source {_refs(invented)} replaced by [{source}]"
        else:
            reason = f"uncited; supported by [{source}]"
    else:
        prefix = f"invented source {_refs(invented)}; " if invented else ""
        reason, similarity = _why_unsupported(support, min_similarity)
        return GuardedSentence(text, cited, None, None, "dropped", prefix + reason, similarity)
    chosen = support[source]
    return GuardedSentence(text, cited, chosen.evidence, source, status, reason, chosen.similarity)


def _why_unsupported(support: dict[int, ChunkSupport], min_similarity: float) -> tuple[str, float]:
    """Reason and best similarity of a dropped sentence: what no source has, or the closest miss."""
    if not support:
        return "no source supports it: no evidence", 0.0
    closest = support[_best(support, support)]
    absent_numbers = set.intersection(*(set(s.missing_numbers) for s in support.values()))
    absent_names = set.intersection(*(set(s.missing_names) for s in support.values()))
    if absent_numbers:
        reason = f"number {', '.join(sorted(absent_numbers))} not in any source"
    elif absent_names:
        reason = f"name {', '.join(sorted(absent_names))} not in any source"
    elif closest.similarity < min_similarity:
        reason = f"no source supports it: similarity {closest.similarity:.2f}"
    else:  # similar enough, but that source lacks a number, a name or enough of the terms
        lacking = ", ".join([*closest.missing_numbers, *closest.missing_names])
        failure = f"{lacking} not in it" if lacking else f"term overlap {closest.term_overlap:.2f}"
        reason = f"no source supports it: closest [{_best(support, support)}], {failure}"
    return reason, closest.similarity
