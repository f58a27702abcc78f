"""Keep-alive throughput of aiohttp with and without aiohttp_auth's middlewares.

Every variant gets one ``ClientSession`` (one ``TCPConnector``, keep-alive)
talking to the same minimal aiohttp.web server (``server.py``), which runs in a
process of its own on 127.0.0.1 and checks no credential on the timed routes
(but for the "verifying server" sanity pair). Two workloads:

* **sequential**: one request at a time, so each request's latency counts;
* **concurrent**: ``--concurrency`` worker tasks sharing one request budget,
  so the client's CPU time per request bounds throughput.

Rounds are interleaved: in every round each variant runs one block of a fixed
number of requests, in an order rotated by one each round, so drift (CPU
frequency, other processes on the machine) hits every variant alike. Each
variant's ratio to bare aiohttp is the median over rounds of the *paired*
per-round ratio ``variant req/s / bare req/s``. A second bare session
("bare aiohttp (A/A)") is measured like any variant: its ratio shows the noise
floor of the run. Client CPU time per request (``time.process_time``) is
reported too: it is less disturbed by other processes than wall-clock time.

Digest variants (aiohttp's own ``DigestAuthMiddleware(preemptive=True)`` and
ours, for SHA-256 and MD5) request the server's Digest route, which answers 401
with a fixed challenge to a request without ``Authorization`` and 200 to any
other without verifying it, so the server's cost stays that of ``/`` and the
comparison measures the clients. For each algorithm, ours is compared with
aiohttp's directly: the median paired ratio ``ours req/s / aiohttp's req/s``.
The server counts the 401s it sends per variant, during the run and for a
burst of concurrent first requests from a fresh session. A pair of rows
against a server that verifies every answer is a sanity check.

Then ``per_call.py`` times each middleware chain on a stand-in request with no
network (what aiohttp does around the middleware, and the middleware itself),
``digest_header.py`` the computation of one Digest header in three libraries,
and ``import_time.py`` compares the import time of aiohttp_auth with aiohttp's.

Adding a variant is one entry in :data:`VARIANTS`: a name and a factory that
returns the tuple of middlewares for the session (a variant that needs another
server route also gets an entry in :data:`ROUTES`).

Usage: ``python benchmarks/run.py [--quick] [--rounds R] [--requests N]
[--concurrency C] [--only NAME ...] [--output-json PATH] [--plot PATH]``.
Benchmarks are never timed tests: nothing here fails on a slow result.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import re
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp
from aiohttp import hdrs
from aiohttp.client_middlewares import ClientHandlerType, ClientMiddlewareType
from digest_header import format_digest_header, measure_digest_header
from import_time import format_import_time, measure_import_time
from per_call import challenging_handler, measure_per_call
from server import (
    DIGEST_LOGIN,
    DIGEST_PASSWORD,
    KEEPALIVE_TIMEOUT,
    digest_authorization,
    digest_challenge,
    running_server,
)

import aiohttp_auth as aa
from aiohttp_auth.digest.answers import choose_challenge
from aiohttp_auth.digest.protocol import make_cnonce
from aiohttp_auth.digest.spaces import ProtectionSpaces

TOKEN = "bench-token-0123456789abcdef0123456789abcdef"
API_KEY = "bench-key-0123456789abcdef"

#: What a variant's factory returns: the session's middlewares, or, for a
#: reference that uses none, other ``ClientSession`` keyword arguments.
SessionSetup = tuple[ClientMiddlewareType, ...] | Mapping[str, Any]
VariantFactory = Callable[[], SessionSetup]


async def _noop_middleware(
    request: aiohttp.ClientRequest, handler: ClientHandlerType
) -> aiohttp.ClientResponse:
    # The cheapest middleware aiohttp allows: the floor any middleware pays.
    return await handler(request)


def _token() -> str:
    return TOKEN


BASELINE = "bare aiohttp"

#: name -> factory of the session's middlewares. Adding a variant is adding an
#: entry; a factory is called once per measurement, so state is never shared.
VARIANTS: dict[str, VariantFactory] = {
    BASELINE: lambda: (),
    # Measured like any variant: how far apart two identical sessions land is
    # the noise floor of the run.
    "bare aiohttp (A/A)": lambda: (),
    # The floor any middleware pays in aiohttp (a chain is built per request).
    "no-op middleware": lambda: (_noop_middleware,),
    # The same credential with no middleware: what sending it costs by itself.
    "header, no middleware": lambda: {"headers": {"Authorization": f"Bearer {TOKEN}"}},
    "Bearer (static)": lambda: (aa.BearerAuthMiddleware(TOKEN),),
    "Bearer (callable)": lambda: (aa.BearerAuthMiddleware(_token),),
    "Basic": lambda: (aa.BasicAuthMiddleware("bench-user", "bench-password"),),
    "API key (header)": lambda: (aa.ApiKeyMiddleware(API_KEY),),
    "API key (query)": lambda: (aa.ApiKeyMiddleware(API_KEY, query_param="api_key"),),
}


class DigestRoute(NamedTuple):
    """Where a Digest variant sends its requests on the benchmark server."""

    algorithm: str
    tag: str  # the server counts 401s per tag: one per variant
    verified: bool = False

    def path(self, *, verified: bool | None = None, suffix: str = "") -> str:
        kind = "verified-digest" if (self.verified if verified is None else verified) else "digest"
        return f"/{kind}/{self.algorithm}/{self.tag}{suffix}"


#: name -> the server route of a variant that does not request ``/``.
ROUTES: dict[str, DigestRoute] = {}
#: label -> (ours, aiohttp's): the Digest variants compared with each other.
DIGEST_PAIRS: dict[str, tuple[str, str]] = {}
DIGEST_OURS = "aiohttp_auth"
DIGEST_THEIRS = "aiohttp"


def _add_digest_pair(algorithm: str, *, verified: bool = False) -> None:
    """Add ours and aiohttp's Digest middleware, on the same route, as a compared pair."""
    label = f"{algorithm}, verifying server" if verified else algorithm
    factories: dict[str, VariantFactory] = {
        DIGEST_OURS: lambda: (aa.DigestAuthMiddleware(DIGEST_LOGIN, DIGEST_PASSWORD),),
        DIGEST_THEIRS: lambda: (
            aiohttp.DigestAuthMiddleware(DIGEST_LOGIN, DIGEST_PASSWORD, preemptive=True),
        ),
    }
    names = []
    for library, factory in factories.items():
        name = f"Digest {label} ({library})"
        tag = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        VARIANTS[name] = factory
        ROUTES[name] = DigestRoute(algorithm, tag, verified)
        names.append(name)
    DIGEST_PAIRS[label] = (names[0], names[1])


