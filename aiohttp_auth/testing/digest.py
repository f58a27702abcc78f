"""A Digest-protected resource server (RFC 7616), strict enough to prove a client right.

Routes (any method):

- ``/digest/{tail}``: protected. With a valid ``Authorization`` it answers 200
  with JSON ``{method, path, query, body_length, body_sha256, username,
  algorithm, qop, nc}`` (``username`` is the login it authenticated, ``nc`` the
  nonce count as an integer, or None without qop); otherwise 401 with one
  ``WWW-Authenticate: Digest ...`` challenge per offered algorithm, in the order
  of [`DigestConfig.algorithms`][aiohttp_auth.testing.digest.DigestConfig], each
  with its own nonce (RFC 7616 §3.3, §3.7). A malformed ``Authorization`` (a
  missing or ill-formed directive, a ``uri`` that is not the request-target) is
  answered 400, as RFC 2617 §3.2.2 asks.
- ``/public``: the same JSON without authentication (``username`` is None).
- ``/redirect?to=URL&status=302``: a redirect, as on the resource server.

The server does what real servers may skip, so tests can prove a client's
nonce handling: it rejects a reused ``(nonce, nc)`` pair and, by default, an
``nc`` that does not increase for its nonce (RFC 7616 §3.4, §5.5); it checks
that the ``uri`` is the request-target, that ``opaque`` comes back unchanged,
and that a nonce is answered with the algorithm it was issued for. A nonce can
be given a lifetime in uses or seconds, after which a correct answer gets
``stale=true`` (§3.3). The digest arithmetic is the package's own sans-IO code
([`DigestCredentials`][aiohttp_auth.digest.DigestCredentials]), so this server
checks a client's protocol handling, not the hashing: the RFC vectors and the
real servers of the test suite do that.

With ``proxy=True`` it plays a proxy's part instead (RFC 7616 §3.8, RFC 9110
§11.7): 407, ``Proxy-Authenticate``, ``Proxy-Authorization`` and
``Proxy-Authentication-Info`` (RFC 7615 §4), for requests sent to it as a
proxy (absolute-form) or directly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from aiohttp import hdrs, web
from multidict import CIMultiDict
from yarl import URL

from ..challenges import parse_challenges
from ..digest import SUPPORTED_ALGORITHMS, DigestChallenge, DigestCredentials, algorithm_for
from ..digest.algorithms import DigestAlgorithm
from ..errors import ChallengeError, ConfigurationError
from .resource import RecordedRequest, _redirect

__all__ = ["DIGEST_CONFIG", "DigestConfig", "NcCheck", "digest_app"]

NcCheck = Literal["increasing", "unique", "off"]
"""How the server checks nonce counts (RFC 7616 §3.4, §5.5).

