"""What a benchmark run records: the machine, a timed log, the JSON result.

``run.py`` and ``oauth2.py`` start their JSON result with :func:`new_record`
(``machine``, ``command``, ``date``), log with a :class:`RunLog` (seconds since
the start before each line), and end with :func:`finish` (``elapsed_s``, the
load average at the end, the JSON file and the chart, when asked for).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp

import aiohttp_auth


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


def machine(distributions: Iterable[str] = ()) -> dict[str, Any]:
    """Describe the machine and the versions measured; *distributions*: more versions (or None)."""
    try:
        load = os.getloadavg()
    except OSError:  # pragma: no cover - not on Linux/macOS
        load = None
    described: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "aiohttp": aiohttp.__version__,
        "aiohttp_auth": aiohttp_auth.__version__,
        "event_loop": _event_loop_name(),
        "loadavg_at_start": load,
    }
    for distribution in distributions:
        try:
            described[distribution] = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            described[distribution] = None
    return described


def new_record(described_machine: Mapping[str, Any]) -> dict[str, Any]:
    """Start a run's JSON result: the machine, the command line and the date (UTC)."""
    return {
        "machine": dict(described_machine),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


class RunLog:
    """Print progress lines prefixed with the seconds since the run started."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f} s] {message}", flush=True)


def write_json(result: Mapping[str, Any], path: Path) -> None:
    """Write *result* as indented JSON to *path* (creating its folder) and say so."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")


def finish(
    result: dict[str, Any],
    log: RunLog,
    *,
    output_json: Path | None,
    plot: Path | None,
    draw: Callable[[Mapping[str, Any], Path], None],
) -> None:
    """Close the record (elapsed time, load at the end); write the JSON and *draw* the chart."""
    result["elapsed_s"] = round(time.monotonic() - log.started, 1)
    if hasattr(os, "getloadavg"):
        result["machine"]["loadavg_at_end"] = os.getloadavg()
    log("done")
    if output_json:
        write_json(result, output_json)
    if plot:
        draw(result, plot)
        print(f"wrote {plot}")
