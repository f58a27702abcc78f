"""Our OAuth 2 client against an independent authorization server: Authlib's.

The grants build the requests (sans-IO), ``request_token`` sends them, and
``OAuth2Middleware`` runs end to end against Authlib's token endpoint and its
``ResourceProtector``; ``revoke`` and ``discover`` talk to its revocation
endpoint and RFC 8414 metadata. See ``authlib_server.py`` for the server and
the Authlib behaviours these tests pin down.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from authlib_server import AuthlibServer

from aiohttp_auth.errors import OAuth2Error
from aiohttp_auth.oauth2 import (
    ClientAuthMethod,
    ClientCredentials,
    OAuth2Middleware,
    Password,
    RefreshToken,
    Token,
    bearer_challenge_error,
    request_token,
)
from aiohttp_auth.oauth2.discovery import discover, grant_from_issuer
from aiohttp_auth.oauth2.grants import BaseGrant
from aiohttp_auth.oauth2.revocation import revoke

pytestmark = pytest.mark.peer("authlib")


@pytest.fixture
def server(authlib_server: AuthlibServer) -> AuthlibServer:
    return authlib_server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def obtain(session: aiohttp.ClientSession, grant: BaseGrant) -> Token:
    request = grant.token_request(now=time.time(), jti=secrets.token_urlsafe(8))
    return await request_token(session, request)


async def refresh(session: aiohttp.ClientSession, grant: BaseGrant, refresh_token: str) -> Token:
    request = grant.refresh_request(refresh_token, now=time.time(), jti=secrets.token_urlsafe(8))
    return await request_token(session, request)


async def call_resource(
    session: aiohttp.ClientSession, url: str, token: Token
) -> tuple[int, list[str], Any]:
    headers = {"Authorization": f"{token.token_type} {token.access_token}"}
    async with session.get(url, headers=headers) as response:
        return (
            response.status,
            response.headers.getall("WWW-Authenticate", []),
            await response.json(content_type=None),
        )


def client_credentials(server: AuthlibServer, client_id: str, **kwargs: Any) -> ClientCredentials:
    return ClientCredentials(server.token_url, client_id, server.secret(client_id), **kwargs)


def password_grant(server: AuthlibServer, client_id: str = "app", **kwargs: Any) -> Password:
    return Password(
        server.token_url,
        client_id,
        server.secret(client_id),
        username="alice",
        password=server.users["alice"],
        **kwargs,
    )


def token_calls(server: AuthlibServer) -> dict[str, int]:
    calls: dict[str, int] = server.stats()["token_calls"]
    return calls


# --- token endpoint: grants and client authentication -------------------------------------


@pytest.mark.parametrize(
    ("client_id", "client_auth"),
    [
        ("cc-basic", "client_secret_basic"),
        ("cc-post", "client_secret_post"),
        # "%", ":", "é", "&", "=", "/" survive RFC 6749 §2.3.1 encoding at Authlib.
        ("cc-special", "client_secret_basic"),
    ],
)
async def test_client_credentials_token_works_at_the_resource(
    server: AuthlibServer,
    session: aiohttp.ClientSession,
    client_id: str,
    client_auth: ClientAuthMethod,
) -> None:
    grant = client_credentials(server, client_id, scope="read", client_auth=client_auth)
    token = await obtain(session, grant)
    assert token.token_type == "Bearer"
    assert token.scope == "read"
    assert token.expires_at is not None
    # RFC 6749 §4.4.3: a refresh token SHOULD NOT be included; Authlib never does.
    assert token.refresh_token is None
    status, _, body = await call_resource(session, server.url("/api/read"), token)
    assert (status, body["client_id"]) == (200, client_id)


@pytest.mark.parametrize(
    ("client_id", "secret", "client_auth"),
    [
        ("cc-basic", "wrong", "client_secret_basic"),
        ("cc-post", "wrong", "client_secret_post"),
        ("nobody", "any", "client_secret_basic"),
        # Registered for client_secret_basic only: the right secret in the form is refused.
        ("cc-basic", None, "client_secret_post"),
    ],
)
async def test_refused_client_authentication_is_invalid_client(
    server: AuthlibServer,
    session: aiohttp.ClientSession,
    client_id: str,
    secret: str | None,
    client_auth: ClientAuthMethod,
) -> None:
    secret = secret or server.secret(client_id)
    grant = ClientCredentials(server.token_url, client_id, secret, client_auth=client_auth)
    with pytest.raises(OAuth2Error, match="check client_id and client_secret") as caught:
        await obtain(session, grant)
    assert caught.value.error == "invalid_client"
    assert secret not in str(caught.value)


async def test_scope_beyond_the_client_is_not_granted(
    server: AuthlibServer, session: aiohttp.ClientSession
) -> None:
    # Authlib narrows the request to what the client may have (RFC 6749 §3.3
    # lets a server grant less and say so in the response's scope).
    token = await obtain(session, client_credentials(server, "cc-basic", scope="read admin"))
    assert token.scope == "read"
    status, challenges, body = await call_resource(session, server.url("/api/admin"), token)
    # Authlib sends no WWW-Authenticate with its 403 (RFC 6750 §3 wants a
    # Bearer challenge there); the error is in the body only.
    assert (status, body["error"], challenges) == (403, "insufficient_scope", [])


async def test_password_grant_and_refresh_with_rotation(
    server: AuthlibServer, session: aiohttp.ClientSession
) -> None:
    grant = password_grant(server, scope="read")
    first = await obtain(session, grant)
    assert first.refresh_token is not None
    second = await refresh(session, grant, first.refresh_token)
    assert second.refresh_token is not None
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    assert second.scope == "read"
    status, _, body = await call_resource(session, server.url("/api/read"), second)
    assert (status, body["user"]) == (200, "alice")
    # The rotated-out refresh token is dead; the new one lives.
    with pytest.raises(OAuth2Error) as caught:
        await refresh(session, grant, first.refresh_token)
    assert caught.value.error == "invalid_grant"
    third = await refresh(session, grant, second.refresh_token)
    assert third.refresh_token not in (first.refresh_token, second.refresh_token)


async def test_refresh_token_grant_starts_from_a_refresh_token(
    server: AuthlibServer, session: aiohttp.ClientSession
) -> None:
    first = await obtain(session, password_grant(server))
    assert first.refresh_token is not None
    grant = RefreshToken(
        server.token_url, "app", server.secret("app"), refresh_token=first.refresh_token
    )
    token = await obtain(session, grant)
    assert token.refresh_token not in (None, first.refresh_token)


async def test_wrong_password_is_an_oauth2_error(
    server: AuthlibServer, session: aiohttp.ClientSession
) -> None:
    grant = Password(
        server.token_url, "app", server.secret("app"), username="alice", password="wrong"
    )
    with pytest.raises(OAuth2Error) as caught:
        await obtain(session, grant)
    # RFC 6749 §5.2 says invalid_grant; Authlib answers invalid_request.
    assert caught.value.error in ("invalid_grant", "invalid_request")


@pytest.mark.parametrize("client_id", ["app", "other-app"])
async def test_unknown_or_foreign_refresh_token_is_invalid_grant(
    server: AuthlibServer, session: aiohttp.ClientSession, client_id: str
) -> None:
    issued = await obtain(session, password_grant(server, "app"))
    assert issued.refresh_token is not None
    unknown = "rt-" + secrets.token_urlsafe(16)
    # "app" presents a token never issued; "other-app" one issued to "app".
    refresh_token = unknown if client_id == "app" else issued.refresh_token
    with pytest.raises(OAuth2Error, match="re-authenticate") as caught:
        await refresh(session, password_grant(server, client_id), refresh_token)
    assert caught.value.error == "invalid_grant"


async def test_expired_refresh_token_is_invalid_grant(
    server: AuthlibServer, session: aiohttp.ClientSession
) -> None:
    grant = password_grant(server)
    token = await obtain(session, grant)
    assert token.refresh_token is not None
    server.advance_clock(server.refresh_token_lifetime + 1)
    with pytest.raises(OAuth2Error) as caught:
        await refresh(session, grant, token.refresh_token)
    assert caught.value.error == "invalid_grant"


# --- revocation and discovery -------------------------------------------------------------


async def test_revoked_token_is_refused_by_the_resource_and_the_token_endpoint(
    server: AuthlibServer, session: aiohttp.ClientSession
) -> None:
    grant = password_grant(server, scope="read")
    token = await obtain(session, grant)
    assert token.refresh_token is not None
    await revoke(session, server.revocation_url, token, client=grant)
    status, challenges, _ = await call_resource(session, server.url("/api/read"), token)
    assert status == 401
    assert bearer_challenge_error(challenges) == "invalid_token"
    with pytest.raises(OAuth2Error) as caught:
        await refresh(session, grant, token.refresh_token)
    assert caught.value.error == "invalid_grant"


async def test_revoking_an_access_token_only(
    server: AuthlibServer, session: aiohttp.ClientSession
) -> None:
    grant = client_credentials(server, "cc-post", scope="read", client_auth="client_secret_post")
    token = await obtain(session, grant)
    await revoke(
        session,
        server.revocation_url,
        token.access_token,
        client=grant,
        token_type_hint="access_token",
    )
    status, _, _ = await call_resource(session, server.url("/api/read"), token)
    assert status == 401


async def test_revocation_with_a_wrong_secret_is_invalid_client(
    server: AuthlibServer, session: aiohttp.ClientSession
) -> None:
    grant = ClientCredentials(server.token_url, "cc-basic", "wrong")
    with pytest.raises(OAuth2Error) as caught:
        await revoke(session, server.revocation_url, "tok", client=grant)
    assert caught.value.error == "invalid_client"


async def test_discovery_of_authlib_metadata(
    server: AuthlibServer, session: aiohttp.ClientSession
) -> None:
    metadata = await discover(session, server.issuer)
    assert metadata.token_endpoint == server.token_url
    assert metadata.revocation_endpoint == server.revocation_url
    assert metadata.token_endpoint_auth_methods_supported == (
        "client_secret_basic",
        "client_secret_post",
    )
    grant = metadata.make_grant(ClientCredentials, "cc-basic", server.secret("cc-basic"))
    assert grant.client_auth.method == "client_secret_basic"
    token = await obtain(session, grant)
    await revoke(session, metadata.revocation_endpoint or "", token, client=grant)


async def test_metadata_methods_are_server_wide_so_a_post_only_client_says_so(
    server: AuthlibServer, session: aiohttp.ClientSession
) -> None:
    secret = server.secret("cc-post")
    chosen = await grant_from_issuer(session, server.issuer, ClientCredentials, "cc-post", secret)
    # The metadata lists Basic first, but this client is registered for post only.
    with pytest.raises(OAuth2Error, match="invalid_client"):
        await obtain(session, chosen)
    grant = await grant_from_issuer(
        session,
        server.issuer,
        ClientCredentials,
        "cc-post",
        secret,
        client_auth="client_secret_post",
    )
    assert (await obtain(session, grant)).access_token


# --- OAuth2Middleware end to end -----------------------------------------------------------


async def test_middleware_on_the_session_that_reaches_the_token_endpoint(
    server: AuthlibServer,
) -> None:
    # Token endpoint and resource share one origin and one session: the token
    # request must neither recurse into the middleware nor deadlock on it.
    middleware = OAuth2Middleware(client_credentials(server, "cc-basic", scope="read"))
    before = token_calls(server).get("client_credentials", 0)
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        for _ in range(3):
            async with session.get(server.url("/api/read")) as response:
                assert response.status == 200
                assert (await response.json())["client_id"] == "cc-basic"
    assert token_calls(server)["client_credentials"] == before + 1


async def test_concurrent_requests_share_one_token_request(server: AuthlibServer) -> None:
    grant = client_credentials(server, "cc-post", scope="read", client_auth="client_secret_post")
    middleware = OAuth2Middleware(grant)
    before = token_calls(server).get("client_credentials", 0)

    async def fetch(session: aiohttp.ClientSession) -> int:
        async with session.get(server.url("/api/read")) as response:
            return response.status

    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        statuses = await asyncio.gather(*(fetch(session) for _ in range(20)))
    assert statuses == [200] * 20
    assert token_calls(server)["client_credentials"] == before + 1


async def test_middleware_refreshes_before_expiry_and_keeps_the_rotated_token(
    server: AuthlibServer,
) -> None:
    offset = [0.0]
    middleware = OAuth2Middleware(
        password_grant(server, "short", scope="read"), clock=lambda: time.time() + offset[0]
    )
    before = token_calls(server)
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        async with session.get(server.url("/api/read")) as response:
            assert response.status == 200
        first = await middleware.store.get(middleware.key)
        assert first is not None
        # The 3 s token is within half its lifetime of expiry: refreshed first.
        offset[0] = 2.0
        async with session.get(server.url("/api/read")) as response:
            assert response.status == 200
        second = await middleware.store.get(middleware.key)
    after = token_calls(server)
    assert after["password"] == before.get("password", 0) + 1
    assert after["refresh_token"] == before.get("refresh_token", 0) + 1
    assert second is not None
    assert second.refresh_token not in (None, first.refresh_token)


async def test_middleware_recovers_from_a_token_the_server_expired(
    server: AuthlibServer,
) -> None:
    middleware = OAuth2Middleware(password_grant(server, "short", scope="read"))
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        async with session.get(server.url("/api/read")) as response:
            assert response.status == 200
        before = token_calls(server)
        resource = server.stats()
        # Authlib's clock moves past the access token's 3 s; ours does not.
        server.advance_clock(10)
        async with session.get(server.url("/api/read")) as response:
            assert response.status == 200
    after = token_calls(server)
    assert after["refresh_token"] == before.get("refresh_token", 0) + 1
    # One refused request (401 invalid_token), then the retried one served.
    stats = server.stats()
    assert stats["resource_requests"] == resource["resource_requests"] + 2
    assert stats["resource_served"] == resource["resource_served"] + 1


async def test_middleware_starts_over_when_the_refresh_token_expired(
    server: AuthlibServer,
) -> None:
    offset = [0.0]
    middleware = OAuth2Middleware(
        password_grant(server, "short", scope="read"), clock=lambda: time.time() + offset[0]
    )
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        async with session.get(server.url("/api/read")) as response:
            assert response.status == 200
        before = token_calls(server)
        server.advance_clock(server.refresh_token_lifetime + 1)
        offset[0] = 10.0
        async with session.get(server.url("/api/read")) as response:
            assert response.status == 200
    after = token_calls(server)
    # The refresh was refused (invalid_grant), so the password grant ran again.
    assert after["refresh_token"] == before.get("refresh_token", 0) + 1
    assert after["password"] == before["password"] + 1


async def test_insufficient_scope_is_returned_not_retried(server: AuthlibServer) -> None:
    middleware = OAuth2Middleware(client_credentials(server, "cc-basic", scope="read"))
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        async with session.get(server.url("/api/read")) as response:
            assert response.status == 200
        before = token_calls(server)["client_credentials"]
        async with session.get(server.url("/api/admin")) as response:
            assert response.status == 403
            assert (await response.json())["error"] == "insufficient_scope"
    assert token_calls(server)["client_credentials"] == before


async def test_middleware_with_a_wrong_secret_raises_invalid_client(
    server: AuthlibServer,
) -> None:
    grant = ClientCredentials(server.token_url, "cc-basic", "wrong-" + secrets.token_hex(4))
    async with aiohttp.ClientSession(middlewares=(OAuth2Middleware(grant),)) as session:
        with pytest.raises(OAuth2Error) as caught:
            await session.get(server.url("/api/read"))
    assert caught.value.error == "invalid_client"
