"""The embedded OAuth 2 authorization server follows the RFCs, checked with plain aiohttp.

Nothing here uses the package's OAuth 2 client: requests are hand-built forms
and headers, so the server is checked independently of the client it tests.
This module also holds the harness the other ``test_testing_oauth2_*``
modules import.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

import aiohttp
import pytest
from multidict import CIMultiDictProxy

from aiohttp_auth.errors import ConfigurationError
from aiohttp_auth.testing import (
    AuthorizationServerConfig,
    ClientRegistration,
    Fault,
    LocalServer,
    authorization_server_app,
)
from aiohttp_auth.testing.oauth2 import ALL_GRANT_TYPES, CLIENT_AUTH_METHODS, GARBAGE

# --- the harness ---------------------------------------------------------------------

CONFIDENTIAL_SECRET = "s3cr%t: é+ &="  # every character RFC 6749 §2.3.1 makes us encode


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Answer:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error(self) -> str | None:
        value = self.json().get("error")
        return value if isinstance(value, str) else None


def basic(client_id: str, secret: str) -> str:
    """Build client_secret_basic credentials the RFC 6749 §2.3.1 way."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(raw.encode()).decode()


@dataclass
class Harness:
    config: AuthorizationServerConfig
    server: LocalServer
    session: aiohttp.ClientSession
    clock: FakeClock

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    @property
    def issuer(self) -> str:
        return str(self.server.url).rstrip("/")

    async def request(
        self, method: str, path: str, *, allow_redirects: bool = True, **kwargs: Any
    ) -> Answer:
        async with self.session.request(
            method, self.url(path), allow_redirects=allow_redirects, **kwargs
        ) as response:
            return Answer(response.status, response.headers, await response.read())

    async def post(
        self,
        path: str,
        form: Mapping[str, str] | list[tuple[str, str]] | bytes,
        *,
        auth: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        all_headers = dict(headers or {})
        if auth is not None:
            all_headers["Authorization"] = basic(*auth)
        body = form if isinstance(form, bytes) else urlencode(form).encode()
        all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return await self.request("POST", path, data=body, headers=all_headers)

    async def token(self, form: Mapping[str, str], **kwargs: Any) -> Answer:
        return await self.post("/token", form, **kwargs)

    async def confidential_token(self, form: Mapping[str, str]) -> Answer:
        return await self.token(form, auth=("confidential", CONFIDENTIAL_SECRET))

    async def resource(self, path: str, token: str | None) -> Answer:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return await self.request("GET", path, headers=headers)


def make_config(clock: FakeClock) -> AuthorizationServerConfig:
    config = AuthorizationServerConfig(users={"alice": "wonderland"}, clock=clock)
    config.register(
        "confidential", CONFIDENTIAL_SECRET, scopes=("read", "write", "admin", "openid")
    )
    config.register("public", redirect_uris=("http://127.0.0.1/callback",))
    return config


@asynccontextmanager
async def running_harness() -> AsyncIterator[Harness]:
    """Serve a fresh server (see ``make_config``) in this loop, with a client session."""
    clock = FakeClock()
    config = make_config(clock)
    async with (
        LocalServer(authorization_server_app(config)) as server,
        aiohttp.ClientSession() as session,
    ):
        yield Harness(config, server, session, clock)


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    async with running_harness() as running:
        yield running


def assert_no_store(answer: Answer) -> None:
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Pragma"] == "no-cache"


def assert_error(answer: Answer, error: str, status: int = 400) -> None:
    """Check an RFC 6749 §5.2 error response."""
    assert answer.status == status, answer.body
    assert answer.headers["Content-Type"].startswith("application/json")
    assert_no_store(answer)
    body = answer.json()
    assert body["error"] == error
    assert isinstance(body["error_description"], str)
    assert body["error_description"]


# --- metadata ------------------------------------------------------------------------


async def test_metadata_names_every_endpoint_at_the_origin_the_request_reached(
    harness: Harness,
) -> None:
    answer = await harness.request("GET", "/.well-known/oauth-authorization-server")
    assert answer.status == 200
    metadata = answer.json()
    issuer = harness.issuer
    assert metadata["issuer"] == issuer
    assert metadata["token_endpoint"] == issuer + "/token"
    assert metadata["authorization_endpoint"] == issuer + "/authorize"
    assert metadata["device_authorization_endpoint"] == issuer + "/device_authorization"
    assert metadata["revocation_endpoint"] == issuer + "/revoke"
    assert metadata["introspection_endpoint"] == issuer + "/introspect"
    assert metadata["jwks_uri"] == issuer + "/jwks.json"
    assert metadata["grant_types_supported"] == list(ALL_GRANT_TYPES)
    assert metadata["token_endpoint_auth_methods_supported"] == list(CLIENT_AUTH_METHODS)
    assert "none" not in metadata["introspection_endpoint_auth_methods_supported"]
    assert "RS256" in metadata["token_endpoint_auth_signing_alg_values_supported"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["scopes_supported"] == ["admin", "openid", "read", "write"]
    assert metadata["authorization_response_iss_parameter_supported"] is True


async def test_metadata_follows_the_host_the_client_used(harness: Harness) -> None:
    url = f"http://localhost:{harness.server.port}/.well-known/oauth-authorization-server"
    async with harness.session.get(url) as response:
        metadata = await response.json()
    assert metadata["issuer"] == f"http://localhost:{harness.server.port}"
    assert metadata["token_endpoint"] == f"http://localhost:{harness.server.port}/token"


async def test_a_configured_issuer_wins_and_loses_its_trailing_slash(harness: Harness) -> None:
    harness.config.issuer = "https://as.example/"
    harness.config.clients.clear()
    metadata = (await harness.request("GET", "/.well-known/oauth-authorization-server")).json()
    assert metadata["issuer"] == "https://as.example"
    assert metadata["token_endpoint"] == "https://as.example/token"
    assert "scopes_supported" not in metadata  # no client restricts scopes


async def test_openid_configuration_adds_the_members_oidc_requires(harness: Harness) -> None:
    answer = await harness.request("GET", "/.well-known/openid-configuration")
    configuration = answer.json()
    assert configuration["issuer"] == harness.issuer
    assert configuration["token_endpoint"] == harness.issuer + "/token"
    assert configuration["subject_types_supported"] == ["public"]
    assert configuration["id_token_signing_alg_values_supported"] == ["ES256"]


# --- client authentication -----------------------------------------------------------


async def test_basic_credentials_are_form_urlencoded_before_base64(harness: Harness) -> None:
    harness.config.register("id:with space", "p@ss:word%+")
    answer = await harness.token(
        {"grant_type": "client_credentials"}, auth=("id:with space", "p@ss:word%+")
    )
    assert answer.status == 200, answer.body
    call = harness.config.token_requests[-1]
    assert call.client_id == "id:with space"
    assert call.auth_method == "client_secret_basic"
    assert call.authorization == basic("id:with space", "p@ss:word%+")


async def test_a_confidential_client_authenticates_with_its_encoded_secret(
    harness: Harness,
) -> None:
    answer = await harness.confidential_token({"grant_type": "client_credentials"})
    assert answer.status == 200
    assert_no_store(answer)


def _basic_raw(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("authorization", "form_client_id"),
    [
        pytest.param(basic("confidential", "wrong"), None, id="wrong-secret"),
        pytest.param(basic("nobody", "secret"), None, id="unknown-client"),
        pytest.param("Basic !!not-base64!!", None, id="not-base64"),
        pytest.param(_basic_raw(b"\xff\xfe:x"), None, id="not-utf8"),
        pytest.param(_basic_raw(b"no-colon"), None, id="no-colon"),
        pytest.param("Bearer abc", None, id="other-scheme"),
        pytest.param(basic("confidential", CONFIDENTIAL_SECRET), "public", id="form-id-differs"),
        pytest.param(basic("public", "anything"), None, id="public-client-has-no-secret"),
    ],
)
async def test_failed_basic_authentication_gets_401_with_a_basic_challenge(
    harness: Harness, authorization: str, form_client_id: str | None
) -> None:
    form = {"grant_type": "client_credentials"}
    if form_client_id is not None:
        form["client_id"] = form_client_id
    answer = await harness.token(form, headers={"Authorization": authorization})
    assert_error(answer, "invalid_client", 401)
    assert (
        answer.headers["WWW-Authenticate"] == 'Basic realm="aiohttp-auth testing", charset="UTF-8"'
    )
    assert harness.config.token_requests[-1].client_id is None
    assert harness.config.token_requests[-1].error == "invalid_client"


async def test_basic_with_the_matching_client_id_in_the_form_is_accepted(
    harness: Harness,
) -> None:
    answer = await harness.confidential_token(
        {"grant_type": "client_credentials", "client_id": "confidential"}
    )
    assert answer.status == 200


async def test_client_secret_post_authenticates_and_a_wrong_one_gets_400(
    harness: Harness,
) -> None:
    form = {"grant_type": "client_credentials", "client_id": "confidential"}
    good = await harness.token(form | {"client_secret": CONFIDENTIAL_SECRET})
    assert good.status == 200
    assert harness.config.token_requests[-1].auth_method == "client_secret_post"
    bad = await harness.token(form | {"client_secret": "wrong"})
    # Not through the Authorization header: RFC 9110 forbids a 401 without a challenge.
    assert_error(bad, "invalid_client", 400)
    assert "WWW-Authenticate" not in bad.headers


async def test_more_than_one_client_authentication_method_is_refused(harness: Harness) -> None:
    answer = await harness.token(
        {"grant_type": "client_credentials", "client_secret": CONFIDENTIAL_SECRET},
        auth=("confidential", CONFIDENTIAL_SECRET),
    )
    assert_error(answer, "invalid_request")
    assert "more than one" in answer.json()["error_description"]


async def test_a_method_not_registered_for_the_client_is_refused(harness: Harness) -> None:
    harness.config.register("post-only", "secret", auth_methods=("client_secret_post",))
    answer = await harness.token(
        {"grant_type": "client_credentials"}, auth=("post-only", "secret")
    )
    assert_error(answer, "invalid_client", 401)
    assert "client_secret_basic" in answer.json()["error_description"]
    confidential_as_public = await harness.token(
        {"grant_type": "client_credentials", "client_id": "confidential"}
    )
    assert_error(confidential_as_public, "invalid_client")


async def test_a_request_naming_no_client_is_refused(harness: Harness) -> None:
    assert_error(await harness.token({"grant_type": "client_credentials"}), "invalid_client")


async def test_an_unknown_client_without_basic_gets_400(harness: Harness) -> None:
    answer = await harness.token({"grant_type": "password", "client_id": "nobody"})
    assert_error(answer, "invalid_client", 400)


def test_registration_derives_auth_methods_from_its_credentials() -> None:
    assert ClientRegistration("a", "s").auth_methods == (
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
    )
    assert ClientRegistration("b", jwks={"kty": "EC"}).auth_methods == ("private_key_jwt",)
    public = ClientRegistration("c")
    assert public.auth_methods == ("none",)
    assert public.public
    assert not ClientRegistration("d", "s").public


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"auth_methods": ("magic",)}, "unknown"),
        ({"auth_methods": ("client_secret_basic",)}, "needs a secret"),
        ({"auth_methods": ("private_key_jwt",)}, "needs jwks"),
        ({"grant_types": ("implicit",)}, "grant_types"),
        ({"secret": ""}, "empty secret"),
    ],
)
def test_registration_refuses_inconsistent_settings(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ClientRegistration("client", **settings)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"access_token_lifetime": 0}, "access_token_lifetime"),
        ({"refresh_token_lifetime": -1}, "refresh_token_lifetime"),
        ({"device_poll_interval": 0}, "device_poll_interval"),
        ({"pkce_methods": ("S256", "S512")}, "pkce_methods"),
        ({"authorize_decision": "maybe"}, "authorize_decision"),
    ],
)
def test_config_refuses_settings_no_server_could_follow(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        AuthorizationServerConfig(**settings)
    config = AuthorizationServerConfig()
    for name, value in settings.items():
        setattr(config, name, value)
    with pytest.raises(ConfigurationError, match=message):
        authorization_server_app(config)


def test_reprs_show_no_secret() -> None:
    clock = FakeClock()
    config = make_config(clock)
    assert CONFIDENTIAL_SECRET not in repr(config)
    assert "wonderland" not in repr(config)
    assert CONFIDENTIAL_SECRET not in repr(config.clients["confidential"])


# --- the form rules of the token endpoint --------------------------------------------


async def test_a_body_that_is_not_a_form_is_refused(harness: Harness) -> None:
    answer = await harness.token(
        {"grant_type": "client_credentials"},
        auth=("confidential", CONFIDENTIAL_SECRET),
        headers={"Content-Type": "application/json"},
    )
    assert_error(answer, "invalid_request")


async def test_a_form_that_is_not_utf8_is_refused(harness: Harness) -> None:
    answer = await harness.post(
        "/token", b"grant_type=client_credentials&scope=%FF", auth=("confidential", "x")
    )
    assert_error(answer, "invalid_request")


async def test_a_parameter_sent_twice_is_refused(harness: Harness) -> None:
    answer = await harness.post(
        "/token",
        [("grant_type", "client_credentials"), ("scope", "read"), ("scope", "write")],
        auth=("confidential", CONFIDENTIAL_SECRET),
    )
    assert_error(answer, "invalid_request")
    assert "scope" in answer.json()["error_description"]


async def test_a_parameter_without_a_value_counts_as_omitted(harness: Harness) -> None:
    harness.config.clients["confidential"].default_scopes = ("read",)
    answer = await harness.confidential_token({"grant_type": "client_credentials", "scope": ""})
    assert answer.json()["scope"] == "read"
    assert harness.config.token_requests[-1].form == (
        ("grant_type", "client_credentials"),
        ("scope", ""),
    )


async def test_missing_unknown_and_unauthorized_grant_types_get_their_errors(
    harness: Harness,
) -> None:
    assert_error(await harness.confidential_token({}), "invalid_request")
    assert_error(
        await harness.confidential_token({"grant_type": "implicit"}), "unsupported_grant_type"
    )
    harness.config.clients["confidential"].grant_types = ("password",)
    assert_error(
        await harness.confidential_token({"grant_type": "client_credentials"}),
        "unauthorized_client",
    )
    assert harness.config.token_calls == {"": 1, "implicit": 1, "client_credentials": 1}


async def test_the_token_endpoint_only_takes_post(harness: Harness) -> None:
    answer = await harness.request("GET", "/token?grant_type=client_credentials")
    assert answer.status == 405


# --- client credentials --------------------------------------------------------------


async def test_client_credentials_issues_a_bearer_token_without_refresh_token(
    harness: Harness,
) -> None:
    answer = await harness.confidential_token(
        {"grant_type": "client_credentials", "scope": "read write read"}
    )
    assert answer.status == 200
    assert_no_store(answer)
    fields = answer.json()
    assert set(fields) == {"access_token", "token_type", "expires_in", "scope"}
    assert fields["token_type"] == "Bearer"
    assert fields["expires_in"] == 3600
    assert fields["scope"] == "read write"
    issued = harness.config.tokens[fields["access_token"]]
    assert issued.subject == "confidential"
    assert issued.expires_at == harness.clock.now + 3600
    assert harness.config.issued == [issued]
    assert harness.config.active_tokens() == [issued]


async def test_client_credentials_refresh_tokens_can_be_enabled(harness: Harness) -> None:
    harness.config.client_credentials_refresh_tokens = True
    fields = (await harness.confidential_token({"grant_type": "client_credentials"})).json()
    assert fields["refresh_token"] in harness.config.tokens
    assert harness.config.active_tokens("refresh_token")[0].value == fields["refresh_token"]


async def test_a_public_client_cannot_use_client_credentials(harness: Harness) -> None:
    answer = await harness.token({"grant_type": "client_credentials", "client_id": "public"})
    assert_error(answer, "unauthorized_client")


@pytest.mark.parametrize("scope", ["delete", "read\u00e9", 'read "x"'])
async def test_a_scope_beyond_the_client_or_malformed_is_invalid_scope(
    harness: Harness, scope: str
) -> None:
    answer = await harness.confidential_token({"grant_type": "client_credentials", "scope": scope})
    assert_error(answer, "invalid_scope")


async def test_provider_quirks_lower_case_type_no_expires_in_fractional_lifetime(
    harness: Harness,
) -> None:
    harness.config.token_type = "bearer"
    harness.config.send_expires_in = False
    fields = (await harness.confidential_token({"grant_type": "client_credentials"})).json()
    assert fields["token_type"] == "bearer"
    assert "expires_in" not in fields
    assert "scope" not in fields  # nothing asked, no default: nothing granted
    harness.config.send_expires_in = True
    harness.config.access_token_lifetime = 0.5
    fields = (await harness.confidential_token({"grant_type": "client_credentials"})).json()
    assert fields["expires_in"] == 0.5


# --- password ------------------------------------------------------------------------


async def test_password_grant_issues_tokens_for_the_right_password(harness: Harness) -> None:
    answer = await harness.confidential_token(
        {"grant_type": "password", "username": "alice", "password": "wonderland"}
    )
    fields = answer.json()
    assert answer.status == 200
    assert harness.config.tokens[fields["access_token"]].subject == "alice"
    assert harness.config.tokens[fields["refresh_token"]].kind == "refresh_token"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"username": "alice", "password": "wrong"}, "invalid_grant"),
        ({"username": "bob", "password": "wonderland"}, "invalid_grant"),
        ({"password": "wonderland"}, "invalid_request"),
        ({"username": "alice"}, "invalid_request"),
    ],
)
async def test_password_grant_refuses_bad_credentials(
    harness: Harness, form: dict[str, str], error: str
) -> None:
    answer = await harness.confidential_token({"grant_type": "password"} | form)
    assert_error(answer, error)


