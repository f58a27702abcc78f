"""The token endpoint's simpler grants: client credentials, password, refresh, JWT bearer.

Each takes an authenticated [`Call`][aiohttp_auth.testing.oauth2.protocol.Call]
and returns the fields of the successful response (RFC 6749 §5.1), or raises
[`OAuthError`][aiohttp_auth.testing.oauth2.errors.OAuthError] with the §5.2 code.
"""

from __future__ import annotations

from typing import Any, Final

from .assertions import (
    HMAC_ALGORITHMS,
    PUBLIC_KEY_ALGORITHMS,
    InvalidJWT,
    check_claims,
    unverified,
    verify_signature,
)
from .clients import same_secret
from .errors import OAuthError
from .protocol import Call, scope_for
from .tokens import IssuedToken, issue, new_grant, revoke_grant

__all__ = [
    "JWT_BEARER",
    "client_credentials",
    "jwt_bearer",
    "password",
    "refresh_token",
    "required",
    "verify_trusted_jwt",
]

JWT_BEARER: Final = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def required(call: Call, name: str) -> str:
    """Return the form parameter *name*, or refuse the request without it."""
    value = call.form.get(name)
    if value is None:
        raise OAuthError("invalid_request", f"the {name} parameter is missing")
    return value


def client_credentials(call: Call) -> dict[str, Any]:
    """Grant a token to the client itself (RFC 6749 §4.4)."""
    if call.auth_method == "none":
        # §4.4: "The client credentials grant type MUST only be used by confidential clients."
        raise OAuthError("unauthorized_client", "a public client cannot use client_credentials")
    config, client = call.config, call.client
    return issue(
        config,
        client_id=client.client_id,
        subject=client.client_id,
        scope=scope_for(client, call.form.get("scope")),
        grant_type="client_credentials",
        grant_id=new_grant(),
        refresh=config.client_credentials_refresh_tokens,
    )


def password(call: Call) -> dict[str, Any]:
    """Grant a token for a user's username and password (RFC 6749 §4.3)."""
    username, secret = required(call, "username"), required(call, "password")
    expected = call.config.users.get(username)
    if expected is None or not same_secret(expected, secret):
        raise OAuthError("invalid_grant", "wrong username or password")
    return issue(
        call.config,
        client_id=call.client.client_id,
        subject=username,
        scope=scope_for(call.client, call.form.get("scope")),
        grant_type="password",
        grant_id=new_grant(),
        refresh=True,
    )


def _refreshable(call: Call, value: str) -> IssuedToken:
    config = call.config
    token = config.tokens.get(value)
    if token is None or token.kind != "refresh_token":
        raise OAuthError("invalid_grant", "unknown refresh token")
    if token.client_id != call.client.client_id:
        raise OAuthError("invalid_grant", "the refresh token was issued to another client")
    if token.rotated:
        # RFC 9700 §4.14.2: a rotated-out token used again means one of two
        # parties holds a stolen copy, and the server cannot tell which.
        if config.revoke_grant_on_refresh_reuse:
            revoke_grant(config, token.grant_id)
        raise OAuthError("invalid_grant", "the refresh token was already used (rotation)")
    if not token.active(call.now):
        raise OAuthError("invalid_grant", "the refresh token has expired or was revoked")
    return token


def refresh_token(call: Call) -> dict[str, Any]:
    """Refresh an access token (RFC 6749 §6), rotating the refresh token if configured.

    The new scope may narrow the original one, never widen it. Without
    rotation the answer carries no refresh token and the old one stays valid.
    """
    config = call.config
    old = _refreshable(call, required(call, "refresh_token"))
    scope = scope_for(call.client, call.form.get("scope"), within=old.scope.split())
    fields = issue(
        config,
        client_id=old.client_id,
        subject=old.subject,
        scope=scope,
        grant_type=old.grant_type,
        grant_id=old.grant_id,
        refresh=config.rotate_refresh_tokens,
    )
    if config.rotate_refresh_tokens:
        old.rotated = True
        # A narrower scope bounds this access token only; the new refresh
        # token keeps the original grant's scope (RFC 6749 §6).
        config.tokens[fields["refresh_token"]].scope = old.scope
    config.refreshes += 1
    return fields


def verify_trusted_jwt(call: Call, assertion: str) -> dict[str, Any]:
    """Verify a JWT from one of the trusted issuers (RFC 7523 §3); return its claims.

    Raises:
        InvalidJWT: why the JWT is refused.
    """
    _, claims = unverified(assertion)
    issuer = claims.get("iss")
    keys = call.config.trusted_issuers.get(issuer) if isinstance(issuer, str) else None
    if keys is None:
        raise InvalidJWT(f"issuer {issuer!r} is not trusted")
    verify_signature(assertion, keys, algorithms=HMAC_ALGORITHMS + PUBLIC_KEY_ALGORITHMS)
    check_claims(claims, now=call.now, audiences=call.audiences, issuer=issuer)
    return claims


def jwt_bearer(call: Call) -> dict[str, Any]:
    """Grant a token for a JWT from a trusted issuer (RFC 7523 §2.1)."""
    try:
        claims = verify_trusted_jwt(call, required(call, "assertion"))
    except InvalidJWT as error:
        raise OAuthError("invalid_grant", f"assertion: {error}") from None
    return issue(
        call.config,
        client_id=call.client.client_id,
        subject=claims["sub"],
        scope=scope_for(call.client, call.form.get("scope")),
        grant_type=JWT_BEARER,
        grant_id=new_grant(),
        refresh=False,
    )
