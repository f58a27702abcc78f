"""The token, revocation and introspection endpoints (RFC 6749 §3.2, RFC 7009, RFC 7662)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from aiohttp import web

from .authorize import authorization_code
from .device import DEVICE_CODE, device_code
from .errors import NO_STORE, OAuthError, json_response
from .exchange import TOKEN_EXCHANGE, token_exchange
from .grants import JWT_BEARER, client_credentials, jwt_bearer, password, refresh_token, required
from .protocol import Call
from .tokens import IssuedToken, revoke_grant

__all__ = ["GRANTS", "introspect", "revoke", "token"]

GRANTS: Final[dict[str, Callable[[Call], dict[str, Any]]]] = {
    "authorization_code": authorization_code,
    "client_credentials": client_credentials,
    "refresh_token": refresh_token,
    "password": password,
    JWT_BEARER: jwt_bearer,
    TOKEN_EXCHANGE: token_exchange,
    DEVICE_CODE: device_code,
}
"""grant_type -> the function answering it."""


def token(call: Call) -> web.Response:
    """``POST /token``: dispatch on ``grant_type`` (RFC 6749 §4, §5)."""
    grant_type = required(call, "grant_type")
    grant = GRANTS.get(grant_type)
    if grant is None:
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
    if grant_type not in call.client.grant_types:
        raise OAuthError(
            "unauthorized_client", f"client {call.client.client_id!r} may not use {grant_type}"
        )
    return json_response(grant(call))


def _find(call: Call) -> IssuedToken | None:
    # RFC 7009 §2.1, RFC 7662 §2.1: token_type_hint is only a hint; every
    # kind of token is searched whatever it says.
    return call.config.tokens.get(required(call, "token"))


def revoke(call: Call) -> web.Response:
    """``POST /revoke``: revoke an access or refresh token (RFC 7009 §2).

    Unknown tokens are answered 200 like known ones (§2.2). Revoking a refresh
    token revokes the access tokens of its grant too (§2.1).
    """
    found = _find(call)
    if found is not None:
        if found.client_id != call.client.client_id:
            # §2.1: the server verifies that the token was issued to the
            # requesting client and refuses the request otherwise.
            raise OAuthError("invalid_grant", "the token was issued to another client")
        if found.active(call.now):
            call.config.revocations.append(found)
        found.revoked = True
        if found.kind == "refresh_token":
            revoke_grant(call.config, found.grant_id)
    return web.Response(headers=NO_STORE)


def introspect(call: Call) -> web.Response:
    """``POST /introspect``: describe a token (RFC 7662 §2.2)."""
    call.config.introspections += 1
    found = _find(call)
    if found is None or not found.active(call.now):
        return json_response({"active": False})
    description: dict[str, Any] = {
        "active": True,
        "scope": found.scope,
        "client_id": found.client_id,
        "iat": int(found.issued_at),
        "iss": call.issuer,
        "sub": found.subject,
    }
    if found.kind == "access_token":
        description["token_type"] = call.config.token_type
    if found.expires_at is not None:
        description["exp"] = int(found.expires_at)
    if found.grant_type != "client_credentials":
        description["username"] = found.subject
    if found.audience:
        description["aud"] = list(found.audience)
    if found.actor is not None:
        description["act"] = {"sub": found.actor}  # RFC 8693 §4.1
    return json_response(description)
