"""Sign "these fields with this key": the HMAC scheme of many exchange and webhook APIs.

Many APIs authenticate a request with an HMAC over a few of its parts joined
together, e.g. ``timestamp + method + path + body``, sent in headers of their
own naming. Each differs in the fields, their order and separator, the hash,
and whether the MAC goes out as hex or base64. [`HMACSigner`][] computes the
MAC of any such list of fields; [`HMACHeadersMiddleware`][] calls a function of
yours with the request's parts (the body exactly as sent) and sets the headers
it returns, on every hop to the admitted origins.

    signer = HMACSigner(secret, encoding="base64")

    def sign(request: SignableRequest) -> dict[str, str]:
        timestamp = str(int(request.timestamp))
        mac = signer.sign(timestamp, request.method, request.path, request.body)
        return {"X-Timestamp": timestamp, "X-Signature": mac}

    middleware = HMACHeadersMiddleware(sign, origins="https://api.example.com")
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from aiohttp import ClientRequest, ClientResponse
from aiohttp.client_middlewares import ClientHandlerType
from multidict import CIMultiDict, CIMultiDictProxy

from .._middleware import AuthMiddleware
from .._origins import OriginsArg
from .._redact import redacted, redacted_repr, safe_url
from ..errors import ConfigurationError, SigningError
from ._body import body_to_sign

__all__ = [
    "HMACHeadersMiddleware",
    "HMACSigner",
    "HeadersFunction",
    "SignableRequest",
    "SignedField",
]

SignedField = str | bytes | int
"""A field to sign: text (encoded as UTF-8), bytes as they are, or an integer in decimal."""

_ENCODINGS: Final = frozenset({"hex", "base64"})
_TOKEN_RE: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
# What aiohttp can send in a header value without it being read differently.
_VALUE_RE: Final = re.compile(r"[\t\x20-\x7e\x80-\U0010ffff]*\Z")


def _field_bytes(position: int, value: SignedField) -> bytes:
    # bool is an int, but True signed as "True" or "1" is a guess, not a rule.
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value).encode()
    raise SigningError(
        f"field {position} is a {type(value).__name__}: pass str, bytes or int, formatted "
        "as the API documents it (a float timestamp, for one, has several spellings)"
    )


class HMACSigner:
    """Compute the HMAC (RFC 2104) of fields joined by a separator.

    Args:
        key: the secret key: bytes, or a str encoded as UTF-8. A key the API
            hands out in base64 is decoded with [`from_base64`][].
        digest: a hash that ``hashlib`` provides: ``"sha256"`` (the usual),
            ``"sha512"``, ``"sha384"``, ``"sha1"``...
        encoding: how [`sign`][] writes the MAC: ``"hex"`` (lower case) or
            ``"base64"`` (standard alphabet, padded).

    Raises:
        ConfigurationError: an empty or mistyped key, an unknown digest or
            encoding.
    """

    __slots__ = ("_digest", "_encoding", "_key_length", "_mac", "_unit")

    def __init__(
        self,
        key: bytes | str,
        *,
        digest: str = "sha256",
        encoding: Literal["hex", "base64"] = "hex",
    ) -> None:
        if isinstance(key, str):
            key_bytes, self._unit = key.encode(), "chars"
        elif isinstance(key, bytes):
            key_bytes, self._unit = key, "bytes"
        else:
            raise ConfigurationError(f"key must be bytes or str, got {type(key).__name__}")
        if not key_bytes:
            raise ConfigurationError("key is empty: pass the API secret")
        if encoding not in _ENCODINGS:
            raise ConfigurationError(f"encoding must be 'hex' or 'base64', got {encoding!r}")
        mac = None
        if isinstance(digest, str):
            with contextlib.suppress(ValueError):  # unknown, or disabled (FIPS)
                mac = hmac.new(key_bytes, digestmod=digest)
        if mac is None:
            raise ConfigurationError(
                f"digest {digest!r} is not a hash this Python provides: use 'sha256', "
                "'sha512', 'sha384' or 'sha1'"
            )
        self._mac = mac
        self._key_length = len(key)
        self._digest = digest
        self._encoding = encoding

    @classmethod
    def from_base64(
        cls,
        key: str,
        *,
        digest: str = "sha256",
        encoding: Literal["hex", "base64"] = "hex",
    ) -> HMACSigner:
        """Build a signer from a base64 key (Kraken's and Coinbase Exchange's secrets).

        Raises:
            ConfigurationError: *key* is not valid base64 (the message does not
                show it).
        """
        try:
            decoded = base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError, TypeError):
            shown = redacted(key) if isinstance(key, (str, bytes)) else type(key).__name__
            raise ConfigurationError(
                f"key ({shown}) is not valid base64: pass it as the API shows it, or "
                "build HMACSigner(key) if the API uses the key as text"
            ) from None
        return cls(decoded, digest=digest, encoding=encoding)

    @property
    def digest_name(self) -> str:
        """The hash, e.g. ``"sha256"``."""
        return self._digest

    @property
    def encoding(self) -> str:
        """How [`sign`][] writes the MAC: ``"hex"`` or ``"base64"``."""
        return self._encoding

    def __repr__(self) -> str:
        return redacted_repr(
            self,
            key=f"<redacted {self._key_length} {self._unit}>",
            digest=repr(self._digest),
            encoding=repr(self._encoding),
        )

    def digest(self, *fields: SignedField, sep: str | bytes = "") -> bytes:
        """Return the raw MAC of *fields* joined by *sep*.

        Raises:
            SigningError: a field is not str, bytes or int.
        """
        separator = sep.encode() if isinstance(sep, str) else sep
        message = separator.join(
            _field_bytes(position, value) for position, value in enumerate(fields)
        )
        mac = self._mac.copy()
        mac.update(message)
        return mac.digest()

    def sign(self, *fields: SignedField, sep: str | bytes = "") -> str:
        """Return the MAC of *fields* joined by *sep*, as hex or base64.

        ``sign(timestamp, "POST", "/orders", body)`` signs the four fields
        concatenated; ``sign(a, b, sep="&")`` puts ``&`` between them.

        Raises:
            SigningError: a field is not str, bytes or int.
        """
        raw = self.digest(*fields, sep=sep)
        if self._encoding == "hex":
            return raw.hex()
        return base64.b64encode(raw).decode("ascii")


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
    key id, a timestamp and an [`HMACSigner`][] MAC. It runs for every hop to
    an admitted origin, so a redirect within them is signed for its new URL
    and one elsewhere carries nothing.

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
