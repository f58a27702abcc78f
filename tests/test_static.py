"""Static credentials: Bearer (RFC 6750), Basic (RFC 7617) and API keys, one origin at a time."""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import hdrs
from peers import AuthCase, Credentials, Site

from aiohttp_auth import (
    ApiKeyMiddleware,
    AuthError,
    AuthMiddleware,
    BasicAuthMiddleware,
    BearerAuthMiddleware,
    ConfigurationError,
    CredentialError,
)
from aiohttp_auth.testing import LocalServer, ResourceConfig, resource_app

SECRET = "s3cr3t-Value_1234"


async def fetch(
    url: Any, middleware: AuthMiddleware, *, per_request: bool = False
) -> tuple[int, dict[str, Any]]:
    """GET *url* with *middleware* on the session (or on the request) and read the JSON."""
    session_middlewares = () if per_request else (middleware,)
    request_kwargs: dict[str, Any] = {"middlewares": (middleware,)} if per_request else {}
    async with (
        aiohttp.ClientSession(middlewares=session_middlewares) as session,
        session.get(url, **request_kwargs) as response,
    ):
        return response.status, await response.json()


# --- construction -------------------------------------------------------------------

BAD_ARGUMENTS: list[tuple[Callable[[], object], str]] = [
    (lambda: BearerAuthMiddleware(""), "token: the token is empty"),
    (lambda: BearerAuthMiddleware(42), "token: expected a string or a callable"),  # type: ignore[arg-type]
    (lambda: BearerAuthMiddleware(None), "token: expected a string or a callable"),  # type: ignore[arg-type]
    (lambda: BearerAuthMiddleware(f"Bearer {SECRET}"), "token: the token contains whitespace"),
    (lambda: BearerAuthMiddleware(f"{SECRET}\n"), "token: the token contains whitespace"),
    (lambda: BearerAuthMiddleware(f"{SECRET}\r\nX-Injected: 1"), "token: the token contains"),
    (lambda: BearerAuthMiddleware(f"{SECRET}\x00"), "token: the token contains a control"),
    (lambda: BearerAuthMiddleware(f"{SECRET}\x7f"), "token: the token contains a control"),
    (lambda: BearerAuthMiddleware(SECRET, scheme=""), "scheme: expected an HTTP token"),
    (lambda: BearerAuthMiddleware(SECRET, scheme="Bear er"), "scheme: expected an HTTP token"),
    (lambda: BearerAuthMiddleware(SECRET, scheme="Bearer:"), "scheme: expected an HTTP token"),
    (lambda: BearerAuthMiddleware(SECRET, scheme=None), "scheme: expected an HTTP token"),  # type: ignore[arg-type]
    (lambda: BasicAuthMiddleware("", SECRET), "login: is empty"),
    (lambda: BasicAuthMiddleware("a:b", SECRET), "login: contains ':'"),
    (lambda: BasicAuthMiddleware(7, SECRET), "login: expected a string"),  # type: ignore[arg-type]
    (lambda: BasicAuthMiddleware("alice", None), "password: expected a string"),  # type: ignore[arg-type]
    (lambda: BasicAuthMiddleware("ali\x00ce", SECRET), "login: contains a control character"),
    (lambda: BasicAuthMiddleware("alice", f"{SECRET}\n"), "password: contains a control"),
    (lambda: BasicAuthMiddleware("alice", f"\x1b{SECRET}"), "password: contains a control"),
    (lambda: BasicAuthMiddleware("jösé", SECRET, encoding="ascii"), "encoding: cannot encode"),
    (lambda: BasicAuthMiddleware("alice", "€uro", encoding="latin-1"), "encoding: cannot encode"),
    (lambda: BasicAuthMiddleware("alice", SECRET, encoding="no-such"), "encoding: cannot encode"),
    (lambda: BasicAuthMiddleware("alice", SECRET, encoding=8), "encoding: cannot encode"),  # type: ignore[arg-type]
    (lambda: ApiKeyMiddleware(""), "key: the key is empty"),
    (lambda: ApiKeyMiddleware(12345), "key: expected a non-empty string"),  # type: ignore[arg-type]
    (lambda: ApiKeyMiddleware(f"{SECRET} "), "key: the key contains whitespace"),
    (lambda: ApiKeyMiddleware(f"{SECRET}\n"), "key: the key contains whitespace"),
    (lambda: ApiKeyMiddleware(SECRET, header=""), "header: expected an HTTP token"),
    (lambda: ApiKeyMiddleware(SECRET, header="X API Key"), "header: expected an HTTP token"),
    (lambda: ApiKeyMiddleware(SECRET, header="X-Key:"), "header: expected an HTTP token"),
    (lambda: ApiKeyMiddleware(SECRET, header=None), "header: expected an HTTP token"),  # type: ignore[arg-type]
    (lambda: ApiKeyMiddleware(SECRET, query_param=""), "query_param: expected a non-empty"),
    (lambda: ApiKeyMiddleware(SECRET, query_param=3), "query_param: expected a non-empty"),  # type: ignore[arg-type]
    (lambda: BearerAuthMiddleware(SECRET, origins=[]), "origins: "),
    (lambda: BasicAuthMiddleware("a", SECRET, origins="ftp://x.example"), "origins: "),
    (lambda: ApiKeyMiddleware(SECRET, origins=["https://x.example", 1]), "origins: "),  # type: ignore[list-item]
    (lambda: BearerAuthMiddleware(SECRET, allow_http="no"), "allow_http: "),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("build", "message"), BAD_ARGUMENTS)
