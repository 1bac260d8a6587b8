"""Evaluation report: ``report.json``, two plots and a Markdown page, each written atomically."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from docqa.errors import ConfigurationError
from docqa.evaluation.types import EvalSummary, QuestionResult
from docqa.fileio import atomic_write

_FIGSIZE = (8.0, 5.0)
_DPI = 110
_ANSWER_CHARS = 300
_QUOTE_CHARS = 120
_TEXT_CHARS = 200
_COUNT_KEYS = frozenset({"questions", "answerable", "unanswerable"})
_TYPE_COLUMNS = (
    ("questions", "n"),
    ("recall_at_5", "recall@5"),
    ("mrr_at_10", "MRR@10"),
    ("answer_correctness", "correct"),
    ("key_phrase_match", "key phrases"),
    ("token_f1", "token F1"),
    ("rouge_l", "ROUGE-L"),
    ("citation_validity", "cit. valid"),
    ("citation_support", "cit. support"),
    ("abstention_recall", "abst. recall"),
)


def write_report(summary: EvalSummary, out_dir: Path) -> list[Path]:
    """Write ``report.json``, ``tradeoff.png``, ``latency.png`` and ``report.md`` to ``out_dir``.

    Each file goes to a temporary file in ``out_dir`` first and is then renamed over its final
    name, so an interrupted run leaves the previous file or the complete new one, never half.

    Args:
        summary: The run to report.
        out_dir: Folder for the report (created if missing).

    Returns:
        The paths written, in the order above.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(_rounded(asdict(summary)), ensure_ascii=False, indent=2, default=str)
    json_path = atomic_write(out_dir / "report.json", payload)
    tradeoff = _plot_tradeoff(summary, out_dir / "tradeoff.png")
    latency = _plot_latency(summary, out_dir / "latency.png")
    markdown = _markdown(summary)
    md_path = atomic_write(out_dir / "report.md", markdown)
    return [json_path, tradeoff, latency, md_path]


def _rounded(value: object) -> object:
    """Round floats to 4 places (NaN/inf become null, which JSON can carry), recursively."""
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(item) for item in value]
    return value


