"""DigestAuthMiddleware against small aiohttp.web Digest servers defined here.

:class:`DigestServer` checks every answer with the sans-IO protocol module (the
code under test builds its answers with the same module; the real-server tests in
``test_digest_integration.py`` are the independent check). It counts the
challenges it sends, refuses a nonce count used twice with one nonce, and can
mark nonces stale, send ``nextnonce`` and ``rspauth``, act as a proxy (407) and
forward to an origin. The protection-space bookkeeping (:mod:`.spaces`) is also
tested directly, without an event loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import inspect
import io
import logging
import os
import pickle
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import hdrs, web
from multidict import CIMultiDict
from peers import NameResolver, Site
from yarl import URL

from aiohttp_auth import ChallengeError, ConfigurationError
from aiohttp_auth._origins import Origin
from aiohttp_auth.challenges import parse_auth_params
from aiohttp_auth.digest import DigestAuthMiddleware, DigestChallenge, DigestCredentials, cnonces
from aiohttp_auth.digest import spaces as digest_spaces
from aiohttp_auth.digest.spaces import (
    MAX_DOMAIN_URIS,
    MAX_NONCE_COUNT,
    ProtectionSpace,
    ProtectionSpaces,
    space_prefixes,
)
from aiohttp_auth.testing import LocalServer

LOGIN, PASSWORD = "mufasa", "Circle of Life"
OPAQUE = "5ccc069c403ebaf9f0171e9517f40e41"
#: Bound for anything that could hang if the middleware were wrong.
DEADLINE = 10.0
TIMEOUT = aiohttp.ClientTimeout(total=DEADLINE)
#: aiohttp 3.12.0 cannot give a stream or file body to hash; 3.12.1 added Payload.as_bytes().
HAS_AS_BYTES = hasattr(aiohttp.payload.Payload, "as_bytes")
needs_as_bytes = pytest.mark.skipif(
    not HAS_AS_BYTES,
    reason="aiohttp < 3.12.1 cannot read a stream or file to hash (see test_auth_int_without_...)",
)


@dataclass
class Received:
    """One request as a :class:`DigestServer` saw it."""

    method: str
    target: str
    headers: CIMultiDict[str]
    body: bytes
    status: int = 0


@dataclass
class _Nonce:
    used_nc: set[int] = field(default_factory=set)
    successes: int = 0
    retired: bool = False


@dataclass
class DigestServer:
    """A Digest-protected resource (or, with ``proxy=True``, a Digest proxy).

    Attributes:
        algorithms: one challenge per algorithm, in this order.
        qop: the offered qop (``"auth"``, ``"auth-int"``, ``"auth,auth-int"``) or
            None for RFC 2069.
        successes_per_nonce: answers accepted per nonce before it is stale.
        nextnonce: send ``nextnonce`` in ``Authentication-Info``.
        rspauth: ``"good"`` or ``"bad"`` to send an ``rspauth``.
        raw_info: an ``Authentication-Info`` value to send as is.
        raw_challenges: challenge lines to send instead of the built ones.
        proxy: answer 407 with ``Proxy-Authenticate``; forward to ``forward_to``.
        affinity_cookie: set a cookie on challenges (as a load balancer does) and
            accept only answers that carry it back (the nonce's backend).
        first_challenge_delay: seconds to hold the first challenge back.
    """

    algorithms: tuple[str, ...] = ("SHA-256",)
    qop: str | None = "auth"
    realm: str = "unit@example"
    domain: str | None = None
    userhash: bool = False
    charset: bool = True
    successes_per_nonce: int | None = None
    nextnonce: bool = False
    rspauth: str | None = None
    raw_info: str | None = None
    raw_challenges: tuple[str, ...] | None = None
    proxy: bool = False
    forward_to: bool = False
    first_challenge_delay: float = 0.0
    affinity_cookie: bool = False
    login: str = LOGIN
    password: str = PASSWORD
    challenges_sent: int = 0
    replays: int = 0
    received: list[Received] = field(default_factory=list)
    accepted: list[dict[str, str]] = field(default_factory=list)
    nonces: dict[str, _Nonce] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def status(self) -> int:
        return 407 if self.proxy else 401

    def header(self, origin_name: str) -> str:
        return (
            {
                hdrs.WWW_AUTHENTICATE: hdrs.PROXY_AUTHENTICATE,
                hdrs.AUTHORIZATION: hdrs.PROXY_AUTHORIZATION,
                "Authentication-Info": "Proxy-Authentication-Info",
            }[origin_name]
            if self.proxy
            else origin_name
        )

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    def new_nonce(self) -> str:
        nonce = secrets.token_hex(12)
        self.nonces[nonce] = _Nonce()
        return nonce

    async def challenge(self, *, stale: bool = False) -> web.Response:
        self.challenges_sent += 1
        if self.challenges_sent == 1 and self.first_challenge_delay:
            await asyncio.sleep(self.first_challenge_delay)
        headers: CIMultiDict[str] = CIMultiDict()
        nonce = self.new_nonce()
        lines = self.raw_challenges
        if lines is None:
            common = f'realm="{self.realm}", nonce="{nonce}", opaque="{OPAQUE}"'
            common += f', qop="{self.qop}"' if self.qop else ""
            common += f', domain="{self.domain}"' if self.domain is not None else ""
            common += ", userhash=true" if self.userhash else ""
            common += ", charset=UTF-8" if self.charset else ""
            common += ", stale=true" if stale else ""
            lines = tuple(f"Digest {common}, algorithm={name}" for name in self.algorithms)
        for line in lines:
            headers.add(self.header(hdrs.WWW_AUTHENTICATE), line)
        response = web.Response(status=self.status, headers=headers, text="authenticate")
        if self.affinity_cookie:
            response.set_cookie("backend", "b1")
        return response

    def credentials(self, params: dict[str, str]) -> DigestCredentials:
        offered = tuple(q.strip() for q in (self.qop or "").split(",") if q.strip())
        challenge = DigestChallenge(
            realm=self.realm,
            nonce=params["nonce"],
            algorithm=params.get("algorithm", "MD5"),
            echo_algorithm="algorithm" in params,
            qop=offered,
            opaque=OPAQUE,
            userhash=self.userhash,
            charset="UTF-8" if self.charset else None,
        )
        return DigestCredentials(challenge, self.login, self.password)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        seen = Received(request.method, request.raw_path, CIMultiDict(request.headers), body)
        self.received.append(seen)
        self.arrived.set()
        response = await self.respond(request, seen)
        seen.status = response.status
        return response

    async def respond(self, request: web.Request, seen: Received) -> web.StreamResponse:
        header = request.headers.get(self.header(hdrs.AUTHORIZATION))
        if header is None or not header.startswith("Digest "):
            return await self.challenge()
        params = parse_auth_params(header[len("Digest ") :])
        state = self.nonces.get(params.get("nonce", ""))
        if self.affinity_cookie and request.cookies.get("backend") != "b1":
            state = None  # another backend: it does not know the nonce
        if state is None or params.get("algorithm", "MD5") not in self.algorithms:
            return await self.challenge()
        credentials = self.credentials(params)
        nc, cnonce = int(params.get("nc", "1"), 16), params.get("cnonce", "")
        expected = credentials.authorization(
            request.method, request.raw_path, nc=nc, cnonce=cnonce, body=seen.body
        )
        if parse_auth_params(expected[len("Digest ") :]) != params:
            return await self.challenge()
        if nc in state.used_nc and self.qop:
            self.replays += 1
            return await self.challenge()
        state.used_nc.add(nc)
        if state.retired or state.successes == self.successes_per_nonce:
            state.retired = True
            return await self.challenge(stale=True)
        state.successes += 1
        self.accepted.append(params)
        return await self.success(request, seen, credentials, params)

    async def success(
        self,
        request: web.Request,
        seen: Received,
        credentials: DigestCredentials,
        params: dict[str, str],
    ) -> web.StreamResponse:
        if self.proxy and self.forward_to:
            return await forward(request, seen)
        if request.path == "/redirect":
            raise web.HTTPFound(request.query["to"])
        text = f"{request.method} {self.login} {hashlib.sha256(seen.body).hexdigest()}"
        response = web.Response(text=text)
        info = self.raw_info
        if info is None:
            parts = []
            if self.nextnonce:
                parts.append(f'nextnonce="{self.new_nonce()}"')
            if self.rspauth:
                nc, cnonce = int(params.get("nc", "1"), 16), params.get("cnonce", "")
                rspauth = credentials.rspauth(
                    request.raw_path, nc=nc, cnonce=cnonce, body=text.encode()
                )
                if self.rspauth == "bad":
                    rspauth = rspauth[::-1]
                parts.append(f'rspauth="{rspauth}", cnonce="{cnonce}", nc={nc:08x}')
            info = ", ".join(parts) or None
        if info is not None:
            response.headers[self.header("Authentication-Info")] = info
        return response


async def forward(request: web.Request, seen: Received) -> web.Response:
    """Forward a proxied request to its absolute URL (a plain-http forward proxy)."""
    headers = {
        name: value
        for name, value in request.headers.items()
        if name.lower() not in ("host", "proxy-authorization", "content-length")
    }
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as session,
        session.request(
            request.method, request.url, headers=headers, data=seen.body, allow_redirects=False
        ) as upstream,
    ):
        passed = CIMultiDict(
            (name, value)
            for name, value in upstream.headers.items()
            if name.lower() not in ("content-length", "transfer-encoding", "content-encoding")
        )
        return web.Response(status=upstream.status, headers=passed, body=await upstream.read())


Serve = Callable[..., Awaitable[LocalServer]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Return ``await serve(digest_server)``: serve it on 127.0.0.1 in this loop."""
    async with AsyncExitStack() as stack:

        async def start(server: DigestServer, **kwargs: Any) -> LocalServer:
            return await stack.enter_async_context(LocalServer(server.app(), **kwargs))

        yield start


def client(*middlewares: Any, **kwargs: Any) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(middlewares=middlewares, timeout=TIMEOUT, **kwargs)


async def fetch(session: aiohttp.ClientSession, method: str, url: URL, **kwargs: Any) -> str:
    """Send a request and return ``"STATUS body"``."""
    async with session.request(method, url, **kwargs) as response:
        return f"{response.status} {await response.text()}"


def ok(method: str = "GET", body: bytes = b"", login: str = LOGIN) -> str:
    return f"200 {method} {login} {hashlib.sha256(body).hexdigest()}"


async def gather(*awaitables: Awaitable[str]) -> list[str]:
    return list(await asyncio.wait_for(asyncio.gather(*awaitables), DEADLINE))


# --- construction ---------------------------------------------------------------------


def test_constructor_is_a_superset_of_aiohttps() -> None:
    ours = inspect.signature(DigestAuthMiddleware).parameters
    for name, theirs in inspect.signature(aiohttp.DigestAuthMiddleware).parameters.items():
        assert (ours[name].kind, ours[name].default) == (theirs.kind, theirs.default)
    middleware = DigestAuthMiddleware(LOGIN, PASSWORD, False)
    assert "preemptive=False" in repr(middleware)
    assert ours["origins"].kind is inspect.Parameter.KEYWORD_ONLY


def test_digest_sends_no_secret_so_plain_http_is_allowed() -> None:
    assert DigestAuthMiddleware.sends_secret is False


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"login": None}, "login"),
        ({"login": ""}, "login"),
        ({"login": "alice\n"}, "login"),
        ({"password": None}, "password"),
        ({"password": b"bytes"}, "password"),
        ({"preemptive": "yes"}, "preemptive"),
        ({"random_bytes": 16}, "random_bytes"),
        ({"password": "lone \udc80 surrogate"}, "surrogate"),
        ({"origins": "ftp://files.example"}, "origins"),
    ],
)
def test_bad_arguments_raise_configuration_error(kwargs: dict[str, Any], problem: str) -> None:
    arguments: dict[str, Any] = {"login": LOGIN, "password": PASSWORD, **kwargs}
    with pytest.raises(ConfigurationError, match=problem) as raised:
        DigestAuthMiddleware(**arguments)
    assert PASSWORD not in str(raised.value)


