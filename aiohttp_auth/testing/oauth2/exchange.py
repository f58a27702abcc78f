"""Token exchange at the token endpoint (RFC 8693).

Policy: a subject (or actor) token is accepted when it is an active access or
refresh token this server issued, or a JWT from one of the configuration's
trusted issuers (type ``urn:ietf:params:oauth:token-type:jwt``). The result is
always an access token, without refresh token, for the subject of the subject
token; the actor's subject is kept as ``act`` (§4.1) and the requested
``audience`` / ``resource`` values as the token's audience. Errors follow
§2.2.2: ``invalid_request`` for a bad subject or actor token, ``invalid_target``
for an audience the server will not issue for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from .assertions import InvalidJWT
from .errors import OAuthError
from .grants import required, verify_trusted_jwt
from .protocol import Call, scope_for
from .tokens import issue, new_grant

__all__ = [
    "ACCESS_TOKEN_TYPE",
    "JWT_TYPE",
    "REFRESH_TOKEN_TYPE",
    "TOKEN_EXCHANGE",
    "token_exchange",
]

TOKEN_EXCHANGE: Final = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105
ACCESS_TOKEN_TYPE: Final = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105
REFRESH_TOKEN_TYPE: Final = "urn:ietf:params:oauth:token-type:refresh_token"  # noqa: S105
JWT_TYPE: Final = "urn:ietf:params:oauth:token-type:jwt"
_OWN_TYPES: Final = {ACCESS_TOKEN_TYPE: "access_token", REFRESH_TOKEN_TYPE: "refresh_token"}


@dataclass(frozen=True)
class _Presented:
    """What a subject or actor token stands for."""

    subject: str
    scopes: tuple[str, ...] | None  # None: not bounded by the token (a JWT)


def _presented(call: Call, role: str, value: str, token_type: str) -> _Presented:
    """Validate a ``subject_token`` or ``actor_token`` of *token_type* (RFC 8693 §2.1)."""
    if token_type in _OWN_TYPES:
        token = call.config.tokens.get(value)
        if token is None or token.kind != _OWN_TYPES[token_type] or not token.active(call.now):
            raise OAuthError(
                "invalid_request",
                f"the {role}_token is unknown, expired, revoked or not a {token_type}",
            )
        return _Presented(token.subject, tuple(token.scope.split()))
    if token_type == JWT_TYPE:
        try:
            claims = verify_trusted_jwt(call, value)
        except InvalidJWT as error:
            raise OAuthError("invalid_request", f"the {role}_token: {error}") from None
        return _Presented(claims["sub"], None)
    raise OAuthError("invalid_request", f"{role}_token_type {token_type!r} is not supported")


def _actor(call: Call) -> _Presented | None:
    actor_token = call.form.get("actor_token")
    actor_type = call.form.get("actor_token_type")
    if actor_token is None and actor_type is None:
        return None
    if actor_token is None or actor_type is None:
        # §2.1: actor_token_type is REQUIRED with actor_token and MUST NOT come without it.
        raise OAuthError("invalid_request", "actor_token and actor_token_type go together")
    return _presented(call, "actor", actor_token, actor_type)


def _audience(call: Call) -> tuple[str, ...]:
    targets = tuple(call.form.getall("audience", [])) + tuple(call.form.getall("resource", []))
    allowed = call.config.exchange_audiences
    refused = [target for target in targets if allowed is not None and target not in allowed]
    if refused:
        raise OAuthError("invalid_target", f"no token is issued for {', '.join(refused)}")
    return targets


def token_exchange(call: Call) -> dict[str, Any]:
    """Exchange a subject token (and maybe an actor token) for an access token (RFC 8693 §2)."""
    subject = _presented(
        call, "subject", required(call, "subject_token"), required(call, "subject_token_type")
    )
    actor = _actor(call)
    requested_type = call.form.get("requested_token_type", ACCESS_TOKEN_TYPE)
    if requested_type != ACCESS_TOKEN_TYPE:
        raise OAuthError(
            "invalid_request", f"requested_token_type {requested_type!r} is not issued here"
        )
    fields = issue(
        call.config,
        client_id=call.client.client_id,
        subject=subject.subject,
        scope=scope_for(call.client, call.form.get("scope"), within=subject.scopes),
        grant_type=TOKEN_EXCHANGE,
        grant_id=new_grant(),
        refresh=False,
        audience=_audience(call),
        actor=actor.subject if actor is not None else None,
    )
    # §2.2.1: issued_token_type is REQUIRED in a token exchange response.
    return {"issued_token_type": ACCESS_TOKEN_TYPE} | fields
