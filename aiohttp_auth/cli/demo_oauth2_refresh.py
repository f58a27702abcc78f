"""Demo scenarios for OAuth 2 refresh: before expiry, and after a revoked token's 401.

Both use the password grant, so a token is replaced by a ``refresh_token``
grant, not by a new login (RFC 6749 §6). They run as entries of
[`aiohttp_auth.cli.demo_oauth2`][]'s ``SCENARIOS``, against an authorization
server with the access log of [`aiohttp_auth.cli._oauth2_log`][].

The refresh scenario runs the server and the middleware on one fake clock
(a [`DemoClock`][aiohttp_auth.cli._oauth2_log.DemoClock]), so a token nears its
expiry without the demo waiting for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aiohttp import ClientSession

from ..errors import OAuth2Error
from ..oauth2 import OAuth2Middleware, Password, request_token, revoke
from ..stores import MemoryTokenStore
from ..testing import AuthorizationServerConfig
from ._console import Outcome
from ._demo_env import DemoEnv, demo_oauth2_config, session_with
from ._oauth2_client import RESOURCE, get_status, password_grant, say_password_grant
from ._oauth2_log import DemoClock, Exchange, issued, per_token, serve_logged, show_log, token_name

__all__ = ["LEEWAY", "LIFETIME", "refresh_before_expiry", "revoked_token"]

LIFETIME: Final = 300.0
"""Seconds an access token lives in the refresh scenario."""
LEEWAY: Final = 30.0
"""Seconds before expiry the refresh scenario's middleware refreshes."""


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
        grant = password_grant(server)
        middleware = OAuth2Middleware(grant, store=store, leeway=LEEWAY, clock=clock)
        async with session_with(middleware) as session:
            statuses = [await get_status(session, server.make_url(RESOURCE))]
            clock.advance(LIFETIME - LEEWAY + 1)
            statuses.append(await get_status(session, server.make_url(RESOURCE)))
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


async def refresh_before_expiry(env: DemoEnv, out: Outcome) -> None:
    """Refresh a token nearing expiry; keep the rotated refresh token (RFC 6749 §6, RFC 9700)."""
    clock = DemoClock()
    config = demo_oauth2_config(
        access_token_lifetime=LIFETIME, rotate_refresh_tokens=True, clock=clock
    )
    exchanges: list[Exchange] = []
    say_password_grant(
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


async def revoked_token(env: DemoEnv, out: Outcome) -> None:
    """Answer a 401 ``invalid_token`` with one refresh and one retry (RFC 6750 §3.1)."""
    config = demo_oauth2_config()
    exchanges: list[Exchange] = []
    say_password_grant(out, "OAuth2Middleware(grant)")
    out.say("revoke(session, revocation_url, token.access_token, client=grant)  # RFC 7009")
    async with serve_logged(config, exchanges) as server:
        grant = password_grant(server)
        middleware = OAuth2Middleware(grant)
        url = server.make_url(RESOURCE)
        async with session_with(middleware) as session:
            statuses = [await get_status(session, url)]
            token = await middleware.get_token(session)
            # What an administrator, or a logout in another program, does.
            await revoke(
                session,
                str(server.make_url("/revoke")),
                token.access_token,
                client=grant,
                token_type_hint="access_token",  # noqa: S106 - a hint, not a password
            )
            statuses.append(await get_status(session, url))
    show_log(out, config, exchanges)
    out.say(" ".join(map(str, statuses)), label="caller")
    resource = [(e.status, e.error) for e in exchanges if e.request == f"GET {RESOURCE}"]
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
