"""Client authentication at the token endpoint, sans-IO (RFC 6749 §2.3.1, RFC 7523 §2.2).

Basic credentials are checked against values computed by hand; every JWT
assertion is decoded with joserfc and the matching public key (signature and
exact claims), and RS256 / ES256 / EdDSA signatures are verified once more
with cryptography alone, so a mistake shared by signer and verifier would show.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from joserfc import jwk, jwt
from joserfc.errors import SecurityWarning, UnsupportedAlgorithmError
from joserfc.jws import JWSRegistry

from aiohttp_auth.errors import ConfigurationError
from aiohttp_auth.oauth2 import ClientAuth, make_client_auth
from aiohttp_auth.oauth2.client_auth import ClientSecretBasic, NoClientAuth
from aiohttp_auth.oauth2.client_auth_jwt import CLIENT_ASSERTION_TYPE, PrivateKeyJWT
from aiohttp_auth.oauth2.jwt import JWTSigner

TOKEN_URL = "https://as.example.com/oauth2/token"
NOW = 1_700_000_000.75
SECRET = "a-client-secret-of-32-characters"


def pem_of(
    key: Any, fmt: serialization.PrivateFormat = serialization.PrivateFormat.PKCS8
) -> bytes:
    data: bytes = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
    return data


def public_pem_of(key: Any) -> bytes:
    data: bytes = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return data


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
# Too small on purpose: the signer must refuse it (RFC 7518 §3.3).
SMALL_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
P256_KEY = ec.generate_private_key(ec.SECP256R1())
P384_KEY = ec.generate_private_key(ec.SECP384R1())
P521_KEY = ec.generate_private_key(ec.SECP521R1())
ED25519_KEY = ed25519.Ed25519PrivateKey.generate()
ED448_KEY = ed448.Ed448PrivateKey.generate()


def jwk_of(key: Any, **members: str) -> dict[str, Any]:
    """The private JWK of a cryptography key, as a user would paste it."""
    kty = {
        rsa.RSAPrivateKey: "RSA",
        ec.EllipticCurvePrivateKey: "EC",
        ed25519.Ed25519PrivateKey: "OKP",
        ed448.Ed448PrivateKey: "OKP",
    }
    key_type = next(name for cls, name in kty.items() if isinstance(key, cls))
    with warnings.catch_warnings():
        # joserfc warns when importing the deliberately small RSA key of one case.
        warnings.simplefilter("ignore", SecurityWarning)
        imported = jwk.import_key(pem_of(key), key_type)  # type: ignore[call-overload]
    fields: dict[str, Any] = imported.as_dict(private=True)
    return {**fields, **members}


def decode(
    assertion: str, public_key: Any, algorithm: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Decode and verify *assertion* with joserfc; return its header and claims."""
    key = jwk.import_key(public_pem_of(public_key).decode(), _kty(public_key))  # type: ignore[call-overload]
    with warnings.catch_warnings():
        # joserfc's own verifier warns about "EdDSA" (RFC 9864); the signer does not.
        warnings.simplefilter("ignore", SecurityWarning)
        token = jwt.decode(assertion, key, registry=JWSRegistry(algorithms=[algorithm]))
    return dict(token.header), dict(token.claims)


def _kty(key: Any) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "EC"
    return "OKP"


def b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_with_cryptography(assertion: str, private_key: Any, algorithm: str) -> None:
    """Check the JWS signature (RFC 7515 §5.2) with cryptography alone."""
    header, payload, signature = assertion.split(".")
    signing_input = f"{header}.{payload}".encode()
    raw = b64url(signature)
    public = private_key.public_key()
    if algorithm == "RS256":
        public.verify(raw, signing_input, padding.PKCS1v15(), hashes.SHA256())
    elif algorithm == "ES256":
        # RFC 7518 §3.4: R || S, 32 bytes each, not DER.
        der = encode_dss_signature(
            int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
        )
        public.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
    else:
        public.verify(raw, signing_input)


def apply(auth: ClientAuth, jti: str = "jti-1") -> tuple[dict[str, str], dict[str, str]]:
    form: dict[str, str] = {"grant_type": "client_credentials"}
    headers: dict[str, str] = {}
    auth.apply(form, headers, token_url=TOKEN_URL, now=NOW, jti=jti)
    return form, headers


