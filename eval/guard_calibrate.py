"""Calibrate the grounding guard's support test on ClapNQ (``eval/data/clapnq``).

Usage:
    python eval/guard_calibrate.py [--limit N] [--seed S] [--min-recall 0.95]

Supported pairs: each sentence of a human reference answer of an answerable question against its
gold passage (the support test takes the best-matching passage sentence or adjacent pair, as the
guard does). Unsupported pairs: the same sentence against plausible but wrong passages: the wrong
passage sharing the most (idf-weighted) content terms with it, the other passages of the gold
article (same title), and one random passage per question. Gold and near-duplicate passages are
never negatives. The passages are detokenised first (ClapNQ puts spaces around punctuation,
"long - term", "1 , 000"), since the guard will read ordinary text.

The script prints recall (share of supported sentences passing) and rejection (share of
unsupported pairs failing) over a grid of ``min_similarity`` x ``min_term_overlap`` and picks the
point that keeps at least ``--min-recall`` of supported sentences while rejecting the most
unsupported ones. Those values are the defaults in ``src/docqa/guard.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from docqa.chunking import split_sentences
from docqa.embeddings import load_embedder
from docqa.guard import (
    MIN_SIMILARITY,
    MIN_TERM_OVERLAP,
    ChunkSupport,
    SourceSentence,
    chunk_support,
)
from docqa.lexical import content_terms
from docqa.models import Chunk

BENCH = Path(__file__).resolve().parents[1] / "eval" / "data" / "clapnq"
SIMILARITIES = [round(0.30 + 0.025 * i, 3) for i in range(21)]  # 0.30 .. 0.80
OVERLAPS = [round(0.05 * i, 2) for i in range(19)]  # 0.00 .. 0.90
MIN_WORDS = 4  # "Yes." or "In 1990." alone is not a claim worth checking


def detokenize(text: str) -> str:
    """Undo ClapNQ's tokenisation enough for numbers, hyphenated words and possessives to match."""
    text = re.sub(r"(\d) , (\d{3})\b", r"\1,\2", text)
    text = re.sub(r"(\d) \. (\d)", r"\1.\2", text)
    text = re.sub(r"(\w) - (\w)", r"\1-\2", text)
    text = re.sub(r" (['’]s|n't)\b", r"\1", text)
    text = re.sub(r"([(\[]) ", r"\1", text)
    text = re.sub(r" ([,.;:!?)\]%])", r"\1", text)
    return text.replace("`` ", '"').replace(" ''", '"')