``"increasing"``: each ``nc`` above the last one for its nonce. ``"unique"``:
each ``nc`` at most once, in any order within a window of 64 (for concurrent
requests that overtake each other). ``"off"``: no check, like Apache
``mod_auth_digest``.
"""

_NC_CHECKS: Final = ("increasing", "unique", "off")
_QOP_VALUES: Final = ("auth", "auth-int")
# How far an nc may lag behind the highest seen under nc_check="unique".
_NC_WINDOW: Final = 64
# Nonces remembered; the oldest are forgotten first (then answered stale=true).
_MAX_NONCES: Final = 4096
_NC: Final = re.compile(r"[0-9A-Fa-f]{8}")
_HEX: Final = re.compile(r"[0-9A-Fa-f]+")


def _resolve(name: str) -> DigestAlgorithm:
    algorithm = algorithm_for(name)
    if algorithm is None:
        raise ConfigurationError(
            f"DigestConfig.algorithms: {name!r} is not available "
            f"(available: {', '.join(SUPPORTED_ALGORITHMS)})"
        )
    return algorithm


@dataclass
class DigestConfig:
    """What the Digest server offers and accepts, and what it has seen.

    The server reads it on every request, so a test may change it after the
    server started. The records (from ``challenges`` on) are the server's;
    [`reset`][aiohttp_auth.testing.digest.DigestConfig.reset] clears them.

    Attributes:
        users: login -> password.
        realm: the protection space's realm (RFC 7616 §3.3).
        algorithms: the algorithms offered, one challenge each, in this order.
        qop: the qop values offered: ``("auth",)``, ``("auth-int",)``, both,
            or ``()`` for RFC 2069 answers without qop, nc or cnonce.
        userhash: offer ``userhash=true`` (§3.4.4); plain usernames are still
            accepted, as the client may not support hashing.
        charset_utf8: send ``charset=UTF-8`` (§3.3, §4).
        opaque: the ``opaque`` string to send; the answer must echo it.
        domain: the URIs of the protection space, sent as ``domain`` (§3.3).
        nonce_uses: answer a nonce's correct answers ``stale=true`` after this
            many successes; None for no limit.
        nonce_seconds: answer ``stale=true`` once a nonce is this old (by
            *clock*); None for no limit.
        authentication_info: send ``Authentication-Info`` with a ``nextnonce``
            and, with a qop, ``rspauth`` (§3.5).
        nc_check: how nonce counts are checked (see
            [`NcCheck`][aiohttp_auth.testing.digest.NcCheck]).
        proxy: act as a proxy: 407 and the ``Proxy-*`` header fields.
        join_challenges: send all challenges in one header field, comma
            separated, instead of one field each (both are valid, RFC 9110 §11.6.1).
        clock: seconds, for *nonce_seconds*; tests pass a fake one.
        challenges: 401 (407) answers sent, each with every offered challenge.
        stale_challenges: how many of those said ``stale=true``.
        successes: requests authenticated.
        bad_requests: ``Authorization`` values answered 400.
        challenges_by_path: ``challenges`` per request path.
        successes_by_path: ``successes`` per request path.
        authorizations: every ``Authorization`` (or ``Proxy-Authorization``)
            value received, in order.
        rejections: why each refused ``Authorization`` was refused, in order.
        requests: every request received, whatever its route.
        statuses: the status answered to each of *requests*, in the same order.
    """

    users: dict[str, str] = field(default_factory=dict)
    realm: str = "aiohttp-auth testing"
    algorithms: list[str] = field(default_factory=lambda: ["SHA-256", "MD5"])
    qop: tuple[str, ...] = ("auth", "auth-int")
    userhash: bool = False
    charset_utf8: bool = True
    opaque: str | None = None
    domain: tuple[str, ...] = ()
    nonce_uses: int | None = None
    nonce_seconds: float | None = None
    authentication_info: bool = False
    nc_check: NcCheck = "increasing"
    proxy: bool = False
    join_challenges: bool = False
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    challenges: int = 0
    stale_challenges: int = 0
    successes: int = 0
    bad_requests: int = 0
    challenges_by_path: Counter[str] = field(default_factory=Counter)
    successes_by_path: Counter[str] = field(default_factory=Counter)
    authorizations: list[str] = field(default_factory=list)
    rejections: list[str] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list, repr=False)
    statuses: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check the settings; [`digest_app`][aiohttp_auth.testing.digest.digest_app] calls it too.

        Raises:
            ConfigurationError: no algorithm, an algorithm this Python cannot
                compute, a qop other than ``auth`` and ``auth-int``, a
                ``-sess`` algorithm without qop (its cnonce needs one, RFC 7616
                §3.4.2), a lifetime below 1, or an unknown *nc_check*.
        """
        if not self.algorithms:
            raise ConfigurationError("DigestConfig.algorithms: offer at least one algorithm")
        for name in self.algorithms:
            if _resolve(name).session and not self.qop:
                raise ConfigurationError(
                    f"DigestConfig.algorithms: {name!r} needs a qop (RFC 7616 §3.4.2)"
                )
        if not set(self.qop) <= set(_QOP_VALUES):
            raise ConfigurationError(
                f"DigestConfig.qop: {self.qop!r}; use 'auth', 'auth-int', both, or ()"
            )
        if (self.nonce_uses is not None and self.nonce_uses < 1) or (
            self.nonce_seconds is not None and self.nonce_seconds <= 0
        ):
            raise ConfigurationError("DigestConfig: a nonce lifetime must be positive or None")
        if self.nc_check not in _NC_CHECKS:
            raise ConfigurationError(
                f"DigestConfig.nc_check: {self.nc_check!r}; use one of {', '.join(_NC_CHECKS)}"
            )

    def reset(self) -> None:
        """Clear the records (counters and lists); the settings stay."""
        self.challenges = self.stale_challenges = self.successes = self.bad_requests = 0
        self.challenges_by_path.clear()
        self.successes_by_path.clear()
        self.authorizations.clear()
        self.rejections.clear()
        self.requests.clear()
        self.statuses.clear()


