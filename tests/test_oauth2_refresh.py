"""When OAuth2Middleware obtains a new token, how many it asks for, and what it never loses.

Refresh timing runs on a fake clock shared by the client and the embedded
authorization server, so a token "expires" without the test waiting for it.
Concurrency runs for real: thousands of callers, one token request; a cancelled
caller; two middlewares (standing for two processes) sharing one store; and a
few seconds of sustained load with a one-second token lifetime.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from test_oauth2_middleware import (
    BOUND,
    CLIENT_ID,
    CLIENT_SECRET,
    NO_WAIT,
    AuthServer,
    FakeClock,
    initial_refresh_token,
    revoke_access_tokens,
    serve_authorization_server,
)

from aiohttp_auth.errors import OAuth2Error, TokenError
from aiohttp_auth.oauth2 import OAuth2Middleware, RefreshToken, RetryPolicy, Token, request_token
from aiohttp_auth.stores import MemoryTokenStore
from aiohttp_auth.testing import Fault

LIFETIME = 100.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def auth(clock: FakeClock) -> AsyncIterator[AuthServer]:
    async with serve_authorization_server(clock, access_token_lifetime=LIFETIME) as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def active_refresh_tokens(auth: AuthServer) -> list[str]:
    return [issued.value for issued in auth.config.active_tokens("refresh_token")]


# --- when -----------------------------------------------------------------------------


async def test_refreshes_leeway_seconds_before_expiry_and_not_earlier(
    auth: AuthServer, clock: FakeClock, session: aiohttp.ClientSession
) -> None:
    middleware = auth.middleware(auth.password(), leeway=30)
    first = await middleware.get_token(session)
    # Up to 10 % of the leeway of jitter: 33 s before expiry is still too early.
    clock.advance(LIFETIME - 33.5)
    assert await middleware.get_token(session) is first
    clock.advance(4)  # 29.5 s before expiry: inside the leeway
    async with session.get(auth.resource(), middlewares=(middleware,)) as response:
        assert response.status == 200
    second = await middleware.store.get(middleware.key)
    assert second is not None
    assert second.access_token != first.access_token
    assert auth.config.token_calls == {"password": 1, "refresh_token": 1}
    # The request went out with the new token, not the old one about to expire.
    assert auth.bearer_requests() == [f"Bearer {second.access_token}"]


async def test_a_short_lived_token_is_refreshed_at_half_its_lifetime(
    clock: FakeClock, session: aiohttp.ClientSession
) -> None:
    async with serve_authorization_server(clock, access_token_lifetime=10) as auth:
        middleware = auth.middleware(leeway=30)
        first = await middleware.get_token(session)
        clock.advance(4.9)
        assert await middleware.get_token(session) is first
        clock.advance(0.2)
        assert await middleware.get_token(session) is not first
        assert auth.token_calls() == 2


async def test_a_token_of_unknown_lifetime_is_used_until_a_401(
    clock: FakeClock, session: aiohttp.ClientSession
) -> None:
    async with serve_authorization_server(
        clock, access_token_lifetime=LIFETIME, send_expires_in=False
    ) as auth:
        middleware = auth.middleware(auth.password())
        first = await middleware.get_token(session)
        assert first.expires_at is None
        clock.advance(10 * LIFETIME)  # long expired at the server
        assert await middleware.get_token(session) is first
        async with session.get(auth.resource(), middlewares=(middleware,)) as response:
            assert response.status == 200
        assert auth.config.token_calls == {"password": 1, "refresh_token": 1}


# --- rotation and what is never lost ---------------------------------------------------


async def test_rotation_over_many_refreshes_keeps_the_newest_refresh_token(
    clock: FakeClock, session: aiohttp.ClientSession
) -> None:
    async with serve_authorization_server(
        clock,
        access_token_lifetime=LIFETIME,
        rotate_refresh_tokens=True,
        revoke_grant_on_refresh_reuse=False,
    ) as auth:
        grant = RefreshToken(
            auth.token_url,
            CLIENT_ID,
            CLIENT_SECRET,
            refresh_token=await initial_refresh_token(auth, session),
        )
        middleware = auth.middleware(grant)
        seen: list[str] = []
        for _ in range(25):
            async with session.get(auth.resource(), middlewares=(middleware,)) as response:
                assert response.status == 200
            stored = await middleware.store.get(middleware.key)
            assert stored is not None
            assert stored.refresh_token is not None
            # The store holds the one refresh token the server still honours.
            assert active_refresh_tokens(auth) == [stored.refresh_token]
            seen.append(stored.refresh_token)
            clock.advance(LIFETIME)
        assert len(set(seen)) == 25
        assert auth.config.refreshes == 25  # the first exchange of the login token, then one each
        # An older refresh token is dead at the server.
        old = grant.refresh_request(seen[-2], now=clock(), jti="reuse")
        with pytest.raises(OAuth2Error) as raised:
            await request_token(session, old, now=clock)
        assert raised.value.error == "invalid_grant"


async def test_a_refresh_without_a_new_refresh_token_keeps_the_previous_one(
    auth: AuthServer, clock: FakeClock, session: aiohttp.ClientSession
) -> None:
    middleware = auth.middleware(auth.password(scope="read write"))
    first = await middleware.get_token(session)
    clock.advance(LIFETIME)
    second = await middleware.get_token(session)
    assert second.access_token != first.access_token
    assert second.refresh_token == first.refresh_token
    assert second.scope == "read write"


async def test_a_failed_refresh_keeps_the_previous_token_and_its_refresh_token(
    clock: FakeClock, session: aiohttp.ClientSession
) -> None:
    async with serve_authorization_server(
        clock, access_token_lifetime=LIFETIME, rotate_refresh_tokens=True
    ) as auth:
        middleware = auth.middleware(auth.password())
        first = await middleware.get_token(session)
        clock.advance(LIFETIME)
        failures = [Fault.status(502), Fault.close(), Fault.status(503)]
        garbage = [Fault.garbage("html"), Fault.garbage("json_without_token")]
        for faults in ([*failures], *([fault] for fault in garbage)):
            auth.config.inject(*faults)
            with pytest.raises(TokenError):
                await middleware.get_token(session)
            # Nothing was stored from the failed answer; the refresh token is intact.
            assert await middleware.store.get(middleware.key) is first
        second = await middleware.get_token(session)
        assert second.refresh_token not in (None, first.refresh_token)
        assert auth.config.token_calls == {"password": 1, "refresh_token": 6}


async def test_invalid_grant_on_refresh_falls_back_to_the_grant(
    auth: AuthServer, clock: FakeClock, session: aiohttp.ClientSession
) -> None:
    middleware = auth.middleware(auth.password())
    await middleware.get_token(session)
    for issued in auth.config.tokens.values():
        issued.revoked = True  # the user's session was ended at the server
    clock.advance(LIFETIME)
    async with session.get(auth.resource(), middlewares=(middleware,)) as response:
        assert response.status == 200
    assert auth.config.token_calls == {"password": 2, "refresh_token": 1}


async def test_client_credentials_with_refresh_tokens_start_over_on_invalid_grant(
    clock: FakeClock, session: aiohttp.ClientSession
) -> None:
    async with serve_authorization_server(
        clock, access_token_lifetime=LIFETIME, client_credentials_refresh_tokens=True
    ) as auth:
        middleware = auth.middleware()
        first = await middleware.get_token(session)
        assert first.refresh_token is not None
        clock.advance(LIFETIME)
        assert (await middleware.get_token(session)).refresh_token == first.refresh_token
        auth.config.tokens[first.refresh_token].revoked = True
        clock.advance(LIFETIME)
        third = await middleware.get_token(session)
        assert third.refresh_token not in (None, first.refresh_token)
        assert auth.config.token_calls == {"client_credentials": 2, "refresh_token": 2}


async def test_other_refresh_errors_are_raised_without_falling_back(
    auth: AuthServer, clock: FakeClock, session: aiohttp.ClientSession
) -> None:
    middleware = auth.middleware(auth.password())
    first = await middleware.get_token(session)
    auth.config.clients[CLIENT_ID].grant_types = ("password",)  # no more refresh_token
    clock.advance(LIFETIME)
    with pytest.raises(OAuth2Error) as raised:
        await middleware.get_token(session)
    assert raised.value.error == "unauthorized_client"
    assert auth.config.token_calls == {"password": 1, "refresh_token": 1}
    assert await middleware.store.get(middleware.key) is first


async def test_an_expired_refresh_token_of_a_refresh_token_grant_says_reauthenticate(
    clock: FakeClock, session: aiohttp.ClientSession
) -> None:
    async with serve_authorization_server(
        clock, access_token_lifetime=LIFETIME, refresh_token_lifetime=3 * LIFETIME
    ) as auth:
        grant = RefreshToken(
            auth.token_url,
            CLIENT_ID,
            CLIENT_SECRET,
            refresh_token=await initial_refresh_token(auth, session),
        )
        middleware = auth.middleware(grant)
        first = await middleware.get_token(session)
        clock.advance(5 * LIFETIME)
        with pytest.raises(OAuth2Error) as raised:
            await middleware.get_token(session)
        message = str(raised.value)
        assert raised.value.error == "invalid_grant"
        assert "expired or was revoked" in message
        assert "Re-authenticate" in message
        assert repr(middleware.key) in message
        assert first.refresh_token is not None
        assert first.refresh_token not in message
        # It did not start over with the grant's own (older) refresh token:
        # the login, the first exchange, the refused refresh.
        assert auth.config.token_calls == {"password": 1, "refresh_token": 2}
        assert await middleware.store.get(middleware.key) is first

        # Nor does a fresh process whose initial refresh token is the expired one.
        fresh = auth.middleware(grant, store=MemoryTokenStore())
        with pytest.raises(OAuth2Error, match="Re-authenticate"):
            await fresh.get_token(session)


async def test_a_refresh_token_grant_without_any_refresh_token_says_what_to_pass(
    auth: AuthServer, session: aiohttp.ClientSession
) -> None:
    middleware = auth.middleware(RefreshToken(auth.token_url, CLIENT_ID, CLIENT_SECRET))
    with pytest.raises(TokenError, match="pass refresh_token="):
        await middleware.get_token(session)
    assert auth.token_calls() == 0


# --- how many ------------------------------------------------------------------------


async def test_ten_thousand_concurrent_callers_without_a_token_make_one_token_request(
    auth: AuthServer, session: aiohttp.ClientSession
) -> None:
    middleware = auth.middleware()
    tokens = await asyncio.wait_for(
        asyncio.gather(*(middleware.get_token(session) for _ in range(10_000))), BOUND
    )
    assert auth.token_calls() == 1
    assert all(token is tokens[0] for token in tokens)


async def test_concurrent_requests_share_one_token_request_then_one_refresh(
    auth: AuthServer, clock: FakeClock
) -> None:
    middleware = auth.middleware(auth.password())
    async with aiohttp.ClientSession(middlewares=(middleware,)) as authed:

        async def statuses(count: int) -> list[int]:
            async def status() -> int:
                async with authed.get(auth.resource()) as response:
                    return response.status

            return await asyncio.wait_for(asyncio.gather(*(status() for _ in range(count))), BOUND)

        assert await statuses(500) == [200] * 500  # starting without a token
        assert auth.config.token_calls == {"password": 1}
        clock.advance(LIFETIME)
        assert await statuses(200) == [200] * 200  # starting with an expired one
    assert auth.config.token_calls == {"password": 1, "refresh_token": 1}


async def test_concurrent_401s_for_one_token_share_one_new_token(
    auth: AuthServer, session: aiohttp.ClientSession
) -> None:
    middleware = auth.middleware()
    await middleware.get_token(session)
    revoke_access_tokens(auth)

    async def status() -> int:
        async with session.get(auth.resource(), middlewares=(middleware,)) as response:
            return response.status

    statuses = await asyncio.wait_for(asyncio.gather(*(status() for _ in range(100))), BOUND)
    assert statuses == [200] * 100
    assert auth.token_calls() == 2


async def test_a_cancelled_first_caller_does_not_cancel_the_shared_token_request(
    auth: AuthServer, session: aiohttp.ClientSession
) -> None:
    auth.config.inject(Fault.delay(0.3))
    middleware = auth.middleware()
    first = asyncio.create_task(middleware.get_token(session))
    for _ in range(200):  # until the token request has reached the server
        if auth.config.token_requests:
            break
        await asyncio.sleep(0.01)
    second = asyncio.create_task(middleware.get_token(session))
    await asyncio.sleep(0)
    first.cancel()
    token = await asyncio.wait_for(second, BOUND)
    assert first.cancelled()
    assert auth.token_calls() == 1
    assert await middleware.store.get(middleware.key) is token


async def test_a_token_request_nobody_waits_for_any_more_still_stores_its_token(
    auth: AuthServer, session: aiohttp.ClientSession
) -> None:
    auth.config.inject(Fault.delay(0.2))
    middleware = auth.middleware(auth.password())
    caller = asyncio.create_task(middleware.get_token(session))
    await asyncio.sleep(0.05)
    caller.cancel()
    for _ in range(100):  # bounded: the flight finishes on its own
        if await middleware.store.get(middleware.key) is not None:
            break
        await asyncio.sleep(0.02)
    stored = await middleware.store.get(middleware.key)
    assert stored is not None
    assert stored.refresh_token is not None
    assert auth.token_calls() == 1


async def test_two_middlewares_sharing_a_store_make_one_token_request(
    auth: AuthServer, clock: FakeClock, session: aiohttp.ClientSession
) -> None:
    # Two middlewares with their own single flight stand for two processes:
    # only the store's lock and the re-check after it keep them to one request.
    store = MemoryTokenStore()
    first = auth.middleware(auth.password(), store=store)
    second = auth.middleware(auth.password(), store=store)
    assert first.key == second.key

    async def both() -> None:
        await asyncio.wait_for(
            asyncio.gather(
                *(first.get_token(session) for _ in range(50)),
                *(second.get_token(session) for _ in range(50)),
            ),
            BOUND,
        )

    await both()
    assert auth.config.token_calls == {"password": 1}
    clock.advance(LIFETIME)
    await both()
    assert auth.config.token_calls == {"password": 1, "refresh_token": 1}


async def test_sustained_concurrency_with_a_two_second_token_lets_no_401_through() -> None:
    lifetime, duration, concurrency = 2.0, 3.0, 200
    async with serve_authorization_server(time.time, access_token_lifetime=lifetime) as auth:
        middleware = OAuth2Middleware(auth.client_credentials(), retry=NO_WAIT)
        statuses: list[int] = []
        # One connection per worker: in a saturated pool a request can wait for a
        # connection longer than a token's remaining life after the token was set.
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector, middlewares=(middleware,)) as authed:
            deadline = time.monotonic() + duration

            async def worker() -> None:
                while time.monotonic() < deadline:
                    async with authed.get(auth.resource()) as response:
                        statuses.append(response.status)

            await asyncio.wait_for(
                asyncio.gather(*(worker() for _ in range(concurrency))), duration + BOUND
            )
        token_requests = auth.token_calls()
    assert len(statuses) > concurrency
    assert set(statuses) == {200}
    # A token is refreshed at half its lifetime (the leeway's cap): about
    # duration / (lifetime / 2) token requests; a slow machine makes fewer.
    assert duration / lifetime <= token_requests <= 2 * duration / lifetime + 2


async def test_the_jitter_moves_the_refresh_at_most_a_tenth_of_the_leeway_earlier(
    auth: AuthServer, clock: FakeClock, session: aiohttp.ClientSession
) -> None:
    middleware = auth.middleware(leeway=30)
    first = await middleware.get_token(session)
    assert first.expires_at is not None
    clock.advance(LIFETIME - 34)
    for _ in range(20):  # 0.25 s steps until the token is replaced
        if await middleware.get_token(session) is not first:
            break
        clock.advance(0.25)
    assert 30 <= first.expires_at - clock() <= 33
    assert auth.token_calls() == 2


async def test_retry_policy_of_the_middleware_bounds_token_requests(
    auth: AuthServer, session: aiohttp.ClientSession
) -> None:
    delays: list[float] = []

    async def sleep(delay: float) -> None:
        delays.append(delay)

    middleware = auth.middleware(retry=RetryPolicy(attempts=2, sleep=sleep, random=lambda: 0.0))
    auth.config.inject(Fault.status(500), Fault.status(500))
    with pytest.raises(TokenError, match="after 2 attempts"):
        await middleware.get_token(session)
    assert delays == [0.5]
    assert auth.token_calls() == 2


async def test_a_stored_token_without_issue_time_is_refreshed_a_full_leeway_early(
    auth: AuthServer, clock: FakeClock, session: aiohttp.ClientSession
) -> None:
    # A token put in the store by hand: its lifetime, so the half-life cap, is unknown.
    store = MemoryTokenStore()
    middleware = auth.middleware(store=store, leeway=30)
    outside = Token("kept-by-hand", expires_at=clock() + 40)
    await store.set(middleware.key, outside)
    assert await middleware.get_token(session) is outside
    inside = Token("kept-by-hand", expires_at=clock() + 29)
    await store.set(middleware.key, inside)
    clock.advance(10)  # the first token is due now; the store holds the second
    assert await middleware.get_token(session) is not inside
    assert auth.token_calls() == 1
