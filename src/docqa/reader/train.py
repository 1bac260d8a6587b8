"""Train the reader (``make train-reader``): reproducible, on 2 CPU cores, from repository data.

    python -m docqa.reader.train [--out DIR] [--max-pairs N] [--seed S] [--held-out-articles K]

Data: the two SQuAD 2.0 parts in ``eval/data/squad2`` (CC BY-SA 4.0). ``K`` articles of the
development part, drawn with the seed, are held out whole; every figure reported is measured on
them only. The NATO question set is never read. The model card (``reader.json``) records the data,
split, steps, seed, timings and held-out metrics beside the weights.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from docqa.embeddings import BUNDLED_MODEL, resolve_model_path
from docqa.evaluation.metrics import token_f1
from docqa.reader.data import Pair, ReaderExample, load_squad, split_by_article, training_pairs
from docqa.reader.model import CrossEncoder, PairTokenizer, save
from docqa.reader.spans import Phrase, best_phrase

IGNORE = -100  # no answer phrase to learn from this pair (a negative, or cut by truncation)

ROOT = Path(__file__).resolve().parents[3]
SQUAD = ROOT / "eval" / "data" / "squad2"
TRAIN_FILES = ("train-10-articles.json", "dev-8-articles.json")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides the trained weights (recorded in the model card)."""

    max_pairs: int = 20_000
    positive_share: float = 1 / 3
    batch_size: int = 32
    learning_rate: float = 6e-5
    warmup_share: float = 0.1
    phrase_loss_weight: float = 0.5
    max_tokens: int = 96
    seed: int = 0
    held_out_articles: int = 3
    eval_questions: int = 600
    threads: int = 2
    hard_negatives: bool = False


def held_out_articles(
    examples: Sequence[ReaderExample], dev: set[str], config: TrainConfig
) -> list[str]:
    """``held_out_articles`` development-set articles, drawn with the seed."""
    articles = sorted({e.article for e in examples if e.article in dev})
    return sorted(random.Random(config.seed).sample(articles, config.held_out_articles))


@torch.no_grad()
def score(
    model: CrossEncoder, tokenizer: PairTokenizer, question: str, sentences: Sequence[str]
) -> np.ndarray:
    """The reader's probability that each sentence answers the question."""
    return read(model, tokenizer, question, sentences)[0]


@torch.no_grad()
def read(
    model: CrossEncoder, tokenizer: PairTokenizer, question: str, sentences: Sequence[str]
) -> tuple[np.ndarray, list[Phrase | None]]:
    """Each sentence's probability of answering, and its best answer phrase."""
    encoded = tokenizer.encode([question] * len(sentences), list(sentences))
    logits, starts, ends = model(tokenizer.tensors(encoded))
    phrases = [
        best_phrase(s.numpy(), e.numpy(), [t == 1 for t in enc.type_ids], enc.offsets)
        for s, e, enc in zip(starts, ends, encoded, strict=True)
    ]
    return torch.sigmoid(logits).numpy(), phrases


def phrase_targets(encoded: list[Any], pairs: Sequence[Pair]) -> tuple[torch.Tensor, torch.Tensor]:
    """Start and end token of each pair's answer phrase (``IGNORE`` where there is none)."""
    starts, ends = [], []
    for enc, pair in zip(encoded, pairs, strict=True):
        first = last = None
        if pair.answer is not None:
            first = enc.char_to_token(pair.answer[0], 1)
            last = enc.char_to_token(max(pair.answer[0], pair.answer[1] - 1), 1)
        if first is None or last is None:  # no phrase, or truncated away
            first = last = IGNORE
        starts.append(first)
        ends.append(last)
    return torch.tensor(starts), torch.tensor(ends)


def auc(positive: Sequence[float], negative: Sequence[float]) -> float | None:
    """Probability that a random positive outscores a random negative (ties count half)."""
    if not positive or not negative:
        return None
    pos, neg = np.asarray(positive)[:, None], np.asarray(negative)[None, :]
    return float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size))


def evaluate(
    model: CrossEncoder, tokenizer: PairTokenizer, examples: Sequence[ReaderExample]
) -> dict[str, Any]:
    """Held-out figures: answer sentence ranked first, answer-phrase F1 (SQuAD's, of the best
    sentence's phrase), answerability AUC, rates at 0.5."""
    model.eval()
    first, f1, best_answerable, best_unanswerable = [], [], [], []
    for example in examples:
        probabilities, phrases = read(model, tokenizer, example.question, example.sentences)
        best = float(probabilities.max())
        top = int(probabilities.argmax())
        if example.answerable:
            first.append(example.labels[top] == 1)
            phrase = phrases[top]
            text = example.sentences[top][phrase.start : phrase.end] if phrase else ""
            f1.append(token_f1(text, example.answer_texts))
            best_answerable.append(best)
        else:
            best_unanswerable.append(best)
    return {
        "questions": len(examples),
        "answerable": len(best_answerable),
        "answer_sentence_first": round(float(np.mean(first)), 4) if first else None,
        "answer_phrase_f1": round(float(np.mean(f1)), 4) if f1 else None,
        "answerability_auc": _round(auc(best_answerable, best_unanswerable)),
        "answered_at_0.5": _share([b >= 0.5 for b in best_answerable]),
        "abstained_at_0.5": _share([b < 0.5 for b in best_unanswerable]),
    }


