"""request_token: one token request through the caller's session, bounded retries, clear errors.

Against the embedded authorization server and its fault injection (5xx,
Retry-After, garbage, slow answers, dropped connections); a few small
``aiohttp.web`` apps stand for what it cannot do (a redirecting, oversized or
TLS endpoint). Waits between attempts go through a recording fake ``sleep``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import ClientRequest, ClientResponse, web
from aiohttp.client_middlewares import ClientHandlerType
from test_oauth2_middleware import (
    CLIENT_ID,
    CLIENT_SECRET,
    PASSWORD,
    USERNAME,
    AuthServer,
    FakeClock,
    serve_app,
    serve_authorization_server,
)

from aiohttp_auth.errors import ConfigurationError, OAuth2Error, TokenError
from aiohttp_auth.oauth2 import (
    ClientCredentials,
    Password,
    RetryPolicy,
    TokenRequest,
    request_token,
)
from aiohttp_auth.oauth2.endpoint import MAX_RESPONSE_BYTES
from aiohttp_auth.oauth2.retry import retry_after_seconds
from aiohttp_auth.testing import Fault, LocalServer, authorization_server_app
from aiohttp_auth.testing.oauth2 import GARBAGE, GarbageKind


class Sleeps:
    """A fake ``sleep`` that records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def auth(clock: FakeClock) -> AsyncIterator[AuthServer]:
    async with serve_authorization_server(clock) as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def policy(sleeps: Sleeps, **settings: Any) -> RetryPolicy:
    """A retry policy that does not wait and has no jitter."""
    settings.setdefault("random", lambda: 0.0)
    return RetryPolicy(sleep=sleeps, **settings)


def client_credentials_request(auth: AuthServer, **options: Any) -> TokenRequest:
    grant = auth.client_credentials(**options)
    return grant.token_request(now=auth.clock(), jti="jti-1")


# --- answers -------------------------------------------------------------------------


async def test_a_token_is_returned_with_its_expiry_by_the_given_clock(
    auth: AuthServer, clock: FakeClock, session: aiohttp.ClientSession
) -> None:
    clock.advance(-1000)  # a clock of our own, not the wall clock
    token = await request_token(session, client_credentials_request(auth, scope="read"), now=clock)
    assert token.token_type == "Bearer"
    assert token.scope == "read"
    assert token.issued_at == clock()
    assert token.expires_at == clock() + auth.config.access_token_lifetime
    assert auth.config.tokens[token.access_token].client_id == CLIENT_ID


async def test_a_wrong_client_secret_raises_invalid_client_at_once(
    auth: AuthServer, session: aiohttp.ClientSession, sleeps: Sleeps
) -> None:
    grant = ClientCredentials(auth.token_url, CLIENT_ID, "not-the-secret")
    request = grant.token_request(now=auth.clock(), jti="jti")
    with pytest.raises(OAuth2Error) as raised:
        await request_token(session, request, retry=policy(sleeps))
    assert raised.value.error == "invalid_client"
    assert "check client_id and client_secret" in str(raised.value)
    assert "not-the-secret" not in str(raised.value)
    assert auth.token_calls() == 1
    assert sleeps.delays == []


async def test_a_wrong_password_raises_invalid_grant_at_once(
    auth: AuthServer, session: aiohttp.ClientSession, sleeps: Sleeps
) -> None:
    grant = Password(auth.token_url, CLIENT_ID, CLIENT_SECRET, username=USERNAME, password="guess")
    request = grant.token_request(now=auth.clock(), jti="jti")
    with pytest.raises(OAuth2Error) as raised:
        await request_token(session, request, retry=policy(sleeps))
    assert raised.value.error == "invalid_grant"
    assert auth.token_calls() == 1


async def test_the_sessions_raise_for_status_does_not_hide_the_oauth_error(
    auth: AuthServer,
) -> None:
    grant = ClientCredentials(auth.token_url, CLIENT_ID, "not-the-secret")
    async with aiohttp.ClientSession(raise_for_status=True) as strict:
        with pytest.raises(OAuth2Error, match="invalid_client"):
            await request_token(strict, grant.token_request(now=auth.clock(), jti="jti"))


