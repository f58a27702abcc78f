"""The middleware that sets the headers a function of yours computes from each request.

[`HMACHeadersMiddleware`][] calls your function with a [`SignableRequest`][]
(the method, path, query, the body exactly as sent and the time) and sets the
headers it returns, on every hop to the admitted origins. The function usually
signs some of those parts with an
[`HMACSigner`][aiohttp_auth.signing.hmac_fields.HMACSigner], as the APIs
described in [`aiohttp_auth.signing.hmac_fields`][] want.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from aiohttp import ClientRequest, ClientResponse
from aiohttp.client_middlewares import ClientHandlerType
from multidict import CIMultiDict, CIMultiDictProxy

from .._middleware import AuthMiddleware
from .._origins import OriginsArg
from .._redact import redacted_repr, safe_url
from ..errors import ConfigurationError, SigningError
from ._body import body_to_sign

__all__ = ["HMACHeadersMiddleware", "HeadersFunction", "SignableRequest"]

_TOKEN_RE: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
# What aiohttp can send in a header value without it being read differently.
_VALUE_RE: Final = re.compile(r"[\t\x20-\x7e\x80-\U0010ffff]*\Z")

_NO_HEADERS: Final[CIMultiDictProxy[str]] = CIMultiDictProxy(CIMultiDict())


@dataclass(frozen=True)
class SignableRequest:
    """The parts of a request a headers function may sign.

    Attributes:
        method: the HTTP method, upper case (``"POST"``).
        path: the path as sent, percent-encoded (``"/api/v3/orders"``).
        query: the query string as sent, without ``?`` (``""`` for none).
        body: the body exactly as sent (``b""`` for none).
        timestamp: the time of signing, in epoch seconds (a float: format it
            as the API wants, e.g. ``str(int(request.timestamp))``).
        headers: the request's headers so far (read-only).
    """

    method: str
    path: str
    query: str = ""
    body: bytes = b""
    timestamp: float = 0.0
    headers: Mapping[str, str] = field(default_factory=lambda: _NO_HEADERS, repr=False)

    @property
    def path_qs(self) -> str:
        """The path and, when there is one, ``?`` and the query: ``/orders?limit=5``."""
        return f"{self.path}?{self.query}" if self.query else self.path


HeadersFunction = Callable[[SignableRequest], Mapping[str, str]]
"""A function from a request's parts to the headers that authenticate it."""


class HMACHeadersMiddleware(AuthMiddleware):
    """Set the headers a function of yours computes from each request's parts.

    The function receives a [`SignableRequest`][] (method, path, query, the
    body exactly as sent, the time) and returns the headers to set, usually a
    key id, a timestamp and an
    [`HMACSigner`][aiohttp_auth.signing.hmac_fields.HMACSigner] MAC. It runs
    for every hop to an admitted origin, so a redirect within them is signed
    for its new URL and one elsewhere carries nothing.

    The body is read through aiohttp's replayable payload (``as_bytes()``), so
    a streaming body is buffered once and then sent as signed.

    Args:
        headers_for: the function that computes the headers.
        origins: see [`AuthMiddleware`][aiohttp_auth._middleware.AuthMiddleware].
        allow_http: send the headers over plain http to non-loopback hosts
            (they usually carry an API key in clear).
        clock: the clock, in epoch seconds.

    Raises:
        ConfigurationError: *headers_for* is not callable.
    """

    def __init__(
        self,
        headers_for: HeadersFunction,
        *,
        origins: OriginsArg = None,
        allow_http: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not callable(headers_for):
            raise ConfigurationError(
                f"headers_for must be a function of a SignableRequest, got {headers_for!r}"
            )
        super().__init__(origins=origins, allow_http=allow_http)
        self._headers_for = headers_for
        self._clock = clock

    def __repr__(self) -> str:
        name = getattr(self._headers_for, "__qualname__", type(self._headers_for).__name__)
        return redacted_repr(self, headers_for=name, origins=self.scope)

    async def authenticate(
        self, request: ClientRequest, handler: ClientHandlerType
    ) -> ClientResponse:
        """Compute the headers for *request*, set them and send it."""
        url = request.url
        signable = SignableRequest(
            method=request.method,
            path=url.raw_path,
            query=url.raw_query_string,
            body=await body_to_sign(request),
            timestamp=self._clock(),
            headers=CIMultiDictProxy(request.headers),
        )
        computed = self._headers_for(signable)
        for name, value in _checked_headers(computed, request):
            request.headers[name] = value
        return await handler(request)


def _checked_headers(computed: object, request: ClientRequest) -> list[tuple[str, str]]:
    """Check what the headers function returned; never show a value (it may be a key)."""
    if not isinstance(computed, Mapping):
        raise SigningError(
            f"the headers function returned a {type(computed).__name__} for "
            f"{safe_url(request.url)}: return a dict of header names to str values"
        )
    checked = []
    for name, value in computed.items():
        if not isinstance(name, str) or _TOKEN_RE.match(name) is None:
            raise SigningError(f"the headers function returned an invalid header name {name!r}")
        if not isinstance(value, str) or _VALUE_RE.match(value) is None:
            raise SigningError(
                f"the headers function returned a {type(value).__name__} for {name}: header "
                "values must be str without line breaks or control characters"
            )
        checked.append((name, value))
    return checked
