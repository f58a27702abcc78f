"""Sign "these fields with this key": the HMAC scheme of many exchange and webhook APIs.

Many APIs authenticate a request with an HMAC over a few of its parts joined
together, e.g. ``timestamp + method + path + body``, sent in headers of their
own naming. Each differs in the fields, their order and separator, the hash,
and whether the MAC goes out as hex or base64. [`HMACSigner`][] computes the
MAC of any such list of fields;
[`HMACHeadersMiddleware`][aiohttp_auth.signing.hmac_middleware.HMACHeadersMiddleware]
calls a function of yours with the request's parts (the body exactly as sent)
and sets the headers it returns, on every hop to the admitted origins.

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
from typing import Final, Literal

from .._redact import redacted, redacted_repr
from ..errors import ConfigurationError, SigningError

__all__ = ["HMACSigner", "SignedField"]

SignedField = str | bytes | int
"""A field to sign: text (encoded as UTF-8), bytes as they are, or an integer in decimal."""

_ENCODINGS: Final = frozenset({"hex", "base64"})


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