# Against a server that never verifies: the clients' cost, SHA-256 and MD5
# (aiohttp's default). Then a sanity pair against a server that verifies.
_add_digest_pair("SHA-256")
_add_digest_pair("MD5")
_add_digest_pair("SHA-256", verified=True)


class PrecomputedDigest:
    """The floor of any Digest middleware: a valid answer computed once per URL path.

    Every later request to the path carries the same answer (the same nonce
    count and client nonce, which a verifying server would refuse as a
    replay), so per request it only sets a header of Digest's size. Against it,
    aiohttp's middleware shows the most any Digest middleware could gain on
    this setup: the ceiling of the ours / aiohttp's ratio.
    """

    def __init__(self, algorithm: str) -> None:
        self._algorithm = algorithm
        self._answers: dict[str, str] = {}

    async def __call__(
        self, request: aiohttp.ClientRequest, handler: ClientHandlerType
    ) -> aiohttp.ClientResponse:
        uri = request.url.raw_path_qs
        answer = self._answers.get(uri)
        if answer is None:
            answer = digest_authorization(self._algorithm, request.method, uri, 1, "0" * 32)
            self._answers[uri] = answer
        request.headers[hdrs.AUTHORIZATION] = answer
        return await handler(request)


class HeaderOnlyDigest:
    """Our Digest header code with no middleware logic around it.

    The protection space is set up from the benchmark challenge in advance, so
    per request it only does the irreducible work of a Digest client: take a
    nonce count, draw a client nonce (16 bytes of ``os.urandom``), compute the header
    (``DigestCredentials.authorization``) and set it. It never reads a response.
    """

    def __init__(self, algorithm: str) -> None:
        challenge, _ = choose_challenge([digest_challenge(algorithm)])
        assert challenge is not None
        spaces = ProtectionSpaces(DIGEST_LOGIN, DIGEST_PASSWORD)
        self._space = spaces.learn(challenge, ())

    async def __call__(
        self, request: aiohttp.ClientRequest, handler: ClientHandlerType
    ) -> aiohttp.ClientResponse:
        taken = self._space.take()
        assert taken is not None
        credentials, nc = taken
        cnonce = make_cnonce(os.urandom(16))  # as the middleware draws it
        uri = request.url.raw_path_qs
        request.headers[hdrs.AUTHORIZATION] = credentials.authorization(
            request.method, uri, nc=nc, cnonce=cnonce
        )
        return await handler(request)


