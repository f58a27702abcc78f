"""JWT signing for client assertions and JWT bearer grants (RFC 7523), sans-IO.

[`JWTSigner`][] holds one key and one JWS algorithm and signs claims with
[joserfc](https://jose.authlib.org/); nothing here writes a JWS by hand.
joserfc and cryptography are imported inside the functions, only when a JWT
method is configured, so importing aiohttp_auth stays cheap.

Keys come as PEM (PKCS#8, PKCS#1, SEC1; text or bytes) or as a JWK (a dict or
its JSON text). Every check happens at construction, where a bad key raises
[`ConfigurationError`][aiohttp_auth.errors.ConfigurationError] naming what to
fix: a public, symmetric, encrypted or too small key, or an algorithm the key
cannot use. Reading and checking a private key is the work of
``aiohttp_auth.oauth2._jwt_keys``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from .._redact import redacted_repr
from ..errors import ConfigurationError
from ._jwt_keys import check_algorithm, import_private_key

if TYPE_CHECKING:
    from joserfc.jwa import JWSAlgModel
    from joserfc.jwk import Key
    from joserfc.jws import JWSRegistry

__all__ = ["ASSERTION_LIFETIME", "JWTSigner", "PrivateKey", "assertion_claims"]

PrivateKey: TypeAlias = str | bytes | Mapping[str, Any]
"""A private key: PEM text or bytes (PKCS#8, PKCS#1, SEC1), or a JWK (a dict,
or its JSON text)."""

ASSERTION_LIFETIME: Final = 60
"""Seconds a JWT assertion is valid (``exp - iat``); short, since it is used once."""

_HMAC_ALGS: Final = ("HS256", "HS384", "HS512")
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
        key, jwk_fields = import_private_key(private_key, argument)
        jwk_alg = jwk_fields.get("alg")
        jwk_kid = jwk_fields.get("kid")
        algorithm = check_algorithm(
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
