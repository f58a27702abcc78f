"""OAuth2Middleware on real servers: every grant, 401 handling, origins, the deadlock it avoids.

The authorization server is the embedded one (``aiohttp_auth.testing.oauth2``)
on 127.0.0.1, with its protected resource at ``/resource/...``; a few cases the
server cannot produce (a 401 that names ``insufficient_scope``, a resource that
refuses every token) use small ``aiohttp.web`` apps of their own. This module
also holds the harness that ``test_oauth2_refresh`` and ``test_oauth2_endpoint``
import.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import ClientRequest, ClientResponse, hdrs, web
from aiohttp.client_middlewares import ClientHandlerType
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey
from peers import NameResolver, Site
from yarl import URL

from aiohttp_auth.errors import (
    ConfigurationError,
    InsecureTransportError,
    OAuth2Error,
    TokenError,
)
from aiohttp_auth.oauth2 import (
    ClientCredentials,
    Grant,
    JWTBearer,
    OAuth2Middleware,
    Password,
    RefreshToken,
    RetryPolicy,
    TokenExchange,
    request_token,
)
from aiohttp_auth.stores import MemoryTokenStore
from aiohttp_auth.testing import (
    AuthorizationServerConfig,
    Fault,
    LocalServer,
    authorization_server_app,
)

# --- the harness ---------------------------------------------------------------------

CLIENT_ID = "app"
CLIENT_SECRET = "app-s3cret: é+&="  # characters RFC 6749 §2.3.1 makes the client encode
USERNAME = "alice"
PASSWORD = "w0nderland-pa55"
#: Upper bound for any wait: a bug shows as a failure, not a hang.
BOUND = 10.0
#: Retries without real waits, for tests that inject failures.
NO_WAIT = RetryPolicy(attempts=3, timeout=5.0, sleep=lambda _delay: asyncio.sleep(0))


class FakeClock:
    """A clock that moves only when told to; shared by the server and the client."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class AuthServer:
    """The embedded authorization server, running, and the clock it reads."""

    config: AuthorizationServerConfig
    server: LocalServer
    clock: Callable[[], float]

    @property
    def token_url(self) -> str:
        return str(self.server.make_url("/token"))

    @property
    def origin(self) -> str:
        return str(self.server.url.origin())

    def resource(self, path: str = "data") -> URL:
        return self.server.make_url(f"/resource/{path}")

    def token_calls(self, grant_type: str | None = None) -> int:
        if grant_type is None:
            return len(self.config.token_requests)
        return self.config.token_calls[grant_type]

    def bearer_requests(self) -> list[str]:
        """The Authorization headers the protected resource received, in order."""
        return [
            request.headers.get("Authorization", "")
            for request in self.config.requests
            if request.path.startswith("/resource/")
        ]

    def client_credentials(self, **options: Any) -> ClientCredentials:
        return ClientCredentials(self.token_url, CLIENT_ID, CLIENT_SECRET, **options)

    def password(self, **options: Any) -> Password:
        return Password(
            self.token_url,
            CLIENT_ID,
            CLIENT_SECRET,
            username=USERNAME,
            password=PASSWORD,
            **options,
        )

    def middleware(self, grant: Grant | None = None, **options: Any) -> OAuth2Middleware:
        options.setdefault("clock", self.clock)
        options.setdefault("retry", NO_WAIT)
        return OAuth2Middleware(grant or self.client_credentials(), **options)


@asynccontextmanager
async def serve_authorization_server(
    clock: Callable[[], float] | None = None, **settings: Any
) -> AsyncIterator[AuthServer]:
    """Serve a fresh authorization server with client ``app`` and user ``alice``."""
    clock = clock if clock is not None else FakeClock()
    config = AuthorizationServerConfig(users={USERNAME: PASSWORD}, clock=clock, **settings)
    config.register(CLIENT_ID, CLIENT_SECRET, scopes=("read", "write", "admin"))
    async with LocalServer(authorization_server_app(config)) as server:
        yield AuthServer(config, server, clock)


@asynccontextmanager
async def serve_app(
    routes: dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]],
) -> AsyncIterator[LocalServer]:
    """Serve a small app of *routes* (path -> handler, any method) on 127.0.0.1."""
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_route("*", path, handler)
    async with LocalServer(app) as server:
        yield server


@pytest.fixture
async def auth() -> AsyncIterator[AuthServer]:
    async with serve_authorization_server() as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def get_json(session: aiohttp.ClientSession, url: URL) -> tuple[int, Any]:
    async with session.get(url) as response:
        return response.status, await response.json(content_type=None)


