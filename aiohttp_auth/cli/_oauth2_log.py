"""The OAuth 2 demo's access log: what its authorization server answered, with named tokens.

[`serve_logged`][] serves an [`aiohttp_auth.testing.oauth2`][] authorization
server (which also serves the protected resource ``/resource/...``) with an
access log added: for every request it notes the token presented, what the
server answered and which tokens it issued. Tokens are named by the server's
records: "access token #2" is the second access token it issued, so the log
says which token went where without showing its value. A [`DemoClock`][]
shared by the server and the middleware times the log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from ..oauth2.protocol import bearer_challenge_error
from ..testing import (
    AuthorizationServerConfig,
    LocalServer,
    RecordedRequest,
    authorization_server_app,
)
from ..testing.oauth2 import CONFIG
from ._console import Outcome

__all__ = [
    "DemoClock",
    "Exchange",
    "bearer",
    "carried",
    "issued",
    "per_token",
    "serve_logged",
    "show_log",
    "token_name",
]


class DemoClock:
    """A clock that moves only when told to, shared by the server and the middleware.

    Args:
        start: the epoch time it shows first; the demo shows times relative to it.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.start = start
        self.now = start

    def __call__(self) -> float:
        """Return the current (fake) epoch time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock *seconds* forward."""
        self.now += seconds


@dataclass(frozen=True)
class Exchange:
    """One request the authorization server answered, as its access log shows it.

    Attributes:
        request: method and path, e.g. ``GET /resource/reports``.
        grant_type: the ``grant_type`` of a token request, else "".
        presented: the token the request carried: its Bearer token, the
            ``refresh_token`` of a refresh or the ``token`` of a revocation.
        status: the status answered.
        error: the OAuth error code answered (RFC 6749 §5.2, RFC 6750 §3.1), or None.
        issued: the tokens the request made the server issue.
        at: the server's clock when it answered.
    """

    request: str
    grant_type: str
    presented: str | None
    status: int
    error: str | None
    issued: tuple[str, ...]
    at: float


def bearer(headers: Mapping[str, str]) -> str | None:
    """Return the Bearer token of a request's headers (names in any case), or None."""
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    scheme, _, token = value.partition(" ")
    return token if scheme == "Bearer" else None


def _access_log(exchanges: list[Exchange]) -> Middleware:
    """Build a server middleware that appends an [`Exchange`][] per request answered."""

    @web.middleware
    async def log(request: web.Request, handler: Handler) -> web.StreamResponse:
        config = request.app[CONFIG]
        issued_before = len(config.issued)
        # The server has read the body already (it records every request): cached.
        form = dict(parse_qsl((await request.read()).decode("utf-8", "replace")))
        response = await handler(request)
        challenges = response.headers.getall(hdrs.WWW_AUTHENTICATE, ())
        call_error = config.calls[-1].error if request.path in ("/token", "/revoke") else None
        exchanges.append(
            Exchange(
                request=f"{request.method} {request.path}",
                grant_type=form.get("grant_type", ""),
                presented=form.get("refresh_token")
                or form.get("token")
                or bearer(request.headers),
                status=response.status,
                error=bearer_challenge_error(challenges) or call_error,
                issued=tuple(token.value for token in config.issued[issued_before:]),
                at=config.clock(),
            )
        )
        return response

    return log


def serve_logged(config: AuthorizationServerConfig, exchanges: list[Exchange]) -> LocalServer:
    """Serve an authorization server for *config* that logs to *exchanges*."""
    app = authorization_server_app(config)
    app.middlewares.append(_access_log(exchanges))
    return LocalServer(app)


def issued(config: AuthorizationServerConfig, kind: str) -> list[str]:
    """The values of the tokens of *kind* the server issued, in order."""
    return [token.value for token in config.issued if token.kind == kind]


def token_name(config: AuthorizationServerConfig, value: str | None) -> str:
    """Name a token by the server's records: ``access token #2``, ``refresh token #1``."""
    for kind in ("access_token", "refresh_token"):
        values = issued(config, kind)
        if value in values:
            return f"{kind.replace('_', ' ')} #{values.index(value) + 1}"
    return "no token" if value is None else "a token it never issued"


def per_token(config: AuthorizationServerConfig) -> dict[str, int]:
    """How many requests the protected resource received with each access token."""
    return {token_name(config, value or None): n for value, n in config.resource_requests.items()}


def _describe(config: AuthorizationServerConfig, exchange: Exchange) -> str:
    """One line for *exchange*: what was sent, what was answered and issued."""
    sent = [exchange.request, exchange.grant_type]
    if exchange.presented is not None:
        sent.append(token_name(config, exchange.presented))
    answer = " ".join(filter(None, [f"-> {exchange.status}", exchange.error]))
    tokens = ", ".join(token_name(config, value) for value in exchange.issued)
    return "  ".join(filter(None, [*sent, answer])) + (f": {tokens}" if tokens else "")


def show_log(
    out: Outcome,
    config: AuthorizationServerConfig,
    exchanges: Sequence[Exchange],
    *,
    clock: DemoClock | None = None,
    label: str = "server",
) -> None:
    """List *exchanges* under *label*, with the time of each if *clock* is given."""
    for exchange in exchanges:
        when = f"t={exchange.at - clock.start:g}s".ljust(8) if clock is not None else ""
        out.say(when + _describe(config, exchange), label=label)
        label = ""


def carried(config: AuthorizationServerConfig, request: RecordedRequest) -> str:
    """Describe a request another server received, and the access token it carried."""
    token = bearer(request.headers)
    authorization = (
        f"Bearer {token_name(config, token)}" if token is not None else "no Authorization"
    )
    return f"{request.method} {request.path}  {authorization}"
