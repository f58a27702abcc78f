"""The OAuth 2 benchmark's server: the embedded authorization server, in a process of its own.

``benchmarks/oauth2.py`` starts it with :func:`running_oauth2_server`. One
process, one event loop, two ports on 127.0.0.1:

* the **authorization server** port: the package's own authorization server
  (``aiohttp_auth.testing.oauth2.authorization_server_app``), with one
  registered client per measurement (:data:`CLIENTS`, all with
  :data:`CLIENT_SECRET`), so the token requests of each are counted apart.
  ``POST /token`` is its token endpoint; ``GET /resource/{tail}`` its
  protected resource, which looks every access token up and answers 401
  ``invalid_token`` (RFC 6750 §3.1) to an unknown or **expired** one: the
  route of the single-flight and expiry measurements. It records every
  request and checks for planned faults, work the steady-state routes must
  not pay, hence:
* the **resource** port, an app without middleware:

  * ``GET /open``: 200 with a 2-byte body, no check: bare clients' timed route.
  * ``GET /bearer``: 200 with a 2-byte body if ``Authorization`` starts with
    ``Bearer ``, else 401. The steady-state route of every variant that sends
    a token: it accepts any token without looking it up, so what differs
    between variants is the client's work, not the server's.
  * ``GET /verified-bearer``: the same, but 200 only for an access token the
    authorization server issued and that is still active: the harness sends
    each variant's first request here, so a client that sent no valid token
    stops the run.
  * ``GET /bench/stats``: JSON ``{"token_calls": {client_id: n},
    "resource_statuses": {status: n}, "lifetime": s,
    "authorization_server_port": n}``: the token requests answered per client
    and the statuses ``/resource`` answered since the last reset.
  * ``POST /bench/reset``: JSON ``{"access_token_lifetime": s}`` (optional)
    sets the lifetime of the tokens issued from now on and clears the counters.

The authorization server records every request it receives (for tests that
search them for leaked secrets); a benchmark sending thousands per second has
no use for the records, so they are dropped every second to keep memory flat.

Run it directly to try it: ``python benchmarks/oauth2_server.py`` prints
``PORT <resource port>`` once both listen and stops on SIGTERM or SIGINT, or when its parent
process goes away. The measurements talk to it with :func:`server_stats`,
:func:`reset_server` and :func:`fetch_token`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, NamedTuple

import aiohttp
from aiohttp import hdrs, web
from subprocess_server import (
    STARTUP_TIMEOUT,
    announce_port,
    running_script,
    serve_command_line,
    start_site,
    stop_signal,
)

from aiohttp_auth.testing.oauth2 import AuthorizationServerConfig, authorization_server_app

CLIENT_SECRET: Final = "bench-client-secret-0123456789"
#: One client per measurement, so that token requests are counted per client.
CLIENTS: Final = (
    "burst-ours",
    "sustained-ours",
    "steady-ours",
    "steady-httpx-auth",
    "steady-authlib",
    "steady-static",
)
RECORDS_DROP_INTERVAL: Final = 1.0
#: A token lifetime no measurement outlasts: the lifetime of every token but the sustained runs'.
ONE_HOUR: Final = 3600.0

_CONFIG = web.AppKey("bench_as_config", AuthorizationServerConfig)
_STATUSES = web.AppKey("bench_resource_statuses", Counter)
_AS_PORT = web.AppKey("bench_as_port", int)


async def open_route(request: web.Request) -> web.Response:
    return web.Response(body=b"ok")


async def bearer_route(request: web.Request) -> web.Response:
    # Accept any token unseen: the client's cost is what is measured here.
    if request.headers.get(hdrs.AUTHORIZATION, "").startswith("Bearer "):
        return web.Response(body=b"ok")
    return web.Response(status=401, headers={hdrs.WWW_AUTHENTICATE: 'Bearer realm="bench"'})


async def verified_bearer_route(request: web.Request) -> web.Response:
    config = request.app[_CONFIG]
    scheme, _, value = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    token = config.tokens.get(value) if scheme == "Bearer" else None
    if token is None or token.kind != "access_token" or not token.active(config.clock()):
        return web.Response(
            status=401,
            headers={hdrs.WWW_AUTHENTICATE: 'Bearer realm="bench", error="invalid_token"'},
        )
    return web.Response(body=b"ok")


async def stats_route(request: web.Request) -> web.Response:
    config = request.app[_CONFIG]
    token_calls = Counter(
        call.client_id for call in config.token_requests if call.status == 200 and call.client_id
    )
    return web.json_response(
        {
            "token_calls": dict(token_calls),
            "token_calls_total": sum(config.token_calls.values()),
            "resource_statuses": {str(k): n for k, n in request.app[_STATUSES].items()},
            "lifetime": config.access_token_lifetime,
            "authorization_server_port": request.app[_AS_PORT],
        }
    )


async def reset_route(request: web.Request) -> web.Response:
    config = request.app[_CONFIG]
    settings = await request.json() if request.can_read_body else {}
    lifetime = settings.get("access_token_lifetime")
    if lifetime is not None:
        config.access_token_lifetime = float(lifetime)
        config.validate()
    config.reset()
    request.app[_STATUSES].clear()
    return web.json_response({"lifetime": config.access_token_lifetime})


def make_apps() -> tuple[web.Application, web.Application]:
    """Return (the resource app, the authorization server app), sharing one configuration."""
    config = AuthorizationServerConfig()
    for client_id in CLIENTS:
        config.register(client_id, CLIENT_SECRET, grant_types=("client_credentials",))
    statuses: Counter[int] = Counter()
    authorization_server = authorization_server_app(config)

    async def count_status(request: web.Request, response: web.StreamResponse) -> None:
        if request.path.startswith("/resource/"):
            statuses[response.status] += 1

    authorization_server.on_response_prepare.append(count_status)
    resource = web.Application()
    resource[_CONFIG] = config
    resource[_STATUSES] = statuses
    resource.router.add_get("/open", open_route)
    resource.router.add_get("/bearer", bearer_route)
    resource.router.add_get("/verified-bearer", verified_bearer_route)
    resource.router.add_get("/bench/stats", stats_route)
    resource.router.add_post("/bench/reset", reset_route)
    return resource, authorization_server


async def _drop_records(config: AuthorizationServerConfig, stop: asyncio.Event) -> None:
    while not stop.is_set():
        config.requests.clear()
        await asyncio.sleep(RECORDS_DROP_INTERVAL)


async def serve(host: str, port: int) -> None:
    """Serve both apps, the resource on *host*:*port*, until stopped (``subprocess_server.py``)."""
    resource, authorization_server = make_apps()
    async with stop_signal() as stop:
        dropping = asyncio.create_task(_drop_records(resource[_CONFIG], stop))
        runners = []
        try:
            as_runner, as_port = await start_site(authorization_server, host, 0)
            runners.append(as_runner)
            resource[_AS_PORT] = as_port
            resource_runner, resource_port = await start_site(resource, host, port)
            runners.append(resource_runner)
            announce_port(resource_port)
            await stop.wait()
        finally:
            dropping.cancel()
            for runner in runners:
                await runner.cleanup()


class Ports(NamedTuple):
    """Where the running server listens, and its process id."""

    host: str
    resource_port: int
    authorization_server_port: int
    pid: int

    def resource_url(self, path: str) -> str:
        """The URL of *path* on the resource port."""
        return f"http://{self.host}:{self.resource_port}{path}"

    def as_url(self, path: str) -> str:
        """The URL of *path* on the authorization server's port."""
        return f"http://{self.host}:{self.authorization_server_port}{path}"