# Two references that split the cost of a Digest middleware: carrying a
# Digest-sized header (precomputed), and computing it (header only); what ours
# costs beyond the second is its own logic. Against aiohttp's middleware, each
# is a reference pair, not held to the target.
DIGEST_FLOOR = "Digest SHA-256, precomputed header"
DIGEST_HEADER_ONLY = "Digest SHA-256, header only"
VARIANTS[DIGEST_FLOOR] = lambda: (PrecomputedDigest("SHA-256"),)
VARIANTS[DIGEST_HEADER_ONLY] = lambda: (HeaderOnlyDigest("SHA-256"),)
ROUTES[DIGEST_FLOOR] = DigestRoute("SHA-256", "precomputed")
ROUTES[DIGEST_HEADER_ONLY] = DigestRoute("SHA-256", "header-only")
DIGEST_PAIRS["SHA-256, header only"] = (DIGEST_HEADER_ONLY, DIGEST_PAIRS["SHA-256"][1])
DIGEST_PAIRS["SHA-256, precomputed header"] = (DIGEST_FLOOR, DIGEST_PAIRS["SHA-256"][1])

#: Reference rows: not subject to the 3 % target.
REFERENCES = frozenset(
    {
        BASELINE,
        "bare aiohttp (A/A)",
        "no-op middleware",
        "header, no middleware",
        DIGEST_FLOOR,
        DIGEST_HEADER_ONLY,
    }
)
OVERHEAD_TARGET = 0.97
#: Digest: ours must reach this many times aiohttp's throughput.
DIGEST_TARGET = 1.1

# Many short blocks rather than a few long ones: a burst of load from another
# process then spoils a few pairs instead of shifting whole medians.
DEFAULTS = {"rounds": 16, "requests": 1000, "concurrency": 50, "import_runs": 21}
QUICK = {"rounds": 3, "requests": 300, "concurrency": 50, "import_runs": 5}


# --------------------------------------------------------------------------- workloads


async def _one_request(session: aiohttp.ClientSession, url: str) -> None:
    async with session.get(url) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"{url} answered {response.status}")


async def sequential(session: aiohttp.ClientSession, url: str, requests: int, _: int) -> None:
    for _request in range(requests):
        await _one_request(session, url)


async def concurrent(
    session: aiohttp.ClientSession, url: str, requests: int, concurrency: int
) -> None:
    remaining = requests

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await _one_request(session, url)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


WORKLOADS = {"sequential": sequential, "concurrent": concurrent}


# --------------------------------------------------------------------------- harness


def _url(base: str, name: str) -> str:
    """The URL a variant's timed requests go to."""
    route = ROUTES.get(name)
    return f"{base}{route.path()}" if route else f"{base}/"


def _check_url(base: str, name: str) -> str:
    """The URL that shows what a variant sends: Digest answers are verified there."""
    route = ROUTES.get(name)
    return f"{base}{route.path(verified=True)}" if route else f"{base}/check"


async def _check_credentials(
    sessions: Mapping[str, aiohttp.ClientSession], base: str, variants: Mapping[str, Any]
) -> dict[str, str]:
    """Ask the server what each session sends, so no variant is a silent no-op.

    For a Digest variant this is its first request: it draws the one 401 that
    sets up its protection space, and the server verifies the answer.
    """
    seen_by_variant = {}
    for name, session in sessions.items():
        async with session.get(_check_url(base, name)) as response:
            if response.status != 200:
                raise RuntimeError(
                    f"{name}: the server answered {response.status}: {await response.text()}"
                )
            seen = await response.json()
        parts = []
        if seen["authorization_scheme"]:
            verified = ", verified" if seen.get("verified") else ""
            parts.append(f"Authorization: {seen['authorization_scheme']} ...{verified}")
        if seen.get("x_api_key"):
            parts.append("X-API-Key")
        parts += [f"?{param}=" for param in seen.get("query_params", ())]
        sends_credential = bool(parts)
        if sends_credential != bool(variants[name]["sends_credential"]):
            raise RuntimeError(f"{name}: the server saw {parts or 'no credential'}")
        seen_by_variant[name] = ", ".join(parts) or "-"
    return seen_by_variant


