"""OAuth 2, steady state: keep-alive throughput with a warm token, ours and two other clients.

Sequential and with ``--concurrency`` (50) requests in flight, in the
interleaved rounds of ``harness.py`` (as in ``run.py``): ``OAuth2Middleware``
against a static ``BearerAuthMiddleware`` and bare aiohttp, and httpx with
httpx-auth's ``OAuth2ClientCredentials`` and Authlib's ``AsyncOAuth2Client``
against bare httpx, all on the same server: ``GET /bearer`` on a resource port
that checks only that ``Authorization`` starts with ``Bearer `` (``/open`` for
the bare clients). Each client obtains one token before timing starts and,
with a one-hour lifetime, no other. Ratios are medians over rounds of paired
per-round ratios. The target: ours >= :data:`STEADY_TARGET` of the static
Bearer middleware.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from harness import (
    Block,
    RoundPlan,
    Samples,
    interleaved_rounds,
    paired,
    pinned,
    table,
    warm_up,
)
from oauth2_clients import (
    BARE_HTTPX,
    BASELINE,
    OURS,
    STATIC,
    THIRD_PARTY,
    TOKEN_CLIENTS,
    VARIANTS,
    Client,
    Setup,
    Variant,
)
from oauth2_server import ONE_HOUR, Ports, fetch_token, reset_server, server_stats

#: The steady-state target: ours / static Bearer throughput.
STEADY_TARGET = 0.97
#: What the issue measured for httpx-auth and Authlib, as ratios to bare aiohttp.
ISSUE_THIRD_PARTY = {"sequential": "0.20-0.26", "concurrent": "~0.04"}


async def _check_tokens(ports: Ports, clients: Mapping[str, Client]) -> None:
    """Send each token-sending variant's first request where the server verifies the token."""
    for name, client in clients.items():
        if VARIANTS[name].path == "/bearer":
            try:
                await client.get(ports.resource_url("/verified-bearer"))
            except RuntimeError as error:
                raise RuntimeError(f"{name} sent no valid token: {error}") from None


