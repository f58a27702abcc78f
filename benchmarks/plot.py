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

import matplotlib

matplotlib.use("Agg")  # no display: write files only

import matplotlib.pyplot as plt

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "img" / "benchmarks.png"
COLOURS = {"sequential": "#4c72b0", "concurrent": "#dd8452"}


def _static_panel(ax: Any, result: Mapping[str, Any], names: list[str]) -> None:
    workloads: Mapping[str, Mapping[str, Mapping[str, float]]] = result["workloads"]
    width = 0.8 / len(workloads)
    lowest, highest = 1.0, 1.0
    for index, (workload, rows) in enumerate(workloads.items()):
        ratios = [rows[name]["ratio"] for name in names]
        below = [rows[name]["ratio"] - rows[name]["ratio_q1"] for name in names]
        above = [rows[name]["ratio_q3"] - rows[name]["ratio"] for name in names]
        positions = [i + (index - (len(workloads) - 1) / 2) * width for i in range(len(names))]
        bars = ax.bar(
            positions,
            ratios,
            width,
            yerr=[below, above],
            capsize=3,
            label=workload,
            color=COLOURS.get(workload),
        )
        ax.bar_label(bars, labels=[f"{ratio:.3f}" for ratio in ratios], fontsize=6, padding=2)
        lowest = min(lowest, *(rows[name]["ratio_q1"] for name in names))
        highest = max(highest, *(rows[name]["ratio_q3"] for name in names))
    ax.axhline(1.0, color="black", linewidth=1, label="bare aiohttp (1.0)")
    target = result.get("overhead_target", 0.97)
    ax.axhline(target, color="#c44e52", linestyle="--", linewidth=1, label=f"target ({target})")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=25, ha="right")
    references = set(result.get("references", ()))
    for label in ax.get_xticklabels():
        if label.get_text() in references:  # not subject to the target
            label.set_color("dimgray")
            label.set_style("italic")
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
    width = 0.8 / len(digest)
    highest = 1.0
    for index, (workload, rows) in enumerate(digest.items()):
        ratios = [rows[label]["ratio"] for label in labels]
        below = [rows[label]["ratio"] - rows[label]["ratio_q1"] for label in labels]
        above = [rows[label]["ratio_q3"] - rows[label]["ratio"] for label in labels]
        positions = [i + (index - (len(digest) - 1) / 2) * width for i in range(len(labels))]
        bars = ax.bar(
            positions,
            ratios,
            width,
            yerr=[below, above],
            capsize=3,
            label=workload,
            color=COLOURS.get(workload),
        )
        ax.bar_label(bars, labels=[f"{ratio:.3f}" for ratio in ratios], fontsize=6, padding=2)
        highest = max(highest, *(rows[label]["ratio_q3"] for label in labels))
    ax.axhline(1.0, color="black", linewidth=1, label="as fast as aiohttp's (1.0)")
    target = result.get("digest_target", 1.1)
    ax.axhline(target, color="#c44e52", linestyle="--", linewidth=1, label=f"target ({target})")
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
    for label, tick in zip(labels, ax.get_xticklabels(), strict=True):
        if result["digest_pairs"][label][0] in references:  # the ceiling, not a target
            tick.set_color("dimgray")
            tick.set_style("italic")
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
    if has_digest:
        fig, (top, bottom) = plt.subplots(
            2, 1, figsize=(width, 9.5), dpi=120, height_ratios=(1.1, 1.0)
        )
        _static_panel(top, result, names)
        _digest_panel(bottom, result)
    else:
        fig, ax = plt.subplots(figsize=(width, 4.8), dpi=120)
        _static_panel(ax, result, names)
    fig.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="JSON written by run.py --output-json")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    plot_results(json.loads(args.results.read_text()), args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