# --- refresh -------------------------------------------------------------------------


async def _password_tokens(harness: Harness, scope: str = "read write") -> dict[str, Any]:
    answer = await harness.confidential_token(
        {"grant_type": "password", "username": "alice", "password": "wonderland", "scope": scope}
    )
    assert answer.status == 200
    fields: dict[str, Any] = answer.json()
    return fields


async def _refresh(harness: Harness, refresh_token: str, **extra: str) -> Answer:
    return await harness.confidential_token(
        {"grant_type": "refresh_token", "refresh_token": refresh_token} | extra
    )


async def test_refresh_without_rotation_keeps_the_refresh_token_valid(harness: Harness) -> None:
    first = await _password_tokens(harness)
    for _ in range(2):
        answer = await _refresh(harness, first["refresh_token"])
        assert answer.status == 200
        assert_no_store(answer)
        fields = answer.json()
        assert "refresh_token" not in fields  # RFC 6749 §6: the client keeps its own
        assert fields["scope"] == "read write"
        assert harness.config.tokens[fields["access_token"]].subject == "alice"
    assert harness.config.refreshes == 2


async def test_rotation_invalidates_the_old_refresh_token_and_reuse_revokes_the_grant(
    harness: Harness,
) -> None:
    harness.config.rotate_refresh_tokens = True
    first = await _password_tokens(harness)
    second = (await _refresh(harness, first["refresh_token"])).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert harness.config.tokens[first["refresh_token"]].rotated
    third = (await _refresh(harness, second["refresh_token"])).json()
    reuse = await _refresh(harness, first["refresh_token"])
    assert_error(reuse, "invalid_grant")
    assert "already used" in reuse.json()["error_description"]
    # RFC 9700 §4.14.2: the whole grant is revoked, newest tokens included.
    assert_error(await _refresh(harness, third["refresh_token"]), "invalid_grant")
    assert (await harness.resource("/resource/x", third["access_token"])).status == 401
    assert harness.config.refreshes == 2


