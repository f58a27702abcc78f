"""The servers of aiohttp_auth.testing and its pytest plugin behave as documented."""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request

import aiohttp
import pytest
from aiohttp import hdrs
from multidict import CIMultiDict
from peers import require_ipv6_loopback
from yarl import URL

from aiohttp_auth.testing import (
    LocalServer,
    RecordedRequest,
    ResourceConfig,
    resource_app,
    serve_in_thread,
)
from aiohttp_auth.testing.resource import RESOURCE_CONFIG

# --- LocalServer and serve_in_thread -------------------------------------------------


async def test_local_server_serves_until_closed() -> None:
    server = LocalServer(resource_app())
    assert server.port == 0
    await server.start()
    try:
        assert server.port > 0
        assert server.url == URL(f"http://127.0.0.1:{server.port}/")
        assert server.make_url("/echo?x=1") == URL(f"http://127.0.0.1:{server.port}/echo?x=1")
        async with (
            aiohttp.ClientSession() as session,
            session.get(server.make_url("/echo?x=1")) as response,
        ):
            assert response.status == 200
            assert (await response.json())["query"] == {"x": "1"}
    finally:
        await server.close()
    await server.close()  # closing twice is harmless
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectorError):
            await session.get(server.make_url("/echo"))


async def test_local_server_speaks_https_with_a_context(
    server_ssl_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext
) -> None:
    async with LocalServer(resource_app(), ssl_context=server_ssl_context) as server:
        assert server.url.scheme == "https"
        connector = aiohttp.TCPConnector(ssl=client_ssl_context)
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.get(server.make_url("/echo")) as response,
        ):
            assert response.status == 200
        # Really TLS: a client that does not trust the test CA is refused.
        async with aiohttp.ClientSession() as untrusting:
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await untrusting.get(server.make_url("/echo"))


async def test_local_server_on_ipv6_loopback() -> None:
    require_ipv6_loopback()
    async with LocalServer(resource_app(), host="::1") as server:
        assert server.url == URL(f"http://[::1]:{server.port}/")
        async with (
            aiohttp.ClientSession() as session,
            session.get(server.make_url("/echo")) as response,
        ):
            assert response.status == 200


def test_serve_in_thread_works_from_synchronous_code() -> None:
    config = ResourceConfig()
    with serve_in_thread(resource_app(config)) as server:
        url = str(server.make_url("/echo?from=sync"))
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback URL
            echo = json.load(response)
        assert echo["query"] == {"from": "sync"}
        assert [r.path for r in config.requests] == ["/echo"]
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=5)  # noqa: S310 - loopback URL


# --- the resource application ------------------------------------------------------------


def test_plugin_fixtures_give_a_fresh_config_and_its_server(
    resource_config: ResourceConfig, resource_server: LocalServer
) -> None:
    assert resource_server.app[RESOURCE_CONFIG] is resource_config
    assert resource_config.requests == []
    assert resource_server.url.host == "127.0.0.1"


def test_resource_app_creates_a_fresh_config_when_given_none() -> None:
    first, second = resource_app(), resource_app()
    assert first[RESOURCE_CONFIG] == ResourceConfig()
    assert first[RESOURCE_CONFIG] is not second[RESOURCE_CONFIG]


async def test_echo_describes_the_request(resource_server: LocalServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            resource_server.make_url("/echo?a=1"), data=b"12345", headers={"X-Test": "yes"}
        ) as response,
    ):
        echo = await response.json()
    assert echo["method"] == "POST"
    assert echo["path"] == "/echo"
    assert echo["query"] == {"a": "1"}
    assert echo["headers"]["X-Test"] == "yes"
    assert echo["body_length"] == 5


@pytest.mark.parametrize(
    ("path", "challenge"),
    [
        ("/bearer", 'Bearer realm="resource", error="invalid_token"'),
        ("/basic", 'Basic realm="resource", charset="UTF-8"'),
        ("/api-key", 'ApiKey realm="resource"'),
    ],
)
async def test_protected_routes_challenge_without_credentials(
    resource_server: LocalServer, path: str, challenge: str
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(resource_server.make_url(path)) as response,
    ):
        assert response.status == 401
        assert response.headers[hdrs.WWW_AUTHENTICATE] == challenge
        assert await response.json() == {"error": "unauthorized"}