@pytest.mark.parametrize("kind", sorted(GARBAGE))
async def test_garbage_raises_token_error_naming_endpoint_and_status_without_retry(
    auth: AuthServer, session: aiohttp.ClientSession, sleeps: Sleeps, kind: GarbageKind
) -> None:
    auth.config.inject(Fault.garbage(kind))
    with pytest.raises(TokenError) as raised:
        await request_token(session, client_credentials_request(auth), retry=policy(sleeps))
    assert not isinstance(raised.value, OAuth2Error)
    assert auth.token_url in str(raised.value)
    assert "HTTP 200" in str(raised.value)
    assert auth.token_calls() == 1


# --- retries -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 408])
async def test_transient_statuses_are_retried_with_exponential_backoff(
    auth: AuthServer, session: aiohttp.ClientSession, sleeps: Sleeps, status: int
) -> None:
    auth.config.inject(Fault.status(status), Fault.status(status), Fault.status(status))
    retry = policy(sleeps, attempts=4, backoff=0.5, max_delay=5.0)
    token = await request_token(session, client_credentials_request(auth), retry=retry)
    assert token.access_token in auth.config.tokens
    assert sleeps.delays == [0.5, 1.0, 2.0]
    assert auth.token_calls() == 4


async def test_backoff_is_capped_and_shortened_by_jitter(
    auth: AuthServer, session: aiohttp.ClientSession, sleeps: Sleeps
) -> None:
    auth.config.inject(*[Fault.status(500)] * 4)
    retry = policy(sleeps, attempts=5, backoff=1.0, max_delay=3.0, jitter=0.5, random=lambda: 1.0)
    await request_token(session, client_credentials_request(auth), retry=retry)
    assert sleeps.delays == [0.5, 1.0, 1.5, 1.5]


async def test_every_attempt_failing_raises_token_error_naming_endpoint_and_status(
    auth: AuthServer, session: aiohttp.ClientSession, sleeps: Sleeps
) -> None:
    auth.config.inject(*[Fault.status(503)] * 3)
    with pytest.raises(TokenError) as raised:
        await request_token(session, client_credentials_request(auth), retry=policy(sleeps))
    message = str(raised.value)
    assert auth.token_url in message
    assert "after 3 attempts (last: HTTP 503)" in message
    assert "reachable" in message
    assert auth.token_calls() == 3
    assert len(sleeps.delays) == 2


async def test_a_single_attempt_policy_does_not_retry(
    auth: AuthServer, session: aiohttp.ClientSession, sleeps: Sleeps
) -> None:
    auth.config.inject(Fault.status(500))
    with pytest.raises(TokenError, match=r"after 1 attempt \(last: HTTP 500\)"):
        await request_token(
            session, client_credentials_request(auth), retry=policy(sleeps, attempts=1)
        )
    assert sleeps.delays == []


async def test_a_short_retry_after_is_honoured(
    auth: AuthServer, session: aiohttp.ClientSession, sleeps: Sleeps
) -> None:
    auth.config.inject(Fault.status(429, retry_after=2), Fault.status(503, retry_after=0))
    await request_token(session, client_credentials_request(auth), retry=policy(sleeps))
    # Retry-After is a minimum; the backoff is kept when it is longer.
    assert sleeps.delays == [2.0, 1.0]


async def test_a_retry_after_date_is_read_against_the_given_clock(
    auth: AuthServer, clock: FakeClock, session: aiohttp.ClientSession, sleeps: Sleeps
) -> None:
    when = datetime.fromtimestamp(clock() + 3, tz=timezone.utc)
    auth.config.inject(Fault.status(503, retry_after=format_datetime(when, usegmt=True)))
    await request_token(session, client_credentials_request(auth), now=clock, retry=policy(sleeps))
    assert sleeps.delays == [3.0]