async def test_rotation_reuse_can_leave_the_grant_alive(harness: Harness) -> None:
    harness.config.rotate_refresh_tokens = True
    harness.config.revoke_grant_on_refresh_reuse = False
    first = await _password_tokens(harness)
    second = (await _refresh(harness, first["refresh_token"])).json()
    assert_error(await _refresh(harness, first["refresh_token"]), "invalid_grant")
    assert (await _refresh(harness, second["refresh_token"])).status == 200


async def test_refresh_may_narrow_the_scope_but_never_widen_it(harness: Harness) -> None:
    harness.config.rotate_refresh_tokens = True
    first = await _password_tokens(harness, "read write")
    narrowed = (await _refresh(harness, first["refresh_token"], scope="read")).json()
    assert narrowed["scope"] == "read"
    # The new refresh token still carries the whole grant.
    assert harness.config.tokens[narrowed["refresh_token"]].scope == "read write"
    widened = await _refresh(harness, narrowed["refresh_token"], scope="read admin")
    assert_error(widened, "invalid_scope")


async def test_refresh_refuses_expired_revoked_unknown_and_foreign_tokens(
    harness: Harness,
) -> None:
    harness.config.refresh_token_lifetime = 100
    tokens = await _password_tokens(harness)
    harness.clock.advance(100)
    assert_error(await _refresh(harness, tokens["refresh_token"]), "invalid_grant")
    harness.clock.advance(-100)
    assert_error(await _refresh(harness, "no-such-token"), "invalid_grant")
    assert_error(await _refresh(harness, tokens["access_token"]), "invalid_grant")
    assert_error(
        await harness.confidential_token({"grant_type": "refresh_token"}), "invalid_request"
    )
    harness.config.register("other", "other-secret")
    foreign = await harness.token(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=("other", "other-secret"),
    )
    assert_error(foreign, "invalid_grant")
    harness.config.tokens[tokens["refresh_token"]].revoked = True
    assert_error(await _refresh(harness, tokens["refresh_token"]), "invalid_grant")


