"""Signature algorithms (RFC 9421 §3.3) and the keys each one accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from aiohttp_auth.errors import ConfigurationError, SigningError
from aiohttp_auth.signing.httpsig_algorithms import (
    ALGORITHMS,
    algorithm_for_key,
    choose_algorithm,
    load_signing_key,
    load_verifying_key,
)
from aiohttp_auth.signing.httpsig_keys import describe_key, load_pem_public

KEYS = Path(__file__).parent / "vectors" / "rfc9421" / "keys"
BASE = b'"@method": POST\n"@signature-params": ("@method");created=1'


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    """Return one private key of each kind, generated for this module."""
    return {
        "hmac-sha256": b"s" * 32,
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
        "ecdsa-p256-sha256": ec.generate_private_key(ec.SECP256R1()),
        "ecdsa-p384-sha384": ec.generate_private_key(ec.SECP384R1()),
        "rsa-pss-sha512": rsa.generate_private_key(65537, 2048),
        "rsa-v1_5-sha256": rsa.generate_private_key(65537, 2048),
    }


def public(key: Any) -> Any:
    return key if isinstance(key, bytes) else key.public_key()


def pem(key: Any) -> bytes:
    if hasattr(key, "private_bytes"):
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


SIZES = {
    "hmac-sha256": 32,
    "ed25519": 64,
    "ecdsa-p256-sha256": 64,
    "ecdsa-p384-sha384": 96,
    "rsa-pss-sha512": 256,
    "rsa-v1_5-sha256": 256,
}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_signature_verifies_and_has_the_rfc_size(algorithm: str, keys: dict[str, Any]) -> None:
    signature = load_signing_key(algorithm, keys[algorithm])(BASE)
    assert len(signature) == SIZES[algorithm]  # ECDSA: r || s, not DER (§3.3.4)
    verify = load_verifying_key(algorithm, public(keys[algorithm]))
    assert verify(signature, BASE)
    assert not verify(signature, BASE + b" ")


@pytest.mark.parametrize("algorithm", [a for a in ALGORITHMS if a != "hmac-sha256"])
def test_pem_keys_sign_and_verify(algorithm: str, keys: dict[str, Any]) -> None:
    key = keys[algorithm]
    signature = load_signing_key(algorithm, pem(key).decode())(BASE)
    assert load_verifying_key(algorithm, pem(key.public_key()))(signature, BASE)
    # A private key verifies too, with its public half.
    assert load_verifying_key(algorithm, key)(signature, BASE)
    assert load_verifying_key(algorithm, pem(key))(signature, BASE)


@pytest.mark.parametrize("algorithm", ["ecdsa-p256-sha256", "ecdsa-p384-sha384"])
@pytest.mark.parametrize("length_change", [-1, 1])
def test_ecdsa_signature_of_the_wrong_length_is_invalid(
    algorithm: str, length_change: int, keys: dict[str, Any]
) -> None:
    signature = load_signing_key(algorithm, keys[algorithm])(BASE)
    changed = signature[:length_change] if length_change < 0 else signature + b"\0"
    assert not load_verifying_key(algorithm, public(keys[algorithm]))(changed, BASE)


def test_rsa_pss_uses_sha512_and_a_64_byte_salt(keys: dict[str, Any]) -> None:
    # RFC 9421 §3.3.1; the RFC's own key (B.1.2) is an RSASSA-PSS key.
    key = serialization.load_pem_private_key((KEYS / "test-key-rsa-pss.key").read_bytes(), None)
    signature = load_signing_key("rsa-pss-sha512", key)(BASE)  # type: ignore[arg-type]
    assert load_verifying_key("rsa-pss-sha512", (KEYS / "test-key-rsa-pss.pem").read_bytes())(
        signature, BASE
    )
    assert not load_verifying_key("rsa-v1_5-sha256", key.public_key())(signature, BASE)  # type: ignore[arg-type]


def test_pkcs1_rsa_public_key_pem_is_read() -> None:
    key = load_pem_public((KEYS / "test-key-rsa.pem").read_bytes())
    assert isinstance(key, rsa.RSAPublicKey)


WRONG_PAIRS = [
    ("ed25519", "ecdsa-p256-sha256", "needs an Ed25519 key, got an EC private key on secp256r1"),
    (
        "ecdsa-p256-sha256",
        "ed25519",
        "needs an EC key on curve P-256 (secp256r1), got an Ed25519 private key",
    ),
    (
        "ecdsa-p256-sha256",
        "ecdsa-p384-sha384",
        "needs an EC key on curve P-256 (secp256r1), got an EC private key on secp384r1",
    ),
    (
        "ecdsa-p384-sha384",
        "ecdsa-p256-sha256",
        "needs an EC key on curve P-384 (secp384r1), got an EC private key on secp256r1",
    ),
    ("rsa-pss-sha512", "ed25519", "needs an RSA key, got an Ed25519 private key"),
    (
        "rsa-v1_5-sha256",
        "ecdsa-p384-sha384",
        "needs an RSA key, got an EC private key on secp384r1",
    ),
    ("hmac-sha256", "ed25519", "needs a shared secret as bytes, got an Ed25519 private key"),
    ("ed25519", "hmac-sha256", "needs an Ed25519 key, got 32 bytes"),
]


@pytest.mark.parametrize(("algorithm", "key_of", "message"), WRONG_PAIRS)
def test_wrong_key_for_an_algorithm_names_both(
    algorithm: str, key_of: str, message: str, keys: dict[str, Any]
) -> None:
    with pytest.raises(
        ConfigurationError,
        match=f"algorithm '{algorithm}' {message}".replace("(", r"\(").replace(")", r"\)"),
    ):
        load_signing_key(algorithm, keys[key_of])
    with pytest.raises(ConfigurationError, match=f"algorithm '{algorithm}'"):
        load_verifying_key(algorithm, public(keys[key_of]))


def test_public_key_cannot_sign(keys: dict[str, Any]) -> None:
    with pytest.raises(
        ConfigurationError, match="needs an Ed25519 key, got an Ed25519 public key"
    ):
        load_signing_key("ed25519", keys["ed25519"].public_key())


def test_pem_public_key_is_never_an_hmac_secret_for_a_signer(keys: dict[str, Any]) -> None:
    # A PEM string is text, never the secret bytes of HMAC.
    with pytest.raises(
        ConfigurationError, match="needs a shared secret as bytes, got a PEM string"
    ):
        load_signing_key("hmac-sha256", pem(keys["ed25519"].public_key()).decode())


@pytest.mark.parametrize("secret", [b"", bytearray()])
def test_empty_hmac_secret_is_refused(secret: bytes) -> None:
    with pytest.raises(ConfigurationError, match="the HMAC secret is empty"):
        load_signing_key("hmac-sha256", secret)


def test_hmac_secret_may_be_a_bytearray() -> None:
    signature = load_signing_key("hmac-sha256", bytearray(b"k" * 32))(BASE)
    assert load_verifying_key("hmac-sha256", b"k" * 32)(signature, BASE)


@pytest.mark.parametrize("algorithm", ["hs2019", "rsa-sha256", "HMAC-SHA256", None])
def test_unknown_algorithm_is_refused(algorithm: Any) -> None:
    with pytest.raises(
        ConfigurationError, match="algorithm: expected one of hmac-sha256, ed25519"
    ):
        load_signing_key(algorithm, b"k")
    with pytest.raises(ConfigurationError, match="algorithm: expected one of"):
        load_verifying_key(algorithm, b"k")


def test_encrypted_pem_private_key_says_how_to_load_it(keys: dict[str, Any]) -> None:
    encrypted = keys["ed25519"].private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pass"),
    )
    with pytest.raises(ConfigurationError, match="encrypted; load it with cryptography"):
        load_signing_key("ed25519", encrypted)


@pytest.mark.parametrize(
    "text",
    ["-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n", "no pem at all"],
)
def test_unreadable_pem_private_key_is_refused(text: str) -> None:
    with pytest.raises(ConfigurationError, match="not a private key that cryptography can read"):
        load_signing_key("ed25519", text)


def test_unreadable_pem_public_key_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="not a public key that cryptography can read"):
        load_verifying_key(
            "ed25519", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
        )


def test_pem_keys_of_kinds_rfc9421_does_not_use_are_refused() -> None:
    ed448_key = ed448.Ed448PrivateKey.generate()
    with pytest.raises(ConfigurationError, match="is not usable with RFC 9421"):
        load_signing_key("ed25519", pem(ed448_key))
    with pytest.raises(ConfigurationError, match="is not usable with RFC 9421"):
        load_verifying_key("ed25519", pem(ed448_key.public_key()))


@pytest.mark.parametrize(
    ("key_of", "expected"),
    [
        ("hmac-sha256", "hmac-sha256"),
        ("ed25519", "ed25519"),
        ("ecdsa-p256-sha256", "ecdsa-p256-sha256"),
        ("ecdsa-p384-sha384", "ecdsa-p384-sha384"),
        ("rsa-pss-sha512", None),  # an RSA key serves two algorithms
    ],
)
def test_algorithm_for_key(key_of: str, expected: str | None, keys: dict[str, Any]) -> None:
    assert algorithm_for_key(public(keys[key_of])) == expected
    if key_of != "hmac-sha256":
        assert algorithm_for_key(pem(keys[key_of].public_key())) == expected


def test_algorithm_for_a_key_on_another_curve_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="has no RFC 9421 algorithm; use P-256 or P-384"):
        algorithm_for_key(ec.generate_private_key(ec.SECP521R1()).public_key())


def test_algorithm_for_something_that_is_not_a_key_is_refused() -> None:
    with pytest.raises(
        ConfigurationError,
        match="expected bytes, a PEM string or a cryptography key object, got an object of type",
    ):
        algorithm_for_key(7)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key_of", "pinned", "announced", "expected"),
    [
        ("ed25519", None, None, "ed25519"),
        ("ed25519", None, "ed25519", "ed25519"),
        ("ed25519", "ed25519", None, "ed25519"),
        ("rsa-pss-sha512", None, "rsa-pss-sha512", "rsa-pss-sha512"),
        ("rsa-pss-sha512", None, "rsa-v1_5-sha256", "rsa-v1_5-sha256"),
        ("rsa-pss-sha512", "rsa-v1_5-sha256", None, "rsa-v1_5-sha256"),
        ("hmac-sha256", None, "hmac-sha256", "hmac-sha256"),
    ],
)
def test_choose_algorithm(
    key_of: str, pinned: str | None, announced: str | None, expected: str, keys: dict[str, Any]
) -> None:
    chosen = choose_algorithm(
        public(keys[key_of]), pinned=pinned, announced=announced, label="sig1"
    )
    assert chosen == expected


@pytest.mark.parametrize(
    ("key_of", "pinned", "announced", "message"),
    [
        # The verifier's pin wins: alg from the message never replaces it.
        (
            "ed25519",
            "ed25519",
            "hmac-sha256",
            "announces alg='hmac-sha256' but this verifier accepts only 'ed25519'",
        ),
        # Without a pin, the key decides, and alg must agree with it.
        (
            "ed25519",
            None,
            "hmac-sha256",
            "announces alg='hmac-sha256' but the verification key is for 'ed25519'",
        ),
        (
            "hmac-sha256",
            None,
            "ed25519",
            "announces alg='ed25519' but the verification key is for 'hmac-sha256'",
        ),
        ("rsa-pss-sha512", None, None, "announces alg=None, which an RSA key cannot verify"),
        (
            "rsa-pss-sha512",
            None,
            "ed25519",
            "announces alg='ed25519', which an RSA key cannot verify",
        ),
        ("ed25519", None, 7, "its alg parameter is not a string"),
    ],
)
def test_choose_algorithm_refuses(
    key_of: str, pinned: str | None, announced: Any, message: str, keys: dict[str, Any]
) -> None:
    with pytest.raises(SigningError, match=message):
        choose_algorithm(public(keys[key_of]), pinned=pinned, announced=announced, label="sig1")


def test_pem_public_key_is_not_an_hmac_secret_for_a_verifier(keys: dict[str, Any]) -> None:
    # Algorithm confusion (RFC 9421 §7.3.5): a message announcing hmac-sha256 must
    # not get its HMAC checked with the verifier's public key as the secret.
    public_pem = pem(keys["ed25519"].public_key())
    assert algorithm_for_key(public_pem) == "ed25519"
    with pytest.raises(SigningError, match="announces alg='hmac-sha256'"):
        choose_algorithm(public_pem, pinned=None, announced="hmac-sha256", label="sig1")


def test_choose_algorithm_refuses_an_unknown_pin(keys: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="algorithm: expected one of"):
        choose_algorithm(public(keys["ed25519"]), pinned="hs2019", announced=None, label="sig1")


@pytest.mark.parametrize(
    ("key", "description"),
    [
        (b"secret-bytes", "12 bytes"),
        (bytearray(b"abc"), "3 bytes"),
        (b"-----BEGIN PUBLIC KEY-----\n", "PEM bytes"),
        ("-----BEGIN PUBLIC KEY-----\n", "a PEM string"),
        ("secret", "a str that is not PEM"),
        (7, "an object of type int"),
    ],
)
def test_describe_key_names_the_kind_never_the_material(key: Any, description: str) -> None:
    assert describe_key(key) == description


def test_describe_key_of_key_objects(keys: dict[str, Any]) -> None:
    assert describe_key(keys["rsa-pss-sha512"]) == "an RSA private key"
    assert describe_key(keys["rsa-pss-sha512"].public_key()) == "an RSA public key"
    assert describe_key(keys["ed25519"].public_key()) == "an Ed25519 public key"
    assert describe_key(keys["ecdsa-p384-sha384"].public_key()) == "an EC public key on secp384r1"


def test_describe_key_of_another_cryptography_object() -> None:
    key = ed448.Ed448PrivateKey.generate()
    assert describe_key(key) == f"an object of type {type(key).__name__}"
