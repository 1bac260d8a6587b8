"""Measure retrieval and fit the abstention model on the ClapNQ benchmark.

Usage:
    python eval/clapnq_tune.py retrieval          # recall@5 / MRR@10 of dense, keyword, fusions
    python eval/clapnq_tune.py calibrate [--write] # refit the shipped abstention model's features;
                                                   # --write saves it; --features all: every feature
    python eval/clapnq_tune.py calibrate --answerer reader [--write]
                                                   # the reader's model (abstention-reader.json)
    python eval/clapnq_tune.py answers [--answerer reader]
                                                   # ROUGE-L over answer-selection settings

Everything tuned here is tuned on ClapNQ only (``eval/data/clapnq``: docs.jsonl, questions.jsonl),
through the same stages as ``DocQA.ask``: ``DocQA.gather`` gives each question's evidence.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from docqa import DocQA
from docqa.abstention import MODEL_PATH, READER_MODEL_PATH, fit_logistic
from docqa.answerers.extractive import select_sentences
from docqa.answerers.reading import choose_read
from docqa.evaluation.metrics import rouge_l
from docqa.evidence import READER_FEATURES, read_evidence
from docqa.features import FEATURES
from docqa.retrieval import fuse

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "eval" / "data" / "clapnq"
INDEX = ROOT / ".docqa-bench" / "clapnq"


def open_bench(**overrides: object) -> DocQA:
    """A DocQA over the ClapNQ corpus, its index built once and kept in .docqa-bench/."""
    corpus = INDEX.parent / "clapnq-corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    target = corpus / "docs.jsonl"
    if not target.exists():
        shutil.copyfile(BENCH / "docs.jsonl", target)
    qa = DocQA(corpus_dir=corpus, index_dir=INDEX, **overrides)  # type: ignore[arg-type]
    report = qa.ingest(progress=True)
    print(report.summary(), file=sys.stderr)
    return qa


def questions() -> list[dict[str, object]]:
    lines = (BENCH / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def doc_ranking(chunk_ranking: list[tuple[str, float]], chunk_doc: dict[str, str]) -> list[str]:
    seen: list[str] = []
    for cid, _ in chunk_ranking:
        doc = chunk_doc[cid]
        if doc not in seen:
            seen.append(doc)
    return seen


def retrieval(qa: DocQA) -> None:
    qs = [q for q in questions() if q["answerable"]]
    chunk_doc = {c.chunk_id: c.doc_id for c in qa.store.all_chunks()}
    rankings = []
    for q in qs:
        text = str(q["question"])
        vector = qa.embedder.embed_query(text)
        ranking = qa.hybrid.rank(vector, text)
        rankings.append((set(q["gold_doc_ids"]), ranking))  # type: ignore[arg-type]
    configs: list[tuple[str, str, str, float]] = [("dense", "dense", "convex", 1.0)]
    configs.append(("keyword", "keyword", "convex", 0.0))
    for w in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        configs.append((f"convex w={w}", "hybrid", "convex", w))
        configs.append((f"rrf w={w}", "hybrid", "rrf", w))
    print(f"{len(qs)} answerable questions")
    for name, mode, method, w in configs:
        recall, mrr = [], []
        for gold, ranking in rankings:
            docs = doc_ranking(fuse(ranking, mode, method, w), chunk_doc)  # type: ignore[arg-type]
            recall.append(float(bool(gold & set(docs[:5]))))
            rank = next((i for i, d in enumerate(docs[:10]) if d in gold), None)
            mrr.append(0.0 if rank is None else 1.0 / (rank + 1))
        print(f"{name:16s} recall@5 {np.mean(recall):.3f}  MRR@10 {np.mean(mrr):.3f}")


def collect(
    qa: DocQA, features: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray, list[dict[str, object]]]:
    rows, labels, details = [], [], []
    for q in questions():
        evidence = qa.gather(str(q["question"]))
        found = evidence.features
        rows.append([found[f] for f in features])
        labels.append(1.0 if q["answerable"] else 0.0)
        details.append({"q": q, "scored": evidence.sentences})
    return np.asarray(rows), np.asarray(labels), details


def operating_points(p: np.ndarray, y: np.ndarray) -> list[tuple[float, float, float]]:
    points = []
    for t in np.linspace(0.05, 0.95, 91):
        answered = float(np.mean(p[y == 1] >= t))
        abstained = float(np.mean(p[y == 0] < t))
        points.append((float(t), answered, abstained))
    return points


def choose_threshold(points: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Most balanced point: maximise the smaller of answered and abstained shares."""
    return max(points, key=lambda pt: (min(pt[1], pt[2]), pt[1] + pt[2]))


