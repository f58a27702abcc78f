"""Credentials reach only their origins: redirects, URL prefixes, TLS and IPv6, on real servers.

aiohttp runs client middlewares again on every redirect hop, after stripping its own
``Authorization`` header on cross-origin hops, so a middleware that ignored the origin
would hand the secret to whatever ``Location`` names. Every static middleware is driven
here through every redirect status to a second origin, and the second server's record
of what it received (headers, target, body) is searched for every form of every secret.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable

import aiohttp
import pytest
from peers import AuthCase, Credentials, Site, require_ipv6_loopback
from yarl import URL

from aiohttp_auth.testing import RecordedRequest

REDIRECT_STATUSES = [301, 302, 303, 307, 308]
SiteFactory = Callable[..., Awaitable[Site]]


def redirect_url(source: Site, target: URL, status: int = 302) -> URL:
    """Return the URL on *source* that redirects to *target* with *status*."""
    return source.url("/redirect").with_query(to=str(target), status=str(status))


def carried(requests: list[RecordedRequest], wire_form: str) -> list[bool]:
    """Tell, per request, whether it carried the credential."""
    return [wire_form in request.raw() for request in requests]


@pytest.mark.parametrize("status", REDIRECT_STATUSES)
@pytest.mark.parametrize("target_kind", ["other-port", "localhost-same-port"])
async def test_redirect_to_other_origin_carries_no_credential(
    site: Site,
    other_site: Site,
    credentials: Credentials,
    auth_case: AuthCase,
    status: int,
    target_kind: str,
) -> None:
    # 127.0.0.1:A -> 127.0.0.1:B, or 127.0.0.1:A -> localhost:A (the same
    # socket under another name is another origin, RFC 6454 §4).
    target_site = other_site if target_kind == "other-port" else site
    target = target_site.url("/echo", host=None if target_kind == "other-port" else "localhost")
    middleware = auth_case.build(credentials)
    async with (
        aiohttp.ClientSession(middlewares=(middleware,)) as session,
        session.get(redirect_url(site, target, status)) as response,
    ):
        assert response.status == 200
        assert response.url == target
        assert len(response.history) == 1

    wire_form = auth_case.wire_form(credentials)
    assert carried(site.requests_to("/redirect"), wire_form) == [True]
    second_hop = target_site.requests_to("/echo")
    assert len(second_hop) == 1
    assert credentials.leaked_in(second_hop[0].raw()) == []


async def test_same_origin_redirect_keeps_the_credential(
    site: Site, credentials: Credentials, auth_case: AuthCase
) -> None:
    middleware = auth_case.build(credentials)
    source = site.url("/redirect").with_query(to=auth_case.path)  # a relative Location
    async with (
        aiohttp.ClientSession(middlewares=(middleware,)) as session,
        session.get(source) as response,
    ):
        assert response.status == 200
    wire_form = auth_case.wire_form(credentials)
    assert carried(site.requests_to("/redirect"), wire_form) == [True]
    assert carried(site.requests_to(auth_case.path), wire_form) == [True]


async def test_redirect_back_to_the_allowed_origin_carries_it_again(
    site: Site, other_site: Site, credentials: Credentials, auth_case: AuthCase
) -> None:
    # A -> B -> A: the credential is bound to A, so B sees nothing and A's
    # protected route accepts the final hop.
    back = site.url(auth_case.path)
    middleware = auth_case.build(credentials)
    async with (
        aiohttp.ClientSession(middlewares=(middleware,)) as session,
        session.get(redirect_url(site, redirect_url(other_site, back))) as response,
    ):
        assert response.status == 200
        assert len(response.history) == 2
    assert credentials.leaked_in(other_site.received()) == []
    assert carried(site.requests_to(auth_case.path), auth_case.wire_form(credentials)) == [True]


async def test_explicit_origins_list_admits_each_listed_origin_only(
    site: Site, other_site: Site, credentials: Credentials, auth_case: AuthCase
) -> None:
    middleware = auth_case.build(credentials, origins=[site.origin(), other_site.origin()])
    unlisted = site.url(auth_case.path, host="localhost")
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        for url, expected in [
            (site.url(auth_case.path), 200),
            (other_site.url(auth_case.path), 200),
            (unlisted, 401),
        ]:
            async with session.get(url) as response:
                assert response.status == expected, url
    wire_form = auth_case.wire_form(credentials)
    assert carried(site.requests_to(auth_case.path), wire_form) == [True, False]
    assert carried(other_site.requests_to(auth_case.path), wire_form) == [True]


async def test_url_prefix_admits_only_paths_below_it(
    site: Site, credentials: Credentials, auth_case: AuthCase
) -> None:
    middleware = auth_case.build(credentials, origins=site.origin() + auth_case.path)
    sibling = auth_case.path + "-v2"  # shares the prefix's characters, not its segment
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        for path, expected in [(auth_case.path, 200), ("/echo", 200), (sibling, 404)]:
            async with session.get(site.url(path)) as response:
                assert response.status == expected, path
    wire_form = auth_case.wire_form(credentials)
    assert carried(site.requests_to(auth_case.path), wire_form) == [True]
    assert carried(site.requests_to("/echo"), wire_form) == [False]
    assert carried(site.requests_to(sibling), wire_form) == [False]
    assert middleware.scope.describe() == repr([site.origin() + auth_case.path])


async def test_prefix_scope_redirect_out_of_the_prefix_carries_nothing(
    site: Site, credentials: Credentials, auth_case: AuthCase
) -> None:
    middleware = auth_case.build(credentials, origins=site.origin() + "/redirect")
    async with (
        aiohttp.ClientSession(middlewares=(middleware,)) as session,
        session.get(site.url("/redirect").with_query(to="/echo")) as response,
    ):
        assert response.status == 200
    wire_form = auth_case.wire_form(credentials)
    assert carried(site.requests_to("/redirect"), wire_form) == [True]
    assert carried(site.requests_to("/echo"), wire_form) == [False]


# --- TLS -----------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_credentials_over_tls(
    make_site: SiteFactory,
    credentials: Credentials,
    auth_case: AuthCase,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
    host: str,
) -> None:
    tls_site = await make_site(ssl_context=server_ssl_context)
    url = tls_site.url(auth_case.path, host=host)
    assert url.scheme == "https"
    middleware = auth_case.build(credentials)
    async with (
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=client_ssl_context), middlewares=(middleware,)
        ) as session,
        session.get(url) as response,
    ):
        assert response.status == 200
    assert carried(tls_site.requests_to(auth_case.path), auth_case.wire_form(credentials)) == [
        True
    ]


async def test_https_downgrade_redirect_carries_nothing(
    make_site: SiteFactory,
    site: Site,
    credentials: Credentials,
    auth_case: AuthCase,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
) -> None:
    # https://127.0.0.1:A -> http://127.0.0.1:B on the same host: another
    # scheme is another origin, and plain http would expose the secret.
    tls_site = await make_site(ssl_context=server_ssl_context)
    middleware = auth_case.build(credentials)
    plain = site.url("/echo")
    async with (
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=client_ssl_context), middlewares=(middleware,)
        ) as session,
        session.get(redirect_url(tls_site, plain)) as response,
    ):
        assert response.status == 200
        assert response.url == plain
    assert carried(tls_site.requests_to("/redirect"), auth_case.wire_form(credentials)) == [True]
    assert len(site.requests_to("/echo")) == 1
    assert credentials.leaked_in(site.received()) == []


# --- IPv6 ----------------------------------------------------------------------------


async def test_ipv6_loopback_origin(
    make_site: SiteFactory, site: Site, credentials: Credentials, auth_case: AuthCase
) -> None:
    require_ipv6_loopback()
    ipv6_site = await make_site(host="::1")
    assert ipv6_site.url("/").host == "::1"
    middleware = auth_case.build(credentials)
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        async with session.get(ipv6_site.url(auth_case.path)) as response:
            assert response.status == 200
        # [::1] -> 127.0.0.1: the same machine, another origin.
        async with session.get(redirect_url(ipv6_site, site.url("/echo"))) as response:
            assert response.status == 200
    wire_form = auth_case.wire_form(credentials)
    assert carried(ipv6_site.requests_to(auth_case.path), wire_form) == [True]
    assert carried(ipv6_site.requests_to("/redirect"), wire_form) == [True]
    assert credentials.leaked_in(site.received()) == []
    assert middleware.scope.describe() == repr([f"http://[::1]:{ipv6_site.server.port}"])
