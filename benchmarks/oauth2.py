"""OAuth 2 benchmarks: single flight, refresh under load, and the steady-state cost.

Four measurements of ``OAuth2Middleware`` with the client credentials grant,
against the package's own authorization server running in a process of its
own (``oauth2_server.py``) on 127.0.0.1:

1. **Burst**: ``--burst`` (10,000) concurrent requests through a fresh
   middleware that has no token yet, to the authorization server's protected
   resource (which looks every token up). Reported: how many token requests the
   server answered (the target is exactly 1), the statuses the caller got, and
   the wall time, next to the same burst with the token already in hand
   (a static ``BearerAuthMiddleware``).
2. **Sustained refresh**: tokens living ``--lifetime`` (2) seconds, and
   ``--sustained-concurrency`` (200) workers sending requests back to back
   for ``--sustained-seconds`` (25), first with the default leeway (30 s,
   which the middleware caps at half the lifetime, so a token is replaced
   after 1 s) and with ``--short-leeway`` (0.25 s). Reported: the statuses the
   caller got (the target is no 401), the 401s the resource server sent (a
   401 the middleware absorbed by refreshing and resending shows there and
   not at the caller), and the token requests, against ``duration / lifetime``
   and against what the leeway predicts. The connection pool is as large as
   the concurrency (``--sustained-pool``): aiohttp runs client middlewares
   *before* it takes a connection from the pool, so with a smaller pool a
   request can wait for a connection after its token was set. A third run
   shows it: the default leeway with a pool of ``--small-pool`` (20)
   connections.
3. **Steady state**: keep-alive throughput, sequential and with
   ``--concurrency`` (50) requests in flight, in interleaved rounds as in
   ``run.py``, of ``OAuth2Middleware`` against a static
   ``BearerAuthMiddleware`` and bare aiohttp, and of httpx with httpx-auth's
   ``OAuth2ClientCredentials`` and Authlib's ``AsyncOAuth2Client`` against
   bare httpx, all on the same server: ``GET /bearer`` on a resource port that
   checks only that ``Authorization`` starts with ``Bearer `` (``/open`` for
   the bare clients). The token endpoint is the same authorization server;
   each client obtains one token before timing starts and, with a one-hour
   lifetime, no other. Ratios are medians over rounds of paired per-round
   ratios. The target: ours >= 0.97 of the static Bearer middleware.
4. **The chain alone**: the bare, static Bearer and OAuth2 chains timed
   without a network by ``per_call.py`` (a warm token), the least noisy
   measure of what OAuth2Middleware adds to a static Bearer middleware.

Benchmarks are never timed tests: nothing here fails on a slow number.

Usage: ``python benchmarks/oauth2.py [--quick] [--rounds R] [--pin same|split|none]
[--output-json PATH] [--plot PATH]``; ``--help`` lists every option.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.metadata
import json
import os
import signal
import statistics
import sys
import time
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp
from oauth2_server import CLIENT_SECRET, Ports, running_oauth2_server
from per_call import challenging_handler, measure_per_call
from run import machine, pinned
from server import KEEPALIVE_TIMEOUT

import aiohttp_auth as aa
from aiohttp_auth.oauth2.grants import ClientCredentials
from aiohttp_auth.oauth2.token import Token
from aiohttp_auth.stores import MemoryTokenStore

REQUEST_TIMEOUT = 60.0
#: The steady-state target: ours / static Bearer throughput.
STEADY_TARGET = 0.97
#: What the issue measured for httpx-auth and Authlib, as ratios to bare aiohttp.
ISSUE_THIRD_PARTY = {"sequential": "0.20-0.26", "concurrent": "~0.04"}
SAMPLE_INTERVAL = 0.25
ONE_HOUR = 3600.0

DEFAULTS: dict[str, Any] = {
    "rounds": 16,
    "requests": 1000,
    "third_party_requests": 200,
    "concurrency": 50,
    "burst": 10_000,
    "burst_pool": 100,
    "burst_repeats": 3,
    "lifetime": 2.0,
    "sustained_seconds": 25.0,
    "sustained_concurrency": 200,
    "short_leeway": 0.25,
}
QUICK: dict[str, Any] = {
    **DEFAULTS,
    "rounds": 3,
    "requests": 300,
    "third_party_requests": 60,
    "burst_repeats": 1,
    "sustained_seconds": 6.0,
}


# --------------------------------------------------------------------------- clients


class Client(NamedTuple):
    """One HTTP client under test: ``get(url)`` sends one request and reads the body."""

    get: Callable[[str], Awaitable[None]]
    close: Callable[[], Awaitable[None]]


def _aiohttp_session(pool: int, middlewares: tuple[Any, ...] = (), **options: Any) -> Any:
    connector = aiohttp.TCPConnector(limit=pool, keepalive_timeout=KEEPALIVE_TIMEOUT)
    return aiohttp.ClientSession(
        connector=connector,
        middlewares=middlewares,
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
        **options,
    )


def _aiohttp_client(pool: int, middlewares: tuple[Any, ...] = (), **options: Any) -> Client:
    session = _aiohttp_session(pool, middlewares, **options)

    async def get(url: str) -> None:
        async with session.get(url) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"{url} answered {response.status}")

    return Client(get, session.close)


def _httpx_client(client: Any) -> Client:
    async def get(url: str) -> None:
        response = await client.get(url)  # reads the body
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")

    return Client(get, client.aclose)


def _httpx_options(pool: int) -> dict[str, Any]:
    import httpx

    # httpx closes idle connections after 5 s by default; a variant idles
    # longer than that while the others run, and reconnecting is not what is measured.
    limits = httpx.Limits(
        max_connections=pool, max_keepalive_connections=pool, keepalive_expiry=KEEPALIVE_TIMEOUT
    )
    return {"limits": limits, "timeout": REQUEST_TIMEOUT}


class Setup(NamedTuple):
    """What a variant's factory needs."""

    ports: Ports
    pool: int
    static_token: str

    @property
    def token_url(self) -> str:
        return f"http://{self.ports.host}:{self.ports.authorization_server_port}/token"


