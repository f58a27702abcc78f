"""pytest plugin: real local servers as fixtures (registered as ``aiohttp_auth``).

The servers run in a thread with their own event loop, so the fixtures work
with pytest-asyncio, pytest-aiohttp, anyio or plain synchronous tests alike.

Fixtures:
    resource_config: a fresh [`ResourceConfig`][aiohttp_auth.testing.ResourceConfig];
        set the credentials it accepts before using ``resource_server``.
    resource_server: the protected resource of [`aiohttp_auth.testing.resource`][]
        served on 127.0.0.1 for the test, as a [`LocalServer`][aiohttp_auth.testing.LocalServer].
    digest_config: a fresh [`DigestConfig`][aiohttp_auth.testing.DigestConfig]; add the
        users it accepts (and change what it offers) before or during the test.
    digest_server: the Digest-protected resource of [`aiohttp_auth.testing.digest`][]
        served on 127.0.0.1 for the test, as a [`LocalServer`][aiohttp_auth.testing.LocalServer].
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .digest import DigestConfig, digest_app
from .resource import ResourceConfig, resource_app
from .server import LocalServer, serve_in_thread

__all__ = ["digest_config", "digest_server", "resource_config", "resource_server"]


@pytest.fixture
def resource_config() -> ResourceConfig:
    """Return what the resource server will accept; edit it in the test."""
    return ResourceConfig()


@pytest.fixture
def resource_server(resource_config: ResourceConfig) -> Iterator[LocalServer]:
    """Serve the protected resource on 127.0.0.1 for one test."""
    with serve_in_thread(resource_app(resource_config)) as server:
        yield server


@pytest.fixture
def digest_config() -> DigestConfig:
    """Return what the Digest server offers and accepts (no users yet); edit it in the test."""
    return DigestConfig()


@pytest.fixture
def digest_server(digest_config: DigestConfig) -> Iterator[LocalServer]:
    """Serve the Digest-protected resource on 127.0.0.1 for one test."""
    with serve_in_thread(digest_app(digest_config)) as server:
        yield server