async def initial_refresh_token(auth: AuthServer, session: aiohttp.ClientSession) -> str:
    """Log in once with the password grant, as a CLI would, and keep its refresh token."""
    login = auth.password().token_request(now=auth.clock(), jti="login")
    token = await request_token(session, login, now=auth.clock)
    assert token.refresh_token is not None
    return token.refresh_token


def revoke_access_tokens(auth: AuthServer) -> None:
    """Revoke every access token at the server, as an administrator would."""
    for issued in auth.config.tokens.values():
        if issued.kind == "access_token":
            issued.revoked = True


# --- each grant ----------------------------------------------------------------------

ISSUER = "https://idp.test"


async def make_grant(kind: str, auth: AuthServer, session: aiohttp.ClientSession) -> Grant:
    if kind == "client_credentials":
        return auth.client_credentials(scope="read")
    if kind == "password":
        return auth.password()
    if kind == "refresh_token":
        refresh_token = await initial_refresh_token(auth, session)
        return RefreshToken(auth.token_url, CLIENT_ID, CLIENT_SECRET, refresh_token=refresh_token)
    if kind == "jwt_bearer":
        private_key = ec.generate_private_key(ec.SECP256R1())
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        auth.config.trusted_issuers[ISSUER] = ECKey.import_key(pem).as_dict(private=False)
        return JWTBearer(
            auth.token_url,
            CLIENT_ID,
            CLIENT_SECRET,
            private_key=pem,
            issuer=ISSUER,
            subject="carol",
            signing_alg="ES256",
        )
    assert kind == "token_exchange"
    issued = await request_token(
        session, auth.client_credentials().token_request(now=auth.clock(), jti="x"), now=auth.clock
    )
    return TokenExchange(
        auth.token_url, CLIENT_ID, CLIENT_SECRET, subject_token=issued.access_token
    )


GRANT_CASES = [
    ("client_credentials", "client_credentials", CLIENT_ID),
    ("password", "password", USERNAME),
    ("refresh_token", "refresh_token", USERNAME),
    ("jwt_bearer", "urn:ietf:params:oauth:grant-type:jwt-bearer", "carol"),
    ("token_exchange", "urn:ietf:params:oauth:grant-type:token-exchange", CLIENT_ID),
]


@pytest.mark.parametrize(
    ("kind", "grant_type", "subject"), GRANT_CASES, ids=[c[0] for c in GRANT_CASES]
)
async def test_each_grant_obtains_a_token_that_reaches_the_resource(
    auth: AuthServer, session: aiohttp.ClientSession, kind: str, grant_type: str, subject: str
) -> None:
    grant = await make_grant(kind, auth, session)
    auth.config.reset()
    middleware = auth.middleware(grant)
    async with aiohttp.ClientSession(middlewares=(middleware,)) as authed:
        for _ in range(3):
            status, body = await get_json(authed, auth.resource())
            assert status == 200, body
            assert (body["client_id"], body["sub"]) == (CLIENT_ID, subject)
    # One token for three requests, obtained with the grant's own grant type.
    assert auth.config.token_calls == {grant_type: 1}
    stored = await middleware.store.get(middleware.key)
    assert stored is not None
    assert auth.bearer_requests() == [f"Bearer {stored.access_token}"] * 3


async def test_a_lower_case_token_type_is_sent_as_bearer(
    auth: AuthServer, session: aiohttp.ClientSession
) -> None:
    auth.config.token_type = "bearer"  # RFC 6749 §7.1: case-insensitive; GitHub sends this
    middleware = auth.middleware()
    async with session.get(auth.resource(), middlewares=(middleware,)) as response:
        assert response.status == 200
    assert auth.bearer_requests()[0].startswith("Bearer ")


async def test_get_token_obtains_once_and_force_obtains_a_new_one(
    auth: AuthServer, session: aiohttp.ClientSession
) -> None:
    middleware = auth.middleware()
    first = await middleware.get_token(session)
    assert await middleware.get_token(session) is first
    forced = await middleware.get_token(session, force=True)
    assert forced.access_token != first.access_token
    assert await middleware.store.get(middleware.key) is forced
    assert auth.token_calls() == 2


# --- 401 and 403 ---------------------------------------------------------------------


