"""AzureSharedKeyMiddleware on loopback: what is signed is what is sent, on every hop.

A recording server receives each request; its ``Authorization`` must be what
azure-storage-blob's own Shared Key policy computes from the request as
received (method, target and headers), an independent check of what aiohttp
really sent: the ``Content-Type`` it adds after middlewares, the
``Content-Length`` it computes, chunked bodies. Azurite, a real verifier, is
in tests/test_signing_azure_azurite.py.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.pipeline.transport import HttpRequest
from azure.storage.blob._shared.authentication import SharedKeyCredentialPolicy
from peers import NameResolver

from aiohttp_auth.errors import SigningError
from aiohttp_auth.signing.azure import DEFAULT_VERSION
from aiohttp_auth.signing.azure_middleware import AzureSharedKeyMiddleware
from aiohttp_auth.testing import LocalServer, RecordedRequest, ResourceConfig, resource_app

ACCOUNT = "myaccount"
KEY = base64.b64encode(b"middleware test key, 32+ bytes..").decode()


def _sdk_authorization(received: RecordedRequest) -> str:
    """What azure-storage-blob signs for the request as the server received it."""
    # A field value excludes surrounding whitespace (RFC 9110 §5.5); aiohttp
    # 3.12.0's server keeps trailing spaces, later versions strip them.
    headers = {
        name.lower(): value.strip()
        for name, value in received.raw_headers
        if name.lower() != "authorization"
    }
    request = HttpRequest(received.method, f"http://host{received.raw_target}", headers=headers)
    SharedKeyCredentialPolicy(ACCOUNT, KEY).on_request(
        PipelineRequest(request, PipelineContext(None))
    )
    return str(request.headers["Authorization"])


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[LocalServer, ResourceConfig]]:
    config = ResourceConfig()
    async with LocalServer(resource_app(config)) as server:
        yield server, config


async def _stream() -> AsyncIterator[bytes]:
    for chunk in (b"abc", b"def"):
        yield chunk


# Sent untrimmed; received (and signed) trimmed.
METADATA = {"X-MS-Meta-Owner": " ann ", "x-ms-meta-a_b": "b", "x-ms-meta-ab": "c"}
BODIES: dict[str, tuple[str, dict[str, Any]]] = {
    "get": ("GET", {}),
    "get-with-query": ("GET", {"params": {"restype": "container", "comp": "list"}}),
    "head": ("HEAD", {}),
    "delete": ("DELETE", {}),
    "put-empty": ("PUT", {}),
    "post-empty-no-content-type": ("POST", {"skip_auto_headers": ("Content-Type",)}),
    "put-bytes": ("PUT", {"data": b"hello world"}),
    "put-str": ("PUT", {"data": "h\u00e9llo"}),
    "post-json": ("POST", {"json": {"a": 1}}),
    "patch-bytesio": ("PATCH", {"data": io.BytesIO(b"xyz")}),
    "put-stream-with-length": ("PUT", {"data": "stream", "headers": {"Content-Length": "6"}}),
    "put-stream-chunked": ("PUT", {"data": "stream"}),
    "put-compressed": ("PUT", {"data": b"x" * 100, "compress": "deflate"}),
    "put-metadata": ("PUT", {"data": b"1", "headers": METADATA}),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BODIES))
async def test_each_request_is_signed_as_it_is_sent(
    recorder: tuple[LocalServer, ResourceConfig], case: str
) -> None:
    server, config = recorder
    method, kwargs = BODIES[case]
    if kwargs.get("data") == "stream":
        kwargs = {**kwargs, "data": _stream()}
    middleware = AzureSharedKeyMiddleware(ACCOUNT, KEY)
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        url = server.make_url("/echo/container/blob%20name.txt")
        async with session.request(method, url, **kwargs) as response:
            assert response.status == 200
    (received,) = config.requests
    assert received.headers["Authorization"] == _sdk_authorization(received)
    assert received.headers["x-ms-version"] == DEFAULT_VERSION
    if method in ("PATCH", "POST", "PUT"):
        assert ("Content-Type" in received.headers) != ("skip_auto_headers" in kwargs)


async def test_empty_put_signs_the_content_type_aiohttp_would_add(
    recorder: tuple[LocalServer, ResourceConfig],
) -> None:
    server, config = recorder
    middleware = AzureSharedKeyMiddleware(ACCOUNT, KEY)
    async with (
        aiohttp.ClientSession(middlewares=(middleware,)) as session,
        session.put(server.make_url("/echo")) as response,
    ):
        assert response.status == 200
    (received,) = config.requests
    assert received.headers["Content-Type"] == "application/octet-stream"
    assert received.headers["Content-Length"] == "0"


async def test_clock_sets_x_ms_date_and_a_date_already_set_is_kept(
    recorder: tuple[LocalServer, ResourceConfig],
) -> None:
    server, config = recorder
    middleware = AzureSharedKeyMiddleware(ACCOUNT, KEY, version="2021-08-06", clock=lambda: 0.0)
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        async with session.get(server.make_url("/echo")) as response:
            assert response.status == 200
        mine = {"x-ms-date": "Mon, 02 Jan 2006 15:04:05 GMT", "x-ms-version": "2019-12-12"}
        async with session.get(server.make_url("/echo"), headers=mine) as response:
            assert response.status == 200
    first, second = config.requests
    assert first.headers["x-ms-date"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert first.headers["x-ms-version"] == "2021-08-06"
    assert (second.headers["x-ms-date"], second.headers["x-ms-version"]) == tuple(mine.values())
    assert second.headers["Authorization"] == _sdk_authorization(second)


async def test_redirect_to_other_origin_carries_no_authorization() -> None:
    first, second = ResourceConfig(), ResourceConfig()
    async with LocalServer(resource_app(first)) as a, LocalServer(resource_app(second)) as b:
        middleware = AzureSharedKeyMiddleware(ACCOUNT, KEY, origins=str(a.make_url("/").origin()))
        target = str(b.make_url("/echo"))
        async with (
            aiohttp.ClientSession(middlewares=(middleware,)) as session,
            session.get(a.make_url("/redirect"), params={"to": target, "status": "307"}) as resp,
        ):
            assert resp.status == 200
    assert first.requests[0].headers["Authorization"] == _sdk_authorization(first.requests[0])
    (redirected,) = second.requests
    assert "Authorization" not in redirected.headers
    assert KEY not in redirected.raw()


async def test_redirect_within_the_origin_is_signed_again_for_the_new_url(
    recorder: tuple[LocalServer, ResourceConfig],
) -> None:
    server, config = recorder
    middleware = AzureSharedKeyMiddleware(ACCOUNT, KEY)
    target = str(server.make_url("/echo/after"))
    async with (
        aiohttp.ClientSession(middlewares=(middleware,)) as session,
        session.get(server.make_url("/redirect"), params={"to": target}) as response,
    ):
        assert response.status == 200
    hop1, hop2 = config.requests
    assert hop2.path == "/echo/after"
    for hop in (hop1, hop2):
        assert hop.headers["Authorization"] == _sdk_authorization(hop)
    assert hop1.headers["Authorization"] != hop2.headers["Authorization"]


async def test_plain_http_to_a_remote_host_is_signed_since_no_secret_travels(
    recorder: tuple[LocalServer, ResourceConfig],
) -> None:
    server, config = recorder
    middleware = AzureSharedKeyMiddleware(ACCOUNT, KEY)
    url = server.make_url("/echo").with_host("api.test")
    connector = aiohttp.TCPConnector(resolver=NameResolver())
    async with (
        aiohttp.ClientSession(middlewares=(middleware,), connector=connector) as session,
        session.get(url) as response,
    ):
        assert response.status == 200
    assert config.requests[0].headers["Authorization"].startswith(f"SharedKey {ACCOUNT}:")


async def test_unsignable_request_raises_before_anything_is_sent(
    recorder: tuple[LocalServer, ResourceConfig],
) -> None:
    server, config = recorder
    middleware = AzureSharedKeyMiddleware(ACCOUNT, KEY)
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        with pytest.raises(SigningError, match="x-ms-meta-city"):
            await session.get(server.make_url("/echo"), headers={"x-ms-meta-city": "K\u00f6ln"})
    assert config.requests == []


async def test_repr_and_logs_never_show_the_key(
    recorder: tuple[LocalServer, ResourceConfig], caplog: pytest.LogCaptureFixture
) -> None:
    server, _ = recorder
    middleware = AzureSharedKeyMiddleware(ACCOUNT, KEY, service="table", lite=True)
    caplog.set_level(logging.DEBUG)
    async with (
        aiohttp.ClientSession(middlewares=(middleware,)) as session,
        session.get(server.make_url("/echo")) as response,
    ):
        assert response.status == 200
    text = repr(middleware)
    assert f"account_key=<redacted {len(KEY)} chars>" in text
    assert "service='table'" in text
    assert KEY not in text + caplog.text
    assert middleware.signer.scheme == "SharedKeyLite"