async def _bare_httpx(setup: Setup) -> Client:
    import httpx

    return _httpx_client(httpx.AsyncClient(**_httpx_options(setup.pool)))


async def _httpx_auth(setup: Setup) -> Client:
    import httpx
    from httpx_auth import OAuth2ClientCredentials

    # Its first token request is a synchronous httpx.Client call (it blocks
    # the event loop); it is made during the untimed warm-up.
    auth = OAuth2ClientCredentials(
        setup.token_url, client_id="steady-httpx-auth", client_secret=CLIENT_SECRET
    )
    return _httpx_client(httpx.AsyncClient(auth=auth, **_httpx_options(setup.pool)))


async def _authlib(setup: Setup) -> Client:
    from authlib.deprecate import AuthlibDeprecationWarning

    with warnings.catch_warnings():
        # Authlib 1.9 warns on import that it uses httpx because httpx2 is not
        # installed. (Importing authlib.deprecate first: it turns the warning on.)
        warnings.simplefilter("ignore", AuthlibDeprecationWarning)
        from authlib.integrations.httpx_client import AsyncOAuth2Client

    client = AsyncOAuth2Client(
        "steady-authlib",
        CLIENT_SECRET,
        token_endpoint=setup.token_url,
        grant_type="client_credentials",
        **_httpx_options(setup.pool),
    )
    # It sends no request without a token; with token_endpoint and grant_type
    # it fetches the next one itself when this one is about to expire.
    await client.fetch_token(setup.token_url, grant_type="client_credentials")
    return _httpx_client(client)


async def _aiohttp_variant(setup: Setup, *middlewares: Any, **options: Any) -> Client:
    return _aiohttp_client(setup.pool, middlewares, **options)


class Variant(NamedTuple):
    """A client in the steady-state rounds."""

    make: Callable[[Setup], Awaitable[Client]]
    path: str  # its timed route on the resource port
    family: str  # "aiohttp" or "httpx": sets the block size
    reference: bool = False


