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
    oauth2_config: a fresh, empty ``AuthorizationServerConfig``;
        register clients and users, set lifetimes, plan faults, before or during the test.
    oauth2_server: the authorization server of ``aiohttp_auth.testing.oauth2`` served
        on 127.0.0.1 for the test, as a [`LocalServer`][aiohttp_auth.testing.LocalServer];
        ``oauth2_config.issuer`` is set to its URL (unless the test set one).
    sigv4_config, sigv4_server, httpsig_config, httpsig_server: the servers that
        verify AWS SigV4 and RFC 9421 signatures; see
        [`aiohttp_auth.testing.signing_plugin`][].
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .digest import DigestConfig, digest_app
from .oauth2 import AuthorizationServerConfig, authorization_server_app
from .resource import ResourceConfig, resource_app
from .server import LocalServer, serve_in_thread
from .signing_plugin import httpsig_config, httpsig_server, sigv4_config, sigv4_server

__all__ = [
    "digest_config",
    "digest_server",
    "httpsig_config",
    "httpsig_server",
    "oauth2_config",
    "oauth2_server",
    "resource_config",
    "resource_server",
    "sigv4_config",
    "sigv4_server",
]


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


@pytest.fixture
def oauth2_config() -> AuthorizationServerConfig:
    """Return what the authorization server accepts (no clients or users yet); edit it."""
    return AuthorizationServerConfig()


@pytest.fixture
def oauth2_server(oauth2_config: AuthorizationServerConfig) -> Iterator[LocalServer]:
    """Serve the OAuth 2 authorization server on 127.0.0.1 for one test."""
    with serve_in_thread(authorization_server_app(oauth2_config)) as server:
        if oauth2_config.issuer is None:
            # RFC 8414 §2: the issuer is the URL the server is reached at.
            oauth2_config.issuer = str(server.url).rstrip("/")
        yield server
