"""Fuzzing what the OAuth 2 test server reads from clients: a request or an RFC 6749 error.

The authorization server of ``aiohttp_auth.testing`` answers whatever a client
posts. Its endpoints turn an ``OAuthError`` into an RFC 6749 §5.2 error
answer; any other exception would escape as a 500, so reading the form and
authenticating the client must raise only that.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
from typing import Any
from urllib.parse import quote_plus, urlencode

import pytest
from fuzzing import JSON_VALUES, outcome
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aiohttp_auth.testing import AuthorizationServerConfig
from aiohttp_auth.testing.oauth2.clients import (
    ASSERTION_TYPE,
    AuthenticatedClient,
    authenticate_client,
)
from aiohttp_auth.testing.oauth2.errors import OAuthError
from aiohttp_auth.testing.oauth2.protocol import FORM, read_form

FUZZ = settings(max_examples=300, deadline=None)
NOW = 1_700_000_000.0
CLIENT_ID, SECRET = "app", "app-secret-Qm3Zt8"
AUDIENCE = "https://as.test/token"


# --- the OAuth 2 authorization server -------------------------------------------------------

FORM_TEXT = st.text(min_size=1, max_size=8)
FORM_NAMES = st.sampled_from(["grant_type", "scope", "client_id", "resource", "audience", "é x"])


@FUZZ
@given(
    st.sampled_from([FORM, FORM, "application/json", "text/plain", ""]),
    st.one_of(
        st.binary(max_size=60),
        st.text(alphabet="a=&%+;fFzZ09é", max_size=40).map(str.encode),
        st.lists(st.tuples(FORM_NAMES, st.text(max_size=8)), max_size=4).map(
            lambda pairs: urlencode(pairs).encode()
        ),
    ),
)
@example(FORM, b"scope=%ff")
@example(FORM, b"\xff")
def test_any_form_body_is_read_or_refused_as_an_invalid_request(
    content_type: str, body: bytes
) -> None:
    form = outcome(OAuthError, read_form, content_type, body)
    if isinstance(form, OAuthError):
        assert (form.error, form.status) == ("invalid_request", 400)
        return
    assert content_type == FORM
    repeated = {name for name in form if len(form.getall(name)) > 1}
    assert repeated <= {"resource", "audience"}


@FUZZ
@given(
    st.dictionaries(
        FORM_TEXT.filter(lambda name: name not in ("resource", "audience")),
        FORM_TEXT,
    ).map(lambda fields: fields.items()),
)
def test_written_forms_read_back_to_the_same_parameters(pairs: list[tuple[str, str]]) -> None:
    body = urlencode(list(pairs)).encode()
    assert list(read_form(FORM, body).items()) == list(pairs)


# --- client authentication ----------------------------------------------------------------


def _config() -> AuthorizationServerConfig:
    config = AuthorizationServerConfig()
    config.register(CLIENT_ID, SECRET)
    return config


def authenticate(authorization: str | None, form: dict[str, str]) -> AuthenticatedClient:
    """Authenticate as the token endpoint does, against a server knowing one client."""
    return authenticate_client(_config(), authorization, form, audiences={AUDIENCE}, now=NOW)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hs256_jwt(header: Any, claims: Any, secret: str = SECRET) -> str:
    """Sign *claims* under *header* with HMAC-SHA256 (RFC 7515 §3.1, RFC 7518 §3.2)."""
    signing_input = (
        f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
    )
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(mac)}"


# Claim values that break an assertion; NaN and the infinities are not JSON numbers.
CLAIMS = {
    "iss": (st.just(CLIENT_ID), st.sampled_from(["other", ""]) | JSON_VALUES),
    "sub": (st.just(CLIENT_ID), st.sampled_from(["other", ""]) | JSON_VALUES),
    "aud": (
        st.sampled_from([AUDIENCE, [AUDIENCE, "x"]]),
        st.sampled_from(["x", [1]]) | JSON_VALUES,
    ),
    "exp": (st.floats(NOW + 1, NOW + 600), st.sampled_from([NOW, NOW - 1, True]) | JSON_VALUES),
    "nbf": (st.none() | st.just(NOW - 10), st.just(NOW + 3600) | JSON_VALUES),
    "iat": (st.none() | st.just(NOW - 10), st.just(NOW + 3600) | JSON_VALUES),
    "jti": (st.uuids().map(str), st.sampled_from(["", None]) | JSON_VALUES),
}
HEADERS = st.sampled_from([{"alg": "HS256"}, {"alg": "HS256", "typ": "JWT", "kid": "k"}])
BAD_HEADERS = st.sampled_from([{"alg": "none"}, {"alg": "RS256"}, {"alg": 5}, {}, [], "x"])


FAULTS = st.sampled_from(
    [None, None, None, "claim", "claim", "drop", "header", "secret", "assertion", "type", "sub"]
)


@st.composite
def assertion_forms(draw: st.DrawFn) -> dict[str, str]:
    """Draw a token request form authenticating with a client assertion (RFC 7523 §2.2).

    Valid, or with one fault: a claim changed or dropped, another header, the
    wrong secret, a mangled JWT, another assertion type or client_id.
    """
    claims = {name: draw(valid) for name, (valid, _) in CLAIMS.items()}
    header, secret = draw(HEADERS), SECRET
    form = {"client_assertion_type": ASSERTION_TYPE}
    if draw(st.booleans()):
        form["client_id"] = CLIENT_ID
    fault = draw(FAULTS)
    if fault == "claim":
        name = draw(st.sampled_from(sorted(CLAIMS)))
        claims[name] = draw(CLAIMS[name][1])
    elif fault == "drop":
        del claims[draw(st.sampled_from(sorted(CLAIMS)))]
    elif fault == "header":
        header = draw(BAD_HEADERS)
    elif fault == "secret":
        secret = draw(st.sampled_from(["", "other", SECRET + "x"]))
    elif fault == "type":
        form["client_assertion_type"] = draw(st.sampled_from(["jwt", "", ASSERTION_TYPE + " "]))
    elif fault == "sub":
        form["client_id"] = "other"
    assertion = hs256_jwt(header, claims if fault != "assertion" else draw(JSON_VALUES), secret)
    if fault == "assertion":
        cut = st.sampled_from([assertion[:-2], assertion + ".x", "a.b.c", "..", "\u00e9.e.e"])
        assertion = draw(st.just(assertion) | cut)
    return form | {"client_assertion": assertion}


@FUZZ
@given(assertion_forms())
def test_any_client_assertion_authenticates_the_client_or_is_refused(form: dict[str, str]) -> None:
    client = outcome(OAuthError, authenticate, None, form)
    if isinstance(client, OAuthError):
        assert (client.error, client.status) == ("invalid_client", 400)
        assert SECRET not in str(client)
        return
    assert (client.registration.client_id, client.method) == (CLIENT_ID, "client_secret_jwt")
    claims = json.loads(base64.urlsafe_b64decode(form["client_assertion"].split(".")[1] + "=="))
    assert math.isfinite(claims["exp"])
    assert claims["exp"] > NOW


@pytest.mark.parametrize("exp", [float("nan"), float("inf")], ids=["nan", "infinity"])
def test_a_client_assertion_expiring_at_no_number_is_refused(exp: float) -> None:
    claims = {"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": AUDIENCE, "exp": exp, "jti": "j"}
    form = {
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": hs256_jwt({"alg": "HS256"}, claims),
    }
    assert isinstance(outcome(OAuthError, authenticate, None, form), OAuthError)


def test_a_client_assertion_nested_too_deep_is_refused() -> None:
    part = _b64url(b"[" * 100_000)
    form = {"client_assertion_type": ASSERTION_TYPE, "client_assertion": f"{part}.{part}.x"}
    assert isinstance(outcome(OAuthError, authenticate, None, form), OAuthError)


def basic(client_id: str, secret: str) -> str:
    """Write client_secret_basic credentials (RFC 6749 §2.3.1: form-encoded, then Basic)."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