BASELINE = "bare aiohttp"
STATIC = "Bearer (static)"
OURS = "OAuth2Middleware"
BARE_HTTPX = "bare httpx"
HTTPX_AUTH = "httpx + httpx-auth"
AUTHLIB = "Authlib AsyncOAuth2Client"
THIRD_PARTY = (HTTPX_AUTH, AUTHLIB)

VARIANTS: dict[str, Variant] = {
    BASELINE: Variant(lambda s: _aiohttp_variant(s), "/open", "aiohttp", reference=True),
    # Two identical bare sessions: how far apart they land is the noise floor.
    "bare aiohttp (A/A)": Variant(lambda s: _aiohttp_variant(s), "/open", "aiohttp", True),
    "header, no middleware": Variant(
        lambda s: _aiohttp_variant(s, headers={"Authorization": f"Bearer {s.static_token}"}),
        "/bearer",
        "aiohttp",
        reference=True,
    ),
    STATIC: Variant(
        lambda s: _aiohttp_variant(s, aa.BearerAuthMiddleware(s.static_token)),
        "/bearer",
        "aiohttp",
    ),
    OURS: Variant(
        lambda s: _aiohttp_variant(
            s, aa.OAuth2Middleware(ClientCredentials(s.token_url, "steady-ours", CLIENT_SECRET))
        ),
        "/bearer",
        "aiohttp",
    ),
    BARE_HTTPX: Variant(_bare_httpx, "/open", "httpx", reference=True),
    HTTPX_AUTH: Variant(_httpx_auth, "/bearer", "httpx"),
    AUTHLIB: Variant(_authlib, "/bearer", "httpx"),
}
#: The client each variant obtains its tokens as, on the authorization server.
TOKEN_CLIENTS = {OURS: "steady-ours", HTTPX_AUTH: "steady-httpx-auth", AUTHLIB: "steady-authlib"}


def available_variants() -> tuple[dict[str, Variant], list[str]]:
    """The variants whose libraries are installed, and notes on those that are not."""
    variants, missing = {}, []
    for name, variant in VARIANTS.items():
        needs = {BARE_HTTPX: "httpx", HTTPX_AUTH: "httpx_auth", AUTHLIB: "authlib"}.get(name)
        if needs is not None:
            try:
                __import__(needs)
            except ImportError:
                missing.append(f"{name}: {needs} is not installed")
                continue
        variants[name] = variant
    return variants, missing


# --------------------------------------------------------------------------- the server


def _resource_url(ports: Ports, path: str) -> str:
    return f"http://{ports.host}:{ports.resource_port}{path}"


def _as_url(ports: Ports, path: str) -> str:
    return f"http://{ports.host}:{ports.authorization_server_port}{path}"


async def server_stats(control: aiohttp.ClientSession, ports: Ports) -> dict[str, Any]:
    async with control.get(_resource_url(ports, "/bench/stats")) as response:
        response.raise_for_status()
        stats: dict[str, Any] = await response.json()
    return stats


async def reset_server(control: aiohttp.ClientSession, ports: Ports, lifetime: float) -> None:
    """Clear the server's counters; tokens issued from now on live *lifetime* seconds."""
    url = _resource_url(ports, "/bench/reset")
    async with control.post(url, json={"access_token_lifetime": lifetime}) as response:
        response.raise_for_status()


async def fetch_token(control: aiohttp.ClientSession, ports: Ports, client_id: str) -> str:
    """Obtain an access token for *client_id* directly (client credentials, RFC 6749 §4.4)."""
    authorization = aiohttp.encode_basic_auth(client_id, CLIENT_SECRET)  # RFC 6749 §2.3.1
    async with control.post(
        _as_url(ports, "/token"),
        data={"grant_type": "client_credentials"},
        headers={"Authorization": authorization},
    ) as response:
        response.raise_for_status()
        token: str = (await response.json())["access_token"]
    return token


