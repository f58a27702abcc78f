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

The variants are in ``throughput_variants.py`` (adding one is one entry in its
``VARIANTS``), the measurement in ``throughput.py`` over ``harness.py``'s
rounds, the tables in ``throughput_tables.py``; this script ties them together.

Usage: ``python benchmarks/run.py [--quick] [--rounds R] [--requests N]
[--concurrency C] [--only NAME ...] [--output-json PATH] [--plot PATH]``.
Benchmarks are never timed tests: nothing here fails on a slow result.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from digest_header import format_digest_header, measure_digest_header
from harness import RoundPlan, add_pin_option, pinned
from import_time import format_import_time, measure_import_time
from per_call import challenging_handler, measure_per_call
from plot import plot_results
from record import RunLog, finish, machine, new_record
from server import digest_challenge, running_server
from subprocess_server import stop_server_on_sigterm
from throughput import count_cold_burst_401s, measure_throughput, summarise, summarise_digest
from throughput_tables import (
    digest_verdicts,
    format_401_table,
    format_digest_table,
    format_per_call_table,
    format_throughput_table,
    verdicts,
)
from throughput_variants import (
    BASELINE,
    CATALOGUE,
    DIGEST_TARGET,
    OVERHEAD_TARGET,
    Catalogue,
    is_chain,
)

# Many short blocks rather than a few long ones: a burst of load from another
# process then spoils a few pairs instead of shifting whole medians.
DEFAULTS = {"rounds": 16, "requests": 1000, "concurrency": 50, "import_runs": 21}
QUICK = {"rounds": 3, "requests": 300, "concurrency": 50, "import_runs": 5}


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
    add_pin_option(
        parser, help="CPU placement of client and server during the rounds (default: same CPU)"
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


def _measure_rounds(
    args: argparse.Namespace, catalogue: Catalogue, result: dict[str, Any], log: RunLog
) -> tuple[dict[str, Any], int]:
    """Start the server, pin, run the rounds and the cold bursts; return them and the port."""
    with running_server() as (host, port, pid), pinned(args.pin, pid) as placement:
        base = f"http://{host}:{port}"
        log(f"server pid {pid} listening on {base}; {placement}")
        result["placement"] = placement
        measured = asyncio.run(
            measure_throughput(base, catalogue, RoundPlan.from_args(args), progress=log)
        )
        if catalogue.routes:
            cold = asyncio.run(count_cold_burst_401s(base, catalogue, args.concurrency))
            for name, count in cold.items():
                measured["variants"][name]["cold_burst_401s"] = count
    return measured, port


def _print_throughput(
    measured: dict[str, Any], summary: dict[str, Any], catalogue: Catalogue
) -> None:
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
    print("\n".join(verdicts(summary, catalogue)))


def _print_digest(
    digest: dict[str, Any], variants: dict[str, Any], catalogue: Catalogue, concurrency: int
) -> None:
    print(
        "\nDigest, ours / aiohttp's DigestAuthMiddleware(preemptive=True), paired per round "
        "(CPU: client µs per request).\nReference pairs put in place of ours: a header "
        "computed per request with no middleware logic (header only), and a precomputed\n"
        "header (the ceiling: the most any Digest middleware could gain on this setup)."
    )
    print(format_digest_table(digest))
    print(
        "\n401s the server sent per variant: during the run (the check, the warm-up "
        "and the rounds), and to a fresh session's burst of "
        f"{concurrency} concurrent first requests:"
    )
    print(format_401_table(variants, catalogue.references))
    print()
    print("\n".join(digest_verdicts(digest, variants, catalogue.references)))


def _per_call(catalogue: Catalogue, result: dict[str, Any], port: int, bare_cpu_us: float) -> None:
    """Time each chain, then each Digest pair on a stand-in Digest route, without network."""
    chains = {
        name: factory
        for name, factory in catalogue.variants.items()
        if is_chain(factory) and name not in catalogue.routes
    }
    result["per_call"] = measure_per_call(
        chains, baseline=BASELINE, url=f"http://127.0.0.1:{port}/"
    )
    print("\nper-call cost without network (see benchmarks/per_call.py for what it covers):")
    print(format_per_call_table(result["per_call"], bare_cpu_us))
    result["digest_per_call"] = {}
    for label, (ours, theirs) in catalogue.digest_pairs.items():
        route = catalogue.routes[ours]
        if route.verified or ours in catalogue.references:
            continue  # the same middlewares as another pair, or no middleware of ours
        url = f"http://127.0.0.1:{port}{route.path(suffix='-per-call')}"
        handler = challenging_handler(url, digest_challenge(route.algorithm))
        digest_chains = {name: catalogue.variants[name] for name in (BASELINE, ours, theirs)}
        timed = measure_per_call(digest_chains, baseline=BASELINE, url=url, handler=handler)
        result["digest_per_call"][label] = timed
        print(
            f"\nper-call cost, Digest {label}, warm protection space: ours / aiohttp's = "
            f"{timed[ours]['overhead_ns'] / timed[theirs]['overhead_ns']:.2f}"
        )
        print(format_per_call_table(timed, bare_cpu_us))


def main(argv: list[str] | None = None, catalogue: Catalogue = CATALOGUE) -> None:
    """Measure the variants of *catalogue* (see the module docstring and ``--help``)."""
    stop_server_on_sigterm()
    args = parse_args(argv)
    catalogue = catalogue.select(args.only)
    log = RunLog()
    result = new_record(machine())
    result["settings"] = {
        key: getattr(args, key) for key in ("rounds", "requests", "concurrency", "import_runs")
    }
    result["baseline"] = BASELINE
    result["references"] = sorted(catalogue.references & set(catalogue.variants))
    result["overhead_target"] = OVERHEAD_TARGET
    m = result["machine"]
    print(
        f"{m['nproc']} CPUs, Python {m['python']}, aiohttp {m['aiohttp']}, "
        f"aiohttp_auth {m['aiohttp_auth']}, {m['event_loop']}; "
        f"{args.rounds} rounds x {len(catalogue.variants)} variants x {args.requests} requests "
        f"(concurrency {args.concurrency})",
        flush=True,
    )
    result["digest_pairs"] = dict(catalogue.digest_pairs)
    result["digest_target"] = DIGEST_TARGET
    measured, port = _measure_rounds(args, catalogue, result, log)
    summary = summarise(measured["samples"])
    result["variants"] = measured["variants"]
    result["workloads"] = summary
    _print_throughput(measured, summary, catalogue)
    if catalogue.digest_pairs:
        result["digest"] = summarise_digest(measured["samples"], catalogue.digest_pairs)
        _print_digest(result["digest"], measured["variants"], catalogue, args.concurrency)
    if not args.skip_per_call:
        log("timing each middleware chain on a stand-in request")
        _per_call(catalogue, result, port, summary["sequential"][BASELINE]["cpu_us"])
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
    finish(result, log, output_json=args.output_json, plot=args.plot, draw=plot_results)


if __name__ == "__main__":
    main()
