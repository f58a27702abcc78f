"""Faults the authorization server can inject, to prove a client's error handling.

Plan them with ``AuthorizationServerConfig.inject``:
each is consumed by the next request to its endpoint (``/token`` by default;
any path of the server, such as the metadata or ``/resource/x``), in the
order planned. What real token endpoints do on a bad day: a 5xx with or
without ``Retry-After``, a slow answer, an HTML login page or other garbage
with status 200, a dropped connection.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Final, Literal

from aiohttp import hdrs, web

from ...errors import ConfigurationError

__all__ = ["GARBAGE", "MAX_FAULT_DELAY", "Fault", "FaultKind", "GarbageKind", "apply_fault"]

FaultKind = Literal["status", "delay", "garbage", "close"]
GarbageKind = Literal["html", "text", "json_without_token", "truncated_json", "json_array"]

MAX_FAULT_DELAY: Final = 60.0
"""Longest delay a fault may add, so that no test can hang on one."""

GARBAGE: Final[dict[GarbageKind, tuple[str, str]]] = {
    # A captive portal or an SSO login page answering instead of the API.
    "html": ("text/html", "<!doctype html><html><title>Sign in</title><form></form></html>"),
    "text": ("text/plain", "OK"),
    "json_without_token": (
        "application/json",
        json.dumps({"token_type": "Bearer", "expires_in": 3600}),
    ),
    "truncated_json": ("application/json", '{"access_token": "abc'),
    "json_array": ("application/json", json.dumps(["access_token"])),
}
"""Garbage bodies by kind: (content type, body), all answered with status 200."""


@dataclass(frozen=True)
class Fault:
    """One fault, for one request to *endpoint*.

    Build it with [`status`][aiohttp_auth.testing.oauth2.Fault.status],
    [`delay`][aiohttp_auth.testing.oauth2.Fault.delay],
    [`garbage`][aiohttp_auth.testing.oauth2.Fault.garbage] or
    [`close`][aiohttp_auth.testing.oauth2.Fault.close].

    Attributes:
        kind: what happens.
        http_status: the status answered (``status`` and ``garbage``).
        retry_after: the ``Retry-After`` value sent with it, if any.
        seconds: how long the answer is delayed (``delay``); the request is
            then handled normally.
        body: the body answered (``status`` and ``garbage``).
        content_type: its content type.
        endpoint: the path whose next request takes the fault (any route,
            e.g. ``/.well-known/oauth-authorization-server`` to fail discovery).
    """

    kind: FaultKind
    http_status: int = 200
    retry_after: str | None = None
    seconds: float = 0.0
    body: str = ""
    content_type: str = "text/plain"
    endpoint: str = "/token"

    def __post_init__(self) -> None:
        if not 0 <= self.seconds <= MAX_FAULT_DELAY:
            raise ConfigurationError(
                f"Fault: a delay must be between 0 and {MAX_FAULT_DELAY} seconds"
            )
        if not 100 <= self.http_status <= 599:
            raise ConfigurationError(f"Fault: {self.http_status} is not an HTTP status")

    @classmethod
    def status(
        cls,
        status: int = 500,
        *,
        retry_after: float | str | None = None,
        body: str | None = None,
        content_type: str = "text/plain",
        endpoint: str = "/token",
    ) -> Fault:
        """Answer *status* (e.g. 500, or 503 with ``Retry-After``, RFC 9110 §10.2.3)."""
        if isinstance(retry_after, (int, float)):
            retry_after = str(int(retry_after))
        text = body if body is not None else f"injected fault: status {status}"
        return cls("status", status, retry_after, 0.0, text, content_type, endpoint)

    @classmethod
    def delay(cls, seconds: float, *, endpoint: str = "/token") -> Fault:
        """Wait *seconds* (at most ``MAX_FAULT_DELAY``), then answer normally."""
        return cls("delay", seconds=seconds, endpoint=endpoint)

    @classmethod
    def garbage(cls, kind: GarbageKind = "html", *, endpoint: str = "/token") -> Fault:
        """Answer 200 with a body no client can read a token from (see ``GARBAGE``)."""
        content_type, body = GARBAGE[kind]
        return cls("garbage", 200, None, 0.0, body, content_type, endpoint)

    @classmethod
    def close(cls, *, endpoint: str = "/token") -> Fault:
        """Drop the connection without answering."""
        return cls("close", endpoint=endpoint)


async def apply_fault(request: web.Request, fault: Fault) -> web.Response | None:
    """Apply *fault* to *request*.

    Returns:
        The response to send instead of the normal one (for ``close`` the
        connection is already gone and it reaches no one), or None when the
        request is then to be handled normally (``delay``).
    """
    if fault.kind == "delay":
        await asyncio.sleep(fault.seconds)
        return None
    if fault.kind == "close":
        transport = request.transport
        if transport is not None:  # pragma: no branch - None only once already closed
            transport.close()
        return web.Response(status=500)
    headers = {hdrs.CACHE_CONTROL: "no-store"}
    if fault.retry_after is not None:
        headers[hdrs.RETRY_AFTER] = fault.retry_after
    return web.Response(
        status=fault.http_status,
        text=fault.body,
        content_type=fault.content_type,
        headers=headers,
    )
