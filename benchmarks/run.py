"""Keep-alive throughput of aiohttp with and without aiohttp_auth's middlewares.

Every variant gets one ``ClientSession`` (one ``TCPConnector``, keep-alive)
talking to the same minimal aiohttp.web server (``server.py``), which runs in a
process of its own on 127.0.0.1 and never checks credentials. Two workloads:

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

Then ``per_call.py`` times each middleware chain on a stand-in request with no
network (what aiohttp does around the middleware, and the middleware itself),
and ``import_time.py`` compares the import time of aiohttp_auth with aiohttp's.

Adding a variant is one entry in :data:`VARIANTS`: a name and a factory that
returns the tuple of middlewares for the session.

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
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.client_middlewares import ClientHandlerType, ClientMiddlewareType
from import_time import format_import_time, measure_import_time
from per_call import measure_per_call
from server import KEEPALIVE_TIMEOUT, running_server

import aiohttp_auth as aa

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

#: Reference rows: not subject to the 3 % target.
REFERENCES = frozenset(
    {BASELINE, "bare aiohttp (A/A)", "no-op middleware", "header, no middleware"}
)
OVERHEAD_TARGET = 0.97

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


async def _check_credentials(
    sessions: Mapping[str, aiohttp.ClientSession], base: str, variants: Mapping[str, Any]
) -> dict[str, str]:
    """Ask the server what each session sends, so no variant is a silent no-op."""
    seen_by_variant = {}
    for name, session in sessions.items():
        async with session.get(f"{base}/check") as response:
            seen = await response.json()
        parts = []
        if seen["authorization_scheme"]:
            parts.append(f"Authorization: {seen['authorization_scheme']} ...")
        if seen["x_api_key"]:
            parts.append("X-API-Key")
        parts += [f"?{param}=" for param in seen["query_params"]]
        sends_credential = bool(parts)
        if sends_credential != bool(variants[name]["sends_credential"]):
            raise RuntimeError(f"{name}: the server saw {parts or 'no credential'}")
        seen_by_variant[name] = ", ".join(parts) or "-"
    return seen_by_variant


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
    url = f"{base}/"
    names = list(variants)
    sessions = {}
    info = {}
    for name, factory in variants.items():
        connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=KEEPALIVE_TIMEOUT)
        setup = factory()
        if isinstance(setup, tuple):
            sessions[name] = aiohttp.ClientSession(connector=connector, middlewares=setup)
            sends_credential = any(isinstance(mw, aa.AuthMiddleware) for mw in setup)
        else:
            sessions[name] = aiohttp.ClientSession(connector=connector, **setup)
            sends_credential = bool(setup.get("headers") or setup.get("auth"))
        info[name] = {"sends_credential": sends_credential}
    try:
        seen = await _check_credentials(sessions, base, info)
        for name in names:
            info[name]["server_saw"] = seen[name]
            # Untimed: open the pool's connections and warm every code path.
            warmup = max(concurrency * 4, requests // 5)
            for workload in WORKLOADS.values():
                await workload(sessions[name], url, warmup, concurrency)
        samples: dict[str, dict[str, dict[str, list[float]]]] = {
            workload: {name: {"rps": [], "cpu_us": []} for name in names} for workload in WORKLOADS
        }
        for round_index in range(rounds):
            shift = round_index % len(names)
            order = names[shift:] + names[:shift]
            for workload_name, workload in WORKLOADS.items():
                for name in order:
                    rps, cpu_us = await _run_block(
                        workload, sessions[name], url, requests, concurrency
                    )
                    samples[workload_name][name]["rps"].append(rps)
                    samples[workload_name][name]["cpu_us"].append(cpu_us)
            bare = samples["sequential"][BASELINE]["rps"][-1]
            progress(f"round {round_index + 1}/{rounds} done (bare sequential {bare:,.0f} req/s)")
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


# --------------------------------------------------------------------------- output


def format_throughput_table(workload: str, rows: Mapping[str, Mapping[str, float]]) -> str:
    header = (
        f"{'variant':<22} {'req/s':>8} {'ratio':>6} {'ratio IQR':>13} {'best':>6} "
        f"{'Δ wall µs':>9} {'CPU µs/req':>10} {'Δ CPU µs':>9} {'Δ CPU':>7}"
    )
    lines = [f"{workload}:", header, "-" * len(header)]
    for name, row in rows.items():
        iqr = f"{row['ratio_q1']:.3f}-{row['ratio_q3']:.3f}"
        lines.append(
            f"{name:<22} {row['median_rps']:>8,.0f} {row['ratio']:>6.3f} {iqr:>13} "
            f"{row['best_ratio']:>6.3f} "
            f"{row['overhead_us']:>+9.1f} {row['cpu_us']:>10.1f} {row['cpu_overhead_us']:>+9.1f} "
            f"{row['cpu_overhead_pct']:>+6.1f}%"
        )
    return "\n".join(lines)


def format_per_call_table(
    per_call: Mapping[str, Mapping[str, float]], bare_cpu_us: float | None
) -> str:
    header = f"{'variant':<22} {'ns/call':>8} {'Δ ns':>7} {'Δ / bare seq. CPU per request':>30}"
    lines = [header, "-" * len(header)]
    for name, row in per_call.items():
        share = f"{row['overhead_ns'] / 1e3 / bare_cpu_us:.2%}" if bare_cpu_us else "-"
        lines.append(
            f"{name:<22} {row['ns_per_call']:>8.0f} {row['overhead_ns']:>+7.0f} {share:>30}"
        )
    return "\n".join(lines)


def verdicts(summary: Mapping[str, Mapping[str, Mapping[str, float]]]) -> list[str]:
    lines = []
    for workload, rows in summary.items():
        for name, row in rows.items():
            if name in REFERENCES:
                continue
            verdict = "meets" if row["ratio"] >= OVERHEAD_TARGET else "MISSES"
            lines.append(
                f"{workload:>10} {name:<20} ratio {row['ratio']:.3f}: {verdict} the "
                f">= {OVERHEAD_TARGET} (<= 3 % overhead) target; client CPU "
                f"{row['cpu_overhead_pct']:+.1f} %"
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
    summary = summarise(measured["samples"])
    result["variants"] = measured["variants"]
    result["workloads"] = summary
    print("\nwhat the server saw (credentials are never echoed):")
    for name, row in measured["variants"].items():
        print(f"  {name:<22} {row['server_saw']}")
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

    if not args.skip_per_call:
        log("timing each middleware chain on a stand-in request")
        chains = {name: factory for name, factory in variants.items() if _is_chain(factory)}
        result["per_call"] = measure_per_call(
            chains, baseline=BASELINE, url=f"http://127.0.0.1:{port}/"
        )
        print("\nper-call cost without network (see benchmarks/per_call.py for what it covers):")
        print(format_per_call_table(result["per_call"], summary["sequential"][BASELINE]["cpu_us"]))

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
