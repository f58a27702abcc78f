"""No secret in any log record while the Digest and OAuth 2 middlewares run whole flows.

The static middlewares have their own such test (test_no_secrets_in_logs.py); this one
drives the stateful middlewares through their noisy paths: token requests, refreshes
with rotation, a 401 answered by a refresh, token endpoint failures that are retried,
refused credentials, revocation, Digest challenges, stale nonces and wrong passwords.
Every log record of every logger is captured at DEBUG.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import aiohttp
import pytest
from test_no_secrets_in_logs import record_texts

from aiohttp_auth import DigestAuthMiddleware, OAuth2Error, OAuth2Middleware, TokenError
from aiohttp_auth.oauth2 import ClientCredentials, Password, RetryPolicy, revoke
from aiohttp_auth.testing import (
    AuthorizationServerConfig,
    DigestConfig,
    Fault,
    LocalServer,
    authorization_server_app,
    digest_app,
)

CLIENT_SECRET = "client-secret-4f9c2e7a1b"
USER_PASSWORD = "user-password-8d3a6c0e5f"
DIGEST_PASSWORD = "digest-password-2b7e9a4c1d"


@pytest.fixture
def captured() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    root = logging.getLogger()
    handler, level = Keep(logging.DEBUG), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def assert_nothing_leaked(records: list[logging.LogRecord], secrets: set[str]) -> None:
    assert records, "the flow logged nothing: the test would prove nothing"
    for record in records:
        for text in record_texts(record):
            for secret in secrets:
                assert secret not in text, f"a secret in a log record of {record.name}"


async def test_oauth2_flows_log_no_secret(captured: list[logging.LogRecord]) -> None:
    config = AuthorizationServerConfig(
        access_token_lifetime=60, rotate_refresh_tokens=True, users={"ada": USER_PASSWORD}
    )
    config.register("app", CLIENT_SECRET)
    fast = RetryPolicy(attempts=2, backoff=0.0, jitter=0.0)
    async with LocalServer(authorization_server_app(config)) as server:
        base = str(server.url).rstrip("/")
        token_url, resource = base + "/token", base + "/resource/reports"
        grant = Password(token_url, "app", CLIENT_SECRET, username="ada", password=USER_PASSWORD)
        oauth = OAuth2Middleware(grant, retry=fast)
        async with aiohttp.ClientSession(middlewares=(oauth,)) as session:
            async with session.get(resource) as first:
                assert first.status == 200
            token = await oauth.get_token(session)
            # A 401 for a revoked token: one refresh (rotation), one retry.
            await revoke(session, base + "/revoke", token.access_token, client=grant)
            async with session.get(resource) as second:
                assert second.status == 200
            # A 5xx answered once, then the forced refresh succeeds.
            config.inject(Fault.status(503))
            await oauth.get_token(session, force=True)
            # Failures: every attempt 5xx, then a wrong client secret.
            config.inject(Fault.status(500), Fault.status(500))
            with pytest.raises(TokenError):
                await oauth.get_token(session, force=True)
            wrong = OAuth2Middleware(ClientCredentials(token_url, "app", "wrong-" + CLIENT_SECRET))
            with pytest.raises(OAuth2Error):
                await wrong.get_token(session)
    issued = set(config.tokens)
    assert len(issued) >= 4
    assert_nothing_leaked(captured, {CLIENT_SECRET, USER_PASSWORD, *issued})


async def test_digest_flows_log_no_secret(captured: list[logging.LogRecord]) -> None:
    config = DigestConfig(users={"Mufasa": DIGEST_PASSWORD}, nonce_uses=2)
    async with LocalServer(digest_app(config)) as server:
        url = str(server.make_url("/digest/report"))
        digest = DigestAuthMiddleware("Mufasa", DIGEST_PASSWORD)
        async with aiohttp.ClientSession(middlewares=(digest,)) as session:
            for _ in range(4):  # a challenge, then stale nonces answered once each
                async with session.get(url) as response:
                    assert response.status == 200
        wrong = DigestAuthMiddleware("Mufasa", "wrong-" + DIGEST_PASSWORD)
        async with (
            aiohttp.ClientSession(middlewares=(wrong,)) as session,
            session.get(url) as response,
        ):
            assert response.status == 401
    assert_nothing_leaked(captured, {DIGEST_PASSWORD})
