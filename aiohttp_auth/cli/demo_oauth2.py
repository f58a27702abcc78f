"""Demo scenarios for OAuth 2: one token for many requests, refresh before expiry, single flight.

Each scenario serves its own embedded authorization server
([`aiohttp_auth.testing.oauth2`][]) on 127.0.0.1, which also serves the
protected resource ``/resource/...``, with the access log of
[`aiohttp_auth.cli._oauth2_log`][]: every request, the token it presented
(named by the server's records, "access token #2"), what the server answered
and which tokens it issued. The checks read the server's own records: token
endpoint calls per grant, requests per access token, and the state of every
token it issued.

The refresh scenario runs the server and the middleware on one fake clock
(a [`DemoClock`][aiohttp_auth.cli._oauth2_log.DemoClock]), so a token nears its
expiry without the demo waiting for it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import Final

from aiohttp import ClientSession
from yarl import URL

from ..errors import OAuth2Error
from ..oauth2 import ClientCredentials, OAuth2Middleware, Password, request_token, revoke
from ..stores import MemoryTokenStore
from ..testing import AuthorizationServerConfig, LocalServer
from ._console import Outcome
from ._demo_env import (
    OAUTH2_CLIENT_ID,
    OAUTH2_CLIENT_SECRET,
    OAUTH2_PASSWORD,
    OAUTH2_USERNAME,
    DemoEnv,
    Scenario,
    demo_oauth2_config,
    session_with,
)
from ._oauth2_log import (
    DemoClock,
    Exchange,
    bearer,
    carried,
    issued,
    per_token,
    serve_logged,
    show_log,
    token_name,
)

__all__ = ["SCENARIOS"]

REQUESTS: Final = 5
"""Requests the client credentials scenario sends with one token."""
CONCURRENT: Final = 100
"""Requests the single-flight scenario starts at once."""
LIFETIME: Final = 300.0
"""Seconds an access token lives in the refresh scenario."""
LEEWAY: Final = 30.0
"""Seconds before expiry the refresh scenario's middleware refreshes."""
_RESOURCE: Final = "/resource/reports"
_CLIENT: Final = f"{OAUTH2_CLIENT_ID!r}, {OAUTH2_CLIENT_SECRET!r}"
_CLIENT_CREDENTIALS: Final = f"ClientCredentials(token_url, {_CLIENT})"


async def _get(session: ClientSession, url: URL) -> int:
    """GET *url*; return the status once the body is read."""
    async with session.get(url) as response:
        await response.read()
        return response.status


def _client_credentials(server: LocalServer) -> ClientCredentials:
    return ClientCredentials(
        str(server.make_url("/token")), OAUTH2_CLIENT_ID, OAUTH2_CLIENT_SECRET
    )


def _password(server: LocalServer) -> Password:
    return Password(
        str(server.make_url("/token")),
        OAUTH2_CLIENT_ID,
        OAUTH2_CLIENT_SECRET,
        username=OAUTH2_USERNAME,
        password=OAUTH2_PASSWORD,
    )


async def client_credentials(env: DemoEnv, out: Outcome) -> None:
    """Send several requests with one token from the client credentials grant (RFC 6749 §4.4)."""
    config = demo_oauth2_config()
    exchanges: list[Exchange] = []
    out.say(f"OAuth2Middleware({_CLIENT_CREDENTIALS})", label="code")
    async with serve_logged(config, exchanges) as server:
        urls = [server.make_url(f"{_RESOURCE}/{number}") for number in range(1, REQUESTS + 1)]
        async with session_with(OAuth2Middleware(_client_credentials(server))) as session:
            statuses = [await _get(session, url) for url in urls]
    show_log(out, config, exchanges)
    out.check(statuses == [200] * REQUESTS, f"all {REQUESTS} requests got 200", got=statuses)
    out.check(
        config.token_calls == {"client_credentials": 1},
        f"{REQUESTS} requests cost one token request",
        got=dict(config.token_calls),
    )
    out.check(
        per_token(config) == {"access token #1": REQUESTS},
        f"the resource received access token #1 on all {REQUESTS}",
        got=per_token(config),
    )


async def _replay(
    session: ClientSession, grant: Password, refresh_token: str, clock: DemoClock
) -> str:
    """Send *refresh_token* to the token endpoint again; return the error code, or "accepted"."""
    request = grant.refresh_request(refresh_token, now=clock(), jti="demo-replay")
    try:
        await request_token(session, request, now=clock)
    except OAuth2Error as exc:
        return exc.error
    return "accepted"


@dataclass
class _RefreshRun:
    """What the refresh scenario saw, read before the replay changed the server's state."""

    statuses: list[int]
    token_calls: dict[str, int]
    kept: list[str]
    rotated: list[bool]
    replayed: str
    replay_at: int


