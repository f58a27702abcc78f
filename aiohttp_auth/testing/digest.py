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

This module holds the configuration and the ``aiohttp.web`` application; what
the server decides (nonces, checking an answer, the challenges it sends) is
sans-IO, in ``aiohttp_auth.testing.digest_verify``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from aiohttp import hdrs, web
from multidict import CIMultiDict

from ..errors import ConfigurationError
from .digest_verify import (
    Accepted,
    NonceBook,
    Refusal,
    authenticate,
    authentication_info,
    challenge_fields,
    check_uri,
    parse_authorization,
    resolve_algorithm,
    use_nonce,
)
from .resource import RecordedRequest, recording_app, redirect

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
            ConfigurationError: an empty realm, no algorithm, an algorithm this Python cannot
                compute, a qop other than ``auth`` and ``auth-int``, a
                ``-sess`` algorithm without qop (its cnonce needs one, RFC 7616
                §3.4.2), a lifetime below 1, or an unknown *nc_check*.
        """
        if not self.realm:
            # Answers must echo the realm, and an empty one reads as missing.
            raise ConfigurationError("DigestConfig.realm: give the protection space a name")
        if not self.algorithms:
            raise ConfigurationError("DigestConfig.algorithms: offer at least one algorithm")
        for name in self.algorithms:
            if resolve_algorithm(name).session and not self.qop:
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

_NONCES: Final = web.AppKey("digest_nonces", NonceBook)


def _describe(request: web.Request, body: bytes) -> dict[str, Any]:
    return {
        "method": request.method,
        "path": request.path,
        "query": dict(request.query),
        "body_length": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }


def _accepted_response(
    request: web.Request, body: bytes, book: NonceBook, answer: Accepted
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
        headers[name] = authentication_info(config, book, answer, response_body)
    return web.Response(body=response_body, content_type="application/json", headers=headers)


def _refused_response(request: web.Request, book: NonceBook, refusal: Refusal) -> web.Response:
    config = request.app[DIGEST_CONFIG]
    if refusal.bad_request:
        config.bad_requests += 1
        return web.json_response({"error": "bad request", "reason": refusal.reason}, status=400)
    config.challenges += 1
    config.stale_challenges += int(refusal.stale)
    config.challenges_by_path[request.path] += 1
    name = hdrs.PROXY_AUTHENTICATE if config.proxy else hdrs.WWW_AUTHENTICATE
    fields = challenge_fields(config, book, stale=refusal.stale)
    headers = CIMultiDict((name, field_value) for field_value in fields)
    return web.json_response(
        {"error": "unauthorized", "reason": refusal.reason},
        status=407 if config.proxy else 401,
        headers=headers,
    )


def _protected(request: web.Request, body: bytes) -> web.Response:
    config, book = request.app[DIGEST_CONFIG], request.app[_NONCES]
    value = request.headers.get(hdrs.PROXY_AUTHORIZATION if config.proxy else hdrs.AUTHORIZATION)
    try:
        if value is None:
            raise Refusal("no credentials")
        config.authorizations.append(value)
        params = parse_authorization(value)
        check_uri(params["uri"], request.raw_path)
        answer = authenticate(config, params, request.method, body)
        use_nonce(config, book, params["nonce"], answer)
    except Refusal as refusal:
        if value is not None:
            config.rejections.append(refusal.reason)
        return _refused_response(request, book, refusal)
    return _accepted_response(request, body, book, answer)


def _respond(config: DigestConfig, request: web.Request, body: bytes) -> web.StreamResponse:
    if request.path.startswith("/digest/"):
        return _protected(request, body)
    if request.path == "/redirect":
        return redirect(request)
    if request.path == "/public":
        return web.json_response(_describe(request, body) | {"username": None})
    raise web.HTTPNotFound()


def digest_app(config: DigestConfig | None = None) -> web.Application:
    """Build the Digest-protected application for *config* (a fresh one by default).

    Raises:
        ConfigurationError: *config* is invalid (see
            [`DigestConfig.validate`][aiohttp_auth.testing.digest.DigestConfig.validate]).
    """
    config = config if config is not None else DigestConfig()
    config.validate()
    app = recording_app(DIGEST_CONFIG, config, _respond)
    app[_NONCES] = NonceBook()
    return app
