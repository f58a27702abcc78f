"""The shared machinery of every middleware: scope binding, transport policy, retry, sub-requests.

A tiny concrete :class:`AuthMiddleware` defined here stands in for the real ones; every
test drives a real ``aiohttp.ClientSession`` against real servers on loopback.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO, Any, Literal

import aiohttp
import pytest
from aiohttp import ClientRequest, ClientResponse, hdrs, web
from aiohttp.client_middlewares import ClientHandlerType
from aiohttp.payload import Payload
from peers import Credentials, NameResolver, Site, require_ipv6_loopback

from aiohttp_auth import (
    AuthMiddleware,
    BodyNotReplayableError,
    ConfigurationError,
    InsecureTransportError,
    subrequest,
)
from aiohttp_auth.testing import LocalServer

#: Bound for anything that could hang if the machinery were wrong.
DEADLINE = 10.0


class BearerStandIn(AuthMiddleware):
    """The smallest real middleware: sets one bearer token, never retries."""

    def __init__(self, token: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.token = token

    async def authenticate(
        self, request: ClientRequest, handler: ClientHandlerType
    ) -> ClientResponse:
        request.headers[hdrs.AUTHORIZATION] = f"Bearer {self.token}"
        return await handler(request)


class SignatureStandIn(BearerStandIn):
    """A middleware whose header is not a secret (like a request signature)."""

    sends_secret = False


class RetryingStandIn(AuthMiddleware):
    """Sends *first*; on a 401 switches to *second* and retries through ``retry_once``."""

    def __init__(
        self,
        first: str,
        second: str,
        *,
        if_consumed: Literal["return", "raise"] = "return",
        retry_calls: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.first, self.second = first, second
        self.if_consumed = if_consumed
        self.retry_calls = retry_calls
        self.retry_results: list[tuple[ClientResponse, ClientResponse]] = []

    async def authenticate(
        self, request: ClientRequest, handler: ClientHandlerType
    ) -> ClientResponse:
        request.headers[hdrs.AUTHORIZATION] = f"Bearer {self.first}"
        response = await handler(request)
        for _ in range(self.retry_calls):
            if response.status != 401:
                break
            request.headers[hdrs.AUTHORIZATION] = f"Bearer {self.second}"
            given = response
            response = await self.retry_once(
                request, handler, response, if_consumed=self.if_consumed
            )
            self.retry_results.append((given, response))
        return response


def tokens_seen(site: Site, path: str = "/bearer") -> list[str | None]:
    return [r.headers.get(hdrs.AUTHORIZATION) for r in site.requests_to(path)]


# --- construction -------------------------------------------------------------


def test_base_class_cannot_be_instantiated() -> None:
    with pytest.raises(TypeError, match="abstract"):
        AuthMiddleware()  # type: ignore[abstract]


@pytest.mark.parametrize("allow_http", ["yes", 1, None])
def test_allow_http_must_be_a_bool(allow_http: object) -> None:
    with pytest.raises(ConfigurationError, match=r"^allow_http: "):
        BearerStandIn("t", allow_http=allow_http)  # type: ignore[arg-type]


def test_bad_origins_are_refused_at_construction() -> None:
    with pytest.raises(ConfigurationError, match=r"^origins: "):
        BearerStandIn("t", origins=["https://api.example.com", "ftp://files.example.com"])


# --- origin scope ---------------------------------------------------------------


async def test_origins_none_binds_to_the_first_request(
    site: Site, other_site: Site, credentials: Credentials
) -> None:
    middleware = BearerStandIn(credentials.bearer)
    assert middleware.scope.unbound
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        async with session.get(site.url("/bearer")) as first:
            assert first.status == 200
        async with session.get(other_site.url("/bearer")) as elsewhere:
            assert elsewhere.status == 401
        async with session.get(site.url("/bearer")) as again:
            assert again.status == 200
    assert middleware.scope.describe() == repr([site.origin()])
    assert other_site.config.requests
    assert credentials.leaked_in(other_site.received()) == []


async def test_request_outside_explicit_origins_passes_untouched(
    site: Site, other_site: Site, credentials: Credentials
) -> None:
    middleware = BearerStandIn(credentials.bearer, origins=other_site.origin())
    async with (
        aiohttp.ClientSession(middlewares=(middleware,)) as session,
        session.get(site.url("/bearer")) as response,
    ):
        assert response.status == 401
    assert tokens_seen(site) == [None]


async def test_url_prefix_is_checked_on_every_request_of_its_origin(
    site: Site, credentials: Credentials
) -> None:
    # Whole origins take a per-request fast path once admitted; a URL prefix must
    # not: the path decides each time, however often its origin was admitted.
    middleware = BearerStandIn(credentials.bearer, origins=f"{site.origin()}/bearer")
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        for path in ("/bearer", "/echo", "/bearer", "/echo"):
            async with session.get(site.url(path)):
                pass
    bearer = f"Bearer {credentials.bearer}"
    assert tokens_seen(site) == [bearer, bearer]
    assert tokens_seen(site, "/echo") == [None, None]


# --- transport policy -------------------------------------------------------------


async def test_plain_http_to_a_remote_host_is_refused_and_does_not_bind(
    site: Site, credentials: Credentials, resolver: NameResolver
) -> None:
    middleware = BearerStandIn(credentials.bearer)
    remote = site.url("/bearer", host="api.test")
    connector = aiohttp.TCPConnector(resolver=resolver)
    async with aiohttp.ClientSession(connector=connector, middlewares=(middleware,)) as session:
        with pytest.raises(InsecureTransportError) as refused:
            await session.get(remote)
        # Refused before anything was sent, and the scope stays unbound: a
        # refused request must not decide where the credential goes next.
        assert site.config.requests == []
        assert middleware.scope.unbound

        async with session.get(site.url("/bearer")) as response:
            assert response.status == 200
    assert middleware.scope.describe() == repr([site.origin()])
    assert refused.value.url == str(remote)
    assert "allow_http=True" in str(refused.value)
    assert f"http://api.test:{site.server.port}" in str(refused.value)
    assert credentials.bearer not in str(refused.value)


async def test_allow_http_sends_to_a_remote_host(
    site: Site, credentials: Credentials, resolver: NameResolver
) -> None:
    middleware = BearerStandIn(credentials.bearer, allow_http=True)
    connector = aiohttp.TCPConnector(resolver=resolver)
    async with aiohttp.ClientSession(connector=connector, middlewares=(middleware,)) as session:
        for _ in range(2):
            async with session.get(site.url("/bearer", host="api.test")) as response:
                assert response.status == 200
    assert tokens_seen(site) == [f"Bearer {credentials.bearer}"] * 2


async def test_a_header_that_is_no_secret_may_use_plain_http(
    site: Site, resolver: NameResolver
) -> None:
    middleware = SignatureStandIn("signature")
    connector = aiohttp.TCPConnector(resolver=resolver)
    async with (
        aiohttp.ClientSession(connector=connector, middlewares=(middleware,)) as session,
        session.get(site.url("/echo", host="api.test")) as response,
    ):
        assert response.status == 200
    assert site.requests_to("/echo")[0].headers[hdrs.AUTHORIZATION] == "Bearer signature"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_plain_http_to_loopback_is_allowed(
    site: Site, credentials: Credentials, resolver: NameResolver, host: str
) -> None:
    middleware = BearerStandIn(credentials.bearer)
    connector = aiohttp.TCPConnector(resolver=resolver)
    async with (
        aiohttp.ClientSession(connector=connector, middlewares=(middleware,)) as session,
        session.get(site.url("/bearer", host=host)) as response,
    ):
        assert response.status == 200
    assert tokens_seen(site) == [f"Bearer {credentials.bearer}"]


async def test_plain_http_to_ipv6_loopback_is_allowed(
    make_site: Callable[..., Any], credentials: Credentials
) -> None:
    require_ipv6_loopback()
    ipv6_site: Site = await make_site(host="::1")
    middleware = BearerStandIn(credentials.bearer)
    async with (
        aiohttp.ClientSession(middlewares=(middleware,)) as session,
        session.get(ipv6_site.url("/bearer")) as response,
    ):
        assert response.status == 200
    assert middleware.scope.describe() == repr([f"http://[::1]:{ipv6_site.server.port}"])


async def test_https_to_a_remote_host_is_allowed(
    make_site: Callable[..., Any],
    credentials: Credentials,
    resolver: NameResolver,
    server_ssl_context: Any,
    client_ssl_context: Any,
) -> None:
    tls_site: Site = await make_site(ssl_context=server_ssl_context)
    middleware = BearerStandIn(credentials.bearer)
    connector = aiohttp.TCPConnector(resolver=resolver, ssl=client_ssl_context)
    async with (
        aiohttp.ClientSession(connector=connector, middlewares=(middleware,)) as session,
        session.get(tls_site.url("/bearer", host="api.test")) as response,
    ):
        assert response.status == 200
    assert str(tls_site.url("/", host="api.test")).startswith("https://api.test:")


def websocket_app() -> web.Application:
    async def tell_authorization(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(request.headers.get(hdrs.AUTHORIZATION, "<none>"))
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_get("/ws", tell_authorization)
    return app


async def test_websocket_handshake_follows_the_same_policy(
    credentials: Credentials, resolver: NameResolver
) -> None:
    async with LocalServer(websocket_app()) as server:
        loopback = server.make_url("/ws").with_scheme("ws")
        remote = loopback.with_host("api.test")
        middleware = BearerStandIn(credentials.bearer)
        connector = aiohttp.TCPConnector(resolver=resolver)
        async with aiohttp.ClientSession(
            connector=connector, middlewares=(middleware,)
        ) as session:
            with pytest.raises(InsecureTransportError):
                await session.ws_connect(remote)
            async with session.ws_connect(loopback) as ws:
                assert await ws.receive_str() == f"Bearer {credentials.bearer}"
    assert middleware.scope.describe() == repr([str(loopback.origin())])


# --- retry_once ---------------------------------------------------------------------


async def test_retry_once_resends_with_the_updated_credential(
    site: Site, credentials: Credentials
) -> None:
    middleware = RetryingStandIn("stale-token", credentials.bearer)
    async with (
        aiohttp.ClientSession(middlewares=(middleware,)) as session,
        session.get(site.url("/bearer")) as response,
    ):
        assert response.status == 200
    assert tokens_seen(site) == ["Bearer stale-token", f"Bearer {credentials.bearer}"]


async def test_retry_once_resends_at_most_once_and_then_returns_the_response_untouched(
    site: Site,
) -> None:
    middleware = RetryingStandIn("wrong-1", "wrong-2", retry_calls=3)
    async with (
        aiohttp.ClientSession(middlewares=(middleware,)) as session,
        session.get(site.url("/bearer")) as response,
    ):
        assert response.status == 401
        assert await response.json() == {"error": "unauthorized"}
    assert tokens_seen(site) == ["Bearer wrong-1", "Bearer wrong-2"]
    (_, resent), (given, returned), (given_again, returned_again) = middleware.retry_results
    assert returned is given is resent
    assert returned_again is given_again is resent


async def test_each_middleware_retries_a_hop_once(site: Site) -> None:
    outer = RetryingStandIn("outer-1", "outer-2")
    inner = RetryingStandIn("inner-1", "inner-2")
    async with (
        aiohttp.ClientSession(middlewares=(outer, inner)) as session,
        session.get(site.url("/bearer")) as response,
    ):
        assert response.status == 401
    # The inner middleware resends once; the outer one resends once, which runs
    # the inner one again, and that one has used its retry on this hop.
    assert tokens_seen(site) == ["Bearer inner-1", "Bearer inner-2", "Bearer inner-1"]


def big_challenge_app() -> web.Application:
    """401 with a body larger than socket buffers unless ``X-Attempt: 2``."""

    async def protected(request: web.Request) -> web.Response:
        if request.headers.get("X-Attempt") == "2":
            return web.Response(text="ok")
        return web.Response(status=401, body=b"x" * (4 * 1024 * 1024))

    app = web.Application()
    app.router.add_get("/big", protected)
    return app


class AttemptCounter(AuthMiddleware):
    """Retries a 401 with ``X-Attempt: 2``, through retry_once or, to compare, directly."""

    def __init__(self, *, release: bool) -> None:
        super().__init__()
        self.release = release

    async def authenticate(
        self, request: ClientRequest, handler: ClientHandlerType
    ) -> ClientResponse:
        request.headers["X-Attempt"] = "1"
        response = await handler(request)
        request.headers["X-Attempt"] = "2"
        if self.release:
            return await self.retry_once(request, handler, response)
        try:
            return await handler(request)
        finally:
            # Reached when the test gives up waiting; without this the held
            # connection would outlive the event loop.
            response.release()


async def test_retry_once_sends_the_cookies_the_first_response_set() -> None:
    # A load balancer's affinity cookie set on the 401 must reach the retry, or the
    # retry may land on a server that does not know the first exchange.
    seen: list[str | None] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.cookies.get("backend"))
        if request.headers.get(hdrs.AUTHORIZATION) != "Bearer second":
            response = web.Response(status=401)
            response.set_cookie("backend", "b1")
            return response
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", handler)
    async with (
        LocalServer(app) as server,
        aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            middlewares=(RetryingStandIn("first", "second"),),
        ) as session,
        session.get(server.url) as response,
    ):
        assert response.status == 200
    assert seen == [None, "b1"]


async def test_retry_once_releases_the_first_response(credentials: Credentials) -> None:
    # With one connection in the pool, a retry that kept the first (large,
    # unread) response would wait for a connection forever.
    async with LocalServer(big_challenge_app()) as server:
        connector = aiohttp.TCPConnector(limit=1)
        middleware = AttemptCounter(release=True)
        async with aiohttp.ClientSession(connector=connector, middlewares=(middleware,)) as s:

            async def fetch() -> str:
                async with s.get(server.make_url("/big")) as response:
                    return await response.text()

            assert await asyncio.wait_for(fetch(), DEADLINE) == "ok"


async def test_retry_without_release_would_hang_the_pool() -> None:
    # The control for the test above: it proves that the pool of one really
    # deadlocks when the first response is not released.
    async with LocalServer(big_challenge_app()) as server:
        connector = aiohttp.TCPConnector(limit=1)
        middleware = AttemptCounter(release=False)
        async with aiohttp.ClientSession(connector=connector, middlewares=(middleware,)) as s:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(s.get(server.make_url("/big")), 0.5)


async def stream(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def test_consumed_stream_returns_the_first_response_unreleased(site: Site) -> None:
    middleware = RetryingStandIn("wrong", "also-wrong", if_consumed="return")
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        body = stream([b"part one, ", b"part two"])
        async with session.post(site.url("/bearer"), data=body) as response:
            assert response.status == 401
            assert await response.json() == {"error": "unauthorized"}
    ((given, returned),) = middleware.retry_results
    assert returned is given
    # Sent once, never resent empty.
    assert [r.body for r in site.requests_to("/bearer")] == [b"part one, part two"]


async def test_consumed_stream_raises_when_asked_to(site: Site, credentials: Credentials) -> None:
    middleware = RetryingStandIn("wrong", credentials.bearer, if_consumed="raise")
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        with pytest.raises(BodyNotReplayableError, match="streaming body") as caught:
            await session.post(site.url("/bearer?q=secret-query"), data=stream([b"once"]))
    assert [r.body for r in site.requests_to("/bearer")] == [b"once"]
    assert "secret-query" not in str(caught.value)
    assert credentials.bearer not in str(caught.value)
    assert "401" in str(caught.value)


# aiohttp 3.12.0 closes a file or BytesIO body after its first send (3.12.1 made
# payloads reusable and added ``Payload.consumed``): there, retry_once must
# hand back the first response instead of failing on a closed file.
FILES_REPLAYABLE = hasattr(Payload, "consumed")

BODIES: dict[str, Callable[[], tuple[dict[str, Any], bytes]]] = {
    "bytes": lambda: ({"data": b"\x00binary\xff"}, b"\x00binary\xff"),
    "str": lambda: ({"data": "text body, jösé"}, "text body, jösé".encode()),
    "json": lambda: ({"json": {"a": [1, 2]}}, json.dumps({"a": [1, 2]}).encode()),
    "form": lambda: ({"data": {"a": "1", "b": "2"}}, b"a=1&b=2"),
}


@pytest.mark.parametrize("kind", BODIES)
async def test_replayable_bodies_are_resent_intact(
    site: Site, credentials: Credentials, kind: str
) -> None:
    kwargs, expected = BODIES[kind]()
    middleware = RetryingStandIn("stale", credentials.bearer)
    async with (
        aiohttp.ClientSession(middlewares=(middleware,)) as session,
        session.post(site.url("/bearer"), **kwargs) as response,
    ):
        assert response.status == 200
    assert [r.body for r in site.requests_to("/bearer")] == [expected, expected]


def open_file_body(tmp_path: Path) -> tuple[IO[bytes], bytes]:
    upload = tmp_path / "upload.bin"
    upload.write_bytes(b"file contents " * 1000)
    return upload.open("rb"), upload.read_bytes()


def open_bytesio_body(tmp_path: Path) -> tuple[IO[bytes], bytes]:
    return io.BytesIO(b"in memory"), b"in memory"


@pytest.mark.parametrize("open_body", [open_file_body, open_bytesio_body])
async def test_file_bodies_are_resent_intact_or_never_resent_broken(
    site: Site,
    credentials: Credentials,
    tmp_path: Path,
    open_body: Callable[[Path], tuple[IO[bytes], bytes]],
) -> None:
    body, expected = open_body(tmp_path)
    middleware = RetryingStandIn("stale", credentials.bearer)
    with body:
        async with (
            aiohttp.ClientSession(middlewares=(middleware,)) as session,
            session.post(site.url("/bearer"), data=body) as response,
        ):
            status = response.status
    sent = [r.body for r in site.requests_to("/bearer")]
    if FILES_REPLAYABLE:
        assert (status, sent) == (200, [expected, expected])
    else:  # aiohttp 3.12.0: the first answer comes back, nothing is resent
        assert (status, sent) == (401, [expected])


# --- subrequest ----------------------------------------------------------------------


def token_endpoint_app(token: str, calls: list[dict[str, str]]) -> web.Application:
    async def issue(request: web.Request) -> web.Response:
        calls.append(dict(request.headers))
        await asyncio.sleep(0.01)  # long enough for concurrent callers to pile up
        return web.json_response({"access_token": token, "token_type": "Bearer"})

    app = web.Application()
    app.router.add_post("/token", issue)
    return app


class CookbookTokenMiddleware:
    """A session middleware shaped like aiohttp's cookbook: a lock around a token fetch."""

    def __init__(self, token_url: str, *, guarded: bool = True) -> None:
        self.token_url = token_url
        self.guarded = guarded
        self.token: str | None = None
        self.lock = asyncio.Lock()

    async def __call__(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        async with self.lock:
            if self.token is None:
                self.token = await self._fetch(request.session)
        request.headers[hdrs.AUTHORIZATION] = f"Bearer {self.token}"
        return await handler(request)

    async def _fetch(self, session: aiohttp.ClientSession) -> str:
        data = {"grant_type": "client_credentials"}
        if self.guarded:
            async with subrequest(session, "POST", self.token_url, data=data) as response:
                token: str = (await response.json())["access_token"]
                return token
        # What the cookbook does: the sub-request re-enters this very middleware.
        async with session.post(self.token_url, data=data) as response:
            return str((await response.json())["access_token"])


async def test_subrequest_from_a_session_middleware_neither_recurses_nor_deadlocks(
    site: Site, credentials: Credentials
) -> None:
    calls: list[dict[str, str]] = []
    async with LocalServer(token_endpoint_app(credentials.bearer, calls)) as token_server:
        middleware = CookbookTokenMiddleware(str(token_server.make_url("/token")))
        async with aiohttp.ClientSession(middlewares=(middleware,)) as session:

            async def call_api() -> int:
                async with session.get(site.url("/bearer")) as response:
                    return response.status

            statuses = await asyncio.wait_for(
                asyncio.gather(*(call_api() for _ in range(3))), DEADLINE
            )
            assert statuses == [200, 200, 200]
            assert await asyncio.wait_for(call_api(), DEADLINE) == 200
    assert len(calls) == 1
    assert hdrs.AUTHORIZATION not in calls[0]


async def test_session_request_from_a_session_middleware_deadlocks_without_subrequest(
    credentials: Credentials,
) -> None:
    # The control for the test above: the cookbook shape really deadlocks.
    calls: list[dict[str, str]] = []
    async with LocalServer(token_endpoint_app(credentials.bearer, calls)) as token_server:
        middleware = CookbookTokenMiddleware(str(token_server.make_url("/token")), guarded=False)
        async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(session.get(token_server.make_url("/token")), 0.5)
    assert calls == []


async def test_subrequest_skips_the_session_middlewares(
    site: Site, credentials: Credentials
) -> None:
    middleware = BearerStandIn(credentials.bearer)
    async with (
        aiohttp.ClientSession(middlewares=(middleware,)) as session,
        subrequest(session, "GET", site.url("/bearer")) as response,
    ):
        assert response.status == 401
    assert tokens_seen(site) == [None]
    assert middleware.scope.unbound


async def test_subrequest_does_not_follow_redirects_by_default(
    site: Site, other_site: Site
) -> None:
    target = other_site.url("/echo")
    redirect = site.url("/redirect").with_query(to=str(target), status="307")
    async with aiohttp.ClientSession() as session:
        async with subrequest(session, "POST", redirect, data=b"client_secret=x") as response:
            assert response.status == 307
            assert response.headers[hdrs.LOCATION] == str(target)
        assert other_site.config.requests == []
        async with subrequest(session, "GET", redirect, allow_redirects=True) as followed:
            assert followed.status == 200
    assert len(other_site.requests_to("/echo")) == 1