async def _refresh_and_replay(
    config: AuthorizationServerConfig, clock: DemoClock, exchanges: list[Exchange]
) -> _RefreshRun:
    """Send a request, let the token near expiry, send another; then replay refresh token #1."""
    store = MemoryTokenStore()
    async with serve_logged(config, exchanges) as server:
        grant = _password(server)
        middleware = OAuth2Middleware(grant, store=store, leeway=LEEWAY, clock=clock)
        async with session_with(middleware) as session:
            statuses = [await _get(session, server.make_url(_RESOURCE))]
            clock.advance(LIFETIME - LEEWAY + 1)
            statuses.append(await _get(session, server.make_url(_RESOURCE)))
            stored = await store.get(middleware.key)
            refresh = issued(config, "refresh_token")
            # Read before the replay: reusing a rotated-out refresh token makes
            # the server revoke the whole grant (RFC 9700 §4.14.2).
            token_calls, replay_at = dict(config.token_calls), len(exchanges)
            rotated = [config.tokens[value].rotated for value in refresh]
            replayed = await _replay(session, grant, refresh[0], clock)
    kept = (
        [token_name(config, stored.access_token), token_name(config, stored.refresh_token)]
        if stored
        else []
    )
    return _RefreshRun(statuses, token_calls, kept, rotated, replayed, replay_at)


def _say_password_grant(out: Outcome, middleware: str) -> None:
    out.say(f"grant = Password(token_url, {_CLIENT},", label="code")
    out.say(f"                 username={OAUTH2_USERNAME!r}, password={OAUTH2_PASSWORD!r})")
    out.say(middleware)


async def refresh_before_expiry(env: DemoEnv, out: Outcome) -> None:
    """Refresh a token nearing expiry; keep the rotated refresh token (RFC 6749 §6, RFC 9700)."""
    clock = DemoClock()
    config = demo_oauth2_config(
        access_token_lifetime=LIFETIME, rotate_refresh_tokens=True, clock=clock
    )
    exchanges: list[Exchange] = []
    _say_password_grant(
        out, f"OAuth2Middleware(grant, store=MemoryTokenStore(), leeway={LEEWAY:g})"
    )
    out.say(
        f"access tokens live {LIFETIME:g} s, refresh tokens rotate; "
        "the server and the middleware share a fake clock",
        label="setup",
    )
    run = await _refresh_and_replay(config, clock, exchanges)
    show_log(out, config, exchanges[: run.replay_at], clock=clock)
    out.say(
        f"at t={LIFETIME - LEEWAY + 1:g}s access token #1 has {LEEWAY - 1:g} s left, inside "
        f"the {LEEWAY:g} s leeway: refreshed before the request",
        label="clock",
    )
    out.say(", ".join(run.kept), label="store")
    show_log(out, config, exchanges[run.replay_at :], clock=clock, label="replay")
    out.check(run.statuses == [200, 200], "both requests got 200", got=run.statuses)
    out.check(
        run.token_calls == {"password": 1, "refresh_token": 1},
        "one password grant, then one refresh_token grant: the password was sent once",
        got=run.token_calls,
    )
    out.check(
        per_token(config) == {"access token #1": 1, "access token #2": 1},
        "the second request carried access token #2, obtained before it was sent",
        got=per_token(config),
    )
    out.check(
        run.rotated == [True, False],
        "the server rotated refresh token #1 out and issued #2",
        got=f"rotated: {run.rotated}",
    )
    out.check(
        run.kept == ["access token #2", "refresh token #2"],
        "the store holds access token #2 and the newest refresh token, #2",
        got=run.kept,
    )
    out.check(
        run.replayed == "invalid_grant",
        "the server refuses refresh token #1 when it is replayed (invalid_grant)",
        got=run.replayed,
    )


async def single_flight(env: DemoEnv, out: Outcome) -> None:
    """Start many requests before any token exists: they share one token request."""
    config = demo_oauth2_config()
    exchanges: list[Exchange] = []
    out.say(f"OAuth2Middleware({_CLIENT_CREDENTIALS})", label="code")
    out.say(f"{CONCURRENT} x GET {_RESOURCE} started at once, before there is any token")
    async with serve_logged(config, exchanges) as server:
        url = server.make_url(_RESOURCE)
        async with session_with(OAuth2Middleware(_client_credentials(server))) as session:
            statuses = await asyncio.gather(*(_get(session, url) for _ in range(CONCURRENT)))
    show_log(out, config, [exchange for exchange in exchanges if exchange.grant_type])
    answered = Counter(e.status for e in exchanges if e.request == f"GET {_RESOURCE}")
    by_status = ", ".join(f"{count} x {status}" for status, count in sorted(answered.items()))
    out.say(f"{sum(answered.values())} requests answered: {by_status}", label="resource")
    out.check(
        Counter(statuses) == {200: CONCURRENT},
        f"all {CONCURRENT} requests got 200",
        got=dict(Counter(statuses)),
    )
    out.check(
        config.token_calls == {"client_credentials": 1},
        f"one token request for all {CONCURRENT}",
        got=dict(config.token_calls),
    )
    out.check(
        per_token(config) == {"access token #1": CONCURRENT},
        f"the resource received access token #1 on all {CONCURRENT}",
        got=per_token(config),
    )