async def test_401_invalid_token_refreshes_once_and_retries(
    auth: AuthServer, session: aiohttp.ClientSession
) -> None:
    middleware = auth.middleware(auth.password())
    first = await middleware.get_token(session)
    revoke_access_tokens(auth)  # the resource now answers 401 error="invalid_token"
    async with session.get(auth.resource(), middlewares=(middleware,)) as response:
        assert response.status == 200
    second = await middleware.store.get(middleware.key)
    assert second is not None
    assert second.access_token != first.access_token
    # The refresh token did it (RFC 6749 §6), and kept the refresh token (no rotation).
    assert auth.config.token_calls == {"password": 1, "refresh_token": 1}
    assert second.refresh_token == first.refresh_token
    assert auth.bearer_requests() == [
        f"Bearer {first.access_token}",
        f"Bearer {second.access_token}",
    ]


async def test_any_401_for_the_token_just_sent_is_retried_with_a_new_one(
    auth: AuthServer, session: aiohttp.ClientSession
) -> None:
    # A bare 401 without WWW-Authenticate, as some gateways send.
    auth.config.inject(Fault.status(401, endpoint="/resource/data"))
    middleware = auth.middleware()
    async with session.get(auth.resource(), middlewares=(middleware,)) as response:
        assert response.status == 200
    assert auth.token_calls() == 2
    assert len(set(auth.bearer_requests())) == 2


async def test_insufficient_scope_403_is_returned_without_a_new_token(
    auth: AuthServer, session: aiohttp.ClientSession
) -> None:
    middleware = auth.middleware(auth.client_credentials(scope="read"))
    async with session.get(auth.resource("admin"), middlewares=(middleware,)) as response:
        assert response.status == 403
        assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert auth.token_calls() == 1
    assert len(auth.bearer_requests()) == 1


@asynccontextmanager
async def refusing_resource(error: str) -> AsyncIterator[tuple[LocalServer, list[str]]]:
    """Serve a resource answering 401 with a Bearer *error* to every request.

    Yields the server and the Authorization headers it received.
    """
    seen: list[str] = []

    async def refuse(request: web.Request) -> web.StreamResponse:
        seen.append(request.headers.get("Authorization", ""))
        challenge = f'Bearer realm="api", error="{error}"'
        return web.Response(status=401, headers={hdrs.WWW_AUTHENTICATE: challenge})

    async with serve_app({"/{tail:.*}": refuse}) as server:
        yield server, seen


async def test_insufficient_scope_401_is_returned_without_a_new_token(
    auth: AuthServer, session: aiohttp.ClientSession
) -> None:
    middleware = auth.middleware()
    async with (
        refusing_resource("insufficient_scope") as (resource, seen),
        session.get(resource.make_url("/x"), middlewares=(middleware,)) as response,
    ):
        assert response.status == 401
    assert len(seen) == 1
    assert auth.token_calls() == 1


async def test_a_second_401_is_returned_to_the_caller_without_a_loop(
    auth: AuthServer, session: aiohttp.ClientSession
) -> None:
    middleware = auth.middleware()
    async with (
        refusing_resource("invalid_token") as (resource, seen),
        session.get(resource.make_url("/x"), middlewares=(middleware,)) as response,
    ):
        assert response.status == 401
    assert len(seen) == 2
    assert seen[0] != seen[1]  # the retry carried the new token
    assert auth.token_calls() == 2


async def test_a_server_that_reissues_the_refused_token_costs_one_token_request_per_401(
    session: aiohttp.ClientSession,
) -> None:
    token_calls = 0

    async def token(request: web.Request) -> web.StreamResponse:
        # Some providers hand out the same cached token until it expires.
        nonlocal token_calls
        token_calls += 1
        return web.json_response({"access_token": "cached", "token_type": "Bearer"})

    grant_server = serve_app({"/token": token})
    async with grant_server as server, refusing_resource("invalid_token") as (resource, seen):
        grant = ClientCredentials(str(server.make_url("/token")), CLIENT_ID, CLIENT_SECRET)
        middleware = OAuth2Middleware(grant, retry=NO_WAIT)
        for expected_calls in (2, 3):
            async with session.get(resource.make_url("/x"), middlewares=(middleware,)) as response:
                assert response.status == 401
            assert token_calls == expected_calls
    assert seen == ["Bearer cached"] * 4


async def test_a_401_to_a_streamed_body_is_returned_and_the_next_request_gets_a_new_token(
    auth: AuthServer, session: aiohttp.ClientSession
) -> None:
    middleware = auth.middleware()
    first = await middleware.get_token(session)
    revoke_access_tokens(auth)

    async def chunks() -> AsyncIterator[bytes]:
        yield b"part one, "
        yield b"part two"

    async with session.post(auth.resource(), data=chunks(), middlewares=(middleware,)) as response:
        # Resending would send an empty body: the 401 goes to the caller instead.
        assert response.status == 401
    assert auth.token_calls() == 1
    async with session.get(auth.resource(), middlewares=(middleware,)) as response:
        assert response.status == 200
    assert auth.token_calls() == 2
    assert auth.bearer_requests()[-1] != f"Bearer {first.access_token}"


