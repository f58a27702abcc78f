"""The HTTP clients ``oauth2.py`` measures, and the variants of its steady-state rounds.

A :class:`Client` is what the harness drives: ``get(url)`` sends one request
and reads the body (``harness.Get``), ``close()`` ends the client. Each
:class:`Variant` makes one from a :class:`Setup` (the server's ports, the pool
size, a token for the static Bearer middleware), and names its timed route on
the resource port and its family, which sets its block size: httpx-based
clients run much slower, so they run smaller blocks.

aiohttp variants: bare aiohttp (twice: how far two identical sessions land
apart is the noise floor), a header set through the session's ``headers=``,
the static ``BearerAuthMiddleware`` and ``OAuth2Middleware`` with the client
credentials grant. httpx variants: bare httpx, httpx with httpx-auth's
``OAuth2ClientCredentials``, and Authlib's ``AsyncOAuth2Client``; they run
only when those libraries are installed (:func:`available_variants`).
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import aiohttp
from harness import Get, aiohttp_get
from oauth2_server import CLIENT_SECRET, Ports
from subprocess_server import KEEPALIVE_TIMEOUT

import aiohttp_auth as aa
from aiohttp_auth.oauth2.grants import ClientCredentials

REQUEST_TIMEOUT = 60.0


class Client(NamedTuple):
    """One HTTP client under test: ``get(url)`` sends one request and reads the body."""

    get: Get
    close: Callable[[], Awaitable[None]]


def aiohttp_session(pool: int, middlewares: tuple[Any, ...] = (), **options: Any) -> Any:
    """Return a ``ClientSession`` with a pool of *pool* keep-alive connections."""
    connector = aiohttp.TCPConnector(limit=pool, keepalive_timeout=KEEPALIVE_TIMEOUT)
    return aiohttp.ClientSession(
        connector=connector,
        middlewares=middlewares,
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
        **options,
    )


def _httpx_client(client: Any) -> Client:
    async def get(url: str) -> None:
        response = await client.get(url)  # reads the body
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")

    return Client(get, client.aclose)


def _httpx_options(pool: int) -> dict[str, Any]:
    import httpx

    # httpx closes idle connections after 5 s by default; a variant idles
    # longer than that while the others run, and reconnecting is not what is measured.
    limits = httpx.Limits(
        max_connections=pool, max_keepalive_connections=pool, keepalive_expiry=KEEPALIVE_TIMEOUT
    )
    return {"limits": limits, "timeout": REQUEST_TIMEOUT}


class Setup(NamedTuple):
    """What a variant's factory needs."""

    ports: Ports
    pool: int
    static_token: str

    @property
    def token_url(self) -> str:
        return self.ports.as_url("/token")


async def _bare_httpx(setup: Setup) -> Client:
    import httpx

    return _httpx_client(httpx.AsyncClient(**_httpx_options(setup.pool)))


async def _httpx_auth(setup: Setup) -> Client:
    import httpx
    from httpx_auth import OAuth2ClientCredentials

    # Its first token request is a synchronous httpx.Client call (it blocks
    # the event loop); it is made during the untimed warm-up.
    auth = OAuth2ClientCredentials(
        setup.token_url, client_id="steady-httpx-auth", client_secret=CLIENT_SECRET
    )
    return _httpx_client(httpx.AsyncClient(auth=auth, **_httpx_options(setup.pool)))


async def _authlib(setup: Setup) -> Client:
    from authlib.deprecate import AuthlibDeprecationWarning

    with warnings.catch_warnings():
        # Authlib 1.9 warns on import that it uses httpx because httpx2 is not
        # installed. (Importing authlib.deprecate first: it turns the warning on.)
        warnings.simplefilter("ignore", AuthlibDeprecationWarning)
        from authlib.integrations.httpx_client import AsyncOAuth2Client

    client = AsyncOAuth2Client(
        "steady-authlib",
        CLIENT_SECRET,
        token_endpoint=setup.token_url,
        grant_type="client_credentials",
        **_httpx_options(setup.pool),
    )
    # It sends no request without a token; with token_endpoint and grant_type
    # it fetches the next one itself when this one is about to expire.
    await client.fetch_token(setup.token_url, grant_type="client_credentials")
    return _httpx_client(client)


async def _aiohttp_variant(setup: Setup, *middlewares: Any, **options: Any) -> Client:
    session = aiohttp_session(setup.pool, middlewares, **options)
    return Client(aiohttp_get(session), session.close)


class Variant(NamedTuple):
    """A client in the steady-state rounds."""

    make: Callable[[Setup], Awaitable[Client]]
    path: str  # its timed route on the resource port
    family: str  # "aiohttp" or "httpx": sets the block size
    reference: bool = False


BASELINE = "bare aiohttp"
STATIC = "Bearer (static)"
OURS = "OAuth2Middleware"
BARE_HTTPX = "bare httpx"
HTTPX_AUTH = "httpx + httpx-auth"
AUTHLIB = "Authlib AsyncOAuth2Client"
THIRD_PARTY = (HTTPX_AUTH, AUTHLIB)

VARIANTS: dict[str, Variant] = {
    BASELINE: Variant(lambda s: _aiohttp_variant(s), "/open", "aiohttp", reference=True),
    # Two identical bare sessions: how far apart they land is the noise floor.
    "bare aiohttp (A/A)": Variant(lambda s: _aiohttp_variant(s), "/open", "aiohttp", True),
    "header, no middleware": Variant(
        lambda s: _aiohttp_variant(s, headers={"Authorization": f"Bearer {s.static_token}"}),
        "/bearer",
        "aiohttp",
        reference=True,
    ),
    STATIC: Variant(
        lambda s: _aiohttp_variant(s, aa.BearerAuthMiddleware(s.static_token)),
        "/bearer",
        "aiohttp",
    ),
    OURS: Variant(
        lambda s: _aiohttp_variant(
            s, aa.OAuth2Middleware(ClientCredentials(s.token_url, "steady-ours", CLIENT_SECRET))
        ),
        "/bearer",
        "aiohttp",
    ),
    BARE_HTTPX: Variant(_bare_httpx, "/open", "httpx", reference=True),
    HTTPX_AUTH: Variant(_httpx_auth, "/bearer", "httpx"),
    AUTHLIB: Variant(_authlib, "/bearer", "httpx"),
}
#: The client each variant obtains its tokens as, on the authorization server.
TOKEN_CLIENTS = {OURS: "steady-ours", HTTPX_AUTH: "steady-httpx-auth", AUTHLIB: "steady-authlib"}


def available_variants() -> tuple[dict[str, Variant], list[str]]:
    """The variants whose libraries are installed, and notes on those that are not."""
    variants, missing = {}, []
    for name, variant in VARIANTS.items():
        needs = {BARE_HTTPX: "httpx", HTTPX_AUTH: "httpx_auth", AUTHLIB: "authlib"}.get(name)
        if needs is not None:
            try:
                __import__(needs)
            except ImportError:
                missing.append(f"{name}: {needs} is not installed")
                continue
        variants[name] = variant
    return variants, missing
