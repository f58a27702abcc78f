"""The per-call CPU cost of a middleware chain, isolated from the network.

What it measures, exactly: for each variant, the time to do what aiohttp does
per request hop around a middleware:

1. build the chain with aiohttp's own ``build_client_middlewares(handler, middlewares)``
   (aiohttp rebuilds it for every request; a bare session skips this step);
2. ``await`` it, which runs the middleware's ``__call__`` (origin scope and
   transport checks) and ``authenticate`` (set a header, or rewrite the URL
   for a query-parameter API key);
3. the innermost handler is a coroutine that returns ``None`` at once, where
   aiohttp would connect, send and read the response.

The requests are real ``aiohttp.ClientRequest`` objects for ``GET`` on a fresh
``yarl.URL`` each, built before the clock starts, so they hold what aiohttp
has put in them by the time middlewares run (default headers, the URL's cached
parts). It does not measure what the added header or query parameter costs
aiohttp afterwards (serialising a longer request line or header block), nor
the server: the end-to-end benchmark in ``run.py`` covers those.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import ClientRequest
from aiohttp.client_middlewares import ClientMiddlewareType, build_client_middlewares
from yarl import URL

MiddlewareFactory = Callable[[], tuple[ClientMiddlewareType, ...]]


async def _null_handler(request: ClientRequest) -> Any:
    return None


def _requests(url: str, count: int) -> list[ClientRequest]:
    loop = asyncio.get_running_loop()
    return [ClientRequest("GET", URL(url), loop=loop) for _ in range(count)]


async def _time_block(
    middlewares: tuple[ClientMiddlewareType, ...], url: str, calls: int
) -> float:
    """Return nanoseconds per call for *calls* requests through *middlewares*."""
    requests = _requests(url, calls)
    handler = _null_handler
    gc.collect()
    start = time.perf_counter_ns()
    if middlewares:
        for request in requests:
            chain = build_client_middlewares(handler, middlewares)
            await chain(request)
    else:
        for request in requests:
            await handler(request)
    return (time.perf_counter_ns() - start) / calls


async def _measure(
    variants: Mapping[str, MiddlewareFactory], url: str, calls: int, repeats: int
) -> dict[str, list[float]]:
    chains = {name: factory() for name, factory in variants.items()}
    for middlewares in chains.values():
        # The first call binds an origins=None scope and caches the transport check.
        await _time_block(middlewares, url, 10)
    samples: dict[str, list[float]] = {name: [] for name in chains}
    names = list(chains)
    for repeat in range(repeats):
        # Rotate the order so drift hits every variant alike.
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(await _time_block(chains[name], url, calls))
    return samples


def measure_per_call(
    variants: Mapping[str, MiddlewareFactory],
    *,
    baseline: str,
    url: str,
    calls: int = 5_000,
    repeats: int = 15,
) -> dict[str, dict[str, float]]:
    """Time every variant's chain on real, unsent requests; see the module docstring.

    Returns:
        ``{name: {"ns_per_call": median, "overhead_ns": median - baseline's median}}``.
    """
    samples = asyncio.run(_measure(variants, url, calls, repeats))
    base = statistics.median(samples[baseline])
    results = {}
    for name, values in samples.items():
        median = statistics.median(values)
        results[name] = {"ns_per_call": median, "overhead_ns": median - base}
    return results
