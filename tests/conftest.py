"""Fixtures shared by the suite: credentials, real local resource servers, TLS.

The helpers themselves live in :mod:`peers` (importable from every test module,
because pytest puts this directory on ``sys.path``); this file only turns them
into fixtures. Servers run on 127.0.0.1 (and ``::1`` where a test asks for it).
"""

from __future__ import annotations

import inspect
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack

import aiohttp.payload
import pytest
import trustme
from peers import AUTH_CASES, AuthCase, Credentials, NameResolver, Site

from aiohttp_auth.testing import LocalServer, resource_app, serve_in_thread

# The real peers as session fixtures, each built on peers.running_process: Digest
# servers (lighttpd, apache2, httpbin), an Authlib authorization server, moto (SigV4),
# LocalStack's S3 (presigned URLs) and Azurite (Azure Shared Key).
pytest_plugins = [
    "authlib_server",
    "azurite_peer",
    "digest_peers",
    "moto_peer",
    "presign_peer",
]

#: Names the test certificate is valid for; ``api.test`` reaches 127.0.0.1 through
#: :class:`peers.NameResolver` and stands for a remote host.
TLS_NAMES = ("127.0.0.1", "localhost", "::1", "api.test")


@pytest.fixture
def without_as_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take ``as_bytes()`` off every payload class, as on aiohttp 3.12.0 (3.12.1 added it)."""
    for _, cls in inspect.getmembers(aiohttp.payload, inspect.isclass):
        if "as_bytes" in vars(cls):
            monkeypatch.delattr(cls, "as_bytes")


@pytest.fixture(scope="session")
def credentials() -> Credentials:
    """Return the random secrets of this test session."""
    return Credentials()


@pytest.fixture(scope="session")
def _threaded_sites(credentials: Credentials) -> Iterator[tuple[Site, Site]]:
    # Two resource servers for the whole session, served from threads so that
    # every test's event loop can use them; tests get them with fresh records.
    first = credentials.resource_config()
    second = credentials.resource_config()
    with (
        serve_in_thread(resource_app(first)) as first_server,
        serve_in_thread(resource_app(second)) as second_server,
    ):
        yield Site(first_server, first), Site(second_server, second)


@pytest.fixture
def site(_threaded_sites: tuple[Site, Site]) -> Site:
    """Return a resource server on 127.0.0.1 that accepts :func:`credentials`."""
    site = _threaded_sites[0]
    site.config.requests.clear()
    return site


@pytest.fixture
def other_site(_threaded_sites: tuple[Site, Site]) -> Site:
    """Return a second resource server: another port, so another origin."""
    site = _threaded_sites[1]
    site.config.requests.clear()
    return site


SiteFactory = Callable[..., Awaitable[Site]]


@pytest.fixture
async def make_site(credentials: Credentials) -> AsyncIterator[SiteFactory]:
    """Return ``await make_site(host=..., ssl_context=...)``: a server in this event loop."""
    async with AsyncExitStack() as stack:

        async def make(
            *, host: str = "127.0.0.1", ssl_context: ssl.SSLContext | None = None
        ) -> Site:
            config = credentials.resource_config()
            server = LocalServer(resource_app(config), host=host, ssl_context=ssl_context)
            await stack.enter_async_context(server)
            return Site(server, config)

        yield make


@pytest.fixture(params=AUTH_CASES, ids=lambda case: case.name)
def auth_case(request: pytest.FixtureRequest) -> AuthCase:
    """Return each static middleware in turn (Bearer static and callable, Basic, API key x2)."""
    case: AuthCase = request.param
    return case


@pytest.fixture
def resolver() -> NameResolver:
    """Return a resolver mapping ``api.test``, ``other.test`` and ``localhost`` to 127.0.0.1."""
    return NameResolver()


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    """Return a throwaway certificate authority for this session."""
    return trustme.CA()


@pytest.fixture(scope="session")
def server_ssl_context(tls_ca: trustme.CA) -> ssl.SSLContext:
    """Return a server TLS context with a certificate for :data:`TLS_NAMES`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert(*TLS_NAMES).configure_cert(context)
    return context


@pytest.fixture(scope="session")
def client_ssl_context(tls_ca: trustme.CA) -> ssl.SSLContext:
    """Return a client TLS context that trusts :func:`tls_ca` (and verifies names)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    tls_ca.configure_trust(context)
    return context
