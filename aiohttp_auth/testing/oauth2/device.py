"""The device authorization grant (RFC 8628).

``POST /device_authorization`` starts one (§3.1-3.2). The user's side is
``/device``: ``GET`` shows a small form (for a person running the demo),
``POST user_code=...&action=approve|deny`` decides, which is what tests do
(the user code is matched ignoring case and punctuation, §6.1). The device
polls the token endpoint and gets ``authorization_pending``, ``slow_down``
(polling faster than ``interval``, which then grows by 5 seconds, §3.5),
``access_denied``, ``expired_token`` or, once approved, its tokens.
"""

from __future__ import annotations

import html
import re
import secrets
from typing import Any, Final

from aiohttp import web

from .config import CONFIG, AuthorizationServerConfig
from .errors import OAuthError, json_response
from .grants import required
from .protocol import Call, read_form, scope_for
from .tokens import DeviceAuthorization, issue, new_grant

__all__ = ["DEVICE_CODE", "device_authorization", "device_code", "device_page", "device_decision"]

DEVICE_CODE: Final = "urn:ietf:params:oauth:grant-type:device_code"
# §6.1: no vowels (no words), no easily confused characters; 20^8 ~ 2^34.5 codes.
_USER_CODE_ALPHABET: Final = "BCDFGHJKLMNPQRSTVWXZ"
_NOT_CODE: Final = re.compile(r"[^A-Z]")
_SLOW_DOWN_STEP: Final = 5


def _user_code() -> str:
    letters = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(8))
    return f"{letters[:4]}-{letters[4:]}"


def device_authorization(call: Call) -> web.Response:
    """Start a device authorization (RFC 8628 §3.1-3.2)."""
    config, client = call.config, call.client
    if DEVICE_CODE not in client.grant_types:
        raise OAuthError("unauthorized_client", "the client may not use the device code grant")
    authorization = DeviceAuthorization(
        device_code=secrets.token_urlsafe(32),
        user_code=_user_code(),
        client_id=client.client_id,
        scope=scope_for(client, call.form.get("scope")),
        expires_at=call.now + config.device_code_lifetime,
        interval=config.device_poll_interval,
    )
    config.device_authorizations[authorization.device_code] = authorization
    verification_uri = call.issuer + "/device"
    return json_response(
        {
            "device_code": authorization.device_code,
            "user_code": authorization.user_code,
            "verification_uri": verification_uri,
            "verification_uri_complete": f"{verification_uri}?user_code={authorization.user_code}",
            "expires_in": int(config.device_code_lifetime),
            "interval": config.device_poll_interval,
        }
    )


def device_code(call: Call) -> dict[str, Any]:
    """Answer a device's poll of the token endpoint (RFC 8628 §3.4-3.5)."""
    pending = call.config.device_authorizations.get(required(call, "device_code"))
    if pending is None or pending.client_id != call.client.client_id:
        raise OAuthError("invalid_grant", "unknown device_code, or another client's")
    if pending.status == "used":
        raise OAuthError("invalid_grant", "the device_code was already exchanged")
    if call.now >= pending.expires_at:
        raise OAuthError("expired_token", "the device_code has expired; start again")
    pending.polls += 1
    last_poll, pending.last_poll = pending.last_poll, call.now
    if pending.status == "denied":
        raise OAuthError("access_denied", "the user denied the request")
    if pending.status == "pending":
        if last_poll is not None and call.now - last_poll < pending.interval:
            pending.interval += _SLOW_DOWN_STEP
            raise OAuthError("slow_down", f"poll at most every {pending.interval} seconds")
        raise OAuthError("authorization_pending", "the user has not decided yet")
    pending.status = "used"
    # Approved, so /device recorded who approved.
    assert pending.subject is not None
    return issue(
        call.config,
        client_id=pending.client_id,
        subject=pending.subject,
        scope=pending.scope,
        grant_type=DEVICE_CODE,
        grant_id=new_grant(),
        refresh=True,
    )


def _find(config: AuthorizationServerConfig, user_code: str) -> DeviceAuthorization | None:
    wanted = _NOT_CODE.sub("", user_code.upper())
    now = config.clock()
    for pending in config.device_authorizations.values():
        if (
            _NOT_CODE.sub("", pending.user_code) == wanted
            and pending.status == "pending"
            and now < pending.expires_at
        ):
            return pending
    return None


_PAGE: Final = """<!doctype html>
<html><head><title>Device sign-in</title></head><body>
<form method="post"><label>Code <input name="user_code" value="{code}"></label>
<button name="action" value="approve">Approve</button>
<button name="action" value="deny">Deny</button></form></body></html>
"""


async def device_page(request: web.Request) -> web.Response:
    """``GET /device``: the verification page a person would open (RFC 8628 §3.3)."""
    code = html.escape(request.query.get("user_code", ""), quote=True)
    return web.Response(text=_PAGE.format(code=code), content_type="text/html")


async def device_decision(request: web.Request) -> web.Response:
    """``POST /device``: approve or deny a user code, as the user would (RFC 8628 §3.3)."""
    config = request.app[CONFIG]
    try:
        form = read_form(request.content_type, await request.read())
        pending = _find(config, form.get("user_code", ""))
        if pending is None:
            raise OAuthError("invalid_request", "unknown, expired or already decided user_code")
        action = form.get("action", "approve")
        if action not in ("approve", "deny"):
            raise OAuthError("invalid_request", "action must be approve or deny")
        subject = form.get("username") or config.approving_user()
        if action == "approve" and subject is None:
            raise OAuthError(
                "invalid_request", "no user to approve as (set users or authorize_as)"
            )
    except OAuthError as error:
        return json_response(
            {"error": error.error, "error_description": error.description}, status=400
        )
    pending.status = "approved" if action == "approve" else "denied"
    pending.subject = subject
    return json_response(
        {"status": pending.status, "client_id": pending.client_id, "scope": pending.scope}
    )
