"""The real Digest servers of ``digest_peers`` answer as the integration tests expect.

These pin down what lighttpd, apache2 and httpbin really do (challenges, accepted
responses, stale nonces) with aiohttp's own ``DigestAuthMiddleware`` and with
Authorization headers computed here by hand (RFC 7616 §3.4), so a failure in the
middleware's integration tests points at the middleware, not at the server setup.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from urllib.parse import quote

import aiohttp
import pytest
from digest_peers import (
    ALICE,
    HASHLIB_NAMES,
    JURGEN,
    ApacheDigest,
    DigestUser,
    HttpbinServer,
    LighttpdDigest,
    echo_line,
)

CHALLENGE_PARAM = re.compile(r'([A-Za-z0-9_*-]+)=("(?:[^"\\]|\\.)*"|[^\s,]*)')
WRONG = "not-the-password"


def parse_params(field: str) -> dict[str, str]:
    """Parse one Digest challenge or Authentication-Info field from these servers.

    Enough for the well-formed headers these three servers send, not a general
    RFC 9110 §11 parser (that is the middleware's job).
    """
    scheme, _, rest = field.partition(" ")
    params = rest if scheme.lower() == "digest" else field
    return {
        name.lower(): value[1:-1] if value.startswith('"') else value
        for name, value in CHALLENGE_PARAM.findall(params)
    }


def digest_challenges(response: aiohttp.ClientResponse) -> list[dict[str, str]]:
    return [parse_params(field) for field in response.headers.getall("WWW-Authenticate", [])]


def _hash(algorithm: str, text: str) -> str:
    return hashlib.new(HASHLIB_NAMES[algorithm.removesuffix("-sess")], text.encode()).hexdigest()


def authorization(
    challenge: dict[str, str],
    user: DigestUser,
    *,
    method: str,
    uri: str,
    qop: str = "auth",
    nc: int = 1,
    cnonce: str = "f2b0e51d9c",
    userhash: bool = False,
    username_star: bool = False,
    algorithm: str | None = None,
) -> str:
    """Build an RFC 7616 §3.4 Authorization value for *challenge*, for an empty body.

    *algorithm* overrides the challenge's, e.g. to answer ``MD5`` with ``MD5-sess``.
    """
    algorithm = algorithm or challenge.get("algorithm", "MD5")
    realm, nonce = challenge["realm"], challenge["nonce"]
    ha1 = _hash(algorithm, f"{user.login}:{realm}:{user.password}")
    if algorithm.endswith("-sess"):
        ha1 = _hash(algorithm, f"{ha1}:{nonce}:{cnonce}")
    ha2 = _hash(algorithm, f"{method}:{uri}")
    if qop == "auth-int":
        ha2 = _hash(algorithm, f"{method}:{uri}:{_hash(algorithm, '')}")
    response = _hash(algorithm, f"{ha1}:{nonce}:{nc:08x}:{cnonce}:{qop}:{ha2}")
    if userhash:
        username = f'username="{_hash(algorithm, f"{user.login}:{realm}")}", userhash=true'
    elif username_star:
        username = f"username*=UTF-8''{quote(user.login, safe='')}"
    else:
        username = f'username="{user.login}"'
    return (
        f'Digest {username}, realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'algorithm={algorithm}, response="{response}", qop={qop}, nc={nc:08x}, '
        f'cnonce="{cnonce}"'
    )


def digest_session(user: DigestUser, password: str | None = None) -> aiohttp.ClientSession:
    middleware = aiohttp.DigestAuthMiddleware(user.login, password or user.password)
    return aiohttp.ClientSession(middlewares=(middleware,))


# lighttpd ---------------------------------------------------------------------------

LIGHTTPD_PATHS = ["md5", "sha256", "sha256_md5", "sha512_256", "userhash"]
# aiohttp's middleware cannot do SHA-512-256; it answers the first challenge only.
AIOHTTP_LIGHTTPD_PATHS = ["md5", "sha256", "sha256_md5", "userhash"]


@pytest.mark.peer("lighttpd")
@pytest.mark.parametrize("name", LIGHTTPD_PATHS)
async def test_lighttpd_challenges_list_the_configured_algorithms(
    lighttpd_digest: LighttpdDigest, name: str
) -> None:
    protected = getattr(lighttpd_digest, name)
    async with (
        aiohttp.ClientSession() as session,
        session.get(lighttpd_digest.url(protected.file)) as response,
    ):
        challenges = digest_challenges(response)
    assert response.status == 401
    assert [c["algorithm"] for c in challenges] == list(protected.algorithms)
    for challenge in challenges:
        assert challenge["realm"] == protected.realm
        assert challenge["qop"] == "auth"
        assert challenge["charset"] == "UTF-8"
        assert (challenge.get("userhash") == "true") is protected.userhash


@pytest.mark.peer("lighttpd")
@pytest.mark.parametrize("user", [ALICE, JURGEN], ids=["ascii", "non-ascii"])
@pytest.mark.parametrize("name", AIOHTTP_LIGHTTPD_PATHS)
async def test_lighttpd_accepts_aiohttp_digest(
    lighttpd_digest: LighttpdDigest, name: str, user: DigestUser
) -> None:
    protected = getattr(lighttpd_digest, name)
    async with (
        digest_session(user) as session,
        session.get(lighttpd_digest.url(protected.file)) as response,
    ):
        assert response.status == 200
        assert await response.read() == protected.file_content


@pytest.mark.peer("lighttpd")
@pytest.mark.parametrize("name", ["md5", "sha256", "sha256_md5"])
async def test_lighttpd_rejects_wrong_password(lighttpd_digest: LighttpdDigest, name: str) -> None:
    protected = getattr(lighttpd_digest, name)
    async with (
        digest_session(ALICE, WRONG) as session,
        session.get(lighttpd_digest.url(protected.file)) as response,
    ):
        assert response.status == 401


@pytest.mark.peer("lighttpd")
@pytest.mark.parametrize(("user", "status"), [(ALICE, 200), (DigestUser("alice", WRONG), 401)])
async def test_lighttpd_verifies_hand_made_sha512_256_response(
    lighttpd_digest: LighttpdDigest, user: DigestUser, status: int
) -> None:
    uri = lighttpd_digest.sha512_256.file
    url = lighttpd_digest.url(uri)
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as first:
            (challenge,) = digest_challenges(first)
        header = authorization(challenge, user, method="GET", uri=uri)
        async with session.get(url, headers={"Authorization": header}) as response:
            assert response.status == status


@pytest.mark.peer("lighttpd")
@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_lighttpd_echo_receives_the_body_after_the_challenge(
    lighttpd_digest: LighttpdDigest, method: str
) -> None:
    body = bytes(range(256)) * 400  # 100 KiB: lighttpd buffers it in upload-dirs
    async with (
        digest_session(ALICE) as session,
        session.request(
            method, lighttpd_digest.url(lighttpd_digest.sha256.echo), data=body
        ) as response,
    ):
        assert response.status == 200
        assert await response.text() == echo_line(method, ALICE.login, body)


@pytest.mark.peer("lighttpd")
@pytest.mark.parametrize(("method", "status"), [("GET", 200), ("POST", 200), ("PUT", 501)])
async def test_lighttpd_static_file_answers_get_and_post_not_put(
    lighttpd_digest: LighttpdDigest, method: str, status: int
) -> None:
    url = lighttpd_digest.url(lighttpd_digest.md5.file)
    async with (
        digest_session(ALICE) as session,
        # lighttpd refuses a GET with a body (400), so only POST and PUT carry one.
        session.request(method, url, data=None if method == "GET" else b"ignored") as response,
    ):
        assert response.status == status


async def _lighttpd_hand_made(
    server: LighttpdDigest,
    path: str,
    user: DigestUser,
    *,
    qop: str = "auth",
    userhash: bool = False,
    username_star: bool = False,
    algorithm: str | None = None,
) -> tuple[int, str]:
    url = server.url(path)
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as first:
            challenge = digest_challenges(first)[0]
        header = authorization(
            challenge,
            user,
            method="GET",
            uri=path,
            qop=qop,
            userhash=userhash,
            username_star=username_star,
            algorithm=algorithm,
        )
        async with session.get(url, headers={"Authorization": header}) as response:
            return response.status, await response.text()


@pytest.mark.peer("lighttpd")
async def test_lighttpd_accepts_username_star_for_non_ascii_login(
    lighttpd_digest: LighttpdDigest,
) -> None:
    status, text = await _lighttpd_hand_made(
        lighttpd_digest, lighttpd_digest.sha256.echo, JURGEN, username_star=True
    )
    assert (status, text) == (200, echo_line("GET", JURGEN.login))


@pytest.mark.peer("lighttpd")
@pytest.mark.parametrize("user", [ALICE, JURGEN], ids=["ascii", "non-ascii"])
async def test_lighttpd_accepts_userhash(
    lighttpd_digest: LighttpdDigest, user: DigestUser
) -> None:
    status, text = await _lighttpd_hand_made(
        lighttpd_digest, lighttpd_digest.userhash.echo, user, userhash=True
    )
    assert (status, text) == (200, echo_line("GET", user.login))


@pytest.mark.peer("lighttpd")
@pytest.mark.parametrize("name", ["md5", "sha256"])
async def test_lighttpd_accepts_sess_variant_of_the_challenged_algorithm(
    lighttpd_digest: LighttpdDigest, name: str
) -> None:
    protected = getattr(lighttpd_digest, name)
    (algorithm,) = protected.algorithms
    status, text = await _lighttpd_hand_made(
        lighttpd_digest, protected.echo, ALICE, algorithm=f"{algorithm}-sess"
    )
    assert (status, text) == (200, echo_line("GET", ALICE.login))


@pytest.mark.peer("lighttpd")
async def test_lighttpd_answers_auth_int_with_400(lighttpd_digest: LighttpdDigest) -> None:
    status, _ = await _lighttpd_hand_made(
        lighttpd_digest, lighttpd_digest.md5.file, ALICE, qop="auth-int"
    )
    assert status == 400


# apache2 ----------------------------------------------------------------------------


@pytest.mark.peer("apache2")
async def test_apache_challenge_is_md5_auth_with_domain(apache_digest: ApacheDigest) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(apache_digest.url(apache_digest.file)) as response:
            (challenge,) = digest_challenges(response)
        async with session.get(apache_digest.url(apache_digest.public_file)) as public:
            assert public.status == 200
    assert response.status == 401
    assert challenge["algorithm"] == "MD5"
    assert challenge["qop"] == "auth"
    assert challenge["realm"] == apache_digest.realm
    assert challenge["domain"] == apache_digest.prefix
    assert "stale" not in challenge


@pytest.mark.peer("apache2")
@pytest.mark.parametrize("user", [ALICE, JURGEN], ids=["ascii", "non-ascii"])
async def test_apache_accepts_aiohttp_digest(
    apache_digest: ApacheDigest, user: DigestUser
) -> None:
    async with (
        digest_session(user) as session,
        session.post(apache_digest.url(apache_digest.file), data=b"body") as response,
    ):
        assert response.status == 200
        assert await response.read() == apache_digest.file_content


@pytest.mark.peer("apache2")
async def test_apache_rejects_wrong_password(apache_digest: ApacheDigest) -> None:
    async with (
        digest_session(ALICE, WRONG) as session,
        session.get(apache_digest.url(apache_digest.file)) as response,
    ):
        assert response.status == 401


@pytest.mark.peer("apache2")
async def test_apache_authentication_info_has_valid_rspauth_and_nextnonce(
    apache_digest: ApacheDigest,
) -> None:
    uri, url = apache_digest.file, apache_digest.url(apache_digest.file)
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as first:
            (challenge,) = digest_challenges(first)
        header = authorization(challenge, ALICE, method="GET", uri=uri, cnonce="0a4f113b")
        async with session.get(url, headers={"Authorization": header}) as response:
            assert response.status == 200
            info = parse_params(response.headers["Authentication-Info"])
    # RFC 7616 §3.5: rspauth is the response computed with an empty method.
    ha1 = _hash("MD5", f"{ALICE.login}:{apache_digest.realm}:{ALICE.password}")
    expected = _hash(
        "MD5", f"{ha1}:{challenge['nonce']}:00000001:0a4f113b:auth:{_hash('MD5', f':{uri}')}"
    )
    assert info["rspauth"] == expected
    assert info["nextnonce"] not in ("", challenge["nonce"])
    assert (info["qop"], info["nc"], info["cnonce"]) == ("auth", "00000001", "0a4f113b")


@pytest.mark.peer("apache2")
async def test_apache_reused_nonce_after_lifetime_is_stale(apache_digest: ApacheDigest) -> None:
    uri, url = apache_digest.file, apache_digest.url(apache_digest.file)
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as first:
            (challenge,) = digest_challenges(first)
        issued = time.monotonic()
        header = authorization(challenge, ALICE, method="GET", uri=uri)
        async with session.get(url, headers={"Authorization": header}) as fresh:
            assert fresh.status == 200
        # Bounded: one sleep just past the configured lifetime, then one request each.
        await asyncio.sleep(
            max(0.0, issued + apache_digest.nonce_lifetime + 0.5 - time.monotonic())
        )
        header = authorization(challenge, ALICE, method="GET", uri=uri, nc=2)
        async with session.get(url, headers={"Authorization": header}) as expired:
            (renewed,) = digest_challenges(expired)
        wrong = authorization(
            challenge, DigestUser(ALICE.login, WRONG), method="GET", uri=uri, nc=3
        )
        async with session.get(url, headers={"Authorization": wrong}) as rejected:
            (refused,) = digest_challenges(rejected)
    assert expired.status == 401
    assert renewed["stale"] == "true"
    assert renewed["nonce"] != challenge["nonce"]
    # A wrong password is a plain failure even on an expired nonce: no stale flag.
    assert rejected.status == 401
    assert "stale" not in refused


# httpbin ----------------------------------------------------------------------------

HTTPBIN_USER = DigestUser("user", "passwd-9")
HTTPBIN_CASES = [
    (algorithm, qop) for algorithm in ("MD5", "SHA-256", "SHA-512") for qop in ("auth", "auth-int")
]


@pytest.mark.peer("httpbin")
@pytest.mark.parametrize(("algorithm", "qop"), HTTPBIN_CASES)
async def test_httpbin_challenge_names_algorithm_and_qop(
    httpbin_server: HttpbinServer, algorithm: str, qop: str
) -> None:
    url = httpbin_server.digest_url(HTTPBIN_USER, qop=qop, algorithm=algorithm)
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        (challenge,) = digest_challenges(response)
    assert response.status == 401
    assert (challenge["algorithm"], challenge["qop"]) == (algorithm, qop)
    assert challenge["opaque"]
    assert challenge["stale"] == "False"  # httpbin capitalises the token


@pytest.mark.peer("httpbin")
@pytest.mark.parametrize(("algorithm", "qop"), HTTPBIN_CASES)
@pytest.mark.parametrize(("password", "status"), [(HTTPBIN_USER.password, 200), (WRONG, 401)])
async def test_httpbin_checks_aiohttp_digest(
    httpbin_server: HttpbinServer, algorithm: str, qop: str, password: str, status: int
) -> None:
    url = httpbin_server.digest_url(HTTPBIN_USER, qop=qop, algorithm=algorithm)
    async with digest_session(HTTPBIN_USER, password) as session, session.get(url) as response:
        assert response.status == status
        if status == 200:
            assert await response.json() == {"authenticated": True, "user": HTTPBIN_USER.login}


@pytest.mark.peer("httpbin")
async def test_httpbin_answers_stale_true_after_stale_after_successes(
    httpbin_server: HttpbinServer,
) -> None:
    url = httpbin_server.digest_url(HTTPBIN_USER, stale_after="1")
    uri = url.path
    # httpbin counts successes in cookies; aiohttp's default jar drops cookies of IP hosts.
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(url) as first:
            (challenge,) = digest_challenges(first)
        header = authorization(challenge, HTTPBIN_USER, method="GET", uri=uri)
        async with session.get(url, headers={"Authorization": header}) as ok:
            assert ok.status == 200
        header = authorization(challenge, HTTPBIN_USER, method="GET", uri=uri, nc=2)
        async with session.get(url, headers={"Authorization": header}) as stale:
            (renewed,) = digest_challenges(stale)
    assert stale.status == 401
    assert renewed["stale"] == "True"
