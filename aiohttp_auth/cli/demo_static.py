"""Demo scenarios for the static middlewares: Bearer, Basic and API keys.

Each scenario sends real requests to the demo servers, shows what arrived and
checks it against the servers' records, not against what the client meant to send.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from http import HTTPStatus
from typing import Final

from aiohttp import TraceConfig, hdrs
from aiohttp.client_middlewares import ClientMiddlewareType
from yarl import URL

from ..errors import InsecureTransportError
from ..static import ApiKeyMiddleware, BasicAuthMiddleware, BearerAuthMiddleware
from ..testing import RecordedRequest
from ._console import Outcome
from ._demo_env import (
    API_KEY,
    BASIC_LOGIN,
    BASIC_PASSWORD,
    BEARER_TOKEN,
    ROTATIONS,
    DemoEnv,
    Scenario,
    rotating_token,
    session_with,
)

__all__ = ["SCENARIOS"]

_API_KEY_HEADER: Final = "X-API-Key"
_CREDENTIAL_HEADERS: Final = (hdrs.AUTHORIZATION, _API_KEY_HEADER)
# RFC 2606 reserves example.com; the request is refused before any connection.
_INSECURE_URL: Final = URL("http://api.example.com/v1/me")
_REASONS: Final = {status.value: status.phrase for status in HTTPStatus}


def _header(request: RecordedRequest, name: str) -> str | None:
    """Return the value of header *name* (any case) as the server received it."""
    return next((v for k, v in request.headers.items() if k.lower() == name.lower()), None)


def _show_received(out: Outcome, received: Sequence[RecordedRequest], *, label: str) -> None:
    """Describe each request a server received, with its credential headers."""
    if not received:
        out.say("(nothing arrived)", label=label)
    for request in received:
        query = f"?{request.query_string}" if request.query_string else ""
        out.say(f"{request.method} {request.path}{query}", label=label)
        label = ""
        shown = [(name, _header(request, name)) for name in _CREDENTIAL_HEADERS]
        lines = [f"  {name}: {value}" for name, value in shown if value is not None]
        for line in lines or ["  (no Authorization, no X-API-Key)"]:
            out.say(line)


async def _get(url: URL, *middlewares: ClientMiddlewareType) -> int:
    """GET *url* in a fresh session with *middlewares*; return the final status."""
    async with session_with(*middlewares) as session, session.get(url) as response:
        await response.read()
        return response.status


def _status_line(status: int) -> str:
    return f"{status} {_REASONS.get(status, '')}".rstrip()


def _expect_ok(out: Outcome, status: int, label: str = "status") -> None:
    out.say(_status_line(status), label=label)
    out.check(status == 200, "the server answers 200", got=status)


async def bearer_static(env: DemoEnv, out: Outcome) -> None:
    """Send one fixed token (RFC 6750 §2.1)."""
    out.say(f"BearerAuthMiddleware({BEARER_TOKEN!r})", label="code")
    watch = env.watch()
    status = await _get(env.resource.make_url("/bearer"), BearerAuthMiddleware(BEARER_TOKEN))
    _show_received(out, watch.resource, label="sent")
    received = [_header(request, hdrs.AUTHORIZATION) for request in watch.resource]
    out.check(
        received == [f"Bearer {BEARER_TOKEN}"], "the server received the token", got=received
    )
    _expect_ok(out, status)


class RotatingToken:
    """An async token source that hands out a new token on every call.

    It stands for a source that must be asked each time: a file a sidecar
    rewrites, a vault, a short-lived token issuer.
    """

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> str:
        """Return the next token."""
        self.calls += 1
        return rotating_token(self.calls)


async def bearer_callable(env: DemoEnv, out: Outcome) -> None:
    """Ask an async callable for the token on every request."""
    source = RotatingToken()
    out.say("BearerAuthMiddleware(rotating_token)  # async, called per request", label="code")
    watch = env.watch()
    url = env.resource.make_url("/bearer")
    async with session_with(BearerAuthMiddleware(source)) as session:
        statuses = []
        for _ in range(ROTATIONS):
            async with session.get(url) as response:
                statuses.append(response.status)
    _show_received(out, watch.resource, label="sent")
    out.say(" ".join(map(str, statuses)), label="status")
    received = [_header(request, hdrs.AUTHORIZATION) for request in watch.resource]
    expected = [f"Bearer {rotating_token(call)}" for call in range(1, ROTATIONS + 1)]
    out.check(received == expected, f"each of the {ROTATIONS} requests carried a new token")
    out.check(source.calls == ROTATIONS, "the callable ran once per request", got=source.calls)
    out.check(statuses == [200] * ROTATIONS, "the server answers 200 each time", got=statuses)


def _decode_basic(header: str | None) -> str | None:
    scheme, _, encoded = (header or "").partition(" ")
    try:
        return base64.b64decode(encoded, validate=True).decode() if scheme == "Basic" else None
    except (binascii.Error, UnicodeDecodeError):
        return None


async def basic_utf8(env: DemoEnv, out: Outcome) -> None:
    """Send a non-ASCII login, encoded as UTF-8 (RFC 7617 §2.1)."""
    out.say(f"BasicAuthMiddleware({BASIC_LOGIN!r}, {BASIC_PASSWORD!r})", label="code")
    watch = env.watch()
    middleware = BasicAuthMiddleware(BASIC_LOGIN, BASIC_PASSWORD)
    status = await _get(env.resource.make_url("/basic"), middleware)
    _show_received(out, watch.resource, label="sent")
    decoded = [_decode_basic(_header(request, hdrs.AUTHORIZATION)) for request in watch.resource]
    out.say(f"  = base64 of the UTF-8 bytes of {decoded[0] if decoded else None!r}")
    expected = f"{BASIC_LOGIN}:{BASIC_PASSWORD}"
    out.check(decoded == [expected], "the header decodes to login:password in UTF-8")
    _expect_ok(out, status)


async def api_key_header(env: DemoEnv, out: Outcome) -> None:
    """Send an API key in the X-API-Key header."""
    out.say(f"ApiKeyMiddleware({API_KEY!r})", label="code")
    watch = env.watch()
    status = await _get(env.resource.make_url("/api-key"), ApiKeyMiddleware(API_KEY))
    _show_received(out, watch.resource, label="sent")
    received = [_header(request, _API_KEY_HEADER) for request in watch.resource]
    out.check(received == [API_KEY], "the server received the key in X-API-Key", got=received)
    _expect_ok(out, status)


async def api_key_query(env: DemoEnv, out: Outcome) -> None:
    """Send an API key as a query parameter, next to the request's own parameters."""
    out.say(f'ApiKeyMiddleware({API_KEY!r}, query_param="api_key")', label="code")
    watch = env.watch()
    url = env.resource.make_url("/api-key").with_query(page="2")
    status = await _get(url, ApiKeyMiddleware(API_KEY, query_param="api_key"))
    _show_received(out, watch.resource, label="sent")
    queries = [dict(URL(f"?{request.query_string}").query) for request in watch.resource]
    expected = [{"page": "2", "api_key": API_KEY}]
    out.check(queries == expected, "the key was added to the query, which kept page=2")
    headers = [_header(request, _API_KEY_HEADER) for request in watch.resource]
    out.check(headers == [None], "no X-API-Key header was sent", got=headers)
    _expect_ok(out, status)


