"""A protected resource server that checks static credentials and records every request.

Routes (any method):

- ``/echo`` and any path under ``/echo/``: answers 200 with JSON
  ``{method, path, query, headers, body_length}``.
- ``/bearer``, ``/basic``, ``/api-key``: 200 with the same JSON when the request
  carries a valid credential, else 401 with an RFC 6750 / RFC 7617 challenge.
- ``/redirect?to=URL&status=302``: redirects to *URL* (another origin, in tests)
  with status 301, 302 (the default), 303, 307 or 308; 400 without ``to``.

Every request, whatever its route, is appended to the ``requests`` list of
[`ResourceConfig`][],
so a test can assert which credential bytes reached which server.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, TypeVar

from aiohttp import hdrs, web

__all__ = [
    "RESOURCE_CONFIG",
    "RecordedRequest",
    "ResourceConfig",
    "recording_app",
    "recording_handler",
    "redirect",
    "resource_app",
]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    body: bytes
    raw_headers: tuple[tuple[str, str], ...] = ()
    """Every header line as received, repeated names included (``headers``
    keeps one value per name, which could hide a second copy of a secret).
    """
    raw_target: str = ""
    """The request target exactly as received, percent-encoding included."""

    @classmethod
    def of(cls, request: web.Request, body: bytes) -> RecordedRequest:
        """Record *request*, whose body *body* has already been read."""
        return cls(
            request.method,
            request.path,
            request.query_string,
            dict(request.headers),
            body,
            tuple(
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in request.raw_headers
            ),
            request.raw_path,
        )

    def raw(self) -> str:
        """Everything the request carried, as one string to search for leaked secrets."""
        lines = [f"{self.method} {self.path}?{self.query_string}", self.raw_target]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        lines += [f"{name}: {value}" for name, value in self.raw_headers]
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
        found |= value is not None and _same(candidate, value)
    return found


def _same(expected: str, received: str) -> bool:
    # compare_digest refuses non-ASCII str; header values may hold any byte
    # (aiohttp decodes them with surrogateescape), so compare the bytes.
    return hmac.compare_digest(
        expected.encode("utf-8", "surrogateescape"), received.encode("utf-8", "surrogateescape")
    )


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
    except ValueError:  # binascii.Error, UnicodeDecodeError, and non-ASCII text
        return False
    expected = config.basic_users.get(login)
    return expected is not None and _same(expected, password)


def _api_key_ok(config: ResourceConfig, request: web.Request) -> bool:
    value = request.headers.get(config.api_key_header) or request.query.get(config.api_key_query)
    return _contains(config.api_keys, value)


_CHECKS: Final = {
    "/bearer": (_bearer_ok, 'Bearer realm="resource", error="invalid_token"'),
    "/basic": (_basic_ok, 'Basic realm="resource", charset="UTF-8"'),
    "/api-key": (_api_key_ok, 'ApiKey realm="resource"'),
}


_REDIRECT_STATUSES: Final = frozenset({"301", "302", "303", "307", "308"})


def redirect(request: web.Request) -> web.StreamResponse:
    """Answer ``/redirect?to=<URL>[&status=...]`` with that redirect (302 by default)."""
    target = request.query.get("to")
    status = request.query.get("status", "302")
    if not target or status not in _REDIRECT_STATUSES:
        raise web.HTTPBadRequest(
            text="/redirect needs ?to=<URL> and optionally &status=301|302|303|307|308"
        )
    return web.Response(status=int(status), headers={hdrs.LOCATION: target})


async def _handle(request: web.Request) -> web.StreamResponse:
    config = request.app[RESOURCE_CONFIG]
    body = await request.read()
    config.requests.append(RecordedRequest.of(request, body))
    if request.path == "/redirect":
        return redirect(request)
    check = _CHECKS.get(request.path)
    if check is not None and not check[0](config, request):
        return web.json_response(
            {"error": "unauthorized"}, status=401, headers={hdrs.WWW_AUTHENTICATE: check[1]}
        )
    if check is None and request.path != "/echo" and not request.path.startswith("/echo/"):
        raise web.HTTPNotFound()
    return web.json_response(_describe(request, body))


def resource_app(config: ResourceConfig | None = None) -> web.Application:
    """Build the protected resource application for *config* (a fresh one by default)."""
    app = web.Application()
    app[RESOURCE_CONFIG] = config if config is not None else ResourceConfig()
    app.router.add_route("*", "/{tail:.*}", _handle)
    return app


class _Records(Protocol):
    requests: list[RecordedRequest]
    statuses: list[int]


RecordsT = TypeVar("RecordsT", bound=_Records)


def recording_handler(
    key: web.AppKey[RecordsT],
    respond: Callable[[RecordsT, web.Request, bytes], web.StreamResponse],
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Build a handler that records each request and the status it got, around *respond*.

    The request (with its body, read once) is recorded before *respond* runs,
    so a request that raises still shows in the config's ``requests``; the
    status is recorded whether *respond* returns a response or raises an
    ``HTTPException``.
    """

    async def handle(request: web.Request) -> web.StreamResponse:
        config = request.app[key]
        body = await request.read()
        config.requests.append(RecordedRequest.of(request, body))
        try:
            response = respond(config, request, body)
        except web.HTTPException as error:
            config.statuses.append(error.status)
            raise
        config.statuses.append(response.status)
        return response

    return handle


def recording_app(
    key: web.AppKey[RecordsT],
    config: RecordsT,
    respond: Callable[[RecordsT, web.Request, bytes], web.StreamResponse],
) -> web.Application:
    """Build an application that answers every path with *respond*, recording each request.

    *config* is stored under *key*, where [`recording_handler`][] and the test find it.
    """
    app = web.Application()
    app[key] = config
    app.router.add_route("*", "/{tail:.*}", recording_handler(key, respond))
    return app