async def _digest_stats(session: aiohttp.ClientSession, base: str) -> dict[str, dict[str, int]]:
    async with session.get(f"{base}/digest-stats") as response:
        stats: dict[str, dict[str, int]] = await response.json()
    return stats


async def count_cold_burst_401s(
    base: str, variants: Mapping[str, VariantFactory], concurrency: int
) -> dict[str, int]:
    """Send *concurrency* first requests at once from a fresh session per Digest variant.

    Untimed. Returns the 401s the server sent for each burst: how many of the
    concurrent first requests to an unknown protection space were challenged.
    """
    bursts = {
        name: ROUTES[name].path(suffix="-cold")
        for name in variants
        if name in ROUTES and name not in REFERENCES
    }
    for name, path in bursts.items():
        connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=KEEPALIVE_TIMEOUT)
        setup = variants[name]()
        options = {"middlewares": setup} if isinstance(setup, tuple) else dict(setup)
        async with aiohttp.ClientSession(connector=connector, **options) as session:
            await asyncio.gather(
                *(_one_request(session, f"{base}{path}") for _ in range(concurrency))
            )
    async with aiohttp.ClientSession() as session:
        stats = await _digest_stats(session, base)
    return {
        name: stats.get(path.rsplit("/", 1)[1], {}).get("401", 0) for name, path in bursts.items()
    }