async def redirect_elsewhere(env: DemoEnv, out: Outcome) -> None:
    """Follow a redirect to another origin: that hop carries no credential."""
    out.say(f"BearerAuthMiddleware({BEARER_TOKEN!r}), ApiKeyMiddleware({API_KEY!r})", label="code")
    out.say("both bind to the origin of their first request (origins=None)")
    watch = env.watch()
    target = env.other.make_url("/echo")
    url = env.resource.make_url("/redirect").with_query(to=str(target))
    bearer, key = BearerAuthMiddleware(BEARER_TOKEN), ApiKeyMiddleware(API_KEY)
    status = await _get(url, bearer, key)
    _show_received(out, watch.resource, label="hop 1")
    _show_received(out, watch.other, label="hop 2")
    out.say(f"hop 2 went to {target.origin()}, another origin")
    first = [(_header(r, hdrs.AUTHORIZATION), _header(r, _API_KEY_HEADER)) for r in watch.resource]
    out.check(first == [(f"Bearer {BEARER_TOKEN}", API_KEY)], "hop 1 carried both credentials")
    leaked = [r.raw() for r in watch.other if BEARER_TOKEN in r.raw() or API_KEY in r.raw()]
    out.check(
        len(watch.other) == 1 and not leaked,
        "the other origin received the request with no token and no key",
        got=f"{len(watch.other)} requests, {len(leaked)} carrying a credential",
    )
    _expect_ok(out, status, label="final")


