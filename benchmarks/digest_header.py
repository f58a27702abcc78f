"""The cost of computing one Digest ``Authorization`` header, three libraries.

One header for ``GET /digest/SHA-256/header`` answering the benchmark server's
challenge (``server.digest_challenge``: SHA-256, qop ``auth``, an opaque), in a
warm protection space: the challenge is parsed and everything that can be
prepared ahead is prepared before the clock starts, so each call is what a
client pays per request once it knows the server. No event loop, no network.

* **aiohttp_auth, header only**: ``DigestCredentials.authorization(...)`` with a
  given nonce count and client nonce. H(A1) and the header's constant parts
  were computed when the credentials were built.
* **aiohttp_auth, whole answer**: what the middleware does per request: reserve
  the nonce count (``ProtectionSpace.take``), draw 16 random bytes for the
  client nonce (``os.urandom``, as the middleware does), build the header.
  This is the row to compare with the next two, which also count and draw a
  client nonce.
* **aiohttp**: ``aiohttp.DigestAuthMiddleware._encode(method, url, b"")`` with
  the challenge the middleware stores after a 401. It is a coroutine that
  never suspends for a bytes body, so it is driven with ``coro.send(None)``
  as ``tests/test_digest_protocol.py`` does; it hashes A1 on every call and
  builds its client nonce from SHA-1 over ``time.ctime()`` and 8 random bytes.
* **httpx**: ``httpx.DigestAuth._build_auth_header(request, challenge)`` with
  the challenge from its own ``_parse_challenge``, what its ``auth_flow``
  calls for every request after the first. Skipped if httpx is not installed.

Before timing, every header is checked against the challenge as the
benchmark server's verifying route checks it (``server.digest_answer_problem``:
the response digest recomputed with hashlib, RFC 7616 §3.4.1), so no library
is timed producing something a server would refuse.

Blocks of calls are interleaved over the libraries, in an order rotated each
repeat, and the median nanoseconds per call is reported. Private methods of
aiohttp and httpx are used: a new version may rename them, and then this
script says so rather than reporting a number.

Usage: ``python benchmarks/digest_header.py [--calls 20000] [--repeats 15]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from aiohttp.client_middleware_digest_auth import parse_header_pairs
from harness import rotated, table
from server import DIGEST_LOGIN, DIGEST_PASSWORD, digest_answer_problem, digest_challenge
from yarl import URL

from aiohttp_auth._origins import Origin
from aiohttp_auth.digest.answers import choose_challenge
from aiohttp_auth.digest.protocol import make_cnonce
from aiohttp_auth.digest.spaces import ProtectionSpace, ProtectionSpaces

URL_STRING = "http://127.0.0.1:8080/digest/SHA-256/header"
ALGORITHM = "SHA-256"
TARGET_US = 5.0
OURS = "aiohttp_auth, whole answer"


def _warm_space() -> tuple[ProtectionSpace, URL]:
    """Our protection space for the benchmark challenge, learnt in advance, and the URL."""
    challenge, _ = choose_challenge([digest_challenge(ALGORITHM)])
    assert challenge is not None
    url = URL(URL_STRING)
    whole_origin = ((Origin.of(url), ""),)
    return ProtectionSpaces(DIGEST_LOGIN, DIGEST_PASSWORD).learn(challenge, whole_origin), url


def _ours_header_only() -> Callable[[], str]:
    space, url = _warm_space()
    credentials = space.credentials
    uri = url.raw_path_qs
    cnonce = make_cnonce(os.urandom(16))

    def call() -> str:
        return credentials.authorization("GET", uri, nc=1, cnonce=cnonce)

    return call


def _ours_whole_answer() -> Callable[[], str]:
    space, url = _warm_space()
    urandom = os.urandom

    def call() -> str:
        # As DigestAuthMiddleware does for each request in a known space.
        taken = space.take()
        assert taken is not None
        credentials, nc = taken
        cnonce = make_cnonce(urandom(16))
        return credentials.authorization("GET", url.raw_path_qs, nc=nc, cnonce=cnonce)

    return call


def _aiohttp() -> Callable[[], str]:
    middleware = aiohttp.DigestAuthMiddleware(DIGEST_LOGIN, DIGEST_PASSWORD)
    # What its _authenticate() stores after the 401.
    middleware._challenge = parse_header_pairs(  # type: ignore[assignment]
        digest_challenge(ALGORITHM).removeprefix("Digest ")
    )
    url = URL(URL_STRING)

    def call() -> str:
        coroutine = middleware._encode("GET", url, b"")
        try:
            coroutine.send(None)
        except StopIteration as done:
            return str(done.value)
        raise RuntimeError("aiohttp's _encode suspended")

    return call


def _httpx() -> Callable[[], str] | None:
    try:
        import httpx
    except ImportError:
        return None
    auth = httpx.DigestAuth(DIGEST_LOGIN, DIGEST_PASSWORD)
    request = httpx.Request("GET", URL_STRING)
    header = digest_challenge(ALGORITHM)
    response = httpx.Response(401, headers={"WWW-Authenticate": header}, request=request)
    challenge = auth._parse_challenge(request, response, header)

    def call() -> str:
        return auth._build_auth_header(request, challenge)

    return call


def implementations() -> dict[str, Callable[[], str]]:
    """Return name -> a call that builds one header; see the module docstring."""
    found: dict[str, Callable[[], str] | None] = {
        "aiohttp_auth, header only": _ours_header_only(),
        OURS: _ours_whole_answer(),
        "aiohttp": _aiohttp(),
        "httpx": _httpx(),
    }
    return {name: call for name, call in found.items() if call is not None}


def check_header(header: str) -> None:
    """Raise ``ValueError`` unless *header* answers the challenge correctly (RFC 7616 §3.4.1)."""
    problem = digest_answer_problem(
        header, method="GET", uri=URL(URL_STRING).raw_path_qs, algorithm=ALGORITHM
    )
    if problem is not None:
        raise ValueError(problem)


def _time_block(call: Callable[[], str], calls: int) -> float:
    gc.collect()
    start = time.perf_counter_ns()
    for _ in range(calls):
        call()
    return (time.perf_counter_ns() - start) / calls


def measure_digest_header(calls: int = 20_000, repeats: int = 15) -> dict[str, Any]:
    """Time every implementation; return per-name samples, medians and ratios to ours.

    Returns:
        ``{"rows": {name: {"ns": median, "best_ns": min, "ratio_to_ours": ...}},
        "target_us": ..., "ours": name}``.
    """
    calls_by_name = implementations()
    for name, call in calls_by_name.items():
        try:
            check_header(call())
        except ValueError as error:
            raise RuntimeError(f"{name} built a header the server would refuse: {error}") from None
        _time_block(call, 1_000)  # warm up
    samples: dict[str, list[float]] = {name: [] for name in calls_by_name}
    names = list(calls_by_name)
    for repeat in range(repeats):
        for name in rotated(names, repeat):
            samples[name].append(_time_block(calls_by_name[name], calls))
    ours = statistics.median(samples[OURS])
    rows = {
        name: {
            "ns": statistics.median(values),
            "best_ns": min(values),
            "ratio_to_ours": statistics.median(values) / ours,
            "samples_ns": values,
        }
        for name, values in samples.items()
    }
    return {"rows": rows, "ours": OURS, "target_us": TARGET_US, "calls": calls}


def format_digest_header(result: Mapping[str, Any]) -> str:
    timed = table(
        [("implementation", "<28"), ("µs/header", ">9"), ("best µs", ">8"), ("x ours", ">7")],
        [
            (
                name,
                f"{row['ns'] / 1e3:.2f}",
                f"{row['best_ns'] / 1e3:.2f}",
                f"{row['ratio_to_ours']:.2f}",
            )
            for name, row in result["rows"].items()
        ],
    )
    ours_us = result["rows"][result["ours"]]["ns"] / 1e3
    verdict = "meets" if ours_us <= result["target_us"] else "MISSES"
    return (
        f"{timed}\n{result['ours']}: {ours_us:.2f} µs: {verdict} the <= "
        f"{result['target_us']:.0f} µs target (SHA-256, qop auth, warm protection space)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000, help="calls per timed block")
    parser.add_argument("--repeats", type=int, default=15, help="timed blocks per library")
    args = parser.parse_args()
    print(format_digest_header(measure_digest_header(args.calls, args.repeats)))


if __name__ == "__main__":
    main()