def basic(credentials: bytes) -> str:
    return "Basic " + base64.b64encode(credentials).decode()


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/bearer", {"Authorization": "Bearer good-token"}, 200),
        ("/bearer", {"Authorization": "bearer good-token"}, 200),
        ("/bearer", {"Authorization": "Bearer bad-token"}, 401),
        ("/bearer", {"Authorization": "Bearer jösé"}, 401),
        ("/bearer", {"Authorization": "Basic good-token"}, 401),
        ("/basic", {"Authorization": basic("jösé:pässwörd".encode())}, 200),
        ("/basic", {"Authorization": basic("jösé:wrong".encode())}, 401),
        ("/basic", {"Authorization": basic(b"nobody:x")}, 401),
        ("/basic", {"Authorization": basic("jösé:pässwörd".encode("latin-1"))}, 401),
        ("/basic", {"Authorization": "Basic not*base64"}, 401),
        ("/basic", {"Authorization": "Bearer good-token"}, 401),
        ("/api-key", {"X-API-Key": "good-key"}, 200),
        ("/api-key", {"X-API-Key": "bad-key"}, 401),
        ("/api-key?api_key=good-key", {}, 200),
        ("/api-key?api_key=bad-key", {}, 401),
    ],
)
async def test_protected_routes_check_credentials(
    resource_config: ResourceConfig,
    resource_server: LocalServer,
    path: str,
    headers: dict[str, str],
    status: int,
) -> None:
    resource_config.bearer_tokens = frozenset({"good-token"})
    resource_config.basic_users = {"jösé": "pässwörd"}
    resource_config.api_keys = frozenset({"good-key"})
    async with (
        aiohttp.ClientSession() as session,
        session.get(resource_server.make_url(path), headers=headers) as response,
    ):
        assert response.status == status


async def test_api_key_header_and_query_names_are_configurable(
    resource_config: ResourceConfig, resource_server: LocalServer
) -> None:
    resource_config.api_keys = frozenset({"good-key"})
    resource_config.api_key_header = "Api-Token"
    resource_config.api_key_query = "token"
    async with aiohttp.ClientSession() as session:
        for path, headers, status in [
            ("/api-key", {"Api-Token": "good-key"}, 200),
            ("/api-key", {"X-API-Key": "good-key"}, 401),
            ("/api-key?token=good-key", {}, 200),
            ("/api-key?api_key=good-key", {}, 401),
        ]:
            async with session.get(resource_server.make_url(path), headers=headers) as resp:
                assert resp.status == status, (path, headers)


async def test_unknown_paths_are_404_and_still_recorded(
    resource_config: ResourceConfig, resource_server: LocalServer
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(resource_server.make_url("/nowhere")) as response,
    ):
        assert response.status == 404
    assert [r.path for r in resource_config.requests] == ["/nowhere"]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirect_route_answers_the_requested_status(
    resource_server: LocalServer, status: int
) -> None:
    url = resource_server.make_url("/redirect").with_query(
        to="http://127.0.0.1:9/elsewhere?x=1", status=str(status)
    )
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, allow_redirects=False) as response,
    ):
        assert response.status == status
        assert response.headers[hdrs.LOCATION] == "http://127.0.0.1:9/elsewhere?x=1"


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"to": "/echo"}, 302),
        ({}, 400),
        ({"to": ""}, 400),
        ({"to": "/echo", "status": "abc"}, 400),
        ({"to": "/echo", "status": "200"}, 400),
        ({"to": "/echo", "status": "305"}, 400),
        ({"to": "/echo", "status": "³"}, 400),
    ],
)
async def test_redirect_route_defaults_to_302_and_rejects_bad_parameters(
    resource_server: LocalServer, query: dict[str, str], status: int
) -> None:
    url = resource_server.make_url("/redirect").with_query(query)
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, allow_redirects=False) as response,
    ):
        assert response.status == status


async def test_recorded_request_keeps_every_header_line_and_the_raw_target(
    resource_config: ResourceConfig, resource_server: LocalServer
) -> None:
    headers = CIMultiDict([("X-Dup", "first-copy"), ("X-Dup", "second-copy")])
    url = resource_server.make_url("/echo").with_query(q="é")
    async with (
        aiohttp.ClientSession() as session,
        session.put(url, headers=headers, data=b"payload\xff") as response,
    ):
        assert response.status == 200
    (recorded,) = resource_config.requests
    assert isinstance(recorded, RecordedRequest)
    assert (recorded.method, recorded.path, recorded.query_string) == ("PUT", "/echo", "q=é")
    assert recorded.body == b"payload\xff"
    assert recorded.raw_target == "/echo?q=%C3%A9"
    assert [value for name, value in recorded.raw_headers if name == "X-Dup"] == [
        "first-copy",
        "second-copy",
    ]
    raw = recorded.raw()
    for expected in ("PUT /echo?q=é", "/echo?q=%C3%A9", "first-copy", "second-copy", "payload"):
        assert expected in raw
