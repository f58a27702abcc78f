"""OAuth 2, sustained refresh: tokens expiring every few seconds under constant load.

Tokens live ``--lifetime`` (2) seconds, and ``--sustained-concurrency`` (200)
workers send requests back to back for ``--sustained-seconds`` (25) through one
``OAuth2Middleware``. Reported: the statuses the caller got (the target is no
401), the 401s the resource server sent (a 401 the middleware absorbed by
refreshing and resending shows there and not at the caller), the token
requests against ``duration / lifetime`` and against what the leeway predicts,
the latency percentiles, and a timeline of the server's counters sampled every
:data:`SAMPLE_INTERVAL` seconds (the chart's lower panel).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from oauth2_clients import aiohttp_session
from oauth2_server import CLIENT_SECRET, ONE_HOUR, Ports, reset_server, server_stats

import aiohttp_auth as aa
from aiohttp_auth.oauth2.grants import ClientCredentials

SAMPLE_INTERVAL = 0.25


async def measure_sustained(
    ports: Ports,
    *,
    lifetime: float,
    seconds: float,
    concurrency: int,
    pool: int,
    leeway: float,
    label: str,
) -> dict[str, Any]:
    """Keep *concurrency* requests in flight for *seconds* with tokens living *lifetime*."""
    client_id = "sustained-ours"
    url = ports.as_url("/resource/sustained")
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    timeline: list[dict[str, float]] = []
    latencies: list[float] = []
    async with aiohttp.ClientSession() as control:
        await reset_server(control, ports, lifetime)
        grant = ClientCredentials(ports.as_url("/token"), client_id, CLIENT_SECRET)
        middleware = aa.OAuth2Middleware(grant, leeway=leeway)
        async with aiohttp_session(pool, (middleware,)) as session:
            start = time.monotonic()
            deadline = start + seconds

            async def worker() -> None:
                while (sent := time.monotonic()) < deadline:
                    try:
                        async with session.get(url) as response:
                            await response.read()
                            statuses[response.status] += 1
                    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                        errors[type(error).__name__] += 1
                    latencies.append(time.monotonic() - sent)

            async def sample() -> None:
                while time.monotonic() < deadline:
                    await asyncio.sleep(SAMPLE_INTERVAL)
                    stats = await server_stats(control, ports)
                    timeline.append(
                        {
                            "t": time.monotonic() - start,
                            "token_requests": stats["token_calls"].get(client_id, 0),
                            "server_401s": stats["resource_statuses"].get("401", 0),
                            "answered": sum(statuses.values()),
                        }
                    )

            await asyncio.gather(sample(), *(worker() for _ in range(concurrency)))
            elapsed = time.monotonic() - start
        stats = await server_stats(control, ports)
        await reset_server(control, ports, ONE_HOUR)
    # Token.refresh_at: the margin is the leeway (up to 10 % more, at random),
    # capped at half the lifetime.
    interval = lifetime - min(leeway, lifetime / 2)
    token_requests = stats["token_calls"].get(client_id, 0)
    percentiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {
        "label": label,
        "lifetime_s": lifetime,
        "leeway_s": leeway,
        "concurrency": concurrency,
        "pool": pool,
        "duration_s": elapsed,
        "requests": sum(statuses.values()),
        "caller_statuses": {str(status): n for status, n in sorted(statuses.items())},
        "caller_errors": dict(errors),
        "server_resource_statuses": stats["resource_statuses"],
        "token_requests": token_requests,
        "token_requests_all": stats["token_calls_total"],
        "duration_over_lifetime": elapsed / lifetime,
        "refresh_interval_s": interval,
        "expected_by_leeway": 1 + elapsed / interval,
        # From the call to the body read, 401 retries and waits for a connection included.
        "latency_ms": {
            "p50": percentiles[49] * 1e3,
            "p99": percentiles[98] * 1e3,
            "max": max(latencies, default=0.0) * 1e3,
        },
        "timeline": timeline,
    }


def format_sustained(runs: list[Mapping[str, Any]]) -> str:
    lines = []
    for run in runs:
        caller_401 = run["caller_statuses"].get("401", 0)
        ok = caller_401 == 0 and not run["caller_errors"]
        lines += [
            f"{run['label']}: lifetime {run['lifetime_s']:g} s, leeway {run['leeway_s']:g} s, "
            f"{run['concurrency']} in flight (pool {run['pool']}) for {run['duration_s']:.1f} s, "
            f"{run['requests']:,} requests ({run['requests'] / run['duration_s']:,.0f} req/s); "
            f"latency p50 {run['latency_ms']['p50']:.0f} ms, p99 {run['latency_ms']['p99']:.0f} "
            f"ms, max {run['latency_ms']['max']:.0f} ms",
            f"  caller saw statuses {run['caller_statuses']}, errors "
            f"{run['caller_errors'] or 'none'}; the resource server sent "
            f"{run['server_resource_statuses']}",
            f"  token requests {run['token_requests']}: duration / lifetime = "
            f"{run['duration_over_lifetime']:.1f}; 1 + duration / refresh interval "
            f"({run['refresh_interval_s']:g} s) = {run['expected_by_leeway']:.1f}",
            f"  {'meets' if ok else 'MISSES'} the no-401-reaches-the-caller target",
        ]
    return "\n".join(lines)


def run_sustained(
    args: argparse.Namespace, ports: Ports, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Run the default-leeway, short-leeway and small-pool runs ``oauth2.py``'s options ask for."""
    runs = [
        ("default leeway", 30.0, args.sustained_pool),
        ("short leeway", args.short_leeway, args.sustained_pool),
    ]
    if args.small_pool:
        runs.append((f"default leeway, pool {args.small_pool}", 30.0, args.small_pool))
    results = []
    for label, leeway, pool in runs:
        log(f"sustained load, {label}, {args.sustained_seconds:g} s")
        results.append(
            asyncio.run(
                measure_sustained(
                    ports,
                    lifetime=args.lifetime,
                    seconds=args.sustained_seconds,
                    concurrency=args.sustained_concurrency,
                    pool=pool,
                    leeway=leeway,
                    label=label,
                )
            )
        )
    return results