# --- faults --------------------------------------------------------------------------


async def test_a_status_fault_answers_once_then_the_endpoint_recovers(harness: Harness) -> None:
    harness.config.inject(Fault.status(503, retry_after=7), Fault.status(500, retry_after="soon"))
    first = await harness.confidential_token({"grant_type": "client_credentials"})
    assert first.status == 503
    assert first.headers["Retry-After"] == "7"
    second = await harness.confidential_token({"grant_type": "client_credentials"})
    assert second.status == 500
    assert second.headers["Retry-After"] == "soon"
    third = await harness.confidential_token({"grant_type": "client_credentials"})
    assert third.status == 200
    calls = harness.config.token_requests
    assert [(c.fault, c.status, c.client_id) for c in calls] == [
        ("status", 503, None),
        ("status", 500, None),
        (None, 200, "confidential"),
    ]
    assert harness.config.token_calls["client_credentials"] == 3
    assert not harness.config.faults


async def test_a_status_fault_can_carry_an_oauth_error_body(harness: Harness) -> None:
    body = json.dumps({"error": "temporarily_unavailable"})
    harness.config.inject(Fault.status(400, body=body, content_type="application/json"))
    answer = await harness.confidential_token({"grant_type": "client_credentials"})
    assert answer.status == 400
    assert answer.error == "temporarily_unavailable"


