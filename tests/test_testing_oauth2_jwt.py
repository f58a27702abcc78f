"""The embedded authorization server checks JWTs as RFC 7523 and RFC 8693 ask.

Client assertions (``client_secret_jwt``, ``private_key_jwt``), the JWT bearer
grant and token exchange, with JWTs built here with joserfc from keys made
with cryptography.
"""

from __future__ import annotations

import base64
import json
import uuid
import warnings
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey
from test_testing_oauth2_server import (
    CONFIDENTIAL_SECRET,
    Answer,
    Harness,
    assert_error,
    running_harness,
)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
REFRESH_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:refresh_token"
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    async with running_harness() as running:
        yield running


@pytest.fixture(scope="module")
def rsa_key() -> RSAKey:
    return RSAKey.import_key(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def ec_key() -> ECKey:
    return ECKey.import_key(ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture(scope="module")
def okp_key() -> OKPKey:
    return OKPKey.import_key(ed25519.Ed25519PrivateKey.generate())


def sign(key: Any, algorithm: str, claims: dict[str, Any], **header: Any) -> str:
    with warnings.catch_warnings():
        # joserfc warns when *signing* with the name "EdDSA" (RFC 9864 deprecates
        # it); clients still send it, which is what the server must accept.
        warnings.simplefilter("ignore", SecurityWarning)
        return jwt.encode({"alg": algorithm} | header, claims, key, algorithms=[algorithm])


def claims_for(harness: Harness, client_id: str, **overrides: Any) -> dict[str, Any]:
    now = int(harness.clock.now)
    claims: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        "aud": harness.url("/token"),
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


async def authenticate(harness: Harness, assertion: str, **extra: str) -> Answer:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    return await harness.token(form | extra)


def register_key_client(harness: Harness, key: Any, client_id: str = "keyed") -> None:
    harness.config.register(client_id, jwks=key.as_dict(private=False))


# --- private_key_jwt and client_secret_jwt -------------------------------------------


@pytest.mark.parametrize(
    ("key_name", "algorithm"),
    [
        ("rsa_key", "RS256"),
        ("rsa_key", "PS256"),
        ("ec_key", "ES256"),
        ("okp_key", "EdDSA"),
        ("okp_key", "Ed25519"),
    ],
)
async def test_private_key_jwt_accepts_each_signature_algorithm(
    harness: Harness, request: pytest.FixtureRequest, key_name: str, algorithm: str
) -> None:
    key = request.getfixturevalue(key_name)
    register_key_client(harness, key)
    answer = await authenticate(harness, sign(key, algorithm, claims_for(harness, "keyed")))
    assert answer.status == 200, answer.body
    call = harness.config.token_requests[-1]
    assert (call.client_id, call.auth_method) == ("keyed", "private_key_jwt")


@pytest.mark.parametrize("algorithm", ["HS256", "HS512"])
async def test_client_secret_jwt_accepts_a_short_secret_quietly(
    harness: Harness, algorithm: str
) -> None:
    harness.config.register("hmac", "short")
    key = OctKey(b"short", b"short")  # joserfc's import_key would warn: too short
    answer = await authenticate(harness, sign(key, algorithm, claims_for(harness, "hmac")))
    assert answer.status == 200, answer.body
    assert harness.config.token_requests[-1].auth_method == "client_secret_jwt"


async def test_the_key_is_chosen_by_kid_from_a_jwk_set(
    harness: Harness, rsa_key: RSAKey, ec_key: ECKey
) -> None:
    harness.config.register(
        "keyed",
        jwks={
            "keys": [
                rsa_key.as_dict(private=False, kid="r1"),
                ec_key.as_dict(private=False, kid="e1"),
            ]
        },
    )
    good = sign(ec_key, "ES256", claims_for(harness, "keyed"), kid="e1")
    assert (await authenticate(harness, good)).status == 200
    without_kid = sign(ec_key, "ES256", claims_for(harness, "keyed"))
    assert (await authenticate(harness, without_kid)).status == 200
    wrong_kid = sign(ec_key, "ES256", claims_for(harness, "keyed"), kid="r1")
    assert_error(await authenticate(harness, wrong_kid), "invalid_client")


@pytest.mark.parametrize(
    "audience",
    ["token_endpoint", "issuer", "list"],
)
async def test_the_audience_may_be_the_token_endpoint_or_the_issuer(
    harness: Harness, ec_key: ECKey, audience: str
) -> None:
    register_key_client(harness, ec_key)
    value: Any = {
        "token_endpoint": harness.url("/token"),
        "issuer": harness.issuer,
        "list": ["https://other.example", harness.issuer],
    }[audience]
    assertion = sign(ec_key, "ES256", claims_for(harness, "keyed", aud=value))
    assert (await authenticate(harness, assertion)).status == 200


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "https://elsewhere.example/token"}, "aud"),
        ({"aud": 7}, "aud"),
        ({"exp": None}, "exp"),
        ({"exp": True}, "exp"),
        ({"exp": -1}, "expired"),
        ({"nbf": "later"}, "nbf"),
        ({"nbf": 10**10}, "nbf"),
        ({"iat": 10**10}, "iat"),
        ({"jti": None}, "jti"),
        ({"iss": "someone-else"}, "iss"),
        ({"iss": None}, "iss"),
    ],
)
async def test_client_assertions_with_bad_claims_are_refused(
    harness: Harness, ec_key: ECKey, overrides: dict[str, Any], reason: str
) -> None:
    register_key_client(harness, ec_key)
    if overrides.get("exp") == -1:
        overrides = {"exp": int(harness.clock.now)}  # exp == now is already too late
    assertion = sign(ec_key, "ES256", claims_for(harness, "keyed", **overrides))
    answer = await authenticate(harness, assertion)
    assert_error(answer, "invalid_client")
    assert reason in answer.json()["error_description"]


