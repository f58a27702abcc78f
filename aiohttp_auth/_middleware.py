"""The machinery every middleware shares: scope, transport policy, retry, sub-requests.

A middleware of this package is an [`AuthMiddleware`][]: a callable object
that aiohttp calls as ``await middleware(request, handler)`` on **every hop**
of a request, redirects included. The base class decides, before anything
else, whether this hop may carry credentials at all:

1. the request's origin must be admitted by the [`OriginScope`][aiohttp_auth._origins.OriginScope]
   (``origins=``); any other origin passes through untouched;
2. a secret must not travel over plain ``http://`` to a non-loopback host
   ([`InsecureTransportError`][aiohttp_auth.errors.InsecureTransportError])
   unless ``allow_http=True``.

Only then does it call the subclass's [`AuthMiddleware.authenticate`][],
which adapts aiohttp to the sans-IO protocol code. Subclasses that must send a
request again (a Digest challenge, an expired OAuth 2 token) use
[`AuthMiddleware.retry_once`][]; sub-requests (token endpoints, discovery)
use [`subrequest`][], which can never re-enter a middleware.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable
from typing import Any, Final, Literal

from aiohttp import ClientRequest, ClientResponse, ClientSession, hdrs
from aiohttp.client import _RequestContextManager
from aiohttp.client_middlewares import ClientHandlerType
from aiohttp.payload import AsyncIterablePayload, IOBasePayload, Payload
from yarl import URL

from ._origins import Origin, OriginsArg, OriginScope, is_secure_transport
from ._redact import logger, safe_url
from .errors import BodyNotReplayableError, ConfigurationError, InsecureTransportError

__all__ = [
    "MAX_RETRIES",
    "AuthMiddleware",
    "body_is_replayable",
    "read_limited",
    "set_default_content_type",
    "subrequest",
]

MAX_RETRIES: Final = 1
"""How often one middleware may resend one hop of a request."""

# Set on a ClientRequest by retry_once: which middlewares already resent it.
_RETRIED_ATTR: Final = "_aiohttp_auth_retried"

# Payloads aiohttp 3.12.0 can send only once (3.12.1 made the others reusable).
_SENT_ONCE_ON_3_12_0: Final = (AsyncIterablePayload, IOBasePayload)


def body_is_replayable(request: ClientRequest) -> bool:
    """Tell whether *request*'s body can be sent again intact.

    bytes, str, JSON, form data and files are resent intact by aiohttp (3.12.1
    and later); a streaming body (an async generator) is sent once and then
    goes out empty, unless it was buffered with ``await request.body.as_bytes()``
    first.
    """
    body = request.body
    if not isinstance(body, Payload):
        return True  # b"": no body at all
    consumed = getattr(body, "consumed", None)
    if consumed is not None:
        return not consumed
    # aiohttp 3.12.0 has no `consumed`: a streaming payload is gone once sent,
    # and a file or BytesIO payload is closed after its first write, so a resend
    # fails with "I/O operation on closed file".
    return not isinstance(body, _SENT_ONCE_ON_3_12_0)  # pragma: no cover - aiohttp 3.12.0


def set_default_content_type(request: ClientRequest) -> None:
    """Set the ``Content-Type`` aiohttp would add to *request* only after middlewares run.

    ``ClientRequest.send()`` gives a POST, PUT or PATCH without one
    ``application/octet-stream`` (unless ``skip_auto_headers`` names it). A
    middleware that signs the headers must set it first, or the server sees
    a header the signature does not cover.
    """
    if request.method not in ClientRequest.POST_METHODS or hdrs.CONTENT_TYPE in request.headers:
        return
    skipped = getattr(request, "_skip_auto_headers", None)
    if skipped is None or hdrs.CONTENT_TYPE not in skipped:
        request.headers[hdrs.CONTENT_TYPE] = "application/octet-stream"


def subrequest(
    session: ClientSession, method: str, url: str | URL, **kwargs: Any
) -> _RequestContextManager:
    """Send a request through *session* that no middleware sees.

    This is the recursion guard for token endpoints and discovery documents:
    ``middlewares=()`` disables the session's middlewares for this request
    only, so a middleware can call the very session it is installed on (from
    ``request.session``) without re-entering itself or deadlocking on its own
    lock, while reusing the session's connector, TLS settings, proxy, cookies
    and timeouts. Redirects are not followed unless asked for: a 307/308 would
    resend a body holding client secrets to wherever ``Location`` points.

    Use it as ``async with subrequest(request.session, "POST", url, data=...) as resp:``.
    """
    kwargs.setdefault("allow_redirects", False)
    return session.request(method, url, middlewares=(), **kwargs)


async def read_limited(response: ClientResponse, limit: int) -> bytes | None:
    """Read the body of a sub-request's *response*, or None once it passes *limit* bytes.

    Token, revocation and discovery endpoints answer a few hundred bytes; a
    server sending megabytes is broken or hostile, so reading stops at the
    announced length or as soon as the received bytes pass *limit*.
    """
    if (response.content_length or 0) > limit:
        return None
    body = bytearray()
    async for chunk in response.content.iter_chunked(1 << 16):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _keep_cookies(request: ClientRequest, response: ClientResponse) -> None:
    """Store the cookies a response asking for a retry sets, and send them with the retry.

    aiohttp stores cookies only from the last response of each hop, so those set
    on a 401 (a load balancer's affinity cookie that keeps the retry on the
    server that issued a Digest nonce or knows a session) would otherwise be
    lost. The session's jar decides, as for any response, which it keeps.
    """
    if response.cookies:
        jar = request.session.cookie_jar
        jar.update_cookies(response.cookies, response.url)
        request.update_cookies(jar.filter_cookies(request.url))


class AuthMiddleware(abc.ABC):
    """Base class of every aiohttp_auth middleware.

    Args:
        origins: where the credentials may go. ``None`` binds the middleware to
            the origin of the first request it authenticates; otherwise one or
            more origins (``"https://api.example.com"``) or URL prefixes
            (``"https://example.com/api/"``). Requests elsewhere pass untouched.
        allow_http: send secrets over plain ``http://`` to non-loopback hosts
            too. Off by default: anyone on the path could read them.
    """

    sends_secret: bool = True
    """Whether what this middleware adds is itself a secret (a token, a
    password). Signatures are not: a signing middleware sets this to False.
    """

    def __init__(self, *, origins: OriginsArg = None, allow_http: bool = False) -> None:
        if not isinstance(allow_http, bool):
            raise ConfigurationError(f"allow_http: expected True or False, got {allow_http!r}")
        self._scope = OriginScope(origins)
        self._allow_http = allow_http
        # Origins already checked against the transport policy (bounded: only
        # admitted origins get here).
        self._transport_ok: set[Origin] = set()
        # (scheme, host, port) of origins admitted as a whole and cleared by the
        # transport check: the per-request fast path skips both checks for them.
        self._cleared: set[tuple[str, str | None, int | None]] = set()

    @property
    def scope(self) -> OriginScope:
        """The origins this middleware sends credentials to."""
        return self._scope

    def __call__(
        self, request: ClientRequest, handler: ClientHandlerType
    ) -> Awaitable[ClientResponse]:
        """Authenticate *request* if its origin is in scope; otherwise pass it on.

        A coroutine function in effect (aiohttp awaits what it returns): for an
        origin already admitted as a whole and cleared, it returns
        ``authenticate``'s coroutine directly, sparing every such request a
        coroutine layer of the base class.
        """
        url = request.url
        if (url.scheme, url.raw_host, url.port) in self._cleared:
            return self.authenticate(request, handler)
        return self._admit(request, handler)

    async def _admit(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        """Check scope and transport for an origin not cleared yet, then authenticate."""
        url = request.url
        if not self._scope.admits(url):
            logger.debug(
                "%s: %s is outside its origins; sending no credentials",
                type(self).__name__,
                safe_url(url),
            )
            return await handler(request)
        self._check_transport(url)
        if self._scope.unbound:
            origin = self._scope.bind(url)
            logger.debug("%s: bound to origin %s", type(self).__name__, origin)
        if self._scope.admits_whole_origin(url):
            # Never for URL prefixes: their path must be checked on every request.
            self._cleared.add((url.scheme, url.raw_host, url.port))
        return await self.authenticate(request, handler)

    def _check_transport(self, url: URL) -> None:
        origin = Origin(url.scheme, url.raw_host or "", url.port or 0)
        if origin in self._transport_ok:
            return
        if self.sends_secret and not self._allow_http and not is_secure_transport(url):
            raise InsecureTransportError(
                f"{type(self).__name__} refuses to send a secret over plain http to "
                f"{origin}: use https, or pass allow_http=True if the network path "
                "is trusted",
                url=safe_url(url),
            )
        self._transport_ok.add(origin)

    @abc.abstractmethod
    async def authenticate(
        self, request: ClientRequest, handler: ClientHandlerType
    ) -> ClientResponse:
        """Add credentials to *request*, send it with *handler* and return the response.

        Called only for requests in scope over an acceptable transport.
        """

    async def retry_once(
        self,
        request: ClientRequest,
        handler: ClientHandlerType,
        response: ClientResponse,
        *,
        if_consumed: Literal["return", "raise"] = "return",
    ) -> ClientResponse:
        """Send *request* again after *response*, at most once per middleware and hop.

        Update the request's headers before calling this. The first response
        is released (so its connection returns to the pool) before the resend.

        Args:
            request: the request to resend, already updated.
            handler: the next handler in aiohttp's chain.
            response: the response that asked for the retry.
            if_consumed: what to do when the body is a consumed stream that
                would go out empty: ``"return"`` gives *response* back to the
                caller unreleased, ``"raise"`` raises
                [`BodyNotReplayableError`][aiohttp_auth.errors.BodyNotReplayableError].

        Returns:
            The response to the resent request, or *response* when no resend is
            possible (already retried, or a consumed body with ``"return"``).
        """
        retried: set[int] = getattr(request, _RETRIED_ATTR, None) or set()
        name = type(self).__name__
        if id(self) in retried:
            logger.debug("%s: %s already retried once; not again", name, safe_url(request.url))
            return response
        if not body_is_replayable(request):
            message = (
                f"{name}: the request to {safe_url(request.url)} got status "
                f"{response.status} and its streaming body was already sent, so it "
                "cannot be retried; send bytes or a file, or authenticate preemptively"
            )
            if if_consumed == "raise":
                response.release()
                raise BodyNotReplayableError(message)
            logger.warning("%s", message)
            return response
        retried.add(id(self))
        setattr(request, _RETRIED_ATTR, retried)
        _keep_cookies(request, response)
        response.release()
        logger.debug("%s: retrying %s once", name, safe_url(request.url))
        return await handler(request)
