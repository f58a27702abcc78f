"""The server's state: issued tokens, authorization codes, device authorizations.

Tokens are opaque random strings (``secrets.token_urlsafe``), looked up in
[`AuthorizationServerConfig.tokens`][aiohttp_auth.testing.oauth2.AuthorizationServerConfig],
with an expiry by the configuration's clock. Every token issued for one
authorization grant shares a ``grant_id``, so revoking a refresh token can
revoke the access tokens of its grant (RFC 7009 §2.1) and a reused code or
refresh token can revoke everything it produced (RFC 6749 §4.1.2, RFC 9700 §4.14.2).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .config import AuthorizationServerConfig

__all__ = [
    "AuthorizationCode",
    "DeviceAuthorization",
    "IssuedToken",
    "TokenKind",
    "issue",
    "new_grant",
    "revoke_grant",
]

TokenKind = Literal["access_token", "refresh_token"]


@dataclass
class IssuedToken:
    """A token the server issued, and what it stands for.

    Attributes:
        value: the token itself.
        kind: ``access_token`` or ``refresh_token``.
        client_id: the client it was issued to.
        subject: the user (or, for client credentials, the client) it acts for.
        scope: the scopes granted, space-separated (RFC 6749 §3.3).
        grant_type: the grant that produced it.
        grant_id: shared by every token of the same authorization grant.
        issued_at: epoch seconds, by the configuration's clock.
        expires_at: epoch seconds, or None for no expiry.
        audience: the ``aud`` of a token from token exchange (RFC 8693 §2.1).
        actor: the subject of the actor token in token exchange (RFC 8693 §4.1).
        revoked: revoked through ``/revoke``, code reuse or refresh token reuse.
        rotated: a refresh token replaced by a newer one (rotation).
    """

    value: str = field(repr=False)
    kind: TokenKind
    client_id: str
    subject: str
    scope: str
    grant_type: str
    grant_id: str
    issued_at: float
    expires_at: float | None
    audience: tuple[str, ...] = ()
    actor: str | None = None
    revoked: bool = False
    rotated: bool = False

    def active(self, now: float) -> bool:
        """Whether the token may be used at *now* (RFC 7662 §2.2 ``active``)."""
        return (
            not self.revoked
            and not self.rotated
            and (self.expires_at is None or now < self.expires_at)
        )

    @property
    def scopes(self) -> frozenset[str]:
        """The granted scopes as a set."""
        return frozenset(self.scope.split())


@dataclass
class AuthorizationCode:
    """An authorization code and the request it answered (RFC 6749 §4.1, RFC 7636 §4.4).

    Attributes:
        code: the code.
        client_id: the client it was issued to.
        redirect_uri: the ``redirect_uri`` of the request, or None when it
            named none (then the token request must name none, §4.1.3).
        scope: the scopes granted.
        subject: the user who approved.
        code_challenge: the PKCE challenge, or None.
        code_challenge_method: ``S256`` or ``plain``.
        nonce: the OpenID Connect ``nonce`` to put in the ID token, or None.
        expires_at: epoch seconds.
        grant_id: the grant id of the tokens it produces.
        used: already exchanged for tokens (codes are single-use, §4.1.2).
    """

    code: str = field(repr=False)
    client_id: str
    redirect_uri: str | None
    scope: str
    subject: str
    code_challenge: str | None
    code_challenge_method: str
    nonce: str | None
    expires_at: float
    grant_id: str
    used: bool = False


@dataclass
class DeviceAuthorization:
    """A device authorization in progress (RFC 8628 §3.2-3.5).

    Attributes:
        device_code: the code the device polls with.
        user_code: the code the user enters at the verification URI.
        client_id: the client (device) that asked.
        scope: the scopes asked for.
        expires_at: epoch seconds.
        interval: the minimum seconds between polls; grows by 5 on every
            ``slow_down`` (§3.5).
        status: ``pending``, ``approved``, ``denied`` or ``used``.
        subject: the user who approved, once approved.
        last_poll: when the device last polled (epoch seconds), or None.
        polls: how many times it polled.
    """

    device_code: str = field(repr=False)
    user_code: str
    client_id: str
    scope: str
    expires_at: float
    interval: float
    status: Literal["pending", "approved", "denied", "used"] = "pending"
    subject: str | None = None
    last_poll: float | None = None
    polls: int = 0


def new_grant() -> str:
    """Return a fresh grant id."""
    return secrets.token_hex(8)


def issue(
    config: AuthorizationServerConfig,
    *,
    client_id: str,
    subject: str,
    scope: str,
    grant_type: str,
    grant_id: str,
    refresh: bool,
    audience: tuple[str, ...] = (),
    actor: str | None = None,
) -> dict[str, Any]:
    """Issue an access token (and a refresh token if *refresh*) and record them.

    Returns:
        The fields of the successful response (RFC 6749 §5.1).
    """
    now = config.clock()
    access = _new_token(
        config, "access_token", client_id, subject, scope, grant_type, grant_id, now
    )
    access.audience, access.actor = audience, actor
    fields: dict[str, Any] = {"access_token": access.value, "token_type": config.token_type}
    if config.send_expires_in:
        lifetime = config.access_token_lifetime
        fields["expires_in"] = int(lifetime) if float(lifetime).is_integer() else lifetime
    if refresh:
        refresh_token = _new_token(
            config, "refresh_token", client_id, subject, scope, grant_type, grant_id, now
        )
        fields["refresh_token"] = refresh_token.value
    if scope:
        fields["scope"] = scope
    return fields


def _new_token(
    config: AuthorizationServerConfig,
    kind: TokenKind,
    client_id: str,
    subject: str,
    scope: str,
    grant_type: str,
    grant_id: str,
    now: float,
) -> IssuedToken:
    lifetime = (
        config.access_token_lifetime if kind == "access_token" else config.refresh_token_lifetime
    )
    token = IssuedToken(
        value=secrets.token_urlsafe(32),
        kind=kind,
        client_id=client_id,
        subject=subject,
        scope=scope,
        grant_type=grant_type,
        grant_id=grant_id,
        issued_at=now,
        expires_at=None if lifetime is None else now + lifetime,
    )
    config.tokens[token.value] = token
    config.issued.append(token)
    return token


def revoke_grant(config: AuthorizationServerConfig, grant_id: str) -> None:
    """Revoke every token of the grant *grant_id*."""
    for token in config.tokens.values():
        if token.grant_id == grant_id:
            token.revoked = True