async def test_a_401_with_a_connection_limit_of_one_does_not_deadlock(
    auth: AuthServer,
) -> None:
    # The 401's connection must go back to the pool before the token request.
    middleware = auth.middleware()
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(connector=connector, middlewares=(middleware,)) as limited:
        await middleware.get_token(limited)
        revoke_access_tokens(auth)
        status, _ = await asyncio.wait_for(get_json(limited, auth.resource()), BOUND)
    assert status == 200


async def test_a_failed_token_request_after_a_401_raises_and_keeps_the_stored_token(
    auth: AuthServer, session: aiohttp.ClientSession
) -> None:
    middleware = auth.middleware(auth.password())
    first = await middleware.get_token(session)
    revoke_access_tokens(auth)
    auth.config.clients[CLIENT_ID].secret = "rotated-by-an-administrator"
    with pytest.raises(OAuth2Error) as raised:
        await session.get(auth.resource(), middlewares=(middleware,))
    assert raised.value.error == "invalid_client"
    assert await middleware.store.get(middleware.key) is first


async def test_token_endpoint_failures_reach_the_caller_as_token_error_naming_endpoint(
    auth: AuthServer, session: aiohttp.ClientSession
) -> None:
    auth.config.inject(*[Fault.status(503)] * 3)
    middleware = auth.middleware()
    with pytest.raises(TokenError) as raised:
        await session.get(auth.resource(), middlewares=(middleware,))
    assert auth.token_url in str(raised.value)
    assert "HTTP 503" in str(raised.value)
    assert auth.token_calls() == 3
    assert auth.bearer_requests() == []


async def test_a_token_with_control_characters_is_never_put_in_a_header(
    session: aiohttp.ClientSession,
) -> None:
    async def token(request: web.Request) -> web.StreamResponse:
        return web.json_response({"access_token": "abc\r\nX-Injected: 1"})

    async with serve_app({"/token": token}) as server:
        grant = ClientCredentials(str(server.make_url("/token")), CLIENT_ID, CLIENT_SECRET)
        middleware = OAuth2Middleware(grant)
        with pytest.raises(TokenError, match="control characters") as raised:
            await session.get(server.make_url("/api"), middlewares=(middleware,))
    assert "abc" not in str(raised.value)


# --- where the token goes ------------------------------------------------------------


async def test_redirect_to_other_origin_carries_no_token(
    auth: AuthServer, site: Site, other_site: Site
) -> None:
    middleware = auth.middleware()
    target = other_site.url("/echo")
    source = site.url("/redirect").with_query(to=str(target), status="307")
    async with (
        aiohttp.ClientSession(middlewares=(middleware,)) as authed,
        authed.get(source) as response,
    ):
        assert response.status == 200
        assert response.url == target
    token = await middleware.store.get(middleware.key)
    assert token is not None
    assert [token.access_token in r.raw() for r in site.requests_to("/redirect")] == [True]
    assert other_site.requests_to("/echo")
    assert token.access_token not in other_site.received()


async def test_the_token_endpoint_gets_no_token_unless_listed(
    auth: AuthServer, site: Site
) -> None:
    middleware = auth.middleware(origins=[site.origin()])
    async with aiohttp.ClientSession(middlewares=(middleware,)) as authed:
        async with authed.get(site.url("/echo")) as response:
            assert response.status == 200
        # The authorization server's own origin is not listed: no token goes there.
        async with authed.get(auth.resource()) as response:
            assert response.status == 401
    token = await middleware.store.get(middleware.key)
    assert token is not None
    assert auth.bearer_requests() == [""]
    assert all(token.access_token not in request.raw() for request in auth.config.requests)
    # The token request itself carried the client's credentials, never the token.
    assert auth.config.token_requests[0].authorization.startswith("Basic ")


async def test_plain_http_to_a_remote_host_is_refused_before_any_token_request(
    auth: AuthServer, resolver: NameResolver
) -> None:
    middleware = auth.middleware()
    connector = aiohttp.TCPConnector(resolver=resolver)
    remote = auth.resource().with_host("api.test")
    async with aiohttp.ClientSession(connector=connector, middlewares=(middleware,)) as authed:
        with pytest.raises(InsecureTransportError):
            await authed.get(remote)
        assert auth.token_calls() == 0
        allowed = auth.middleware(allow_http=True)
        async with authed.get(remote, middlewares=(allowed,)) as response:
            assert response.status == 200


# --- the deadlock of the cookbook pattern --------------------------------------------


