"""Draw the benchmark chart: throughput ratio to bare aiohttp per variant.

A grouped bar chart, one group per variant and one bar per workload (sequential,
concurrent), each bar the median paired ratio ``variant req/s / bare req/s``
with its interquartile range as an error bar. A line at 1.0 marks bare aiohttp
and one at 0.97 the 3 % overhead target.

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


def plot_results(result: Mapping[str, Any], output: Path) -> None:
    """Write the chart for a ``run.py --output-json`` result to *output* (PNG)."""
    workloads: Mapping[str, Mapping[str, Mapping[str, float]]] = result["workloads"]
    baseline = result["baseline"]
    names = [name for name in next(iter(workloads.values())) if name != baseline]
    width = 0.8 / len(workloads)
    fig, ax = plt.subplots(figsize=(max(8.0, 1.1 * len(names) + 3), 4.8), dpi=120)
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
