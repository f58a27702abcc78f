"""Client authentication at the token, revocation, introspection and device endpoints.

Methods (RFC 8414 §2 names): ``client_secret_basic`` and ``client_secret_post``
(RFC 6749 §2.3.1), ``client_secret_jwt`` and ``private_key_jwt`` (RFC 7523
§2.2, §3), and ``none`` for public clients that only name themselves
(RFC 6749 §2.1, §3.2.1). A client may use only the methods registered for it,
and only one per request (RFC 6749 §2.3).
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import unquote_plus

from .assertions import (
    HMAC_ALGORITHMS,
    PUBLIC_KEY_ALGORITHMS,
    InvalidJWT,
    check_claims,
    unverified,
    verify_signature,
)
from .errors import OAuthError

if TYPE_CHECKING:
    from .config import AuthorizationServerConfig
    from .registration import ClientAuthMethod, ClientRegistration

__all__ = ["ASSERTION_TYPE", "AuthenticatedClient", "authenticate_client", "same_secret"]

ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
"""The ``client_assertion_type`` of a JWT client assertion (RFC 7523 §2.2)."""


@dataclass(frozen=True)
class AuthenticatedClient:
    """A client that proved who it is, and how."""

    registration: ClientRegistration
    method: ClientAuthMethod


def same_secret(expected: str, received: str) -> bool:
    """Compare two secrets in constant time (any characters)."""
    return hmac.compare_digest(
        expected.encode("utf-8", "surrogateescape"), received.encode("utf-8", "surrogateescape")
    )


def authenticate_client(
    config: AuthorizationServerConfig,
    authorization: str | None,
    form: Mapping[str, str],
    *,
    audiences: Collection[str],
    now: float,
) -> AuthenticatedClient:
    """Authenticate the client of a request from its ``Authorization`` header and form.

    Args:
        config: the server's configuration (clients; the jti replay cache).
        authorization: the ``Authorization`` header, or None.
        form: the form parameters (repeats already refused).
        audiences: the values a client assertion's ``aud`` may name.
        now: epoch seconds.

    Raises:
        OAuthError: ``invalid_request`` for more than one method, else
            ``invalid_client`` (401 with a Basic challenge when the client
            tried the ``Authorization`` header, RFC 6749 §5.2).
    """
    presented = [
        name
        for name, present in (
            ("the Authorization header", authorization is not None),
            ("client_secret", "client_secret" in form),
            ("client_assertion", "client_assertion" in form),
        )
        if present
    ]
    if len(presented) > 1:
        raise OAuthError(
            "invalid_request",
            f"more than one client authentication method ({' and '.join(presented)}); "
            "RFC 6749 §2.3 allows one per request",
        )
    if authorization is not None:
        return _basic(config, authorization, form.get("client_id"))
    if "client_assertion" in form:
        return _assertion(config, form, audiences=audiences, now=now)
    client_id = form.get("client_id")
    if client_id is None:
        raise OAuthError("invalid_client", "no client authentication and no client_id")
    registration = _registration(config, client_id, basic=False)
    if "client_secret" in form:
        _check_secret(registration, form["client_secret"], basic=False)
        return _allowed(registration, "client_secret_post", basic=False)
    return _allowed(registration, "none", basic=False)


def _registration(
    config: AuthorizationServerConfig, client_id: str, *, basic: bool
) -> ClientRegistration:
    registration = config.clients.get(client_id)
    if registration is None:
        raise OAuthError("invalid_client", f"unknown client {client_id!r}", basic_challenge=basic)
    return registration


def _check_secret(registration: ClientRegistration, secret: str, *, basic: bool) -> None:
    if registration.secret is None or not same_secret(registration.secret, secret):
        raise OAuthError(
            "invalid_client",
            f"wrong client secret for client {registration.client_id!r}",
            basic_challenge=basic,
        )


def _allowed(
    registration: ClientRegistration, method: ClientAuthMethod, *, basic: bool
) -> AuthenticatedClient:
    if method not in registration.auth_methods:
        raise OAuthError(
            "invalid_client",
            f"client {registration.client_id!r} may not authenticate with {method} "
            f"(registered: {', '.join(registration.auth_methods)})",
            basic_challenge=basic,
        )
    return AuthenticatedClient(registration, method)


def _basic(
    config: AuthorizationServerConfig, authorization: str, form_client_id: str | None
) -> AuthenticatedClient:
    """Authenticate ``client_secret_basic`` (RFC 6749 §2.3.1, RFC 7617)."""
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError(
            "invalid_client",
            f"the {scheme!r} scheme does not authenticate clients here; use Basic",
            basic_challenge=True,
        )
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except ValueError:  # binascii.Error, UnicodeDecodeError, and non-ASCII text
        raise OAuthError(
            "invalid_client", "Basic credentials are not base64 of UTF-8", basic_challenge=True
        ) from None
    raw_id, colon, raw_secret = decoded.partition(":")
    if not colon:
        raise OAuthError(
            "invalid_client", "Basic credentials lack the ':' separator", basic_challenge=True
        )
    # RFC 6749 §2.3.1: both are form-urlencoded before being joined, so a
    # ':' or '%' inside them arrives encoded.
    client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
    if form_client_id is not None and form_client_id != client_id:
        raise OAuthError(
            "invalid_client",
            f"client_id {form_client_id!r} does not match the Basic credentials",
            basic_challenge=True,
        )
    registration = _registration(config, client_id, basic=True)
    _check_secret(registration, secret, basic=True)
    return _allowed(registration, "client_secret_basic", basic=True)


def _assertion(
    config: AuthorizationServerConfig,
    form: Mapping[str, str],
    *,
    audiences: Collection[str],
    now: float,
) -> AuthenticatedClient:
    """Authenticate ``client_secret_jwt`` / ``private_key_jwt`` (RFC 7523 §2.2, §3)."""
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise OAuthError(
            "invalid_client", f"client_assertion_type must be {ASSERTION_TYPE} (RFC 7523 §2.2)"
        )
    assertion = form["client_assertion"]
    try:
        header, claims = unverified(assertion)
    except InvalidJWT as error:
        raise OAuthError("invalid_client", f"client assertion: {error}") from None
    client_id = claims.get("sub")
    if not isinstance(client_id, str):
        raise OAuthError("invalid_client", "client assertion: the 'sub' claim is missing")
    if form.get("client_id", client_id) != client_id:
        raise OAuthError("invalid_client", "client_id does not match the assertion's 'sub'")
    registration = _registration(config, client_id, basic=False)
    hmac_signed = header.get("alg") in HMAC_ALGORITHMS
    method: ClientAuthMethod = "client_secret_jwt" if hmac_signed else "private_key_jwt"
    client = _allowed(registration, method, basic=False)
    # A registration allowing the method has the secret or the keys it needs.
    key_source = registration.secret if hmac_signed else registration.jwks
    algorithms = HMAC_ALGORITHMS if hmac_signed else PUBLIC_KEY_ALGORITHMS
    try:
        verify_signature(assertion, key_source or {}, algorithms=algorithms)
        check_claims(
            claims,
            now=now,
            audiences=audiences,
            issuer=client_id,
            subject=client_id,
            require_jti=True,
        )
    except InvalidJWT as error:
        raise OAuthError("invalid_client", f"client assertion: {error}") from None
    _refuse_replay(config, client_id, claims["jti"], claims["exp"], now)
    return client


def _refuse_replay(
    config: AuthorizationServerConfig, client_id: str, jti: str, expires: float, now: float
) -> None:
    """Accept each (client, jti) once while its assertion is valid (RFC 7523 §3 item 7)."""
    seen = config.client_assertion_ids
    for key in [key for key, until in seen.items() if until <= now]:
        del seen[key]
    if (client_id, jti) in seen:
        raise OAuthError("invalid_client", "client assertion: its jti was already used")
    seen[client_id, jti] = expires