def _pyplot() -> Any:
    """matplotlib's pyplot on the file-only Agg backend, or an error naming the extra."""
    try:
        import matplotlib
    except ImportError:
        raise ConfigurationError(
            "Writing an evaluation report needs matplotlib: `make install` installs it, or "
            "`pip install -e '.[eval]'`."
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plot_tradeoff(summary: EvalSummary, path: Path) -> Path:
    plt = _pyplot()

    fig, ax = plt.subplots(figsize=_FIGSIZE, dpi=_DPI)
    try:
        xs = [p["answered"] for p in summary.tradeoff]
        ys = [p["abstained"] for p in summary.tradeoff]
        ts = [p["threshold"] for p in summary.tradeoff]
        ax.plot(xs, ys, color="0.6", linewidth=1.2, zorder=2)
        if ts:
            dots = ax.scatter(xs, ys, c=ts, cmap="viridis", vmin=0, vmax=1, s=16, zorder=3)
            dots.set_clip_on(False)  # points on the 0/1 edges would otherwise be cut in half
            fig.colorbar(dots, ax=ax, label="abstention threshold")
        op = summary.operating_point
        point = (op.get("answered", 0.0), op.get("abstained", 0.0))
        label = f"t = {op.get('threshold', float('nan')):.2f}"
        ax.plot(
            *point,
            marker="*",
            markersize=16,
            color="tab:red",
            zorder=4,
            clip_on=False,
            linestyle="none",
            label=f"operating point ({label}, actual results)",
        )
        ax.annotate(
            label,
            point,
            xytext=(10, -14),
            textcoords="offset points",
            fontsize=10,
            color="tab:red",
            fontweight="bold",
        )
        if not summary.metrics.get("unanswerable"):
            ax.text(
                0.5,
                0.5,
                "no unanswerable questions in this set",
                ha="center",
                transform=ax.transAxes,
                color="0.4",
            )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.grid(True, alpha=0.4)
        ax.set_xlabel("answered: share of answerable questions answered")
        ax.set_ylabel("abstained: share of unanswerable questions abstained on")
        ax.set_title(f"Answer / abstain trade-off: {Path(summary.questions).name}")
        ax.legend(loc="lower left")
        fig.tight_layout()
        return atomic_write(path, lambda fh: fig.savefig(fh, format="png"))
    finally:
        plt.close(fig)


def _plot_latency(summary: EvalSummary, path: Path) -> Path:
    plt = _pyplot()

    stages = list(
        dict.fromkeys([*summary.latency, *(s for r in summary.results for s in r.latency)])
    )
    data = [[r.latency[s] for r in summary.results if s in r.latency] for s in stages]
    stages = [s for s, values in zip(stages, data, strict=True) if values]
    data = [values for values in data if values]
    fig, ax = plt.subplots(figsize=_FIGSIZE, dpi=_DPI)
    try:
        ax.set_title(f"Latency per stage: {summary.name} ({summary.count} questions)")
        if not data:
            ax.text(0.5, 0.5, "no latency recorded", ha="center", transform=ax.transAxes)
        else:
            ax.boxplot(data, tick_labels=stages, widths=0.5)
            positive = [v for values in data for v in values if v > 0]
            # A slow stage next to a fast one would flatten the fast box to a line.
            log = bool(positive) and max(positive) > 100 * min(positive)
            if log:
                ax.set_yscale("log")
            for i, values in enumerate(data, start=1):
                median = float(np.median(values))
                ax.annotate(f"median {_ms(median)} ms", (i + 0.28, median), va="center", fontsize=9)
            ax.set_xlim(0.5, len(data) + 0.9)  # room for the median labels of the last box
            ax.set_ylabel("ms per question" + (" (log scale)" if log else ""))
        ax.grid(True, axis="y", alpha=0.4)
        fig.tight_layout()
        return atomic_write(path, lambda fh: fig.savefig(fh, format="png"))
    finally:
        plt.close(fig)


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def _fmt(value: float | None, key: str = "") -> str:
    if value is None:
        return "—"
    if key in _COUNT_KEYS:
        return f"{value:.0f}"
    return f"{value:.3f}"


def _cell(text: str, limit: int) -> str:
    """Truncate, then escape what would break a table row (``|`` and line breaks)."""
    text = text.strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    text = text.replace("|", "\\|")
    return "<br>".join(line.strip() for line in text.splitlines())


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _quotes(result: QuestionResult) -> str:
    parts = []
    for citation in result.citations[:2]:
        number = citation.get("number", "?")
        parts.append(f"[{number}] “{_cell(str(citation.get('quote', '')), _QUOTE_CHARS)}”")
    return "<br>".join(parts) or "—"


def _markdown(summary: EvalSummary) -> str:
    op = summary.operating_point
    lines = [
        f"# {summary.name}",
        "",
        f"Documents: `{summary.docs}` · Questions: `{summary.questions}` ({summary.count})"
        f" · Abstention threshold fit on: {summary.threshold_fit_on}"
        f" (threshold {op.get('threshold', float('nan')):.2f})",
        "",
        "## Overall",
        "",
        _row(["metric", "value"]),
        _row(["---", "---:"]),
        *(_row([key, _fmt(value, key)]) for key, value in summary.metrics.items()),
        "",
        "## By question type",
        "",
        _row(["type", *(label for _, label in _TYPE_COLUMNS)]),
        _row(["---", *("---:" for _ in _TYPE_COLUMNS)]),
        *(
            _row([_cell(qtype, _TEXT_CHARS), *(_fmt(m.get(k), k) for k, _ in _TYPE_COLUMNS)])
            for qtype, m in summary.by_type.items()
        ),
        "",
        "## Latency",
        "",
        _row(["stage", "median ms", "p95 ms"]),
        _row(["---", "---:", "---:"]),
        *(
            _row([_cell(s, _TEXT_CHARS), _ms(v["median"]), _ms(v["p95"])])
            for s, v in summary.latency.items()
        ),
        "",
        "## Plots",
        "",
        "![Answered vs. abstained as the abstention threshold moves](tradeoff.png)",
        "",
        "![Latency per stage](latency.png)",
        "",
        "## Questions (failures first)",
        "",
        _row(["status", "id", "type", "question", "answer", "cited quotes", "expected"]),
        _row(["---"] * 7),
    ]
    # sorted() is stable: failures first, each group in question-set order.
    for r in sorted(summary.results, key=lambda r: r.correct):
        answer = "*(abstained)*" if r.abstained else _cell(r.answer, _ANSWER_CHARS)
        lines.append(
            _row(
                [
                    "✓" if r.correct else "✗",
                    _cell(r.qid, _TEXT_CHARS),
                    _cell(r.qtype, _TEXT_CHARS),
                    _cell(r.question, _TEXT_CHARS),
                    answer,
                    _quotes(r),
                    _cell(r.expected, _TEXT_CHARS) or "—",
                ]
            )
        )
    return "\n".join(lines) + "\n"