async def test_a_delay_fault_slows_one_answer_down(harness: Harness) -> None:
    harness.config.inject(Fault.delay(0.3))
    started = time.monotonic()
    answer = await harness.confidential_token({"grant_type": "client_credentials"})
    assert time.monotonic() - started >= 0.3
    assert answer.status == 200
    assert harness.config.token_requests[-1].fault == "delay"
    started = time.monotonic()
    await harness.confidential_token({"grant_type": "client_credentials"})
    assert time.monotonic() - started < 0.3


@pytest.mark.parametrize("kind", list(GARBAGE))
async def test_a_garbage_fault_answers_200_without_a_token(harness: Harness, kind: Any) -> None:
    harness.config.inject(Fault.garbage(kind))
    answer = await harness.confidential_token({"grant_type": "client_credentials"})
    content_type, body = GARBAGE[kind]
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith(content_type)
    assert answer.body.decode() == body
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    assert not (isinstance(parsed, dict) and "access_token" in parsed)


async def test_a_close_fault_drops_the_connection(harness: Harness) -> None:
    harness.config.inject(Fault.close())
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await harness.confidential_token({"grant_type": "client_credentials"})
    assert harness.config.token_requests[-1].status == 0
    assert harness.config.token_requests[-1].fault == "close"
    assert (await harness.confidential_token({"grant_type": "client_credentials"})).status == 200


