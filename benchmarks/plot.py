"""Draw the benchmark chart: throughput ratio to bare aiohttp per variant, and Digest.

The first panel is a grouped bar chart, one group per variant and one bar per
workload (sequential, concurrent), each bar the median paired ratio
``variant req/s / bare req/s`` with its interquartile range as an error bar. A
line at 1.0 marks bare aiohttp and one at 0.97 the 3 % overhead target.

When the run has Digest pairs, they are left out of the first panel (their
ratios to bare aiohttp, 0.6 to 0.9, would squash its scale) and a second panel
shows, per pair and workload, the median paired ratio
``aiohttp_auth req/s / aiohttp req/s`` with its IQR and the 1.1 target; the
tick labels give both middlewares' ratios to bare aiohttp.

Usage: ``python benchmarks/plot.py RESULTS.json [-o docs/img/benchmarks.png]``
(``run.py --plot PATH`` calls :func:`plot_results` directly).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from charts import grey_out, grouped_bars, level_lines, pyplot, save

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "img" / "benchmarks.png"


def _spread(row: Mapping[str, Any]) -> dict[str, float]:
    return {"median": row["ratio"], "q1": row["ratio_q1"], "q3": row["ratio_q3"]}


def _static_panel(ax: Any, result: Mapping[str, Any], names: list[str]) -> None:
    workloads: Mapping[str, Mapping[str, Mapping[str, float]]] = result["workloads"]
    groups = {
        workload: [_spread(rows[name]) for name in names] for workload, rows in workloads.items()
    }
    grouped_bars(ax, groups, fontsize=6)
    lowest = min(1.0, *(spread["q1"] for spreads in groups.values() for spread in spreads))
    highest = max(1.0, *(spread["q3"] for spreads in groups.values() for spread in spreads))
    target = result.get("overhead_target", 0.97)
    level_lines(ax, one="bare aiohttp (1.0)", target=target, target_label=f"target ({target})")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=25, ha="right")
    references = set(result.get("references", ()))
    # Reference rows are not subject to the target.
    grey_out(label for label in ax.get_xticklabels() if label.get_text() in references)
    ax.set_ylabel("throughput / bare aiohttp (median, IQR)")
    # Zoom in on the interesting range, but never hide a bar that falls below it.
    ax.set_ylim(min(0.85, lowest - 0.02), max(1.05, highest + 0.03))
    machine = result["machine"]
    settings = result["settings"]
    ax.set_title(
        f"aiohttp_auth middlewares vs bare aiohttp {machine['aiohttp']} "
        f"(keep-alive, loopback; {settings['rounds']} rounds, "
        f"concurrency {settings['concurrency']})",
        fontsize=10,
    )
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)


def _digest_panel(ax: Any, result: Mapping[str, Any]) -> None:
    digest: Mapping[str, Mapping[str, Mapping[str, Any]]] = result["digest"]
    workloads = result["workloads"]
    labels = list(next(iter(digest.values())))
    groups = {
        workload: [_spread(rows[label]) for label in labels] for workload, rows in digest.items()
    }
    grouped_bars(ax, groups, fontsize=6)
    highest = max(1.0, *(spread["q3"] for spreads in groups.values() for spread in spreads))
    target = result.get("digest_target", 1.1)
    level_lines(
        ax, one="as fast as aiohttp's (1.0)", target=target, target_label=f"target ({target})"
    )
    ticks = []
    for label in labels:
        ours, theirs = result["digest_pairs"][label]
        versus_bare = "\n".join(
            f"{w}: {workloads[w][ours]['ratio']:.2f} / {workloads[w][theirs]['ratio']:.2f}"
            for w in digest
        )
        ticks.append(f"Digest {label}\nvs bare, this / aiohttp's:\n{versus_bare}")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(ticks, fontsize=7)
    references = set(result.get("references", ()))
    # A reference pair shows the ceiling: it is not held to the target.
    grey_out(
        tick
        for label, tick in zip(labels, ax.get_xticklabels(), strict=True)
        if result["digest_pairs"][label][0] in references
    )
    ax.set_ylabel("aiohttp_auth / aiohttp req/s\n(paired per round, median, IQR)")
    ax.set_ylim(0.9, max(1.25, highest + 0.05))
    ax.set_title(
        "Digest, warm protection space: aiohttp_auth.DigestAuthMiddleware vs "
        "aiohttp.DigestAuthMiddleware(preemptive=True)",
        fontsize=10,
    )
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)


def plot_results(result: Mapping[str, Any], output: Path) -> None:
    """Write the chart for a ``run.py --output-json`` result to *output* (PNG)."""
    workloads: Mapping[str, Mapping[str, Mapping[str, float]]] = result["workloads"]
    baseline = result["baseline"]
    digest_names = {name for pair in result.get("digest_pairs", {}).values() for name in pair}
    names = [
        name
        for name in next(iter(workloads.values()))
        if name != baseline and name not in digest_names
    ]
    has_digest = bool(result.get("digest"))
    width = max(8.0, 1.1 * len(names) + 3)
    plt = pyplot()
    if has_digest:
        fig, (top, bottom) = plt.subplots(
            2, 1, figsize=(width, 9.5), dpi=120, height_ratios=(1.1, 1.0)
        )
        _static_panel(top, result, names)
        _digest_panel(bottom, result)
    else:
        fig, ax = plt.subplots(figsize=(width, 4.8), dpi=120)
        _static_panel(ax, result, names)
    save(fig, output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="JSON written by run.py --output-json")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    plot_results(json.loads(args.results.read_text()), args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
