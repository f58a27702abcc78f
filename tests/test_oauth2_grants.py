"""OAuth 2 grants, sans-IO: the token requests they build, and their argument checks.

RFC examples come from ``tests/vectors/oauth2/token_requests.json``; the rest
are tables of (arguments, expected) rows. JWT bearer assertions are decoded
with joserfc and the matching public key. No event loop, no mocks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jwk, jwt
from yarl import URL

from aiohttp_auth.errors import ConfigurationError, CredentialError, TokenError
from aiohttp_auth.oauth2 import (
    BaseGrant,
    ClientCredentials,
    Grant,
    JWTBearer,
    Password,
    RefreshToken,
    TokenExchange,
    TokenRequest,
    make_client_auth,
)
from aiohttp_auth.oauth2.grants_base import normalise_scope

VECTORS = Path(__file__).parent / "vectors" / "oauth2"
TOKEN_URL = "https://as.example.com/oauth2/token"
NOW = 1_700_000_000.0
JTI = "jti-1"
GRANTS: dict[str, type[BaseGrant]] = {
    "ClientCredentials": ClientCredentials,
    "Password": Password,
    "RefreshToken": RefreshToken,
    "TokenExchange": TokenExchange,
    "JWTBearer": JWTBearer,
}
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_PEM = RSA_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)
P256_KEY = ec.generate_private_key(ec.SECP256R1())
P256_PEM = P256_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)


def public_jwk(key: Any) -> Any:
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return jwk.import_key(pem, "RSA" if isinstance(key, rsa.RSAPrivateKey) else "EC")


def form_of(request: TokenRequest) -> dict[str, str]:
    """The form as the server decodes it from the body."""
    pairs = parse_qsl(request.body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    assert len(pairs) == len(dict(pairs)), "a parameter is repeated"
    assert dict(pairs) == dict(request.form)
    return dict(pairs)


def load_cases(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((VECTORS / name).read_text("utf-8"))["cases"]
    return cases


@pytest.mark.parametrize("case", load_cases("token_requests.json"), ids=lambda c: c["name"])
def test_rfc_token_requests(case: dict[str, Any]) -> None:
    grant = GRANTS[case["grant"]](**case["args"])
    request = grant.token_request(now=NOW, jti=JTI)
    assert request.url == case["args"]["token_url"]
    assert form_of(request) == dict(case["form"])
    assert request.headers.get("Authorization") == case["authorization"]
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["Accept"] == "application/json"


def test_rfc6749_6_refresh_request_from_any_grant() -> None:
    grant = ClientCredentials(TOKEN_URL, "s6BhdRkqt3", "gX1fBat3bV", scope="read")
    request = grant.refresh_request("tGzv3JOkF0XG5Qx2TIKWIA", now=NOW, jti=JTI)
    assert form_of(request) == {
        "grant_type": "refresh_token",
        "refresh_token": "tGzv3JOkF0XG5Qx2TIKWIA",
        "scope": "read",
    }
    assert request.headers["Authorization"] == "Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW"


@pytest.mark.parametrize("refresh_token", ["", None, 5])
def test_refresh_request_without_a_refresh_token_is_a_token_error(refresh_token: Any) -> None:
    grant = ClientCredentials(TOKEN_URL, "cid", "secret")
    with pytest.raises(TokenError, match="no refresh token: pass refresh_token= or store one"):
        grant.refresh_request(refresh_token, now=NOW, jti=JTI)


def test_refresh_token_grant_without_initial_token_asks_for_one() -> None:
    grant = RefreshToken(TOKEN_URL, "cid")
    with pytest.raises(TokenError, match="no refresh token: pass refresh_token= or store one"):
        grant.token_request(now=NOW, jti=JTI)
    # The middleware refreshes with the newest stored refresh token instead.
    request = grant.refresh_request("stored-rt", now=NOW, jti=JTI)
    assert form_of(request) == {
        "grant_type": "refresh_token",
        "refresh_token": "stored-rt",
        "client_id": "cid",
    }


# (name, scope argument, expected scope parameter)
SCOPE_CASES: list[tuple[str, Any, str | None]] = [
    ("none", None, None),
    ("string", "read write", "read write"),
    ("string_extra_spaces", "  read   write ", "read write"),
    ("empty_string", "", None),
    ("list", ["read", "write"], "read write"),
    ("tuple", ("openid", "profile"), "openid profile"),
    ("empty_list", [], None),
    (
        "uri_scopes",
        ["https://graph.microsoft.com/.default"],
        "https://graph.microsoft.com/.default",
    ),
]


@pytest.mark.parametrize(
    ("scope", "expected"),
    [case[1:] for case in SCOPE_CASES],
    ids=[case[0] for case in SCOPE_CASES],
)
def test_scope_is_space_joined(scope: Any, expected: str | None) -> None:
    grant = ClientCredentials(TOKEN_URL, "cid", "secret", scope=scope)
    assert grant.scope == expected
    assert form_of(grant.token_request(now=NOW, jti=JTI)).get("scope") == expected


@pytest.mark.parametrize(
    "scope",
    [["read write"], ["read", ""], [1, 2], 5, b"read", ["read", None]],
    ids=["space_in_element", "empty_element", "numbers", "number", "bytes", "none_element"],
)
def test_bad_scope_is_a_configuration_error(scope: Any) -> None:
    with pytest.raises(ConfigurationError, match="scope: expected"):
        normalise_scope(scope)


def test_extra_params_are_merged_last_and_sent_on_refresh_too() -> None:
    grant = ClientCredentials(
        TOKEN_URL,
        "cid",
        "secret",
        scope="read",
        extra_params={"audience": "https://api.example.com", "scope": "override"},
    )
    expected = {"audience": "https://api.example.com", "scope": "override"}
    token_form = form_of(grant.token_request(now=NOW, jti=JTI))
    assert token_form == {"grant_type": "client_credentials", **expected}
    refresh_form = form_of(grant.refresh_request("rt", now=NOW, jti=JTI))
    assert refresh_form == {"grant_type": "refresh_token", "refresh_token": "rt", **expected}
    assert dict(grant.extra_params) == expected


@pytest.mark.parametrize(
    ("extra_params", "words"),
    [
        ({"grant_type": "password"}, "must not set grant_type"),
        ({"client_secret": "x", "client_assertion": "y"}, "client_assertion, client_secret"),
        ({"n": 1}, "a mapping of strings to strings"),
        ([("a", "b")], "a mapping of strings to strings"),
    ],
    ids=["grant_type", "client_auth_params", "number_value", "list"],
)
def test_bad_extra_params_are_refused(extra_params: Any, words: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(words)):
        ClientCredentials(TOKEN_URL, "cid", "secret", extra_params=extra_params)


# (name, token_url, allow_http)
ACCEPTED_URLS: list[tuple[str, Any, bool]] = [
    ("https", "https://as.example.com/token", False),
    ("https_with_query", "https://as.example.com/token?tenant=1", False),
    ("yarl_url", URL("https://as.example.com/token"), False),
    ("http_loopback_v4", "http://127.0.0.1:8080/token", False),
    ("http_localhost", "http://localhost/token", False),
    ("http_loopback_v6", "http://[::1]:9000/token", False),
    ("http_allowed", "http://as.internal/token", True),
]


@pytest.mark.parametrize(
    ("token_url", "allow_http"),
    [case[1:] for case in ACCEPTED_URLS],
    ids=[case[0] for case in ACCEPTED_URLS],
)
def test_token_url_https_or_loopback(token_url: Any, allow_http: bool) -> None:
    grant = ClientCredentials(token_url, "cid", "secret", allow_http=allow_http)
    assert grant.token_url == str(token_url)
    assert grant.token_request(now=NOW, jti=JTI).url == str(token_url)


# (name, token_url, allow_http, words)
REFUSED_URLS: list[tuple[str, Any, Any, str]] = [
    ("http_remote", "http://as.example.com/token", False, "use https, or pass allow_http=True"),
    ("relative", "/oauth2/token", False, "expected an absolute https URL"),
    ("no_host", "https:///token", False, "expected an absolute https URL"),
    ("ftp", "ftp://as.example.com/token", False, "expected an absolute https URL"),
    ("unparsable", "https://[::1/token", False, "expected an absolute https URL"),
    ("fragment", "https://as.example.com/token#x", False, "must not contain a fragment"),
    (
        "user_info",
        "https://u:p@as.example.com/token",
        False,
        "must not contain a fragment or user info",
    ),
    ("not_a_string", 42, False, "expected a URL string, got int"),
    (
        "allow_http_not_bool",
        "https://as.example.com/token",
        "yes",
        "allow_http: expected True or False",
    ),
]


@pytest.mark.parametrize(
    ("token_url", "allow_http", "words"),
    [case[1:] for case in REFUSED_URLS],
    ids=[case[0] for case in REFUSED_URLS],
)
def test_bad_token_url_is_refused_at_construction(
    token_url: Any, allow_http: Any, words: str
) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(words)) as caught:
        ClientCredentials(token_url, "cid", "secret", allow_http=allow_http)
    assert ":p@" not in str(caught.value)


@pytest.mark.parametrize("client_id", ["", None, 7])
def test_client_id_is_required(client_id: Any) -> None:
    with pytest.raises(ConfigurationError, match="client_id: expected a non-empty string"):
        ClientCredentials(TOKEN_URL, client_id, "secret")


# (name, grant arguments, expected client_auth method)
INFERRED_AUTH: list[tuple[str, Callable[[], BaseGrant], str]] = [
    (
        "secret_means_basic",
        lambda: ClientCredentials(TOKEN_URL, "cid", "secret"),
        "client_secret_basic",
    ),
    (
        "key_means_private_key_jwt",
        lambda: ClientCredentials(TOKEN_URL, "cid", private_key=P256_PEM),
        "private_key_jwt",
    ),
    ("neither_means_public", lambda: RefreshToken(TOKEN_URL, "cid", refresh_token="rt"), "none"),
    (
        "explicit_post",
        lambda: Password(
            TOKEN_URL, "cid", "s", username="u", password="p", client_auth="client_secret_post"
        ),
        "client_secret_post",
    ),
    (
        "mutual_tls_client_credentials",
        lambda: ClientCredentials(TOKEN_URL, "cid", client_auth="tls_client_auth"),
        "tls_client_auth",
    ),
]


@pytest.mark.parametrize(
    ("make_grant", "method"),
    [case[1:] for case in INFERRED_AUTH],
    ids=[case[0] for case in INFERRED_AUTH],
)
def test_client_auth_follows_from_the_arguments(
    make_grant: Callable[[], BaseGrant], method: str
) -> None:
    assert make_grant().client_auth.method == method


def test_client_credentials_refuses_a_public_client() -> None:
    for client_auth in (None, "none"):
        with pytest.raises(ConfigurationError, match=r"needs client authentication \(RFC 6749"):
            ClientCredentials(TOKEN_URL, "cid", client_auth=client_auth)  # type: ignore[arg-type]


def test_client_credentials_with_private_key_jwt_signs_for_the_token_url() -> None:
    grant = ClientCredentials(TOKEN_URL, "cid", private_key=P256_PEM, key_id="k1", scope="read")
    form = form_of(grant.token_request(now=NOW, jti=JTI))
    token = jwt.decode(form.pop("client_assertion"), public_jwk(P256_KEY), algorithms=["ES256"])
    assert token.header == {"typ": "JWT", "alg": "ES256", "kid": "k1"}
    assert token.claims == {
        "iss": "cid",
        "sub": "cid",
        "aud": TOKEN_URL,
        "iat": 1_700_000_000,
        "exp": 1_700_000_060,
        "jti": JTI,
    }
    assert form == {
        "grant_type": "client_credentials",
        "scope": "read",
        "client_id": "cid",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    }


def test_audience_for_auth0_points_to_extra_params() -> None:
    with pytest.raises(ConfigurationError, match=r"extra_params=\{'audience': \.\.\.\}"):
        ClientCredentials(TOKEN_URL, "cid", "secret", audience="https://api.example.com")


def test_a_client_auth_object_is_used_as_given() -> None:
    auth = make_client_auth("client_secret_post", "cid", "secret")
    grant = ClientCredentials(TOKEN_URL, "cid", client_auth=auth)
    assert grant.client_auth is auth
    assert form_of(grant.token_request(now=NOW, jti=JTI))["client_secret"] == "secret"


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"client_id": "other"}, "authenticates client 'cid', not 'other'"),
        ({"client_id": "cid", "client_secret": "s"}, "client_secret: not used when client_auth"),
        ({"client_id": "cid", "key_id": "k"}, "key_id: not used when client_auth"),
    ],
    ids=["other_client", "with_secret", "with_key_id"],
)
def test_a_client_auth_object_conflicting_with_arguments_is_refused(
    arguments: dict[str, Any], words: str
) -> None:
    auth = make_client_auth("client_secret_post", "cid", "secret")
    with pytest.raises(ConfigurationError, match=re.escape(words)):
        ClientCredentials(TOKEN_URL, client_auth=auth, **arguments)


def test_password_grant_sends_username_and_password() -> None:
    grant = Password(TOKEN_URL, "cid", username="jöhn doe", password="p&ss w0rd", scope="openid")
    request = grant.token_request(now=NOW, jti=JTI)
    assert form_of(request) == {
        "grant_type": "password",
        "username": "jöhn doe",
        "password": "p&ss w0rd",
        "scope": "openid",
        "client_id": "cid",
    }
    assert b"username=j%C3%B6hn+doe&password=p%26ss+w0rd" in request.body


@pytest.mark.parametrize(
    ("username", "password", "words"),
    [
        ("", "p", "username: expected"),
        (None, "p", "username: expected"),
        ("u", None, "password: expected"),
    ],
    ids=["empty_username", "no_username", "no_password"],
)
def test_password_grant_needs_username_and_password(
    username: Any, password: Any, words: str
) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(words)):
        Password(TOKEN_URL, "cid", username=username, password=password)


def test_password_grant_accepts_an_empty_password() -> None:
    grant = Password(TOKEN_URL, "cid", username="u", password="")
    assert form_of(grant.token_request(now=NOW, jti=JTI))["password"] == ""


@pytest.mark.parametrize("refresh_token", ["", 5])
def test_refresh_token_argument_must_be_a_string(refresh_token: Any) -> None:
    with pytest.raises(ConfigurationError, match="refresh_token: expected"):
        RefreshToken(TOKEN_URL, "cid", refresh_token=refresh_token)


def test_jwt_bearer_calls_the_assertion_callable_with_now() -> None:
    calls: list[float] = []

    def assertion(now: float) -> str:
        calls.append(now)
        return f"jwt-at-{int(now)}"

    grant = JWTBearer(TOKEN_URL, "cid", "secret", assertion=assertion, scope="read")
    first = form_of(grant.token_request(now=NOW, jti=JTI))
    second = form_of(grant.token_request(now=NOW + 10, jti="jti-2"))
    assert calls == [NOW, NOW + 10]
    assert (first["assertion"], second["assertion"]) == ("jwt-at-1700000000", "jwt-at-1700000010")
    assert first["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert first["scope"] == "read"
    assert "client_id" not in first  # Basic carries the client


def test_jwt_bearer_builds_and_signs_an_assertion() -> None:
    grant = JWTBearer(
        TOKEN_URL,
        "cid",
        issuer="svc@project.iam.example.com",
        subject="user@example.com",
        audience="https://as.example.com",
        private_key=RSA_PEM,
        key_id="key-1",
        extra_claims={"scope": "read write", "iss": "ignored"},
    )
    form = form_of(grant.token_request(now=NOW + 0.9, jti=JTI))
    token = jwt.decode(form["assertion"], public_jwk(RSA_KEY), algorithms=["RS256"])
    assert token.header == {"typ": "JWT", "alg": "RS256", "kid": "key-1"}
    assert token.claims == {
        "iss": "svc@project.iam.example.com",
        "sub": "user@example.com",
        "aud": "https://as.example.com",
        "iat": 1_700_000_000,
        "exp": 1_700_000_060,
        "jti": "jti-1.grant",
        "scope": "read write",
    }


def test_jwt_bearer_assertion_defaults_to_the_client_and_token_url() -> None:
    grant = JWTBearer(TOKEN_URL, "cid", private_key=P256_PEM)
    form = form_of(grant.token_request(now=NOW, jti=JTI))
    claims = jwt.decode(form["assertion"], public_jwk(P256_KEY), algorithms=["ES256"]).claims
    assert (claims["iss"], claims["sub"], claims["aud"]) == ("cid", "cid", TOKEN_URL)


def test_jwt_bearer_grant_and_client_assertions_have_distinct_jti() -> None:
    client_auth = make_client_auth("private_key_jwt", "cid", None, private_key=P256_PEM)
    grant = JWTBearer(TOKEN_URL, "cid", private_key=P256_PEM, client_auth=client_auth)
    form = form_of(grant.token_request(now=NOW, jti=JTI))
    key = public_jwk(P256_KEY)
    grant_jti = jwt.decode(form["assertion"], key, algorithms=["ES256"]).claims["jti"]
    client_jti = jwt.decode(form["client_assertion"], key, algorithms=["ES256"]).claims["jti"]
    assert grant_jti != client_jti


class Boom(Exception):
    pass


def raises(now: float) -> str:
    raise Boom("disk gone")


# (name, assertion callable, words)
BAD_ASSERTION_SOURCES: list[tuple[str, Callable[[float], Any], str]] = [
    ("raises", raises, "the assertion callable raises raised Boom"),
    ("returns_empty", lambda now: "", "returned an empty string"),
    ("returns_bytes", lambda now: b"jwt", "returned bytes"),
    ("returns_none", lambda now: None, "returned NoneType"),
]


@pytest.mark.parametrize(
    ("source", "words"),
    [case[1:] for case in BAD_ASSERTION_SOURCES],
    ids=[case[0] for case in BAD_ASSERTION_SOURCES],
)
def test_failing_assertion_callable_is_a_credential_error(
    source: Callable[[float], Any], words: str
) -> None:
    grant = JWTBearer(TOKEN_URL, "cid", assertion=source)
    with pytest.raises(CredentialError, match=re.escape(words)):
        grant.token_request(now=NOW, jti=JTI)


def test_assertion_callable_auth_errors_pass_through() -> None:
    def needs_login(now: float) -> str:
        raise TokenError("log in first")

    grant = JWTBearer(TOKEN_URL, "cid", assertion=needs_login)
    with pytest.raises(TokenError, match="log in first"):
        grant.token_request(now=NOW, jti=JTI)


# (name, JWTBearer keyword arguments, words)
BAD_JWT_BEARER: list[tuple[str, dict[str, Any], str]] = [
    ("neither", {}, "needs assertion= (a JWT or a callable returning one) or private_key="),
    (
        "both",
        {"assertion": "a.b.c", "private_key": P256_PEM},
        "private_key: build an assertion, but assertion= is given",
    ),
    (
        "assertion_and_issuer",
        {"assertion": "a.b.c", "issuer": "me", "key_id": "k"},
        "issuer, key_id: build an assertion",
    ),
    ("empty_assertion", {"assertion": ""}, "assertion: expected a non-empty string or a callable"),
    ("assertion_number", {"assertion": 5}, "assertion: expected"),
    (
        "empty_issuer",
        {"private_key": P256_PEM, "issuer": ""},
        "issuer: expected a non-empty string",
    ),
    (
        "callable_subject",
        {"private_key": P256_PEM, "subject": lambda: "x"},
        "subject: expected a non-empty string",
    ),
    (
        "extra_claims_list",
        {"private_key": P256_PEM, "extra_claims": [("a", 1)]},
        "extra_claims: expected a mapping",
    ),
    ("bad_key", {"private_key": "not a key"}, "private_key: cannot be read"),
    (
        "key_and_alg_mismatch",
        {"private_key": P256_PEM, "signing_alg": "RS256"},
        "EC keys cannot sign with 'RS256'",
    ),
]


@pytest.mark.parametrize(
    ("arguments", "words"),
    [case[1:] for case in BAD_JWT_BEARER],
    ids=[case[0] for case in BAD_JWT_BEARER],
)
def test_jwt_bearer_argument_checks(arguments: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(words)):
        JWTBearer(TOKEN_URL, "cid", **arguments)


def test_token_exchange_sends_every_rfc8693_parameter() -> None:
    subject_reads: list[int] = []

    def subject_token() -> str:
        subject_reads.append(1)
        return f"subject-{len(subject_reads)}"

    grant = TokenExchange(
        TOKEN_URL,
        "cid",
        "secret",
        subject_token=subject_token,
        subject_token_type="urn:ietf:params:oauth:token-type:jwt",
        actor_token=lambda: "actor",
        actor_token_type="urn:ietf:params:oauth:token-type:access_token",
        resource="https://backend.example.com/api",
        audience="backend",
        requested_token_type="urn:ietf:params:oauth:token-type:refresh_token",
        scope=["read"],
    )
    first = form_of(grant.token_request(now=NOW, jti=JTI))
    second = form_of(grant.token_request(now=NOW, jti=JTI))
    assert first == {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": "subject-1",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "actor_token": "actor",
        "actor_token_type": "urn:ietf:params:oauth:token-type:access_token",
        "resource": "https://backend.example.com/api",
        "audience": "backend",
        "requested_token_type": "urn:ietf:params:oauth:token-type:refresh_token",
        "scope": "read",
    }
    assert second["subject_token"] == "subject-2"  # read again for every request


def test_token_exchange_subject_callable_failure_is_a_credential_error() -> None:
    def unreadable() -> str:
        raise OSError("no such file")

    grant = TokenExchange(TOKEN_URL, "cid", "secret", subject_token=unreadable)
    with pytest.raises(
        CredentialError, match=r"the subject_token callable .*unreadable raised OSError"
    ):
        grant.token_request(now=NOW, jti=JTI)


# (name, TokenExchange keyword arguments, words)
BAD_TOKEN_EXCHANGE: list[tuple[str, dict[str, Any], str]] = [
    (
        "no_subject_token",
        {"subject_token": None},
        "subject_token: the token to exchange is required",
    ),
    (
        "empty_subject_token",
        {"subject_token": ""},
        "subject_token: expected a non-empty string or a callable",
    ),
    (
        "no_subject_token_type",
        {"subject_token": "t", "subject_token_type": None},
        "subject_token_type: required",
    ),
    (
        "actor_without_type",
        {"subject_token": "t", "actor_token": "a"},
        "actor_token_type: RFC 8693 §2.1 requires it",
    ),
    (
        "type_without_actor",
        {"subject_token": "t", "actor_token_type": "urn:x"},
        "pass both or neither",
    ),
    (
        "actor_number",
        {"subject_token": "t", "actor_token": 3, "actor_token_type": "urn:x"},
        "actor_token: expected",
    ),
    (
        "empty_resource",
        {"subject_token": "t", "resource": ""},
        "resource: expected a non-empty string",
    ),
    (
        "callable_audience",
        {"subject_token": "t", "audience": lambda: "x"},
        "audience: expected a non-empty string",
    ),
]


@pytest.mark.parametrize(
    ("arguments", "words"),
    [case[1:] for case in BAD_TOKEN_EXCHANGE],
    ids=[case[0] for case in BAD_TOKEN_EXCHANGE],
)
def test_token_exchange_argument_checks(arguments: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(words)):
        TokenExchange(TOKEN_URL, "cid", "secret", **arguments)


def all_grants() -> list[BaseGrant]:
    return [
        ClientCredentials(TOKEN_URL, "cid", "CLIENT-SECRET"),
        RefreshToken(TOKEN_URL, "cid", "CLIENT-SECRET", refresh_token="REFRESH-SECRET"),
        Password(TOKEN_URL, "cid", "CLIENT-SECRET", username="alice", password="PASSWORD-SECRET"),
        JWTBearer(TOKEN_URL, "cid", "CLIENT-SECRET", assertion="ASSERTION-SECRET"),
        JWTBearer(TOKEN_URL, "cid", assertion=lambda now: "ASSERTION-SECRET"),
        JWTBearer(TOKEN_URL, "cid", private_key=RSA_PEM),
        TokenExchange(
            TOKEN_URL,
            "cid",
            "CLIENT-SECRET",
            subject_token="SUBJECT-SECRET",
            actor_token="ACTOR-SECRET",
            actor_token_type="urn:x",
        ),
        TokenExchange(
            TOKEN_URL, "cid", private_key=P256_PEM, subject_token=lambda: "SUBJECT-SECRET"
        ),
    ]


def test_every_grant_is_a_non_interactive_grant() -> None:
    for grant in all_grants():
        assert isinstance(grant, Grant)
        assert grant.interactive is False
        assert type(grant).interactive is False


def test_reprs_show_no_secret() -> None:
    pem_line = RSA_PEM.decode().splitlines()[1]
    for grant in all_grants():
        text = repr(grant)
        assert "SECRET" not in text
        assert pem_line not in text
        assert text.startswith(f"{type(grant).__name__}(token_url='{TOKEN_URL}', client_id='cid'")


def test_repr_examples() -> None:
    grants = all_grants()
    assert repr(grants[2]) == (
        f"Password(token_url='{TOKEN_URL}', client_id='cid', client_auth='client_secret_basic', "
        "scope=None, username='alice', password=<redacted 15 chars>)"
    )
    assert repr(grants[4]).endswith("assertion=<callable all_grants.<locals>.<lambda>>)")
    assert repr(grants[5]).endswith("issuer='cid', subject='cid', signing_alg='RS256')")
    assert repr(grants[6]).endswith(
        "subject_token=<redacted 14 chars>, "
        "subject_token_type='urn:ietf:params:oauth:token-type:access_token', "
        "actor_token=<redacted 12 chars>)"
    )


def test_grants_are_read_only() -> None:
    grant = ClientCredentials(TOKEN_URL, "cid", "secret")
    for name in ("token_url", "client_id", "scope", "client_auth", "extra_params"):
        with pytest.raises(AttributeError):
            setattr(grant, name, None)
    with pytest.raises(TypeError):
        grant.extra_params["x"] = "y"  # type: ignore[index]