async def test_faults_wait_for_their_own_endpoint(harness: Harness) -> None:
    harness.config.inject(Fault.status(502, endpoint="/revoke"), Fault.status(504))
    assert (await harness.confidential_token({"grant_type": "client_credentials"})).status == 504
    assert (await harness.confidential_token({"grant_type": "client_credentials"})).status == 200
    revoke = await harness.post("/revoke", {"token": "x"}, auth=("confidential", "x"))
    assert revoke.status == 502
    assert harness.config.calls[-1].endpoint == "/revoke"


async def test_faults_reach_any_route_such_as_discovery_and_the_resource(
    harness: Harness,
) -> None:
    harness.config.inject(
        Fault.garbage("html", endpoint="/.well-known/oauth-authorization-server"),
        Fault.status(503, endpoint="/resource/data"),
        Fault.delay(0.01, endpoint="/jwks.json"),
    )
    discovery = await harness.request("GET", "/.well-known/oauth-authorization-server")
    assert discovery.headers["Content-Type"].startswith("text/html")
    assert (await harness.resource("/resource/data", "whatever")).status == 503
    assert (await harness.request("GET", "/jwks.json")).status == 200
    assert not harness.config.faults
    again = await harness.request("GET", "/.well-known/oauth-authorization-server")
    assert again.json()["issuer"] == harness.issuer


@pytest.mark.parametrize(
    "build",
    [
        lambda: Fault.delay(61),
        lambda: Fault.delay(-1),
        lambda: Fault.status(99),
        lambda: Fault.status(600),
    ],
)
def test_faults_are_bounded(build: Any) -> None:
    with pytest.raises(ConfigurationError):
        build()


# --- revocation ----------------------------------------------------------------------


async def _revoke(harness: Harness, token: str, **extra: str) -> Answer:
    return await harness.post(
        "/revoke", {"token": token} | extra, auth=("confidential", CONFIDENTIAL_SECRET)
    )


async def test_revoking_an_access_token_makes_the_resource_refuse_it(harness: Harness) -> None:
    tokens = await _password_tokens(harness)
    answer = await _revoke(harness, tokens["access_token"], token_type_hint="access_token")
    assert answer.status == 200
    assert_no_store(answer)
    refused = await harness.resource("/resource/x", tokens["access_token"])
    assert refused.status == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert "revoked" in refused.headers["WWW-Authenticate"]
    # The refresh token of the grant survives an access token's revocation.
    assert (await _refresh(harness, tokens["refresh_token"])).status == 200
    assert [t.value for t in harness.config.revocations] == [tokens["access_token"]]
    # Revoking again is fine, and not recorded twice.
    assert (await _revoke(harness, tokens["access_token"])).status == 200
    assert len(harness.config.revocations) == 1