# (name, client_id, client_secret, the form-urlencoded "id:secret" written out by hand, header)
BASIC_CASES = [
    (
        "rfc6749-2.3.1-example",
        "s6BhdRkqt3",
        "gX1fBat3bV",
        "s6BhdRkqt3:gX1fBat3bV",
        "Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW",
    ),
    (
        "colon_percent_space_non_ascii",
        "my client:1",
        "p%ss wörd+",
        "my+client%3A1:p%25ss+w%C3%B6rd%2B",
        "Basic bXkrY2xpZW50JTNBMTpwJTI1c3MrdyVDMyVCNnJkJTJC",
    ),
    (
        "slash_ampersand_equals",
        "app/1",
        "a&b=c",
        "app%2F1:a%26b%3Dc",
        "Basic YXBwJTJGMTphJTI2YiUzRGM=",
    ),
    ("unreserved_kept", "A-z_0.9~", "*", "A-z_0.9~:%2A", "Basic QS16XzAuOX46JTJB"),
]


@pytest.mark.parametrize(
    ("client_id", "client_secret", "credentials", "header"),
    [case[1:] for case in BASIC_CASES],
    ids=[case[0] for case in BASIC_CASES],
)
def test_client_secret_basic_form_urlencodes_before_base64(
    client_id: str, client_secret: str, credentials: str, header: str
) -> None:
    form, headers = apply(make_client_auth("client_secret_basic", client_id, client_secret))
    assert headers == {"Authorization": header}
    assert base64.b64decode(header.removeprefix("Basic ")).decode("ascii") == credentials
    # A conforming server decodes both halves back (RFC 6749 §2.3.1).
    user, _, password = credentials.partition(":")
    assert (unquote_plus(user), unquote_plus(password)) == (client_id, client_secret)
    assert form == {"grant_type": "client_credentials"}


def test_client_secret_post_puts_id_and_secret_in_the_form() -> None:
    form, headers = apply(make_client_auth("client_secret_post", "cid", "s3cr3t"))
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "cid",
        "client_secret": "s3cr3t",
    }
    assert headers == {}


@pytest.mark.parametrize("method", ["none", "tls_client_auth", "self_signed_tls_client_auth"])
def test_public_and_mutual_tls_clients_send_only_client_id(method: str) -> None:
    auth = make_client_auth(method, "cid", None)
    form, headers = apply(auth)
    assert form == {"grant_type": "client_credentials", "client_id": "cid"}
    assert headers == {}
    assert auth.method == method
    assert isinstance(auth, NoClientAuth)


def assertion_form(form: dict[str, str]) -> str:
    assert form["client_assertion_type"] == CLIENT_ASSERTION_TYPE
    assert form["client_id"] == "cid"
    return form["client_assertion"]


def expected_claims(audience: str = TOKEN_URL, jti: str = "jti-1") -> dict[str, Any]:
    return {
        "iss": "cid",
        "sub": "cid",
        "aud": audience,
        "iat": 1_700_000_000,
        "exp": 1_700_000_060,
        "jti": jti,
    }


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_client_secret_jwt_signs_with_the_secret(algorithm: str) -> None:
    auth = make_client_auth("client_secret_jwt", "cid", SECRET, signing_alg=algorithm, key_id="k1")
    form, headers = apply(auth)
    key = jwk.import_key(SECRET.encode(), "oct")
    token = jwt.decode(assertion_form(form), key, algorithms=[algorithm])
    assert token.header == {"typ": "JWT", "alg": algorithm, "kid": "k1"}
    assert token.claims == expected_claims()
    assert headers == {}


def test_client_secret_jwt_defaults_to_hs256_and_token_url_audience() -> None:
    form, _ = apply(make_client_auth("client_secret_jwt", "cid", SECRET))
    token = jwt.decode(assertion_form(form), jwk.import_key(SECRET.encode(), "oct"))
    assert token.header == {"typ": "JWT", "alg": "HS256"}
    assert token.claims["aud"] == TOKEN_URL