async def test_a_long_retry_after_ends_the_retries_at_once(
    auth: AuthServer, session: aiohttp.ClientSession, sleeps: Sleeps
) -> None:
    auth.config.inject(Fault.status(503, retry_after=120))
    with pytest.raises(TokenError) as raised:
        await request_token(session, client_credentials_request(auth), retry=policy(sleeps))
    assert "asked to retry after 120 s" in str(raised.value)
    assert auth.token_url in str(raised.value)
    assert auth.token_calls() == 1
    assert sleeps.delays == []


async def test_dropped_connections_are_retried_then_named(
    auth: AuthServer, session: aiohttp.ClientSession, sleeps: Sleeps
) -> None:
    auth.config.inject(Fault.close(), Fault.close())
    await request_token(session, client_credentials_request(auth), retry=policy(sleeps))
    assert auth.token_calls() == 3
    auth.config.inject(*[Fault.close()] * 3)
    with pytest.raises(TokenError, match=r"the connection failed \(ServerDisconnectedError\)"):
        await request_token(session, client_credentials_request(auth), retry=policy(sleeps))


async def test_a_hanging_token_endpoint_is_bounded_by_the_per_attempt_timeout(
    auth: AuthServer, session: aiohttp.ClientSession, sleeps: Sleeps
) -> None:
    auth.config.inject(Fault.delay(3.0), Fault.delay(3.0))
    retry = policy(sleeps, attempts=2, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(TokenError) as raised:
        await request_token(session, client_credentials_request(auth), retry=retry)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0  # two attempts of 0.2 s, not two of 3 s
    assert "no complete answer within 0.2 s" in str(raised.value)
    assert isinstance(raised.value.__cause__, asyncio.TimeoutError)
    assert retry.max_total == 2 * 0.2 + 5.0


async def test_an_unreachable_token_endpoint_says_it_could_not_connect(
    session: aiohttp.ClientSession, sleeps: Sleeps
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    grant = ClientCredentials(f"http://127.0.0.1:{port}/token", CLIENT_ID, CLIENT_SECRET)
    with pytest.raises(TokenError, match=r"could not connect \(ClientConnectorError\)"):
        await request_token(session, grant.token_request(now=0.0, jti="jti"), retry=policy(sleeps))
    assert len(sleeps.delays) == 2


async def test_a_tls_failure_is_not_retried(
    session: aiohttp.ClientSession, sleeps: Sleeps, server_ssl_context: ssl.SSLContext
) -> None:
    # The session does not trust the test CA: the handshake fails every time.
    async with LocalServer(authorization_server_app(), ssl_context=server_ssl_context) as server:
        grant = ClientCredentials(str(server.make_url("/token")), CLIENT_ID, CLIENT_SECRET)
        with pytest.raises(TokenError, match="TLS handshake") as raised:
            await request_token(
                session, grant.token_request(now=0.0, jti="jti"), retry=policy(sleeps)
            )
    assert isinstance(raised.value.__cause__, aiohttp.ClientSSLError)
    assert sleeps.delays == []


# --- what it never does --------------------------------------------------------------


async def test_a_redirect_is_never_followed(
    session: aiohttp.ClientSession, sleeps: Sleeps
) -> None:
    landed: list[bytes] = []

    async def moved(request: web.Request) -> web.StreamResponse:
        raise web.HTTPTemporaryRedirect("/elsewhere")

    async def elsewhere(request: web.Request) -> web.StreamResponse:
        landed.append(await request.read())
        return web.json_response({"access_token": "stolen"})

    async with serve_app({"/token": moved, "/elsewhere": elsewhere}) as server:
        grant = ClientCredentials(str(server.make_url("/token")), CLIENT_ID, CLIENT_SECRET)
        request = grant.token_request(now=0.0, jti="jti")
        with pytest.raises(TokenError, match="HTTP 307, a redirect"):
            await request_token(session, request, retry=policy(sleeps))
    assert landed == []  # the client secret did not follow the Location


async def test_the_sessions_middlewares_never_see_the_token_request(
    auth: AuthServer,
) -> None:
    seen: list[str] = []

    async def spy(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        seen.append(str(request.url))
        return await handler(request)

    async with aiohttp.ClientSession(middlewares=(spy,)) as spied:
        await request_token(spied, client_credentials_request(auth))
    assert seen == []
    assert auth.token_calls() == 1


async def test_an_oversized_answer_is_not_read_to_the_end(
    session: aiohttp.ClientSession, sleeps: Sleeps
) -> None:
    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for _ in range(MAX_RESPONSE_BYTES // 65536 + 2):
            await response.write(b" " * 65536)
        return response

    async with serve_app({"/token": huge}) as server:
        grant = ClientCredentials(str(server.make_url("/token")), CLIENT_ID, CLIENT_SECRET)
        with pytest.raises(TokenError, match=f"more than {MAX_RESPONSE_BYTES} bytes"):
            await request_token(
                session, grant.token_request(now=0.0, jti="jti"), retry=policy(sleeps)
            )


async def test_no_secret_in_messages_or_log_lines(
    auth: AuthServer,
    session: aiohttp.ClientSession,
    sleeps: Sleeps,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiohttp_auth")
    auth.config.inject(Fault.status(500), Fault.close(), Fault.status(503))
    request = auth.password().token_request(now=auth.clock(), jti="jti")
    with pytest.raises(TokenError) as raised:
        await request_token(session, request, retry=policy(sleeps))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "attempt 1 of 3 failed (HTTP 500)" in logged
    assert "attempt 2 of 3 failed (the connection failed" in logged
    for text in (logged, str(raised.value), repr(request)):
        for secret in (CLIENT_SECRET, PASSWORD, request.headers["Authorization"]):
            assert secret not in text


# --- the policy ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"attempts": 0}, "attempts: expected >= 1"),
        ({"attempts": 2.0}, "attempts: expected an int"),
        ({"attempts": True}, "attempts: expected an int"),
        ({"timeout": 0}, "timeout: expected a positive"),
        ({"timeout": float("nan")}, "timeout"),
        ({"backoff": -1}, "backoff: expected a finite number >= 0, got -1"),
        ({"max_delay": float("inf")}, "max_delay"),
        ({"jitter": 1.5}, "jitter: expected 0 to 1"),
        ({"jitter": "0.1"}, "jitter"),
    ],
)
def test_retry_policy_refuses_settings_out_of_range(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        RetryPolicy(**settings)


def test_retry_policy_backoff_stays_capped_after_very_many_failures() -> None:
    retry = RetryPolicy(backoff=1.0, max_delay=4.0, random=lambda: 0.0)
    assert [retry.delay(failures) for failures in (1, 2, 3, 4, 2000)] == [1.0, 2.0, 4.0, 4.0, 4.0]


def test_retry_policy_bounds_the_total_time() -> None:
    assert RetryPolicy().max_total == 3 * 6.0 + 2 * 5.0
    assert RetryPolicy().max_total < 30  # MemoryTokenStore's lock timeout
    assert RetryPolicy(attempts=1, timeout=2).max_total == 2


NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("3", 3.0),
        (" 7 ", 7.0),
        ("-1", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        (format_datetime(datetime.fromtimestamp(NOW + 30, tz=timezone.utc), usegmt=True), 30.0),
        (format_datetime(datetime.fromtimestamp(NOW - 30, tz=timezone.utc), usegmt=True), 0.0),
        # "-0000" (RFC 5322 §3.3: no zone information) is read as GMT too.
        (
            format_datetime(datetime.fromtimestamp(NOW + 5, tz=timezone.utc)).replace(
                "+0000", "-0000"
            ),
            5.0,
        ),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(
    value: str | None, seconds: float | None
) -> None:
    assert retry_after_seconds(value, now=NOW) == seconds
