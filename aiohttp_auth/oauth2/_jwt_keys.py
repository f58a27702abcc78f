"""Reading and checking the private keys that sign JWTs (RFC 7517, RFC 7518 §3), sans-IO.

What [`JWTSigner.from_private_key`][aiohttp_auth.oauth2.jwt.JWTSigner.from_private_key]
stands on: ``import_private_key`` reads PEM (PKCS#8, PKCS#1, SEC1; text or
bytes) or a JWK (a dict or its JSON text) into a joserfc key and refuses a
public, symmetric, encrypted or too small one; ``check_algorithm`` picks the
JWS algorithm the key signs with, or checks the one asked for. Each raises
[`ConfigurationError`][aiohttp_auth.errors.ConfigurationError] naming the
argument and what to fix. joserfc and cryptography are imported inside the
functions, only when a key is read.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, cast

from ..errors import ConfigurationError

if TYPE_CHECKING:
    from joserfc.jwk import ECKey, Key, OKPKey

__all__ = ["check_algorithm", "import_private_key"]

_RSA_ALGS: Final = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
# RFC 7518 §3.4: each ECDSA algorithm is bound to one curve.
_EC_ALGS: Final = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
# The same curves as cryptography names them.
_SIGNING_CURVES: Final = frozenset({"secp256r1", "secp384r1", "secp521r1"})
# "EdDSA" (RFC 8037) is what deployed servers accept; RFC 9864's fully
# specified "Ed25519" and "Ed448" are accepted too.
_OKP_ALGS: Final = {"Ed25519": ("EdDSA", "Ed25519"), "Ed448": ("EdDSA", "Ed448")}
# RFC 7518 §3.3: RSA keys of 2048 bits or more MUST be used.
_MIN_RSA_BITS: Final = 2048


def import_private_key(private_key: object, argument: str) -> tuple[Key, Mapping[str, Any]]:
    """Import *private_key*; return it and its JWK members (empty for PEM)."""
    from joserfc import jwk
    from joserfc.errors import JoseError

    if isinstance(private_key, str) and private_key.lstrip().startswith("{"):
        # A JWK kept as JSON text, e.g. in an environment variable.
        try:
            private_key = json.loads(private_key)
        except ValueError:
            raise ConfigurationError(
                f"{argument}: looks like a JWK but is not valid JSON"
            ) from None
    jwk_fields: Mapping[str, Any] = {}
    if isinstance(private_key, Mapping):
        jwk_fields = private_key
        # joserfc warns about short symmetric and small RSA keys on import:
        # refuse them first.
        if private_key.get("kty") == "oct":
            raise ConfigurationError(
                f"{argument}: is a symmetric (oct) key; sign with a client secret through "
                "client_auth='client_secret_jwt' instead"
            )
        _check_rsa_bits(_jwk_rsa_bits(private_key), argument)
        try:
            key: Key = jwk.import_key(dict(private_key))
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise ConfigurationError(
                f"{argument}: not a usable JWK ({type(exc).__name__}); expected an RSA, EC "
                "or OKP private key with all its members (RFC 7517, RFC 7518 §6)"
            ) from None
    elif isinstance(private_key, (str, bytes)):
        key = _import_pem(private_key, argument)
    else:
        raise ConfigurationError(
            f"{argument}: expected PEM text or bytes, or a JWK dict, "
            f"got {type(private_key).__name__}"
        )
    if not key.is_private:
        raise ConfigurationError(
            f"{argument}: is a public key; pass the private key (the server keeps the public one)"
        )
    return key, jwk_fields


def _import_pem(pem: str | bytes, argument: str) -> Key:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from joserfc import jwk

    data = pem.encode("utf-8") if isinstance(pem, str) else pem
    try:
        loaded = load_pem_private_key(data, password=None)
    except TypeError:
        # cryptography's way of saying that the key is encrypted.
        raise ConfigurationError(
            f"{argument}: the PEM key is encrypted; decrypt it first (e.g. "
            "`openssl pkey -in key.pem -out plain.pem`) or load it and pass a JWK"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        if b"PUBLIC KEY-----" in data or b"CERTIFICATE-----" in data:
            problem = "is a public key or certificate; pass the private key"
        else:
            problem = "cannot be read as a PEM private key (PKCS#8, PKCS#1 or SEC1)"
        raise ConfigurationError(f"{argument}: {problem}") from None
    if isinstance(loaded, rsa.RSAPrivateKey):
        _check_rsa_bits(loaded.key_size, argument)
        return jwk.import_key(data, "RSA")
    if isinstance(loaded, ec.EllipticCurvePrivateKey):
        if loaded.curve.name not in _SIGNING_CURVES:
            raise ConfigurationError(
                f"{argument}: an EC key on curve {loaded.curve.name!r} cannot sign a JWT "
                "here; use P-256, P-384 or P-521"
            )
        return jwk.import_key(data, "EC")
    if isinstance(loaded, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return jwk.import_key(data, "OKP")
    raise ConfigurationError(
        f"{argument}: a {type(loaded).__name__} cannot sign a JWT; use an RSA, EC "
        "(P-256/384/521) or Ed25519/Ed448 key"
    )


def _jwk_rsa_bits(fields: Mapping[str, Any]) -> int | None:
    """The modulus size of an RSA JWK, or None if it is not one or cannot be read."""
    modulus = fields.get("n")
    if fields.get("kty") != "RSA" or not isinstance(modulus, str):
        return None
    try:
        raw = base64.urlsafe_b64decode(modulus + "=" * (-len(modulus) % 4))
    except ValueError:
        return None  # joserfc's import names the problem
    return int.from_bytes(raw, "big").bit_length()


def _check_rsa_bits(bits: int | None, argument: str) -> None:
    if bits is not None and bits < _MIN_RSA_BITS:
        raise ConfigurationError(
            f"{argument}: a {bits}-bit RSA key is too small; RFC 7518 §3.3 requires "
            f"at least {_MIN_RSA_BITS} bits"
        )


def check_algorithm(key: Key, algorithm: str | None, argument: str) -> str:
    """Return the algorithm to sign with *key*, checking that the two fit."""
    from joserfc.jwk import ECKey, RSAKey

    allowed: tuple[str, ...]
    if isinstance(key, RSAKey):
        allowed = _RSA_ALGS
    else:
        # Only EC and OKP keys get here; both name their curve.
        curve = cast("ECKey | OKPKey", key).curve_name
        if isinstance(key, ECKey):
            allowed = (_EC_ALGS[curve],) if curve in _EC_ALGS else ()
        else:
            allowed = _OKP_ALGS.get(curve, ())
        if not allowed:
            raise ConfigurationError(
                f"{argument}: {key.key_type} keys on curve {curve!r} cannot sign a JWT "
                "here; use P-256, P-384, P-521, Ed25519 or Ed448"
            )
    if algorithm is None:
        return allowed[0]
    if algorithm not in allowed:
        raise ConfigurationError(
            f"signing_alg: {key.key_type} keys cannot sign with {algorithm!r}; "
            f"use {', '.join(allowed)}"
        )
    return algorithm
