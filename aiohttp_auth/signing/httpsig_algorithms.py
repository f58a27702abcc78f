"""The signature algorithms of RFC 9421 §3.3 and the keys each one accepts, sans-IO.

Every algorithm is bound to one kind of key, and this module refuses any other
pairing: an Ed25519 key cannot sign ``rsa-pss-sha512``, and a public key in PEM
form is never taken as an HMAC secret (the classic algorithm-confusion attack,
RFC 9421 §7.3.5). A wrong pairing is a
[`ConfigurationError`][aiohttp_auth.errors.ConfigurationError] naming both the
algorithm and the kind of key given, never the key itself.

| algorithm | key | signature bytes |
| --- | --- | --- |
| ``hmac-sha256`` (§3.3.3) | shared secret ``bytes`` | 32 |
| ``ed25519`` (§3.3.6) | Ed25519 | 64 |
| ``ecdsa-p256-sha256`` (§3.3.4) | EC on P-256 | 64, ``r || s`` (not DER) |
| ``ecdsa-p384-sha384`` (§3.3.5) | EC on P-384 | 96, ``r || s`` (not DER) |
| ``rsa-pss-sha512`` (§3.3.1) | RSA | RSASSA-PSS, SHA-512, MGF1-SHA-512, salt 64 |
| ``rsa-v1_5-sha256`` (§3.3.2) | RSA | RSASSA-PKCS1-v1_5, SHA-256 |
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Final, TypeAlias

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from ..errors import ConfigurationError, SigningError
from .httpsig_keys import (
    SigningKeyArg,
    VerifyingKeyArg,
    describe_key,
    is_pem,
    load_pem_private,
    load_pem_public,
    pem_bytes,
)

__all__ = [
    "ALGORITHMS",
    "SignFunction",
    "VerifyFunction",
    "algorithm_for_key",
    "choose_algorithm",
    "load_signing_key",
    "load_verifying_key",
]

SignFunction: TypeAlias = Callable[[bytes], bytes]
"""Signs a signature base, returning the raw signature bytes."""

VerifyFunction: TypeAlias = Callable[[bytes, bytes], bool]
"""Tells whether ``signature`` (first) is valid over the signature base (second)."""

_HMAC: Final = "hmac-sha256"
_ED25519: Final = "ed25519"
_P256: Final = "ecdsa-p256-sha256"
_P384: Final = "ecdsa-p384-sha384"
_RSA_PSS: Final = "rsa-pss-sha512"
_RSA_V15: Final = "rsa-v1_5-sha256"

ALGORITHMS: Final = (_HMAC, _ED25519, _P256, _P384, _RSA_PSS, _RSA_V15)
"""The algorithm names of the HTTP Signature Algorithms registry (RFC 9421 §6.2.2)."""

# What each algorithm needs, as said in an error message.
_NEEDS: Final = {
    _HMAC: "a shared secret as bytes",
    _ED25519: "an Ed25519 key",
    _P256: "an EC key on curve P-256 (secp256r1)",
    _P384: "an EC key on curve P-384 (secp384r1)",
    _RSA_PSS: "an RSA key",
    _RSA_V15: "an RSA key",
}

# ECDSA: the curve each algorithm signs on, its hash, and the byte length of r and s.
_ECDSA: Final = {
    _P256: (ec.SECP256R1, hashes.SHA256, 32),
    _P384: (ec.SECP384R1, hashes.SHA384, 48),
}
_CURVE_ALGORITHMS: Final = {"secp256r1": _P256, "secp384r1": _P384}

# RFC 9421 §3.3.1: MGF1 with SHA-512 and a 64-byte salt.
_PSS: Final = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
_PKCS1: Final = padding.PKCS1v15()


def _check_algorithm(algorithm: object) -> str:
    if algorithm not in ALGORITHMS:
        raise ConfigurationError(
            f"algorithm: expected one of {', '.join(ALGORITHMS)} (RFC 9421 §3.3), "
            f"got {algorithm!r}"
        )
    return str(algorithm)


def algorithm_for_key(key: VerifyingKeyArg) -> str | None:
    """Return the one algorithm *key* can be used with, or None when it is ambiguous.

    Raw ``bytes`` that are not PEM are an HMAC secret; an RSA key serves two
    algorithms (``rsa-pss-sha512`` and ``rsa-v1_5-sha256``), so it gives None.

    Raises:
        ConfigurationError: PEM data that cannot be read, or an unsupported key.
    """
    if isinstance(key, bytes) and not is_pem(key):
        return _HMAC
    if is_pem(key):
        key = load_pem_public(pem_bytes(key))  # type: ignore[arg-type]
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return _ED25519
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        algorithm = _CURVE_ALGORITHMS.get(key.curve.name)
        if algorithm is None:
            raise ConfigurationError(
                f"key: {describe_key(key)} has no RFC 9421 algorithm; use P-256 or P-384"
            )
        return algorithm
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return None
    raise ConfigurationError(
        f"key: expected bytes, a PEM string or a cryptography key object, got {describe_key(key)}"
    )


def _wrong_key(algorithm: str, key: object) -> ConfigurationError:
    return ConfigurationError(
        f"algorithm {algorithm!r} needs {_NEEDS[algorithm]}, got {describe_key(key)}"
    )


def _hmac_secret(algorithm: str, key: object) -> bytes:
    if not isinstance(key, bytes | bytearray):
        raise _wrong_key(algorithm, key)
    if not key:
        raise ConfigurationError("key: the HMAC secret is empty")
    return bytes(key)


def load_signing_key(algorithm: str, key: SigningKeyArg) -> SignFunction:
    """Return a function that signs with *key* under *algorithm* (RFC 9421 §3.3).

    PEM is parsed here, once; the returned function only signs.

    Raises:
        ConfigurationError: an unknown algorithm, or a key of the wrong kind for it
            (the message names both), or PEM data that cannot be read.
    """
    algorithm = _check_algorithm(algorithm)
    if algorithm == _HMAC:
        secret = _hmac_secret(algorithm, key)
        return functools.partial(hmac.digest, secret, digest="sha256")
    if is_pem(key):
        key = load_pem_private(pem_bytes(key))  # type: ignore[arg-type]
    if algorithm == _ED25519:
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise _wrong_key(algorithm, key)
        return key.sign
    if algorithm in _ECDSA:
        curve, hash_type, size = _ECDSA[algorithm]
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, curve):
            raise _wrong_key(algorithm, key)
        return functools.partial(_ecdsa_sign, key, ec.ECDSA(hash_type()), size)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise _wrong_key(algorithm, key)
    if algorithm == _RSA_PSS:
        return functools.partial(_rsa_sign, key, _PSS, hashes.SHA512())
    return functools.partial(_rsa_sign, key, _PKCS1, hashes.SHA256())


def _ecdsa_sign(
    key: ec.EllipticCurvePrivateKey, scheme: ec.ECDSA, size: int, base: bytes
) -> bytes:
    # RFC 9421 §3.3.4: the signature is r and s as fixed-size big-endian
    # integers, concatenated; cryptography gives DER.
    r, s = decode_dss_signature(key.sign(base, scheme))
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def _rsa_sign(
    key: rsa.RSAPrivateKey,
    scheme: padding.AsymmetricPadding,
    hash_algorithm: hashes.HashAlgorithm,
    base: bytes,
) -> bytes:
    return key.sign(base, scheme, hash_algorithm)


def load_verifying_key(algorithm: str, key: VerifyingKeyArg) -> VerifyFunction:
    """Return a function that checks signatures made under *algorithm* with *key*.

    A private key verifies too (with its public half). PEM public keys are
    parsed once and cached.

    Raises:
        ConfigurationError: an unknown algorithm, or a key of the wrong kind for it
            (the message names both), or PEM data that cannot be read.
    """
    algorithm = _check_algorithm(algorithm)
    if algorithm == _HMAC:
        secret = _hmac_secret(algorithm, key)
        return functools.partial(_hmac_verify, secret)
    if is_pem(key):
        key = load_pem_public(pem_bytes(key))  # type: ignore[arg-type]
    if isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        key = key.public_key()
    if algorithm == _ED25519:
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise _wrong_key(algorithm, key)
        return functools.partial(_ed25519_verify, key)
    if algorithm in _ECDSA:
        curve, hash_type, size = _ECDSA[algorithm]
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, curve):
            raise _wrong_key(algorithm, key)
        return functools.partial(_ecdsa_verify, key, ec.ECDSA(hash_type()), size)
    if not isinstance(key, rsa.RSAPublicKey):
        raise _wrong_key(algorithm, key)
    if algorithm == _RSA_PSS:
        return functools.partial(_rsa_verify, key, _PSS, hashes.SHA512())
    return functools.partial(_rsa_verify, key, _PKCS1, hashes.SHA256())


def _hmac_verify(secret: bytes, signature: bytes, base: bytes) -> bool:
    return hmac.compare_digest(hmac.digest(secret, base, "sha256"), signature)


def _ed25519_verify(key: ed25519.Ed25519PublicKey, signature: bytes, base: bytes) -> bool:
    try:
        key.verify(signature, base)
    except InvalidSignature:
        return False
    return True


def _ecdsa_verify(
    key: ec.EllipticCurvePublicKey, scheme: ec.ECDSA, size: int, signature: bytes, base: bytes
) -> bool:
    if len(signature) != 2 * size:
        return False
    r = int.from_bytes(signature[:size], "big")
    s = int.from_bytes(signature[size:], "big")
    try:
        key.verify(encode_dss_signature(r, s), base, scheme)
    except InvalidSignature:
        return False
    return True


def _rsa_verify(
    key: rsa.RSAPublicKey,
    scheme: padding.AsymmetricPadding,
    hash_algorithm: hashes.HashAlgorithm,
    signature: bytes,
    base: bytes,
) -> bool:
    try:
        key.verify(signature, base, scheme, hash_algorithm)
    except InvalidSignature:
        return False
    return True


def choose_algorithm(
    key: VerifyingKeyArg, *, pinned: str | None, announced: object, label: str
) -> str:
    """Decide which algorithm verifies signature *label* (RFC 9421 §3.2, §7.3.5).

    The verifier's *pinned* algorithm wins, and a signature that announces
    another one (its ``alg`` parameter) is refused. Without a pin, the key
    decides; the announced ``alg`` is used only to pick between the two RSA
    algorithms, and must otherwise agree with the key.

    Raises:
        SigningError: the announced algorithm contradicts the pin or the key, or
            an RSA key meets a signature that does not say which RSA algorithm.
        ConfigurationError: the pinned algorithm is unknown, or the key unusable.
    """
    if announced is not None and not isinstance(announced, str):
        raise SigningError(f"signature {label!r}: its alg parameter is not a string")
    if pinned is not None:
        pinned = _check_algorithm(pinned)
        if announced is not None and announced != pinned:
            raise SigningError(
                f"signature {label!r} announces alg={announced!r} but this verifier "
                f"accepts only {pinned!r}"
            )
        return pinned
    inferred = algorithm_for_key(key)
    if inferred is None:  # an RSA key
        if announced in (_RSA_PSS, _RSA_V15):
            return str(announced)
        raise SigningError(
            f"signature {label!r} announces alg={announced!r}, which an RSA key cannot "
            f"verify; pass algorithm={_RSA_PSS!r} or {_RSA_V15!r} to the verifier"
        )
    if announced is not None and announced != inferred:
        raise SigningError(
            f"signature {label!r} announces alg={announced!r} but the verification key "
            f"is for {inferred!r}"
        )
    return inferred
