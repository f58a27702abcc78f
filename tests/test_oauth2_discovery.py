"""RFC 8414 / OpenID Connect discovery over the network: ``discover``, ``grant_from_issuer``.

``discover`` runs against the embedded authorization server (with injected
faults) and small aiohttp applications that serve what no well-behaved server
would. The sans-IO parts (metadata URLs, validation, building grants) are
tested in ``test_oauth2_metadata.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.client_middlewares import ClientHandlerType
from peers import free_port
from test_oauth2_metadata import ISSUER, OAUTH_PATH, OPENID_PATH, SECRET

import aiohttp_auth.oauth2
from aiohttp_auth.errors import ConfigurationError, TokenError
from aiohttp_auth.oauth2 import ClientCredentials, discovery
from aiohttp_auth.oauth2 import metadata as metadata_module
from aiohttp_auth.oauth2.discovery import MAX_METADATA_BYTES, discover, grant_from_issuer
from aiohttp_auth.oauth2.endpoint import request_token
from aiohttp_auth.testing import AuthorizationServerConfig, Fault, LocalServer

# --- where the names live ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["ServerMetadata", "metadata_urls", "OAUTH_SUFFIX", "OPENID_SUFFIX"]
)
def test_sans_io_names_stay_importable_from_discovery(name: str) -> None:
    assert getattr(discovery, name) is getattr(metadata_module, name)


@pytest.mark.parametrize(
    "name", ["ServerMetadata", "metadata_urls", "discover", "grant_from_issuer"]
)
def test_oauth2_package_exports_the_discovery_names(name: str) -> None:
    assert name in aiohttp_auth.oauth2.__all__
    assert getattr(aiohttp_auth.oauth2, name) is getattr(discovery, name)


# --- discover: against real servers -------------------------------------------------------


@pytest.fixture
def issuer(oauth2_config: AuthorizationServerConfig, oauth2_server: LocalServer) -> str:
    oauth2_config.register("app", SECRET, scopes=("read", "admin"))
    assert oauth2_config.issuer is not None
    return oauth2_config.issuer


def paths_requested(config: AuthorizationServerConfig) -> list[str]:
    return [request.path for request in config.requests]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_discover_reads_rfc8414_metadata_first(
    issuer: str, oauth2_config: AuthorizationServerConfig, session: aiohttp.ClientSession
) -> None:
    metadata = await discover(session, issuer)
    assert metadata.issuer == issuer
    assert metadata.token_endpoint == issuer + "/token"
    assert metadata.revocation_endpoint == issuer + "/revoke"
    assert "subject_types_supported" not in metadata.extra
    assert paths_requested(oauth2_config) == [OAUTH_PATH]


async def test_discover_openid_reads_the_openid_configuration(
    issuer: str, oauth2_config: AuthorizationServerConfig, session: aiohttp.ClientSession
) -> None:
    metadata = await discover(session, issuer, openid=True)
    assert metadata.extra["subject_types_supported"] == ["public"]
    assert paths_requested(oauth2_config) == [OPENID_PATH]


@pytest.mark.parametrize(
    "fault",
    [
        Fault.status(404, endpoint=OAUTH_PATH),
        Fault.status(500, endpoint=OAUTH_PATH),
        Fault.garbage("html", endpoint=OAUTH_PATH),
        Fault.garbage("json_array", endpoint=OAUTH_PATH),
        Fault.status(
            200,
            body="{" + " " * MAX_METADATA_BYTES + "}",
            content_type="application/json",
            endpoint=OAUTH_PATH,
        ),
    ],
    ids=["404", "500", "html", "json-array", "too-large"],
)
async def test_discover_falls_back_to_openid_configuration(
    issuer: str,
    oauth2_config: AuthorizationServerConfig,
    session: aiohttp.ClientSession,
    fault: Fault,
) -> None:
    oauth2_config.inject(fault)
    metadata = await discover(session, issuer)
    assert metadata.token_endpoint == issuer + "/token"
    assert metadata.extra["subject_types_supported"] == ["public"]
    assert paths_requested(oauth2_config) == [OAUTH_PATH, OPENID_PATH]


async def test_discover_without_any_metadata_lists_what_each_url_answered(
    issuer: str, oauth2_config: AuthorizationServerConfig, session: aiohttp.ClientSession
) -> None:
    oauth2_config.inject(
        Fault.status(404, endpoint=OAUTH_PATH), Fault.garbage("html", endpoint=OPENID_PATH)
    )
    with pytest.raises(TokenError, match="No authorization server metadata found") as caught:
        await discover(session, issuer)
    message = str(caught.value)
    assert f"{issuer}{OAUTH_PATH} answered HTTP 404" in message
    assert f"{issuer}{OPENID_PATH} answered 200 with a body that is not a JSON object" in message


async def test_discover_does_not_fall_back_from_a_document_for_another_issuer(
    issuer: str, oauth2_config: AuthorizationServerConfig, session: aiohttp.ClientSession
) -> None:
    oauth2_config.issuer = "https://evil.example"
    with pytest.raises(TokenError, match="mix-up attack"):
        await discover(session, issuer)
    assert paths_requested(oauth2_config) == [OAUTH_PATH]


async def test_discover_with_a_trailing_slash_issuer_says_which_to_pass(
    issuer: str, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(TokenError, match=f"pass issuer='{issuer}'"):
        await discover(session, issuer + "/")


async def test_discover_is_bounded_in_time(
    issuer: str, oauth2_config: AuthorizationServerConfig, session: aiohttp.ClientSession
) -> None:
    oauth2_config.inject(Fault.delay(5, endpoint=OAUTH_PATH))
    started = time.monotonic()
    with pytest.raises(TokenError, match=r"within 0.3 s \(waiting for .*oauth-authorization"):
        await discover(session, issuer, timeout=0.3)
    assert time.monotonic() - started < 2


async def test_discover_honours_the_session_timeout_too(
    issuer: str, oauth2_config: AuthorizationServerConfig
) -> None:
    oauth2_config.inject(Fault.delay(5, endpoint=OAUTH_PATH))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.3)) as session:
        with pytest.raises(TokenError, match="timed out"):
            await discover(session, issuer)


async def test_discover_of_an_unreachable_server_names_the_url(
    session: aiohttp.ClientSession,
) -> None:
    issuer = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(TokenError, match=f"from {issuer}{OAUTH_PATH} \\(ClientConnectorError"):
        await discover(session, issuer)


async def test_discover_with_a_dropped_connection_is_a_token_error(
    issuer: str, oauth2_config: AuthorizationServerConfig, session: aiohttp.ClientSession
) -> None:
    # aiohttp itself resends an idempotent request once after a disconnect.
    oauth2_config.inject(Fault.close(endpoint=OAUTH_PATH), Fault.close(endpoint=OAUTH_PATH))
    with pytest.raises(TokenError, match="Could not fetch the metadata"):
        await discover(session, issuer)


@pytest.mark.parametrize("timeout", [0, -1, True, "5"])
async def test_discover_refuses_a_bad_timeout(
    session: aiohttp.ClientSession, timeout: Any
) -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        await discover(session, ISSUER, timeout=timeout)


async def test_discover_never_runs_the_session_middlewares(issuer: str) -> None:
    calls: list[str] = []

    async def middleware(
        request: aiohttp.ClientRequest, handler: ClientHandlerType
    ) -> aiohttp.ClientResponse:
        calls.append(str(request.url))
        return await handler(request)

    # raise_for_status on the session must not turn the 404 into a failure either.
    async with aiohttp.ClientSession(middlewares=(middleware,), raise_for_status=True) as session:
        metadata = await discover(session, issuer)
    assert metadata.token_endpoint == issuer + "/token"
    assert calls == []


async def test_grant_from_issuer_obtains_a_token(
    issuer: str, oauth2_config: AuthorizationServerConfig, session: aiohttp.ClientSession
) -> None:
    grant = await grant_from_issuer(
        session, issuer, ClientCredentials, "app", SECRET, scope="read"
    )
    assert grant.client_auth.method == "client_secret_basic"
    token = await request_token(session, grant.token_request(now=time.time(), jti="j"))
    assert token.scope == "read"
    assert oauth2_config.token_requests[-1].auth_method == "client_secret_basic"


async def test_grant_from_issuer_passes_allow_http_to_discovery_and_grant(
    session: aiohttp.ClientSession,
) -> None:
    with pytest.raises(ConfigurationError, match="plain http"):
        await grant_from_issuer(session, "http://as.example", ClientCredentials, "app", SECRET)


# Small servers that misbehave in ways the embedded one does not.

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def serve(routes: Mapping[str, Handler]) -> LocalServer:
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    return LocalServer(app)


async def test_path_issuer_found_by_openid_appending(session: aiohttp.ClientSession) -> None:
    seen: list[str] = []

    async def appended(request: web.Request) -> web.Response:
        seen.append(request.path)
        issuer = str(request.url.origin()) + "/realms/main"
        return web.json_response({"issuer": issuer, "token_endpoint": issuer + "/token"})

    async def not_found(request: web.Request) -> web.Response:
        seen.append(request.path)
        raise web.HTTPNotFound()

    routes = {
        OAUTH_PATH + "/realms/main": not_found,
        OPENID_PATH + "/realms/main": not_found,
        "/realms/main" + OPENID_PATH: appended,
    }
    async with await serve(routes) as server:
        issuer = str(server.make_url("/realms/main"))
        metadata = await discover(session, issuer)
    assert metadata.token_endpoint == issuer + "/token"
    assert seen == [
        OAUTH_PATH + "/realms/main",
        OPENID_PATH + "/realms/main",
        "/realms/main" + OPENID_PATH,
    ]


async def test_redirects_are_not_followed(session: aiohttp.ClientSession) -> None:
    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/elsewhere")

    async def elsewhere(request: web.Request) -> web.Response:
        issuer = str(request.url.origin())
        return web.json_response({"issuer": issuer, "token_endpoint": issuer + "/token"})

    async with await serve(
        {OAUTH_PATH: moved, OPENID_PATH: moved, "/elsewhere": elsewhere}
    ) as server:
        with pytest.raises(TokenError, match="answered HTTP 302"):
            await discover(session, str(server.url).rstrip("/"))


async def test_streamed_body_over_the_limit_is_not_read_to_the_end(
    session: aiohttp.ClientSession,
) -> None:
    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        chunk = b" " * 65536
        try:
            for _ in range(100):  # 6.4 MB at most
                await response.write(chunk)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response

    async with await serve({OAUTH_PATH: endless}) as server:
        issuer = str(server.url).rstrip("/")
        with pytest.raises(TokenError, match=f"sent more than {MAX_METADATA_BYTES} bytes"):
            await discover(session, issuer, openid=False)