# --------------------------------------------------------------------------- 1. burst


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
    url = _as_url(ports, "/resource/burst")
    await reset_server(control, ports, ONE_HOUR)
    grant = ClientCredentials(_as_url(ports, "/token"), "burst-ours", CLIENT_SECRET)
    middleware = aa.OAuth2Middleware(grant)
    async with _aiohttp_session(pool, (middleware,)) as session:
        cold = await _burst(session, url, requests)
        token = await middleware.get_token(session)
    stats = await server_stats(control, ports)
    # The same burst from a new session with the token in hand: the requests alone.
    async with _aiohttp_session(pool, (aa.BearerAuthMiddleware(token.access_token),)) as session:
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
        async with _aiohttp_session(pool, (aa.BearerAuthMiddleware(token),)) as session:
            await _burst(session, _as_url(ports, "/resource/burst"), min(requests, 2000))
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


# --------------------------------------------------------------------------- 2. sustained


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
    url = _as_url(ports, "/resource/sustained")
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    timeline: list[dict[str, float]] = []
    latencies: list[float] = []
    async with aiohttp.ClientSession() as control:
        await reset_server(control, ports, lifetime)
        grant = ClientCredentials(_as_url(ports, "/token"), client_id, CLIENT_SECRET)
        middleware = aa.OAuth2Middleware(grant, leeway=leeway)
        async with _aiohttp_session(pool, (middleware,)) as session:
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


# --------------------------------------------------------------------------- 3. steady state


async def sequential(client: Client, url: str, requests: int, _: int) -> None:
    for _request in range(requests):
        await client.get(url)


async def concurrent(client: Client, url: str, requests: int, concurrency: int) -> None:
    remaining = requests

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await client.get(url)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


WORKLOADS = {"sequential": sequential, "concurrent": concurrent}


async def _run_block(
    workload: Callable[..., Awaitable[None]],
    client: Client,
    url: str,
    requests: int,
    concurrency: int,
) -> tuple[float, float]:
    """Run one timed block; return (requests per second, client CPU µs per request)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    await workload(client, url, requests, concurrency)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return requests / wall, cpu / requests * 1e6


async def _check_tokens(ports: Ports, clients: Mapping[str, Client]) -> None:
    """Send each token-sending variant's first request where the server verifies the token."""
    for name, client in clients.items():
        if VARIANTS[name].path == "/bearer":
            try:
                await client.get(_resource_url(ports, "/verified-bearer"))
            except RuntimeError as error:
                raise RuntimeError(f"{name} sent no valid token: {error}") from None