def test_repr_shows_login_and_scope_but_no_password() -> None:
    middleware = DigestAuthMiddleware(LOGIN, PASSWORD, origins="https://api.example")
    assert repr(middleware) == (
        f"DigestAuthMiddleware(login='{LOGIN}', password=<redacted {len(PASSWORD)} chars>, "
        "preemptive=True, origins=['https://api.example'])"
    )


# --- one 401 per protection space ------------------------------------------------------


async def test_sequential_requests_to_one_space_cost_one_401(serve: Serve) -> None:
    server = DigestServer()
    site = await serve(server)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        results = [await fetch(session, "GET", site.make_url(f"/r{i}")) for i in range(5)]
    assert results == [ok()] * 5
    assert server.challenges_sent == 1
    assert [int(params["nc"], 16) for params in server.accepted] == [1, 2, 3, 4, 5]
    assert len({params["cnonce"] for params in server.accepted}) == 5


async def test_concurrent_requests_after_warming_cost_no_401_and_never_reuse_nc(
    serve: Serve,
) -> None:
    server = DigestServer()
    site = await serve(server)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        assert await fetch(session, "GET", site.make_url("/warm")) == ok()
        results = await gather(*(fetch(session, "GET", site.make_url(f"/{i}")) for i in range(50)))
    assert results == [ok()] * 50
    assert server.challenges_sent == 1
    assert server.replays == 0
    counts = sorted(int(params["nc"], 16) for params in server.accepted)
    assert counts == list(range(1, 52))


