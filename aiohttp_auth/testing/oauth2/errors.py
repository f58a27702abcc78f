"""Error and success responses of the authorization server's endpoints (RFC 6749 §5).

Every answer that may carry a token or an error about one is JSON with
``Cache-Control: no-store`` and ``Pragma: no-cache`` (RFC 6749 §5.1, §5.2).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from aiohttp import hdrs, web

__all__ = ["NO_STORE", "OAuthError", "error_response", "json_response"]

NO_STORE: Final = {hdrs.CACHE_CONTROL: "no-store", hdrs.PRAGMA: "no-cache"}


class OAuthError(Exception):
    """An RFC 6749 §5.2 error to answer.

    Attributes:
        error: the error code, e.g. ``invalid_grant``.
        description: the ``error_description``: what was wrong, no secret.
        status: the HTTP status (400, or 401 for ``invalid_client``).
        basic_challenge: send ``WWW-Authenticate: Basic`` (a failed Basic
            authentication must get one, RFC 6749 §5.2).
    """

    def __init__(
        self, error: str, description: str, *, status: int = 400, basic_challenge: bool = False
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = 401 if basic_challenge else status
        self.basic_challenge = basic_challenge


def json_response(fields: Mapping[str, Any], *, status: int = 200) -> web.Response:
    """Answer *fields* as JSON that no cache may store (RFC 6749 §5.1)."""
    return web.Response(
        status=status,
        text=json.dumps(fields),
        content_type="application/json",
        headers=NO_STORE,
    )


def error_response(error: OAuthError, *, realm: str) -> web.Response:
    """Answer *error* as RFC 6749 §5.2 JSON, with a Basic challenge if it asks for one."""
    response = json_response(
        {"error": error.error, "error_description": error.description}, status=error.status
    )
    if error.basic_challenge:
        response.headers[hdrs.WWW_AUTHENTICATE] = f'Basic realm="{realm}", charset="UTF-8"'
    return response
