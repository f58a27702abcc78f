"""Demo scenarios for HTTP Digest (RFC 7616): one 401 per space, SHA-512-256, stale, no loops.

Each scenario serves its own [`aiohttp_auth.testing.digest`][] server on
127.0.0.1, configured for what it shows, sends real requests, and checks the
server's counters and records: how many 401s it sent, which answers it
accepted, and what each request carried.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import aiohttp
from aiohttp.client_middlewares import ClientMiddlewareType

from ..challenges import parse_challenges
from ..digest.middleware import DigestAuthMiddleware
from ..errors import ChallengeError
from ..testing import DigestConfig, LocalServer, digest_app
from ._console import Outcome
from ._demo_env import (
    DIGEST_LOGIN,
    DIGEST_PASSWORD,
    DemoEnv,
    Scenario,
    demo_digest_config,
    session_with,
)

__all__ = ["SCENARIOS"]

PREEMPTIVE_REQUESTS: Final = 4
"""Requests the preemptive scenario sends to one protection space."""
_WRONG_PASSWORD: Final = "Circle of Strife"  # noqa: S105 - a deliberately wrong demo value
_CODE: Final = f"DigestAuthMiddleware({DIGEST_LOGIN!r}, {DIGEST_PASSWORD!r})"


def _directives(authorization: str | None) -> dict[str, str]:
    """The directives of a Digest ``Authorization`` value, or {} if there is none."""
    if authorization is None:
        return {}
    try:
        return dict(parse_challenges(authorization)[0].params)
    except (ChallengeError, IndexError):
        return {}


def _summary(directives: dict[str, str]) -> str:
    """Describe an answer by what varies: algorithm, qop, nonce count and nonce."""
    if not directives:
        return "no Authorization"
    parts = [directives.get("algorithm", "MD5")]
    if "qop" in directives:
        parts += [f"qop={directives['qop']}", f"nc={directives.get('nc')}"]
    return " ".join([*parts, f"nonce={directives.get('nonce', '')[:8]}..."])


def _answers(config: DigestConfig) -> list[dict[str, str]]:
    """The directives of each request the server received, {} for none."""
    return [_directives(_authorization(request.headers)) for request in config.requests]


def _authorization(headers: dict[str, str]) -> str | None:
    """Return the ``Authorization`` value of *headers* (names in any case)."""
    return next((v for k, v in headers.items() if k.lower() == "authorization"), None)


def _show_exchanges(out: Outcome, config: DigestConfig) -> None:
    """List each request the server received, what it carried and the status it got."""
    label = "received"
    exchanges = zip(config.requests, _answers(config), config.statuses, strict=True)
    for request, answer, status in exchanges:
        out.say(f"{request.method} {request.path}  {_summary(answer)}  -> {status}", label=label)
        label = ""
    out.say(
        f"{config.challenges} x 401 ({config.stale_challenges} stale), "
        f"{config.successes} authenticated, refused: {', '.join(config.rejections) or 'none'}",
        label="counters",
    )


def _no_password_sent(out: Outcome, config: DigestConfig, password: str) -> None:
    leaked = [request.path for request in config.requests if password in request.raw()]
    out.check(not leaked, "the password itself never crossed the wire", got=leaked)


async def _get_all(
    server: LocalServer, paths: Sequence[str], middleware: ClientMiddlewareType
) -> list[tuple[int, dict[str, Any]]]:
    """GET each of *paths* in one session with *middleware*; return status and JSON."""
    replies = []
    async with session_with(middleware) as session:
        for path in paths:
            async with session.get(server.make_url(path)) as response:
                replies.append((response.status, await response.json()))
    return replies


async def preemptive(env: DemoEnv, out: Outcome) -> None:
    """Answer one challenge, then every request of the space preemptively (RFC 7616 §3.3)."""
    config = demo_digest_config()
    out.say(_CODE, label="code")
    out.say(f"the server offers {' and '.join(config.algorithms)}, qop {', '.join(config.qop)}")
    paths = [f"/digest/report/{number}" for number in range(1, PREEMPTIVE_REQUESTS + 1)]
    async with LocalServer(digest_app(config)) as server:
        replies = await _get_all(
            server, paths, DigestAuthMiddleware(DIGEST_LOGIN, DIGEST_PASSWORD)
        )
    _show_exchanges(out, config)
    statuses = [status for status, _ in replies]
    count = PREEMPTIVE_REQUESTS
    out.check(statuses == [200] * count, f"all {count} requests got 200", got=statuses)
    out.check(config.challenges == 1, f"{count} requests cost one 401", got=config.challenges)
    answers = [answer for answer in _answers(config) if answer]
    counts = [answer.get("nc") for answer in answers]
    out.check(
        counts == [f"{nc:08x}" for nc in range(1, count + 1)]
        and len({answer["nonce"] for answer in answers}) == 1,
        f"one nonce, counted nc=1 to {count} (RFC 7616 §3.4)",
        got=counts,
    )
    chosen = {(answer.get("algorithm"), answer.get("qop")) for answer in answers}
    out.check(
        chosen == {("SHA-256", "auth")},
        "answered SHA-256, the strongest offered, with qop auth",
        got=chosen,
    )
    _no_password_sent(out, config, DIGEST_PASSWORD)


async def _aiohttp_attempt(server: LocalServer) -> str:
    """What aiohttp's own DigestAuthMiddleware makes of the server's challenges."""
    middleware = aiohttp.DigestAuthMiddleware(DIGEST_LOGIN, DIGEST_PASSWORD)
    try:
        replies = await _get_all(server, ["/digest/vault"], middleware)
    except aiohttp.ClientError as exc:
        # Its message lists every algorithm it knows; the first sentence says it all.
        return f"raised {type(exc).__name__}: {str(exc).split('. ')[0]}"
    return f"got {replies[0][0]}"


async def sha512_256(env: DemoEnv, out: Outcome) -> None:
    """Answer SHA-512-256, the strongest algorithm of RFC 7616, chosen among several."""
    config = demo_digest_config(algorithms=["SHA-512-256", "SHA-256"])
    out.say(f"{' and '.join(config.algorithms)}, one challenge each", label="offered")
    async with LocalServer(digest_app(config)) as server:
        attempt = await _aiohttp_attempt(server)
        out.say(f"aiohttp.DigestAuthMiddleware {attempt}", label="compare")
        config.reset()
        out.say(_CODE, label="code")
        replies = await _get_all(
            server, ["/digest/vault"], DigestAuthMiddleware(DIGEST_LOGIN, DIGEST_PASSWORD)
        )
    _show_exchanges(out, config)
    status, echoed = replies[0]
    out.check(status == 200, "the server answers 200", got=status)
    out.check(
        echoed.get("algorithm") == "SHA-512-256" and config.successes == 1,
        "it authenticated the login with SHA-512-256",
        got=echoed.get("algorithm"),
    )
    out.check(config.challenges == 1, "one 401, then one answer", got=config.challenges)


async def stale_nonce(env: DemoEnv, out: Outcome) -> None:
    """Answer ``stale=true`` with one retry on the new nonce (RFC 7616 §3.3)."""
    config = demo_digest_config(nonce_uses=2)
    out.say(_CODE, label="code")
    out.say("the server accepts each nonce twice, then answers stale=true")
    async with LocalServer(digest_app(config)) as server:
        replies = await _get_all(
            server, ["/digest/feed"] * 3, DigestAuthMiddleware(DIGEST_LOGIN, DIGEST_PASSWORD)
        )
    _show_exchanges(out, config)
    statuses = [status for status, _ in replies]
    out.check(statuses == [200] * 3, "all 3 requests got 200", got=statuses)
    out.check(
        config.stale_challenges == 1 and config.challenges == 2,
        "the third request met one stale=true 401",
        got=f"{config.challenges} x 401, {config.stale_challenges} stale",
    )
    answers = _answers(config)
    out.check(
        len(config.requests) == 5
        and answers[-1].get("nc") == "00000001"
        and answers[-1].get("nonce") != answers[-2].get("nonce"),
        "one retry on the new nonce, counting from nc=1 again",
        got=f"{len(config.requests)} requests",
    )


async def wrong_password(env: DemoEnv, out: Outcome) -> None:
    """Give a wrong password's 401 back after one answer, without a loop."""
    config = demo_digest_config()
    out.say(f"DigestAuthMiddleware({DIGEST_LOGIN!r}, {_WRONG_PASSWORD!r})", label="code")
    async with LocalServer(digest_app(config)) as server:
        replies = await _get_all(
            server, ["/digest/report/1"], DigestAuthMiddleware(DIGEST_LOGIN, _WRONG_PASSWORD)
        )
    _show_exchanges(out, config)
    status = replies[0][0]
    out.check(status == 401, "the caller gets the 401", got=status)
    out.check(
        len(config.requests) == 2 and len(config.authorizations) == 1,
        "after one answer: two requests reached the server, no loop",
        got=f"{len(config.requests)} requests",
    )
    out.check(
        config.rejections == [f"wrong response for user {DIGEST_LOGIN!r}"],
        "the server refused the answer as a wrong response",
        got=config.rejections,
    )
    _no_password_sent(out, config, _WRONG_PASSWORD)


SCENARIOS: Final[tuple[Scenario, ...]] = (
    Scenario(
        f"Digest SHA-256, preemptive: {PREEMPTIVE_REQUESTS} requests cost one 401", preemptive
    ),
    Scenario("Digest SHA-512-256, which aiohttp's own middleware cannot answer", sha512_256),
    Scenario("Digest stale nonce: one retry with the new nonce, no new login", stale_nonce),
    Scenario("Digest wrong password: the 401 comes back after one attempt", wrong_password),
)