@contextlib.contextmanager
def running_oauth2_server(host: str = "127.0.0.1") -> Iterator[Ports]:
    """Start the server in a subprocess; yield its :class:`Ports`; always stop it by PID."""
    with running_script(Path(__file__).resolve(), host) as (port, pid):
        with urllib.request.urlopen(
            f"http://{host}:{port}/bench/stats", timeout=STARTUP_TIMEOUT
        ) as response:
            as_port = int(json.load(response)["authorization_server_port"])
        yield Ports(host, port, as_port, pid)


async def server_stats(control: aiohttp.ClientSession, ports: Ports) -> dict[str, Any]:
    """Return the server's counters (``GET /bench/stats``, see the module docstring)."""
    async with control.get(ports.resource_url("/bench/stats")) as response:
        response.raise_for_status()
        stats: dict[str, Any] = await response.json()
    return stats


async def reset_server(control: aiohttp.ClientSession, ports: Ports, lifetime: float) -> None:
    """Clear the server's counters; tokens issued from now on live *lifetime* seconds."""
    url = ports.resource_url("/bench/reset")
    async with control.post(url, json={"access_token_lifetime": lifetime}) as response:
        response.raise_for_status()


async def fetch_token(control: aiohttp.ClientSession, ports: Ports, client_id: str) -> str:
    """Obtain an access token for *client_id* directly (client credentials, RFC 6749 §4.4)."""
    authorization = aiohttp.encode_basic_auth(client_id, CLIENT_SECRET)  # RFC 6749 §2.3.1
    async with control.post(
        ports.as_url("/token"),
        data={"grant_type": "client_credentials"},
        headers={"Authorization": authorization},
    ) as response:
        response.raise_for_status()
        token: str = (await response.json())["access_token"]
    return token


if __name__ == "__main__":
    serve_command_line(serve, __doc__.splitlines()[0], port_help="the resource port; 0 picks one")