async def test_a_client_assertion_is_accepted_once(harness: Harness, ec_key: ECKey) -> None:
    register_key_client(harness, ec_key)
    assertion = sign(
        ec_key, "ES256", claims_for(harness, "keyed", exp=int(harness.clock.now) + 10)
    )
    assert (await authenticate(harness, assertion)).status == 200
    replay = await authenticate(harness, assertion)
    assert_error(replay, "invalid_client")
    assert "jti" in replay.json()["error_description"]
    # Once expired, the remembered jti is forgotten (the exp check refuses replays then).
    harness.clock.advance(20)
    fresh = sign(ec_key, "ES256", claims_for(harness, "keyed"))
    assert (await authenticate(harness, fresh)).status == 200
    assert len(harness.config.client_assertion_ids) == 1


def _unsigned(header: dict[str, Any], claims: Any) -> str:
    def part(value: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}.c2ln"


@pytest.mark.parametrize(
    ("assertion", "reason"),
    [
        ("not-a-jwt", "compact"),
        ("a.b.c", "base64url"),
        (_unsigned({"alg": "ES256"}, ["keyed"]), "JSON object"),
        (_unsigned({"alg": "ES256"}, {"iss": "keyed"}), "sub"),
        (_unsigned({"alg": "ES256"}, {"sub": "nobody"}), "unknown client"),
        (_unsigned({"alg": "none"}, {"sub": "keyed", "iss": "keyed"}), "alg 'none'"),
        (_unsigned({"alg": "ES256"}, {"sub": "keyed", "iss": "keyed"}), "signature"),
    ],
)
async def test_malformed_or_unsigned_client_assertions_are_refused(
    harness: Harness, ec_key: ECKey, assertion: str, reason: str
) -> None:
    register_key_client(harness, ec_key)
    answer = await authenticate(harness, assertion)
    assert_error(answer, "invalid_client")
    assert reason in answer.json()["error_description"]


async def test_a_signature_by_another_key_is_refused(
    harness: Harness, ec_key: ECKey, rsa_key: RSAKey
) -> None:
    register_key_client(harness, ec_key)
    answer = await authenticate(harness, sign(rsa_key, "RS256", claims_for(harness, "keyed")))
    assert_error(answer, "invalid_client")


async def test_the_assertion_type_and_client_id_must_fit(harness: Harness, ec_key: ECKey) -> None:
    register_key_client(harness, ec_key)
    assertion = sign(ec_key, "ES256", claims_for(harness, "keyed"))
    wrong_type = await authenticate(harness, assertion, client_assertion_type="urn:x")
    assert_error(wrong_type, "invalid_client")
    other_id = await authenticate(harness, assertion, client_id="public")
    assert_error(other_id, "invalid_client")
    same_id = await authenticate(harness, assertion, client_id="keyed")
    assert same_id.status == 200


async def test_jwt_methods_not_registered_for_the_client_are_refused(
    harness: Harness, ec_key: ECKey
) -> None:
    harness.config.register(
        "basic-only", "secret-0123456789", auth_methods=("client_secret_basic",)
    )
    hmac_assertion = sign(
        OctKey(b"secret-0123456789", b"secret-0123456789"),
        "HS256",
        claims_for(harness, "basic-only"),
    )
    answer = await authenticate(harness, hmac_assertion)
    assert_error(answer, "invalid_client")
    assert "client_secret_jwt" in answer.json()["error_description"]
    # A secret-only client cannot switch to a key it never registered.
    keyed_claims = claims_for(harness, "confidential")
    answer = await authenticate(harness, sign(ec_key, "ES256", keyed_claims))
    assert_error(answer, "invalid_client")
    assert "private_key_jwt" in answer.json()["error_description"]


