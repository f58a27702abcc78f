"""The throughput harness the benchmark scripts share: workloads, interleaved rounds, ratios.

``run.py`` and ``oauth2.py`` measure clients the same way, and this module is
that way:

* two **workloads**: :func:`sequential` (one request at a time) and
  :func:`concurrent` (worker tasks sharing one request budget), each over a
  :data:`Get`, a coroutine function that sends one request and reads the body;
* **interleaved rounds** (:func:`interleaved_rounds`): in every round each
  variant runs one block per workload, in an order rotated by one each round
  (:func:`rotated`), so drift and bursts of load from other processes hit all
  variants alike; every block records requests per second (wall clock) and the
  client's CPU time per request (``time.process_time``);
* **paired ratios** (:func:`paired`): the median and quartiles over rounds of
  one variant's req/s over another's *in the same round*;
* **CPU placement** of client and server during the rounds (:func:`pinned`);
* the **text tables** every script prints (:func:`table`).

The machine a run happened on, its log and its JSON record are in ``record.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from typing import NamedTuple

import aiohttp

#: Sends one request to a URL and reads the whole response; raises unless it is a 200.
Get = Callable[[str], Awaitable[None]]
#: What a workload is: (get, url, requests, concurrency) -> all requests answered.
Workload = Callable[[Get, str, int, int], Awaitable[None]]
#: workload -> variant -> {"rps": [per round], "cpu_us": [per round]}.
Samples = dict[str, dict[str, dict[str, list[float]]]]


def aiohttp_get(session: aiohttp.ClientSession) -> Get:
    """Return the :data:`Get` of *session*: one ``GET``, the body read, 200 expected."""

    async def get(url: str) -> None:
        async with session.get(url) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"{url} answered {response.status}")

    return get


# --------------------------------------------------------------------------- workloads


async def sequential(get: Get, url: str, requests: int, _: int) -> None:
    """Send *requests* requests one at a time: throughput is 1 / latency."""
    for _request in range(requests):
        await get(url)


async def concurrent(get: Get, url: str, requests: int, concurrency: int) -> None:
    """Share *requests* requests between *concurrency* worker tasks."""
    remaining = requests

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await get(url)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


WORKLOADS: dict[str, Workload] = {"sequential": sequential, "concurrent": concurrent}


# --------------------------------------------------------------------------- rounds


class RoundPlan(NamedTuple):
    """How the rounds run: how many, requests per block, workers in the concurrent workload."""

    rounds: int
    requests: int
    concurrency: int

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RoundPlan:
        """Take ``--rounds``, ``--requests`` and ``--concurrency``."""
        return cls(args.rounds, args.requests, args.concurrency)


class Block(NamedTuple):
    """What one variant runs in each timed block: its client, its URL, how many requests."""

    get: Get
    url: str
    requests: int


def rotated(names: Sequence[str], round_index: int) -> list[str]:
    """Return *names* rotated by *round_index*, so every name takes every place in turn."""
    shift = round_index % len(names)
    return [*names[shift:], *names[:shift]]


def warmup_requests(requests: int, concurrency: int) -> int:
    """How many untimed requests a variant sends per workload before the rounds."""
    return max(concurrency * 4, requests // 5)


async def warm_up(block: Block, concurrency: int) -> None:
    """Untimed: open the pool's connections and warm every code path, in both workloads."""
    warmup = warmup_requests(block.requests, concurrency)
    for workload in WORKLOADS.values():
        await workload(block.get, block.url, warmup, concurrency)


async def run_block(workload: Workload, block: Block, concurrency: int) -> tuple[float, float]:
    """Run one timed block; return (requests per second, client CPU µs per request)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    await workload(block.get, block.url, block.requests, concurrency)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return block.requests / wall, cpu / block.requests * 1e6


async def interleaved_rounds(
    blocks: Mapping[str, Block], plan: RoundPlan, after_round: Callable[[int, Samples], None]
) -> Samples:
    """Run the interleaved rounds of every workload over *blocks*; return the samples.

    The number of rounds and the concurrency are *plan*'s (the block sizes are
    the blocks'). *after_round* is called with the rounds done and the samples so far.
    """
    names = list(blocks)
    samples: Samples = {
        workload: {name: {"rps": [], "cpu_us": []} for name in names} for workload in WORKLOADS
    }
    for round_index in range(plan.rounds):
        order = rotated(names, round_index)
        for workload_name, workload in WORKLOADS.items():
            for name in order:
                rps, cpu_us = await run_block(workload, blocks[name], plan.concurrency)
                samples[workload_name][name]["rps"].append(rps)
                samples[workload_name][name]["cpu_us"].append(cpu_us)
        after_round(round_index + 1, samples)
    return samples


# --------------------------------------------------------------------------- ratios


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    """Return the first and third quartiles of *values* (both the value if there is one)."""
    if len(values) < 2:
        return values[0], values[0]
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q3


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Return the per-round ratios ``numerator / denominator`` of two series of samples."""
    return [n / d for n, d in zip(numerators, denominators, strict=True)]


def spread(values: Sequence[float]) -> dict[str, float]:
    """Return ``{"median", "q1", "q3"}`` of *values*."""
    q1, q3 = quartiles(values)
    return {"median": statistics.median(values), "q1": q1, "q3": q3}


def paired(numerators: Sequence[float], denominators: Sequence[float]) -> dict[str, float]:
    """Return the :func:`spread` of the paired per-round ratios of two series."""
    return spread(ratios(numerators, denominators))


# --------------------------------------------------------------------------- CPU placement

PIN_CHOICES = ("same", "split", "none")


def add_pin_option(parser: argparse.ArgumentParser, help: str) -> None:
    """Add ``--pin same|split|none`` (default ``same``): see :func:`pinned`."""
    parser.add_argument("--pin", choices=PIN_CHOICES, default="same", help=help)


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


# --------------------------------------------------------------------------- tables


def table(columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[str]]) -> str:
    """Return the column titles, a rule as long as them, and one line per row.

    Args:
        columns: (title, format spec) per column, e.g. ``("variant", "<22")``,
            ``("req/s", ">8")``; titles and cells are padded by the same spec.
        rows: the cells of each row, already formatted as text.
    """
    header = " ".join(format(title, spec) for title, spec in columns)
    lines = [
        " ".join(format(cell, spec) for cell, (_, spec) in zip(row, columns, strict=True))
        for row in rows
    ]
    return "\n".join([header, "-" * len(header), *lines])
