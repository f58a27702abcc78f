"""Keys for HTTP Message Signatures: what is accepted, PEM parsing, descriptions, sans-IO.

Keys come as ``cryptography`` key objects, as PEM (``bytes`` or ``str``), or,
for HMAC, as secret ``bytes``. PEM is parsed once: a signer keeps the parsed
object, and public keys given to verifiers are cached. [`describe_key`][]
names the kind of a key for error messages without ever showing its material.
"""

from __future__ import annotations

import functools
from typing import Final, TypeAlias

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ..errors import ConfigurationError

__all__ = [
    "PrivateKey",
    "PublicKey",
    "SigningKeyArg",
    "VerifyingKeyArg",
    "describe_key",
    "is_pem",
    "load_pem_private",
    "load_pem_public",
    "pem_bytes",
]

PrivateKey: TypeAlias = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
"""The private key objects of ``cryptography`` that sign."""

PublicKey: TypeAlias = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
"""The public key objects of ``cryptography`` that verify."""

SigningKeyArg: TypeAlias = bytes | str | PrivateKey
"""What a signer accepts as its key: HMAC secret ``bytes``, a private key object,
or a private key in PEM (``bytes`` or ``str``; ``bytes`` are PEM for every
algorithm except ``hmac-sha256``).
"""

VerifyingKeyArg: TypeAlias = bytes | str | PublicKey | PrivateKey
"""What a verifier accepts as a key: HMAC secret ``bytes``, a public (or private)
key object, or a public key, certificate-less, in PEM (``bytes`` or ``str``).
"""

_PEM_START: Final = b"-----BEGIN "


def describe_key(key: object) -> str:
    """Name the kind of *key* for an error message, without any of its material."""
    if isinstance(key, bytes | bytearray):
        if bytes(key).lstrip().startswith(_PEM_START):
            return "PEM bytes"
        return f"{len(key)} bytes"
    if isinstance(key, str):
        return (
            "a PEM string" if key.lstrip().startswith("-----BEGIN ") else "a str that is not PEM"
        )
    for kind, private, public in (
        ("an Ed25519", ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey),
        ("an RSA", rsa.RSAPrivateKey, rsa.RSAPublicKey),
    ):
        if isinstance(key, private | public):
            side = "private" if isinstance(key, private) else "public"
            return f"{kind} {side} key"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        side = "private" if isinstance(key, ec.EllipticCurvePrivateKey) else "public"
        return f"an EC {side} key on {key.curve.name}"
    return f"an object of type {type(key).__name__}"


def is_pem(key: object) -> bool:
    """Tell whether *key* is PEM text: any ``str``, or ``bytes`` starting with ``-----BEGIN``."""
    if isinstance(key, str):
        return True
    return isinstance(key, bytes) and key.lstrip().startswith(_PEM_START)


@functools.lru_cache(maxsize=64)
def load_pem_public(pem: bytes) -> PublicKey:
    """Parse a PEM public key (or take the public half of a PEM private key).

    Raises:
        ConfigurationError: not a key cryptography can read, or not one RFC 9421 uses.
    """
    # Verifiers often pass the same PEM on every call: parsing costs more than
    # most verifications, so public keys are parsed once. Only public halves
    # are kept: a private key given to a verifier is not held in the cache.
    if b"PRIVATE KEY-----" in pem:
        return load_pem_private(pem).public_key()
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConfigurationError(
            "key: the PEM data is not a public key that cryptography can read "
            f"({type(exc).__name__}); pass a 'BEGIN PUBLIC KEY' PEM or a key object"
        ) from None
    if not isinstance(
        key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
    ):
        raise ConfigurationError(f"key: {describe_key(key)} is not usable with RFC 9421")
    return key


def load_pem_private(pem: bytes) -> PrivateKey:
    """Parse an unencrypted PEM private key.

    Raises:
        ConfigurationError: encrypted, not a key cryptography can read, or not
            one RFC 9421 uses.
    """
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except TypeError:
        raise ConfigurationError(
            "key: the PEM private key is encrypted; load it with cryptography's "
            "load_pem_private_key(data, password) and pass the key object"
        ) from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ConfigurationError(
            "key: the PEM data is not a private key that cryptography can read "
            f"({type(exc).__name__}); pass a 'BEGIN PRIVATE KEY' PEM or a key object"
        ) from None
    if not isinstance(
        key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    ):
        raise ConfigurationError(f"key: {describe_key(key)} is not usable with RFC 9421")
    return key


def pem_bytes(key: bytes | str) -> bytes:
    """Return PEM text as bytes."""
    return key.encode("ascii", "replace") if isinstance(key, str) else key
