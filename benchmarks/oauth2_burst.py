"""OAuth 2, single flight: a burst of first requests through a middleware with no token yet.

``--burst`` (10,000) concurrent requests go through a fresh ``OAuth2Middleware``
(client credentials grant) to the authorization server's protected resource,
which looks every token up. Reported: how many token requests the server
answered (the target is exactly 1), the statuses the caller got, and the wall
time, next to the same burst with the token already in hand (a static
``BearerAuthMiddleware``). Each repeat has a fresh middleware and counts its
own token requests.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

import aiohttp
from oauth2_clients import aiohttp_session
from oauth2_server import (
    CLIENT_SECRET,
    ONE_HOUR,
    Ports,
    fetch_token,
    reset_server,
    server_stats,
)

import aiohttp_auth as aa
from aiohttp_auth.oauth2.grants import ClientCredentials


async def _burst(session: aiohttp.ClientSession, url: str, requests: int) -> dict[str, Any]:
    statuses: Counter[int] = Counter()
    first: list[float] = []

    async def one() -> None:
        async with session.get(url) as response:
            await response.read()
            statuses[response.status] += 1
            if not first:
                first.append(time.perf_counter())

    gc.collect()
    start = time.perf_counter()
    outcomes = await asyncio.gather(*(one() for _ in range(requests)), return_exceptions=True)
    wall = time.perf_counter() - start
    errors = Counter(type(outcome).__name__ for outcome in outcomes if outcome is not None)
    return {
        "wall_s": wall,
        "first_response_s": first[0] - start if first else None,
        "statuses": {str(status): n for status, n in sorted(statuses.items())},
        "errors": dict(errors),
    }


async def _cold_and_warm_burst(
    control: aiohttp.ClientSession, ports: Ports, *, requests: int, pool: int
) -> dict[str, Any]:
    url = ports.as_url("/resource/burst")
    await reset_server(control, ports, ONE_HOUR)
    grant = ClientCredentials(ports.as_url("/token"), "burst-ours", CLIENT_SECRET)
    middleware = aa.OAuth2Middleware(grant)
    async with aiohttp_session(pool, (middleware,)) as session:
        cold = await _burst(session, url, requests)
        token = await middleware.get_token(session)
    stats = await server_stats(control, ports)
    # The same burst from a new session with the token in hand: the requests alone.
    async with aiohttp_session(pool, (aa.BearerAuthMiddleware(token.access_token),)) as session:
        warm = await _burst(session, url, requests)
    return {
        "token_requests": stats["token_calls"].get("burst-ours", 0),
        "token_requests_all_clients": stats["token_calls_total"],
        "server_resource_statuses": stats["resource_statuses"],
        "cold": cold,
        "token_in_hand": warm,
    }


async def measure_burst(ports: Ports, *, requests: int, pool: int, repeats: int) -> dict[str, Any]:
    """Send *requests* concurrent first requests through a middleware without a token.

    Each repeat has a fresh middleware and counts its own token requests; then
    the same burst runs with the token in hand. An untimed burst first warms
    up both processes, which would otherwise make the first timed burst slower.
    """
    async with aiohttp.ClientSession() as control:
        token = await fetch_token(control, ports, "burst-ours")
        async with aiohttp_session(pool, (aa.BearerAuthMiddleware(token),)) as session:
            await _burst(session, ports.as_url("/resource/burst"), min(requests, 2000))
        runs = [
            await _cold_and_warm_burst(control, ports, requests=requests, pool=pool)
            for _ in range(repeats)
        ]
    return {
        "requests": requests,
        "pool": pool,
        "runs": runs,
        "token_requests": [run["token_requests"] for run in runs],
        "cold_wall_s": statistics.median(run["cold"]["wall_s"] for run in runs),
        "token_in_hand_wall_s": statistics.median(run["token_in_hand"]["wall_s"] for run in runs),
    }


def format_burst(burst: Mapping[str, Any]) -> str:
    runs = burst["runs"]
    ok = all(
        run["token_requests"] == 1 and set(run["cold"]["statuses"]) == {"200"} for run in runs
    ) and not any(run["cold"]["errors"] for run in runs)
    lines = [
        f"{burst['requests']:,} concurrent requests through a new middleware with no token yet "
        f"(pool {burst['pool']}), {len(runs)} times:"
    ]
    for index, run in enumerate(runs, 1):
        cold, warm = run["cold"], run["token_in_hand"]
        lines.append(
            f"  #{index}: {run['token_requests']} token request(s); caller saw "
            f"{cold['statuses']}, errors {cold['errors'] or 'none'}; wall {cold['wall_s']:.2f} s "
            f"(first response after {cold['first_response_s'] * 1e3:.0f} ms); with the token "
            f"in hand {warm['wall_s']:.2f} s ({warm['first_response_s'] * 1e3:.0f} ms)"
        )
    lines.append(
        f"  median wall: {burst['cold_wall_s']:.2f} s from no token, "
        f"{burst['token_in_hand_wall_s']:.2f} s with the token in hand"
    )
    lines.append(f"  {'meets' if ok else 'MISSES'} the exactly-one-token-request target")
    return "\n".join(lines)
