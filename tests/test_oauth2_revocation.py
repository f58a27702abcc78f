"""RFC 7009 revocation: the request (sans-IO), and ``revoke`` against the embedded server.

A revoked token must stop working where it matters, so the IO tests check the
embedded server's protected resource (and its refresh grant) after revoking,
not only the status of ``/revoke``.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.client_middlewares import ClientHandlerType
from joserfc.jwk import ECKey
from peers import free_port

from aiohttp_auth.errors import ConfigurationError, OAuth2Error, TokenError
from aiohttp_auth.oauth2 import (
    ClientCredentials,
    Password,
    Token,
    make_client_auth,
)
from aiohttp_auth.oauth2.endpoint import request_token
from aiohttp_auth.oauth2.grants import BaseGrant
from aiohttp_auth.oauth2.revocation import revocation_request, revoke
from aiohttp_auth.testing import AuthorizationServerConfig, Fault, LocalServer

SECRET = "app-" + secrets.token_urlsafe(12)
OTHER_SECRET = "other-" + secrets.token_urlsafe(12)
PASSWORD = "pw-" + secrets.token_urlsafe(12)
URL = "https://as.example/revoke"


def jwt_claims(assertion: str) -> dict[str, Any]:
    payload = assertion.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


# --- revocation_request: sans-IO ----------------------------------------------------------


def test_request_with_client_secret_basic() -> None:
    client_auth = make_client_auth("client_secret_basic", "app", SECRET)
    request = revocation_request(
        URL, "tok-1", token_type_hint="refresh_token", client_auth=client_auth, now=0.0, jti="j"
    )
    assert request.url == URL
    assert dict(request.form) == {"token": "tok-1", "token_type_hint": "refresh_token"}
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["Authorization"].startswith("Basic ")
    assert request.body == b"token=tok-1&token_type_hint=refresh_token"
    assert "tok-1" not in repr(request)


def test_request_with_client_secret_post_and_no_hint() -> None:
    client_auth = make_client_auth("client_secret_post", "app", SECRET)
    request = revocation_request(URL, "tok-1", client_auth=client_auth, now=0.0, jti="j")
    assert dict(request.form) == {"token": "tok-1", "client_id": "app", "client_secret": SECRET}
    assert "Authorization" not in request.headers


def test_request_of_a_public_client_names_it() -> None:
    client_auth = make_client_auth("none", "cli", None)
    request = revocation_request(URL, "tok-1", client_auth=client_auth, now=0.0, jti="j")
    assert dict(request.form) == {"token": "tok-1", "client_id": "cli"}


@pytest.mark.parametrize(
    ("token_url", "audience"),
    [(None, URL), ("https://as.example/token", "https://as.example/token")],
)
def test_jwt_client_assertion_is_for_the_token_endpoint_when_given(
    token_url: str | None, audience: str
) -> None:
    client_auth = make_client_auth("client_secret_jwt", "app", SECRET + SECRET)
    request = revocation_request(
        URL, "tok-1", client_auth=client_auth, now=1000.0, jti="j-1", token_url=token_url
    )
    claims = jwt_claims(request.form["client_assertion"])
    assert claims["aud"] == audience
    assert claims["jti"] == "j-1"
    assert claims["iat"] == 1000


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"url": "http://as.example/revoke"}, "revocation_url"),
        ({"url": "/revoke"}, "revocation_url"),
        ({"token": ""}, "token"),
        ({"token": None}, "token"),
        ({"token_type_hint": ""}, "token_type_hint"),
        ({"token_type_hint": 1}, "token_type_hint"),
        ({"client_auth": "client_secret_basic"}, "client_auth: expected a ClientAuth"),
    ],
)
def test_bad_request_arguments_are_configuration_errors(
    arguments: dict[str, Any], words: str
) -> None:
    call: dict[str, Any] = {
        "url": URL,
        "token": "tok-1",
        "client_auth": make_client_auth("client_secret_basic", "app", SECRET),
        "now": 0.0,
        "jti": "j",
    } | arguments
    with pytest.raises(ConfigurationError, match=words):
        revocation_request(call.pop("url"), call.pop("token"), **call)


def test_http_revocation_url_needs_allow_http() -> None:
    client_auth = make_client_auth("client_secret_basic", "app", SECRET)
    request = revocation_request(
        "http://as.example/revoke", "t", client_auth=client_auth, now=0, jti="j", allow_http=True
    )
    assert request.url == "http://as.example/revoke"


# --- revoke: against the embedded authorization server -----------------------------------


@pytest.fixture
def issuer(oauth2_config: AuthorizationServerConfig, oauth2_server: LocalServer) -> str:
    oauth2_config.users["alice"] = PASSWORD
    oauth2_config.register("app", SECRET, scopes=("read", "admin"))
    oauth2_config.register("other", OTHER_SECRET, scopes=("read",))
    assert oauth2_config.issuer is not None
    return oauth2_config.issuer


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def obtain(session: aiohttp.ClientSession, grant: BaseGrant) -> Token:
    return await request_token(session, grant.token_request(now=time.time(), jti="j"))


async def resource_status(session: aiohttp.ClientSession, issuer: str, token: Token) -> int:
    headers = {"Authorization": f"Bearer {token.access_token}"}
    async with session.get(issuer + "/resource/data", headers=headers) as response:
        return response.status


def revocations(config: AuthorizationServerConfig) -> list[dict[str, str]]:
    return [call.params for call in config.calls if call.endpoint == "/revoke"]


async def test_revoked_access_token_no_longer_works_at_the_resource(
    issuer: str, oauth2_config: AuthorizationServerConfig, session: aiohttp.ClientSession
) -> None:
    grant = ClientCredentials(issuer + "/token", "app", SECRET, scope="read")
    token = await obtain(session, grant)
    assert await resource_status(session, issuer, token) == 200
    await revoke(
        session,
        issuer + "/revoke",
        token.access_token,
        client=grant,
        token_type_hint="access_token",
    )
    assert await resource_status(session, issuer, token) == 401
    assert revocations(oauth2_config) == [
        {"token": token.access_token, "token_type_hint": "access_token"}
    ]
    assert oauth2_config.calls[-1].auth_method == "client_secret_basic"


async def test_token_with_refresh_token_is_revoked_refresh_token_first(
    issuer: str, oauth2_config: AuthorizationServerConfig, session: aiohttp.ClientSession
) -> None:
    grant = Password(issuer + "/token", "app", SECRET, username="alice", password=PASSWORD)
    token = await obtain(session, grant)
    assert token.refresh_token is not None
    await revoke(session, issuer + "/revoke", token, client=grant)
    assert [(call["token_type_hint"], call["token"]) for call in revocations(oauth2_config)] == [
        ("refresh_token", token.refresh_token),
        ("access_token", token.access_token),
    ]
    assert await resource_status(session, issuer, token) == 401
    refresh = grant.refresh_request(token.refresh_token, now=time.time(), jti="j")
    with pytest.raises(OAuth2Error) as caught:
        await request_token(session, refresh)
    assert caught.value.error == "invalid_grant"


async def test_token_without_refresh_token_takes_one_request(
    issuer: str, oauth2_config: AuthorizationServerConfig, session: aiohttp.ClientSession
) -> None:
    grant = ClientCredentials(issuer + "/token", "app", SECRET)
    token = await obtain(session, grant)
    await revoke(session, issuer + "/revoke", token, client=grant)
    assert revocations(oauth2_config) == [
        {"token": token.access_token, "token_type_hint": "access_token"}
    ]


async def test_unknown_token_is_revoked_without_error(
    issuer: str, oauth2_config: AuthorizationServerConfig, session: aiohttp.ClientSession
) -> None:
    grant = ClientCredentials(issuer + "/token", "app", SECRET)
    # RFC 7009 §2.2: invalid tokens do not cause an error response.
    await revoke(session, issuer + "/revoke", "never-issued", client=grant)
    assert oauth2_config.calls[-1].status == 200


async def test_a_client_auth_object_authenticates_the_revocation(
    issuer: str, oauth2_config: AuthorizationServerConfig, session: aiohttp.ClientSession
) -> None:
    token = await obtain(session, ClientCredentials(issuer + "/token", "app", SECRET))
    client_auth = make_client_auth("client_secret_post", "app", SECRET)
    await revoke(session, issuer + "/revoke", token.access_token, client=client_auth)
    assert oauth2_config.calls[-1].auth_method == "client_secret_post"
    assert await resource_status(session, issuer, token) == 401


async def test_private_key_jwt_assertion_is_addressed_to_the_token_endpoint(
    issuer: str, oauth2_config: AuthorizationServerConfig, session: aiohttp.ClientSession
) -> None:
    key = ECKey.generate_key("P-256")
    oauth2_config.register("signed", jwks=key.as_dict(private=False))
    grant = ClientCredentials(issuer + "/token", "signed", private_key=key.as_dict(private=True))
    token = await obtain(session, grant)
    await revoke(session, issuer + "/revoke", token, client=grant)
    assert oauth2_config.calls[-1].auth_method == "private_key_jwt"
    assert jwt_claims(revocations(oauth2_config)[-1]["client_assertion"])["aud"] == (
        issuer + "/token"
    )
    assert await resource_status(session, issuer, token) == 401


async def test_503_says_retry_later_and_the_token_still_works(
    issuer: str, oauth2_config: AuthorizationServerConfig, session: aiohttp.ClientSession
) -> None:
    grant = ClientCredentials(issuer + "/token", "app", SECRET)
    token = await obtain(session, grant)
    oauth2_config.inject(Fault.status(503, retry_after=30, endpoint="/revoke"))
    with pytest.raises(TokenError, match="retry later") as caught:
        await revoke(session, issuer + "/revoke", token, client=grant)
    assert not isinstance(caught.value, OAuth2Error)
    assert "'30'" in str(caught.value)
    assert await resource_status(session, issuer, token) == 200


async def test_503_without_retry_after(
    issuer: str, oauth2_config: AuthorizationServerConfig, session: aiohttp.ClientSession
) -> None:
    grant = ClientCredentials(issuer + "/token", "app", SECRET)
    oauth2_config.inject(Fault.status(503, endpoint="/revoke"))
    with pytest.raises(TokenError, match="retry later") as caught:
        await revoke(session, issuer + "/revoke", "tok", client=grant)
    assert "the server says" not in str(caught.value)


async def test_failed_refresh_token_revocation_still_revokes_the_access_token(
    issuer: str,
    oauth2_config: AuthorizationServerConfig,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    grant = Password(issuer + "/token", "app", SECRET, username="alice", password=PASSWORD)
    token = await obtain(session, grant)
    oauth2_config.inject(Fault.status(503, endpoint="/revoke"))
    with (
        caplog.at_level(logging.WARNING, logger="aiohttp_auth"),
        pytest.raises(TokenError, match="retry later"),
    ):
        await revoke(session, issuer + "/revoke", token, client=grant)
    assert [call.status for call in oauth2_config.calls if call.endpoint == "/revoke"] == [
        503,
        200,
    ]
    assert await resource_status(session, issuer, token) == 401
    assert "revoking a refresh_token failed" in caplog.text
    for secret in (token.access_token, token.refresh_token, SECRET):
        assert secret is not None
        assert secret not in caplog.text


@pytest.mark.parametrize(
    ("error", "words"),
    [
        ("unsupported_token_type", "does not revoke this type of token"),
        ("invalid_request", "malformed"),
        ("slow_down", "see the server's documentation"),
    ],
)
async def test_oauth_error_object_is_an_oauth2_error(
    issuer: str,
    oauth2_config: AuthorizationServerConfig,
    session: aiohttp.ClientSession,
    error: str,
    words: str,
) -> None:
    body = json.dumps(
        {"error": error, "error_description": "no", "error_uri": "https://e.example"}
    )
    oauth2_config.inject(
        Fault.status(400, body=body, content_type="application/json", endpoint="/revoke")
    )
    grant = ClientCredentials(issuer + "/token", "app", SECRET)
    with pytest.raises(OAuth2Error, match=words) as caught:
        await revoke(session, issuer + "/revoke", "tok", client=grant)
    assert (caught.value.error, caught.value.description, caught.value.uri) == (
        error,
        "no",
        "https://e.example",
    )
    assert "The server says: 'no'." in str(caught.value)


async def test_error_description_outside_rfc6749_characters_is_not_shown(
    issuer: str, oauth2_config: AuthorizationServerConfig, session: aiohttp.ClientSession
) -> None:
    # RFC 6749 §5.2 excludes '"' and '\' (and controls) from error_description.
    description = 'token "tok-secret" unknown'
    body = json.dumps({"error": "invalid_request", "error_description": description})
    oauth2_config.inject(
        Fault.status(400, body=body, content_type="application/json", endpoint="/revoke")
    )
    grant = ClientCredentials(issuer + "/token", "app", SECRET)
    with pytest.raises(OAuth2Error) as caught:
        await revoke(session, issuer + "/revoke", "tok-secret", client=grant)
    assert caught.value.description == description
    assert "tok-secret" not in str(caught.value)


async def test_wrong_client_secret_is_invalid_client(
    issuer: str, session: aiohttp.ClientSession
) -> None:
    wrong = "wrong-" + secrets.token_hex(8)
    grant = ClientCredentials(issuer + "/token", "app", wrong)
    with pytest.raises(OAuth2Error, match="client authentication failed") as caught:
        await revoke(session, issuer + "/revoke", "tok", client=grant)
    assert caught.value.error == "invalid_client"
    assert wrong not in str(caught.value)


async def test_token_of_another_client_is_refused(
    issuer: str, session: aiohttp.ClientSession
) -> None:
    token = await obtain(session, ClientCredentials(issuer + "/token", "app", SECRET))
    thief = ClientCredentials(issuer + "/token", "other", OTHER_SECRET)
    with pytest.raises(OAuth2Error, match="issued to another client") as caught:
        await revoke(session, issuer + "/revoke", token, client=thief)
    assert caught.value.error == "invalid_grant"
    assert await resource_status(session, issuer, token) == 200


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (Fault.status(500, endpoint="/revoke"), "HTTP 500 without an OAuth error code: a server"),
        (Fault.status(302, endpoint="/revoke"), "revocation endpoints do not redirect"),
        (Fault.status(404, endpoint="/revoke"), "check the revocation URL"),
        (
            Fault.status(
                400, body='{"error": 7}', content_type="application/json", endpoint="/revoke"
            ),
            "HTTP 400 without an OAuth error code",
        ),
        (
            Fault.status(
                400, body="[" * 70000, content_type="application/json", endpoint="/revoke"
            ),
            "HTTP 400 without an OAuth error code",
        ),
    ],
    ids=["500", "302", "404", "error-not-a-string", "large-garbage"],
)
async def test_other_failures_are_token_errors(
    issuer: str,
    oauth2_config: AuthorizationServerConfig,
    session: aiohttp.ClientSession,
    fault: Fault,
    words: str,
) -> None:
    oauth2_config.inject(fault)
    grant = ClientCredentials(issuer + "/token", "app", SECRET)
    with pytest.raises(TokenError, match=words) as caught:
        await revoke(session, issuer + "/revoke", "tok", client=grant)
    assert not isinstance(caught.value, OAuth2Error)
    assert f"{issuer}/revoke" in str(caught.value)


async def test_dropped_connection_is_a_token_error(
    issuer: str, oauth2_config: AuthorizationServerConfig, session: aiohttp.ClientSession
) -> None:
    oauth2_config.inject(Fault.close(endpoint="/revoke"))
    grant = ClientCredentials(issuer + "/token", "app", SECRET)
    with pytest.raises(TokenError, match="Could not reach the revocation endpoint"):
        await revoke(session, issuer + "/revoke", "tok", client=grant)


async def test_slow_revocation_endpoint_times_out(
    issuer: str, oauth2_config: AuthorizationServerConfig, session: aiohttp.ClientSession
) -> None:
    oauth2_config.inject(Fault.delay(5, endpoint="/revoke"))
    grant = ClientCredentials(issuer + "/token", "app", SECRET)
    started = time.monotonic()
    with pytest.raises(TokenError, match=r"\(timed out\): the token is still valid"):
        await revoke(session, issuer + "/revoke", "tok", client=grant, timeout=0.3)
    assert time.monotonic() - started < 2


async def test_unreachable_revocation_endpoint_is_a_token_error(
    session: aiohttp.ClientSession,
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    grant = ClientCredentials(url + "/token", "app", SECRET)
    with pytest.raises(TokenError, match="ClientConnectorError"):
        await revoke(session, url + "/revoke", "tok", client=grant)


async def test_revoke_never_runs_the_session_middlewares(
    issuer: str, session: aiohttp.ClientSession
) -> None:
    calls: list[str] = []

    async def middleware(
        request: aiohttp.ClientRequest, handler: ClientHandlerType
    ) -> aiohttp.ClientResponse:
        calls.append(str(request.url))
        return await handler(request)

    grant = ClientCredentials(issuer + "/token", "app", "wrong")
    async with aiohttp.ClientSession(middlewares=(middleware,), raise_for_status=True) as session:
        # raise_for_status must not hide the OAuth error in the body.
        with pytest.raises(OAuth2Error, match="invalid_client"):
            await revoke(session, issuer + "/revoke", "tok", client=grant)
    assert calls == []


@pytest.mark.parametrize(
    ("token", "arguments", "words"),
    [
        (
            Token("a", refresh_token="r"),
            {"token_type_hint": "access_token"},
            "not used with a Token",
        ),
        (42, {}, "expected a Token or a token string"),
        ("tok", {"timeout": 0}, "timeout"),
        ("tok", {"timeout": True}, "timeout"),
        ("tok", {"revocation_url": "http://as.example/revoke"}, "revocation_url"),
        ("tok", {"client": "client_secret_basic"}, "client: expected the grant"),
    ],
)
async def test_bad_revoke_arguments_are_configuration_errors(
    session: aiohttp.ClientSession, token: Any, arguments: dict[str, Any], words: str
) -> None:
    url = arguments.pop("revocation_url", URL)
    client = arguments.pop("client", ClientCredentials("https://as.example/token", "app", SECRET))
    with pytest.raises(ConfigurationError, match=words):
        await revoke(session, url, token, client=client, **arguments)