def train(
    config: TrainConfig, out: Path, squad_dir: Path = SQUAD, log: bool = True
) -> dict[str, Any]:
    """Train, evaluate on the held-out articles, save weights and model card; return the card."""
    started = time.perf_counter()
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    base = resolve_model_path(BUNDLED_MODEL)

    train_part, dev_part = (load_squad(squad_dir / name) for name in TRAIN_FILES)
    examples: list[ReaderExample] = train_part + dev_part
    held = held_out_articles(examples, {e.article for e in dev_part}, config)
    train_examples, test_examples = split_by_article(examples, held)
    test_examples = random.Random(config.seed).sample(
        test_examples, min(config.eval_questions, len(test_examples))
    )
    pairs = training_pairs(
        train_examples,
        config.max_pairs,
        config.positive_share,
        config.seed,
        hard_negatives=config.hard_negatives,
    )

    model = CrossEncoder(base)
    tokenizer = PairTokenizer(base, config.max_tokens)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=0.01)
    steps = math.ceil(len(pairs) / config.batch_size)
    warmup = max(1, round(steps * config.warmup_share))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup + 1)))
    )
    answer_loss = torch.nn.BCEWithLogitsLoss()
    phrase_loss = torch.nn.CrossEntropyLoss(ignore_index=IGNORE)
    model.train()
    for step in range(steps):
        chunk = pairs[step * config.batch_size : (step + 1) * config.batch_size]
        encoded = tokenizer.encode([p.question for p in chunk], [p.sentence for p in chunk])
        labels = torch.tensor([float(p.label) for p in chunk])
        start_target, end_target = phrase_targets(encoded, chunk)
        logits, starts, ends = model(tokenizer.tensors(encoded))
        loss = answer_loss(logits, labels)
        if (start_target != IGNORE).any():
            loss = loss + config.phrase_loss_weight * 0.5 * (
                phrase_loss(starts, start_target) + phrase_loss(ends, end_target)
            )
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimiser.step()
        schedule.step()
        if log and (step % 50 == 0 or step == steps - 1):
            rate = (step + 1) * config.batch_size / (time.perf_counter() - started)
            print(
                f"step {step + 1}/{steps} loss {loss.item():.4f} ({rate:.1f} pairs/s)", flush=True
            )
    train_seconds = time.perf_counter() - started

    metrics = evaluate(model, tokenizer, test_examples)
    card = {
        "model": "docqa reader: cross-encoder from all-MiniLM-L6-v2 (word embeddings frozen)",
        "task": (
            "does this sentence answer the question? (one logit on [CLS], binary cross-entropy) "
            "and where is the answer phrase? (start/end logits per sentence token, cross-entropy, "
            "answerable pairs only)"
        ),
        "data": {
            "files": [f"eval/data/squad2/{name}" for name in TRAIN_FILES],
            "licence": "SQuAD 2.0, CC BY-SA 4.0 (Rajpurkar, Jia and Liang, 2018)",
            "held_out_articles": held,
            "train_questions": len(train_examples),
            "train_pairs": len(pairs),
            "train_positive_pairs": sum(p.label for p in pairs),
        },
        "config": asdict(config),
        "steps": steps,
        "train_minutes": round(train_seconds / 60, 1),
        "trained_on": f"CPU, {config.threads} threads, torch {torch.__version__}",
        "held_out": metrics,
    }
    card = save(model, out, card)
    if log:
        print(f"held out ({', '.join(held)}): {metrics}")
    return card


def _share(flags: Sequence[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line of ``make train-reader``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / ".docqa-train" / "reader")
    parser.add_argument("--max-pairs", type=int, default=TrainConfig.max_pairs)
    parser.add_argument("--seed", type=int, default=TrainConfig.seed)
    parser.add_argument("--eval-questions", type=int, default=TrainConfig.eval_questions)
    parser.add_argument(
        "--hard-negatives",
        action=argparse.BooleanOptionalAction,
        default=TrainConfig.hard_negatives,
        help="take every sentence holding an unanswerable question's plausible answer first",
    )
    args = parser.parse_args(argv)
    config = TrainConfig(
        max_pairs=args.max_pairs,
        seed=args.seed,
        eval_questions=args.eval_questions,
        hard_negatives=args.hard_negatives,
    )
    train(config, args.out)


if __name__ == "__main__":
    main()
