"""The per-call CPU cost of a middleware chain, isolated from the network.

What it measures, exactly: for each variant, the time to do what aiohttp does
per request hop around a middleware:

1. build the chain with aiohttp's own ``build_client_middlewares(handler, middlewares)``
   (aiohttp rebuilds it for every request; a bare session skips this step);
2. ``await`` it, which runs the middleware's ``__call__`` (origin scope and
   transport checks) and ``authenticate`` (set a header, or rewrite the URL
   for a query-parameter API key);
3. the innermost handler is a coroutine that returns at once, where aiohttp
   would connect, send and read the response.

The requests are real ``aiohttp.ClientRequest`` objects for ``GET`` on a fresh
``yarl.URL`` each, built before the clock starts, so they hold what aiohttp
has put in them by the time middlewares run (default headers, the URL's cached
parts). It does not measure what the added header or query parameter costs
aiohttp afterwards (serialising a longer request line or header block), nor
the server: the end-to-end benchmark in ``run.py`` covers those.

For the static middlewares the innermost handler returns ``None``. Digest
middlewares read the response, so for them :func:`challenging_handler` plays
the benchmark server's Digest route without a network: a stand-in 401 with a
fixed challenge to a request without ``Authorization``, a stand-in 200 to any
other. The warm-up calls take the one 401, so the timed calls measure the
warm protection space: every request answered preemptively.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping
from http.cookies import SimpleCookie
from typing import Any

from aiohttp import ClientRequest, hdrs
from aiohttp.client_middlewares import ClientMiddlewareType, build_client_middlewares
from harness import rotated
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

MiddlewareFactory = Callable[[], tuple[ClientMiddlewareType, ...]]
Handler = Callable[[ClientRequest], Awaitable[Any]]


async def _null_handler(request: ClientRequest) -> Any:
    return None


class StandInResponse:
    """The parts of an ``aiohttp.ClientResponse`` that Digest middlewares read."""

    def __init__(self, url: URL, status: int, headers: Mapping[str, str]) -> None:
        self.url = url
        self.status = status
        self.headers = CIMultiDictProxy(CIMultiDict(headers))
        self.cookies: SimpleCookie = SimpleCookie()

    def release(self) -> None:
        """Nothing to release: there is no connection."""


def challenging_handler(url: str, challenge: str) -> Handler:
    """Return a handler that answers like the server's Digest route, without a network.

    A request without ``Authorization`` gets a 401 carrying *challenge* in
    ``WWW-Authenticate``; any other a 200 without ``Authentication-Info``.
    Like the server, it never checks the answer.
    """
    unauthorized = StandInResponse(URL(url), 401, {hdrs.WWW_AUTHENTICATE: challenge})
    ok = StandInResponse(URL(url), 200, {})

    async def handler(request: ClientRequest) -> Any:
        return ok if hdrs.AUTHORIZATION in request.headers else unauthorized

    return handler


def _requests(url: str, count: int) -> list[ClientRequest]:
    loop = asyncio.get_running_loop()
    return [ClientRequest("GET", URL(url), loop=loop) for _ in range(count)]


async def _time_block(
    middlewares: tuple[ClientMiddlewareType, ...], url: str, calls: int, handler: Handler
) -> float:
    """Return nanoseconds per call for *calls* requests through *middlewares*."""
    requests = _requests(url, calls)
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
    variants: Mapping[str, MiddlewareFactory],
    url: str,
    calls: int,
    repeats: int,
    handler: Handler,
) -> dict[str, list[float]]:
    chains = {name: factory() for name, factory in variants.items()}
    for middlewares in chains.values():
        # The first call binds an origins=None scope and caches the transport
        # check; for Digest it takes the 401 that warms the protection space.
        await _time_block(middlewares, url, 10, handler)
    samples: dict[str, list[float]] = {name: [] for name in chains}
    names = list(chains)
    for repeat in range(repeats):
        # Rotate the order so drift hits every variant alike.
        for name in rotated(names, repeat):
            samples[name].append(await _time_block(chains[name], url, calls, handler))
    return samples


def measure_per_call(
    variants: Mapping[str, MiddlewareFactory],
    *,
    baseline: str,
    url: str,
    calls: int = 5_000,
    repeats: int = 15,
    handler: Handler = _null_handler,
) -> dict[str, dict[str, float]]:
    """Time every variant's chain on real, unsent requests; see the module docstring.

    Args:
        variants: name -> factory of the chain's middlewares.
        baseline: the name of the variant the others are compared with.
        url: the URL of every request.
        calls: requests per timed block.
        repeats: timed blocks per variant, interleaved.
        handler: the innermost handler, where aiohttp would send the request.

    Returns:
        ``{name: {"ns_per_call": median, "overhead_ns": median - baseline's median}}``.
    """
    samples = asyncio.run(_measure(variants, url, calls, repeats, handler))
    base = statistics.median(samples[baseline])
    results = {}
    for name, values in samples.items():
        median = statistics.median(values)
        results[name] = {"ns_per_call": median, "overhead_ns": median - base}
    return results
