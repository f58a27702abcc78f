"""What the benchmark charts share: matplotlib without a display, grouped ratio bars.

``plot.py`` (``run.py``'s chart) and ``oauth2_plot.py`` draw the same kind of
panel: per variant, one bar per workload, each the median paired ratio with
its interquartile range as an error bar, a line at 1.0 and a dashed line at
the target, and reference rows' names in grey italics.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

#: The colour of each workload's bars.
COLOURS = {"sequential": "#4c72b0", "concurrent": "#dd8452"}


def pyplot() -> Any:
    """Return ``matplotlib.pyplot`` on the Agg backend (no display: write files only)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def grouped_bars(
    ax: Any,
    groups: Mapping[str, Sequence[Mapping[str, float]]],
    *,
    fontsize: int,
    labels: Mapping[str, str] | None = None,
) -> None:
    """Draw one bar per workload at each position: the median with its IQR, labelled.

    Args:
        ax: the matplotlib axes.
        groups: workload -> one ``{"median", "q1", "q3"}`` per position.
        fontsize: of the value printed on each bar.
        labels: workload -> its legend label (default: the workload's name).
    """
    width = 0.8 / len(groups)
    for index, (workload, spreads) in enumerate(groups.items()):
        medians = [spread["median"] for spread in spreads]
        below = [spread["median"] - spread["q1"] for spread in spreads]
        above = [spread["q3"] - spread["median"] for spread in spreads]
        positions = [i + (index - (len(groups) - 1) / 2) * width for i in range(len(spreads))]
        bars = ax.bar(
            positions,
            medians,
            width,
            yerr=[below, above],
            capsize=3,
            label=(labels or {}).get(workload, workload),
            color=COLOURS.get(workload),
        )
        ax.bar_label(bars, labels=[f"{m:.3f}" for m in medians], fontsize=fontsize, padding=2)


def level_lines(ax: Any, *, one: str, target: float, target_label: str) -> None:
    """Draw the line at 1.0 (labelled *one*) and the dashed line at *target*."""
    ax.axhline(1.0, color="black", linewidth=1, label=one)
    ax.axhline(target, color="#c44e52", linestyle="--", linewidth=1, label=target_label)


def grey_out(ticks: Iterable[Any]) -> None:
    """Set tick labels in grey italics: reference rows, not held to the target."""
    for tick in ticks:
        tick.set_color("dimgray")
        tick.set_style("italic")


def save(fig: Any, output: Path) -> None:
    """Lay *fig* out, write it to *output* (creating its folder) and close it."""
    fig.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output)
    pyplot().close(fig)
