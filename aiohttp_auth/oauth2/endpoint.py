"""Calling a token endpoint: the IO around the sans-IO token protocol (RFC 6749 §3.2).

[`request_token`][] POSTs a [`TokenRequest`][aiohttp_auth.oauth2.protocol.TokenRequest]
through the caller's own session with [`subrequest`][aiohttp_auth._middleware.subrequest]
(no middlewares, so no recursion; no redirects, so client secrets never follow
a ``Location``) and turns the answer into a
[`Token`][aiohttp_auth.oauth2.token.Token] with
[`parse_token_response`][aiohttp_auth.oauth2.protocol.parse_token_response].

What a token endpoint does on a bad day is retried, a bounded number of times,
as [`RetryPolicy`][aiohttp_auth.oauth2.retry.RetryPolicy] says: a 5xx, a 408
or 429 (honouring a short ``Retry-After``, RFC 9110 §10.2.3), a refused or
dropped connection, a timeout.
An answer is never retried: an OAuth error (RFC 6749 §5.2) raises
[`OAuth2Error`][aiohttp_auth.errors.OAuth2Error] at once, and so does a 200
with garbage (an HTML login page, JSON without ``access_token``): sending the
same request again would get the same answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Final, NamedTuple

import aiohttp
from aiohttp import ClientResponse, ClientSession, hdrs

from .._middleware import read_limited, subrequest
from .._redact import logger, safe_url
from ..errors import TokenError
from .protocol import TokenRequest, parse_token_response
from .retry import RETRY_STATUSES, RetryPolicy, retry_after_seconds
from .token import Token

__all__ = ["MAX_RESPONSE_BYTES", "request_token"]

MAX_RESPONSE_BYTES: Final = 1 << 20
"""The largest token response read; token responses are a few kilobytes at most."""


class _Answer(NamedTuple):
    status: int
    content_type: str | None
    retry_after: str | None
    body: bytes


async def _read_bounded(response: ClientResponse, endpoint: str) -> bytes:
    body = await read_limited(response, MAX_RESPONSE_BYTES)
    if body is None:
        raise TokenError(
            f"The token endpoint {endpoint} answered HTTP {response.status} with more than "
            f"{MAX_RESPONSE_BYTES} bytes, which is no token response: check token_url"
        )
    return body


async def _post(
    session: ClientSession, token_request: TokenRequest, timeout: float, endpoint: str
) -> _Answer:
    async with subrequest(
        session,
        "POST",
        token_request.url,
        data=token_request.body,
        headers=dict(token_request.headers),
        timeout=aiohttp.ClientTimeout(total=timeout),
        # The session may raise on 4xx; the OAuth error in the body is what tells.
        raise_for_status=False,
    ) as response:
        return _Answer(
            response.status,
            response.headers.get(hdrs.CONTENT_TYPE),
            response.headers.get(hdrs.RETRY_AFTER),
            await _read_bounded(response, endpoint),
        )


class _Failure(NamedTuple):
    """Why an attempt gave no answer worth parsing."""

    description: str
    cause: BaseException | None = None
    retry_after: float | None = None


def _describe_failure(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return f"no complete answer within {timeout:g} s ({type(exc).__name__})"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"could not connect ({type(exc).__name__})"
    return f"the connection failed ({type(exc).__name__})"


async def _attempt(
    session: ClientSession,
    token_request: TokenRequest,
    *,
    timeout: float,
    endpoint: str,
    now: Callable[[], float],
) -> Token | _Failure:
    """Send the request once; return its token, or why a retry may help."""
    try:
        answer = await _post(session, token_request, timeout, endpoint)
    except aiohttp.ClientSSLError as exc:
        # A certificate problem does not heal by itself: no retry.
        raise TokenError(
            f"The token endpoint {endpoint} failed the TLS handshake "
            f"({type(exc).__name__}): check its certificate and the session's ssl context"
        ) from exc
    except (
        aiohttp.ClientConnectionError,
        aiohttp.ClientPayloadError,
        asyncio.TimeoutError,
    ) as exc:
        return _Failure(_describe_failure(exc, timeout), exc)
    if answer.status in RETRY_STATUSES:
        retry_after = retry_after_seconds(answer.retry_after, now=now())
        return _Failure(f"HTTP {answer.status}", None, retry_after)
    return parse_token_response(
        answer.status, answer.content_type, answer.body, now=now(), endpoint=endpoint
    )


async def _wait(retry: RetryPolicy, failures: int, failure: _Failure, endpoint: str) -> None:
    """Wait before the next attempt, or raise if the server asked for too long a wait."""
    delay = retry.delay(failures, failure.retry_after)
    if delay is None:
        raise TokenError(
            f"The token endpoint {endpoint} answered {failure.description} and asked to retry "
            f"after {failure.retry_after:g} s, longer than RetryPolicy.max_delay "
            f"({retry.max_delay:g} s): the authorization server is overloaded or rate-limits "
            "this client; try later"
        )
    logger.warning(
        "token endpoint %s: attempt %d of %d failed (%s); retrying in %.2f s",
        endpoint,
        failures,
        retry.attempts,
        failure.description,
        delay,
    )
    await retry.sleep(delay)


async def request_token(
    session: ClientSession,
    token_request: TokenRequest,
    *,
    now: Callable[[], float] = time.time,
    retry: RetryPolicy | None = None,
) -> Token:
    """Send *token_request* to its token endpoint and return the token it answers.

    The request goes through *session* (its connector, TLS context, proxy and
    cookies) but none of its middlewares, and follows no redirect.

    Args:
        session: the session to send with, e.g. ``request.session`` in a middleware.
        token_request: what to send, built by a grant.
        now: the clock, in epoch seconds, read when the answer arrives.
        retry: the retry policy; ``RetryPolicy()`` by default.

    Returns:
        The token of a successful answer (RFC 6749 §5.1).

    Raises:
        OAuth2Error: the endpoint answered an RFC 6749 §5.2 error (never retried).
        TokenError: any other answer that holds no token (never retried), a
            TLS failure, or no usable answer after every attempt; the message
            names the endpoint, the last status or error, and what to check.
    """
    retry = retry if retry is not None else RetryPolicy()
    endpoint = safe_url(token_request.url)
    failure = _Failure("no attempt")
    for attempt in range(1, retry.attempts + 1):
        if attempt > 1:
            await _wait(retry, attempt - 1, failure, endpoint)
        outcome = await _attempt(
            session, token_request, timeout=retry.timeout, endpoint=endpoint, now=now
        )
        if isinstance(outcome, Token):
            return outcome
        failure = outcome
    raise TokenError(
        f"The token endpoint {endpoint} gave no token after {retry.attempts} "
        f"attempt{'s' if retry.attempts > 1 else ''} (last: {failure.description}): check "
        "that token_url is right and that the authorization server is up and reachable from "
        "here (DNS, proxy, firewall); RetryPolicy(attempts=, timeout=) sets how long to keep "
        "trying"
    ) from failure.cause
