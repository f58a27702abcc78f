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
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness import add_pin_option, table
from oauth2_burst import format_burst, measure_burst
from oauth2_clients import BASELINE, OURS, STATIC, available_variants
from oauth2_plot import plot_results
from oauth2_server import CLIENT_SECRET, ONE_HOUR, running_oauth2_server
from oauth2_steady import run_steady
from oauth2_sustained import format_sustained, run_sustained
from per_call import challenging_handler, measure_per_call
from record import RunLog, finish, machine, new_record
from subprocess_server import stop_server_on_sigterm

import aiohttp_auth as aa
from aiohttp_auth.oauth2.grants import ClientCredentials
from aiohttp_auth.oauth2.token import Token
from aiohttp_auth.stores import MemoryTokenStore

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
#: The versions of the other clients, recorded with the machine.
THIRD_PARTY_DISTRIBUTIONS = ("httpx", "httpcore", "httpx-auth", "authlib", "anyio")


# --------------------------------------------------------------------------- 4. per call


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
    timed = table(
        [("chain", "<18"), ("ns/call", ">8"), ("Δ vs bare", ">10")],
        [
            (name, f"{row['ns_per_call']:.0f}", f"{row['overhead_ns']:+.0f}")
            for name, row in per_call.items()
        ],
    )
    extra = per_call[OURS]["ns_per_call"] - per_call[STATIC]["ns_per_call"]
    share = (
        f" ({extra / 1e3 / bare_cpu_us:.2%} of bare aiohttp's client CPU per sequential request)"
        if bare_cpu_us
        else ""
    )
    return f"{timed}\nOAuth2Middleware - Bearer (static): {extra:+.0f} ns per request{share}"


# --------------------------------------------------------------------------- main


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
    add_pin_option(
        parser, help="CPU placement of client and server during the steady-state rounds"
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


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    return {key: getattr(args, key) for key in [*DEFAULTS, "sustained_pool", "small_pool", "pin"]}


def main(argv: list[str] | None = None) -> None:
    stop_server_on_sigterm()
    args = parse_args(argv)
    if args.replot:
        plot_results(json.loads(args.replot.read_text()), args.plot)
        print(f"wrote {args.plot}")
        return
    log = RunLog()
    variants, missing = available_variants()
    result = new_record(machine(THIRD_PARTY_DISTRIBUTIONS))
    result["settings"] = _settings(args)
    result["missing"] = missing
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
            result["sustained"] = run_sustained(args, ports, log)
            print(format_sustained(result["sustained"]), flush=True)
        if not args.skip_steady:
            result["steady"] = run_steady(args, ports, variants, log)
    if not args.skip_per_call:
        log("timing the chains alone (no network)")
        result["per_call"] = measure_chain_per_call(quick=args.quick)
        steady = result.get("steady")
        bare_cpu = steady["summary"]["sequential"][BASELINE]["cpu_us"] if steady else None
        print(format_per_call(result["per_call"], bare_cpu))
    finish(result, log, output_json=args.output_json, plot=args.plot, draw=plot_results)


if __name__ == "__main__":
    main()