# (name, key as given, the cryptography key, signing_alg, expected alg)
PRIVATE_KEY_CASES: list[tuple[str, Callable[[], Any], Any, str | None, str]] = [
    ("rsa_pkcs8_pem_bytes_default_rs256", lambda: pem_of(RSA_KEY), RSA_KEY, None, "RS256"),
    (
        "rsa_pkcs1_pem_text_ps256",
        lambda: pem_of(RSA_KEY, serialization.PrivateFormat.TraditionalOpenSSL).decode(),
        RSA_KEY,
        "PS256",
        "PS256",
    ),
    ("rsa_rs512", lambda: pem_of(RSA_KEY), RSA_KEY, "RS512", "RS512"),
    ("rsa_jwk", lambda: jwk_of(RSA_KEY), RSA_KEY, "RS384", "RS384"),
    ("p256_pem_default_es256", lambda: pem_of(P256_KEY), P256_KEY, None, "ES256"),
    (
        "p256_sec1_pem",
        lambda: pem_of(P256_KEY, serialization.PrivateFormat.TraditionalOpenSSL),
        P256_KEY,
        "ES256",
        "ES256",
    ),
    ("p384_jwk_default_es384", lambda: jwk_of(P384_KEY), P384_KEY, None, "ES384"),
    ("p521_pem_default_es512", lambda: pem_of(P521_KEY), P521_KEY, None, "ES512"),
    ("ed25519_pem_default_eddsa", lambda: pem_of(ED25519_KEY), ED25519_KEY, None, "EdDSA"),
    ("ed25519_fully_specified", lambda: pem_of(ED25519_KEY), ED25519_KEY, "Ed25519", "Ed25519"),
    ("ed448_jwk_default_eddsa", lambda: jwk_of(ED448_KEY), ED448_KEY, None, "EdDSA"),
    ("jwk_alg_member_used", lambda: jwk_of(RSA_KEY, alg="PS384"), RSA_KEY, None, "PS384"),
    ("jwk_as_json_text", lambda: json.dumps(jwk_of(P256_KEY)), P256_KEY, None, "ES256"),
]


@pytest.mark.parametrize(
    ("make_key", "crypto_key", "signing_alg", "algorithm"),
    [case[1:] for case in PRIVATE_KEY_CASES],
    ids=[case[0] for case in PRIVATE_KEY_CASES],
)
def test_private_key_jwt_assertion_verifies_with_the_public_key(
    make_key: Callable[[], Any], crypto_key: Any, signing_alg: str | None, algorithm: str
) -> None:
    auth = make_client_auth(
        "private_key_jwt", "cid", None, private_key=make_key(), signing_alg=signing_alg
    )
    form, headers = apply(auth, jti="jti-7")
    header, claims = decode(assertion_form(form), crypto_key, algorithm)
    assert header == {"typ": "JWT", "alg": algorithm}
    assert claims == expected_claims(jti="jti-7")
    assert headers == {}
    assert repr(auth) == (
        f"PrivateKeyJWT(client_id='cid', signing_alg='{algorithm}', key_id=None, audience=None)"
    )


@pytest.mark.parametrize(
    ("crypto_key", "algorithm"),
    [(RSA_KEY, "RS256"), (P256_KEY, "ES256"), (ED25519_KEY, "EdDSA")],
    ids=["RS256", "ES256", "EdDSA"],
)
def test_signatures_verify_with_cryptography_alone(crypto_key: Any, algorithm: str) -> None:
    form, _ = apply(
        make_client_auth("private_key_jwt", "cid", None, private_key=pem_of(crypto_key))
    )
    verify_with_cryptography(assertion_form(form), crypto_key, algorithm)


def test_private_key_jwt_kid_and_audience() -> None:
    auth = make_client_auth(
        "private_key_jwt",
        "cid",
        None,
        private_key=pem_of(P256_KEY),
        key_id="key-2024",
        audience="https://as.example.com",
    )
    form, _ = apply(auth)
    header, claims = decode(assertion_form(form), P256_KEY, "ES256")
    assert header == {"typ": "JWT", "alg": "ES256", "kid": "key-2024"}
    assert claims == expected_claims(audience="https://as.example.com")


def test_private_key_jwt_takes_kid_from_the_jwk_unless_given() -> None:
    key = jwk_of(P256_KEY, kid="from-jwk")
    form, _ = apply(make_client_auth("private_key_jwt", "cid", None, private_key=key))
    assert decode(assertion_form(form), P256_KEY, "ES256")[0]["kid"] == "from-jwk"
    auth = make_client_auth("private_key_jwt", "cid", None, private_key=key, key_id="mine")
    assert decode(assertion_form(apply(auth)[0]), P256_KEY, "ES256")[0]["kid"] == "mine"


def test_each_assertion_carries_its_own_time_and_jti() -> None:
    auth = make_client_auth("client_secret_jwt", "cid", SECRET)
    form: dict[str, str] = {}
    auth.apply(form, {}, token_url=TOKEN_URL, now=2_000_000_000, jti="second")
    claims = jwt.decode(form["client_assertion"], jwk.import_key(SECRET.encode(), "oct")).claims
    assert (claims["iat"], claims["exp"], claims["jti"]) == (
        2_000_000_000,
        2_000_000_060,
        "second",
    )


