"""DigestAuthMiddleware against real servers: lighttpd, apache2 mod_auth_digest, httpbin.

The servers (``digest_peers``) verify every answer independently of this package. What
the client sends and what it gets back is recorded by :class:`Wire`, a middleware placed
*inside* the Digest middleware, so it sees every request that really goes out, 401s and
retries included: that is how "one 401 per protection space" is counted.

aiohttp's own ``DigestAuthMiddleware`` runs the same scenarios where it can, to show the
drop-in results are equal and where ours does better.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import ClientRequest, ClientResponse, hdrs
from aiohttp.client_middlewares import ClientHandlerType
from digest_peers import (
    ALICE,
    JURGEN,
    ApacheDigest,
    DigestUser,
    HttpbinServer,
    LighttpdDigest,
    ProtectedPath,
    echo_line,
)
from yarl import URL

from aiohttp_auth.challenges import parse_auth_params
from aiohttp_auth.digest import DigestAuthMiddleware

DEADLINE = 15.0
TIMEOUT = aiohttp.ClientTimeout(total=DEADLINE)
WRONG = "not-the-password"
HTTPBIN_USER = DigestUser("user", "passwd-9")
#: aiohttp's own middleware answers preemptively since 3.12.8; 3.12.0 has no such option.
AIOHTTP_PREEMPTIVE = "preemptive" in inspect.signature(aiohttp.DigestAuthMiddleware).parameters


@dataclass(frozen=True)
class Exchange:
    """One request as it went out, and the status and headers that came back."""

    path: str
    authorization: dict[str, str] | None
    status: int
    response_headers: dict[str, str]


@dataclass
class Wire:
    """A middleware that records every request that really goes out."""

    exchanges: list[Exchange] = field(default_factory=list)

    async def __call__(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        header = request.headers.get(hdrs.AUTHORIZATION)
        params = None if header is None else parse_auth_params(header.partition(" ")[2])
        response = await handler(request)
        headers = dict(response.headers.items())
        self.exchanges.append(Exchange(request.url.path, params, response.status, headers))
        return response

    @property
    def statuses(self) -> list[int]:
        return [exchange.status for exchange in self.exchanges]

    @property
    def challenges(self) -> int:
        return self.statuses.count(401)


def session(digest: Any, wire: Wire, **kwargs: Any) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(middlewares=(digest, wire), timeout=TIMEOUT, **kwargs)


async def fetch(client: aiohttp.ClientSession, method: str, url: URL, **kwargs: Any) -> str:
    """Send a request and return ``"STATUS body"``."""
    async with client.request(method, url, **kwargs) as response:
        return f"{response.status} {await response.text()}"


async def gather(*awaitables: Awaitable[str]) -> list[str]:
    return list(await asyncio.wait_for(asyncio.gather(*awaitables), DEADLINE))


def ours(user: DigestUser = ALICE, password: str | None = None) -> DigestAuthMiddleware:
    return DigestAuthMiddleware(user.login, password or user.password)


# --- lighttpd ----------------------------------------------------------------------------

LIGHTTPD_PATHS = ["md5", "sha256", "sha256_md5", "sha512_256", "userhash"]


@pytest.mark.peer("lighttpd")
@pytest.mark.parametrize("user", [ALICE, JURGEN], ids=["ascii", "non-ascii"])
@pytest.mark.parametrize("name", LIGHTTPD_PATHS)
async def test_every_lighttpd_space_costs_one_401_for_three_requests(
    lighttpd_digest: LighttpdDigest, name: str, user: DigestUser
) -> None:
    protected: ProtectedPath = getattr(lighttpd_digest, name)
    wire = Wire()
    async with session(ours(user), wire) as client:
        url = lighttpd_digest.url(protected.echo)
        results = [await fetch(client, "GET", url) for _ in range(3)]
    assert results == [f"200 {echo_line('GET', user.login)}"] * 3
    assert wire.statuses == [401, 200, 200, 200]
    sent = [exchange.authorization for exchange in wire.exchanges[1:]]
    assert [answer["nc"] for answer in sent if answer] == ["00000001", "00000002", "00000003"]
    answer = sent[0]
    assert answer is not None
    # The strongest offered algorithm, whatever the order of the challenges.
    assert answer["algorithm"] == protected.algorithms[0]
    if protected.userhash:
        assert answer["userhash"] == "true"
        assert user.login not in answer["username"]
    elif user is JURGEN:
        assert answer["username*"] == "UTF-8''j%C3%BCrgen"


@pytest.mark.peer("lighttpd")
@pytest.mark.parametrize("name", ["md5", "sha256", "sha256_md5"])
async def test_drop_in_gives_the_same_results_as_aiohttps_middleware(
    lighttpd_digest: LighttpdDigest, name: str
) -> None:
    protected: ProtectedPath = getattr(lighttpd_digest, name)
    results = {}
    for label, middleware in [
        ("aiohttp", aiohttp.DigestAuthMiddleware(ALICE.login, ALICE.password)),
        ("ours", ours()),
    ]:
        wire = Wire()
        async with session(middleware, wire) as client:
            get = await fetch(client, "GET", lighttpd_digest.url(protected.echo))
            post = await fetch(client, "POST", lighttpd_digest.url(protected.echo), data=b"b")
        results[label] = (get, post, wire.statuses)
    expected = (
        f"200 {echo_line('GET', ALICE.login)}",
        f"200 {echo_line('POST', ALICE.login, b'b')}",
    )
    assert results["ours"] == (*expected, [401, 200, 200])
    theirs = [401, 200, 200] if AIOHTTP_PREEMPTIVE else [401, 200, 401, 200]
    assert results["aiohttp"] == (*expected, theirs)


@pytest.mark.peer("lighttpd")
async def test_sha512_256_works_where_aiohttps_middleware_fails(
    lighttpd_digest: LighttpdDigest,
) -> None:
    url = lighttpd_digest.url(lighttpd_digest.sha512_256.echo)
    async with session(aiohttp.DigestAuthMiddleware(ALICE.login, ALICE.password), Wire()) as c:
        with pytest.raises(aiohttp.ClientError, match="Unsupported hash algorithm"):
            await fetch(c, "GET", url)
    async with session(ours(), Wire()) as client:
        assert await fetch(client, "GET", url) == f"200 {echo_line('GET', ALICE.login)}"


@pytest.mark.peer("lighttpd")
async def test_userhash_keeps_the_login_off_the_wire_unlike_aiohttps_middleware(
    lighttpd_digest: LighttpdDigest,
) -> None:
    url = lighttpd_digest.url(lighttpd_digest.userhash.echo)
    theirs, mine = Wire(), Wire()
    async with session(aiohttp.DigestAuthMiddleware(JURGEN.login, JURGEN.password), theirs) as c:
        assert await fetch(c, "GET", url) == f"200 {echo_line('GET', JURGEN.login)}"
    async with session(ours(JURGEN), mine) as client:
        assert await fetch(client, "GET", url) == f"200 {echo_line('GET', JURGEN.login)}"
    their_answer, my_answer = theirs.exchanges[-1].authorization, mine.exchanges[-1].authorization
    assert their_answer is not None
    assert my_answer is not None
    assert their_answer["username"] == JURGEN.login
    expected = hashlib.sha256(f"{JURGEN.login}:digest".encode()).hexdigest()
    assert (my_answer["username"], my_answer["userhash"]) == (expected, "true")


@pytest.mark.peer("lighttpd")
async def test_fifty_concurrent_requests_in_a_warm_space_cost_no_401(
    lighttpd_digest: LighttpdDigest,
) -> None:
    wire = Wire()
    url = lighttpd_digest.url(lighttpd_digest.sha256.file)
    async with session(ours(), wire) as client:
        assert (
            await fetch(client, "GET", url)
            == f"200 {lighttpd_digest.sha256.file_content.decode()}"
        )
        results = await gather(*(fetch(client, "GET", url) for _ in range(50)))
    assert results == [f"200 {lighttpd_digest.sha256.file_content.decode()}"] * 50
    assert wire.challenges == 1
    counts = [
        exchange.authorization["nc"] for exchange in wire.exchanges if exchange.authorization
    ]
    assert len(set(counts)) == len(counts) == 51


@pytest.mark.peer("lighttpd")
async def test_burst_of_concurrent_first_requests_costs_one_401(
    lighttpd_digest: LighttpdDigest,
) -> None:
    wire = Wire()
    url = lighttpd_digest.url(lighttpd_digest.sha512_256.file)
    async with session(ours(), wire) as client:
        results = await gather(*(fetch(client, "GET", url) for _ in range(10)))
    assert results == [f"200 {lighttpd_digest.sha512_256.file_content.decode()}"] * 10
    assert wire.challenges == 1


@pytest.mark.peer("lighttpd")
async def test_wrong_password_gets_the_401_after_one_retry(
    lighttpd_digest: LighttpdDigest,
) -> None:
    wire = Wire()
    async with session(ours(password=WRONG), wire) as client:
        result = await fetch(client, "GET", lighttpd_digest.url(lighttpd_digest.sha256.file))
    assert result.startswith("401 ")
    assert wire.statuses == [401, 401]


async def stream(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        await asyncio.sleep(0)
        yield part


@pytest.mark.peer("lighttpd")
async def test_streaming_body_to_a_new_space_gets_the_401_and_a_warning(
    lighttpd_digest: LighttpdDigest, caplog: pytest.LogCaptureFixture
) -> None:
    wire = Wire()
    url = lighttpd_digest.url(lighttpd_digest.sha256.echo)
    with caplog.at_level(logging.WARNING, logger="aiohttp_auth"):
        async with session(ours(), wire) as client:
            result = await fetch(client, "POST", url, data=stream(b"part one, ", b"part two"))
    assert result.startswith("401 ")
    assert wire.statuses == [401]  # never resent empty
    assert "streaming body was already sent" in caplog.text


@pytest.mark.peer("lighttpd")
async def test_streaming_body_in_a_warm_space_arrives_intact_in_one_request(
    lighttpd_digest: LighttpdDigest,
) -> None:
    wire = Wire()
    parts = [bytes(range(256)) * 64] * 5  # 80 KiB, chunked
    url = lighttpd_digest.url(lighttpd_digest.sha256.echo)
    async with session(ours(), wire) as client:
        assert (await fetch(client, "GET", url)).startswith("200 ")
        result = await fetch(client, "POST", url, data=stream(*parts))
        retried = await fetch(client, "PUT", url, data=b"".join(parts))
    assert result == f"200 {echo_line('POST', ALICE.login, b''.join(parts))}"
    assert retried == f"200 {echo_line('PUT', ALICE.login, b''.join(parts))}"
    assert wire.statuses == [401, 200, 200, 200]


# --- apache2 -----------------------------------------------------------------------------


@pytest.mark.peer("apache2")
async def test_apache_rspauth_is_verified_and_nextnonce_used(apache_digest: ApacheDigest) -> None:
    wire = Wire()
    async with session(ours(), wire) as client:
        for _ in range(3):
            assert await fetch(client, "GET", apache_digest.url(apache_digest.file)) == (
                f"200 {apache_digest.file_content.decode()}"
            )
    assert wire.statuses == [401, 200, 200, 200]
    for previous, following in zip(wire.exchanges[1:-1], wire.exchanges[2:], strict=True):
        info = parse_auth_params(previous.response_headers["Authentication-Info"])
        assert info["rspauth"]  # checked by the middleware, or the request would have failed
        assert following.authorization is not None
        assert (following.authorization["nonce"], following.authorization["nc"]) == (
            info["nextnonce"],
            "00000001",
        )


@pytest.mark.peer("apache2")
async def test_apache_domain_keeps_credentials_off_other_paths(
    apache_digest: ApacheDigest,
) -> None:
    wire = Wire()
    async with session(ours(), wire) as client:
        assert (await fetch(client, "GET", apache_digest.url(apache_digest.file))).startswith(
            "200"
        )
        assert (
            await fetch(client, "GET", apache_digest.url(apache_digest.public_file))
        ).startswith("200")
    assert wire.exchanges[-1].path == apache_digest.public_file
    assert wire.exchanges[-1].authorization is None


async def requests_spaced(
    client: aiohttp.ClientSession, url: URL, start: float, offsets: list[float]
) -> list[str]:
    """Send one GET at each offset (seconds after *start*); bounded by the offsets."""
    results = []
    for offset in offsets:
        await asyncio.sleep(max(0.0, start + offset - time.monotonic()))
        results.append(await fetch(client, "GET", url))
    return results


@pytest.mark.peer("apache2")
async def test_apache_stale_nonce_costs_one_retry_and_nextnonce_avoids_it(
    apache_digest: ApacheDigest,
) -> None:
    # Three scenarios at once, so the nonce lifetime is waited for only once:
    # ours and aiohttp's with a request every 40 % of the lifetime, and ours idle for
    # longer than the lifetime (a real stale nonce: one retry, no new H(A1)).
    url = apache_digest.url(apache_digest.file)
    lifetime = apache_digest.nonce_lifetime
    steady = [0.0, 0.4 * lifetime, 0.8 * lifetime, 1.2 * lifetime]
    idle = [0.0, lifetime + 0.5]
    wires = {"ours": Wire(), "aiohttp": Wire(), "idle": Wire()}
    theirs = aiohttp.DigestAuthMiddleware(ALICE.login, ALICE.password)
    start = time.monotonic()
    async with (
        session(ours(), wires["ours"]) as mine,
        session(theirs, wires["aiohttp"]) as aiohttps,
        session(ours(), wires["idle"]) as idler,
    ):
        results = await asyncio.wait_for(
            asyncio.gather(
                requests_spaced(mine, url, start, steady),
                requests_spaced(aiohttps, url, start, steady),
                requests_spaced(idler, url, start, idle),
            ),
            DEADLINE,
        )
    expected = f"200 {apache_digest.file_content.decode()}"
    assert results == [[expected] * 4, [expected] * 4, [expected] * 2]
    assert wires["ours"].statuses == [401, 200, 200, 200, 200]
    # aiohttp ignores nextnonce: its first nonce expires and costs a stale 401.
    theirs = [401, 200, 200, 200, 401, 200] if AIOHTTP_PREEMPTIVE else [401, 200] * 4
    assert wires["aiohttp"].statuses == theirs
    assert wires["idle"].statuses == [401, 200, 401, 200]
    assert "stale=true" in wires["idle"].exchanges[2].response_headers[hdrs.WWW_AUTHENTICATE]


# --- httpbin -----------------------------------------------------------------------------

HTTPBIN_CASES = [
    (algorithm, qop) for algorithm in ("MD5", "SHA-256", "SHA-512") for qop in ("auth", "auth-int")
]


@pytest.mark.peer("httpbin")
@pytest.mark.parametrize(("algorithm", "qop"), HTTPBIN_CASES)
async def test_httpbin_algorithms_and_qops(
    httpbin_server: HttpbinServer, algorithm: str, qop: str
) -> None:
    url = httpbin_server.digest_url(HTTPBIN_USER, qop=qop, algorithm=algorithm)
    wire = Wire()
    async with session(ours(HTTPBIN_USER), wire) as client:
        for _ in range(2):
            async with client.get(url) as response:
                assert response.status == 200
                assert await response.json() == {"authenticated": True, "user": "user"}
    assert wire.statuses == [401, 200, 200]
    answer = wire.exchanges[-1].authorization
    assert answer is not None
    assert (answer["algorithm"], answer["qop"]) == (algorithm, qop)


@pytest.mark.peer("httpbin")
async def test_httpbin_wrong_password_gets_the_401_after_one_retry(
    httpbin_server: HttpbinServer,
) -> None:
    wire = Wire()
    async with session(ours(HTTPBIN_USER, WRONG), wire) as client:
        url = httpbin_server.digest_url(HTTPBIN_USER, algorithm="SHA-256")
        assert (await fetch(client, "GET", url)).startswith("401 ")
    assert wire.statuses == [401, 401]


@pytest.mark.peer("httpbin")
async def test_httpbin_stale_nonce_is_answered_with_one_retry(
    httpbin_server: HttpbinServer,
) -> None:
    url = httpbin_server.digest_url(HTTPBIN_USER, algorithm="SHA-256", stale_after="2")
    wire = Wire()
    # httpbin counts successes in cookies; aiohttp's default jar drops cookies of IP hosts.
    jar = aiohttp.CookieJar(unsafe=True)
    async with session(ours(HTTPBIN_USER), wire, cookie_jar=jar) as client:
        results = [await fetch(client, "GET", url) for _ in range(4)]
    assert [result[:3] for result in results] == ["200"] * 4
    # After two successes the nonce is stale: one 401 with stale=True, one retry.
    assert wire.statuses == [401, 200, 200, 401, 200, 200]
    assert "stale=True" in wire.exchanges[3].response_headers[hdrs.WWW_AUTHENTICATE]
