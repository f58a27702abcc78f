"""No secret reaches a log record or an exception message, whatever happens.

Every log record of every logger (the root at DEBUG, so aiohttp's own loggers too) is
captured while each static middleware sends requests, follows redirects to another
origin, retries, is refused plain http and fails; each record's message, arguments and
exception text are searched for every form of every secret. Exceptions are also logged
the way applications do (``logger.exception``), tracebacks included.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator, Callable, Iterator

import aiohttp
import pytest
from aiohttp import ClientRequest, ClientResponse
from aiohttp.client_middlewares import ClientHandlerType
from peers import AuthCase, Credentials, NameResolver, Site

from aiohttp_auth import (
    ApiKeyMiddleware,
    AuthError,
    AuthMiddleware,
    BasicAuthMiddleware,
    BearerAuthMiddleware,
    ConfigurationError,
    CredentialError,
    InsecureTransportError,
)

app_logger = logging.getLogger("tests.app")


class RetryOn401(AuthMiddleware):
    """Wraps a static middleware and retries 401s, to exercise retry_once's log lines."""

    def __init__(self, inner: AuthMiddleware) -> None:
        super().__init__()
        self.inner = inner

    async def authenticate(
        self, request: ClientRequest, handler: ClientHandlerType
    ) -> ClientResponse:
        response = await self.inner(request, handler)
        if response.status == 401:
            response = await self.retry_once(request, handler, response)
        return response


def record_texts(record: logging.LogRecord) -> Iterator[str]:
    """Everything a handler could write for *record*."""
    yield logging.Formatter().format(record)
    yield record.getMessage()
    yield repr(record.msg)
    yield repr(record.args)
    if record.exc_info and record.exc_info[1] is not None:
        yield "".join(traceback.format_exception(*record.exc_info))
    if record.stack_info:
        yield record.stack_info


def assert_no_secret_logged(records: list[logging.LogRecord], credentials: Credentials) -> None:
    for record in records:
        for text in record_texts(record):
            leaked = credentials.leaked_in(text)
            assert leaked == [], f"{leaked} in a log record of {record.name}"


def assert_no_secret_in_error(error: BaseException, credentials: Credentials) -> None:
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    texts += [str(value) for value in vars(error).values()]
    for text in texts:
        assert credentials.leaked_in(text) == [], type(error).__name__


async def stream(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def test_no_secret_in_any_log_record(
    caplog: pytest.LogCaptureFixture,
    site: Site,
    other_site: Site,
    credentials: Credentials,
    auth_case: AuthCase,
    resolver: NameResolver,
) -> None:
    caplog.set_level(logging.DEBUG)
    # A route that answers 401 even to the right credential, to force retries.
    wrong_route = "/basic" if auth_case.path != "/basic" else "/bearer"
    errors: list[AuthError] = []
    connector = aiohttp.TCPConnector(resolver=resolver)
    middleware = auth_case.build(credentials)
    async with aiohttp.ClientSession(connector=connector) as session:
        plain = {"middlewares": (middleware,)}
        async with session.get(site.url(auth_case.path), **plain) as response:
            assert response.status == 200
        target = str(other_site.url("/echo"))
        for status in (302, 307):
            redirect = site.url("/redirect").with_query(to=target, status=str(status))
            async with session.get(redirect, **plain) as response:
                assert response.status == 200
        async with session.get(other_site.url(auth_case.path), **plain) as response:
            assert response.status == 401

        retrying = {"middlewares": (RetryOn401(auth_case.build(credentials)),)}
        async with session.get(site.url(wrong_route), **retrying) as response:
            assert response.status == 401
        async with session.post(site.url(wrong_route), data=stream([b"x"]), **retrying) as resp:
            assert resp.status == 401

        refusing = {"middlewares": (auth_case.build(credentials),)}
        try:
            await session.get(site.url(auth_case.path, host="api.test"), **refusing)
        except InsecureTransportError as exc:
            errors.append(exc)
            app_logger.exception("request failed")

    assert [type(error) for error in errors] == [InsecureTransportError]
    for error in errors:
        assert_no_secret_in_error(error, credentials)
    assert_no_secret_logged(caplog.records, credentials)
    # The capture saw the package's own debug lines, the retry warning and the
    # application's traceback: the search above was not over an empty list.
    package_lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp_auth"]
    assert any("outside its origins" in line for line in package_lines)
    assert any("bound to origin" in line for line in package_lines)
    assert any("retrying" in line for line in package_lines)
    assert any("already sent" in line for line in package_lines)
    assert any(r.name == "tests.app" and r.exc_info for r in caplog.records)


def secret_bearing_mistakes(credentials: Credentials) -> list[Callable[[], object]]:
    """Constructor calls that get a secret wrong in ways that end in an error message."""
    token, password, key = credentials.bearer, credentials.password, credentials.api_key
    return [
        lambda: BearerAuthMiddleware(f"Bearer {token}"),
        lambda: BearerAuthMiddleware(f"{token}\n"),
        lambda: BearerAuthMiddleware(f"{token}\x00"),
        lambda: BearerAuthMiddleware(token, scheme=""),
        lambda: BasicAuthMiddleware(f"{credentials.login}:{password}", password),
        lambda: BasicAuthMiddleware(credentials.login, f"{password}\r\n"),
        lambda: BasicAuthMiddleware(credentials.login, f"€{password}", encoding="ascii"),
        lambda: BasicAuthMiddleware(credentials.login, password, encoding="latin-9000"),
        lambda: ApiKeyMiddleware(f"{key} "),
        lambda: ApiKeyMiddleware(key, header="X Key"),
        lambda: ApiKeyMiddleware(key, query_param=""),
        lambda: BearerAuthMiddleware(token, origins=f"https://user:{password}@x.example"),
        lambda: BearerAuthMiddleware(token, origins=f"https://x.example/?api_key={key}"),
        lambda: BearerAuthMiddleware(token, origins=[f"https://x.example/#{token}"]),
        lambda: BearerAuthMiddleware(token, origins=f"https://u:[::1]{token}@"),
    ]


def test_configuration_errors_never_contain_the_secret(
    caplog: pytest.LogCaptureFixture, credentials: Credentials
) -> None:
    caplog.set_level(logging.DEBUG)
    raised = 0
    for build in secret_bearing_mistakes(credentials):
        with pytest.raises(ConfigurationError) as caught:
            build()
        app_logger.exception("configuration failed")
        assert_no_secret_in_error(caught.value, credentials)
        raised += 1
    assert raised == len(secret_bearing_mistakes(credentials))
    assert_no_secret_logged(caplog.records, credentials)


async def test_credential_errors_never_contain_the_secret(
    caplog: pytest.LogCaptureFixture, site: Site, credentials: Credentials
) -> None:
    caplog.set_level(logging.DEBUG)

    def returns_prefixed() -> str:
        return f"Bearer {credentials.bearer}"

    async def returns_with_newline() -> str:
        return f"{credentials.bearer}\n"

    def backend_down() -> str:
        raise ConnectionRefusedError("the token sidecar is not running")

    caught: list[CredentialError] = []
    async with aiohttp.ClientSession() as session:
        for provider in (returns_prefixed, returns_with_newline, backend_down):
            middleware = BearerAuthMiddleware(provider)
            try:
                await session.get(site.url("/bearer"), middlewares=(middleware,))
            except CredentialError as exc:
                caught.append(exc)
                app_logger.exception("token provider failed")
    assert len(caught) == 3
    for error in caught:
        assert_no_secret_in_error(error, credentials)
    assert_no_secret_logged(caplog.records, credentials)
    assert site.config.requests == []
