"""The benchmark's HTTP server: a minimal aiohttp.web app in a process of its own.

It never checks a credential, so every variant costs the server the same work
(parsing a few more header bytes aside) and differences in throughput come from
the client. It runs in a separate process so the server's CPU time does not count
against the client's event loop; the harness talks to it over loopback with
keep-alive.

Routes:
    GET /        200 with a 2-byte body: the timed request.
    GET /check   200 with JSON naming the credentials the request carried (the
                 scheme of ``Authorization``, whether ``X-API-Key`` was present,
                 the query parameter names), never their values. The harness
                 calls it once per variant to prove the middleware ran.

Run it directly to try it: ``python benchmarks/server.py`` prints
``PORT <n>`` on stdout once it listens, and stops on SIGTERM or SIGINT, or
when its parent process goes away.
Use :func:`running_server` from the harness: it starts the process, waits
(bounded) for it to listen, and always stops it by PID.
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
from collections.abc import Iterator
from pathlib import Path

from aiohttp import hdrs, web

STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
# Idle keep-alive connections must survive while the other variants run.
KEEPALIVE_TIMEOUT = 3600.0
ORPHAN_CHECK_INTERVAL = 1.0


async def index(request: web.Request) -> web.Response:
    return web.Response(body=b"ok")


async def check(request: web.Request) -> web.Response:
    authorization = request.headers.get(hdrs.AUTHORIZATION)
    seen = {
        "authorization_scheme": authorization.split(" ", 1)[0] if authorization else None,
        "x_api_key": "X-API-Key" in request.headers,
        "query_params": sorted(request.query.keys()),
    }
    return web.json_response(seen)


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/check", check)
    return app


async def _stop_when_orphaned(stop: asyncio.Event, parent: int) -> None:
    # If the harness dies without stopping us (SIGKILL), do not outlive it.
    while not stop.is_set():
        if os.getppid() != parent:
            stop.set()
        await asyncio.sleep(ORPHAN_CHECK_INTERVAL)


async def serve(host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    watchdog = asyncio.create_task(_stop_when_orphaned(stop, os.getppid()))
    # No access log: formatting a log line per request would be most of the server's work.
    runner = web.AppRunner(
        make_app(), access_log=None, keepalive_timeout=KEEPALIVE_TIMEOUT, shutdown_timeout=1.0
    )
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    site = web.SockSite(runner, sock, backlog=1024)
    await site.start()
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    try:
        await stop.wait()
    finally:
        watchdog.cancel()
        await runner.cleanup()


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
def running_server(host: str = "127.0.0.1") -> Iterator[tuple[str, int, int]]:
    """Start the server in a subprocess; yield ``(host, port, pid)``; always stop it."""
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--host", host, "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        port = _wait_for_port_line(proc, deadline)
        _wait_for_connect(host, port, deadline)
        yield host, port, proc.pid
    finally:
        _stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
