"""JWT signing for client assertions and JWT bearer grants (RFC 7523), sans-IO.

[`JWTSigner`][] holds one key and one JWS algorithm and signs claims with
[joserfc](https://jose.authlib.org/); nothing here writes a JWS by hand.
joserfc and cryptography are imported inside the functions, only when a JWT
method is configured, so importing aiohttp_auth stays cheap.

Keys come as PEM (PKCS#8, PKCS#1, SEC1; text or bytes) or as a JWK (a dict or
its JSON text). Every check happens at construction, where a bad key raises
[`ConfigurationError`][aiohttp_auth.errors.ConfigurationError] naming what to
fix: a public, symmetric, encrypted or too small key, or an algorithm the key
cannot use.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeAlias, cast

from .._redact import redacted_repr
from ..errors import ConfigurationError

if TYPE_CHECKING:
    from joserfc.jwa import JWSAlgModel
    from joserfc.jwk import ECKey, Key, OKPKey
    from joserfc.jws import JWSRegistry

__all__ = ["ASSERTION_LIFETIME", "JWTSigner", "PrivateKey", "assertion_claims"]

PrivateKey: TypeAlias = str | bytes | Mapping[str, Any]
"""A private key: PEM text or bytes (PKCS#8, PKCS#1, SEC1), or a JWK (a dict,
or its JSON text)."""

ASSERTION_LIFETIME: Final = 60
"""Seconds a JWT assertion is valid (``exp - iat``); short, since it is used once."""

_HMAC_ALGS: Final = ("HS256", "HS384", "HS512")
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
# NIST SP 800-131A: HMAC keys under 112 bits are too weak (joserfc's floor too).
_MIN_HMAC_BYTES: Final = 14
# Text that marks a key, not a shared secret; joserfc refuses or warns about
# such HMAC keys.
_KEY_MARKERS: Final = (b"-----BEGIN ", b"---- BEGIN ", b"ssh-", b"ecdsa-sha2-")


class JWTSigner:
    """Signs JWTs (RFC 7519) with one key and one algorithm, through joserfc.

    Built from [`JWTSigner.from_private_key`][] or [`JWTSigner.from_secret`][],
    which check that the key can sign with the algorithm, so that a bad
    combination fails at construction.
    """

    __slots__ = ("_key", "_registry", "algorithm", "key_id")

    def __init__(self, key: Key, algorithm: str, key_id: str | None) -> None:
        from joserfc.errors import JoseError

        self._key = key
        self._registry = _registry_class()(algorithm)
        self.algorithm = algorithm
        self.key_id = key_id
        try:
            self.sign({"probe": True})
        except (JoseError, ValueError, TypeError) as exc:
            # E.g. a JWK whose "use" or "key_ops" forbid signing.
            raise ConfigurationError(
                f"the key cannot sign with {algorithm} ({type(exc).__name__}); "
                "check the key's use/key_ops and signing_alg"
            ) from None

    @classmethod
    def from_secret(
        cls, secret: str, *, algorithm: str | None = None, key_id: str | None = None
    ) -> JWTSigner:
        """Sign with HMAC keyed by *secret* (RFC 7518 §3.2); *algorithm* defaults to HS256.

        Raises:
            ConfigurationError: *algorithm* is not HS256/384/512, or the
                secret is shorter than 14 bytes.
        """
        from joserfc.jwk import OctKey

        algorithm = algorithm or "HS256"
        if algorithm not in _HMAC_ALGS:
            raise ConfigurationError(
                f"signing_alg: {algorithm!r} is not an HMAC algorithm; client_secret_jwt "
                f"signs with one of {', '.join(_HMAC_ALGS)}"
            )
        raw = secret.encode("utf-8")
        if any(marker in raw for marker in _KEY_MARKERS):
            raise ConfigurationError(
                "client_secret: looks like a PEM or SSH key, not a shared secret; to sign "
                "with a private key use client_auth='private_key_jwt' and private_key="
            )
        if len(raw) < _MIN_HMAC_BYTES:
            raise ConfigurationError(
                f"client_secret: {len(raw)} bytes is too short to sign with {algorithm} "
                f"(at least {_MIN_HMAC_BYTES}; RFC 7518 §3.2 asks for the hash size); use "
                "client_secret_basic or client_secret_post, or ask for a longer secret"
            )
        return cls(OctKey.import_key(raw), algorithm, key_id)

    @classmethod
    def from_private_key(
        cls,
        private_key: PrivateKey,
        *,
        algorithm: str | None = None,
        key_id: str | None = None,
        argument: str = "private_key",
    ) -> JWTSigner:
        """Sign with an RSA, EC or EdDSA private key from PEM or a JWK.

        The algorithm defaults to the key's: ``alg`` of a JWK, else RS256 for
        RSA, ES256/384/512 for the P-256/384/521 curves, EdDSA for Ed25519 and
        Ed448. The key id defaults to the JWK's ``kid``.

        Raises:
            ConfigurationError: the key cannot be read, is public, symmetric,
                encrypted, too small, or of a type *algorithm* cannot use.
        """
        key, jwk_fields = _import_private_key(private_key, argument)
        jwk_alg = jwk_fields.get("alg")
        jwk_kid = jwk_fields.get("kid")
        algorithm = _check_algorithm(
            key, algorithm or (jwk_alg if isinstance(jwk_alg, str) else None), argument
        )
        return cls(key, algorithm, key_id or (jwk_kid if isinstance(jwk_kid, str) else None))

    def sign(self, claims: Mapping[str, Any]) -> str:
        """Return the compact JWS of *claims* (``typ`` JWT, ``kid`` if set)."""
        from joserfc import jwt

        header: dict[str, Any] = {"alg": self.algorithm}
        if self.key_id is not None:
            header["kid"] = self.key_id
        return jwt.encode(header, dict(claims), self._key, registry=self._registry)

    def __repr__(self) -> str:
        return redacted_repr(self, algorithm=repr(self.algorithm), key_id=repr(self.key_id))


@functools.cache
def _registry_class() -> Callable[[str], JWSRegistry]:
    """A joserfc registry that allows exactly one algorithm, without warnings."""
    from joserfc.errors import UnsupportedAlgorithmError
    from joserfc.jws import JWSRegistry

    class ChosenAlgorithmRegistry(JWSRegistry):
        # joserfc warns on every use of "EdDSA", which RFC 9864 deprecates for
        # new specifications; deployed servers still accept only that name and
        # the user chose it, so a warning per signature would only be noise.
        def __init__(self, algorithm: str) -> None:
            super().__init__(algorithms=[algorithm])
            self.algorithm = algorithm

        def get_alg(self, name: str) -> JWSAlgModel:
            if name != self.algorithm:
                raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
            return self.algorithms[name]

    return ChosenAlgorithmRegistry


def _import_private_key(private_key: object, argument: str) -> tuple[Key, Mapping[str, Any]]:
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


def _check_algorithm(key: Key, algorithm: str | None, argument: str) -> str:
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


def assertion_claims(
    *, issuer: str, subject: str, audience: str, now: float, jti: str
) -> dict[str, Any]:
    """Return the claims of a JWT assertion (RFC 7523 §3), valid for 60 s from *now*."""
    issued_at = int(now)
    return {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "iat": issued_at,
        "exp": issued_at + ASSERTION_LIFETIME,
        "jti": jti,
    }
