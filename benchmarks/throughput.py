"""``run.py``'s throughput measurement: one session per variant, interleaved rounds, summaries.

Every variant of a :class:`~throughput_variants.Catalogue` gets its own
``ClientSession`` (one ``TCPConnector``, keep-alive) talking to ``server.py``.
Before timing, the server is asked once per variant what credentials arrived
(:func:`check_credentials`), so a middleware that silently sent nothing stops
the run; then the sessions warm up and run ``harness.py``'s interleaved rounds.
:func:`summarise` reduces the samples to paired ratios against bare aiohttp,
:func:`summarise_digest` to ours / aiohttp's for each Digest pair, and
:func:`count_cold_burst_401s` counts the 401s a fresh session draws.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from harness import (
    Block,
    RoundPlan,
    Samples,
    aiohttp_get,
    interleaved_rounds,
    quartiles,
    ratios,
    warm_up,
    warmup_requests,
)
from subprocess_server import KEEPALIVE_TIMEOUT
from throughput_variants import (
    BASELINE,
    DIGEST_TARGET,
    Catalogue,
    SessionSetup,
    sends_credential,
)


def _session(setup: SessionSetup, concurrency: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=KEEPALIVE_TIMEOUT)
    if isinstance(setup, tuple):
        return aiohttp.ClientSession(connector=connector, middlewares=setup)
    return aiohttp.ClientSession(connector=connector, **setup)


async def check_credentials(
    sessions: Mapping[str, aiohttp.ClientSession],
    base: str,
    variants: Mapping[str, Any],
    catalogue: Catalogue,
) -> dict[str, str]:
    """Ask the server what each session sends, so no variant is a silent no-op.

    For a Digest variant this is its first request: it draws the one 401 that
    sets up its protection space, and the server verifies the answer.
    """
    seen_by_variant = {}
    for name, session in sessions.items():
        async with session.get(catalogue.check_url(base, name)) as response:
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
        sends = bool(parts)
        if sends != bool(variants[name]["sends_credential"]):
            raise RuntimeError(f"{name}: the server saw {parts or 'no credential'}")
        seen_by_variant[name] = ", ".join(parts) or "-"
    return seen_by_variant


async def _digest_stats(session: aiohttp.ClientSession, base: str) -> dict[str, dict[str, int]]:
    async with session.get(f"{base}/digest-stats") as response:
        stats: dict[str, dict[str, int]] = await response.json()
    return stats


async def count_cold_burst_401s(
    base: str, catalogue: Catalogue, concurrency: int
) -> dict[str, int]:
    """Send *concurrency* first requests at once from a fresh session per Digest variant.

    Untimed. Returns the 401s the server sent for each burst: how many of the
    concurrent first requests to an unknown protection space were challenged.
    """
    bursts = {
        name: catalogue.routes[name].path(suffix="-cold")
        for name in catalogue.variants
        if name in catalogue.routes and name not in catalogue.references
    }
    for name, path in bursts.items():
        async with _session(catalogue.variants[name](), concurrency) as session:
            get = aiohttp_get(session)
            await asyncio.gather(*(get(f"{base}{path}") for _ in range(concurrency)))
    async with aiohttp.ClientSession() as session:
        stats = await _digest_stats(session, base)
    return {
        name: stats.get(path.rsplit("/", 1)[1], {}).get("401", 0) for name, path in bursts.items()
    }


async def measure_throughput(
    base: str, catalogue: Catalogue, plan: RoundPlan, progress: Callable[[str], None]
) -> dict[str, Any]:
    """Run the interleaved rounds; return raw per-round samples per workload and variant."""
    rounds, requests, concurrency = plan
    urls = {name: catalogue.url(base, name) for name in catalogue.variants}
    sessions = {}
    info: dict[str, dict[str, Any]] = {}
    for name, factory in catalogue.variants.items():
        setup = factory()
        sessions[name] = _session(setup, concurrency)
        info[name] = {"sends_credential": sends_credential(setup), "path": urls[name][len(base) :]}

    def after_round(done: int, samples: Samples) -> None:
        bare = samples["sequential"][BASELINE]["rps"][-1]
        progress(f"round {done}/{rounds} done (bare sequential {bare:,.0f} req/s)")

    try:
        seen = await check_credentials(sessions, base, info, catalogue)
        blocks = {}
        for name, session in sessions.items():
            info[name]["server_saw"] = seen[name]
            blocks[name] = Block(aiohttp_get(session), urls[name], requests)
            await warm_up(blocks[name], concurrency)
        samples = await interleaved_rounds(blocks, plan, after_round)
        stats = await _digest_stats(sessions[BASELINE], base)
        # The check, the warm-up of both workloads and every block of both.
        sent = 1 + (2 * warmup_requests(requests, concurrency) + 2 * rounds * requests)
        for name, route in catalogue.routes.items():
            counts = stats.get(route.tag, {})
            info[name]["requests_sent"] = sent
            info[name]["server_401s"] = counts.get("401", 0)
            info[name]["server_answered"] = counts.get("answered", 0)
    finally:
        for session in sessions.values():
            await session.close()
    return {"samples": samples, "variants": info}


def summarise(samples: Samples) -> dict[str, Any]:
    """Reduce per-round samples to medians and paired ratios against bare aiohttp."""
    summary: dict[str, Any] = {}
    for workload, by_variant in samples.items():
        bare_rps = by_variant[BASELINE]["rps"]
        bare_cpu = by_variant[BASELINE]["cpu_us"]
        rows = {}
        for name, series in by_variant.items():
            paired_ratios = ratios(series["rps"], bare_rps)
            wall_overheads = [
                1e6 / v - 1e6 / b for v, b in zip(series["rps"], bare_rps, strict=True)
            ]
            cpu_overheads = [v - b for v, b in zip(series["cpu_us"], bare_cpu, strict=True)]
            q1, q3 = quartiles(paired_ratios)
            rows[name] = {
                "median_rps": statistics.median(series["rps"]),
                "ratio": statistics.median(paired_ratios),
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


def summarise_digest(samples: Samples, pairs: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    """Compare ours with aiohttp's Digest middleware, pair by pair, round by round."""
    summary: dict[str, Any] = {}
    for workload, by_variant in samples.items():
        rows = {}
        for label, (ours, theirs) in pairs.items():
            ours_s, theirs_s = by_variant[ours], by_variant[theirs]
            paired_ratios = ratios(ours_s["rps"], theirs_s["rps"])
            saved = [t - o for o, t in zip(ours_s["cpu_us"], theirs_s["cpu_us"], strict=True)]
            q1, q3 = quartiles(paired_ratios)
            rows[label] = {
                "ours": ours,
                "theirs": theirs,
                "ratio": statistics.median(paired_ratios),
                "ratio_q1": q1,
                "ratio_q3": q3,
                "best_ratio": max(ours_s["rps"]) / max(theirs_s["rps"]),
                "rounds_at_target": sum(ratio >= DIGEST_TARGET for ratio in paired_ratios),
                "rounds": len(paired_ratios),
                "ours_cpu_us": statistics.median(ours_s["cpu_us"]),
                "theirs_cpu_us": statistics.median(theirs_s["cpu_us"]),
                "cpu_saved_us": statistics.median(saved),
            }
        summary[workload] = rows
    return summary
