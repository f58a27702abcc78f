"""JWTs at the authorization server: assertions it verifies, ID tokens it signs.

Verified: client assertions (RFC 7523 §2.2, §3), authorization grants
(RFC 7523 §2.1, §3) and JWT subject tokens of token exchange (RFC 8693). The
signature is checked with joserfc, the claims here, by the configuration's
clock. Signed: OpenID Connect ID tokens, with a P-256 key generated on first
use and published at ``/jwks.json``.

joserfc and cryptography are imported inside the functions, so importing
``aiohttp_auth.testing`` stays cheap for tests that never see a JWT.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from joserfc.jwk import ECKey, Key
    from joserfc.jws import JWSRegistry

    from .config import AuthorizationServerConfig

__all__ = [
    "HMAC_ALGORITHMS",
    "PUBLIC_KEY_ALGORITHMS",
    "InvalidJWT",
    "check_claims",
    "public_jwks",
    "sign_id_token",
    "unverified",
    "verify_signature",
]

HMAC_ALGORITHMS: Final = ("HS256", "HS384", "HS512")
"""Accepted for ``client_secret_jwt`` (RFC 7523 §2.2 with the client secret)."""

PUBLIC_KEY_ALGORITHMS: Final = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512", "EdDSA", "Ed25519",
)  # fmt: skip
"""Accepted for ``private_key_jwt`` and JWTs of trusted issuers (RFC 7518 §3.1,
RFC 8037 ``EdDSA``, RFC 9864 ``Ed25519``)."""

# Clock skew tolerated for "nbf" and "iat" (RFC 7519 §4.1.4-4.1.6 allow a small leeway).
_LEEWAY: Final = 60.0
_ID_TOKEN_ALGORITHM: Final = "ES256"  # noqa: S105 - an algorithm name


class InvalidJWT(Exception):
    """A JWT the server refuses; the message says why and holds no secret."""


def unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the header and claims of a compact JWS without checking anything.

    Used to learn which client or issuer a JWT claims to come from, so as to
    pick the key that must have signed it.

    Raises:
        InvalidJWT: *token* is not three base64url parts holding JSON objects.
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidJWT("not a compact JWS (RFC 7515 §7.1)")
    header, claims = _json_part(parts[0]), _json_part(parts[1])
    return header, claims


def _no_constant(name: str) -> None:
    # json takes NaN and Infinity, which are not JSON (RFC 8259 §6): an "exp" of
    # Infinity would make an assertion that never expires.
    raise ValueError(f"{name} is not a JSON number")


def _json_part(part: str) -> dict[str, Any]:
    try:
        value = json.loads(
            base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)), parse_constant=_no_constant
        )
    except (ValueError, RecursionError):  # RecursionError: nested thousands deep
        raise InvalidJWT("a part is not base64url-encoded JSON") from None
    if not isinstance(value, dict):
        raise InvalidJWT("a part is not a JSON object")
    return value


@functools.cache
def _registry(algorithm: str) -> JWSRegistry:
    from joserfc.jws import JWSRegistry

    class _Registry(JWSRegistry):
        # joserfc warns on every use of "EdDSA" because RFC 9864 deprecates
        # the name; clients still send it and RFC 8037 defines it, so the
        # server accepts it quietly (and only the one algorithm asked for).
        def get_alg(self, name: str) -> Any:
            return self.algorithms[name] if name == algorithm else super().get_alg(name)

    return _Registry(algorithms=[algorithm])


def _keys(jwks: Mapping[str, Any], kid: object) -> list[Key]:
    from joserfc.jwk import import_key

    members = jwks.get("keys", [jwks])
    keys = [import_key(dict(member)) for member in members]
    if isinstance(kid, str):
        keys = [key for key in keys if key.kid == kid]
    return keys


def verify_signature(
    token: str, key_source: str | Mapping[str, Any], *, algorithms: Collection[str]
) -> dict[str, Any]:
    """Verify the signature of *token* with a secret (HMAC) or one of a JWK (Set).

    Args:
        token: the JWT.
        key_source: a client secret (``str``), or a JWK or JWK Set (a mapping).
        algorithms: the ``alg`` values accepted.

    Returns:
        The claims.

    Raises:
        InvalidJWT: an algorithm not in *algorithms* (``none`` never is),
            no key, or a signature that no key verifies.
    """
    from joserfc.errors import JoseError
    from joserfc.jwk import OctKey
    from joserfc.jws import deserialize_compact

    header, claims = unverified(token)
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in algorithms:
        raise InvalidJWT(f"alg {algorithm!r} is not accepted here ({', '.join(algorithms)})")
    keys: Iterable[Any]
    if isinstance(key_source, str):
        # Built directly: joserfc's import_key warns on secrets under 14
        # bytes, and a test's client secret may well be shorter.
        raw = key_source.encode()
        keys = [OctKey(raw, raw)]
    else:
        keys = _keys(key_source, header.get("kid"))
    for key in keys:
        try:
            deserialize_compact(token, key, [algorithm], _registry(algorithm))
        # KeyError: an algorithm this joserfc does not know (older releases).
        except (JoseError, ValueError, TypeError, KeyError):
            continue
        return claims
    raise InvalidJWT(f"the {algorithm} signature does not verify with any registered key")


def check_claims(
    claims: Mapping[str, Any],
    *,
    now: float,
    audiences: Collection[str],
    issuer: str | None = None,
    subject: str | None = None,
    require_jti: bool = False,
) -> None:
    """Check the claims of an assertion (RFC 7523 §3; RFC 7519 §4.1).

    Args:
        claims: the verified claims.
        now: epoch seconds.
        audiences: values that identify this server; ``aud`` must hold one.
        issuer: the ``iss`` required, if any; ``iss`` must be present anyway.
        subject: the ``sub`` required, if any; ``sub`` must be present anyway.
        require_jti: require a ``jti`` (OpenID Connect Core §9 for client
            assertions, so that replays can be refused).

    Raises:
        InvalidJWT: naming the first claim that fails.
    """
    for name, expected in (("iss", issuer), ("sub", subject)):
        value = claims.get(name)
        if not isinstance(value, str) or not value:
            raise InvalidJWT(f"the {name!r} claim is missing")
        if expected is not None and value != expected:
            raise InvalidJWT(f"{name} {value!r} is not {expected!r}")
    audience = claims.get("aud")
    named = [audience] if isinstance(audience, str) else audience
    if not isinstance(named, list) or not set(audiences) & {
        a for a in named if isinstance(a, str)
    }:
        raise InvalidJWT(f"aud {audience!r} does not name this server ({', '.join(audiences)})")
    expires = claims.get("exp")
    if not isinstance(expires, (int, float)) or isinstance(expires, bool):
        raise InvalidJWT("the 'exp' claim is missing or not a number")
    if now >= expires:
        raise InvalidJWT("the JWT has expired ('exp')")
    not_before = claims.get("nbf")
    if not_before is not None and (not _numeric(not_before) or now + _LEEWAY < not_before):
        raise InvalidJWT("the JWT is not valid yet ('nbf')")
    issued_at = claims.get("iat")
    if issued_at is not None and (not _numeric(issued_at) or now + _LEEWAY < issued_at):
        raise InvalidJWT("the JWT was issued in the future ('iat')")
    jti = claims.get("jti")
    if require_jti and (not isinstance(jti, str) or not jti):
        raise InvalidJWT("the 'jti' claim is missing")


def _numeric(value: object) -> bool:
    # bool is an int in Python, not a NumericDate in JSON (RFC 7519 §2).
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _signing_key(config: AuthorizationServerConfig) -> ECKey:
    from joserfc.jwk import ECKey

    if config.signing_key is None:
        generated = ECKey.generate_key("P-256")
        generated.ensure_kid()
        config.signing_key = dict(generated.as_dict(private=True))
    key: ECKey = ECKey.import_key(dict(config.signing_key))
    return key


def public_jwks(config: AuthorizationServerConfig) -> dict[str, Any]:
    """Return the server's JWK Set (the ID token key, generated on first use)."""
    key = _signing_key(config)
    return {"keys": [key.as_dict(private=False, use="sig", alg=_ID_TOKEN_ALGORITHM)]}


def sign_id_token(config: AuthorizationServerConfig, claims: Mapping[str, Any]) -> str:
    """Sign an OpenID Connect ID token with the server's key (OIDC Core §2)."""
    from joserfc import jwt

    key = _signing_key(config)
    return jwt.encode({"alg": _ID_TOKEN_ALGORITHM, "kid": key.kid}, dict(claims), key)
