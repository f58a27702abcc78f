"""The embedded authorization server's interactive grants: code + PKCE, and device code.

Driven as a browser and a device would, with plain aiohttp: follow
``/authorize`` to the redirect, post the user code to ``/device``, poll the
token endpoint.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from test_testing_oauth2_server import (
    CONFIDENTIAL_SECRET,
    Answer,
    Harness,
    assert_error,
    running_harness,
)
from yarl import URL

from aiohttp_auth.testing.oauth2.authorize import redirect_uri_matches

DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
CALLBACK = "http://127.0.0.1:8123/callback"


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    async with running_harness() as running:
        yield running


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def authorize(harness: Harness, **params: str) -> Answer:
    query = {
        "response_type": "code",
        "client_id": "public",
        "state": "st-1",
        "code_challenge_method": "S256",
    } | params
    query = {name: value for name, value in query.items() if value != "-"}
    return await harness.request(
        "GET", str(URL("/authorize").with_query(query)), allow_redirects=False
    )


def redirect_params(answer: Answer) -> dict[str, str]:
    assert answer.status == 302, answer.body
    return dict(URL(answer.headers["Location"]).query)


async def code_and_verifier(harness: Harness, **params: str) -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    answer = await authorize(
        harness,
        redirect_uri=CALLBACK,
        code_challenge=challenge_of(verifier),
        code_challenge_method="S256",
        **params,
    )
    return redirect_params(answer)["code"], verifier


async def redeem(harness: Harness, code: str, verifier: str | None, **extra: str) -> Answer:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": "public",
        "redirect_uri": CALLBACK,
    }
    if verifier is not None:
        form["code_verifier"] = verifier
    return await harness.token(form | extra)


# --- /authorize ----------------------------------------------------------------------


async def test_authorize_redirects_to_a_loopback_uri_on_any_port_with_code_state_and_iss(
    harness: Harness,
) -> None:
    answer = await authorize(
        harness,
        redirect_uri=CALLBACK,
        code_challenge=challenge_of("v" * 43),
        code_challenge_method="S256",
        scope="read",
    )
    location = URL(answer.headers["Location"])
    assert (location.host, location.port, location.path) == ("127.0.0.1", 8123, "/callback")
    params = redirect_params(answer)
    assert params["state"] == "st-1"
    assert params["iss"] == harness.issuer  # RFC 9207
    code = harness.config.authorization_codes[params["code"]]
    assert (code.client_id, code.subject, code.scope) == ("public", "alice", "read")


async def test_authorize_keeps_the_redirect_uris_own_query(harness: Harness) -> None:
    harness.config.clients["public"].redirect_uris = ("http://127.0.0.1/cb?app=1",)
    answer = await authorize(harness, code_challenge=challenge_of("v" * 43), state="-")
    params = redirect_params(answer)
    assert params["app"] == "1"
    assert "code" in params
    assert "state" not in params


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"client_id": "nobody"}, "unknown client"),
        ({"client_id": "-"}, "unknown client"),
        ({"redirect_uri": "http://evil.example/callback"}, "not registered"),
        ({"redirect_uri": "http://127.0.0.1:8123/other"}, "not registered"),
    ],
)
async def test_authorize_answers_client_errors_itself_never_redirecting(
    harness: Harness, params: dict[str, str], reason: str
) -> None:
    answer = await authorize(harness, **params)
    assert_error(answer, "invalid_request")
    assert reason in answer.json()["error_description"]


async def test_authorize_needs_a_redirect_uri_unless_exactly_one_is_registered(
    harness: Harness,
) -> None:
    harness.config.clients["public"].redirect_uris = ("http://127.0.0.1/a", "http://127.0.0.1/b")
    assert_error(await authorize(harness), "invalid_request")
    repeated = await harness.request(
        "GET", "/authorize?client_id=public&client_id=public", allow_redirects=False
    )
    assert_error(repeated, "invalid_request")


@pytest.mark.parametrize(
    ("params", "error", "reason"),
    [
        ({"response_type": "token"}, "unsupported_response_type", "response_type"),
        ({"response_type": "-"}, "unsupported_response_type", "response_type"),
        ({"scope": "read\\"}, "invalid_scope", "malformed"),
        ({"code_challenge": "-"}, "invalid_request", "code challenge required"),
        ({"code_challenge_method": "plain"}, "invalid_request", "'plain' not supported"),
        ({"code_challenge_method": "-"}, "invalid_request", "'plain' not supported"),
        ({"code_challenge_method": "S512"}, "invalid_request", "'S512' not supported"),
        ({"code_challenge": "too-short"}, "invalid_request", "43-128"),
    ],
)
async def test_authorize_sends_request_errors_to_the_redirect_uri(
    harness: Harness, params: dict[str, str], error: str, reason: str
) -> None:
    query = {"redirect_uri": CALLBACK, "code_challenge": challenge_of("v" * 43)} | params
    redirected = redirect_params(await authorize(harness, **query))
    assert redirected["error"] == error
    assert reason in redirected["error_description"]
    assert redirected["state"] == "st-1"
    assert "code" not in redirected


async def test_authorize_says_access_denied_when_told_to_or_without_a_user(
    harness: Harness,
) -> None:
    harness.config.authorize_decision = "deny"
    query = {"redirect_uri": CALLBACK, "code_challenge": challenge_of("v" * 43)}
    assert redirect_params(await authorize(harness, **query))["error"] == "access_denied"
    harness.config.authorize_decision = "approve"
    harness.config.users.clear()
    assert redirect_params(await authorize(harness, **query))["error"] == "access_denied"
    harness.config.authorize_as = "mallory"
    code = redirect_params(await authorize(harness, **query))["code"]
    assert harness.config.authorization_codes[code].subject == "mallory"


async def test_authorize_refuses_a_client_without_the_code_grant(harness: Harness) -> None:
    harness.config.clients["public"].grant_types = ("refresh_token",)
    query = {"redirect_uri": CALLBACK, "code_challenge": challenge_of("v" * 43)}
    assert redirect_params(await authorize(harness, **query))["error"] == "unauthorized_client"


@pytest.mark.parametrize(
    ("registered", "requested", "matches"),
    [
        ("http://127.0.0.1/cb", "http://127.0.0.1/cb", True),
        ("http://127.0.0.1/cb", "http://127.0.0.1:50123/cb", True),
        ("http://[::1]/cb", "http://[::1]:50123/cb", True),
        ("http://localhost:80/cb", "http://localhost:8080/cb", True),
        ("http://127.0.0.1/cb", "http://127.0.0.1:50123/other", False),
        ("http://127.0.0.1/cb?a=1", "http://127.0.0.1:50123/cb?a=2", False),
        ("http://127.0.0.1/cb", "http://127.0.0.1:50123/cb#frag", False),
        ("http://127.0.0.1/cb", "http://localhost:50123/cb", False),
        ("https://127.0.0.1/cb", "https://127.0.0.1:50123/cb", False),
        ("http://app.example/cb", "http://app.example:8080/cb", False),
    ],
)
def test_redirect_uris_match_exactly_except_loopback_ports(
    registered: str, requested: str, matches: bool
) -> None:
    assert redirect_uri_matches(registered, requested) is matches


# --- the code at the token endpoint --------------------------------------------------


async def test_a_code_with_its_verifier_gets_tokens_once(harness: Harness) -> None:
    code, verifier = await code_and_verifier(harness, scope="read")
    answer = await redeem(harness, code, verifier)
    assert answer.status == 200, answer.body
    fields = answer.json()
    assert fields["scope"] == "read"
    assert "id_token" not in fields
    assert (await harness.resource("/resource/x", fields["access_token"])).status == 200
    again = await redeem(harness, code, verifier)
    assert_error(again, "invalid_grant")
    # RFC 6749 §4.1.2: what the first use produced is revoked.
    assert (await harness.resource("/resource/x", fields["access_token"])).status == 401
    refreshed = await harness.token(
        {
            "grant_type": "refresh_token",
            "client_id": "public",
            "refresh_token": fields["refresh_token"],
        }
    )
    assert_error(refreshed, "invalid_grant")


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"code_verifier": "x" * 43}, "invalid_grant"),
        ({"code_verifier": "short"}, "invalid_grant"),
        ({"redirect_uri": "http://127.0.0.1:9999/callback"}, "invalid_grant"),
        ({"code": "unknown"}, "invalid_grant"),
        ({}, "invalid_grant"),  # no verifier at all
    ],
)
async def test_a_code_needs_its_verifier_and_redirect_uri(
    harness: Harness, change: dict[str, str], error: str
) -> None:
    code, verifier = await code_and_verifier(harness)
    extra = ({"code_verifier": verifier} | change) if change else {}
    answer = await redeem(harness, extra.pop("code", code), None, **extra)
    assert_error(answer, error)


async def test_a_code_expires_and_belongs_to_its_client(harness: Harness) -> None:
    harness.config.clients["confidential"].redirect_uris = (CALLBACK,)
    code, verifier = await code_and_verifier(harness)
    other = await harness.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": CALLBACK,
        },
        auth=("confidential", CONFIDENTIAL_SECRET),
    )
    assert_error(other, "invalid_grant")
    harness.clock.advance(60)
    assert_error(await redeem(harness, code, verifier), "invalid_grant")
    assert_error(
        await harness.token({"grant_type": "authorization_code", "client_id": "public"}),
        "invalid_request",
    )


async def test_a_code_requested_without_redirect_uri_is_redeemed_without_one(
    harness: Harness,
) -> None:
    verifier = "v" * 43
    params = redirect_params(
        await authorize(
            harness, code_challenge=challenge_of(verifier), code_challenge_method="S256"
        )
    )
    answer = await harness.token(
        {
            "grant_type": "authorization_code",
            "code": params["code"],
            "client_id": "public",
            "code_verifier": verifier,
        }
    )
    assert answer.status == 200, answer.body


async def test_plain_pkce_works_when_allowed(harness: Harness) -> None:
    harness.config.pkce_methods = ("S256", "plain")
    verifier = "p" * 50
    params = redirect_params(
        await authorize(
            harness, redirect_uri=CALLBACK, code_challenge=verifier, code_challenge_method="plain"
        )
    )
    assert (await redeem(harness, params["code"], verifier)).status == 200


async def test_without_required_pkce_a_verifier_needs_a_challenge(harness: Harness) -> None:
    harness.config.require_pkce = False
    first = redirect_params(await authorize(harness, redirect_uri=CALLBACK))
    assert (await redeem(harness, first["code"], None)).status == 200
    second = redirect_params(await authorize(harness, redirect_uri=CALLBACK))
    # RFC 9700 §2.1.1: a verifier for a code issued without challenge is refused.
    assert_error(await redeem(harness, second["code"], "v" * 43), "invalid_grant")


async def test_the_openid_scope_adds_an_id_token_signed_with_the_published_key(
    harness: Harness,
) -> None:
    harness.config.clients["confidential"].redirect_uris = (CALLBACK,)
    verifier = "w" * 43
    params = redirect_params(
        await authorize(
            harness,
            client_id="confidential",
            redirect_uri=CALLBACK,
            scope="openid read",
            nonce="n-0S6",
            code_challenge=challenge_of(verifier),
            code_challenge_method="S256",
        )
    )
    answer = await harness.token(
        {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=("confidential", CONFIDENTIAL_SECRET),
    )
    id_token = answer.json()["id_token"]
    jwks = (await harness.request("GET", "/jwks.json")).json()
    assert jwks["keys"][0]["alg"] == "ES256"
    assert "d" not in jwks["keys"][0]
    claims = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=["ES256"]).claims
    assert claims["iss"] == harness.issuer
    assert (claims["sub"], claims["aud"], claims["nonce"]) == ("alice", "confidential", "n-0S6")
    assert claims["exp"] == int(harness.clock.now) + 3600
    # The key stays the same for the server's lifetime.
    assert (await harness.request("GET", "/jwks.json")).json() == jwks


async def test_an_id_token_without_nonce_has_none(harness: Harness) -> None:
    harness.config.clients["confidential"].redirect_uris = (CALLBACK,)
    harness.config.require_pkce = False
    params = redirect_params(
        await authorize(harness, client_id="confidential", redirect_uri=CALLBACK, scope="openid")
    )
    answer = await harness.token(
        {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": CALLBACK},
        auth=("confidential", CONFIDENTIAL_SECRET),
    )
    token = answer.json()["id_token"]
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    assert "nonce" not in claims


# --- the device flow -----------------------------------------------------------------


async def start_device(harness: Harness, **extra: str) -> dict[str, Any]:
    answer = await harness.post(
        "/device_authorization", {"client_id": "public", "scope": "read"} | extra
    )
    assert answer.status == 200, answer.body
    fields: dict[str, Any] = answer.json()
    return fields


async def poll(harness: Harness, device_code: str) -> Answer:
    return await harness.token(
        {"grant_type": DEVICE_CODE, "device_code": device_code, "client_id": "public"}
    )


async def decide(harness: Harness, user_code: str, **extra: str) -> Answer:
    return await harness.post("/device", {"user_code": user_code} | extra)


async def test_device_authorization_answers_every_rfc_8628_field(harness: Harness) -> None:
    harness.config.device_poll_interval = 2
    fields = await start_device(harness)
    assert set(fields) == {
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
    assert fields["verification_uri"] == harness.issuer + "/device"
    assert fields["verification_uri_complete"].endswith("?user_code=" + fields["user_code"])
    assert (fields["expires_in"], fields["interval"]) == (600, 2)
    letters = fields["user_code"].replace("-", "")
    assert len(letters) == 8
    assert set(letters) <= set("BCDFGHJKLMNPQRSTVWXZ")


async def test_the_device_polls_until_the_user_approves(harness: Harness) -> None:
    fields = await start_device(harness)
    pending = await poll(harness, fields["device_code"])
    assert_error(pending, "authorization_pending")
    harness.clock.advance(1)
    too_fast = await poll(harness, fields["device_code"])
    assert_error(too_fast, "slow_down")
    state = harness.config.device_authorizations[fields["device_code"]]
    assert state.interval == 10  # RFC 8628 §3.5: grows by 5
    harness.clock.advance(10)
    assert_error(await poll(harness, fields["device_code"]), "authorization_pending")
    # The user types the code in lower case, without the dash (RFC 8628 §6.1).
    typed = fields["user_code"].replace("-", " ").lower()
    decision = await decide(harness, typed)
    assert decision.json() == {"status": "approved", "client_id": "public", "scope": "read"}
    harness.clock.advance(10)
    tokens = await poll(harness, fields["device_code"])
    assert tokens.status == 200
    assert harness.config.tokens[tokens.json()["access_token"]].subject == "alice"
    assert state.polls == 4
    assert_error(await poll(harness, fields["device_code"]), "invalid_grant")


async def test_a_denied_device_gets_access_denied_and_a_late_one_expired_token(
    harness: Harness,
) -> None:
    denied = await start_device(harness)
    assert (await decide(harness, denied["user_code"], action="deny")).json()["status"] == "denied"
    assert_error(await poll(harness, denied["device_code"]), "access_denied")
    late = await start_device(harness)
    harness.clock.advance(600)
    assert_error(await poll(harness, late["device_code"]), "expired_token")
    expired_decision = await decide(harness, late["user_code"])
    assert expired_decision.status == 400


async def test_a_device_code_belongs_to_its_client(harness: Harness) -> None:
    fields = await start_device(harness)
    stolen = await harness.confidential_token(
        {"grant_type": DEVICE_CODE, "device_code": fields["device_code"]}
    )
    assert_error(stolen, "invalid_grant")
    assert_error(await poll(harness, "unknown"), "invalid_grant")


async def test_device_authorization_refuses_clients_without_the_grant(harness: Harness) -> None:
    harness.config.clients["public"].grant_types = ("authorization_code",)
    answer = await harness.post("/device_authorization", {"client_id": "public"})
    assert_error(answer, "unauthorized_client")
    assert_error(
        await harness.post("/device_authorization", {"client_id": "nobody"}), "invalid_client"
    )


async def test_the_device_page_offers_a_form_with_the_code_escaped(harness: Harness) -> None:
    answer = await harness.request("GET", '/device?user_code="><script>')
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    page = answer.body.decode()
    assert "&quot;&gt;&lt;script&gt;" in page
    assert "<script>" not in page


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("unknown-code", "unknown"),
        ("no-code", "unknown"),
        ("bad-action", "action"),
        ("no-user", "no user"),
    ],
)
async def test_device_decisions_that_cannot_apply_are_refused(
    harness: Harness, case: str, reason: str
) -> None:
    fields = await start_device(harness)
    form = {"user_code": fields["user_code"]}
    if case == "unknown-code":
        form["user_code"] = "ZZZZ-ZZZZ" if fields["user_code"] != "ZZZZ-ZZZZ" else "BBBB-BBBB"
    elif case == "no-code":
        del form["user_code"]
    elif case == "bad-action":
        form["action"] = "maybe"
    else:
        harness.config.users.clear()
    answer = await harness.post("/device", form)
    assert answer.status == 400
    assert reason in answer.json()["error_description"]
    assert harness.config.device_authorizations[fields["device_code"]].status == "pending"


async def test_a_device_decision_may_name_the_user(harness: Harness) -> None:
    fields = await start_device(harness)
    await decide(harness, fields["user_code"], username="bob")
    tokens = (await poll(harness, fields["device_code"])).json()
    assert harness.config.tokens[tokens["access_token"]].subject == "bob"
