"""The embedded authorization server mounted in another application with ``add_subapp``.

A test may serve its own application and the authorization server from one
``LocalServer``: the server's endpoints, issuer, metadata, faults and records
then follow the prefix it is mounted at.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from aiohttp_auth import BasicAuthMiddleware, OAuth2Middleware
from aiohttp_auth.oauth2 import ClientCredentials, grant_from_issuer
from aiohttp_auth.testing import (
    AuthorizationServerConfig,
    Fault,
    LocalServer,
    authorization_server_app,
)

PREFIX = "/oauth"
SECRET = "app-secret"


async def own_route(request: web.Request) -> web.Response:
    return web.Response(text="the test's own application")


@pytest.fixture
def config() -> AuthorizationServerConfig:
    config = AuthorizationServerConfig()
    config.register("app", SECRET, scopes=("read",))
    return config


@pytest.fixture
async def server(config: AuthorizationServerConfig) -> AsyncIterator[LocalServer]:
    app = web.Application()
    app.router.add_get("/own", own_route)
    app.add_subapp(PREFIX, authorization_server_app(config))
    async with LocalServer(app) as server:
        yield server


async def test_metadata_names_the_mounted_issuer_and_endpoints(server: LocalServer) -> None:
    issuer = str(server.make_url(PREFIX))
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{issuer}/.well-known/openid-configuration") as response,
    ):
        metadata = await response.json()
    assert metadata["issuer"] == issuer
    assert metadata["token_endpoint"] == issuer + "/token"
    assert metadata["device_authorization_endpoint"] == issuer + "/device_authorization"


async def test_a_client_discovers_the_mounted_server_and_reaches_its_resource(
    server: LocalServer, config: AuthorizationServerConfig
) -> None:
    issuer = str(server.make_url(PREFIX))
    async with aiohttp.ClientSession() as plain:
        grant = await grant_from_issuer(
            plain, issuer, ClientCredentials, "app", SECRET, scope="read", allow_http=True
        )
    middleware = OAuth2Middleware(grant, origins=[str(server.make_url("/"))])
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        for _ in range(2):
            async with session.get(server.make_url(f"{PREFIX}/resource/data")) as response:
                assert response.status == 200
        async with session.get(server.make_url("/own")) as response:
            assert await response.text() == "the test's own application"
    assert [call.endpoint for call in config.token_requests] == ["/token"]
    assert config.token_requests[0].client_id == "app"


async def test_faults_and_records_name_paths_inside_the_mounted_server(
    server: LocalServer, config: AuthorizationServerConfig
) -> None:
    config.inject(
        Fault.status(503, endpoint="/token"),
        Fault.status(502, endpoint="/.well-known/openid-configuration"),
    )
    form = {"grant_type": "client_credentials"}
    token_url = server.make_url(f"{PREFIX}/token")
    async with aiohttp.ClientSession(middlewares=(BasicAuthMiddleware("app", SECRET),)) as session:
        async with session.post(token_url, data=form) as response:
            assert response.status == 503
        async with session.post(token_url, data=form) as response:
            assert response.status == 200
        metadata_url = server.make_url(f"{PREFIX}/.well-known/openid-configuration")
        async with session.get(metadata_url) as response:
            assert response.status == 502
    assert [call.status for call in config.token_requests] == [503, 200]
    assert [call.endpoint for call in config.token_requests] == ["/token", "/token"]
    # The record of every request keeps the path as received, prefix included.
    assert [request.path for request in config.requests] == [
        f"{PREFIX}/token",
        f"{PREFIX}/token",
        f"{PREFIX}/.well-known/openid-configuration",
    ]
    assert not config.faults  # each fault taken by the request it was planned for


def test_the_issuer_of_a_request_to_another_application_is_its_origin() -> None:
    # A handler of the application the server is mounted in may ask too.
    config = AuthorizationServerConfig()
    outer = web.Application()
    outer.router.add_get("/own", own_route)
    request = make_mocked_request("GET", "/own", app=outer)
    assert config.issuer_for(request) == str(request.url.origin())