async def test_an_assertion_with_basic_too_is_refused(harness: Harness, ec_key: ECKey) -> None:
    register_key_client(harness, ec_key)
    answer = await harness.token(
        {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": sign(ec_key, "ES256", claims_for(harness, "keyed")),
        },
        auth=("confidential", CONFIDENTIAL_SECRET),
    )
    assert_error(answer, "invalid_request")


# --- the JWT bearer grant (RFC 7523 §2.1) --------------------------------------------


def trust(harness: Harness, key: Any, issuer: str = "https://idp.example") -> str:
    harness.config.trusted_issuers[issuer] = {"keys": [key.as_dict(private=False)]}
    return issuer


def grant_claims(harness: Harness, issuer: str, **overrides: Any) -> dict[str, Any]:
    now = int(harness.clock.now)
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": "carol",
        "aud": harness.issuer,
        "exp": now + 300,
        "iat": now,
    }
    claims.update(overrides)
    return claims


async def bearer_grant(harness: Harness, assertion: str | None, **extra: str) -> Answer:
    form = {"grant_type": JWT_BEARER} | extra
    if assertion is not None:
        form["assertion"] = assertion
    return await harness.confidential_token(form)


async def test_jwt_bearer_issues_a_token_for_the_assertions_subject(
    harness: Harness, rsa_key: RSAKey
) -> None:
    issuer = trust(harness, rsa_key)
    assertion = sign(rsa_key, "RS256", grant_claims(harness, issuer))
    answer = await bearer_grant(harness, assertion, scope="read")
    assert answer.status == 200, answer.body
    fields = answer.json()
    assert "refresh_token" not in fields  # the assertion is presented again instead
    token = harness.config.tokens[fields["access_token"]]
    assert (token.subject, token.client_id, token.scope) == ("carol", "confidential", "read")
    # Unlike client assertions, the same grant assertion may be presented again.
    assert (await bearer_grant(harness, assertion)).status == 200


async def test_jwt_bearer_accepts_an_issuer_sharing_a_secret(harness: Harness) -> None:
    key = OctKey.import_key(b"a-shared-secret-of-enough-length")
    harness.config.trusted_issuers["hmac-issuer"] = key.as_dict(private=True)
    assertion = sign(key, "HS256", grant_claims(harness, "hmac-issuer"))
    assert (await bearer_grant(harness, assertion)).status == 200


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("untrusted", "not trusted"),
        ("issuer-not-a-string", "not trusted"),
        ("expired", "expired"),
        ("audience", "aud"),
        ("no-subject", "sub"),
        ("other-key", "signature"),
    ],
)
async def test_jwt_bearer_refuses_bad_assertions_with_invalid_grant(
    harness: Harness, rsa_key: RSAKey, ec_key: ECKey, case: str, reason: str
) -> None:
    issuer = trust(harness, rsa_key)
    key, overrides = rsa_key, {}
    if case == "untrusted":
        overrides = {"iss": "https://stranger.example"}
    elif case == "issuer-not-a-string":
        overrides = {"iss": 42}
    elif case == "expired":
        overrides = {"exp": int(harness.clock.now) - 1}
    elif case == "audience":
        overrides = {"aud": "https://elsewhere.example"}
    elif case == "no-subject":
        overrides = {"sub": ""}
    else:
        trust(harness, ec_key)
        key, overrides = ec_key, {}
        harness.config.trusted_issuers[issuer] = rsa_key.as_dict(private=False)
    algorithm = "ES256" if key is ec_key else "RS256"
    answer = await bearer_grant(
        harness, sign(key, algorithm, grant_claims(harness, issuer, **overrides))
    )
    assert_error(answer, "invalid_grant")
    assert reason in answer.json()["error_description"]


async def test_jwt_bearer_needs_an_assertion(harness: Harness) -> None:
    assert_error(await bearer_grant(harness, None), "invalid_request")


# --- token exchange (RFC 8693) -------------------------------------------------------


async def _user_tokens(harness: Harness, scope: str = "read write") -> dict[str, Any]:
    answer = await harness.confidential_token(
        {"grant_type": "password", "username": "alice", "password": "wonderland", "scope": scope}
    )
    fields: dict[str, Any] = answer.json()
    return fields


