"""Demo scenarios for OAuth 2: one token for many requests, refresh before expiry, single flight.

Each scenario serves its own embedded authorization server
([`aiohttp_auth.testing.oauth2`][]) on 127.0.0.1, which also serves the
protected resource ``/resource/...``, with the access log of
[`aiohttp_auth.cli._oauth2_log`][]: every request, the token it presented
(named by the server's records, "access token #2"), what the server answered
and which tokens it issued. The checks read the server's own records: token
endpoint calls per grant, requests per access token, and the state of every
token it issued.

The client credentials scenarios are here; the two that replace a token by a
refresh (before expiry, and after a revoked token's 401) are in
[`aiohttp_auth.cli.demo_oauth2_refresh`][]. [`SCENARIOS`][] holds all five.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Final

from ..oauth2 import OAuth2Middleware
from ._console import Outcome
from ._demo_env import DemoEnv, Scenario, demo_oauth2_config, session_with
from ._oauth2_client import CLIENT, RESOURCE, client_credentials_grant, get_status
from ._oauth2_log import (
    Exchange,
    bearer,
    carried,
    issued,
    per_token,
    serve_logged,
    show_log,
    token_name,
)
from .demo_oauth2_refresh import refresh_before_expiry, revoked_token

__all__ = ["SCENARIOS"]

REQUESTS: Final = 5
"""Requests the client credentials scenario sends with one token."""
CONCURRENT: Final = 100
"""Requests the single-flight scenario starts at once."""
_CLIENT_CREDENTIALS: Final = f"ClientCredentials(token_url, {CLIENT})"


async def client_credentials(env: DemoEnv, out: Outcome) -> None:
    """Send several requests with one token from the client credentials grant (RFC 6749 §4.4)."""
    config = demo_oauth2_config()
    exchanges: list[Exchange] = []
    out.say(f"OAuth2Middleware({_CLIENT_CREDENTIALS})", label="code")
    async with serve_logged(config, exchanges) as server:
        urls = [server.make_url(f"{RESOURCE}/{number}") for number in range(1, REQUESTS + 1)]
        async with session_with(OAuth2Middleware(client_credentials_grant(server))) as session:
            statuses = [await get_status(session, url) for url in urls]
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


async def single_flight(env: DemoEnv, out: Outcome) -> None:
    """Start many requests before any token exists: they share one token request."""
    config = demo_oauth2_config()
    exchanges: list[Exchange] = []
    out.say(f"OAuth2Middleware({_CLIENT_CREDENTIALS})", label="code")
    out.say(f"{CONCURRENT} x GET {RESOURCE} started at once, before there is any token")
    async with serve_logged(config, exchanges) as server:
        url = server.make_url(RESOURCE)
        async with session_with(OAuth2Middleware(client_credentials_grant(server))) as session:
            statuses = await asyncio.gather(*(get_status(session, url) for _ in range(CONCURRENT)))
    show_log(out, config, [exchange for exchange in exchanges if exchange.grant_type])
    answered = Counter(e.status for e in exchanges if e.request == f"GET {RESOURCE}")
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
        middleware = OAuth2Middleware(client_credentials_grant(server), origins=[api])
        async with session_with(middleware) as session:
            status = await get_status(
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
