"""Draw the OAuth 2 benchmark's chart: steady-state ratios and the sustained run's tokens.

Upper panels (when the run has a steady state): the paired ratio to bare
aiohttp of each client, per workload, with its IQR; on the left the aiohttp
clients, zoomed, with the OAuth2Middleware / Bearer (static) ratio in the
title; on the right every client. Lower panel (when the run has sustained
runs): the token requests the server answered over time in each run, against
``t / lifetime`` and the refresh interval the leeway predicts.

``oauth2.py --plot PATH`` calls :func:`plot_results`;
``oauth2.py --replot JSON --plot PATH`` redraws it from a saved result.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from charts import grey_out, grouped_bars, level_lines, pyplot, save
from oauth2_clients import BASELINE, OURS, VARIANTS
from oauth2_steady import STEADY_TARGET
from oauth2_sustained import SAMPLE_INTERVAL


def plot_results(result: Mapping[str, Any], output: Path) -> None:
    """Draw the steady-state ratios and the sustained run's token requests to *output*."""
    layout = []
    if result.get("steady"):
        layout.append(["aiohttp", "all"])
    if result.get("sustained"):
        layout.append(["sustained", "sustained"])
    if not layout:
        return
    fig, axes = pyplot().subplot_mosaic(layout, figsize=(13, 5.2 * len(layout)), dpi=110)
    if result.get("steady"):
        rows = next(iter(result["steady"]["summary"].values()))
        names = [name for name in rows if name != BASELINE]
        aiohttp_names = [name for name in names if VARIANTS[name].family == "aiohttp"]
        _steady_panel(axes["aiohttp"], result, aiohttp_names, zoom=True)
        _steady_panel(axes["all"], result, names, zoom=False)
    if result.get("sustained"):
        _sustained_panel(axes["sustained"], result)
    save(fig, output)


def _steady_panel(ax: Any, result: Mapping[str, Any], names: list[str], *, zoom: bool) -> None:
    summary = result["steady"]["summary"]
    quartiles = [rows[name]["to_bare_aiohttp"] for rows in summary.values() for name in names]
    grouped_bars(
        ax,
        {
            workload: [rows[name]["to_bare_aiohttp"] for name in names]
            for workload, rows in summary.items()
        },
        fontsize=7,
        labels={"concurrent": f"{result['settings']['concurrency']} in flight"},
    )
    level_lines(ax, one="bare aiohttp (1.0)", target=STEADY_TARGET, target_label="0.97")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=15, ha="right", fontsize=8)
    grey_out(tick for tick in ax.get_xticklabels() if VARIANTS[tick.get_text()].reference)
    highest = max(q["q3"] for q in quartiles)
    if zoom:
        lowest = min(q["q1"] for q in quartiles)
        ax.set_ylim(min(0.85, lowest - 0.03), max(1.1, highest + 0.04) + 0.05)
        versus_static = ", ".join(
            f"{workload} {rows[OURS]['to_static_bearer']['median']:.3f}"
            for workload, rows in summary.items()
            if "to_static_bearer" in rows.get(OURS, {})
        )
        ax.set_title(
            f"aiohttp, zoomed. OAuth2Middleware / Bearer (static): {versus_static}", fontsize=9
        )
        ax.legend(loc="upper center", ncol=4, fontsize=7)
    else:
        ax.set_ylim(0, max(1.15, highest + 0.08))
        ax.set_title("every client, on the same server and workloads", fontsize=9)
    ax.set_ylabel("throughput / bare aiohttp\n(paired per round: median, IQR)")


def _sustained_panel(ax: Any, result: Mapping[str, Any]) -> None:
    predicted: set[float] = set()
    colours = ("#4c72b0", "#55a868", "#c44e52", "#8172b3")
    for run, colour in zip(result["sustained"], colours, strict=False):
        times = [0.0] + [point["t"] for point in run["timeline"]]
        tokens = [0] + [point["token_requests"] for point in run["timeline"]]
        caller_401 = run["caller_statuses"].get("401", 0)
        ax.step(
            times,
            tokens,
            where="post",
            color=colour,
            label=f"leeway {run['leeway_s']:g} s, pool {run['pool']}: "
            f"{run['token_requests']} token requests, {caller_401} 401s to the caller",
        )
        interval = run["refresh_interval_s"]
        if interval not in predicted:
            predicted.add(interval)
            ax.plot(
                [0, run["duration_s"]],
                [1, 1 + run["duration_s"] / interval],
                color=colour,
                linestyle=":",
                linewidth=1,
                label=f"1 + t / {interval:g} s (refresh every lifetime - leeway)",
            )
    run = result["sustained"][0]
    ax.plot(
        [0, run["duration_s"]],
        [0, run["duration_s"] / run["lifetime_s"]],
        color="black",
        linestyle="--",
        linewidth=1,
        label=f"t / lifetime ({run['lifetime_s']:g} s)",
    )
    ax.set_xlabel("seconds")
    ax.set_ylabel(f"token requests answered\n(server count every {SAMPLE_INTERVAL:g} s)")
    ax.set_title(
        f"Sustained load: {run['concurrency']} requests in flight, tokens living "
        f"{run['lifetime_s']:g} s",
        fontsize=10,
    )
    ax.legend(loc="upper left", fontsize=8)
