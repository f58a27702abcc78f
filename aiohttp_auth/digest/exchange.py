"""The Digest exchange of one request: answer, send, learn a challenge, retry once (RFC 7616 §3.3).

[`DigestExchange`][] is the part of
[`DigestAuthMiddleware`][aiohttp_auth.digest.middleware.DigestAuthMiddleware]
that runs when a request is not simply answered from a known protection
space: the first requests to an origin (single flight, [`.probes`][]), a
401 or a proxy's 407 to learn and retry once, a body to hash for qop
``auth-int``, and the server's ``Authentication-Info`` to check
([`.mutual`][]).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine
from typing import Any, Final, TypeAlias

from aiohttp import ClientRequest, ClientResponse
from aiohttp.client_middlewares import ClientHandlerType
from yarl import URL

from .._body import read_body
from .._middleware import AuthMiddleware, body_is_replayable
from .._origins import OriginsArg
from .._redact import logger, safe_url
from ..errors import ChallengeError
from .answering import Answerer, Learned
from .answers import ORIGIN, PROXY, Answer
from .mutual import check_infos, infos
from .probes import OriginProbes

__all__ = ["CHALLENGE_STATUSES", "DigestExchange", "OriginKey"]

CHALLENGE_STATUSES: Final = frozenset({ORIGIN.status, PROXY.status})
"""The statuses of a challenge: the origin's (401) and a proxy's (407)."""

OriginKey: TypeAlias = tuple[str, str, int]
"""(scheme, host, port): an [`Origin`][aiohttp_auth._origins.Origin], or a tuple equal to one."""


class DigestExchange(AuthMiddleware):
    """Answer what is known, send, and answer one challenge (RFC 7616 §3.3-§3.5).

    The base of [`DigestAuthMiddleware`][aiohttp_auth.digest.middleware.DigestAuthMiddleware],
    which adds the warm path: a request in a known space answered without a coroutine of
    its own.

    Args:
        login: the username.
        password: the password.
        preemptive: answer requests in a known protection space before any 401.
        cnonce: returns a new client nonce per answer.
        origins: see [`AuthMiddleware`][aiohttp_auth._middleware.AuthMiddleware].
    """

    sends_secret = False

    def __init__(
        self,
        login: str,
        password: str,
        *,
        preemptive: bool,
        cnonce: Callable[[], str],
        origins: OriginsArg,
    ) -> None:
        super().__init__(origins=origins)
        self._preemptive = preemptive
        self._cnonce = cnonce
        self._answerer = Answerer(login, password, cnonce)
        self._spaces = self._answerer.spaces
        self._probes = OriginProbes()
        # Read on every response: a plain dict, empty once first requests are over.
        self._probing = self._probes.pending

    def _probe_or_exchange(
        self, request: ClientRequest, handler: ClientHandlerType, url: URL, origin: OriginKey
    ) -> Coroutine[Any, Any, ClientResponse]:
        if (
            self._preemptive
            and not self._probes.probed(origin)
            and not self._spaces.find(url, origin)
        ):
            return self._probes.run(origin, lambda: self._exchange(request, handler, origin))
        return self._exchange(request, handler, origin)

    async def _exchange(
        self, request: ClientRequest, handler: ClientHandlerType, origin: OriginKey
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
        origin: OriginKey,
        answers: list[Answer],
        response: ClientResponse,
    ) -> ClientResponse:
        """Learn the response's challenge and retry once, or check its ``Authentication-Info``."""
        learned = None
        # Only a 401, or a 407 from a proxy, can carry a challenge to learn:
        # checking the status here spares every other response a call.
        if response.status in CHALLENGE_STATUSES:
            try:
                learned = self._learn(request, response)
            except ChallengeError:
                response.release()
                raise
        if origin in self._probing:
            self._probes.end(origin)
        if learned is None:
            if found := infos(response, answers):
                await check_infos(response, found)
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
                "qop auth-int needs the body, which aiohttp < 3.12.1 cannot read before sending"
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
            if found := infos(retried, answers):
                await check_infos(retried, found)
        return retried

    def _learn(self, request: ClientRequest, response: ClientResponse) -> Learned | None:
        """Record the challenge of a 401, or of a 407 from the proxy (RFC 7616 §3.3, §3.8).

        Raises:
            ChallengeError: nothing can be answered and a Digest challenge was malformed.
        """
        status = response.status
        proxy = request.proxy if status == 407 and not request.is_ssl() else None
        if status != 401 and proxy is None:
            return None
        channel = ORIGIN if proxy is None else PROXY
        lines = response.headers.getall(channel.challenge, ())
        space = self._answerer.learn(channel, lines, request.url, proxy, self.scope.admits)
        return None if space is None else (channel, space)

    def _answer(
        self, request: ClientRequest, learned: Learned | None = None
    ) -> tuple[list[Answer], bool]:
        """Answer every space that covers *request*, and *learned* (RFC 7616 §3.4).

        Synchronous, so that a request needing no body costs no coroutine. If
        an answer covers the body (qop ``auth-int``), no header is set here:
        ``_answer_with_body`` reads the body and sets them all.

        Returns:
            The answers, and whether their headers still need the body.
        """
        # Through a CONNECT tunnel the request reaches the origin, not the proxy.
        proxy = None if request.proxy is None or request.is_ssl() else request.proxy
        answers = self._answerer.answers(request.url, proxy, learned)
        needs_body = any(answer.credentials.needs_body for answer in answers)
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
        read = await read_body(request)
        if read is None:
            answers = [answer for answer in answers if not answer.credentials.needs_body]
        body = read or b""
        for answer in answers:
            request.headers[answer.channel.answer] = answer.header(request.method, body)
        return answers