async def test_burst_of_concurrent_first_requests_costs_one_401(serve: Serve) -> None:
    server = DigestServer()
    site = await serve(server)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        results = await gather(*(fetch(session, "GET", site.make_url(f"/{i}")) for i in range(20)))
    assert results == [ok()] * 20
    assert server.challenges_sent == 1
    assert len(server.received) == 21


async def test_burst_waits_for_the_first_challenge_at_most_the_probe_timeout(
    serve: Serve,
) -> None:
    # The first challenge is held back longer than the waiters wait: they go out
    # on their own, each draws its own 401 and is retried once; nothing hangs.
    server = DigestServer(first_challenge_delay=0.5)
    site = await serve(server)
    middleware = DigestAuthMiddleware(LOGIN, PASSWORD)
    middleware._probes.timeout = 0.05
    async with client(middleware) as session:
        results = await gather(*(fetch(session, "GET", site.make_url(f"/{i}")) for i in range(4)))
        assert results == [ok()] * 4
        assert server.challenges_sent == 4
        assert await fetch(session, "GET", site.make_url("/later")) == ok()
    assert server.challenges_sent == 4


async def test_cancelled_first_request_releases_the_waiting_burst(serve: Serve) -> None:
    server = DigestServer(first_challenge_delay=5.0)
    site = await serve(server)
    middleware = DigestAuthMiddleware(LOGIN, PASSWORD)
    middleware._probes.timeout = DEADLINE  # only the end of the first request releases them
    async with client(middleware) as session:
        first = asyncio.ensure_future(fetch(session, "GET", site.make_url("/first")))
        await asyncio.wait_for(server.arrived.wait(), DEADLINE)
        burst = asyncio.ensure_future(
            gather(*(fetch(session, "GET", site.make_url(f"/{i}")) for i in range(3)))
        )
        await asyncio.sleep(0.05)
        assert not burst.done()  # waiting for the first request's challenge
        first.cancel()
        results = await asyncio.wait_for(burst, 2.0)
    assert results == [ok()] * 3


async def test_without_preemptive_every_request_is_challenged_first(serve: Serve) -> None:
    server = DigestServer()
    site = await serve(server)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD, preemptive=False)) as session:
        results = [await fetch(session, "GET", site.make_url("/")) for _ in range(3)]
    assert results == [ok()] * 3
    assert server.challenges_sent == 3
    assert all(hdrs.AUTHORIZATION not in r.headers for r in server.received[::2])


async def test_wrong_password_returns_the_401_after_one_retry(serve: Serve) -> None:
    server = DigestServer()
    site = await serve(server)
    async with client(DigestAuthMiddleware(LOGIN, "not the password")) as session:
        assert (await fetch(session, "GET", site.make_url("/"))).startswith("401 ")
    assert [r.status for r in server.received] == [401, 401]