DIGEST_CONFIG: Final = web.AppKey("digest_config", DigestConfig)
"""The key of the [`DigestConfig`][aiohttp_auth.testing.digest.DigestConfig] in the application."""


@dataclass
class _Nonce:
    """What the server remembers of a nonce it issued."""

    algorithm: str
    issued_at: float
    uses: int = 0
    highest_nc: int = 0
    seen_nc: set[int] = field(default_factory=set)

    def expired(self, config: DigestConfig) -> bool:
        return (config.nonce_uses is not None and self.uses >= config.nonce_uses) or (
            config.nonce_seconds is not None
            and config.clock() - self.issued_at >= config.nonce_seconds
        )

    def count_problem(self, nc: int, check: NcCheck) -> str | None:
        """Say why *nc* is refused for this nonce, or record it and return None."""
        if check == "increasing" and nc <= self.highest_nc:
            return f"nc {nc} does not increase (last {self.highest_nc})"
        if check == "unique" and (nc in self.seen_nc or nc <= self.highest_nc - _NC_WINDOW):
            return f"nc {nc} was already used, or is too old"
        self.highest_nc = max(self.highest_nc, nc)
        if check == "unique":
            floor = self.highest_nc - _NC_WINDOW
            self.seen_nc = {seen for seen in self.seen_nc if seen > floor} | {nc}
        return None


class _NonceBook:
    """The nonces issued, newest last, at most ``_MAX_NONCES``."""

    def __init__(self) -> None:
        self._nonces: OrderedDict[str, _Nonce] = OrderedDict()

    def issue(self, algorithm: DigestAlgorithm, now: float) -> str:
        # 128 random bits: unguessable, so no answer can be prepared in advance.
        nonce = secrets.token_hex(16)
        self._nonces[nonce] = _Nonce(algorithm.name, now)
        if len(self._nonces) > _MAX_NONCES:
            self._nonces.popitem(last=False)
        return nonce

    def get(self, nonce: str) -> _Nonce | None:
        return self._nonces.get(nonce)


_NONCES: Final = web.AppKey("digest_nonces", _NonceBook)


