"""``run.py``'s tables and verdict lines, from its summaries (see ``throughput.py``).

The columns are described in ``benchmarks/README.md`` ("Reading the results").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness import table
from throughput_variants import DIGEST_OURS, DIGEST_TARGET, OVERHEAD_TARGET, Catalogue


def _iqr(row: Mapping[str, Any]) -> str:
    return f"{row['ratio_q1']:.3f}-{row['ratio_q3']:.3f}"


def format_throughput_table(workload: str, rows: Mapping[str, Mapping[str, float]]) -> str:
    """The table of one workload: each variant's req/s, ratio to bare aiohttp, CPU time."""
    columns = [
        ("variant", f"<{max(22, *(len(name) for name in rows))}"),
        ("req/s", ">8"),
        ("ratio", ">6"),
        ("ratio IQR", ">13"),
        ("best", ">6"),
        ("Δ wall µs", ">9"),
        ("CPU µs/req", ">10"),
        ("Δ CPU µs", ">9"),
        ("Δ CPU", ">7"),
    ]
    cells = [
        (
            name,
            f"{row['median_rps']:,.0f}",
            f"{row['ratio']:.3f}",
            _iqr(row),
            f"{row['best_ratio']:.3f}",
            f"{row['overhead_us']:+.1f}",
            f"{row['cpu_us']:.1f}",
            f"{row['cpu_overhead_us']:+.1f}",
            f"{row['cpu_overhead_pct']:+.1f}%",
        )
        for name, row in rows.items()
    ]
    return f"{workload}:\n{table(columns, cells)}"


def format_digest_table(digest: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    """The table of the Digest pairs: ours / aiohttp's per workload, and both CPU times."""
    columns = [
        ("workload", "<11"),
        ("pair", f"<{max(9, *(len(label) for rows in digest.values() for label in rows))}"),
        ("ours/aiohttp", ">12"),
        ("IQR", ">11"),
        ("best", ">6"),
        (f"rounds >= {DIGEST_TARGET}", ">13"),
        ("CPU µs ours", ">11"),
        ("aiohttp", ">8"),
        ("saved", ">6"),
    ]
    cells = [
        (
            workload,
            label,
            f"{row['ratio']:.3f}",
            _iqr(row),
            f"{row['best_ratio']:.3f}",
            f"{row['rounds_at_target']:>7}/{row['rounds']:<5}",
            f"{row['ours_cpu_us']:.1f}",
            f"{row['theirs_cpu_us']:.1f}",
            f"{row['cpu_saved_us']:.1f}",
        )
        for workload, rows in digest.items()
        for label, row in rows.items()
    ]
    return table(columns, cells)


def format_401_table(variants: Mapping[str, Mapping[str, Any]], references: frozenset[str]) -> str:
    """The 401s the server sent each Digest variant of ours and aiohttp's (no reference)."""
    counted = {
        name: row
        for name, row in variants.items()
        if "server_401s" in row and name not in references
    }
    columns = [
        ("variant", f"<{max(22, *(len(name) for name in counted))}"),
        ("requests", ">9"),
        ("401s", ">5"),
        ("answered", ">9"),
        ("cold burst 401s", ">16"),
    ]
    cells = [
        (
            name,
            f"{row['requests_sent']:,}",
            str(row["server_401s"]),
            f"{row['server_answered']:,}",
            str(row.get("cold_burst_401s", "-")),
        )
        for name, row in counted.items()
    ]
    return table(columns, cells)


def format_per_call_table(
    per_call: Mapping[str, Mapping[str, float]], bare_cpu_us: float | None
) -> str:
    """Each chain's time per call without network, and its share of a real request's CPU."""
    columns = [
        ("variant", f"<{max(22, *(len(name) for name in per_call))}"),
        ("ns/call", ">8"),
        ("Δ ns", ">7"),
        ("Δ / bare seq. CPU per request", ">30"),
    ]
    cells = [
        (
            name,
            f"{row['ns_per_call']:.0f}",
            f"{row['overhead_ns']:+.0f}",
            f"{row['overhead_ns'] / 1e3 / bare_cpu_us:.2%}" if bare_cpu_us else "-",
        )
        for name, row in per_call.items()
    ]
    return table(columns, cells)


def verdicts(
    summary: Mapping[str, Mapping[str, Mapping[str, float]]], catalogue: Catalogue
) -> list[str]:
    """One line per variant held to the overhead target (no reference, no Digest) and workload."""
    lines = []
    for workload, rows in summary.items():
        for name, row in rows.items():
            if name in catalogue.references or name in catalogue.routes:
                continue
            verdict = "meets" if row["ratio"] >= OVERHEAD_TARGET else "MISSES"
            lines.append(
                f"{workload:>10} {name:<20} ratio {row['ratio']:.3f}: {verdict} the "
                f">= {OVERHEAD_TARGET} (<= 3 % overhead) target; client CPU "
                f"{row['cpu_overhead_pct']:+.1f} %"
            )
    return lines


def digest_verdicts(
    digest: Mapping[str, Mapping[str, Mapping[str, Any]]],
    variants: Mapping[str, Any],
    references: frozenset[str],
) -> list[str]:
    """One line per Digest pair and workload (the 1.1x target), one per 401 count of ours."""
    lines = []
    for workload, rows in digest.items():
        for label, row in rows.items():
            if row["ours"] in references:
                continue
            verdict = "meets" if row["ratio"] >= DIGEST_TARGET else "MISSES"
            # The ceiling: what a Digest middleware doing no work at all reaches in this run.
            ceiling = rows.get(f"{label.split(',')[0]}, precomputed header")
            lines.append(
                f"{workload:>10} Digest {label:<26} ours / aiohttp's {row['ratio']:.3f}: "
                f"{verdict} the >= {DIGEST_TARGET}x target"
                + (
                    ""
                    if ceiling is None
                    else f" (ceiling, precomputed header: {ceiling['ratio']:.3f})"
                )
            )
    for name, row in variants.items():
        if name.endswith(f"({DIGEST_OURS})") and "server_401s" in row:
            cold = row.get("cold_burst_401s")
            ok = row["server_401s"] == 1 and cold in (None, 1)
            lines.append(
                f"{name}: {row['server_401s']} 401 in {row['requests_sent']:,} requests"
                + ("" if cold is None else f", {cold} in a cold burst")
                + f" to one protection space: {'meets' if ok else 'MISSES'} the "
                "one-401-per-space target"
            )
    return lines