async def _run_block(
    workload: Callable[..., Any],
    session: aiohttp.ClientSession,
    url: str,
    requests: int,
    concurrency: int,
) -> tuple[float, float]:
    """Run one timed block; return (requests per second, client CPU µs per request)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    await workload(session, url, requests, concurrency)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return requests / wall, cpu / requests * 1e6


def _sends_credential(setup: SessionSetup) -> bool:
    if isinstance(setup, tuple):
        return any(
            isinstance(
                mw,
                (
                    aa.AuthMiddleware,
                    aiohttp.DigestAuthMiddleware,
                    PrecomputedDigest,
                    HeaderOnlyDigest,
                ),
            )
            for mw in setup
        )
    return bool(setup.get("headers") or setup.get("auth"))


async def measure_throughput(
    base: str,
    variants: Mapping[str, VariantFactory],
    *,
    rounds: int,
    requests: int,
    concurrency: int,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """Run the interleaved rounds; return raw per-round samples per workload and variant."""
    names = list(variants)
    urls = {name: _url(base, name) for name in names}
    sessions = {}
    info: dict[str, dict[str, Any]] = {}
    for name, factory in variants.items():
        connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=KEEPALIVE_TIMEOUT)
        setup = factory()
        if isinstance(setup, tuple):
            sessions[name] = aiohttp.ClientSession(connector=connector, middlewares=setup)
        else:
            sessions[name] = aiohttp.ClientSession(connector=connector, **setup)
        info[name] = {
            "sends_credential": _sends_credential(setup),
            "path": urls[name][len(base) :],
        }
    try:
        seen = await _check_credentials(sessions, base, info)
        for name in names:
            info[name]["server_saw"] = seen[name]
            # Untimed: open the pool's connections and warm every code path.
            warmup = max(concurrency * 4, requests // 5)
            for workload in WORKLOADS.values():
                await workload(sessions[name], urls[name], warmup, concurrency)
        samples: dict[str, dict[str, dict[str, list[float]]]] = {
            workload: {name: {"rps": [], "cpu_us": []} for name in names} for workload in WORKLOADS
        }
        for round_index in range(rounds):
            shift = round_index % len(names)
            order = names[shift:] + names[:shift]
            for workload_name, workload in WORKLOADS.items():
                for name in order:
                    rps, cpu_us = await _run_block(
                        workload, sessions[name], urls[name], requests, concurrency
                    )
                    samples[workload_name][name]["rps"].append(rps)
                    samples[workload_name][name]["cpu_us"].append(cpu_us)
            bare = samples["sequential"][BASELINE]["rps"][-1]
            progress(f"round {round_index + 1}/{rounds} done (bare sequential {bare:,.0f} req/s)")
        stats = await _digest_stats(sessions[BASELINE], base)
        sent = 1 + (2 * max(concurrency * 4, requests // 5) + 2 * rounds * requests)
        for name, route in ROUTES.items():
            if name in info:
                counts = stats.get(route.tag, {})
                info[name]["requests_sent"] = sent
                info[name]["server_401s"] = counts.get("401", 0)
                info[name]["server_answered"] = counts.get("answered", 0)
    finally:
        for session in sessions.values():
            await session.close()
    return {"samples": samples, "variants": info}


def _quartiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q3


def summarise(samples: dict[str, dict[str, dict[str, list[float]]]]) -> dict[str, Any]:
    """Reduce per-round samples to medians and paired ratios against bare aiohttp."""
    summary: dict[str, Any] = {}
    for workload, by_variant in samples.items():
        bare_rps = by_variant[BASELINE]["rps"]
        bare_cpu = by_variant[BASELINE]["cpu_us"]
        rows = {}
        for name, series in by_variant.items():
            ratios = [v / b for v, b in zip(series["rps"], bare_rps, strict=True)]
            wall_overheads = [
                1e6 / v - 1e6 / b for v, b in zip(series["rps"], bare_rps, strict=True)
            ]
            cpu_overheads = [v - b for v, b in zip(series["cpu_us"], bare_cpu, strict=True)]
            q1, q3 = _quartiles(ratios)
            rows[name] = {
                "median_rps": statistics.median(series["rps"]),
                "ratio": statistics.median(ratios),
                "ratio_q1": q1,
                "ratio_q3": q3,
                # The least disturbed block of each: noise from other processes only
                # ever slows a block down, so the best blocks are the cleanest pair.
                "best_ratio": max(series["rps"]) / max(bare_rps),
                "best_cpu_us": min(series["cpu_us"]),
                "overhead_us": statistics.median(wall_overheads),
                "cpu_us": statistics.median(series["cpu_us"]),
                "cpu_overhead_us": statistics.median(cpu_overheads),
                "cpu_overhead_pct": statistics.median(cpu_overheads)
                / statistics.median(bare_cpu)
                * 100,
                "rps_samples": series["rps"],
                "cpu_us_samples": series["cpu_us"],
            }
        summary[workload] = rows
    return summary


def summarise_digest(
    samples: dict[str, dict[str, dict[str, list[float]]]], pairs: Mapping[str, tuple[str, str]]
) -> dict[str, Any]:
    """Compare ours with aiohttp's Digest middleware, pair by pair, round by round."""
    summary: dict[str, Any] = {}
    for workload, by_variant in samples.items():
        rows = {}
        for label, (ours, theirs) in pairs.items():
            ours_s, theirs_s = by_variant[ours], by_variant[theirs]
            ratios = [o / t for o, t in zip(ours_s["rps"], theirs_s["rps"], strict=True)]
            saved = [t - o for o, t in zip(ours_s["cpu_us"], theirs_s["cpu_us"], strict=True)]
            q1, q3 = _quartiles(ratios)
            rows[label] = {
                "ours": ours,
                "theirs": theirs,
                "ratio": statistics.median(ratios),
                "ratio_q1": q1,
                "ratio_q3": q3,
                "best_ratio": max(ours_s["rps"]) / max(theirs_s["rps"]),
                "rounds_at_target": sum(ratio >= DIGEST_TARGET for ratio in ratios),
                "rounds": len(ratios),
                "ours_cpu_us": statistics.median(ours_s["cpu_us"]),
                "theirs_cpu_us": statistics.median(theirs_s["cpu_us"]),
                "cpu_saved_us": statistics.median(saved),
            }
        summary[workload] = rows
    return summary


# --------------------------------------------------------------------------- output


def format_throughput_table(workload: str, rows: Mapping[str, Mapping[str, float]]) -> str:
    width = max(22, *(len(name) for name in rows))
    header = (
        f"{'variant':<{width}} {'req/s':>8} {'ratio':>6} {'ratio IQR':>13} {'best':>6} "
        f"{'Δ wall µs':>9} {'CPU µs/req':>10} {'Δ CPU µs':>9} {'Δ CPU':>7}"
    )
    lines = [f"{workload}:", header, "-" * len(header)]
    for name, row in rows.items():
        iqr = f"{row['ratio_q1']:.3f}-{row['ratio_q3']:.3f}"
        lines.append(
            f"{name:<{width}} {row['median_rps']:>8,.0f} {row['ratio']:>6.3f} {iqr:>13} "
            f"{row['best_ratio']:>6.3f} "
            f"{row['overhead_us']:>+9.1f} {row['cpu_us']:>10.1f} {row['cpu_overhead_us']:>+9.1f} "
            f"{row['cpu_overhead_pct']:>+6.1f}%"
        )
    return "\n".join(lines)