class _Refusal(Exception):
    """An ``Authorization`` the server refuses: 400, or a new challenge."""

    def __init__(self, reason: str, *, bad_request: bool = False, stale: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.bad_request = bad_request
        self.stale = stale


@dataclass(frozen=True)
class _Accepted:
    login: str
    credentials: DigestCredentials
    uri: str
    nc: int | None
    cnonce: str


def _quote(value: str) -> str:
    """Escape *value* for a quoted-string (RFC 9110 §5.6.4)."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _challenge(config: DigestConfig, name: str, nonce: str, *, stale: bool) -> str:
    """Build one challenge, parameters in RFC 7616 §3.9.1's order (§3.3)."""
    parts = [f'realm="{_quote(config.realm)}"']
    if config.qop:
        parts.append(f'qop="{", ".join(config.qop)}"')
    parts += [f"algorithm={name}", f'nonce="{nonce}"']
    if config.opaque is not None:
        parts.append(f'opaque="{_quote(config.opaque)}"')
    if config.domain:
        parts.append(f'domain="{_quote(" ".join(config.domain))}"')
    if config.charset_utf8:
        parts.append("charset=UTF-8")
    if config.userhash:
        parts.append("userhash=true")
    if stale:
        parts.append("stale=true")
    return "Digest " + ", ".join(parts)


def _parse(value: str) -> Mapping[str, str]:
    """Read the directives of a Digest ``Authorization`` (RFC 7616 §3.4)."""
    try:
        credentials = parse_challenges(value)
    except ChallengeError as error:
        raise _Refusal(f"malformed Authorization: {error}", bad_request=True) from None
    if len(credentials) != 1:
        raise _Refusal("Authorization must hold exactly one credentials", bad_request=True)
    if credentials[0].scheme_lower != "digest":
        raise _Refusal(f"scheme {credentials[0].scheme!r} is not Digest")
    params = credentials[0].params
    required = ["username", "realm", "nonce", "uri", "response"]
    if "qop" in params:
        required += ["nc", "cnonce"]
    missing = [name for name in required if not params.get(name)]
    if missing:
        raise _Refusal(f"directives missing: {', '.join(missing)}", bad_request=True)
    if _HEX.fullmatch(params["response"]) is None:
        raise _Refusal("response is not hexadecimal", bad_request=True)
    if "qop" in params and (_NC.fullmatch(params["nc"]) is None or int(params["nc"], 16) == 0):
        raise _Refusal(
            f"nc {params['nc']!r} is not 8 hexadecimal digits above 0", bad_request=True
        )
    return params


def _check_uri(uri: str, target: str) -> None:
    """Require the ``uri`` directive to name the request-target (RFC 2617 §3.2.2.5)."""
    # Through a proxy the target is absolute-form; a client may name it either way.
    absolute = target.startswith(("http://", "https://"))
    if uri != target and not (absolute and uri == URL(target).raw_path_qs):
        raise _Refusal(f"uri {uri!r} is not the request-target {target!r}", bad_request=True)


def _offered(config: DigestConfig, params: Mapping[str, str]) -> DigestChallenge:
    """Rebuild the challenge the client answered; refuse what was not offered (§3.4)."""
    if params["realm"] != config.realm:
        raise _Refusal(f"realm {params['realm']!r} is not {config.realm!r}")
    named = params.get("algorithm", "MD5")
    algorithm = algorithm_for(named)
    offered = {_resolve(name) for name in config.algorithms}
    if algorithm is None or algorithm not in offered:
        raise _Refusal(f"algorithm {named!r} was not offered")
    qop = params.get("qop")
    if (qop is None and config.qop) or (qop is not None and qop not in config.qop):
        raise _Refusal(f"qop {qop!r} was not offered ({', '.join(config.qop) or 'none'})")
    if config.opaque is not None and params.get("opaque") != config.opaque:
        raise _Refusal("opaque did not come back unchanged")
    userhash = params.get("userhash", "").lower() == "true"
    if userhash and not config.userhash:
        raise _Refusal("userhash was not offered")
    return DigestChallenge(
        realm=config.realm,
        nonce=params["nonce"],
        algorithm=named,
        echo_algorithm="algorithm" in params,
        qop=() if qop is None else (qop,),
        opaque=config.opaque,
        userhash=userhash,
        charset="UTF-8" if config.charset_utf8 else None,
    )


def _authenticate(
    config: DigestConfig, params: Mapping[str, str], method: str, body: bytes
) -> _Accepted:
    """Find the user whose answer matches *params*, recomputing it (RFC 7616 §3.4.1)."""
    challenge = _offered(config, params)
    uri, cnonce = params["uri"], params.get("cnonce", "")
    nc = int(params["nc"], 16) if "qop" in params else None
    for login, password in config.users.items():
        credentials = DigestCredentials(challenge, login, password)
        header = credentials.authorization(method, uri, nc=nc or 1, cnonce=cnonce, body=body)
        expected = parse_challenges(header)[0].params
        # With userhash the username is H(login:realm) (§3.4.4); comparing the
        # usernames this login would send covers both forms and username*.
        if expected["username"] == params["username"]:
            if not hmac.compare_digest(expected["response"], params["response"].lower()):
                raise _Refusal(f"wrong response for user {login!r}")
            return _Accepted(login, credentials, uri, nc, cnonce)
    raise _Refusal(f"unknown user {params['username']!r}")


def _use_nonce(config: DigestConfig, book: _NonceBook, nonce: str, answer: _Accepted) -> None:
    """Count a correct answer against its nonce, or refuse it (RFC 7616 §3.3, §3.4)."""
    record = book.get(nonce)
    if record is None:
        raise _Refusal("unknown nonce", stale=True)
    if record.algorithm != answer.credentials.algorithm.name:
        raise _Refusal(
            f"nonce issued for {record.algorithm}, answered with "
            f"{answer.credentials.algorithm.name}"
        )
    if record.expired(config):
        raise _Refusal("stale nonce", stale=True)
    if answer.nc is not None and config.nc_check != "off":
        problem = record.count_problem(answer.nc, config.nc_check)
        if problem is not None:
            raise _Refusal(problem)
    record.uses += 1


def _describe(request: web.Request, body: bytes) -> dict[str, Any]:
    return {
        "method": request.method,
        "path": request.path,
        "query": dict(request.query),
        "body_length": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }


def _authentication_info(
    config: DigestConfig, book: _NonceBook, answer: _Accepted, response_body: bytes
) -> str:
    """Build ``Authentication-Info``: nextnonce, and rspauth with a qop (RFC 7616 §3.5)."""
    nextnonce = book.issue(answer.credentials.algorithm, config.clock())
    parts = [f'nextnonce="{nextnonce}"']
    if answer.nc is not None:
        rspauth = answer.credentials.rspauth(
            answer.uri, nc=answer.nc, cnonce=answer.cnonce, body=response_body
        )
        parts += [
            f"qop={answer.credentials.qop}",
            f'rspauth="{rspauth}"',
            f'cnonce="{_quote(answer.cnonce)}"',
            f"nc={answer.nc:08x}",
        ]
    return ", ".join(parts)


def _accepted_response(
    request: web.Request, body: bytes, book: _NonceBook, answer: _Accepted
) -> web.Response:
    config = request.app[DIGEST_CONFIG]
    config.successes += 1
    config.successes_by_path[request.path] += 1
    description = _describe(request, body) | {
        "username": answer.login,
        "algorithm": answer.credentials.algorithm.name,
        "qop": answer.credentials.qop,
        "nc": answer.nc,
    }
    response_body = json.dumps(description).encode()
    headers: dict[str, str] = {}
    if config.authentication_info:
        name = "Proxy-Authentication-Info" if config.proxy else "Authentication-Info"
        headers[name] = _authentication_info(config, book, answer, response_body)
    return web.Response(body=response_body, content_type="application/json", headers=headers)


def _refused_response(request: web.Request, book: _NonceBook, refusal: _Refusal) -> web.Response:
    config = request.app[DIGEST_CONFIG]
    if refusal.bad_request:
        config.bad_requests += 1
        return web.json_response({"error": "bad request", "reason": refusal.reason}, status=400)
    config.challenges += 1
    config.stale_challenges += int(refusal.stale)
    config.challenges_by_path[request.path] += 1
    now = config.clock()
    challenges = [
        _challenge(config, name, book.issue(_resolve(name), now), stale=refusal.stale)
        for name in config.algorithms
    ]
    name = hdrs.PROXY_AUTHENTICATE if config.proxy else hdrs.WWW_AUTHENTICATE
    if config.join_challenges:
        challenges = [", ".join(challenges)]
    headers = CIMultiDict((name, challenge) for challenge in challenges)
    return web.json_response(
        {"error": "unauthorized", "reason": refusal.reason},
        status=407 if config.proxy else 401,
        headers=headers,
    )


async def _protected(request: web.Request, body: bytes) -> web.Response:
    config, book = request.app[DIGEST_CONFIG], request.app[_NONCES]
    value = request.headers.get(hdrs.PROXY_AUTHORIZATION if config.proxy else hdrs.AUTHORIZATION)
    try:
        if value is None:
            raise _Refusal("no credentials")
        config.authorizations.append(value)
        params = _parse(value)
        _check_uri(params["uri"], request.raw_path)
        answer = _authenticate(config, params, request.method, body)
        _use_nonce(config, book, params["nonce"], answer)
    except _Refusal as refusal:
        if value is not None:
            config.rejections.append(refusal.reason)
        return _refused_response(request, book, refusal)
    return _accepted_response(request, body, book, answer)


async def _handle(request: web.Request) -> web.StreamResponse:
    config = request.app[DIGEST_CONFIG]
    body = await request.read()
    config.requests.append(RecordedRequest.of(request, body))
    response: web.StreamResponse
    try:
        if request.path.startswith("/digest/"):
            response = await _protected(request, body)
        elif request.path == "/redirect":
            response = _redirect(request)
        elif request.path == "/public":
            response = web.json_response(_describe(request, body) | {"username": None})
        else:
            raise web.HTTPNotFound()
    except web.HTTPException as error:
        config.statuses.append(error.status)
        raise
    config.statuses.append(response.status)
    return response


def digest_app(config: DigestConfig | None = None) -> web.Application:
    """Build the Digest-protected application for *config* (a fresh one by default).

    Raises:
        ConfigurationError: *config* is invalid (see
            [`DigestConfig.validate`][aiohttp_auth.testing.digest.DigestConfig.validate]).
    """
    config = config if config is not None else DigestConfig()
    config.validate()
    app = web.Application()
    app[DIGEST_CONFIG] = config
    app[_NONCES] = _NonceBook()
    app.router.add_route("*", "/{tail:.*}", _handle)
    return app