def test_bad_arguments_raise_configuration_error_naming_the_argument(
    build: Callable[[], object], message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        build()
    assert str(caught.value).startswith(message)
    assert SECRET not in str(caught.value)


def test_token_with_scheme_prefix_says_to_pass_the_bare_token() -> None:
    with pytest.raises(ConfigurationError, match="without a scheme prefix") as caught:
        BearerAuthMiddleware(f"Bearer {SECRET}")
    assert "position 6" in str(caught.value)


@pytest.mark.parametrize("login", ["al ice", "jösé", "o'brien"])
def test_basic_accepts_any_login_without_colon_or_controls(login: str) -> None:
    assert f"login={login!r}" in repr(BasicAuthMiddleware(login, ""))


# --- Bearer ---------------------------------------------------------------------------


async def test_bearer_static_token(site: Site, credentials: Credentials) -> None:
    status, echo = await fetch(site.url("/bearer"), BearerAuthMiddleware(credentials.bearer))
    assert status == 200
    assert echo["headers"][hdrs.AUTHORIZATION] == f"Bearer {credentials.bearer}"


async def test_bearer_custom_scheme(site: Site) -> None:
    status, echo = await fetch(site.url("/echo"), BearerAuthMiddleware(SECRET, scheme="Token"))
    assert status == 200
    assert echo["headers"][hdrs.AUTHORIZATION] == f"Token {SECRET}"


async def test_bearer_sync_callable_is_called_for_every_request(
    site: Site, credentials: Credentials
) -> None:
    calls: list[int] = []

    def read_token() -> str:
        calls.append(1)
        return credentials.bearer

    middleware = BearerAuthMiddleware(read_token)
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        for _ in range(2):
            async with session.get(site.url("/bearer")) as response:
                assert response.status == 200
    assert len(calls) == 2


async def test_bearer_async_callable_sees_rotated_tokens(site: Site) -> None:
    tokens = iter(["first-token", "second-token"])

    async def read_token() -> str:
        return next(tokens)

    middleware = BearerAuthMiddleware(read_token)
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        for _ in range(2):
            async with session.get(site.url("/echo")) as response:
                assert response.status == 200
    sent = [r.headers[hdrs.AUTHORIZATION] for r in site.requests_to("/echo")]
    assert sent == ["Bearer first-token", "Bearer second-token"]


async def test_bearer_callable_failure_becomes_credential_error(site: Site) -> None:
    def read_token_file() -> str:
        raise FileNotFoundError("/run/secrets/token")

    middleware = BearerAuthMiddleware(read_token_file)
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        with pytest.raises(CredentialError) as caught:
            await session.get(site.url("/echo"))
    message = str(caught.value)
    assert "read_token_file" in message
    assert "FileNotFoundError" in message
    assert isinstance(caught.value.__cause__, FileNotFoundError)
    assert site.config.requests == []


async def test_bearer_callable_auth_error_passes_through_unchanged(site: Site) -> None:
    original = CredentialError("the vault is sealed: unseal it first")

    async def read_token() -> str:
        raise original

    middleware = BearerAuthMiddleware(read_token)
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        with pytest.raises(AuthError) as caught:
            await session.get(site.url("/echo"))
    assert caught.value is original


@pytest.mark.parametrize(
    ("returned", "problem"),
    [
        (None, "expected a non-empty string for the token, got NoneType"),
        (42, "expected a non-empty string for the token, got int"),
        (SECRET.encode(), "expected a non-empty string for the token, got bytes"),
        ("", "the token is empty"),
        (f"Bearer {SECRET}", "the token contains whitespace at position 6"),
        (f"{SECRET}\n", "the token contains whitespace"),
    ],
)
async def test_bearer_callable_returning_garbage_raises_credential_error(
    site: Site, returned: object, problem: str
) -> None:
    def read_token() -> Any:
        return returned

    middleware = BearerAuthMiddleware(read_token)
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        with pytest.raises(CredentialError) as caught:
            await session.get(site.url("/echo"))
    assert "read_token" in str(caught.value)
    assert problem in str(caught.value)
    assert SECRET not in str(caught.value)
    assert site.config.requests == []


def test_callable_without_qualname_is_named_by_its_type() -> None:
    provider = functools.partial(str, SECRET)
    assert repr(BearerAuthMiddleware(provider)) == (
        "BearerAuthMiddleware(token=<callable partial>, scheme='Bearer', origins=None)"
    )


# --- Basic ----------------------------------------------------------------------------


async def test_basic_utf8_login_matches_what_the_server_decodes() -> None:
    config = ResourceConfig(basic_users={"jösé": "pässwörd €"})
    async with LocalServer(resource_app(config)) as server:
        middleware = BasicAuthMiddleware("jösé", "pässwörd €")
        status, echo = await fetch(server.make_url("/basic"), middleware)
    assert status == 200
    expected = base64.b64encode("jösé:pässwörd €".encode()).decode()
    assert echo["headers"][hdrs.AUTHORIZATION] == f"Basic {expected}"


async def test_basic_wrong_password_is_answered_401(site: Site, credentials: Credentials) -> None:
    status, body = await fetch(site.url("/basic"), BasicAuthMiddleware(credentials.login, "nope"))
    assert status == 401
    assert body == {"error": "unauthorized"}


async def test_basic_empty_password_is_allowed(site: Site) -> None:
    status, echo = await fetch(site.url("/echo"), BasicAuthMiddleware("alice", ""))
    assert status == 200
    assert echo["headers"][hdrs.AUTHORIZATION] == "Basic " + base64.b64encode(b"alice:").decode()


async def test_basic_latin1_encoding_for_legacy_servers(site: Site) -> None:
    middleware = BasicAuthMiddleware("jösé", "pw", encoding="latin-1")
    status, echo = await fetch(site.url("/echo"), middleware)
    assert status == 200
    expected = base64.b64encode("jösé:pw".encode("latin-1")).decode()
    assert echo["headers"][hdrs.AUTHORIZATION] == f"Basic {expected}"


# --- API key ----------------------------------------------------------------------------


async def test_api_key_in_the_default_header(site: Site, credentials: Credentials) -> None:
    status, echo = await fetch(site.url("/api-key"), ApiKeyMiddleware(credentials.api_key))
    assert status == 200
    assert echo["headers"]["X-API-Key"] == credentials.api_key
    assert echo["query"] == {}


async def test_api_key_in_a_custom_header(site: Site) -> None:
    status, echo = await fetch(site.url("/echo"), ApiKeyMiddleware(SECRET, header="Api-Token"))
    assert status == 200
    assert echo["headers"]["Api-Token"] == SECRET
    assert "X-API-Key" not in echo["headers"]


async def test_api_key_in_the_query_keeps_other_parameters(
    site: Site, credentials: Credentials
) -> None:
    middleware = ApiKeyMiddleware(credentials.api_key, query_param="api_key")
    status, echo = await fetch(site.url("/api-key?page=2&api_key=stale"), middleware)
    assert status == 200
    assert echo["query"] == {"page": "2", "api_key": credentials.api_key}
    assert "X-API-Key" not in echo["headers"]


# --- reprs and per-request use ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("middleware", "expected"),
    [
        (
            BearerAuthMiddleware(SECRET),
            "BearerAuthMiddleware(token=<redacted 17 chars>, scheme='Bearer', origins=None)",
        ),
        (
            BearerAuthMiddleware(SECRET, scheme="Token", origins="https://x.example"),
            "BearerAuthMiddleware(token=<redacted 17 chars>, scheme='Token', "
            "origins=['https://x.example'])",
        ),
        (
            BasicAuthMiddleware("alice", SECRET),
            "BasicAuthMiddleware(login='alice', password=<redacted 17 chars>, origins=None)",
        ),
        (
            ApiKeyMiddleware(SECRET),
            "ApiKeyMiddleware(key=<redacted 17 chars>, header='X-API-Key', origins=None)",
        ),
        (
            ApiKeyMiddleware(SECRET, query_param="key", origins=["https://x.example/v1/"]),
            "ApiKeyMiddleware(key=<redacted 17 chars>, query_param='key', "
            "origins=['https://x.example/v1'])",
        ),
    ],
    ids=["bearer", "bearer-scheme", "basic", "api-key-header", "api-key-query"],
)
def test_repr_names_everything_but_the_secret(middleware: AuthMiddleware, expected: str) -> None:
    assert repr(middleware) == expected
    assert str(middleware) == expected


def test_no_repr_contains_a_secret(auth_case: AuthCase, credentials: Credentials) -> None:
    middleware = auth_case.build(credentials, origins="https://x.example")
    for text in (repr(middleware), str(middleware), f"{middleware}", f"{middleware!r}"):
        assert credentials.leaked_in(text) == []


@pytest.mark.parametrize("per_request", [False, True], ids=["session", "per-request"])
async def test_per_request_middlewares_work_like_session_middlewares(
    site: Site, credentials: Credentials, auth_case: AuthCase, per_request: bool
) -> None:
    middleware = auth_case.build(credentials)
    status, _ = await fetch(site.url(auth_case.path), middleware, per_request=per_request)
    assert status == 200
    assert auth_case.wire_form(credentials) in site.received()


async def test_empty_per_request_middlewares_send_nothing(
    site: Site, credentials: Credentials, auth_case: AuthCase
) -> None:
    # aiohttp: a per-request middlewares= replaces the session's, even when empty.
    middleware = auth_case.build(credentials)
    async with (
        aiohttp.ClientSession(middlewares=(middleware,)) as session,
        session.get(site.url(auth_case.path), middlewares=()) as response,
    ):
        assert response.status == 401
    assert credentials.leaked_in(site.received()) == []