def format_digest_table(digest: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    width = max(9, *(len(label) for rows in digest.values() for label in rows))
    header = (
        f"{'workload':<11} {'pair':<{width}} {'ours/aiohttp':>12} {'IQR':>11} {'best':>6} "
        f"{'rounds >= ' + str(DIGEST_TARGET):>13} {'CPU µs ours':>11} {'aiohttp':>8} "
        f"{'saved':>6}"
    )
    lines = [header, "-" * len(header)]
    for workload, rows in digest.items():
        for label, row in rows.items():
            iqr = f"{row['ratio_q1']:.3f}-{row['ratio_q3']:.3f}"
            lines.append(
                f"{workload:<11} {label:<{width}} {row['ratio']:>12.3f} {iqr:>11} "
                f"{row['best_ratio']:>6.3f} {row['rounds_at_target']:>7}/{row['rounds']:<5} "
                f"{row['ours_cpu_us']:>11.1f} {row['theirs_cpu_us']:>8.1f} "
                f"{row['cpu_saved_us']:>6.1f}"
            )
    return "\n".join(lines)


def format_401_table(variants: Mapping[str, Mapping[str, Any]]) -> str:
    counted = {
        name: row
        for name, row in variants.items()
        if "server_401s" in row and name not in REFERENCES
    }
    width = max(22, *(len(name) for name in counted))
    header = (
        f"{'variant':<{width}} {'requests':>9} {'401s':>5} {'answered':>9} {'cold burst 401s':>16}"
    )
    lines = [header, "-" * len(header)]
    for name, row in counted.items():
        lines.append(
            f"{name:<{width}} {row['requests_sent']:>9,} {row['server_401s']:>5} "
            f"{row['server_answered']:>9,} {row.get('cold_burst_401s', '-'):>16}"
        )
    return "\n".join(lines)


def format_per_call_table(
    per_call: Mapping[str, Mapping[str, float]], bare_cpu_us: float | None
) -> str:
    width = max(22, *(len(name) for name in per_call))
    header = (
        f"{'variant':<{width}} {'ns/call':>8} {'Δ ns':>7} {'Δ / bare seq. CPU per request':>30}"
    )
    lines = [header, "-" * len(header)]
    for name, row in per_call.items():
        share = f"{row['overhead_ns'] / 1e3 / bare_cpu_us:.2%}" if bare_cpu_us else "-"
        lines.append(
            f"{name:<{width}} {row['ns_per_call']:>8.0f} {row['overhead_ns']:>+7.0f} {share:>30}"
        )
    return "\n".join(lines)


def verdicts(summary: Mapping[str, Mapping[str, Mapping[str, float]]]) -> list[str]:
    lines = []
    for workload, rows in summary.items():
        for name, row in rows.items():
            if name in REFERENCES or name in ROUTES:
                continue
            verdict = "meets" if row["ratio"] >= OVERHEAD_TARGET else "MISSES"
            lines.append(
                f"{workload:>10} {name:<20} ratio {row['ratio']:.3f}: {verdict} the "
                f">= {OVERHEAD_TARGET} (<= 3 % overhead) target; client CPU "
                f"{row['cpu_overhead_pct']:+.1f} %"
            )
    return lines


def digest_verdicts(
    digest: Mapping[str, Mapping[str, Mapping[str, Any]]], variants: Mapping[str, Any]
) -> list[str]:
    lines = []
    for workload, rows in digest.items():
        for label, row in rows.items():
            if row["ours"] in REFERENCES:
                continue
            verdict = "meets" if row["ratio"] >= DIGEST_TARGET else "MISSES"
            lines.append(
                f"{workload:>10} Digest {label:<26} ours / aiohttp's {row['ratio']:.3f}: "
                f"{verdict} the >= {DIGEST_TARGET}x target"
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


@contextlib.contextmanager
def pinned(mode: str, server_pid: int) -> Iterator[str]:
    """Pin this process and the server to CPUs for the throughput rounds, then unpin.

    ``same``: both on one CPU. ``split``: one CPU each. ``none``: leave it to the
    scheduler. On a small shared machine (a 2-vCPU VM) the unpinned pair switches
    between placements mid-run and throughput jumps by 2x; pinning removes that.
    """
    if mode == "none" or not hasattr(os, "sched_setaffinity"):
        yield "not pinned"
        return
    original = os.sched_getaffinity(0)
    cpus = sorted(original)
    if mode == "split" and len(cpus) < 2:
        raise SystemExit("--pin split needs two CPUs; use --pin same or --pin none")
    # The highest-numbered CPUs: CPU 0 usually takes more interrupts.
    client_cpu = cpus[-1]
    server_cpu = cpus[-2] if mode == "split" else client_cpu
    os.sched_setaffinity(server_pid, {server_cpu})
    os.sched_setaffinity(0, {client_cpu})
    try:
        yield f"client on CPU {client_cpu}, server on CPU {server_cpu}"
    finally:
        os.sched_setaffinity(0, original)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _event_loop_name() -> str:
    loop = asyncio.new_event_loop()
    try:
        return type(loop).__name__
    finally:
        loop.close()


def machine() -> dict[str, Any]:
    try:
        load = os.getloadavg()
    except OSError:  # pragma: no cover - not on Linux/macOS
        load = None
    return {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "aiohttp": aiohttp.__version__,
        "aiohttp_auth": aa.__version__,
        "event_loop": _event_loop_name(),
        "loadavg_at_start": load,
    }


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (~15 s) to try it out")
    parser.add_argument("--rounds", type=int, help=f"interleaved rounds ({DEFAULTS['rounds']})")
    parser.add_argument(
        "--requests", type=int, help=f"requests per variant per block ({DEFAULTS['requests']})"
    )
    parser.add_argument(
        "--concurrency", type=int, help=f"concurrent workers ({DEFAULTS['concurrency']})"
    )
    parser.add_argument(
        "--import-runs", type=int, help=f"fresh processes per module ({DEFAULTS['import_runs']})"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        help="run only variants whose name contains one of these (the references always run)",
    )
    parser.add_argument(
        "--pin",
        choices=("same", "split", "none"),
        default="same",
        help="CPU placement of client and server during the rounds (default: same CPU)",
    )
    parser.add_argument("--skip-import-time", action="store_true")
    parser.add_argument("--skip-per-call", action="store_true")
    parser.add_argument("--skip-digest-header", action="store_true")
    parser.add_argument("--output-json", type=Path, metavar="PATH")
    parser.add_argument("--plot", type=Path, metavar="PATH", help="write the chart (PNG)")
    args = parser.parse_args(argv)
    preset = QUICK if args.quick else DEFAULTS
    for key, value in preset.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    for key in ("rounds", "requests", "concurrency", "import_runs"):
        if getattr(args, key) < 1:
            parser.error(f"--{key.replace('_', '-')} must be at least 1")
    return args


def _is_chain(factory: VariantFactory) -> bool:
    """Tell whether a variant is a middleware chain (the rest are session options)."""
    return isinstance(factory(), tuple)


def selected_pairs(variants: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """The Digest pairs whose two members both run."""
    return {
        label: pair
        for label, pair in DIGEST_PAIRS.items()
        if pair[0] in variants and pair[1] in variants
    }


def select_variants(only: list[str] | None) -> dict[str, VariantFactory]:
    if not only:
        return dict(VARIANTS)
    wanted = [word.lower() for word in only]
    selected = {
        name: factory
        for name, factory in VARIANTS.items()
        if name in REFERENCES or any(word in name.lower() for word in wanted)
    }
    if len(selected) == len(REFERENCES):
        raise SystemExit(f"--only {' '.join(only)}: no variant matches; have {list(VARIANTS)}")
    return selected


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # The default action would end the process without running `finally`
    # blocks, leaving the server process behind.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = parse_args(argv)
    variants = select_variants(args.only)
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {message}", flush=True)

    result: dict[str, Any] = {
        "machine": machine(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "settings": {
            key: getattr(args, key) for key in ("rounds", "requests", "concurrency", "import_runs")
        },
        "baseline": BASELINE,
        "references": sorted(REFERENCES & set(variants)),
        "overhead_target": OVERHEAD_TARGET,
    }
    m = result["machine"]
    print(
        f"{m['nproc']} CPUs, Python {m['python']}, aiohttp {m['aiohttp']}, "
        f"aiohttp_auth {m['aiohttp_auth']}, {m['event_loop']}; "
        f"{args.rounds} rounds x {len(variants)} variants x {args.requests} requests "
        f"(concurrency {args.concurrency})",
        flush=True,
    )
    pairs = selected_pairs(variants)
    result["digest_pairs"] = pairs
    result["digest_target"] = DIGEST_TARGET
    with running_server() as (host, port, pid), pinned(args.pin, pid) as placement:
        base = f"http://{host}:{port}"
        log(f"server pid {pid} listening on {base}; {placement}")
        result["placement"] = placement
        measured = asyncio.run(
            measure_throughput(
                base,
                variants,
                rounds=args.rounds,
                requests=args.requests,
                concurrency=args.concurrency,
                progress=log,
            )
        )
        if any(name in ROUTES for name in variants):
            cold = asyncio.run(count_cold_burst_401s(base, variants, args.concurrency))
            for name, count in cold.items():
                measured["variants"][name]["cold_burst_401s"] = count
    summary = summarise(measured["samples"])
    result["variants"] = measured["variants"]
    result["workloads"] = summary
    width = max(len(name) for name in measured["variants"])
    print("\nwhat the server saw (credentials are never echoed):")
    for name, row in measured["variants"].items():
        print(f"  {name:<{width}} {row['server_saw']}")
    for workload, rows in summary.items():
        print()
        print(format_throughput_table(workload, rows))
    print(
        "\nratio: median over rounds of (variant req/s) / (bare req/s) in the same round; "
        "IQR: its quartiles.\nbest: the variant's fastest block / bare's fastest block. "
        "Δ wall µs: median extra wall time per request; "
        "Δ CPU µs: median extra client CPU time per request (Δ CPU: as a share of bare's)."
    )
    print()
    print("\n".join(verdicts(summary)))
    if pairs:
        result["digest"] = summarise_digest(measured["samples"], pairs)
        print(
            "\nDigest, ours / aiohttp's DigestAuthMiddleware(preemptive=True), paired per round "
            "(CPU: client µs per request).\nReference pairs put in place of ours: a header "
            "computed per request with no middleware logic (header only), and a precomputed\n"
            "header (the ceiling: the most any Digest middleware could gain on this setup)."
        )
        print(format_digest_table(result["digest"]))
        print(
            "\n401s the server sent per variant: during the run (the check, the warm-up "
            "and the rounds), and to a fresh session's burst of "
            f"{args.concurrency} concurrent first requests:"
        )
        print(format_401_table(measured["variants"]))
        print()
        print("\n".join(digest_verdicts(result["digest"], measured["variants"])))

    if not args.skip_per_call:
        log("timing each middleware chain on a stand-in request")
        chains = {
            name: factory
            for name, factory in variants.items()
            if _is_chain(factory) and name not in ROUTES
        }
        result["per_call"] = measure_per_call(
            chains, baseline=BASELINE, url=f"http://127.0.0.1:{port}/"
        )
        print("\nper-call cost without network (see benchmarks/per_call.py for what it covers):")
        print(format_per_call_table(result["per_call"], summary["sequential"][BASELINE]["cpu_us"]))
        result["digest_per_call"] = {}
        for label, (ours, theirs) in pairs.items():
            route = ROUTES[ours]
            if route.verified or ours in REFERENCES:
                continue  # the same middlewares as another pair, or no middleware of ours
            url = f"http://127.0.0.1:{port}{route.path(suffix='-per-call')}"
            handler = challenging_handler(url, digest_challenge(route.algorithm))
            digest_chains = {name: variants[name] for name in (BASELINE, ours, theirs)}
            timed = measure_per_call(digest_chains, baseline=BASELINE, url=url, handler=handler)
            result["digest_per_call"][label] = timed
            print(
                f"\nper-call cost, Digest {label}, warm protection space: ours / aiohttp's = "
                f"{timed[ours]['overhead_ns'] / timed[theirs]['overhead_ns']:.2f}"
            )
            print(format_per_call_table(timed, summary["sequential"][BASELINE]["cpu_us"]))

    if not args.skip_digest_header:
        log("timing one Digest header (SHA-256, qop auth) in three libraries")
        result["digest_header"] = measure_digest_header(repeats=5 if args.quick else 15)
        print()
        print(format_digest_header(result["digest_header"]))

    if not args.skip_import_time:
        log("timing imports in fresh interpreters")
        result["import_time"] = measure_import_time(args.import_runs)
        print()
        print(format_import_time(result["import_time"]))

    result["elapsed_s"] = round(time.monotonic() - started, 1)
    if hasattr(os, "getloadavg"):
        result["machine"]["loadavg_at_end"] = os.getloadavg()
    log("done")
    if args.output_json:
        args.output_json.parent.mkdir(parents=True, exist_ok=True)
        args.output_json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.output_json}")
    if args.plot:
        from plot import plot_results  # matplotlib only when a chart is asked for

        plot_results(result, args.plot)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