def load(name: str) -> list[dict[str, object]]:
    lines = (BENCH / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def passage(doc: dict[str, object]) -> Chunk:
    """A whole passage as one chunk (ClapNQ passages are about one chunk long)."""
    text = detokenize(str(doc["text"]))
    return Chunk(
        chunk_id=str(doc["doc_id"]),
        doc_id=str(doc["doc_id"]),
        source="docs.jsonl",
        title=str(doc["title"]),
        start=0,
        end=len(text),
        text=text,
        sentences=tuple(split_sentences(text)),
    )


def build_pairs(
    limit: int | None, seed: int
) -> tuple[list[str], dict[str, Chunk], list[tuple[int, str, bool]]]:
    """Answer sentences, the passages needed, and (sentence index, doc_id, supported) pairs."""
    chunks = {str(d["doc_id"]): passage(d) for d in load("docs.jsonl")}
    terms = {doc_id: set(content_terms(c.text)) for doc_id, c in chunks.items()}
    df = Counter(t for found in terms.values() for t in found)
    idf = {t: math.log(len(chunks) / n) for t, n in df.items()}
    by_title: dict[str, list[str]] = defaultdict(list)
    for doc_id, chunk in chunks.items():
        by_title[chunk.title].append(doc_id)
    rng = random.Random(seed)
    order = sorted(chunks)
    questions = [q for q in load("questions.jsonl") if q["answerable"]][:limit]
    sentences: list[str] = []
    pairs: list[tuple[int, str, bool]] = []
    for q in questions:
        gold = [str(g) for g in q["gold_doc_ids"]]  # type: ignore[attr-defined]
        meta: dict[str, list[str]] = q["meta"]  # type: ignore[assignment]
        excluded = {*gold, *meta.get("near_duplicate_doc_ids", [])}
        gold_texts = {chunks[g].text for g in gold}
        wrong = [d for d in order if d not in excluded and chunks[d].text not in gold_texts]
        same_title = [d for g in gold for d in by_title[chunks[g].title] if d in wrong]
        random_doc = rng.choice(wrong)
        for answer in q["answers"]:  # type: ignore[attr-defined]
            text = str(answer)
            for start, end in split_sentences(text):
                sentence = " ".join(text[start:end].split())
                if len(sentence.split()) < MIN_WORDS:
                    continue
                index = len(sentences)
                sentences.append(sentence)
                pairs.extend((index, g, True) for g in gold)
                mine = set(content_terms(sentence))
                closest = max(wrong, key=lambda d: sum(idf[t] for t in mine & terms[d]))
                for doc_id in dict.fromkeys([closest, *same_title, random_doc]):
                    pairs.append((index, doc_id, False))
    used = {doc_id for _, doc_id, _ in pairs}
    return sentences, {d: chunks[d] for d in used}, pairs


def measure(
    sentences: list[str], chunks: dict[str, Chunk], pairs: list[tuple[int, str, bool]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Similarity, term overlap, lexical check (numbers and names) and label of every pair."""
    embedder = load_embedder()
    doc_ids = sorted(chunks)
    texts = [chunks[d].sentence_text(span) for d in doc_ids for span in chunks[d].sentences]
    print(f"embedding {len(sentences)} answer + {len(texts)} passage sentences", file=sys.stderr)
    started = time.perf_counter()
    vectors = np.asarray(embedder.embed_documents(sentences + texts), dtype=np.float32)
    print(f"  {time.perf_counter() - started:.0f}s", file=sys.stderr)
    answer_vectors, rows = vectors[: len(sentences)], iter(vectors[len(sentences) :])
    evidence = {
        d: [SourceSentence(chunks[d], span, next(rows)) for span in chunks[d].sentences]
        for d in doc_ids
    }
    found: list[ChunkSupport] = [
        chunk_support(sentences[i], answer_vectors[i], evidence[d]) for i, d, _ in pairs
    ]
    return (
        np.array([s.similarity for s in found]),
        np.array([s.term_overlap for s in found]),
        np.array([not s.missing_numbers and not s.missing_names for s in found]),
        np.array([label for _, _, label in pairs]),
    )


def rates(
    sim: np.ndarray, overlap: np.ndarray, lexical: np.ndarray, label: np.ndarray, s: float, o: float
) -> tuple[float, float, float]:
    """Recall, rejection and precision of the support test at ``(s, o)``."""
    passed = (sim >= s - 1e-9) & (overlap >= o - 1e-9) & lexical
    recall = float(passed[label].mean())
    rejection = float(1.0 - passed[~label].mean())
    precision = float(passed[label].sum() / max(passed.sum(), 1))
    return recall, rejection, precision


def choose(
    data: tuple[np.ndarray, ...], mask: np.ndarray, min_recall: float
) -> tuple[float, float, tuple[float, float, float]]:
    """The grid point keeping ``min_recall`` of supported sentences that rejects the most.

    Many points reject nearly every unsupported pair, and the single best one sits on the recall
    cliff, where one sentence more or less moves it. So, as in the one-standard-error rule, every
    point within one standard error (at least one pair) of the best rejection counts as best, and
    among those the one keeping the most supported sentences wins; then higher rejection, then
    the higher similarity floor (the less the test leans on wording alone).
    """
    sim, overlap, lexical, label = (a[mask] for a in data)
    points = [
        (s, o, rates(sim, overlap, lexical, label, s, o)) for s in SIMILARITIES for o in OVERLAPS
    ]
    feasible = [p for p in points if p[2][0] >= min_recall]
    if not feasible:
        raise SystemExit(f"no grid point keeps {min_recall:.0%} of supported sentences")
    negatives = int((~label).sum())
    top = max(p[2][1] for p in feasible)
    tolerance = max(math.sqrt(top * (1 - top) / negatives), 1 / negatives)
    near = [p for p in feasible if p[2][1] >= top - tolerance - 1e-12]
    return max(near, key=lambda p: (p[2][0], p[2][1], p[0], -p[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--limit", type=int, default=None, help="answerable questions to use")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-recall", type=float, default=0.95)
    args = parser.parse_args()
    sentences, chunks, pairs = build_pairs(args.limit, args.seed)
    data = measure(sentences, chunks, pairs)
    sim, overlap, lexical, label = data
    print(f"{int(label.sum())} supported pairs, {int((~label).sum())} unsupported pairs")
    print(f"numbers/names check alone: recall {lexical[label].mean():.3f}, "
          f"rejection {1 - lexical[~label].mean():.3f}")  # fmt: skip
    print("\nrecall / rejection   (rows: min_similarity, columns: min_term_overlap)")
    shown = OVERLAPS[::2]
    print("sim   " + "".join(f"{o:>12.2f}" for o in shown))
    for s in SIMILARITIES[::2]:
        cells = (rates(sim, overlap, lexical, label, s, o) for o in shown)
        print(f"{s:.3f} " + "".join(f"{r:>6.3f}/{j:.3f}" for r, j, _ in cells))
    everything = np.ones(len(label), dtype=bool)
    s, o, (recall, rejection, precision) = choose(data, everything, args.min_recall)
    print(f"\nchosen: min_similarity={s} min_term_overlap={o}: recall {recall:.3f}, "
          f"rejection {rejection:.3f}, precision {precision:.3f}")  # fmt: skip
    current = rates(sim, overlap, lexical, label, MIN_SIMILARITY, MIN_TERM_OVERLAP)
    print(f"guard.py defaults ({MIN_SIMILARITY}, {MIN_TERM_OVERLAP}): recall {current[0]:.3f}, "
          f"rejection {current[1]:.3f}, precision {current[2]:.3f}")  # fmt: skip
    # Honesty check: choose on the even answer sentences, measure on the odd ones.
    sentence_of = np.array([i for i, _, _ in pairs])
    s2, o2, _ = choose(data, sentence_of % 2 == 0, args.min_recall)
    held = [a[sentence_of % 2 == 1] for a in data]
    r2 = rates(*held, s2, o2)  # type: ignore[call-arg]
    print(f"split-half: chosen on even sentences ({s2}, {o2}), on odd ones recall {r2[0]:.3f}, "
          f"rejection {r2[1]:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
