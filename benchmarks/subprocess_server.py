"""A benchmark server in a process of its own: starting it, serving in it, stopping it by PID.

The servers (``server.py``, ``oauth2_server.py``) run in a separate process so
that their CPU time does not count against the client's event loop. Both sides
of that arrangement are here.

In the harness (the parent):

* :func:`running_script` starts ``python SCRIPT --host HOST --port 0``, waits
  (bounded) for the ``PORT <n>`` line it prints once it listens and for the
  port to accept a connection, and always stops it by PID (SIGTERM, then
  SIGKILL after :data:`STOP_TIMEOUT`);
* :func:`stop_server_on_sigterm` turns SIGTERM into ``SystemExit``, so the
  ``finally`` that stops the server runs when the harness itself is stopped.

In the server (the child):

* :func:`start_site` serves an ``aiohttp.web`` app on a socket with no access
  log and keep-alive connections that outlive the other variants' blocks;
* :func:`stop_signal` is an event set on SIGTERM or SIGINT, or when the parent
  process goes away without stopping the server (SIGKILL);
* :func:`announce_port` prints the line :func:`running_script` waits for;
* :func:`serve_command_line` is a server script's ``main``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

from aiohttp import web

STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
# Idle keep-alive connections must survive while the other variants run.
KEEPALIVE_TIMEOUT = 3600.0
ORPHAN_CHECK_INTERVAL = 1.0


# --------------------------------------------------------------------------- the parent


def _wait_for_port_line(proc: subprocess.Popen[str], deadline: float) -> int:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while (remaining := deadline - time.monotonic()) > 0:
            if proc.poll() is not None:
                raise RuntimeError(f"benchmark server exited early with code {proc.returncode}")
            if selector.select(timeout=min(remaining, 0.5)):
                line = proc.stdout.readline()
                if line.startswith("PORT "):
                    return int(line.split()[1])
                if not line:
                    raise RuntimeError("benchmark server closed stdout without a port")
    raise TimeoutError(f"benchmark server did not listen within {STARTUP_TIMEOUT:.0f} s")


def _wait_for_connect(host: str, port: int, deadline: float) -> None:
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)
    if proc.stdout is not None:
        proc.stdout.close()


@contextlib.contextmanager
def running_script(script: Path, host: str) -> Iterator[tuple[int, int]]:
    """Start the server *script* in a subprocess; yield ``(port, pid)``; always stop it."""
    proc = subprocess.Popen(
        [sys.executable, str(script), "--host", host, "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        port = _wait_for_port_line(proc, deadline)
        _wait_for_connect(host, port, deadline)
        yield port, proc.pid
    finally:
        _stop(proc)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # The default action would end the process without running `finally`
    # blocks, leaving the server process behind.
    raise SystemExit(128 + signum)


def stop_server_on_sigterm() -> None:
    """Make SIGTERM raise ``SystemExit``, so :func:`running_script` still stops the server."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)


# --------------------------------------------------------------------------- the child


async def _stop_when_orphaned(stop: asyncio.Event, parent: int) -> None:
    # If the harness dies without stopping us (SIGKILL), do not outlive it.
    while not stop.is_set():
        if os.getppid() != parent:
            stop.set()
        await asyncio.sleep(ORPHAN_CHECK_INTERVAL)


@contextlib.asynccontextmanager
async def stop_signal() -> AsyncIterator[asyncio.Event]:
    """Yield an event set on SIGTERM or SIGINT, or once the parent process is gone."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    watchdog = asyncio.create_task(_stop_when_orphaned(stop, os.getppid()))
    try:
        yield stop
    finally:
        watchdog.cancel()


async def start_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve *app* on *host*:*port* (0 picks a free port); return its runner and port."""
    # No access log: formatting a line per request would be most of the server's work.
    runner = web.AppRunner(
        app, access_log=None, keepalive_timeout=KEEPALIVE_TIMEOUT, shutdown_timeout=1.0
    )
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    await web.SockSite(runner, sock, backlog=1024).start()
    return runner, sock.getsockname()[1]


def announce_port(port: int) -> None:
    """Tell :func:`running_script` that the server listens, and where."""
    print(f"PORT {port}", flush=True)


def serve_command_line(
    serve: Callable[[str, int], Coroutine[Any, Any, None]], description: str, port_help: str
) -> None:
    """Parse ``--host`` and ``--port`` and run ``serve(host, port)`` until it is stopped."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help=port_help)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port))
