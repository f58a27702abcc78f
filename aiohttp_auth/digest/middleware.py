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
  the others wait (at most [`PROBE_TIMEOUT`][] seconds) for its challenge
  and then go out with credentials. Later bursts to a *new* space of a known
  origin are not held back: each may draw a 401, answered once.
* **Streaming bodies** are never resent empty: a 401 to a consumed stream is
  returned (and logged). In a known space the first send already carries the
  answer, so a streaming upload succeeds in one request.
* **qop auth-int** hashes the body through ``await request.body.as_bytes()``
  (aiohttp >= 3.12.1), which buffers a stream; ``auth`` is preferred when
  offered. On aiohttp 3.12.0 an auth-int-only challenge to a request with a
  body is returned unanswered, with a warning. With auth-int, checking the
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

import asyncio
import contextlib
import os
import re
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping
from typing import Any, Final, TypeAlias

from aiohttp import ClientRequest, ClientResponse, hdrs
from aiohttp.client_middlewares import ClientHandlerType
from aiohttp.payload import Payload
from multidict import istr
from yarl import URL

from .._middleware import AuthMiddleware, body_is_replayable
from .._origins import Origin, OriginsArg
from .._redact import logger, redacted_repr, safe_url
from ..errors import ChallengeError, ConfigurationError
from .answers import ORIGIN, PROXY, Answer, Channel, choose_challenge
from .credentials import DigestCredentials
from .protocol import make_cnonce, parse_authentication_info
from .spaces import ProtectionSpace, ProtectionSpaces, space_prefixes

__all__ = ["CNONCE_BYTES", "PROBE_TIMEOUT", "DigestAuthMiddleware"]

CNONCE_BYTES: Final = 16
"""Random bytes in one client nonce (RFC 7616 §3.4 ``cnonce``)."""
PROBE_TIMEOUT: Final = 1.0
"""Seconds that concurrent first requests to an origin wait for the first
one's challenge before going out without credentials.
"""
# Control characters in a login are a mistake (a newline read from a file).
_CONTROL: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# The statuses of a challenge: the origin's (401) and a proxy's (407).
_CHALLENGE_STATUSES: Final = frozenset({ORIGIN.status, PROXY.status})

# (scheme, host, port): an Origin, or a plain tuple equal to one.
_OriginKey: TypeAlias = tuple[str, str, int]
# What answering a URL in a known whole-origin space takes: the URL, the spaces
# index it was found in (the route holds while that index does), the space, the
# origin and the request-target (RFC 9112 §3.2.1 origin-form).
_Route: TypeAlias = tuple[
    URL, Mapping[_OriginKey, ProtectionSpace], ProtectionSpace, _OriginKey, str
]
# The origin's header names as istr: multidict finds them without case-folding.
_AUTHORIZATION: Final = hdrs.AUTHORIZATION
_AUTHENTICATION_INFO: Final = istr(ORIGIN.info)
# Client nonces drawn from one os.urandom call: one system call per this many requests.
_CNONCE_BATCH: Final = 256


class _ClientNonces:
    """Client nonces from ``os.urandom``, drawn in batches (RFC 7616 §3.4 ``cnonce``).

    Each is ``make_cnonce(os.urandom(CNONCE_BYTES))`` in distribution, but one
    system call serves many requests. Handing out from a list iterator is one
    step under the GIL, so threads sharing a middleware never get the same
    nonce; a forked child forgets the batch its parent also holds.
    """

    __slots__ = ("_batch",)

    def __init__(self) -> None:
        self._batch: Iterator[str] = iter(())

    def draw(self) -> str:
        """Return a new client nonce: ``2 * CNONCE_BYTES`` hexadecimal digits."""
        cnonce = next(self._batch, None)
        if cnonce is None:
            # Hexadecimal with a space after every CNONCE_BYTES bytes, split: all in C.
            drawn = os.urandom(CNONCE_BYTES * _CNONCE_BATCH).hex(" ", CNONCE_BYTES)
            self._batch = batch = iter(drawn.split(" "))
            cnonce = next(batch)
        return cnonce

    def forget(self) -> None:
        """Drop the current batch (after a fork, the parent has it too)."""
        self._batch = iter(())


_client_nonces: Final = _ClientNonces()
if hasattr(os, "register_at_fork"):  # pragma: no branch - not on Windows, which cannot fork
    os.register_at_fork(after_in_child=_client_nonces.forget)


async def _body_bytes(request: ClientRequest) -> bytes | None:
    """The request body to hash for qop ``auth-int``, or None if it cannot be read."""
    body = request.body
    if not isinstance(body, Payload):
        return bytes(body)
    # as_bytes() buffers a streaming body, which also makes it replayable.
    as_bytes = getattr(body, "as_bytes", None)
    return None if as_bytes is None else bytes(await as_bytes())  # None: aiohttp 3.12.0


def _infos(response: ClientResponse, answers: list[Answer]) -> list[tuple[Answer, list[str]]]:
    """Pair each answer with the ``Authentication-Info`` values the response has for it.

    Most responses have none: checking for the header here spares them the
    coroutine of ``DigestAuthMiddleware._check_info``.
    """
    headers = response.headers
    found = []
    for answer in answers:
        if answer.channel.info in headers:
            found.append((answer, headers.getall(answer.channel.info)))
    return found