async def measure_steady(
    ports: Ports,
    variants: Mapping[str, Variant],
    plan: RoundPlan,
    third_party_requests: int,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """Run the interleaved rounds; return per-round samples and the token requests made.

    The aiohttp clients run blocks of ``plan.requests``, the httpx-based ones
    blocks of *third_party_requests*.
    """
    rounds, requests, concurrency = plan
    block = {"aiohttp": requests, "httpx": third_party_requests}
    clients: dict[str, Client] = {}

    def after_round(done: int, samples: Samples) -> None:
        bare = samples["sequential"][BASELINE]["rps"][-1]
        progress(f"round {done}/{rounds} (bare sequential {bare:,.0f} req/s)")

    async with aiohttp.ClientSession() as control:
        await reset_server(control, ports, ONE_HOUR)
        setup = Setup(ports, concurrency, await fetch_token(control, ports, "steady-static"))
        try:
            for name, variant in variants.items():
                clients[name] = await variant.make(setup)
            await _check_tokens(ports, clients)
            blocks = {
                name: Block(
                    clients[name].get,
                    ports.resource_url(variant.path),
                    block[variant.family],
                )
                for name, variant in variants.items()
            }
            for timed in blocks.values():
                await warm_up(timed, concurrency)
            samples = await interleaved_rounds(blocks, plan, after_round)
        finally:
            for client in clients.values():
                await client.close()
        stats = await server_stats(control, ports)
    token_requests = {
        name: stats["token_calls"].get(client_id, 0)
        for name, client_id in TOKEN_CLIENTS.items()
        if name in variants
    }
    return {"samples": samples, "token_requests": token_requests, "block_sizes": block}


def summarise_steady(samples: Samples) -> Any:
    """Medians, and per-round paired ratios to bare aiohttp, the static Bearer, bare httpx."""
    summary: dict[str, dict[str, dict[str, Any]]] = {}
    for workload, by_name in samples.items():
        bare = by_name[BASELINE]
        rows = {}
        for name, series in by_name.items():
            row: dict[str, Any] = {
                "median_rps": statistics.median(series["rps"]),
                "to_bare_aiohttp": paired(series["rps"], bare["rps"]),
                "best_to_bare_aiohttp": max(series["rps"]) / max(bare["rps"]),
                "cpu_us": statistics.median(series["cpu_us"]),
                "cpu_overhead_pct": (
                    statistics.median(series["cpu_us"]) / statistics.median(bare["cpu_us"]) - 1
                )
                * 100,
                "rps_samples": series["rps"],
                "cpu_us_samples": series["cpu_us"],
            }
            if STATIC in by_name and name in (OURS, STATIC, "header, no middleware"):
                row["to_static_bearer"] = paired(series["rps"], by_name[STATIC]["rps"])
                row["best_to_static_bearer"] = max(series["rps"]) / max(by_name[STATIC]["rps"])
            if BARE_HTTPX in by_name and name in THIRD_PARTY:
                row["to_bare_httpx"] = paired(series["rps"], by_name[BARE_HTTPX]["rps"])
            if OURS in by_name and name in THIRD_PARTY:
                row["ours_over_this"] = paired(by_name[OURS]["rps"], series["rps"])
            rows[name] = row
        summary[workload] = rows
    return summary


def format_steady(summary: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    """One table per workload: each client's req/s and its paired ratios (IQR)."""

    def ratio(row: Mapping[str, Any], key: str) -> str:
        if key not in row:
            return "-"
        r = row[key]
        return f"{r['median']:.3f} ({r['q1']:.3f}-{r['q3']:.3f})"

    columns = [
        ("variant", f"<{max(len(name) for rows in summary.values() for name in rows)}"),
        ("req/s", ">7"),
        ("÷ bare aiohttp (IQR)", ">22"),
        ("best", ">6"),
        ("÷ Bearer static (IQR)", ">22"),
        ("÷ bare httpx", ">22"),
        ("ours ÷ this", ">22"),
        ("CPU µs", ">7"),
        ("Δ CPU", ">7"),
    ]
    tables = []
    for workload, rows in summary.items():
        cells = [
            (
                name,
                f"{row['median_rps']:,.0f}",
                ratio(row, "to_bare_aiohttp"),
                f"{row['best_to_bare_aiohttp']:.3f}",
                ratio(row, "to_static_bearer"),
                ratio(row, "to_bare_httpx"),
                ratio(row, "ours_over_this"),
                f"{row['cpu_us']:.1f}",
                f"{row['cpu_overhead_pct']:+.1f}%",
            )
            for name, row in rows.items()
        ]
        tables.append(f"{workload}:\n{table(columns, cells)}")
    return "\n\n".join(tables)


def steady_verdicts(summary: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> list[str]:
    lines = []
    for workload, rows in summary.items():
        if OURS in rows and "to_static_bearer" in rows[OURS]:
            ours = rows[OURS]["to_static_bearer"]["median"]
            lines.append(
                f"{workload:>10} OAuth2Middleware / Bearer (static) {ours:.3f}: "
                f"{'meets' if ours >= STEADY_TARGET else 'MISSES'} the >= {STEADY_TARGET} target"
            )
        if OURS in rows:
            bare = rows[OURS]["to_bare_aiohttp"]["median"]
            lines.append(
                f"{workload:>10} OAuth2Middleware / bare aiohttp {bare:.3f} "
                f"({'within' if bare >= STEADY_TARGET else 'NOT within'} 3 % of bare aiohttp)"
            )
        for name in THIRD_PARTY:
            if name in rows:
                lines.append(
                    f"{workload:>10} {name} / bare aiohttp "
                    f"{rows[name]['to_bare_aiohttp']['median']:.3f} (the issue measured "
                    f"{ISSUE_THIRD_PARTY[workload]}); ours is "
                    f"{rows[name].get('ours_over_this', {}).get('median', float('nan')):.1f}x"
                )
    return lines


def run_steady(
    args: argparse.Namespace,
    ports: Ports,
    variants: Mapping[str, Variant],
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Pin, run the rounds ``oauth2.py``'s options ask for, print the tables; return the record."""
    with pinned(args.pin, ports.pid) as placement:
        log(f"steady state: {len(variants)} variants x {args.rounds} rounds; {placement}")
        plan = RoundPlan.from_args(args)
        measured = asyncio.run(
            measure_steady(ports, variants, plan, args.third_party_requests, progress=log)
        )
    summary = summarise_steady(measured["samples"])
    print()
    print(format_steady(summary))
    print(
        "\nratios: median over rounds of the paired per-round ratio (IQR in brackets); "
        "best: fastest block / bare aiohttp's fastest;\nCPU µs: client CPU per request; "
        f"Δ CPU: vs bare aiohttp's. Block sizes: {measured['block_sizes']}. "
        f"Token requests during the whole steady-state run: {measured['token_requests']}"
    )
    print("\n".join(steady_verdicts(summary)), flush=True)
    return {
        "placement": placement,
        "summary": summary,
        "token_requests": measured["token_requests"],
        "block_sizes": measured["block_sizes"],
        "references": [name for name in variants if VARIANTS[name].reference],
    }