def encrypted_pem() -> bytes:
    return P256_KEY.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )


def certificate_like() -> str:
    return "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


# (name, make_client_auth arguments, words the ConfigurationError must contain)
CONFIGURATION_CASES: list[tuple[str, Callable[[], dict[str, Any]], str]] = [
    (
        "unknown_method",
        lambda: {"method": "client_secret_jwks", "client_secret": SECRET},
        "unknown method 'client_secret_jwks'",
    ),
    (
        "empty_client_id",
        lambda: {"method": "none", "client_id": ""},
        "client_id: expected a non-empty string",
    ),
    ("client_id_not_str", lambda: {"method": "none", "client_id": 5}, "client_id"),
    (
        "basic_without_secret",
        lambda: {"method": "client_secret_basic"},
        "client_secret_basic needs the client secret",
    ),
    ("post_without_secret", lambda: {"method": "client_secret_post"}, "client_secret_post needs"),
    ("jwt_without_secret", lambda: {"method": "client_secret_jwt"}, "client_secret_jwt needs"),
    (
        "empty_secret",
        lambda: {"method": "client_secret_basic", "client_secret": ""},
        "client_secret: expected a non-empty string",
    ),
    (
        "secret_not_str",
        lambda: {"method": "client_secret_basic", "client_secret": b"x"},
        "client_secret: expected",
    ),
    (
        "private_key_jwt_without_key",
        lambda: {"method": "private_key_jwt"},
        "private_key_jwt needs the client's private key",
    ),
    (
        "private_key_with_basic",
        lambda: {
            "method": "client_secret_basic",
            "client_secret": SECRET,
            "private_key": pem_of(P256_KEY),
        },
        "private_key: used only by client_auth='private_key_jwt'",
    ),
    (
        "secret_with_none",
        lambda: {"method": "none", "client_secret": SECRET},
        "client_secret: not used by client_auth='none'",
    ),
    (
        "secret_with_private_key_jwt",
        lambda: {
            "method": "private_key_jwt",
            "client_secret": SECRET,
            "private_key": pem_of(P256_KEY),
        },
        "not used by client_auth='private_key_jwt'",
    ),
    (
        "key_id_with_basic",
        lambda: {"method": "client_secret_basic", "client_secret": SECRET, "key_id": "k"},
        "key_id: used only by the JWT methods",
    ),
    (
        "audience_with_post",
        lambda: {"method": "client_secret_post", "client_secret": SECRET, "audience": "x"},
        "extra_params={'audience': ...}",
    ),
    (
        "signing_alg_with_none",
        lambda: {"method": "none", "signing_alg": "RS256"},
        "signing_alg: used only by the JWT methods",
    ),
    (
        "empty_key_id",
        lambda: {"method": "private_key_jwt", "private_key": pem_of(P256_KEY), "key_id": ""},
        "key_id: expected a non-empty string",
    ),
    (
        "short_hmac_secret",
        lambda: {"method": "client_secret_jwt", "client_secret": "short"},
        "5 bytes is too short",
    ),
    (
        "key_as_hmac_secret",
        lambda: {"method": "client_secret_jwt", "client_secret": public_pem_of(P256_KEY).decode()},
        "client_secret: looks like a PEM or SSH key",
    ),
    (
        "rsa_alg_for_client_secret_jwt",
        lambda: {"method": "client_secret_jwt", "client_secret": SECRET, "signing_alg": "RS256"},
        "'RS256' is not an HMAC algorithm",
    ),
    (
        "public_key_pem",
        lambda: {"method": "private_key_jwt", "private_key": public_pem_of(P256_KEY)},
        "is a public key or certificate",
    ),
    (
        "certificate",
        lambda: {"method": "private_key_jwt", "private_key": certificate_like()},
        "is a public key or certificate",
    ),
    (
        "garbage_pem",
        lambda: {
            "method": "private_key_jwt",
            "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        },
        "cannot be read as a PEM private key",
    ),
    (
        "not_pem_at_all",
        lambda: {"method": "private_key_jwt", "private_key": "my-secret-key"},
        "cannot be read as a PEM private key",
    ),
    (
        "encrypted_pem",
        lambda: {"method": "private_key_jwt", "private_key": encrypted_pem()},
        "the PEM key is encrypted",
    ),
    (
        "dsa_key",
        lambda: {
            "method": "private_key_jwt",
            "private_key": pem_of(dsa.generate_private_key(2048)),
        },
        "a DSAPrivateKey cannot sign a JWT",
    ),
    (
        "x25519_key",
        lambda: {
            "method": "private_key_jwt",
            "private_key": pem_of(x25519.X25519PrivateKey.generate()),
        },
        "X25519PrivateKey cannot sign",
    ),
    (
        "secp256k1_pem",
        lambda: {
            "method": "private_key_jwt",
            "private_key": pem_of(ec.generate_private_key(ec.SECP256K1())),
        },
        "curve 'secp256k1' cannot sign",
    ),
    (
        "rsa_1024_pem",
        lambda: {
            "method": "private_key_jwt",
            "private_key": pem_of(SMALL_RSA_KEY),
        },
        "a 1024-bit RSA key is too small",
    ),
    (
        "rsa_1024_jwk",
        lambda: {
            "method": "private_key_jwt",
            "private_key": jwk_of(SMALL_RSA_KEY),
        },
        "a 1024-bit RSA key is too small",
    ),
    (
        "rsa_key_es256",
        lambda: {
            "method": "private_key_jwt",
            "private_key": pem_of(RSA_KEY),
            "signing_alg": "ES256",
        },
        "RSA keys cannot sign with 'ES256'; use RS256, RS384",
    ),
    (
        "p256_key_es384",
        lambda: {
            "method": "private_key_jwt",
            "private_key": pem_of(P256_KEY),
            "signing_alg": "ES384",
        },
        "cannot sign with 'ES384'; use ES256",
    ),
    (
        "p256_key_rs256",
        lambda: {
            "method": "private_key_jwt",
            "private_key": jwk_of(P256_KEY),
            "signing_alg": "RS256",
        },
        "EC keys cannot sign with 'RS256'",
    ),
    (
        "ed25519_key_hs256",
        lambda: {
            "method": "private_key_jwt",
            "private_key": pem_of(ED25519_KEY),
            "signing_alg": "HS256",
        },
        "use EdDSA, Ed25519",
    ),
    (
        "ed448_key_ed25519_alg",
        lambda: {
            "method": "private_key_jwt",
            "private_key": pem_of(ED448_KEY),
            "signing_alg": "Ed25519",
        },
        "use EdDSA, Ed448",
    ),
    (
        "oct_jwk",
        lambda: {
            "method": "private_key_jwt",
            "private_key": {"kty": "oct", "k": "c2hvcnQ"},
        },
        "symmetric (oct) key",
    ),
    (
        "public_jwk",
        lambda: {
            "method": "private_key_jwt",
            "private_key": jwk.import_key(pem_of(P256_KEY), "EC").as_dict(private=False),
        },
        "is a public key; pass the private key",
    ),
    (
        "incomplete_jwk",
        lambda: {
            "method": "private_key_jwt",
            "private_key": {k: v for k, v in jwk_of(RSA_KEY).items() if k != "e"},
        },
        "not a usable JWK",
    ),
    (
        "tiny_rsa_jwk",
        lambda: {
            "method": "private_key_jwt",
            "private_key": {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        },
        "a 17-bit RSA key is too small",
    ),
    (
        "unknown_kty_jwk",
        lambda: {"method": "private_key_jwt", "private_key": {"kty": "XYZ"}},
        "not a usable JWK",
    ),
    (
        "unknown_curve_jwk",
        lambda: {
            "method": "private_key_jwt",
            "private_key": {"kty": "EC", "crv": "P-999", "x": "AA", "y": "AA", "d": "AA"},
        },
        "not a usable JWK",
    ),
    (
        "rsa_jwk_bad_modulus",
        lambda: {
            "method": "private_key_jwt",
            "private_key": {"kty": "RSA", "n": "é", "e": "AQAB", "d": "AA"},
        },
        "not a usable JWK",
    ),
    (
        "secp256k1_jwk",
        lambda: {
            "method": "private_key_jwt",
            "private_key": jwk_of(ec.generate_private_key(ec.SECP256K1())),
        },
        "EC keys on curve 'secp256k1' cannot sign",
    ),
    (
        "x25519_jwk",
        lambda: {
            "method": "private_key_jwt",
            "private_key": jwk.generate_key("OKP", "X25519").as_dict(private=True),
        },
        "OKP keys on curve 'X25519' cannot sign",
    ),
    (
        "jwk_for_encryption_only",
        lambda: {"method": "private_key_jwt", "private_key": jwk_of(P256_KEY, use="enc")},
        "check the key's use/key_ops",
    ),
    (
        "jwk_json_text_broken",
        lambda: {"method": "private_key_jwt", "private_key": '{"kty": "EC",'},
        "looks like a JWK but is not valid JSON",
    ),
    (
        "key_of_wrong_type",
        lambda: {"method": "private_key_jwt", "private_key": 42},
        "expected PEM text or bytes, or a JWK dict, got int",
    ),
]


@pytest.mark.parametrize(
    ("make_arguments", "words"),
    [case[1:] for case in CONFIGURATION_CASES],
    ids=[case[0] for case in CONFIGURATION_CASES],
)
def test_wrong_combinations_fail_at_construction(
    make_arguments: Callable[[], dict[str, Any]], words: str
) -> None:
    arguments = {"client_id": "cid", "client_secret": None, **make_arguments()}
    method = arguments.pop("method")
    with pytest.raises(ConfigurationError) as caught:
        make_client_auth(method, **arguments)
    assert words in str(caught.value)


def test_error_messages_never_show_the_key_or_secret() -> None:
    pem = pem_of(SMALL_RSA_KEY).decode()
    for arguments in (
        {"method": "private_key_jwt", "private_key": pem, "client_secret": None},
        {"method": "private_key_jwt", "private_key": pem[:200], "client_secret": None},
        {"method": "client_secret_jwt", "client_secret": "tiny-secret"},
    ):
        method = arguments.pop("method")
        with pytest.raises(ConfigurationError) as caught:
            make_client_auth(method, "cid", **arguments)
        message = str(caught.value)
        assert pem[40:80] not in message
        assert "tiny-secret" not in message


@pytest.mark.parametrize(
    ("auth", "shown"),
    [
        (
            lambda: make_client_auth("client_secret_basic", "cid", SECRET),
            "ClientSecretBasic(client_id='cid', client_secret=<redacted 32 chars>)",
        ),
        (
            lambda: make_client_auth("client_secret_post", "cid", SECRET),
            "ClientSecretPost(client_id='cid', client_secret=<redacted 32 chars>)",
        ),
        (
            lambda: make_client_auth("client_secret_jwt", "cid", SECRET, audience="https://as"),
            "ClientSecretJWT(client_id='cid', signing_alg='HS256', key_id=None, audience='https://as')",
        ),
        (
            lambda: make_client_auth("none", "cid", None),
            "NoClientAuth(client_id='cid', method='none')",
        ),
    ],
    ids=["basic", "post", "jwt", "none"],
)
def test_repr_shows_no_secret(auth: Callable[[], ClientAuth], shown: str) -> None:
    assert repr(auth()) == shown


def test_signer_repr_and_registry_allow_only_its_algorithm() -> None:
    signer = JWTSigner.from_private_key(pem_of(P256_KEY), key_id="k")
    assert repr(signer) == "JWTSigner(algorithm='ES256', key_id='k')"
    # joserfc asks the registry for the header's algorithm only; anything else is refused.
    with pytest.raises(UnsupportedAlgorithmError):
        signer._registry.get_alg("HS256")


def test_eddsa_signing_raises_no_deprecation_warning() -> None:
    # pytest turns warnings into errors; joserfc warns on "EdDSA" unless the
    # signer's registry answers for the chosen algorithm itself.
    auth = make_client_auth("private_key_jwt", "cid", None, private_key=pem_of(ED25519_KEY))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        apply(auth)


def test_client_auth_classes_can_be_built_directly() -> None:
    basic = ClientSecretBasic("cid", SECRET)
    assert (basic.client_id, basic.method) == ("cid", "client_secret_basic")
    signed = PrivateKeyJWT("cid", pem_of(P256_KEY), signing_alg="ES256")
    assert signed.signer.algorithm == "ES256"


def test_importing_the_oauth2_package_loads_no_jose_or_cryptography() -> None:
    code = (
        "import sys, aiohttp_auth, aiohttp_auth.oauth2 as o\n"
        "g = o.ClientCredentials('https://as.example.com/t', 'cid', 'secret')\n"
        "g.token_request(now=0.0, jti='j')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('joserfc', 'authlib', 'cryptography'))\n"
        "print(loaded)\n"
    )
    result = subprocess.run(  # noqa: S603 - our interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