class LockedRefreshMiddleware:
    """The refresh-before-expiry pattern of aiohttp's client middleware cookbook.

    It refreshes under a lock through ``request.session``, *with* the session's
    middlewares: installed on the session, the refresh request re-enters this
    middleware, which waits for the lock its own caller holds.
    """

    def __init__(self, token_url: str) -> None:
        self.token_url = token_url
        self.access_token = ""
        self.expires_at = 0.0
        self.lock = asyncio.Lock()

    async def __call__(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        if self.expires_at <= time.time():
            async with self.lock:
                form = {"grant_type": "client_credentials", "client_id": CLIENT_ID}
                async with request.session.post(self.token_url, data=form) as response:
                    body = await response.json()
                    self.access_token = body["access_token"]
                    self.expires_at = time.time() + body["expires_in"]
        request.headers["Authorization"] = f"Bearer {self.access_token}"
        return await handler(request)


async def test_session_middleware_reaching_its_own_token_endpoint_does_not_deadlock(
    auth: AuthServer,
) -> None:
    # The token endpoint and the resource share one session (and one origin).
    naive = LockedRefreshMiddleware(auth.token_url)
    async with aiohttp.ClientSession(middlewares=(naive,)) as cookbook:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(get_json(cookbook, auth.resource()), 1.0)
    assert auth.token_calls() == 0  # the refresh never even left

    middleware = auth.middleware()
    async with aiohttp.ClientSession(middlewares=(middleware,)) as ours:
        status, _ = await asyncio.wait_for(get_json(ours, auth.resource()), BOUND)
        assert status == 200
        auth.config.tokens.clear()  # every token unknown: 401 and a refresh, same session
        status, _ = await asyncio.wait_for(get_json(ours, auth.resource()), BOUND)
        assert status == 200
    assert auth.token_calls() == 2


# --- configuration and repr ----------------------------------------------------------


async def test_default_key_names_grant_client_endpoint_and_scope(auth: AuthServer) -> None:
    middleware = auth.middleware(auth.client_credentials(scope=["read", "write"]))
    assert middleware.key == f"client_credentials:{CLIENT_ID}@{auth.token_url} scope=read write"
    assert auth.middleware().key == f"client_credentials:{CLIENT_ID}@{auth.token_url}"
    assert isinstance(middleware.grant, ClientCredentials)


async def test_a_given_store_and_key_hold_the_token(
    auth: AuthServer, session: aiohttp.ClientSession
) -> None:
    store = MemoryTokenStore()
    middleware = auth.middleware(store=store, key="service-a")
    token = await middleware.get_token(session)
    assert middleware.store is store
    assert await store.get("service-a") is token


async def test_a_token_already_in_the_store_is_used_without_a_token_request(
    auth: AuthServer, session: aiohttp.ClientSession
) -> None:
    other = auth.middleware()
    token = await other.get_token(session)
    store = MemoryTokenStore()
    await store.set("shared", token)
    middleware = auth.middleware(store=store, key="shared")
    async with session.get(auth.resource(), middlewares=(middleware,)) as response:
        assert response.status == 200
    assert auth.token_calls() == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"dpop": object()}, "DPoP is not supported yet"),
        ({"store": {}}, "store: expected a TokenStore"),
        ({"retry": 3}, "retry: expected a RetryPolicy"),
        ({"leeway": -1}, "leeway"),
        ({"leeway": float("inf")}, "leeway"),
        ({"leeway": True}, "leeway"),
        ({"key": "line\nbreak"}, "non-printable"),
        ({"allow_http": "yes"}, "allow_http"),
    ],
)
def test_bad_arguments_raise_configuration_error(options: dict[str, Any], message: str) -> None:
    grant = ClientCredentials("https://idp.test/token", CLIENT_ID, CLIENT_SECRET)
    with pytest.raises(ConfigurationError, match=message):
        OAuth2Middleware(grant, **options)


def test_a_grant_must_be_a_grant() -> None:
    with pytest.raises(ConfigurationError, match="grant: expected a grant"):
        OAuth2Middleware("https://idp.test/token")  # type: ignore[arg-type]


async def test_repr_shows_no_secret(auth: AuthServer, session: aiohttp.ClientSession) -> None:
    middleware = auth.middleware(auth.password(scope="read"))
    token = await middleware.get_token(session)
    text = repr(middleware)
    assert text.startswith("OAuth2Middleware(grant=Password(")
    assert repr(middleware.key) in text
    for secret in (CLIENT_SECRET, PASSWORD, token.access_token, token.refresh_token or "-"):
        assert secret not in text