def _connection_trace(attempts: list[str]) -> TraceConfig:
    """Build a trace that notes each DNS lookup and connection a session starts."""
    trace = TraceConfig()

    async def note(_session: object, _context: object, params: object) -> None:
        attempts.append(type(params).__name__)

    trace.on_dns_resolvehost_start.append(note)
    trace.on_connection_create_start.append(note)
    return trace


async def insecure_transport(env: DemoEnv, out: Outcome) -> None:
    """Refuse to send a token over plain http to a host that is not this machine."""
    out.say(f"BearerAuthMiddleware({BEARER_TOKEN!r})", label="code")
    out.say(f"GET {_INSECURE_URL}", label="request")
    attempts: list[str] = []
    error: InsecureTransportError | None = None
    middleware = BearerAuthMiddleware(BEARER_TOKEN)
    # aiohttp runs the middlewares before its connector (the innermost handler
    # connects), so the refusal comes before any DNS lookup or socket.
    async with session_with(middleware, trace_configs=[_connection_trace(attempts)]) as session:
        try:
            async with session.get(_INSECURE_URL) as response:
                out.say(_status_line(response.status), label="status")
        except InsecureTransportError as exc:
            error = exc
            out.say(f"{type(exc).__name__}: {exc}", label="raised")
    out.check(error is not None, "InsecureTransportError is raised")
    out.check(BEARER_TOKEN not in str(error), "the message does not contain the token")
    out.check(not attempts, "no DNS lookup and no connection was attempted", got=attempts)


async def redacted_reprs(env: DemoEnv, out: Outcome) -> None:
    """Show that a middleware's repr names its secret's length, never the secret."""
    for middleware, secret in (
        (BearerAuthMiddleware(BEARER_TOKEN), BEARER_TOKEN),
        (BasicAuthMiddleware(BASIC_LOGIN, BASIC_PASSWORD), BASIC_PASSWORD),
        (ApiKeyMiddleware(API_KEY), API_KEY),
    ):
        text = repr(middleware)
        out.say(text, label="repr")
        redaction = f"<redacted {len(secret)} chars>"
        out.check(
            redaction in text and secret not in text,
            f"{type(middleware).__name__} shows {redaction}, not the secret",
        )


SCENARIOS: Final[tuple[Scenario, ...]] = (
    Scenario("Bearer token, static", bearer_static),
    Scenario("Bearer token from an async callable, new on every request", bearer_callable),
    Scenario("Basic authentication with a UTF-8 login", basic_utf8),
    Scenario("API key in a header", api_key_header),
    Scenario("API key in the query string", api_key_query),
    Scenario("Redirect to another origin carries no credential", redirect_elsewhere),
    Scenario("Plain http to a remote host is refused before connecting", insecure_transport),
    Scenario("Reprs never show a secret", redacted_reprs),
)