class DigestAuthMiddleware(AuthMiddleware):
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
            for the first one's challenge (at most [`PROBE_TIMEOUT`][]).
        origins: see [`AuthMiddleware`][aiohttp_auth._middleware.AuthMiddleware].
        random_bytes: for tests only: ``random_bytes(n)`` supplies each client
            nonce's randomness instead of ``os.urandom`` (what
            ``secrets.token_bytes`` returns). With the default, the random
            bytes of many client nonces are drawn in one call.

    Raises:
        ConfigurationError: the login is empty or has control characters, or an
            argument has the wrong type.
    """

    sends_secret = False

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
        super().__init__(origins=origins)
        self._login, self._password_length = login, len(password)
        self._preemptive = preemptive
        self._cnonce: Callable[[], str] = (
            _client_nonces.draw
            if random_bytes is os.urandom
            else lambda: make_cnonce(random_bytes(CNONCE_BYTES))
        )
        self._spaces = ProtectionSpaces(login, password)
        self._proxy_spaces = ProtectionSpaces(login, password)
        self._probes: dict[_OriginKey, asyncio.Event] = {}
        self._probed: set[_OriginKey] = set()
        self._probe_timeout = PROBE_TIMEOUT
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

    def _route_for(self, url: URL, origin: _OriginKey) -> _Route | None:
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

    def _probe_or_exchange(
        self, request: ClientRequest, handler: ClientHandlerType, url: URL, origin: _OriginKey
    ) -> Coroutine[Any, Any, ClientResponse]:
        if self._preemptive and origin not in self._probed and not self._spaces.find(url, origin):
            return self._probe(request, handler, origin)
        return self._exchange(request, handler, origin)

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
            response.status in _CHALLENGE_STATUSES
            or _AUTHENTICATION_INFO in response.headers
            or (self._probes and route[3] in self._probes)
        ):
            _, _, space, origin, uri = route
            answer = Answer(ORIGIN, space, credentials, nc, cnonce, uri)
            return await self._settle(request, handler, origin, [answer], response)
        return response

    async def _probe(
        self, request: ClientRequest, handler: ClientHandlerType, origin: _OriginKey
    ) -> ClientResponse:
        """Send a request to an origin not challenged yet (RFC 7616 §3.3)."""
        # Single flight: the first request to an origin learns its challenge,
        # and concurrent ones wait for it instead of each drawing a 401.
        probe = self._probes.get(origin)
        if probe is None:
            self._probes[origin] = asyncio.Event()
            try:
                return await self._exchange(request, handler, origin)
            finally:
                self._end_probe(origin)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(probe.wait(), self._probe_timeout)
        return await self._exchange(request, handler, origin)

    def _end_probe(self, origin: _OriginKey) -> None:
        self._probed.add(origin)
        probe = self._probes.pop(origin, None)
        if probe is not None:
            probe.set()

    async def _exchange(
        self, request: ClientRequest, handler: ClientHandlerType, origin: _OriginKey
    ) -> ClientResponse:
        answers, needs_body = self._answer(request) if self._preemptive else ([], False)
        if needs_body:
            answers = await self._answer_with_body(request, answers)
        response = await handler(request)
        return await self._settle(request, handler, origin, answers, response)

    async def _settle(
        self,
        request: ClientRequest,
        handler: ClientHandlerType,
        origin: _OriginKey,
        answers: list[Answer],
        response: ClientResponse,
    ) -> ClientResponse:
        """Learn the response's challenge and retry once, or check its ``Authentication-Info``."""
        learned = None
        # Only a 401, or a 407 from a proxy, can carry a challenge to learn:
        # checking the status here spares every other response a call.
        if response.status in _CHALLENGE_STATUSES:
            try:
                learned = self._learn(request, response)
            except ChallengeError:
                response.release()
                raise
        if origin in self._probes:
            self._end_probe(origin)
        if learned is None:
            if infos := _infos(response, answers):
                await self._check_info(response, infos)
            return response
        if not body_is_replayable(request):
            return await self.retry_once(request, handler, response)  # gives the 401 back
        answers, needs_body = self._answer(request, learned)
        if needs_body:
            answers = await self._answer_with_body(request, answers)
        if not any(answer.space is learned[1] for answer in answers):
            logger.warning(
                "DigestAuthMiddleware: cannot answer the challenge from %s: %s; returning the %d",
                safe_url(request.url),
                "qop auth-int needs the body, which aiohttp < 3.12.1 cannot read"
                if learned[1].credentials.needs_body
                else "its nonce has used every nonce count",
                response.status,
            )
            return response
        retried = await self.retry_once(request, handler, response)
        if retried is not response:
            # A challenge to the retry (the origin's, after the proxy's was answered;
            # or a wrong password) is not answered again, but the next request is.
            with contextlib.suppress(ChallengeError):
                self._learn(request, retried)
            if infos := _infos(retried, answers):
                await self._check_info(retried, infos)
        return retried

    def _learn(
        self, request: ClientRequest, response: ClientResponse
    ) -> tuple[Channel, ProtectionSpace] | None:
        """Record the challenge of a 401, or of a 407 from the proxy (RFC 7616 §3.3, §3.8).

        Raises:
            ChallengeError: nothing can be answered and a Digest challenge was malformed.
        """
        status = response.status
        proxy = request.proxy if status == 407 and not request.is_ssl() else None
        if status != 401 and proxy is None:
            return None
        channel = ORIGIN if proxy is None else PROXY
        challenge, problems = choose_challenge(response.headers.getall(channel.challenge, ()))
        if challenge is None:
            if problems:
                raise ChallengeError(
                    f"{safe_url(response.url)} answered {status} without a usable Digest "
                    f"challenge: {'; '.join(problems)}"
                )
            return None
        if proxy is None:
            prefixes = space_prefixes(challenge.domain, request.url, self.scope.admits)
            space = self._spaces.learn(challenge, prefixes)
        else:  # RFC 7616 §3.3: a proxy's protection space is the whole proxy.
            space = self._proxy_spaces.learn(challenge, ((Origin.of(proxy), ""),))
        logger.debug(
            "DigestAuthMiddleware: %s challenge for realm %r from %s (stale=%s)",
            space.credentials.algorithm.name,
            challenge.realm,
            safe_url(request.url),
            challenge.stale,
        )
        return channel, space

    def _answer(
        self, request: ClientRequest, learned: tuple[Channel, ProtectionSpace] | None = None
    ) -> tuple[list[Answer], bool]:
        """Answer every space that covers *request*, and *learned* (RFC 7616 §3.4).

        Synchronous, so that a request needing no body costs no coroutine. If
        an answer covers the body (qop ``auth-int``), no header is set here:
        ``_answer_with_body`` reads the body and sets them all.

        Returns:
            The answers, and whether their headers still need the body.
        """
        url = request.url
        origin_space, proxy_space = self._spaces.find(url), None
        if request.proxy is not None and not request.is_ssl():
            # Through a CONNECT tunnel the request reaches the origin, not the proxy.
            proxy_space = self._proxy_spaces.find(request.proxy)
        if learned is not None:
            if learned[0] is PROXY:
                proxy_space = learned[1]
            else:
                origin_space = learned[1]
        answers: list[Answer] = []
        needs_body = False
        for channel, space in ((ORIGIN, origin_space), (PROXY, proxy_space)):
            # take() reserves the count synchronously, before any await.
            if space is not None and (taken := space.take()) is not None:
                cnonce = self._cnonce()
                # The request-target each receives (RFC 9112 §3.2): aiohttp sends a proxy
                # the absolute-form, and a proxy forwards the origin-form to the origin.
                uri = str(url) if channel is PROXY else url.raw_path_qs
                credentials, nc = taken
                answers.append(Answer(channel, space, credentials, nc, cnonce, uri))
                needs_body = needs_body or credentials.needs_body
        if not needs_body:
            for answer in answers:
                request.headers[answer.channel.answer] = answer.header(request.method)
        return answers, needs_body

    async def _answer_with_body(
        self, request: ClientRequest, answers: list[Answer]
    ) -> list[Answer]:
        """Set the headers of *answers*, one of which covers the body (qop ``auth-int``).

        Answers that cover the body are dropped if it cannot be read (aiohttp 3.12.0).
        """
        read = await _body_bytes(request)
        if read is None:
            answers = [answer for answer in answers if not answer.credentials.needs_body]
        body = read or b""
        for answer in answers:
            request.headers[answer.channel.answer] = answer.header(request.method, body)
        return answers

    async def _check_info(
        self, response: ClientResponse, infos: list[tuple[Answer, list[str]]]
    ) -> None:
        """Check ``rspauth`` and take ``nextnonce`` from ``Authentication-Info`` (RFC 7616 §3.5).

        Args:
            response: the response that carried the headers.
            infos: each answer with the values of its ``Authentication-Info`` header
                (see ``_infos``).

        Raises:
            ChallengeError: ``rspauth`` does not match (the response is released first).
        """
        for answer, values in infos:
            try:
                info = parse_authentication_info(values)
            except ChallengeError as error:
                logger.warning("DigestAuthMiddleware: ignoring %s: %s", answer.channel.info, error)
                continue
            # For qop auth-int, rspauth covers the response body (RFC 7616 §3.5).
            body = await response.read() if info.rspauth and answer.credentials.needs_body else b""
            if not answer.accept(info, body):
                message = (
                    f"Mutual authentication failed: the rspauth in {answer.channel.info} from "
                    f"{safe_url(response.url)} does not match the credentials for realm "
                    f"{answer.space.realm!r} (RFC 7616 §3.5): the server does not know "
                    "them, or something altered the response"
                )
                logger.warning("DigestAuthMiddleware: %s", message)
                response.release()
                raise ChallengeError(message)

    def __repr__(self) -> str:
        return redacted_repr(
            self,
            login=repr(self._login),
            password=f"<redacted {self._password_length} chars>",
            preemptive=self._preemptive,
            origins=self.scope.describe(),
        )