async def measure_steady(
    ports: Ports,
    variants: Mapping[str, Variant],
    *,
    rounds: int,
    requests: int,
    third_party_requests: int,
    concurrency: int,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """Run the interleaved rounds; return per-round samples and the token requests made."""
    names = list(variants)
    block = {"aiohttp": requests, "httpx": third_party_requests}
    clients: dict[str, Client] = {}
    async with aiohttp.ClientSession() as control:
        await reset_server(control, ports, ONE_HOUR)
        setup = Setup(ports, concurrency, await fetch_token(control, ports, "steady-static"))
        try:
            for name, variant in variants.items():
                clients[name] = await variant.make(setup)
            await _check_tokens(ports, clients)
            for name in names:
                url = _resource_url(ports, variants[name].path)
                warmup = max(concurrency * 4, block[variants[name].family] // 5)
                for workload in WORKLOADS.values():
                    await workload(clients[name], url, warmup, concurrency)
            samples: dict[str, dict[str, dict[str, list[float]]]] = {
                w: {name: {"rps": [], "cpu_us": []} for name in names} for w in WORKLOADS
            }
            for round_index in range(rounds):
                shift = round_index % len(names)
                for workload_name, workload in WORKLOADS.items():
                    for name in names[shift:] + names[:shift]:
                        variant = variants[name]
                        rps, cpu_us = await _run_block(
                            workload,
                            clients[name],
                            _resource_url(ports, variant.path),
                            block[variant.family],
                            concurrency,
                        )
                        samples[workload_name][name]["rps"].append(rps)
                        samples[workload_name][name]["cpu_us"].append(cpu_us)
                bare = samples["sequential"][BASELINE]["rps"][-1]
                progress(f"round {round_index + 1}/{rounds} (bare sequential {bare:,.0f} req/s)")
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


def _quartiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q3


def _paired(numerator: list[float], denominator: list[float]) -> dict[str, float]:
    ratios = [n / d for n, d in zip(numerator, denominator, strict=True)]
    q1, q3 = _quartiles(ratios)
    return {"median": statistics.median(ratios), "q1": q1, "q3": q3}


def summarise_steady(samples: Mapping[str, Mapping[str, Mapping[str, list[float]]]]) -> Any:
    """Medians, and per-round paired ratios to bare aiohttp, the static Bearer, bare httpx."""
    summary: dict[str, dict[str, dict[str, Any]]] = {}
    for workload, by_name in samples.items():
        bare = by_name[BASELINE]
        rows = {}
        for name, series in by_name.items():
            row: dict[str, Any] = {
                "median_rps": statistics.median(series["rps"]),
                "to_bare_aiohttp": _paired(series["rps"], bare["rps"]),
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
                row["to_static_bearer"] = _paired(series["rps"], by_name[STATIC]["rps"])
                row["best_to_static_bearer"] = max(series["rps"]) / max(by_name[STATIC]["rps"])
            if BARE_HTTPX in by_name and name in THIRD_PARTY:
                row["to_bare_httpx"] = _paired(series["rps"], by_name[BARE_HTTPX]["rps"])
            if OURS in by_name and name in THIRD_PARTY:
                row["ours_over_this"] = _paired(by_name[OURS]["rps"], series["rps"])
            rows[name] = row
        summary[workload] = rows
    return summary


def format_steady(summary: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    def ratio(row: Mapping[str, Any], key: str) -> str:
        if key not in row:
            return "-"
        r = row[key]
        return f"{r['median']:.3f} ({r['q1']:.3f}-{r['q3']:.3f})"

    width = max(len(name) for rows in summary.values() for name in rows)
    header = (
        f"{'variant':<{width}} {'req/s':>7} {'÷ bare aiohttp (IQR)':>22} {'best':>6} "
        f"{'÷ Bearer static (IQR)':>22} {'÷ bare httpx':>22} {'ours ÷ this':>22} "
        f"{'CPU µs':>7} {'Δ CPU':>7}"
    )
    lines = []
    for workload, rows in summary.items():
        lines += [f"{workload}:", header, "-" * len(header)]
        for name, row in rows.items():
            lines.append(
                f"{name:<{width}} {row['median_rps']:>7,.0f} "
                f"{ratio(row, 'to_bare_aiohttp'):>22} {row['best_to_bare_aiohttp']:>6.3f} "
                f"{ratio(row, 'to_static_bearer'):>22} {ratio(row, 'to_bare_httpx'):>22} "
                f"{ratio(row, 'ours_over_this'):>22} {row['cpu_us']:>7.1f} "
                f"{row['cpu_overhead_pct']:>+6.1f}%"
            )
        lines.append("")
    return "\n".join(lines).rstrip()


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


# --------------------------------------------------------------------------- per call


def measure_chain_per_call(*, quick: bool) -> dict[str, dict[str, float]]:
    """Time bare, static Bearer and OAuth2 (warm token) chains alone, as ``per_call.py`` does.

    No network and no other process, so much less noise than the throughput
    rounds. The OAuth2 middleware's store holds a token valid for an hour
    before the clock starts, so every call is the steady state: one clock
    read to know the token is still fresh, one header set.
    """
    url = "http://127.0.0.1:9/bearer"  # never connected to
    token = Token("t" * 43, expires_at=time.time() + ONE_HOUR, issued_at=time.time())
    grant = ClientCredentials("http://127.0.0.1:9/token", "per-call", CLIENT_SECRET)
    store = MemoryTokenStore()
    ours = aa.OAuth2Middleware(grant, store=store)
    asyncio.run(store.set(ours.key, token))
    chains = {
        BASELINE: lambda: (),
        STATIC: lambda: (aa.BearerAuthMiddleware(token.access_token),),
        OURS: lambda: (ours,),
    }
    # Both middlewares read the response status: answer 200 to a request with a token.
    handler = challenging_handler(url, 'Bearer realm="bench"')
    return measure_per_call(
        chains, baseline=BASELINE, url=url, handler=handler, repeats=5 if quick else 15
    )


def format_per_call(per_call: Mapping[str, Mapping[str, float]], bare_cpu_us: float | None) -> str:
    lines = [f"{'chain':<18} {'ns/call':>8} {'Δ vs bare':>10}", "-" * 38]
    for name, row in per_call.items():
        lines.append(f"{name:<18} {row['ns_per_call']:>8.0f} {row['overhead_ns']:>+10.0f}")
    extra = per_call[OURS]["ns_per_call"] - per_call[STATIC]["ns_per_call"]
    share = (
        f" ({extra / 1e3 / bare_cpu_us:.2%} of bare aiohttp's client CPU per sequential request)"
        if bare_cpu_us
        else ""
    )
    lines.append(f"OAuth2Middleware - Bearer (static): {extra:+.0f} ns per request{share}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- plot


def plot_results(result: Mapping[str, Any], output: Path) -> None:
    """Draw the steady-state ratios and the sustained run's token requests to *output*."""
    import matplotlib

    matplotlib.use("Agg")  # no display: write files only
    import matplotlib.pyplot as plt

    layout = []
    if result.get("steady"):
        layout.append(["aiohttp", "all"])
    if result.get("sustained"):
        layout.append(["sustained", "sustained"])
    if not layout:
        return
    fig, axes = plt.subplot_mosaic(layout, figsize=(13, 5.2 * len(layout)), dpi=110)
    if result.get("steady"):
        rows = next(iter(result["steady"]["summary"].values()))
        names = [name for name in rows if name != BASELINE]
        aiohttp_names = [name for name in names if VARIANTS[name].family == "aiohttp"]
        _steady_panel(axes["aiohttp"], result, aiohttp_names, zoom=True)
        _steady_panel(axes["all"], result, names, zoom=False)
    if result.get("sustained"):
        _sustained_panel(axes["sustained"], result)
    fig.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output)
    plt.close(fig)


def _steady_panel(ax: Any, result: Mapping[str, Any], names: list[str], *, zoom: bool) -> None:
    summary = result["steady"]["summary"]
    colours = {"sequential": "#4c72b0", "concurrent": "#dd8452"}
    width = 0.8 / len(summary)
    quartiles = [rows[name]["to_bare_aiohttp"] for rows in summary.values() for name in names]
    for index, (workload, rows) in enumerate(summary.items()):
        ratios = [rows[name]["to_bare_aiohttp"]["median"] for name in names]
        below = [r - rows[n]["to_bare_aiohttp"]["q1"] for r, n in zip(ratios, names, strict=True)]
        above = [rows[n]["to_bare_aiohttp"]["q3"] - r for r, n in zip(ratios, names, strict=True)]
        positions = [i + (index - (len(summary) - 1) / 2) * width for i in range(len(names))]
        label = (
            workload
            if workload == "sequential"
            else f"{result['settings']['concurrency']} in flight"
        )
        bars = ax.bar(
            positions,
            ratios,
            width,
            yerr=[below, above],
            capsize=3,
            label=label,
            color=colours.get(workload),
        )
        ax.bar_label(bars, labels=[f"{r:.3f}" for r in ratios], fontsize=7, padding=2)
    ax.axhline(1.0, color="black", linewidth=1, label="bare aiohttp (1.0)")
    ax.axhline(STEADY_TARGET, color="#c44e52", linestyle="--", linewidth=1, label="0.97")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=15, ha="right", fontsize=8)
    for tick in ax.get_xticklabels():
        if VARIANTS[tick.get_text()].reference:
            tick.set_color("dimgray")
            tick.set_style("italic")
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


# --------------------------------------------------------------------------- main


def _versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for dist in ("httpx", "httpcore", "httpx-auth", "authlib", "anyio"):
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            found[dist] = None
    return found


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (about 40 s)")
    for key, value in DEFAULTS.items():
        kind = float if isinstance(value, float) else int
        parser.add_argument(f"--{key.replace('_', '-')}", type=kind, help=f"(default {value})")
    parser.add_argument(
        "--sustained-pool", type=int, help="connection pool of the sustained runs (= concurrency)"
    )
    parser.add_argument(
        "--small-pool",
        type=int,
        default=20,
        help="pool of one more sustained run, smaller than the concurrency (20; 0 skips it)",
    )
    parser.add_argument(
        "--pin",
        choices=("same", "split", "none"),
        default="same",
        help="CPU placement of client and server during the steady-state rounds",
    )
    for part in ("burst", "sustained", "steady", "per-call"):
        parser.add_argument(f"--skip-{part}", action="store_true")
    parser.add_argument("--output-json", type=Path, metavar="PATH")
    parser.add_argument("--plot", type=Path, metavar="PATH", help="write the chart (PNG)")
    parser.add_argument(
        "--replot",
        type=Path,
        metavar="JSON",
        help="measure nothing: redraw the chart of an --output-json file to --plot",
    )
    args = parser.parse_args(argv)
    if args.replot and not args.plot:
        parser.error("--replot needs --plot PATH")
    for key, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
        if getattr(args, key) <= 0:
            parser.error(f"--{key.replace('_', '-')} must be positive")
    if args.sustained_pool is None:
        args.sustained_pool = args.sustained_concurrency
    return args


def _run_sustained(
    args: argparse.Namespace, ports: Ports, log: Callable[[str], None]
) -> list[dict[str, Any]]:
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


def _run_steady(
    args: argparse.Namespace,
    ports: Ports,
    variants: Mapping[str, Variant],
    log: Callable[[str], None],
) -> dict[str, Any]:
    with pinned(args.pin, ports.pid) as placement:
        log(f"steady state: {len(variants)} variants x {args.rounds} rounds; {placement}")
        measured = asyncio.run(
            measure_steady(
                ports,
                variants,
                rounds=args.rounds,
                requests=args.requests,
                third_party_requests=args.third_party_requests,
                concurrency=args.concurrency,
                progress=log,
            )
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


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # The default action would skip `finally` blocks and leave the server running.
    raise SystemExit(128 + signum)


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    return {key: getattr(args, key) for key in [*DEFAULTS, "sustained_pool", "small_pool", "pin"]}


def main(argv: list[str] | None = None) -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = parse_args(argv)
    if args.replot:
        plot_results(json.loads(args.replot.read_text()), args.plot)
        print(f"wrote {args.plot}")
        return
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {message}", flush=True)

    variants, missing = available_variants()
    result: dict[str, Any] = {
        "machine": {**machine(), **_versions()},
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "settings": _settings(args),
        "missing": missing,
    }
    m = result["machine"]
    print(
        f"{m['nproc']} CPUs, Python {m['python']}, aiohttp {m['aiohttp']}, httpx {m['httpx']}, "
        f"httpx-auth {m['httpx-auth']}, Authlib {m['authlib']}, {m['event_loop']}",
        flush=True,
    )
    for note in missing:
        print(f"skipped {note}")
    with running_oauth2_server() as ports:
        log(
            f"server pid {ports.pid}: resource port {ports.resource_port}, authorization "
            f"server port {ports.authorization_server_port}"
        )
        if not args.skip_burst:
            result["burst"] = asyncio.run(
                measure_burst(
                    ports, requests=args.burst, pool=args.burst_pool, repeats=args.burst_repeats
                )
            )
            print(format_burst(result["burst"]), flush=True)
        if not args.skip_sustained:
            result["sustained"] = _run_sustained(args, ports, log)
            print(format_sustained(result["sustained"]), flush=True)
        if not args.skip_steady:
            result["steady"] = _run_steady(args, ports, variants, log)
    if not args.skip_per_call:
        log("timing the chains alone (no network)")
        result["per_call"] = measure_chain_per_call(quick=args.quick)
        steady = result.get("steady")
        bare_cpu = steady["summary"]["sequential"][BASELINE]["cpu_us"] if steady else None
        print(format_per_call(result["per_call"], bare_cpu))
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    if hasattr(os, "getloadavg"):
        result["machine"]["loadavg_at_end"] = os.getloadavg()
    log("done")
    if args.output_json:
        args.output_json.parent.mkdir(parents=True, exist_ok=True)
        args.output_json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.output_json}")
    if args.plot:
        plot_results(result, args.plot)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
