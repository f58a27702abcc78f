"""Serve an ``aiohttp.web`` application on 127.0.0.1, in this event loop or in a thread.

These are real servers on real sockets: what a test sees is what aiohttp's
client really sends and receives, redirects and TLS included.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from aiohttp import web
from yarl import URL

__all__ = ["LocalServer", "serve_in_thread"]


class LocalServer:
    """An application served on 127.0.0.1 at a free port, in the running event loop.

    Use it as ``async with LocalServer(app) as server: ... server.url ...``.

    Args:
        app: the application to serve.
        host: the loopback address to bind, ``"127.0.0.1"`` or ``"::1"``.
        ssl_context: a server TLS context to serve ``https://`` (e.g. from trustme).
    """

    def __init__(
        self,
        app: web.Application,
        *,
        host: str = "127.0.0.1",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self.ssl_context = ssl_context
        self._runner: web.AppRunner | None = None
        self._port = 0

    async def start(self) -> None:
        """Start serving; the port is chosen by the operating system."""
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, self.host, 0, ssl_context=self.ssl_context)
        await site.start()
        self._runner = runner
        self._port = runner.addresses[0][1]

    async def close(self) -> None:
        """Stop serving and release the socket."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def port(self) -> int:
        """The port the server listens on (0 before [`start`][])."""
        return self._port

    @property
    def url(self) -> URL:
        """The server's root URL, e.g. ``http://127.0.0.1:43121/``."""
        scheme = "https" if self.ssl_context is not None else "http"
        return URL.build(scheme=scheme, host=self.host, port=self._port, path="/")

    def make_url(self, path: str) -> URL:
        """Return the absolute URL of *path* on this server."""
        return self.url.join(URL(path))

    async def __aenter__(self) -> LocalServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


@contextmanager
def serve_in_thread(
    app: web.Application,
    *,
    host: str = "127.0.0.1",
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = 10.0,
) -> Iterator[LocalServer]:
    """Serve *app* from a thread with its own event loop; usable from sync code.

    Works whatever event loop (or none) the caller runs, which makes it the
    basis of the pytest fixtures. The thread is stopped and joined on exit.
    """
    loop = asyncio.new_event_loop()
    server = LocalServer(app, host=host, ssl_context=ssl_context)
    thread = threading.Thread(target=loop.run_forever, name="aiohttp-auth-server", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout)
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        loop.close()
