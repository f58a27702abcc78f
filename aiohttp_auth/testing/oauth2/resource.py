"""A protected resource that accepts the server's access tokens (RFC 6750).

``/resource/{tail}`` (any method) takes the token from the ``Authorization``
header (§2.1) and answers:

- no Bearer credentials: 401 with ``WWW-Authenticate: Bearer realm="..."``
  and no error code (§3.1);
- a malformed token: 400, ``error="invalid_request"``;
- an unknown, expired or revoked access token (or a refresh token): 401,
  ``error="invalid_token"``;
- a token without the scope the path needs (``resource_scopes`` of the
  configuration; ``/resource/admin`` needs ``admin`` by default): 403,
  ``error="insufficient_scope"`` with the ``scope`` needed (§3.1);
- otherwise 200 with JSON ``{client_id, sub, scope, path, method}``.

Requests are counted per token value in ``resource_requests``.
"""

from __future__ import annotations

import re
from typing import Final

from aiohttp import hdrs, web

from .config import CONFIG, AuthorizationServerConfig
from .tokens import IssuedToken

__all__ = ["protected_resource", "required_scope"]

# RFC 6750 §2.1 b64token.
_B64TOKEN: Final = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def required_scope(config: AuthorizationServerConfig, tail: str) -> str | None:
    """Return the scope ``/resource/<tail>`` needs, or None."""
    for prefix, scope in config.resource_scopes.items():
        if tail == prefix or tail.startswith(prefix.rstrip("/") + "/"):
            return scope
    return None


def _challenge(
    config: AuthorizationServerConfig,
    status: int,
    error: str | None = None,
    description: str | None = None,
    scope: str | None = None,
) -> web.Response:
    """Answer with a Bearer challenge (RFC 6750 §3)."""
    params = [f'realm="{config.realm}"']
    if error is not None:
        params.append(f'error="{error}"')
    if description is not None:
        params.append(f'error_description="{description}"')
    if scope is not None:
        params.append(f'scope="{scope}"')
    body = {"error": error or "unauthorized", "error_description": description}
    return web.json_response(
        body, status=status, headers={hdrs.WWW_AUTHENTICATE: "Bearer " + ", ".join(params)}
    )


def _problem(token: IssuedToken | None, now: float) -> str | None:
    if token is None or token.kind != "access_token":
        return "unknown access token"
    if token.revoked or token.rotated:
        return "the access token was revoked"
    if not token.active(now):
        return "the access token expired"
    return None


async def protected_resource(request: web.Request) -> web.Response:
    """Serve ``/resource/{tail}`` as described in the module docstring."""
    config = request.app[CONFIG]
    scheme, _, credentials = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    value = credentials.strip() if scheme.lower() == "bearer" else None
    config.resource_requests[value or ""] += 1
    if value is None:
        return _challenge(config, 401)
    if _B64TOKEN.fullmatch(value) is None:
        return _challenge(config, 400, "invalid_request", "malformed bearer token")
    token = config.tokens.get(value)
    problem = _problem(token, config.clock())
    if token is None or problem is not None:
        return _challenge(config, 401, "invalid_token", problem)
    needed = required_scope(config, request.match_info["tail"])
    if needed is not None and needed not in token.scopes:
        return _challenge(
            config, 403, "insufficient_scope", f"this resource needs scope {needed}", needed
        )
    return web.json_response(
        {
            "client_id": token.client_id,
            "sub": token.subject,
            "scope": token.scope,
            "path": request.path,
            "method": request.method,
        }
    )
