"""The Digest test server: what it offers, what it accepts, and what it refuses.

Every test drives the real server on 127.0.0.1 with a real aiohttp client: with
aiohttp's own ``DigestAuthMiddleware`` where it can answer (MD5, SHA-256), and
with headers computed by the sans-IO protocol functions for everything else
(SHA-512-256, ``-sess``, userhash, username*, auth-int, RFC 2069, replays).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import hdrs
from multidict import CIMultiDictProxy
from yarl import URL

from aiohttp_auth.challenges import parse_challenges
from aiohttp_auth.digest import (
    DigestChallenge,
    authorization,
    parse_authentication_info,
    verify_rspauth,
)
from aiohttp_auth.digest.middleware import DigestAuthMiddleware
from aiohttp_auth.errors import ConfigurationError
from aiohttp_auth.testing import LocalServer, digest_verify
from aiohttp_auth.testing.digest import DIGEST_CONFIG, DigestConfig, digest_app

AIOHTTP_VERSION = tuple(int(part) for part in aiohttp.__version__.split(".")[:3])

LOGIN = "Mufasa"
PASSWORD = "Circle of Life"
CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
TIMEOUT = aiohttp.ClientTimeout(total=10)


@dataclass
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.body)
        return decoded

    def challenges(self, header: str = hdrs.WWW_AUTHENTICATE) -> list[DigestChallenge]:
        parsed = parse_challenges(self.headers.getall(header, []))
        return [DigestChallenge.from_challenge(challenge) for challenge in parsed]


@dataclass
class Peer:
    """A Digest server with its config, and a plain session (no middleware) to talk to it."""

    server: LocalServer
    config: DigestConfig
    session: aiohttp.ClientSession

    async def send(
        self,
        path: str = "/digest/a",
        authorization: str | None = None,
        *,
        method: str = "GET",
        body: bytes = b"",
    ) -> Reply:
        headers = {} if authorization is None else {hdrs.AUTHORIZATION: authorization}
        url = self.server.make_url(path)
        async with self.session.request(method, url, headers=headers, data=body) as response:
            return Reply(response.status, response.headers, await response.read())

    async def challenge(self, path: str = "/digest/a", algorithm: int = 0) -> DigestChallenge:
        reply = await self.send(path)
        assert reply.status == 401
        return reply.challenges()[algorithm]

    def answer(self, challenge: DigestChallenge, path: str = "/digest/a", **kwargs: Any) -> str:
        values: dict[str, Any] = {
            "method": "GET",
            "uri": path,
            "login": LOGIN,
            "password": PASSWORD,
            "nc": 1,
            "cnonce": CNONCE,
        }
        return authorization(challenge, **(values | kwargs))


PeerFactory = Callable[..., Awaitable[Peer]]


@pytest.fixture
async def make_peer() -> AsyncIterator[PeerFactory]:
    """Return ``await make_peer(**config)``: a Digest server for *config* in this loop."""
    async with AsyncExitStack() as stack:
        session = await stack.enter_async_context(aiohttp.ClientSession(timeout=TIMEOUT))

        async def make(**settings: Any) -> Peer:
            config = DigestConfig(**({"users": {LOGIN: PASSWORD}} | settings))
            server = await stack.enter_async_context(LocalServer(digest_app(config)))
            return Peer(server, config, session)

        yield make


async def get_with(
    peer: Peer, middleware: aiohttp.ClientMiddlewareType, paths: list[str], **kwargs: Any
) -> list[Reply]:
    replies = []
    async with aiohttp.ClientSession(middlewares=(middleware,), timeout=TIMEOUT) as session:
        for path in paths:
            async with session.get(peer.server.make_url(path), **kwargs) as response:
                replies.append(Reply(response.status, response.headers, await response.read()))
    return replies


# --- aiohttp's own middleware ---------------------------------------------------------


AIOHTTP_CASES = [
    (algorithm, qop)
    for algorithm in ("MD5", "SHA-256", "MD5-sess", "SHA-256-sess")
    for qop in (("auth",), ("auth-int",), ())
    if qop or not algorithm.endswith("-sess")  # -sess needs the cnonce of a qop
]


@pytest.mark.skipif(
    AIOHTTP_VERSION < (3, 12, 8),
    reason="aiohttp's own DigestAuthMiddleware answers preemptively only since 3.12.8",
)
@pytest.mark.parametrize(("algorithm", "qop"), AIOHTTP_CASES)
async def test_aiohttp_digest_middleware_is_accepted_with_one_challenge(
    make_peer: PeerFactory, algorithm: str, qop: tuple[str, ...]
) -> None:
    peer = await make_peer(algorithms=[algorithm], qop=qop)

    middleware = aiohttp.DigestAuthMiddleware(LOGIN, PASSWORD)
    replies = await get_with(peer, middleware, ["/digest/a", "/digest/b", "/digest/a"])

    assert [reply.status for reply in replies] == [200, 200, 200]
    assert {reply.json["username"] for reply in replies} == {LOGIN}
    assert [reply.json["nc"] for reply in replies] == ([1, 2, 3] if qop else [None] * 3)
    assert {reply.json["algorithm"] for reply in replies} == {algorithm}
    assert peer.config.challenges == 1
    assert peer.config.successes == 3
    assert peer.config.successes_by_path == {"/digest/a": 2, "/digest/b": 1}
    assert peer.config.challenges_by_path == {"/digest/a": 1}
    assert peer.config.rejections == []


async def test_aiohttp_digest_answers_the_first_challenge_of_several(
    make_peer: PeerFactory,
) -> None:
    peer = await make_peer(algorithms=["SHA-256", "MD5"])

    replies = await get_with(peer, aiohttp.DigestAuthMiddleware(LOGIN, PASSWORD), ["/digest/a"])

    assert replies[0].status == 200
    assert replies[0].json["algorithm"] == "SHA-256"


async def test_aiohttp_digest_with_wrong_password_gets_401_and_the_reason_is_recorded(
    make_peer: PeerFactory,
) -> None:
    peer = await make_peer(algorithms=["MD5"])

    replies = await get_with(peer, aiohttp.DigestAuthMiddleware(LOGIN, "wrong"), ["/digest/a"])

    assert replies[0].status == 401
    assert replies[0].challenges()[0].stale is False
    assert peer.config.challenges == 2
    assert peer.config.successes == 0
    assert peer.config.rejections == [f"wrong response for user {LOGIN!r}"]
    assert replies[0].json == {"error": "unauthorized", "reason": peer.config.rejections[0]}
    assert peer.config.statuses == [401, 401]


# --- this package's middleware --------------------------------------------------------


async def test_our_middleware_answers_sha512_256_preemptively_with_one_challenge(
    make_peer: PeerFactory,
) -> None:
    peer = await make_peer(algorithms=["SHA-512-256", "SHA-256", "MD5"])

    middleware = DigestAuthMiddleware(LOGIN, PASSWORD)
    replies = await get_with(peer, middleware, ["/digest/a", "/digest/b", "/digest/c"])

    assert [(r.status, r.json["algorithm"], r.json["nc"]) for r in replies] == [
        (200, "SHA-512-256", 1),
        (200, "SHA-512-256", 2),
        (200, "SHA-512-256", 3),
    ]
    assert (peer.config.challenges, peer.config.successes) == (1, 3)
    assert peer.config.statuses == [401, 200, 200, 200]


async def test_our_middleware_retries_a_stale_nonce_once(make_peer: PeerFactory) -> None:
    peer = await make_peer(nonce_uses=2)

    replies = await get_with(peer, DigestAuthMiddleware(LOGIN, PASSWORD), ["/digest/a"] * 3)

    assert [reply.status for reply in replies] == [200, 200, 200]
    assert (peer.config.challenges, peer.config.stale_challenges) == (2, 1)
    assert peer.config.statuses == [401, 200, 200, 401, 200]


async def test_our_middleware_gives_a_wrong_password_its_401_after_one_attempt(
    make_peer: PeerFactory,
) -> None:
    peer = await make_peer()

    replies = await get_with(peer, DigestAuthMiddleware(LOGIN, "wrong"), ["/digest/a"])

    assert replies[0].status == 401
    assert peer.config.statuses == [401, 401]
    assert len(peer.config.authorizations) == 1


@pytest.mark.parametrize("qop", [("auth",), ("auth-int",)])
async def test_our_middleware_follows_nextnonce_of_one_time_nonces(
    make_peer: PeerFactory, qop: tuple[str, ...]
) -> None:
    peer = await make_peer(nonce_uses=1, authentication_info=True, qop=qop, userhash=True)

    replies = await get_with(peer, DigestAuthMiddleware(LOGIN, PASSWORD), ["/digest/a"] * 3)

    assert [reply.status for reply in replies] == [200, 200, 200]
    assert peer.config.challenges == 1
    assert all("userhash=true" in header for header in peer.config.authorizations)


async def test_our_middleware_answers_a_proxy_challenge(make_peer: PeerFactory) -> None:
    peer = await make_peer(proxy=True, authentication_info=True)

    async with aiohttp.ClientSession(
        middlewares=(DigestAuthMiddleware(LOGIN, PASSWORD),), timeout=TIMEOUT
    ) as session:
        statuses = []
        for _ in range(2):
            async with session.get("http://digest.test/digest/a", proxy=peer.server.url) as r:
                statuses.append(r.status)

    assert statuses == [200, 200]
    assert peer.config.statuses == [407, 200, 200]


# --- what the server offers ----------------------------------------------------------


async def test_401_carries_one_challenge_per_algorithm_in_order_each_with_its_own_nonce(
    make_peer: PeerFactory,
) -> None:
    peer = await make_peer(
        algorithms=["SHA-512-256", "SHA-256", "MD5"],
        opaque='op"aque',
        domain=("/digest/", "/other"),
        userhash=True,
    )

    reply = await peer.send()

    assert reply.status == 401
    assert len(reply.headers.getall(hdrs.WWW_AUTHENTICATE)) == 3
    challenges = reply.challenges()
    assert [c.algorithm for c in challenges] == ["SHA-512-256", "SHA-256", "MD5"]
    assert len({c.nonce for c in challenges}) == 3
    for challenge in challenges:
        assert challenge.realm == peer.config.realm
        assert challenge.qop == ("auth", "auth-int")
        assert challenge.opaque == 'op"aque'
        assert challenge.domain == ("/digest/", "/other")
        assert challenge.userhash is True
        assert challenge.utf8 is True
        assert challenge.stale is False
    assert peer.config.challenges == 1
    assert peer.config.authorizations == []


async def test_rfc2069_challenge_has_no_qop_and_no_charset_when_asked(
    make_peer: PeerFactory,
) -> None:
    peer = await make_peer(algorithms=["MD5"], qop=(), charset_utf8=False)

    reply = await peer.send()

    assert reply.headers[hdrs.WWW_AUTHENTICATE].startswith('Digest realm="aiohttp-auth testing"')
    assert "qop" not in reply.headers[hdrs.WWW_AUTHENTICATE]
    challenge = reply.challenges()[0]
    assert (challenge.qop, challenge.charset, challenge.opaque) == ((), None, None)
    assert (challenge.domain, challenge.userhash) == ((), False)


async def test_joined_challenges_come_in_one_header_field(make_peer: PeerFactory) -> None:
    peer = await make_peer(join_challenges=True)

    reply = await peer.send()

    assert len(reply.headers.getall(hdrs.WWW_AUTHENTICATE)) == 1
    assert [c.algorithm for c in reply.challenges()] == ["SHA-256", "MD5"]


# --- answers computed by hand: what aiohttp's middleware cannot do --------------------


@pytest.mark.parametrize(
    "algorithm", ["SHA-512-256", "SHA-512-256-sess", "SHA-256-sess", "MD5-sess", "SHA-512"]
)
async def test_hand_computed_answer_is_accepted(make_peer: PeerFactory, algorithm: str) -> None:
    peer = await make_peer(algorithms=[algorithm], qop=("auth",))
    challenge = await peer.challenge("/digest/x?y=1")

    reply = await peer.send("/digest/x?y=1", peer.answer(challenge, "/digest/x?y=1"))

    assert reply.status == 200
    assert reply.json["username"] == LOGIN
    assert reply.json["algorithm"] == algorithm
    assert reply.json["query"] == {"y": "1"}


async def test_userhash_answer_is_matched_by_the_hashed_username(make_peer: PeerFactory) -> None:
    peer = await make_peer(
        algorithms=["SHA-512-256"], userhash=True, users={"Jäsøn Doe": "Secret, or not?"}
    )
    challenge = await peer.challenge()
    header = peer.answer(challenge, login="Jäsøn Doe", password="Secret, or not?")

    reply = await peer.send(authorization=header)

    hashed = hashlib.new("sha512_256", f"Jäsøn Doe:{peer.config.realm}".encode()).hexdigest()
    assert f'username="{hashed}"' in header
    assert "userhash=true" in header
    assert reply.status == 200
    assert reply.json["username"] == "Jäsøn Doe"


async def test_non_ascii_login_sent_as_username_star_is_accepted(
    make_peer: PeerFactory,
) -> None:
    peer = await make_peer(users={"nobody": "x", "Jäsøn Doe": "Secret, or not?"})
    challenge = await peer.challenge()
    header = peer.answer(challenge, login="Jäsøn Doe", password="Secret, or not?")

    reply = await peer.send(authorization=header)

    assert "username*=UTF-8''J%C3%A4s%C3%B8n%20Doe" in header
    assert reply.status == 200
    assert reply.json["username"] == "Jäsøn Doe"


async def test_auth_int_answer_covers_the_body(make_peer: PeerFactory) -> None:
    peer = await make_peer(qop=("auth-int",))
    challenge = await peer.challenge()
    header = peer.answer(challenge, method="POST", body=b"signed body")

    accepted = await peer.send(authorization=header, method="POST", body=b"signed body")
    replaced = await peer.send(
        authorization=peer.answer(challenge, method="POST", body=b"signed body", nc=2),
        method="POST",
        body=b"other body",
    )

    assert accepted.status == 200
    assert accepted.json["qop"] == "auth-int"
    assert accepted.json["body_sha256"] == hashlib.sha256(b"signed body").hexdigest()
    assert accepted.json["body_length"] == len(b"signed body")
    assert replaced.status == 401
    assert peer.config.rejections == [f"wrong response for user {LOGIN!r}"]


async def test_rfc2069_answer_without_qop_is_accepted(make_peer: PeerFactory) -> None:
    peer = await make_peer(algorithms=["MD5"], qop=(), charset_utf8=False)
    challenge = await peer.challenge()
    header = peer.answer(challenge)

    reply = await peer.send(authorization=header)

    assert "nc=" not in header
    assert "cnonce" not in header
    assert reply.status == 200
    assert (reply.json["qop"], reply.json["nc"]) == (None, None)


async def test_opaque_must_come_back_unchanged(make_peer: PeerFactory) -> None:
    peer = await make_peer(opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
    challenge = await peer.challenge()
    header = peer.answer(challenge)

    changed = await peer.send(authorization=header.replace("FQhe", "XXXX"))
    accepted = await peer.send(authorization=header)

    assert changed.status == 401
    assert accepted.status == 200
    assert peer.config.rejections == ["opaque did not come back unchanged"]


# --- nonces: counts, replays, lifetimes ----------------------------------------------


async def test_replayed_nonce_count_is_rejected(make_peer: PeerFactory) -> None:
    peer = await make_peer()
    challenge = await peer.challenge()
    header = peer.answer(challenge, nc=1)

    first = await peer.send(authorization=header)
    replay = await peer.send(authorization=header)

    assert first.status == 200
    assert replay.status == 401
    assert replay.challenges()[0].stale is False
    assert peer.config.rejections == ["nc 1 does not increase (last 1)"]


async def test_increasing_nonce_count_refuses_an_earlier_count(make_peer: PeerFactory) -> None:
    peer = await make_peer()
    challenge = await peer.challenge()

    statuses = [
        (await peer.send(authorization=peer.answer(challenge, nc=nc))).status for nc in (1, 3, 2)
    ]

    assert statuses == [200, 200, 401]
    assert peer.config.rejections == ["nc 2 does not increase (last 3)"]


async def test_unique_nonce_count_allows_overtaking_but_no_repeat(make_peer: PeerFactory) -> None:
    peer = await make_peer(nc_check="unique")
    challenge = await peer.challenge()

    counts = (1, 3, 2, 3, 100, 37, 36)
    statuses = [
        (await peer.send(authorization=peer.answer(challenge, nc=nc))).status for nc in counts
    ]

    # 3 repeats; 36 is too far behind 100 (a window of 64), 37 is just inside it.
    assert statuses == [200, 200, 200, 401, 200, 200, 401]
    assert peer.config.rejections == [
        "nc 3 was already used, or is too old",
        "nc 36 was already used, or is too old",
    ]


async def test_nonce_count_check_off_accepts_a_replay(make_peer: PeerFactory) -> None:
    peer = await make_peer(nc_check="off")
    challenge = await peer.challenge()
    header = peer.answer(challenge)

    statuses = [(await peer.send(authorization=header)).status for _ in range(2)]

    assert statuses == [200, 200]


async def test_nonce_goes_stale_after_its_uses_and_a_new_one_works(
    make_peer: PeerFactory,
) -> None:
    peer = await make_peer(nonce_uses=2)
    challenge = await peer.challenge()

    statuses = [
        (await peer.send(authorization=peer.answer(challenge, nc=nc))).status for nc in (1, 2)
    ]
    stale = await peer.send(authorization=peer.answer(challenge, nc=3))
    renewed = stale.challenges()[0]
    fresh = await peer.send(authorization=peer.answer(renewed, nc=1))

    assert statuses == [200, 200]
    assert stale.status == 401
    assert renewed.stale is True
    assert fresh.status == 200
    assert (peer.config.challenges, peer.config.stale_challenges) == (2, 1)
    assert peer.config.rejections == ["stale nonce"]


async def test_nonce_goes_stale_after_its_seconds(make_peer: PeerFactory) -> None:
    now = [1000.0]
    peer = await make_peer(nonce_seconds=30.0, clock=lambda: now[0])
    challenge = await peer.challenge()

    now[0] += 29.0
    young = await peer.send(authorization=peer.answer(challenge, nc=1))
    now[0] += 1.0
    old = await peer.send(authorization=peer.answer(challenge, nc=2))

    assert young.status == 200
    assert old.status == 401
    assert old.challenges()[0].stale is True


async def test_unknown_nonce_with_a_valid_answer_is_stale(make_peer: PeerFactory) -> None:
    peer = await make_peer()
    challenge = await peer.challenge()
    invented = dataclasses.replace(challenge, nonce="0" * 32)

    reply = await peer.send(authorization=peer.answer(invented))

    assert reply.status == 401
    assert reply.challenges()[0].stale is True
    assert peer.config.rejections == ["unknown nonce"]


async def test_oldest_nonces_are_forgotten_beyond_the_limit(
    make_peer: PeerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digest_verify, "_MAX_NONCES", 2)
    peer = await make_peer(algorithms=["SHA-256"])
    first = await peer.challenge()
    await peer.challenge()
    await peer.challenge()

    reply = await peer.send(authorization=peer.answer(first))

    assert reply.challenges()[0].stale is True
    assert peer.config.rejections == ["unknown nonce"]


async def test_nonce_answered_with_another_algorithm_is_refused(make_peer: PeerFactory) -> None:
    peer = await make_peer(algorithms=["SHA-256", "MD5"])
    sha256 = await peer.challenge()
    swapped = dataclasses.replace(sha256, algorithm="MD5")

    reply = await peer.send(authorization=peer.answer(swapped))

    assert reply.status == 401
    assert reply.challenges()[0].stale is False
    assert peer.config.rejections == ["nonce issued for SHA-256, answered with MD5"]


# --- Authentication-Info -------------------------------------------------------------


@pytest.mark.parametrize("qop", ["auth", "auth-int"])
async def test_authentication_info_has_a_valid_rspauth_and_a_usable_nextnonce(
    make_peer: PeerFactory, qop: str
) -> None:
    peer = await make_peer(authentication_info=True, qop=(qop,), nonce_uses=1)
    challenge = await peer.challenge()

    first = await peer.send(authorization=peer.answer(challenge))
    info = parse_authentication_info(first.headers["Authentication-Info"])
    old_nonce = await peer.send(authorization=peer.answer(challenge, nc=2))
    assert info.nextnonce is not None
    following = dataclasses.replace(challenge, nonce=info.nextnonce)
    second = await peer.send(authorization=peer.answer(following, nc=1))

    assert (info.qop, info.nc, info.cnonce) == (qop, 1, CNONCE)
    assert verify_rspauth(
        challenge,
        info,
        uri="/digest/a",
        login=LOGIN,
        password=PASSWORD,
        nc=1,
        cnonce=CNONCE,
        body=first.body,
    )
    # One use per nonce: the old nonce is stale now, the next nonce works.
    assert (old_nonce.status, old_nonce.json["reason"]) == (401, "stale nonce")
    assert second.status == 200
    assert peer.config.challenges == 2


async def test_authentication_info_without_qop_has_only_a_nextnonce(
    make_peer: PeerFactory,
) -> None:
    peer = await make_peer(authentication_info=True, algorithms=["MD5"], qop=())
    challenge = await peer.challenge()

    reply = await peer.send(authorization=peer.answer(challenge))

    info = parse_authentication_info(reply.headers["Authentication-Info"])
    assert info.nextnonce
    assert (info.rspauth, info.qop, info.nc) == (None, None, None)


# --- refusals ------------------------------------------------------------------------


def _malformed(valid: str) -> list[tuple[str, str]]:
    """(header, reason) rows: each a syntax error answered 400 (RFC 2617 §3.2.2)."""
    return [
        ('Digest username="unterminated', "malformed Authorization"),
        ("", "Authorization must hold exactly one credentials"),
        (f"{valid}, Basic dXNlcjpwYXNz", "Authorization must hold exactly one credentials"),
        ("Digest dXNlcjpwYXNz", "directives missing: username, realm, nonce, uri, response"),
        (valid.replace('cnonce="', 'cnonceX="'), "directives missing: cnonce"),
        (valid.replace('response="', 'response="zz'), "response is not hexadecimal"),
        (valid.replace("nc=00000001", "nc=1"), "nc '1' is not 8 hexadecimal digits above 0"),
        (valid.replace("nc=00000001", "nc=00000000"), "nc '00000000' is not 8 hexadecimal"),
        (valid.replace('uri="/digest/a"', 'uri="/digest/b"'), "uri '/digest/b' is not the"),
    ]


async def test_malformed_authorization_is_answered_400_without_a_challenge(
    make_peer: PeerFactory,
) -> None:
    peer = await make_peer()
    valid = peer.answer(await peer.challenge())

    for header, reason in _malformed(valid):
        reply = await peer.send(authorization=header)

        assert reply.status == 400, header
        assert hdrs.WWW_AUTHENTICATE not in reply.headers
        assert reply.json["reason"].startswith(reason), (header, reply.json)
    assert peer.config.bad_requests == len(_malformed(valid))
    assert peer.config.challenges == 1


def _refused(valid: str) -> list[tuple[str, str]]:
    """(header, reason) rows: each well formed but not what was offered, or wrong."""
    return [
        ("Basic dXNlcjpwYXNz", "scheme 'Basic' is not Digest"),
        (valid.replace('realm="', 'realm="x'), "realm 'xaiohttp-auth testing' is not"),
        (valid.replace("algorithm=SHA-256", "algorithm=MD5"), "wrong response"),
        (valid.replace("algorithm=SHA-256", "algorithm=SHA-512"), "algorithm 'SHA-512' was not"),
        (valid.replace("algorithm=SHA-256", "algorithm=XYZ"), "algorithm 'XYZ' was not offered"),
        (valid.replace("qop=auth", "qop=auth-int"), "wrong response"),
        (valid.replace(", qop=auth", ""), "qop None was not offered (auth, auth-int)"),
        (valid.replace("qop=auth", "qop=auth-conf"), "qop 'auth-conf' was not offered"),
        (valid + ", userhash=true", "userhash was not offered"),
        (valid.replace(f'username="{LOGIN}"', 'username="Scar"'), "unknown user 'Scar'"),
    ]


async def test_answers_not_matching_the_offer_get_a_new_challenge(
    make_peer: PeerFactory,
) -> None:
    peer = await make_peer(algorithms=["SHA-256", "MD5"])
    valid = peer.answer(await peer.challenge())

    for header, reason in _refused(valid):
        reply = await peer.send(authorization=header)

        assert reply.status == 401, header
        assert reply.json["reason"].startswith(reason), (header, reply.json)
        assert len(reply.challenges()) == 2
    assert (await peer.send(authorization=valid)).status == 200
    assert peer.config.authorizations[-1] == valid
    assert len(peer.config.authorizations) == len(_refused(valid)) + 1


async def test_qop_missing_when_offered_and_sent_when_not_offered_are_refused(
    make_peer: PeerFactory,
) -> None:
    offering = await make_peer()
    challenge = await offering.challenge()
    rfc2069 = dataclasses.replace(challenge, qop=())
    plain = await make_peer(qop=())
    plain_challenge = await plain.challenge()
    with_qop = dataclasses.replace(plain_challenge, qop=("auth",))

    missing = await offering.send(authorization=offering.answer(rfc2069))
    unexpected = await plain.send(authorization=plain.answer(with_qop))

    assert missing.status == unexpected.status == 401
    assert missing.json["reason"] == "qop None was not offered (auth, auth-int)"
    assert unexpected.json["reason"] == "qop 'auth' was not offered (none)"


async def test_request_without_credentials_is_challenged_but_not_recorded_as_refused(
    make_peer: PeerFactory,
) -> None:
    peer = await make_peer()

    reply = await peer.send("/digest/deep/path?q=1", method="DELETE")

    assert reply.status == 401
    assert reply.json["reason"] == "no credentials"
    assert peer.config.rejections == []
    assert peer.config.challenges_by_path == {"/digest/deep/path": 1}
    assert [(r.method, r.path, r.query_string) for r in peer.config.requests] == [
        ("DELETE", "/digest/deep/path", "q=1")
    ]


# --- proxy mode ----------------------------------------------------------------------


@pytest.mark.parametrize("uri_form", ["absolute", "origin"])
async def test_proxy_mode_answers_407_and_checks_proxy_authorization(
    make_peer: PeerFactory, uri_form: str
) -> None:
    peer = await make_peer(proxy=True, authentication_info=True)
    target = URL("http://digest.test/digest/a?x=1")
    proxy = peer.server.url

    async with peer.session.get(target, proxy=proxy) as first:
        challenge_values = first.headers.getall(hdrs.PROXY_AUTHENTICATE)
        assert first.status == 407
    challenge = DigestChallenge.from_challenge(parse_challenges(challenge_values)[0])
    uri = str(target) if uri_form == "absolute" else target.raw_path_qs
    header = peer.answer(challenge, uri)
    # aiohttp sends proxy_headers= only on CONNECT; to an http target through a
    # proxy, Proxy-Authorization goes in the request's own headers.
    async with peer.session.get(
        target, proxy=proxy, headers={hdrs.PROXY_AUTHORIZATION: header}
    ) as second:
        body = await second.json()
        info = parse_authentication_info(second.headers["Proxy-Authentication-Info"])

    assert second.status == 200
    assert body["username"] == LOGIN
    assert hdrs.WWW_AUTHENTICATE not in first.headers
    assert info.rspauth is not None
    assert peer.config.requests[-1].raw_target == str(target)


async def test_proxy_mode_refuses_a_uri_of_another_target(make_peer: PeerFactory) -> None:
    peer = await make_peer(proxy=True)
    target = URL("http://digest.test/digest/a")
    async with peer.session.get(target, proxy=peer.server.url) as first:
        values = first.headers.getall(hdrs.PROXY_AUTHENTICATE)
    challenge = DigestChallenge.from_challenge(parse_challenges(values)[0])
    header = peer.answer(challenge, "/digest/b")

    async with peer.session.get(
        target, proxy=peer.server.url, headers={hdrs.PROXY_AUTHORIZATION: header}
    ) as second:
        reason = (await second.json())["reason"]

    assert second.status == 400
    assert reason == "uri '/digest/b' is not the request-target 'http://digest.test/digest/a'"


# --- other routes, configuration, records -------------------------------------------


async def test_public_route_needs_no_credentials(make_peer: PeerFactory) -> None:
    peer = await make_peer()

    reply = await peer.send("/public", method="PUT", body=b"abc")

    assert reply.status == 200
    assert reply.json == {
        "method": "PUT",
        "path": "/public",
        "query": {},
        "body_length": 3,
        "body_sha256": hashlib.sha256(b"abc").hexdigest(),
        "username": None,
    }
    assert peer.config.challenges == 0


async def test_redirect_route_and_unknown_paths(make_peer: PeerFactory) -> None:
    peer = await make_peer()
    target = str(peer.server.make_url("/public"))

    async with peer.session.get(
        peer.server.make_url("/redirect").with_query(to=target, status="307"),
        allow_redirects=False,
    ) as redirect:
        location = redirect.headers[hdrs.LOCATION]
    async with peer.session.get(peer.server.make_url("/redirect")) as unusable:
        pass
    async with peer.session.get(peer.server.make_url("/digest")) as missing:
        pass

    assert (redirect.status, location) == (307, target)
    assert (unusable.status, missing.status) == (400, 404)
    assert peer.config.statuses == [307, 400, 404]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"realm": ""}, "give the protection space a name"),
        ({"algorithms": []}, "offer at least one algorithm"),
        ({"algorithms": ["SHA-3"]}, "'SHA-3' is not available"),
        ({"algorithms": ["MD5-sess"], "qop": ()}, "'MD5-sess' needs a qop"),
        ({"qop": ("auth-conf",)}, "use 'auth', 'auth-int', both, or ()"),
        ({"nonce_uses": 0}, "a nonce lifetime must be positive"),
        ({"nonce_seconds": 0.0}, "a nonce lifetime must be positive"),
        ({"nc_check": "sometimes"}, "nc_check: 'sometimes'"),
    ],
)
def test_invalid_configuration_is_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        DigestConfig(**settings)


def test_digest_app_validates_a_config_changed_after_construction() -> None:
    config = DigestConfig()
    config.qop = ()
    config.algorithms = ["SHA-256-sess"]

    with pytest.raises(ConfigurationError, match="needs a qop"):
        digest_app(config)


def test_digest_app_without_config_gets_a_fresh_default() -> None:
    app = digest_app()

    assert app[DIGEST_CONFIG] == DigestConfig()
    assert app[DIGEST_CONFIG].algorithms == ["SHA-256", "MD5"]


async def test_reset_clears_the_records_and_keeps_the_settings(make_peer: PeerFactory) -> None:
    peer = await make_peer(nonce_uses=1, opaque="o")
    challenge = await peer.challenge()
    await peer.send(authorization=peer.answer(challenge))
    await peer.send(authorization=peer.answer(challenge, nc=2))
    await peer.send(authorization="Digest x")

    peer.config.reset()

    assert peer.config == DigestConfig(
        users={LOGIN: PASSWORD}, nonce_uses=1, opaque="o", clock=peer.config.clock
    )


async def test_plugin_fixtures_serve_a_digest_protected_resource(
    digest_config: DigestConfig, digest_server: LocalServer
) -> None:
    digest_config.users[LOGIN] = PASSWORD
    middleware = aiohttp.DigestAuthMiddleware(LOGIN, PASSWORD)

    async with (
        aiohttp.ClientSession(middlewares=(middleware,), timeout=TIMEOUT) as session,
        session.get(digest_server.make_url("/digest/report")) as response,
    ):
        assert response.status == 200

    assert digest_server.app[DIGEST_CONFIG] is digest_config
    assert (digest_config.challenges, digest_config.successes) == (1, 1)
