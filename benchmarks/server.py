"""The benchmark's HTTP server: a minimal aiohttp.web app in a process of its own.

It never checks a credential on a timed route, so every variant costs the server
the same work (parsing a few more header bytes aside) and differences in
throughput come from the client. It runs in a separate process so the server's
CPU time does not count against the client's event loop; the harness talks to
it over loopback with keep-alive.

Routes:
    GET /        200 with a 2-byte body: the timed request.
    GET /check   200 with JSON naming the credentials the request carried (the
                 scheme of ``Authorization``, whether ``X-API-Key`` was present,
                 the query parameter names), never their values. The harness
                 calls it once per variant to prove the middleware ran.
    GET /digest/{algorithm}/{tag}
                 the timed route of the Digest variants: 401 with one fixed
                 challenge (:func:`digest_challenge`) to a request without
                 ``Authorization``, and 200 with a 2-byte body to any request
                 with ``Authorization: Digest ...``, **without verifying it**:
                 checking the answer would cost the server two or three hashes
                 and a parse per request, and with client and server sharing a
                 CPU (``--pin same``) that would hide part of the client's cost.
                 The 401s and answered requests are counted per ``tag`` (one
                 per variant).
    GET /verified-digest/{algorithm}/{tag}
                 the same, but every answer is verified (RFC 7616 §3.4.1,
                 computed here with hashlib, independently of the client
                 libraries): 200 with JSON ``{"authorization_scheme": "Digest",
                 "verified": true}``, or 403 naming what did not match. The
                 harness calls it once per Digest variant, so a middleware that
                 sent a wrong answer stops the run, and it is the route of the
                 optional "verifying server" rows.
    GET /digest-stats
                 JSON ``{tag: {"401": n, "answered": m}}``: how many 401s the
                 Digest routes sent and how many answered requests they got.

A fixed nonce that never goes stale, with a server that never verifies, keeps
the timed Digest route as cheap as ``/``: what differs between variants is the
client's work.

Run it directly to try it: ``python benchmarks/server.py`` prints
``PORT <n>`` on stdout once it listens, and stops on SIGTERM or SIGINT, or
when its parent process goes away.
Use :func:`running_server` from the harness: it starts the process, waits
(bounded) for it to listen, and always stops it by PID.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from aiohttp import hdrs, web
from subprocess_server import (
    announce_port,
    running_script,
    serve_command_line,
    start_site,
    stop_signal,
)

DIGEST_LOGIN = "bench-user"
DIGEST_PASSWORD = "bench-password"
DIGEST_REALM = "bench@127.0.0.1"
# Fixed: the timed route never verifies, so a nonce never needs to change.
DIGEST_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
DIGEST_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
#: The algorithms the Digest routes offer: the name in the challenge -> its hash.
DIGEST_ALGORITHMS: dict[str, Callable[[bytes], Any]] = {
    "SHA-256": hashlib.sha256,
    "MD5": hashlib.md5,
}
_DIGEST_STATS = web.AppKey("digest_stats", defaultdict)
# One directive of an Authorization header: name=token or name="quoted string".
_DIRECTIVE = re.compile(r'([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


def digest_challenge(algorithm: str) -> str:
    """The ``WWW-Authenticate`` value of the Digest routes for *algorithm*."""
    return (
        f'Digest realm="{DIGEST_REALM}", qop="auth", algorithm={algorithm}, '
        f'nonce="{DIGEST_NONCE}", opaque="{DIGEST_OPAQUE}"'
    )


def _response_digest(algorithm: str, method: str, uri: str, nc: str, cnonce: str) -> str:
    """The ``response`` of an answer to :func:`digest_challenge` (RFC 7616 §3.4.1), by hashlib."""

    def h(text: str) -> str:
        return str(DIGEST_ALGORITHMS[algorithm](text.encode()).hexdigest())

    ha1 = h(f"{DIGEST_LOGIN}:{DIGEST_REALM}:{DIGEST_PASSWORD}")
    return h(f"{ha1}:{DIGEST_NONCE}:{nc}:{cnonce}:auth:{h(f'{method}:{uri}')}")


def digest_authorization(algorithm: str, method: str, uri: str, nc: int, cnonce: str) -> str:
    """A valid ``Authorization`` answer to :func:`digest_challenge`, computed with hashlib.

    RFC 7616 §3.4.1, independently of the client libraries under test.
    """
    response = _response_digest(algorithm, method, uri, f"{nc:08x}", cnonce)
    return (
        f'Digest username="{DIGEST_LOGIN}", realm="{DIGEST_REALM}", nonce="{DIGEST_NONCE}", '
        f'uri="{uri}", algorithm={algorithm}, response="{response}", '
        f'opaque="{DIGEST_OPAQUE}", qop=auth, nc={nc:08x}, cnonce="{cnonce}"'
    )


def digest_answer_problem(
    authorization: str, *, method: str, uri: str, algorithm: str
) -> str | None:
    """Verify a Digest answer to :func:`digest_challenge` (RFC 7616 §3.4.1); say what is wrong.

    Args:
        authorization: the ``Authorization`` value, ``Digest ...``.
        method: the request's method.
        uri: the request-target as sent.
        algorithm: the algorithm of the challenge answered.

    Returns:
        ``None`` for a valid answer, else what does not match.
    """
    params = {
        match[1].lower(): match[3] if match[2] is None else re.sub(r"\\(.)", r"\1", match[2])
        for match in _DIRECTIVE.finditer(authorization.removeprefix("Digest "))
    }
    expected = {
        "username": DIGEST_LOGIN,
        "realm": DIGEST_REALM,
        "nonce": DIGEST_NONCE,
        "opaque": DIGEST_OPAQUE,
        "uri": uri,
        "qop": "auth",
    }
    for name, value in expected.items():
        if params.get(name) != value:
            return f"{name} is {params.get(name)!r}, expected {value!r}"
    nc, cnonce = params.get("nc", ""), params.get("cnonce", "")
    if not re.fullmatch(r"[0-9a-fA-F]{8}", nc) or not cnonce:
        return "nc or cnonce is missing or malformed"
    response = _response_digest(algorithm, method, uri, nc, cnonce)
    if not hmac.compare_digest(params.get("response", ""), response):
        return "the response digest does not match"
    return None


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


async def _digest(request: web.Request, *, verify: bool) -> web.Response:
    algorithm = request.match_info["algorithm"]
    if algorithm not in DIGEST_ALGORITHMS:
        raise web.HTTPNotFound(text=f"no Digest algorithm {algorithm!r} here")
    stats = request.app[_DIGEST_STATS][request.match_info["tag"]]
    authorization = request.headers.get(hdrs.AUTHORIZATION)
    if authorization is None:
        stats["401"] += 1
        return web.Response(
            status=401, headers={hdrs.WWW_AUTHENTICATE: digest_challenge(algorithm)}
        )
    if not authorization.startswith("Digest "):
        raise web.HTTPBadRequest(text="expected Authorization: Digest ...")
    stats["answered"] += 1
    if not verify:
        return web.Response(body=b"ok")
    problem = digest_answer_problem(
        authorization, method=request.method, uri=request.raw_path, algorithm=algorithm
    )
    if problem is not None:
        raise web.HTTPForbidden(text=f"Digest answer refused: {problem}")
    return web.json_response({"authorization_scheme": "Digest", "verified": True})


async def digest(request: web.Request) -> web.Response:
    return await _digest(request, verify=False)


async def verified_digest(request: web.Request) -> web.Response:
    return await _digest(request, verify=True)


async def digest_stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[_DIGEST_STATS])


def make_app() -> web.Application:
    app = web.Application()
    app[_DIGEST_STATS] = defaultdict(Counter)
    app.router.add_get("/", index)
    app.router.add_get("/check", check)
    app.router.add_get("/digest/{algorithm}/{tag}", digest)
    app.router.add_get("/verified-digest/{algorithm}/{tag}", verified_digest)
    app.router.add_get("/digest-stats", digest_stats)
    return app


async def serve(host: str, port: int) -> None:
    """Serve :func:`make_app` on *host*:*port* until stopped (see ``subprocess_server.py``)."""
    async with stop_signal() as stop:
        runner, bound = await start_site(make_app(), host, port)
        announce_port(bound)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()


@contextlib.contextmanager
def running_server(host: str = "127.0.0.1") -> Iterator[tuple[str, int, int]]:
    """Start the server in a subprocess; yield ``(host, port, pid)``; always stop it by PID."""
    with running_script(Path(__file__).resolve(), host) as (port, pid):
        yield host, port, pid


if __name__ == "__main__":
    serve_command_line(serve, __doc__.splitlines()[0], port_help="0 picks a free port")