async def test_revoking_a_refresh_token_revokes_its_grant(harness: Harness) -> None:
    tokens = await _password_tokens(harness)
    other = await _password_tokens(harness)
    # A wrong hint does not stop the search (RFC 7009 §2.1).
    assert (
        await _revoke(harness, tokens["refresh_token"], token_type_hint="access_token")
    ).status == 200
    assert_error(await _refresh(harness, tokens["refresh_token"]), "invalid_grant")
    assert (await harness.resource("/resource/x", tokens["access_token"])).status == 401
    assert (await harness.resource("/resource/x", other["access_token"])).status == 200


async def test_revoking_an_unknown_token_is_still_200(harness: Harness) -> None:
    answer = await _revoke(harness, "never-issued", token_type_hint="magic")
    assert answer.status == 200
    assert answer.body == b""


async def test_revocation_refuses_missing_and_foreign_tokens(harness: Harness) -> None:
    tokens = await _password_tokens(harness)
    harness.config.register("other", "other-secret")
    foreign = await harness.post(
        "/revoke", {"token": tokens["access_token"]}, auth=("other", "other-secret")
    )
    assert_error(foreign, "invalid_grant")
    assert (await harness.resource("/resource/x", tokens["access_token"])).status == 200
    assert_error(
        await harness.post("/revoke", {}, auth=("confidential", CONFIDENTIAL_SECRET)),
        "invalid_request",
    )
    assert_error(await harness.post("/revoke", {"token": "x"}), "invalid_client")


async def test_a_public_client_may_revoke_its_own_tokens(harness: Harness) -> None:
    harness.config.clients["public"].grant_types = ("password",)
    fields = (
        await harness.token(
            {
                "grant_type": "password",
                "client_id": "public",
                "username": "alice",
                "password": "wonderland",
            }
        )
    ).json()
    answer = await harness.post(
        "/revoke", {"token": fields["refresh_token"], "client_id": "public"}
    )
    assert answer.status == 200
    assert harness.config.tokens[fields["access_token"]].revoked


# --- introspection -------------------------------------------------------------------


async def _introspect(harness: Harness, token: str) -> dict[str, Any]:
    answer = await harness.post(
        "/introspect", {"token": token}, auth=("confidential", CONFIDENTIAL_SECRET)
    )
    assert answer.status == 200
    assert_no_store(answer)
    description: dict[str, Any] = answer.json()
    return description


async def test_introspection_describes_an_active_user_token(harness: Harness) -> None:
    tokens = await _password_tokens(harness)
    now = int(harness.clock.now)
    assert await _introspect(harness, tokens["access_token"]) == {
        "active": True,
        "scope": "read write",
        "client_id": "confidential",
        "token_type": "Bearer",
        "iat": now,
        "exp": now + 3600,
        "iss": harness.issuer,
        "sub": "alice",
        "username": "alice",
    }
    refresh = await _introspect(harness, tokens["refresh_token"])
    assert refresh["active"] is True
    assert "token_type" not in refresh
    assert "exp" not in refresh  # refresh tokens do not expire by default
    assert harness.config.introspections == 2


async def test_introspection_of_a_client_token_has_no_username(harness: Harness) -> None:
    fields = (await harness.confidential_token({"grant_type": "client_credentials"})).json()
    description = await _introspect(harness, fields["access_token"])
    assert description["sub"] == "confidential"
    assert "username" not in description


async def test_introspection_says_inactive_for_expired_revoked_and_unknown_tokens(
    harness: Harness,
) -> None:
    tokens = await _password_tokens(harness)
    harness.clock.advance(3600)
    assert await _introspect(harness, tokens["access_token"]) == {"active": False}
    assert await _introspect(harness, "unknown") == {"active": False}


async def test_introspection_needs_an_authenticated_client(harness: Harness) -> None:
    answer = await harness.post("/introspect", {"token": "x", "client_id": "public"})
    assert_error(answer, "invalid_client")
    assert harness.config.calls[-1].client_id == "public"
    assert harness.config.introspections == 0


# --- the protected resource ----------------------------------------------------------


async def test_the_resource_challenges_a_request_without_a_token(harness: Harness) -> None:
    for headers in ({}, {"Authorization": "Basic YTpi"}):
        answer = await harness.request("GET", "/resource/x", headers=headers)
        assert answer.status == 401
        # RFC 6750 §3.1: no error code when the request had no credentials.
        assert answer.headers["WWW-Authenticate"] == 'Bearer realm="aiohttp-auth testing"'
    assert harness.config.resource_requests[""] == 2