async def test_outer_middleware_resending_a_request_gets_no_second_digest_retry(
    serve: Serve,
) -> None:
    async def resend_once(
        request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        response = await handler(request)
        response.release()
        return await handler(request)  # the same request object, already retried once

    server = DigestServer()
    site = await serve(server)
    middleware = DigestAuthMiddleware(LOGIN, "not the password")
    async with client(resend_once, middleware) as session:
        assert (await fetch(session, "GET", site.make_url("/"))).startswith("401 ")
    # 401 + retry 401, then the resend: preemptive 401 and no further retry.
    assert [r.status for r in server.received] == [401, 401, 401]


async def test_cookies_set_on_the_challenge_go_with_the_retry(serve: Serve) -> None:
    server = DigestServer(affinity_cookie=True)
    site = await serve(server)
    jar = aiohttp.CookieJar(unsafe=True)  # the default jar ignores cookies of IP hosts
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD), cookie_jar=jar) as session:
        results = [await fetch(session, "GET", site.make_url("/")) for _ in range(2)]
    assert results == [ok()] * 2
    assert server.challenges_sent == 1
    assert {cookie.key: cookie.value for cookie in jar} == {"backend": "b1"}


# --- nonces: stale, nextnonce, counts ------------------------------------------------


async def test_stale_nonce_is_retried_once_reusing_ha1(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[DigestChallenge] = []

    class CountingCredentials(DigestCredentials):
        def __init__(self, challenge: DigestChallenge, *args: Any, **kwargs: Any) -> None:
            built.append(challenge)
            super().__init__(challenge, *args, **kwargs)

    monkeypatch.setattr(digest_spaces, "DigestCredentials", CountingCredentials)
    server = DigestServer(successes_per_nonce=2)
    site = await serve(server)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        results = [await fetch(session, "GET", site.make_url("/")) for _ in range(3)]
    assert results == [ok()] * 3
    # 401, 200, 200 (preemptive), 401 stale (preemptive), 200 with the new nonce.
    assert [r.status for r in server.received] == [401, 200, 200, 401, 200]
    assert len(built) == 1  # H(A1) computed once; the stale nonce reused it
    assert server.accepted[-1]["nc"] == "00000001"
    assert server.accepted[-1]["nonce"] != server.accepted[0]["nonce"]


async def test_stale_answer_to_the_retry_is_returned_without_a_loop(serve: Serve) -> None:
    server = DigestServer(successes_per_nonce=0)  # every nonce is stale at once
    site = await serve(server)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        assert (await fetch(session, "GET", site.make_url("/"))).startswith("401 ")
    assert len(server.received) == 2


async def test_nextnonce_replaces_the_nonce_and_restarts_the_count(serve: Serve) -> None:
    server = DigestServer(nextnonce=True, successes_per_nonce=1)
    site = await serve(server)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        results = [await fetch(session, "GET", site.make_url("/")) for _ in range(4)]
    assert results == [ok()] * 4
    assert server.challenges_sent == 1  # never stale: each request used the nextnonce
    assert [params["nc"] for params in server.accepted] == ["00000001"] * 4
    assert len({params["nonce"] for params in server.accepted}) == 4


async def test_same_url_is_answered_for_the_new_realm_once_it_is_challenged(
    serve: Serve,
) -> None:
    server = DigestServer()
    site = await serve(server)
    url = site.make_url("/a")  # one URL object, as yarl gives for one string
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        assert [await fetch(session, "GET", url) for _ in range(3)] == [ok()] * 3
        server.realm = "another realm"
        assert [await fetch(session, "GET", url) for _ in range(3)] == [ok()] * 3
    assert server.challenges_sent == 2
    assert [params["realm"] for params in server.accepted] == ["unit@example"] * 3 + [
        "another realm"
    ] * 3


async def test_nonce_seen_again_continues_its_count() -> None:
    spaces = ProtectionSpaces(LOGIN, PASSWORD)
    prefixes = ((Origin("https", "a.example", 443), ""),)
    challenge = DigestChallenge(realm="r", nonce="n1", qop=("auth",))
    space = spaces.learn(challenge, prefixes)
    assert [space.take() is not None for _ in range(3)] == [True] * 3
    spaces.learn(dataclasses.replace(challenge, nonce="n2", stale=True), prefixes)
    assert space.take() == (space.credentials, 1)
    space.renew("n1")
    assert space.take() == (space.credentials, 4)
    space.renew("n1")  # the same nonce again: nothing changes
    assert space.take() == (space.credentials, 5)


def test_nonce_count_exhaustion_stops_preemptive_answers() -> None:
    challenge = DigestChallenge(realm="r", nonce="n", qop=("auth",))
    space = ProtectionSpace("r", (), DigestCredentials(challenge, LOGIN, PASSWORD))
    space._nc = MAX_NONCE_COUNT - 1
    assert space.take() == (space.credentials, MAX_NONCE_COUNT)
    assert space.take() is None


def test_remembered_nonce_counts_are_bounded() -> None:
    challenge = DigestChallenge(realm="r", nonce="n0", qop=("auth",))
    space = ProtectionSpace("r", (), DigestCredentials(challenge, LOGIN, PASSWORD))
    for index in range(1, 40):
        space.take()
        space.renew(f"n{index}")
    assert len(space._counts) == digest_spaces._REMEMBERED_NONCES
    space.renew("n0")  # forgotten: starts over, which a server would have expired anyway
    assert space.take() == (space.credentials, 1)


# --- Authentication-Info: rspauth -----------------------------------------------------


async def test_matching_rspauth_is_accepted(serve: Serve) -> None:
    server = DigestServer(rspauth="good", nextnonce=True)
    site = await serve(server)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        results = [await fetch(session, "GET", site.make_url("/")) for _ in range(2)]
    assert results == [ok()] * 2


async def test_wrong_rspauth_raises_challenge_error(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    server = DigestServer(rspauth="bad")
    site = await serve(server)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        with pytest.raises(ChallengeError, match="Mutual authentication failed") as raised:
            await fetch(session, "GET", site.make_url("/"))
    assert "RFC 7616 §3.5" in str(raised.value)
    assert PASSWORD not in caplog.text
    assert PASSWORD not in str(raised.value)
    assert any(record.levelno == logging.WARNING for record in caplog.records)


async def test_rspauth_for_auth_int_covers_the_response_body(serve: Serve) -> None:
    server = DigestServer(qop="auth-int", rspauth="good")
    site = await serve(server)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        results = [await fetch(session, "GET", site.make_url("/")) for _ in range(2)]
    assert results == [ok()] * 2


async def test_malformed_authentication_info_is_ignored_with_a_warning(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    server = DigestServer(raw_info='nextnonce="unterminated')
    site = await serve(server)
    with caplog.at_level(logging.WARNING, logger="aiohttp_auth"):
        async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
            results = [await fetch(session, "GET", site.make_url("/")) for _ in range(2)]
    assert results == [ok()] * 2
    assert "ignoring Authentication-Info" in caplog.text


# --- challenges ------------------------------------------------------------------------


async def test_strongest_challenge_is_answered_whatever_the_order(serve: Serve) -> None:
    server = DigestServer(algorithms=("MD5", "SHA-512-256", "SHA-256"))
    site = await serve(server)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        assert await fetch(session, "GET", site.make_url("/")) == ok()
    assert server.accepted[0]["algorithm"] == "SHA-512-256"


async def test_unsupported_first_challenge_falls_back_unlike_aiohttps_middleware(
    serve: Serve,
) -> None:
    server = DigestServer(algorithms=("SHA3-256", "SHA-256"))
    site = await serve(server)
    async with client(aiohttp.DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        with pytest.raises(aiohttp.ClientError, match="Unsupported hash algorithm"):
            await fetch(session, "GET", site.make_url("/"))
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        assert await fetch(session, "GET", site.make_url("/")) == ok()
    assert server.accepted[-1]["algorithm"] == "SHA-256"


async def test_malformed_line_does_not_hide_a_good_challenge(serve: Serve) -> None:
    server = DigestServer(algorithms=("MD5",))
    site = await serve(server)
    nonce = server.new_nonce()
    server.raw_challenges = (
        'Digest realm="broken, nonce="x',
        f'Digest realm="{server.realm}", nonce="{nonce}", algorithm=MD5, qop="auth", '
        f'opaque="{OPAQUE}", charset=UTF-8',
    )
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        assert await fetch(session, "GET", site.make_url("/")) == ok()


@pytest.mark.parametrize(
    "lines",
    [
        ('Digest realm="unterminated',),
        ('Digest nonce="no-realm"', 'Basic realm="x"'),
        ('Digest realm="a", nonce=""',),
    ],
)
async def test_only_malformed_digest_challenges_raise_challenge_error(
    serve: Serve, lines: tuple[str, ...]
) -> None:
    server = DigestServer(raw_challenges=lines)
    site = await serve(server)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        with pytest.raises(ChallengeError, match="without a usable Digest challenge"):
            await fetch(session, "GET", site.make_url("/"))


@pytest.mark.parametrize(
    "lines",
    [
        ('Basic realm="x"',),
        ('Digest realm="x", nonce="n", algorithm=SHA3-256',),
        ('Digest realm="x", nonce="n", qop="auth-conf"',),
        ('Bearer realm="unterminated',),
        (),
    ],
)
async def test_401_without_a_supported_challenge_is_returned_untouched(
    serve: Serve, lines: tuple[str, ...]
) -> None:
    server = DigestServer(raw_challenges=lines)
    site = await serve(server)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        assert await fetch(session, "GET", site.make_url("/")) == "401 authenticate"
    assert len(server.received) == 1


async def test_rfc_2069_challenge_without_qop_is_answered(serve: Serve) -> None:
    server = DigestServer(algorithms=("MD5",), qop=None)  # RFC 2069: no qop, no nc
    site = await serve(server)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        results = [await fetch(session, "PUT", site.make_url("/"), data=b"x") for _ in range(2)]
    assert results == [ok("PUT", b"x")] * 2
    assert server.challenges_sent == 1
    assert "nc" not in server.accepted[0]


# --- what is hashed -------------------------------------------------------------------


async def test_uri_is_the_raw_request_target(serve: Serve) -> None:
    server = DigestServer()
    site = await serve(server)
    url = URL(f"{site.url}a%2Fb/%C3%A4%20?q=%2F&x=%20y", encoded=True)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        results = [await fetch(session, "GET", url) for _ in range(2)]
    assert results == [ok()] * 2
    assert server.accepted[0]["uri"] == "/a%2Fb/%C3%A4%20?q=%2F&x=%20y"


async def test_client_nonces_come_from_the_injected_random_source(serve: Serve) -> None:
    server = DigestServer()
    site = await serve(server)
    draws: list[int] = []

    def fixed(size: int) -> bytes:
        draws.append(size)
        return bytes([len(draws)]) * size

    async with client(DigestAuthMiddleware(LOGIN, PASSWORD, random_bytes=fixed)) as session:
        assert await fetch(session, "GET", site.make_url("/")) == ok()
    assert draws == [cnonces.CNONCE_BYTES]
    assert server.accepted[0]["cnonce"] == "01" * cnonces.CNONCE_BYTES


def test_default_client_nonces_come_many_from_one_urandom_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sizes: list[int] = []

    def counting_urandom(size: int) -> bytes:
        sizes.append(size)
        return bytes(index % 256 for index in range(size))

    monkeypatch.setattr(cnonces.os, "urandom", counting_urandom)
    batch, size = cnonces.CNONCE_BATCH, cnonces.CNONCE_BYTES
    nonces = cnonces.ClientNonces()
    drawn = [nonces.draw() for _ in range(batch + 1)]
    assert sizes == [size * batch] * 2
    assert drawn[:2] == [bytes(range(size)).hex(), bytes(range(size, 2 * size)).hex()]
    assert drawn[batch] == drawn[0]  # the second call's first nonce
    assert all(len(cnonce) == 2 * size for cnonce in drawn)
    nonces.forget()
    assert nonces.draw() == drawn[0]  # a new call, not the rest of the batch
    assert len(sizes) == 3


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # 3.12+: fork with threads
def test_a_forked_child_never_draws_its_parents_next_client_nonce() -> None:
    draw = cnonces.client_nonces.draw
    draw()  # a batch in memory, copied into the child
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next nonce and leave at once
        try:
            os.write(write_end, draw().encode())
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        child = os.read(read_end, 1024).decode()
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    assert len(child) == 2 * cnonces.CNONCE_BYTES
    assert child != draw()


async def test_exhausted_nonce_count_goes_unanswered_and_the_new_nonce_is_used(
    serve: Serve,
) -> None:
    server = DigestServer()
    site = await serve(server)
    middleware = DigestAuthMiddleware(LOGIN, PASSWORD)
    async with client(middleware) as session:
        assert await fetch(session, "GET", site.make_url("/")) == ok()
        (space,) = middleware._spaces
        space._nc = MAX_NONCE_COUNT
        assert await fetch(session, "GET", site.make_url("/")) == ok()
    assert server.challenges_sent == 2
    assert hdrs.AUTHORIZATION not in server.received[-2].headers
    assert [int(params["nc"], 16) for params in server.accepted] == [1, 1]
    assert server.accepted[0]["nonce"] != server.accepted[1]["nonce"]


@pytest.mark.parametrize("userhash", [False, True], ids=["username-star", "userhash"])
async def test_non_ascii_login_is_sent_in_its_rfc_7616_form(serve: Serve, userhash: bool) -> None:
    login = "jürgen"
    server = DigestServer(login=login, userhash=userhash)
    site = await serve(server)
    async with client(DigestAuthMiddleware(login, PASSWORD)) as session:
        assert await fetch(session, "GET", site.make_url("/")) == ok(login=login)
    header = server.received[-1].headers[hdrs.AUTHORIZATION]
    assert ("username*=UTF-8''j%C3%BCrgen" in header) is not userhash
    assert ("userhash=true" in header) is userhash


BODIES = [
    pytest.param(lambda: b"payload " * 100, b"payload " * 100, id="bytes"),
    pytest.param(lambda: "grüße", "grüße".encode(), id="str"),
    pytest.param(
        lambda: io.BytesIO(b"from a file"), b"from a file", id="bytesio", marks=needs_as_bytes
    ),
    pytest.param(lambda: None, b"", id="empty"),
]


@pytest.mark.parametrize(("make_body", "sent"), BODIES)
async def test_auth_int_hashes_the_body_and_replays_it(
    serve: Serve, make_body: Callable[[], Any], sent: bytes
) -> None:
    server = DigestServer(qop="auth-int", algorithms=("MD5-sess",))
    site = await serve(server)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        results = [
            await fetch(session, "POST", site.make_url("/"), data=make_body()) for _ in "12"
        ]
    assert results == [ok("POST", sent)] * 2
    assert server.challenges_sent == 1


async def test_auth_int_hashes_a_body_a_middleware_assigned_on_the_retry_too(
    serve: Serve,
) -> None:
    # On aiohttp 3.12.0 an assigned body stays bytes, and sending it turns it into a
    # one-chunk tuple: the retry after the 401 must still hash the bytes sent. Newer
    # aiohttp keeps a payload, so only make test-oldest can fail here.
    async def assign(request: aiohttp.ClientRequest, handler: Any) -> aiohttp.ClientResponse:
        request.body = b"assigned"
        request.headers[hdrs.CONTENT_LENGTH] = "8"  # 3.12.0 keeps the old length
        return await handler(request)

    server = DigestServer(qop="auth-int")
    site = await serve(server)
    async with client(assign, DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        result = await fetch(session, "POST", site.make_url("/"), data=b"original")
    assert result == ok("POST", b"assigned")
    assert server.challenges_sent == 1


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        await asyncio.sleep(0)
        yield part


@needs_as_bytes
async def test_auth_int_buffers_a_streaming_body_in_a_warm_space(serve: Serve) -> None:
    server = DigestServer(qop="auth-int")
    site = await serve(server)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        assert await fetch(session, "GET", site.make_url("/warm")) == ok()
        result = await fetch(session, "POST", site.make_url("/"), data=chunks(b"a", b"b"))
    assert result == ok("POST", b"ab")
    assert server.challenges_sent == 1


@pytest.mark.usefixtures("without_as_bytes")
async def test_auth_int_hashes_an_in_memory_body_without_as_bytes(serve: Serve) -> None:
    # aiohttp 3.12.0 has no Payload.as_bytes(), but an in-memory body keeps its value.
    server = DigestServer(qop="auth-int")
    site = await serve(server)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        results = [await fetch(session, "POST", site.make_url("/"), data=b"body") for _ in "12"]
    assert results == [ok("POST", b"body")] * 2


@pytest.mark.usefixtures("without_as_bytes")
async def test_auth_int_without_as_bytes_returns_the_401_with_a_warning(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    # aiohttp 3.12.0 has no Payload.as_bytes(): a file body cannot be hashed unsent.
    server = DigestServer(qop="auth-int")
    site = await serve(server)
    with caplog.at_level(logging.WARNING, logger="aiohttp_auth"):
        async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
            assert await fetch(session, "GET", site.make_url("/")) == ok()  # no body: b""
            result = await fetch(session, "POST", site.make_url("/"), data=io.BytesIO(b"body"))
    assert result == "401 authenticate"
    # On aiohttp 3.12.0 itself the file is closed once sent: not even a retry could read it.
    assert ("aiohttp < 3.12.1" if HAS_AS_BYTES else "cannot be retried") in caplog.text
    assert server.received[-1].headers.get(hdrs.AUTHORIZATION) is None


async def test_auth_int_is_not_chosen_when_auth_is_offered(serve: Serve) -> None:
    server = DigestServer(qop="auth,auth-int")
    site = await serve(server)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        assert await fetch(session, "POST", site.make_url("/"), data=b"b") == ok("POST", b"b")
    assert server.accepted[0]["qop"] == "auth"


async def test_streaming_body_to_a_new_space_returns_the_401_never_an_empty_body(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    server = DigestServer()
    site = await serve(server)
    with caplog.at_level(logging.WARNING, logger="aiohttp_auth"):
        async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
            result = await fetch(session, "POST", site.make_url("/"), data=chunks(b"a", b"b"))
            assert result == "401 authenticate"
            again = await fetch(session, "POST", site.make_url("/"), data=chunks(b"c", b"d"))
    assert again == ok("POST", b"cd")
    assert [r.body for r in server.received] == [b"ab", b"cd"]
    assert "streaming body was already sent" in caplog.text


# --- protection spaces and origins -----------------------------------------------------


async def test_domain_limits_the_protection_space(serve: Serve) -> None:
    server = DigestServer(domain="/a/ /b/c")
    site = await serve(server)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        paths = ["/a/1", "/a/2", "/b/c/d", "/a", "/ab", "/other"]
        results = [await fetch(session, "GET", site.make_url(path)) for path in paths]
    assert results == [ok()] * 6
    # /ab is not under /a (segment-wise), /other is outside: one 401 each.
    assert server.challenges_sent == 3


async def test_domain_on_another_origin_is_used_only_inside_the_scope(serve: Serve) -> None:
    server = DigestServer()
    first, second = await serve(server), await serve(server)  # one app, two origins
    server.domain = f"/ {second.url}shared/"
    scoped = DigestAuthMiddleware(LOGIN, PASSWORD, origins=[str(first.url), str(second.url)])
    async with client(scoped) as session:
        assert await fetch(session, "GET", first.make_url("/x")) == ok()
        assert await fetch(session, "GET", second.make_url("/shared/y")) == ok()
    assert server.challenges_sent == 1
    server.challenges_sent = 0
    bound = DigestAuthMiddleware(LOGIN, PASSWORD)  # bound to the first origin only
    async with client(bound) as session:
        assert await fetch(session, "GET", first.make_url("/x")) == ok()
        assert await fetch(session, "GET", second.make_url("/shared/y")) == "401 authenticate"
    assert hdrs.AUTHORIZATION not in server.received[-1].headers


async def test_url_prefix_scope_is_answered_preemptively_inside_and_never_outside(
    serve: Serve,
) -> None:
    server = DigestServer()
    site = await serve(server)
    middleware = DigestAuthMiddleware(LOGIN, PASSWORD, origins=str(site.make_url("/api/")))
    async with client(middleware) as session:
        inside = [await fetch(session, "GET", site.make_url(f"/api/{i}")) for i in range(3)]
        outside = await fetch(session, "GET", site.make_url("/other"))
    assert inside == [ok()] * 3
    assert outside == "401 authenticate"
    assert server.challenges_sent == 2
    assert [int(params["nc"], 16) for params in server.accepted] == [1, 2, 3]
    assert hdrs.AUTHORIZATION not in server.received[-1].headers


async def test_redirect_to_another_origin_carries_no_authorization(
    serve: Serve, other_site: Site
) -> None:
    server = DigestServer()
    site = await serve(server)
    url = site.make_url("/redirect").with_query(to=str(other_site.url("/echo")))
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        async with session.get(url) as response:
            assert response.status == 200
            assert (await response.json())["path"] == "/echo"
        # A second hop from a warm space: preemptive on the first origin only.
        async with session.get(url) as response:
            assert response.status == 200
    assert server.challenges_sent == 1
    (first, second) = other_site.requests_to("/echo")
    assert hdrs.AUTHORIZATION not in first.headers
    assert hdrs.AUTHORIZATION not in second.headers


async def test_plain_http_to_a_remote_host_is_allowed(
    serve: Serve, resolver: NameResolver
) -> None:
    server = DigestServer()
    site = await serve(server)
    url = site.make_url("/").with_host("api.test")
    connector = aiohttp.TCPConnector(resolver=resolver)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD), connector=connector) as session:
        assert await fetch(session, "GET", url) == ok()


def test_space_prefixes_resolve_relative_uris_and_drop_foreign_ones() -> None:
    url = URL("https://api.example/dir/page?q=1")
    same = Origin("https", "api.example", 443)

    def admits(target: URL) -> bool:
        return target.host in ("api.example", "cdn.example")

    domain = [
        "/abs/",
        "rel/",
        "https://cdn.example/x/",
        "https://evil.example/",
        "//evil.example/y",
        "ftp://api.example/z",
        "http://[bad",
        "/dir/",
    ]
    assert space_prefixes(domain, url, admits) == (
        (same, "/abs"),
        (same, "/dir/rel"),
        (Origin("https", "cdn.example", 443), "/x"),
        (same, "/dir"),
    )
    assert space_prefixes([], url, admits) == ((same, ""),)
    assert space_prefixes(["https://evil.example/"], url, admits) == ((same, ""),)
    # A domain that leaves out the challenged URL: the URL itself joins the space.
    assert space_prefixes(["/elsewhere/"], url, admits) == (
        (same, "/elsewhere"),
        (same, "/dir/page"),
    )
    many = [f"/p{index}/" for index in range(100)]
    assert len(space_prefixes(many, url, admits)) == MAX_DOMAIN_URIS + 1


def test_most_specific_then_most_recent_space_wins() -> None:
    spaces = ProtectionSpaces(LOGIN, PASSWORD, limit=3)
    origin = Origin("https", "a.example", 443)

    def learn(realm: str, *paths: str) -> ProtectionSpace:
        challenge = DigestChallenge(realm=realm, nonce=f"n-{realm}", qop=("auth",))
        return spaces.learn(challenge, tuple((origin, path) for path in paths))

    whole = learn("whole", "")
    deep = learn("deep", "/a/b")
    assert spaces.find(URL("https://a.example/a/b/c")) is deep
    assert spaces.find(URL("https://a.example/a/x")) is whole
    assert spaces.find(URL("https://b.example/a/b")) is None
    again = learn("again", "")
    assert spaces.find(URL("https://a.example/x")) is again
    learn("fourth", "/d")
    assert len(spaces) == 3
    assert spaces.find(URL("https://a.example/x")) is again  # "whole" was forgotten first
    assert [space.realm for space in spaces] == ["deep", "again", "fourth"]


def test_new_parameters_for_a_space_rebuild_its_credentials() -> None:
    spaces = ProtectionSpaces(LOGIN, PASSWORD)
    prefixes = ((Origin("https", "a.example", 443), ""),)
    challenge = DigestChallenge(realm="r", nonce="n1", qop=("auth",), algorithm="MD5")
    space = spaces.learn(challenge, prefixes)
    assert space.take() == (space.credentials, 1)
    # lighttpd's "SHA-256|MD5" offers both algorithms with one nonce: its count goes on.
    spaces.learn(dataclasses.replace(challenge, algorithm="SHA-256"), prefixes)
    assert space.credentials.algorithm.name == "SHA-256"
    assert space.take() == (space.credentials, 2)
    spaces.learn(dataclasses.replace(challenge, nonce="n2", algorithm="MD5"), prefixes)
    assert (space.credentials.algorithm.name, space.nonce) == ("MD5", "n2")
    assert space.take() == (space.credentials, 1)


def test_protection_spaces_refuse_pickling() -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(ProtectionSpaces(LOGIN, PASSWORD))


# --- proxies --------------------------------------------------------------------------


async def test_proxy_challenge_is_answered_with_proxy_authorization(serve: Serve) -> None:
    proxy_server = DigestServer(proxy=True, realm="proxy")
    proxy = await serve(proxy_server)
    target = URL("http://target.invalid:8080/path?q=1")
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        results = [await fetch(session, "GET", target, proxy=proxy.url) for _ in range(3)]
    assert results == [ok()] * 3
    assert proxy_server.challenges_sent == 1
    assert [r.status for r in proxy_server.received] == [407, 200, 200, 200]
    # The digest-uri is the absolute-form request-target a plain-http proxy receives.
    assert proxy_server.accepted[0]["uri"] == str(target)
    assert all(hdrs.AUTHORIZATION not in r.headers for r in proxy_server.received)


async def test_proxy_and_origin_spaces_are_answered_together(serve: Serve) -> None:
    origin_server = DigestServer(realm="origin")
    proxy_server = DigestServer(proxy=True, forward_to=True, realm="proxy")
    origin, proxy = await serve(origin_server), await serve(proxy_server)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        # One retry per request: the 407 is answered, the origin's 401 then comes back.
        first = await fetch(session, "GET", origin.make_url("/a"), proxy=proxy.url)
        assert first == "401 authenticate"
        # Both spaces are known now: one round trip carries both answers.
        second = await fetch(session, "GET", origin.make_url("/b"), proxy=proxy.url)
        assert second == ok()
        # A fresh nc for both headers on a retry: the proxy's answer is not replayed.
        origin_server.successes_per_nonce = len(origin_server.accepted)
        third = await fetch(session, "GET", origin.make_url("/c"), proxy=proxy.url)
        assert third == ok()
    assert [r.status for r in proxy_server.received] == [407, 401, 200, 401, 200]
    assert proxy_server.replays == 0
    assert [r.status for r in origin_server.received] == [401, 200, 401, 200]


async def test_url_answered_directly_is_answered_for_the_proxy_too_when_sent_through_one(
    serve: Serve,
) -> None:
    origin_server = DigestServer(realm="origin")
    proxy_server = DigestServer(proxy=True, forward_to=True, realm="proxy")
    origin, proxy = await serve(origin_server), await serve(proxy_server)
    url = origin.make_url("/a")  # one URL object, as yarl gives for one string
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        assert [await fetch(session, "GET", url) for _ in range(3)] == [ok()] * 3
        assert await fetch(session, "GET", url, proxy=proxy.url) == ok()
        assert await fetch(session, "GET", url) == ok()
        # Both spaces known: the proxy's answer goes with the origin's at once.
        assert await fetch(session, "GET", url, proxy=proxy.url) == ok()
    assert [r.status for r in proxy_server.received] == [407, 200, 200]
    assert [r.status for r in origin_server.received] == [401, 200, 200, 200, 200, 200, 200]
    assert origin_server.replays == proxy_server.replays == 0


async def test_407_without_a_proxy_is_returned_untouched(serve: Serve) -> None:
    server = DigestServer(proxy=True)  # a server that wrongly answers 407 itself
    site = await serve(server)
    async with client(DigestAuthMiddleware(LOGIN, PASSWORD)) as session:
        assert await fetch(session, "GET", site.make_url("/")) == "407 authenticate"
    assert len(server.received) == 1
