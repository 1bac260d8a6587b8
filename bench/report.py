"""bench/results.md (tables, each target with its verdict) and bench/latency-vs-size.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

COMMAND = "make bench"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _targets(r: dict[str, Any]) -> list[str]:
    ingest, cold, conc, base = r["ingest"], r["cold_start"], r["concurrency"], r["baseline"]
    worst = max(r["latency"], key=lambda x: x["ratio_to_floor"])
    tutorial, mine = base["tutorial"], base["docqa"]
    better = (
        mine["recall_at_5"] >= tutorial["recall_at_5"] and mine["mrr_at_10"] > tutorial["mrr_at_10"]
    )
    ingest_ratio = ingest["docqa_seconds"] / ingest["raw_encode_seconds"]
    nato = r["latency"][0]
    reader = r["reader_latency"]
    reader_median = max(x["ask_ms"]["median"] for x in reader)
    reader_p95 = max(x["ask_ms"]["p95"] for x in reader)
    idle = mine["retrieve_ms"]["median"] / tutorial["retrieve_ms"]["median"]
    busy = mine["retrieve_busy_ms"]["median"] / tutorial["retrieve_busy_ms"]["median"]
    rows = [
        (
            "Ingest time / the bare model's encode of the same texts (ClapNQ)",
            f"{ingest_ratio:.2f}× ({ingest['docqa_seconds']:.1f} s vs "
            f"{ingest['raw_encode_seconds']:.1f} s)",
            "≤ 0.5×",
            ingest_ratio <= 0.5,
        ),
        (
            "Re-ingest of the unchanged ClapNQ corpus",
            f"{ingest['reingest_unchanged_seconds']:.2f} s",
            "< 2 s",
            ingest["reingest_unchanged_seconds"] < 2,
        ),
        (
            f"`ask` / embedding the question alone ({nato['corpus']}, median)",
            f"{nato['ratio_to_floor']:.2f}× ({nato['ask_ms']['median']:.1f} ms vs "
            f"{nato['floor_ms']['median']:.1f} ms)",
            "≤ 1.5×",
            nato["ratio_to_floor"] <= 1.5,
        ),
        (
            "Warm median latency / question-embedding floor, worst size",
            f"{worst['ratio_to_floor']:.2f}× ({worst['corpus']})",
            "≤ 2×",
            worst["ratio_to_floor"] <= 2,
        ),
        (
            "Reader `ask` median / p95, worst corpus",
            f"{reader_median:.1f} / {reader_p95:.1f} ms",
            "≤ 30 / ≤ 60 ms",
            reader_median <= 30 and reader_p95 <= 60,
        ),
        (
            "Cold start, `docqa ask` on a built index (median of 3)",
            f"{cold['median_seconds']:.2f} s",
            "< 6 s",
            cold["median_seconds"] < 6,
        ),
        (
            "Retrieval quality vs the LangChain tutorial (ClapNQ recall@5 / MRR@10)",
            f"{mine['recall_at_5']:.3f} / {mine['mrr_at_10']:.3f} vs "
            f"{tutorial['recall_at_5']:.3f} / {tutorial['mrr_at_10']:.3f}",
            "better",
            better,
        ),
        (
            "Retrieval latency / the tutorial's (median), idle machine",
            f"{idle:.2f}× ({mine['retrieve_ms']['median']:.1f} ms vs "
            f"{tutorial['retrieve_ms']['median']:.1f} ms)",
            "≤ 1.0×",
            idle <= 1.0,
        ),
        (
            "Retrieval latency / the tutorial's (median), one core busy",
            f"{busy:.2f}× ({mine['retrieve_busy_ms']['median']:.1f} ms vs "
            f"{tutorial['retrieve_busy_ms']['median']:.1f} ms)",
            "≤ 0.5×",
            busy <= 0.5,
        ),
        (
            f"{conc['clients']} clients for {conc['seconds']:.0f} s through the UI's /ask",
            f"{conc['errors']} errors in {conc['served'] + conc['errors']:,} requests",
            "no errors",
            conc["errors"] == 0,
        ),
    ]
    lines = ["| Target | Measured | Goal | |", "|---|---|---|---|"]
    lines += [f"| {name} | {value} | {goal} | {_verdict(ok)} |" for name, value, goal, ok in rows]
    return lines


def _full_scale(r: dict[str, Any]) -> str:
    """What embedding the largest synthetic corpus for real would take at ClapNQ's rate."""
    ingest = r["ingest"]
    size = max(int(s) for s in r["synthetic_builds"])
    rate = ingest["texts_embedded"] / ingest["docqa_seconds"]
    hours = size * ingest["texts_embedded"] / ingest["chunks"] / rate / 3600
    return (
        f"A {size:,}-chunk corpus embedded for real: ~{hours:.1f} h at ClapNQ's rate "
        f"({rate:.0f} texts/s, {ingest['texts_embedded'] / ingest['chunks']:.1f} texts a chunk); "
        "the synthetic build below indexes it with synthesised vectors."
    )