# What a client may send as Authorization (non-ASCII text: see the test below).
AUTHORIZATIONS = st.one_of(
    st.builds(basic, st.sampled_from([CLIENT_ID, "other", ""]), st.sampled_from([SECRET, "x"])),
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=30),
    st.text(alphabet=st.sampled_from(list("Basic YWFh:=+/ \t")), max_size=30),
)


@FUZZ
@given(AUTHORIZATIONS, st.sampled_from([{}, {"client_id": CLIENT_ID}, {"client_id": "x"}]))
@example(basic(CLIENT_ID, SECRET), {})
def test_any_basic_authorization_authenticates_the_client_or_is_refused(
    authorization: str, form: dict[str, str]
) -> None:
    client = outcome(OAuthError, authenticate, authorization, form)
    if isinstance(client, OAuthError):
        # RFC 6749 §5.2: a failed Authorization header gets 401 and a Basic challenge.
        assert (client.error, client.status, client.basic_challenge) == (
            "invalid_client",
            401,
            True,
        )
        assert SECRET not in str(client)
        return
    assert authorization == basic(CLIENT_ID, SECRET)
    assert client.method == "client_secret_basic"


def test_basic_credentials_that_are_not_ascii_are_refused() -> None:
    assert isinstance(outcome(OAuthError, authenticate, "Basic \u00e9", {}), OAuthError)