async def exchange(harness: Harness, form: dict[str, str] | list[tuple[str, str]]) -> Answer:
    pairs = list(form.items()) if isinstance(form, dict) else form
    return await harness.post(
        "/token",
        [("grant_type", TOKEN_EXCHANGE), *pairs],
        auth=("confidential", CONFIDENTIAL_SECRET),
    )


async def test_token_exchange_issues_a_token_for_the_subject_with_audience_and_actor(
    harness: Harness,
) -> None:
    user = await _user_tokens(harness)
    service = (await harness.confidential_token({"grant_type": "client_credentials"})).json()
    answer = await exchange(
        harness,
        [
            ("subject_token", user["access_token"]),
            ("subject_token_type", ACCESS_TOKEN_TYPE),
            ("actor_token", service["access_token"]),
            ("actor_token_type", ACCESS_TOKEN_TYPE),
            ("audience", "https://api.example"),
            ("resource", "https://api.example/v1"),
            ("resource", "https://api.example/v2"),
            ("scope", "read"),
        ],
    )
    assert answer.status == 200, answer.body
    fields = answer.json()
    assert fields["issued_token_type"] == ACCESS_TOKEN_TYPE
    assert fields["token_type"] == "Bearer"
    assert fields["scope"] == "read"
    assert "refresh_token" not in fields
    introspected = await harness.post(
        "/introspect",
        {"token": fields["access_token"]},
        auth=("confidential", CONFIDENTIAL_SECRET),
    )
    description = introspected.json()
    assert description["sub"] == "alice"
    assert description["act"] == {"sub": "confidential"}
    assert description["aud"] == [
        "https://api.example",
        "https://api.example/v1",
        "https://api.example/v2",
    ]


async def test_token_exchange_accepts_refresh_tokens_and_trusted_jwts(
    harness: Harness, ec_key: ECKey
) -> None:
    user = await _user_tokens(harness)
    from_refresh = await exchange(
        harness, {"subject_token": user["refresh_token"], "subject_token_type": REFRESH_TOKEN_TYPE}
    )
    assert from_refresh.json()["scope"] == "read write"  # the subject's scope by default
    issuer = trust(harness, ec_key)
    subject_jwt = sign(ec_key, "ES256", grant_claims(harness, issuer, sub="dave"))
    from_jwt = await exchange(
        harness, {"subject_token": subject_jwt, "subject_token_type": JWT_TYPE}
    )
    assert from_jwt.status == 200, from_jwt.body
    assert harness.config.tokens[from_jwt.json()["access_token"]].subject == "dave"


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("missing-subject", "invalid_request"),
        ("unknown-subject", "invalid_request"),
        ("wrong-type", "invalid_request"),
        ("expired-subject", "invalid_request"),
        ("unsupported-type", "invalid_request"),
        ("bad-jwt", "invalid_request"),
        ("actor-without-type", "invalid_request"),
        ("type-without-actor", "invalid_request"),
        ("refresh-requested", "invalid_request"),
        ("wider-scope", "invalid_scope"),
        ("audience-refused", "invalid_target"),
    ],
)
async def test_token_exchange_refuses_what_rfc_8693_refuses(
    harness: Harness, case: str, error: str
) -> None:
    user = await _user_tokens(harness, "read")
    form = {"subject_token": user["access_token"], "subject_token_type": ACCESS_TOKEN_TYPE}
    if case == "missing-subject":
        del form["subject_token"]
    elif case == "unknown-subject":
        form["subject_token"] = "unknown"
    elif case == "wrong-type":
        form["subject_token_type"] = REFRESH_TOKEN_TYPE
    elif case == "expired-subject":
        harness.clock.advance(3600)
    elif case == "unsupported-type":
        form["subject_token_type"] = "urn:ietf:params:oauth:token-type:saml2"
    elif case == "bad-jwt":
        form["subject_token_type"] = JWT_TYPE
    elif case == "actor-without-type":
        form["actor_token"] = user["access_token"]
    elif case == "type-without-actor":
        form["actor_token_type"] = ACCESS_TOKEN_TYPE
    elif case == "refresh-requested":
        form["requested_token_type"] = REFRESH_TOKEN_TYPE
    elif case == "wider-scope":
        form["scope"] = "read write"
    else:
        harness.config.exchange_audiences = frozenset({"https://api.example"})
        assert (await exchange(harness, form | {"audience": "https://api.example"})).status == 200
        form["audience"] = "https://evil.example"
    assert_error(await exchange(harness, form), error)