def _latency_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| Corpus | Chunks | Questions | Floor: embed the question (median) | docqa ask median "
        "| p95 | Median / floor | recall@5 | Peak memory |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for x in rows:
        recall = "—" if x["recall_at_5"] is None else f"{x['recall_at_5']:.3f}"
        lines.append(
            f"| {x['corpus']} | {x['chunks']:,} | {x['questions']} "
            f"| {x['floor_ms']['median']:.1f} ms "
            f"| {x['ask_ms']['median']:.1f} ms | {x['ask_ms']['p95']:.1f} ms "
            f"| {x['ratio_to_floor']:.2f}× | {recall} | {x['peak_rss_mb']:,.0f} MiB |"
        )
    return lines


def write_markdown(r: dict[str, Any], path: Path) -> None:
    """The results as Markdown tables (README copies them)."""
    ingest, cold, base, conc = r["ingest"], r["cold_start"], r["baseline"], r["concurrency"]
    tutorial = base["tutorial"]
    stages = " · ".join(f"{k} {v:.2f} s" for k, v in cold["breakdown_seconds"].items())
    builds = r["synthetic_builds"]
    synth = "; ".join(
        f"{int(size):,}: {b['chunks']:,} chunks indexed in {b['index_seconds']:.0f} s, "
        f"{b['chunk_vectors_synthesised']:,} chunk vectors synthesised, "
        f"{b['texts_embedded_for_real']:,} texts embedded"
        for size, b in builds.items()
    )
    lines = [
        f"# Benchmarks ({r['date']}, {r['machine']['cpus']} CPUs, no GPU; `{COMMAND}`, "
        f"{r['total_minutes']} min)",
        "",
        *_targets(r),
        "",
        "## Ingest (ClapNQ, from scratch)",
        "",
        "| Pipeline | Chunks | Texts embedded | Seconds | Chunks/s | Bare model on the same texts "
        "| Time / bare model |",
        "|---|---:|---:|---:|---:|---:|---:|",
        "| docqa (chunks, sentences, parts of long sentences) "
        f"| {ingest['chunks']:,} | {ingest['texts_embedded']:,} "
        f"| {ingest['docqa_seconds']:.1f} | {ingest['docqa_chunks_per_second']:.1f} "
        f"| {ingest['raw_encode_seconds']:.1f} s | {1 + ingest['overhead']:.2f}× |",
        f"| LangChain tutorial (chunks only) | {tutorial['chunks']:,} "
        f"| {tutorial['texts_embedded']:,} | {tutorial['ingest_seconds']:.1f} "
        f"| {tutorial['chunks_per_second']:.1f} "
        f"| {tutorial['raw_encode_seconds']:.1f} s | {1 + tutorial['overhead']:.2f}× |",
        "",
        f"Re-ingest, nothing changed: {ingest['reingest_unchanged_seconds']:.2f} s in-process "
        "(`docqa ingest` as a new process, start-up included: "
        f"{ingest['reingest_cli_seconds']:.1f} s).",
        "",
        _full_scale(r),
        "",
        "## Warm question latency by corpus size",
        "",
        *_latency_table(r["latency"]),
        "",
        'With the reader (`answerer = "reader"`: the 6 best sentences read with the question):',
        "",
        *_latency_table(r["reader_latency"]),
        "",
        f"Synthetic corpora ({synth}): ClapNQ's passages plus passages recombined from its "
        "sentences; every sentence vector is real, synthetic chunk vectors are the normalised mean "
        "of their sentences' real vectors (embedding 100,000 chunks on 2 cores would take hours). "
        "Peak memory is the resident set of the process that served the questions.",
        "",
        f"## Cold start: {cold['median_seconds']:.2f} s (runs: "
        + ", ".join(f"{w:.2f}" for w in cold["runs_seconds"])
        + ")",
        "",
        f"Where it goes (median of 3 probe runs): {stages}.",
        "",
        f"## docqa vs the LangChain tutorial pipeline (ClapNQ, {base['answerable_scored']} "
        "answerable questions)",
        "",
        "| Pipeline | recall@5 | MRR@10 | Retrieval median | p95 | One core busy: median | p95 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, x in (
        ("LangChain tutorial (top 4)", tutorial),
        ("docqa hybrid (top 5)", base["docqa"]),
    ):
        lines.append(
            f"| {name} | {x['recall_at_5']:.3f} | {x['mrr_at_10']:.3f} "
            f"| {x['retrieve_ms']['median']:.1f} ms | {x['retrieve_ms']['p95']:.1f} ms "
            f"| {x['retrieve_busy_ms']['median']:.1f} ms | {x['retrieve_busy_ms']['p95']:.1f} ms |"
        )
    lines += [
        "",
        f"One core busy: the first {base['busy_questions']} questions again while another process "
        "spins on one of the two cores.",
        "",
        f"## Concurrency: {conc['clients']} clients, {conc['seconds']:.0f} s, "
        "UI `/ask` on loopback",
        "",
        f"{conc['served']:,} answered ({conc['requests_per_second']:.1f}/s), "
        f"{conc['errors']} errors; latency median {conc['latency_ms']['median']:.0f} ms, "
        f"p95 {conc['latency_ms']['p95']:.0f} ms; "
        f"server peak memory {conc['server_peak_rss_mb'] or 0:,.0f} MiB. CPU per answer: server "
        f"{conc['server_cpu_ms_per_request']:.0f} ms, the client threads "
        f"{conc['clients_cpu_ms_per_request']:.0f} ms (all on the same 2 cores).",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def write_plot(r: dict[str, Any], path: Path) -> None:
    """Median and p95 ask latency and the floor against corpus size (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = sorted(r["latency"], key=lambda x: x["chunks"])
    sizes = [x["chunks"] for x in points]
    fig, ax = plt.subplots(figsize=(6.4, 4))
    ax.plot(sizes, [x["ask_ms"]["median"] for x in points], "o-", label="docqa ask, median")
    ax.plot(sizes, [x["ask_ms"]["p95"] for x in points], "s--", label="docqa ask, p95")
    ax.plot(sizes, [x["floor_ms"]["median"] for x in points], "^:", label="embed the question")
    ax.plot(
        sizes,
        [2 * x["floor_ms"]["median"] for x in points],
        color="grey",
        linewidth=0.8,
        label="target: 2 × floor",
    )
    for x in points:
        ax.annotate(
            x["corpus"],
            (x["chunks"], x["ask_ms"]["median"]),
            fontsize=7,
            xytext=(4, 4),
            textcoords="offset points",
        )
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("ms per question (warm, 2 CPUs)")
    ax.set_ylim(bottom=0)
    ax.set_title(f"Question latency against corpus size ({COMMAND})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
