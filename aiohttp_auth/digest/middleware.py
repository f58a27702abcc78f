"""HTTP Digest access authentication for the aiohttp client (RFC 7616).

[`DigestAuthMiddleware`][] adapts aiohttp to the sans-IO code of
[`aiohttp_auth.digest`][]: it reads the challenges of 401 responses (and of
407 responses from the request's proxy), keeps one protection space per
challenge ([`.spaces`][]), and answers later requests in a known space
preemptively, so N requests to one space cost one 401.

What it does, and what it cannot do:

* **One retry per request.** A challenge is answered once; a second 401 (a
  wrong password, or the origin's challenge after the proxy's was answered) is
  returned to the caller, and only remembered for the next request.
* **Concurrent first requests** to an origin are single-flight: one goes out,
  the others wait for its challenge (at most
  [`PROBE_TIMEOUT`][aiohttp_auth.digest.probes.PROBE_TIMEOUT] seconds) and
  then go out with credentials. Later bursts to a *new* space of a known
  origin are not held back: each may draw a 401, answered once.
* **Streaming bodies** are never resent empty: a 401 to a consumed stream is
  returned (and logged). In a known space the first send already carries the
  answer, so a streaming upload succeeds in one request.
* **qop auth-int** hashes the body through ``await request.body.as_bytes()``
  (aiohttp >= 3.12.1), which buffers a stream; ``auth`` is preferred when
  offered. On aiohttp 3.12.0 an in-memory body is hashed from its payload,
  and an auth-int-only challenge to a stream or a file is returned
  unanswered, with a warning. With auth-int, checking the
  server's ``rspauth`` reads the response body (it covers it, RFC 7616 §3.5);
  ``read()``, ``text()`` and ``json()`` still work afterwards.
* **Proxies**: only a plain-``http://`` request passes through a proxy's hands
  in a middleware. The ``CONNECT`` for an ``https://`` target is sent by
  aiohttp's connector and never passes through middlewares, so a Digest proxy
  in front of https targets cannot be answered here.
* **Cookies** a server sets on a challenge go with the retry (the shared
  [`retry_once`][aiohttp_auth._middleware.AuthMiddleware.retry_once] keeps them).
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Final, TypeAlias

from aiohttp import ClientRequest, ClientResponse, hdrs
from aiohttp.client_middlewares import ClientHandlerType
from multidict import istr
from yarl import URL

from .._origins import OriginsArg
from .._redact import redacted_repr
from ..errors import ConfigurationError
from .answers import ORIGIN, Answer
from .cnonces import CNONCE_BYTES, client_nonces
from .credentials import DigestCredentials
from .exchange import CHALLENGE_STATUSES, DigestExchange, OriginKey
from .protocol import make_cnonce
from .spaces import ProtectionSpace

__all__ = ["DigestAuthMiddleware"]

# Control characters in a login are a mistake (a newline read from a file).
_CONTROL: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# What answering a URL in a known whole-origin space takes: the URL, the spaces
# index it was found in (the route holds while that index does), the space, the
# origin and the request-target (RFC 9112 §3.2.1 origin-form).
_Route: TypeAlias = tuple[
    URL, Mapping[OriginKey, ProtectionSpace], ProtectionSpace, OriginKey, str
]
# The origin's header names as istr: multidict finds them without case-folding.
_AUTHORIZATION: Final = hdrs.AUTHORIZATION
_AUTHENTICATION_INFO: Final = istr(ORIGIN.info)


class DigestAuthMiddleware(DigestExchange):
    """Answer HTTP Digest challenges (RFC 7616) from origins and from proxies.

    A drop-in superset of ``aiohttp.DigestAuthMiddleware``: SHA-512-256, the
    strongest of several challenges, ``userhash`` and ``username*``,
    ``stale=true``, ``nextnonce`` and ``rspauth`` (``Authentication-Info``),
    407 from proxies, one 401 per protection space rather than per request,
    and nonce counts kept per nonce under concurrency. Digest never sends the
    password, so plain ``http://`` is allowed.

    A response whose ``rspauth`` does not match (RFC 7616 §3.5) is released
    and [`ChallengeError`][aiohttp_auth.errors.ChallengeError] raised: the server does
    not know the credentials, so it is not the one it claims to be.

    Args:
        login: the username; non-ASCII names are sent as ``username*`` (RFC 8187).
        password: the password.
        preemptive: answer requests in a known protection space before any 401
            (RFC 7616 §3.3). Concurrent first requests to an origin then wait
            for the first one's challenge (at most
            [`PROBE_TIMEOUT`][aiohttp_auth.digest.probes.PROBE_TIMEOUT]).
        origins: see [`AuthMiddleware`][aiohttp_auth._middleware.AuthMiddleware].
        random_bytes: for tests only: ``random_bytes(n)`` supplies each client
            nonce's randomness instead of ``os.urandom`` (what
            ``secrets.token_bytes`` returns). With the default, the random
            bytes of many client nonces are drawn in one call.

    Raises:
        ConfigurationError: the login is empty or has control characters, or an
            argument has the wrong type.
    """

    def __init__(
        self,
        login: str,
        password: str,
        preemptive: bool = True,
        *,
        origins: OriginsArg = None,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        if not isinstance(login, str) or not login or _CONTROL.search(login):
            raise ConfigurationError("login: expected a non-empty string without control chars")
        if not isinstance(password, str):
            raise ConfigurationError(f"password: expected a string, got {type(password).__name__}")
        if not isinstance(preemptive, bool) or not callable(random_bytes):
            raise ConfigurationError("preemptive must be True or False, random_bytes a callable")
        try:
            f"{login}:{password}".encode()
        except UnicodeEncodeError:
            raise ConfigurationError(
                "login or password holds a lone surrogate: not text"
            ) from None
        cnonce: Callable[[], str] = (
            client_nonces.draw
            if random_bytes is os.urandom
            else lambda: make_cnonce(random_bytes(CNONCE_BYTES))
        )
        super().__init__(login, password, preemptive=preemptive, cnonce=cnonce, origins=origins)
        self._login, self._password_length = login, len(password)
        # The URL answered last on the shortcut of __call__, and what answering it takes.
        self._route: _Route | None = None

    def __call__(
        self, request: ClientRequest, handler: ClientHandlerType
    ) -> Awaitable[ClientResponse]:
        """Authenticate *request* if its origin is in scope; otherwise pass it on.

        Extends the base class's shortcut for cleared origins with a memo of
        the URL answered last: a client polling or paging one endpoint sends
        the same URL object again (yarl caches them), and then not even the
        origin is looked up again.
        """
        url = request.url
        route = self._route
        if route is None or route[0] is not url or route[1] is not self._spaces.whole_origins:
            key = (url.scheme, url.raw_host, url.port)
            if key not in self._cleared:
                return super().__call__(request, handler)  # checks the scope, then authenticate()
            # Admitted as a whole origin, so it has a host and a port: key is its origin.
            route = self._route_for(url, key)  # type: ignore[arg-type]
            if route is None:
                return self._probe_or_exchange(request, handler, url, key)  # type: ignore[arg-type]
            self._route = route
        return self._answered(request, handler, route) or self._probe_or_exchange(
            request, handler, url, route[3]
        )

    def authenticate(
        self, request: ClientRequest, handler: ClientHandlerType
    ) -> Coroutine[Any, Any, ClientResponse]:
        """Answer known spaces, send, and answer one challenge (RFC 7616 §3.3-§3.5).

        A coroutine function in effect: it returns the coroutine that does the
        work, sparing every request one coroutine layer of its own.
        """
        url = request.url
        # Equal to Origin.of(url) and hashed alike, but built without the Python
        # code of NamedTuple.__new__: this runs on every request.
        origin = (url.scheme, url.raw_host or "", url.port or 0)
        route = self._route_for(url, origin)
        if route is not None and (answered := self._answered(request, handler, route)):
            return answered
        return self._probe_or_exchange(request, handler, url, origin)

    def _route_for(self, url: URL, origin: OriginKey) -> _Route | None:
        """Return what ``_answered`` needs for *url*, if a known space covers its whole origin."""
        whole_origins = self._spaces.whole_origins
        space = whole_origins.get(origin) if self._preemptive else None
        return None if space is None else (url, whole_origins, space, origin, url.raw_path_qs)

    def _answered(
        self, request: ClientRequest, handler: ClientHandlerType, route: _Route
    ) -> Coroutine[Any, Any, ClientResponse] | None:
        """Answer the usual request synchronously and return the coroutine that sends it.

        The usual request: no proxy to answer as well, no body to hash (qop
        auth-int), and a nonce count left. An Answer is built only if the
        response needs one. None for any other request.
        """
        space, uri = route[2], route[4]
        if request.proxy is not None or space.credentials.needs_body:
            return None
        taken = space.take()  # reserves the count synchronously, before any await
        if taken is None:
            return None
        credentials, nc = taken
        cnonce = self._cnonce()
        request.headers[_AUTHORIZATION] = credentials.authorization(
            request.method, uri, nc=nc, cnonce=cnonce
        )
        return self._send(request, handler, route, credentials, nc, cnonce)

    async def _send(
        self,
        request: ClientRequest,
        handler: ClientHandlerType,
        route: _Route,
        credentials: DigestCredentials,
        nc: int,
        cnonce: str,
    ) -> ClientResponse:
        """Send a request answered by ``_answered``; settle what the response asks."""
        response = await handler(request)
        if (
            response.status in CHALLENGE_STATUSES
            or _AUTHENTICATION_INFO in response.headers
            or (self._probing and route[3] in self._probing)
        ):
            _, _, space, origin, uri = route
            answer = Answer(ORIGIN, space, credentials, nc, cnonce, uri)
            return await self._settle(request, handler, origin, [answer], response)
        return response

    def __repr__(self) -> str:
        return redacted_repr(
            self,
            login=repr(self._login),
            password=f"<redacted {self._password_length} chars>",
            preemptive=self._preemptive,
            origins=self.scope.describe(),
        )