async def revoked_token(env: DemoEnv, out: Outcome) -> None:
    """Answer a 401 ``invalid_token`` with one refresh and one retry (RFC 6750 §3.1)."""
    config = demo_oauth2_config()
    exchanges: list[Exchange] = []
    _say_password_grant(out, "OAuth2Middleware(grant)")
    out.say("revoke(session, revocation_url, token.access_token, client=grant)  # RFC 7009")
    async with serve_logged(config, exchanges) as server:
        grant = _password(server)
        middleware = OAuth2Middleware(grant)
        url = server.make_url(_RESOURCE)
        async with session_with(middleware) as session:
            statuses = [await _get(session, url)]
            token = await middleware.get_token(session)
            # What an administrator, or a logout in another program, does.
            await revoke(
                session,
                str(server.make_url("/revoke")),
                token.access_token,
                client=grant,
                token_type_hint="access_token",  # noqa: S106 - a hint, not a password
            )
            statuses.append(await _get(session, url))
    show_log(out, config, exchanges)
    out.say(" ".join(map(str, statuses)), label="caller")
    resource = [(e.status, e.error) for e in exchanges if e.request == f"GET {_RESOURCE}"]
    out.check(statuses == [200, 200], "the caller got 200 both times", got=statuses)
    out.check(
        resource == [(200, None), (401, "invalid_token"), (200, None)],
        "the server answered the revoked token 401 invalid_token, once",
        got=resource,
    )
    out.check(
        config.token_calls == {"password": 1, "refresh_token": 1},
        "the 401 cost one refresh (refresh_token grant), not a new login",
        got=dict(config.token_calls),
    )
    out.check(
        per_token(config) == {"access token #1": 2, "access token #2": 1},
        "one retry, with access token #2",
        got=per_token(config),
    )


async def stays_on_its_origin(env: DemoEnv, out: Outcome) -> None:
    """Send the token to the listed origin only: not on a redirect, not to the token endpoint."""
    config = demo_oauth2_config()
    exchanges: list[Exchange] = []
    api = str(env.resource.url.origin())
    out.say(f"OAuth2Middleware({_CLIENT_CREDENTIALS}, origins=[api])", label="code")
    out.say(f"api = {api!r}; the token endpoint is on another port, another origin")
    watch = env.watch()
    target = env.other.make_url("/echo")
    async with serve_logged(config, exchanges) as server:
        middleware = OAuth2Middleware(_client_credentials(server), origins=[api])
        async with session_with(middleware) as session:
            status = await _get(
                session, env.resource.make_url("/redirect").with_query(to=str(target))
            )
    show_log(out, config, exchanges)
    hops = [*watch.resource, *watch.other]
    for number, request in enumerate(hops, start=1):
        out.say(carried(config, request), label=f"hop {number}")
    out.say(str(status), label="final")
    access = issued(config, "access_token")
    out.check(
        [token_name(config, bearer(request.headers)) for request in watch.resource]
        == ["access token #1"],
        "hop 1, to the api, carried access token #1",
        got=[carried(config, request) for request in watch.resource],
    )
    leaked = [
        r.path for r in [*watch.other, *config.requests] if any(a in r.raw() for a in access)
    ]
    out.check(
        len(watch.other) == 1 and not leaked,
        "neither the other origin nor the token endpoint received the access token",
        got=f"{len(watch.other)} requests at the other origin; token found at {leaked}",
    )
    out.check(status == 200, "the redirect ends in 200", got=status)


SCENARIOS: Final[tuple[Scenario, ...]] = (
    Scenario(
        f"OAuth 2 client credentials: {REQUESTS} requests cost one token request",
        client_credentials,
    ),
    Scenario(
        "OAuth 2 refresh before expiry, the rotated refresh token kept in the store",
        refresh_before_expiry,
    ),
    Scenario(
        f"OAuth 2 single flight: {CONCURRENT} concurrent requests, one token request",
        single_flight,
    ),
    Scenario(
        "OAuth 2 revoked token: the 401 costs one refresh and one retry, the caller sees 200",
        revoked_token,
    ),
    Scenario(
        "OAuth 2 token stays on its origin: not on a redirect, not at the token endpoint",
        stays_on_its_origin,
    ),
)