async def test_the_resource_refuses_a_malformed_token_with_400(harness: Harness) -> None:
    answer = await harness.resource("/resource/x", "not a b64token!")
    assert answer.status == 400
    assert 'error="invalid_request"' in answer.headers["WWW-Authenticate"]


async def test_the_resource_says_invalid_token_for_unknown_expired_and_refresh_tokens(
    harness: Harness,
) -> None:
    tokens = await _password_tokens(harness)
    for value in ("unknown", tokens["refresh_token"]):
        answer = await harness.resource("/resource/x", value)
        assert answer.status == 401
        assert answer.error == "invalid_token"
        assert "unknown access token" in answer.headers["WWW-Authenticate"]
    harness.clock.advance(3600)
    expired = await harness.resource("/resource/x", tokens["access_token"])
    assert expired.status == 401
    assert (
        'error="invalid_token", error_description="the access token expired"'
        in (expired.headers["WWW-Authenticate"])
    )


async def test_the_resource_needs_the_scope_its_path_names(harness: Harness) -> None:
    tokens = await _password_tokens(harness, "read")
    for path in ("/resource/admin", "/resource/admin/users"):
        answer = await harness.resource(path, tokens["access_token"])
        assert answer.status == 403
        assert answer.headers["WWW-Authenticate"] == (
            'Bearer realm="aiohttp-auth testing", error="insufficient_scope", '
            'error_description="this resource needs scope admin", scope="admin"'
        )
    assert (
        await harness.resource("/resource/administrator", tokens["access_token"])
    ).status == 200
    admin = await _password_tokens(harness, "read admin")
    assert (await harness.resource("/resource/admin/users", admin["access_token"])).status == 200


async def test_the_resource_answers_a_valid_token_and_counts_its_uses(harness: Harness) -> None:
    tokens = await _password_tokens(harness)
    for _ in range(3):
        answer = await harness.resource("/resource/data", tokens["access_token"])
        assert answer.status == 200
    assert answer.json() == {
        "client_id": "confidential",
        "sub": "alice",
        "scope": "read write",
        "path": "/resource/data",
        "method": "GET",
    }
    assert harness.config.resource_requests[tokens["access_token"]] == 3
    posted = await harness.request(
        "POST", "/resource/data", headers={"Authorization": f"bearer {tokens['access_token']}"}
    )
    assert posted.json()["method"] == "POST"


# --- records and fixtures ------------------------------------------------------------


async def test_every_request_is_recorded_and_reset_clears_the_records(harness: Harness) -> None:
    await harness.request("GET", "/nowhere")
    await _password_tokens(harness)
    await harness.post("/revoke", {"token": "x"}, auth=("confidential", CONFIDENTIAL_SECRET))
    config = harness.config
    assert [r.path for r in config.requests] == ["/nowhere", "/token", "/revoke"]
    assert config.calls[0].params["password"] == "wonderland"
    assert "wonderland" not in repr(config.calls[0])
    assert [c.endpoint for c in config.calls] == ["/token", "/revoke"]
    config.inject(Fault.close())
    config.reset()
    assert not config.requests
    assert not config.calls
    assert not config.token_calls
    assert not config.issued
    assert config.refreshes == config.introspections == 0
    assert config.tokens  # the state stays
    assert config.faults  # and so do the planned faults


def test_the_plugin_fixtures_serve_an_empty_config_at_its_issuer(
    oauth2_config: AuthorizationServerConfig, oauth2_server: LocalServer
) -> None:
    assert oauth2_config.clients == {}
    assert oauth2_config.issuer == str(oauth2_server.url).rstrip("/")

    async def fetch() -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(oauth2_server.make_url("/.well-known/oauth-authorization-server")) as r,
        ):
            metadata: dict[str, Any] = await r.json()
            return metadata

    metadata = asyncio.run(fetch())
    assert metadata["token_endpoint"] == f"{oauth2_config.issuer}/token"


def test_authorization_server_app_builds_a_fresh_config_by_default() -> None:
    from aiohttp_auth.testing.oauth2 import CONFIG

    app = authorization_server_app()
    assert isinstance(app[CONFIG], AuthorizationServerConfig)
    assert app[CONFIG].clients == {}


def test_importing_the_testing_package_loads_no_jwt_library() -> None:
    # The JWT code imports joserfc (and so cryptography) on first use only,
    # so tests that never see a JWT do not pay for it.
    code = (
        "import sys, aiohttp_auth.testing, aiohttp_auth.testing.oauth2;"
        "print(sorted(m for m in ('joserfc', 'cryptography', 'authlib') if m in sys.modules))"
    )
    loaded = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert loaded.stdout.strip() == "[]"
