"""A protected resource server that checks static credentials and records every request.

Routes (any method):

- ``/echo``: answers 200 with JSON ``{method, path, query, headers, body_length}``.
- ``/bearer``, ``/basic``, ``/api-key``: 200 with the same JSON when the request
  carries a valid credential, else 401 with an RFC 6750 / RFC 7617 challenge.
- ``/redirect?to=URL&status=302``: redirects to *URL* (another origin, in tests).

Every request, whatever its route, is appended to :attr:`ResourceConfig.requests`,
so a test can assert which credential bytes reached which server.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import hdrs, web

__all__ = ["RESOURCE_CONFIG", "RecordedRequest", "ResourceConfig", "resource_app"]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    body: bytes

    def raw(self) -> str:
        """Everything the request carried, as one string to search for leaked secrets."""
        lines = [f"{self.method} {self.path}?{self.query_string}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        return "\n".join(lines) + "\n" + self.body.decode("latin-1")


@dataclass
class ResourceConfig:
    """What the resource server accepts, and what it has seen.

    Attributes:
        bearer_tokens: tokens accepted by ``/bearer``.
        basic_users: login -> password accepted by ``/basic``.
        api_keys: keys accepted by ``/api-key`` in *api_key_header* or *api_key_query*.
        requests: every request received, in order.
    """

    bearer_tokens: frozenset[str] = frozenset()
    basic_users: dict[str, str] = field(default_factory=dict)
    api_keys: frozenset[str] = frozenset()
    api_key_header: str = "X-API-Key"
    api_key_query: str = "api_key"
    requests: list[RecordedRequest] = field(default_factory=list)


RESOURCE_CONFIG: Final = web.AppKey("resource_config", ResourceConfig)


def _contains(candidates: frozenset[str], value: str | None) -> bool:
    # Compare every candidate in constant time, so the test server models a
    # careful real server.
    found = False
    for candidate in candidates:
        found |= value is not None and hmac.compare_digest(candidate, value)
    return found


def _describe(request: web.Request, body: bytes) -> dict[str, Any]:
    return {
        "method": request.method,
        "path": request.path,
        "query": dict(request.query),
        "headers": dict(request.headers),
        "body_length": len(body),
    }


def _bearer_ok(config: ResourceConfig, request: web.Request) -> bool:
    scheme, _, token = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    return scheme.lower() == "bearer" and _contains(config.bearer_tokens, token)


def _basic_ok(config: ResourceConfig, request: web.Request) -> bool:
    scheme, _, encoded = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        login, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    expected = config.basic_users.get(login)
    return expected is not None and hmac.compare_digest(expected, password)


def _api_key_ok(config: ResourceConfig, request: web.Request) -> bool:
    value = request.headers.get(config.api_key_header) or request.query.get(config.api_key_query)
    return _contains(config.api_keys, value)


_CHECKS: Final = {
    "/bearer": (_bearer_ok, 'Bearer realm="resource", error="invalid_token"'),
    "/basic": (_basic_ok, 'Basic realm="resource", charset="UTF-8"'),
    "/api-key": (_api_key_ok, 'ApiKey realm="resource"'),
}


async def _handle(request: web.Request) -> web.StreamResponse:
    config = request.app[RESOURCE_CONFIG]
    body = await request.read()
    config.requests.append(
        RecordedRequest(
            request.method, request.path, request.query_string, dict(request.headers), body
        )
    )
    if request.path == "/redirect":
        status = int(request.query.get("status", "302"))
        return web.Response(status=status, headers={hdrs.LOCATION: request.query["to"]})
    check = _CHECKS.get(request.path)
    if check is not None and not check[0](config, request):
        return web.json_response(
            {"error": "unauthorized"}, status=401, headers={hdrs.WWW_AUTHENTICATE: check[1]}
        )
    if check is None and request.path != "/echo":
        raise web.HTTPNotFound()
    return web.json_response(_describe(request, body))


def resource_app(config: ResourceConfig | None = None) -> web.Application:
    """Build the protected resource application for *config* (a fresh one by default)."""
    app = web.Application()
    app[RESOURCE_CONFIG] = config if config is not None else ResourceConfig()
    app.router.add_route("*", "/{tail:.*}", _handle)
    return app