def calibrate(
    qa: DocQA, write: bool, l2: float, features: tuple[str, ...], path: Path = MODEL_PATH
) -> None:
    x, y, _ = collect(qa, features)
    # Honest estimate first: 10-fold cross-validated probabilities.
    rng = np.random.default_rng(0)
    folds = rng.permutation(len(y)) % 10
    p_cv = np.zeros(len(y))
    for k in range(10):
        train, test = folds != k, folds == k
        mean, scale, w, b = fit_logistic(x[train], y[train], l2=l2)
        p_cv[test] = 1 / (1 + np.exp(-(((x[test] - mean) / scale) @ w + b)))
    t_cv, ans_cv, abs_cv = choose_threshold(operating_points(p_cv, y))
    print(f"cross-validated: threshold {t_cv:.2f} answered {ans_cv:.3f} abstained {abs_cv:.3f}")
    mean, scale, w, b = fit_logistic(x, y, l2=l2)
    p = 1 / (1 + np.exp(-(((x - mean) / scale) @ w + b)))
    t, answered, abstained = choose_threshold(operating_points(p, y))
    print(f"in-sample:       threshold {t:.2f} answered {answered:.3f} abstained {abstained:.3f}")
    for name, weight in sorted(zip(features, w, strict=True), key=lambda item: -abs(item[1])):
        print(f"  {name:28s} {weight:+.3f}")
    if write:
        model = {
            "features": list(features),
            "mean": mean.round(6).tolist(),
            "scale": scale.round(6).tolist(),
            "weights": w.round(6).tolist(),
            "bias": round(b, 6),
            "threshold": round(t, 3),
            "fit_on": "eval/data/clapnq/questions.jsonl (all 300: 150 answerable, "
            "150 unanswerable) against eval/data/clapnq/docs.jsonl",
            "l2": l2,
            "operating_point": {"answered": round(answered, 3), "abstained": round(abstained, 3)},
            "cross_validated_10fold": {
                "threshold": round(t_cv, 3),
                "answered": round(ans_cv, 3),
                "abstained": round(abs_cv, 3),
            },
            "fitted": time.strftime("%Y-%m-%d"),
        }
        if qa.uses_reader:
            model["reader_sha256"] = _reader_sha()
        path.write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path}")


def _reader_sha() -> str:
    from docqa.reader.reading import load_reader

    return load_reader().sha256


def answers(qa: DocQA) -> None:
    """ROUGE-L and sentences per answer of extractive answers on answerable questions, over
    selection settings."""
    qs = [q for q in questions() if q["answerable"]]
    cached = [(q, qa.gather(str(q["question"]))) for q in qs]
    for max_sentences in (1, 2, 3):
        for ratio in (0.6, 0.8, 0.85, 0.9, 0.95, 1.0):
            for margin in (None, 0.1, 0.05, 0.02, 0.0, -0.05, -0.1):
                if max_sentences == 1 and (ratio != 1.0 or margin is not None):
                    continue
                scores, lengths = [], []
                for q, evidence in cached:
                    chosen = [
                        s
                        for part in evidence.questions()
                        for s in select_sentences(
                            part.sentences, max_sentences, ratio, margin, part.question
                        )
                    ]
                    answer = " ".join(c.text for c in chosen)
                    refs = [str(a) for a in q["answers"]]  # type: ignore[attr-defined]
                    scores.append(rouge_l(answer, refs))
                    lengths.append(len(chosen))
                setting = f"max={max_sentences} ratio={ratio} pair={margin}"
                print(
                    f"{setting}: ROUGE-L {np.mean(scores):.3f}, sentences median "
                    f"{np.median(lengths):.0f} mean {np.mean(lengths):.2f}"
                )


def reader_answers(qa: DocQA) -> None:
    """ROUGE-L of reader answers on answerable questions, over sentences read and the second
    sentence's probability."""
    qs = [q for q in questions() if q["answerable"]]
    read = qa.reader()
    cached = [(q, qa.gather(str(q["question"]))) for q in qs]
    for limit in (4, 6, 8, 10):
        reads = [read_evidence(read, e.query, e.sentences, limit) for _, e in cached]
        for second in (0.3, 0.5, 0.7, 0.9, 1.01):
            scores = []
            for (q, _), r in zip(cached, reads, strict=True):
                answer = " ".join(c.sentence.text for c in choose_read(r, second))
                scores.append(rouge_l(answer, [str(a) for a in q["answers"]]))  # type: ignore[attr-defined]
            print(f"read={limit} second={second}: ROUGE-L {np.mean(scores):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["retrieval", "calibrate", "answers"])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--answerer", choices=["extractive", "reader"], default="extractive")
    parser.add_argument("--features", default=None)
    args = parser.parse_args()
    reader = args.answerer == "reader"
    path = READER_MODEL_PATH if reader else MODEL_PATH
    known = FEATURES + READER_FEATURES if reader else FEATURES
    if args.features is None:
        # The shipped model's features, so `calibrate --write` reproduces its file; `--features
        # all` fits every candidate feature (how the shipped ones were chosen).
        source = path if path.exists() else MODEL_PATH
        shipped = json.loads(source.read_text(encoding="utf-8"))["features"]
        args.features = ",".join(dict.fromkeys(shipped + list(READER_FEATURES if reader else ())))
    elif args.features == "all":
        args.features = ",".join(known)
    unknown = sorted(set(args.features.split(",")) - set(known))
    if unknown:
        parser.error(f"unknown features {unknown}; choose from {', '.join(known)} or 'all'")
    qa = open_bench(answerer=args.answerer)
    if args.what == "retrieval":
        retrieval(qa)
    elif args.what == "answers":
        reader_answers(qa) if reader else answers(qa)
    else:
        calibrate(qa, args.write, args.l2, tuple(args.features.split(",")), path)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory():
        main()
