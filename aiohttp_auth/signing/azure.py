"""Azure Storage Shared Key authorization, sans-IO.

Microsoft's "Authorize with Shared Key" (REST API reference for Azure
Storage) defines the string to sign for the Blob, Queue and File services
(version 2009-09-19 and later) and for the Table service; the signature is
``base64(HMAC-SHA256(base64decode(account_key), string_to_sign))``, sent as
``Authorization: SharedKey account:signature``.

[`SharedKeySigner`][] builds that string from what goes on the wire (method,
raw path, raw query, header pairs) and returns the headers to add; its parts
come from ``aiohttp_auth.signing.azure_canonical``, which also says where
they follow the service rather than the written specification.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable
from typing import Final, Literal

from .._redact import redacted, redacted_repr
from ..errors import ConfigurationError, SigningError
from .azure_canonical import (
    STANDARD_HEADERS,
    TOKEN_RE,
    canonicalized_headers,
    canonicalized_resource,
    comp_resource,
    format_date,
    signed_fields,
)

__all__ = ["DEFAULT_VERSION", "AzureService", "SharedKeySigner"]

DEFAULT_VERSION: Final = "2025-11-05"
"""The ``x-ms-version`` sent when a request has none: a GA version of the
Blob, Queue and File services that the Azurite emulator (3.35) also accepts."""

AzureService = Literal["blob", "queue", "file", "table"]
"""The services whose Shared Key string to sign is built (Blob, Queue and File share one)."""

_SERVICES: Final = frozenset({"blob", "queue", "file", "table"})
_DATE: Final = "x-ms-date"
_VERSION: Final = "x-ms-version"
# Version 2015-02-21 changed a zero Content-Length to an empty line.
_EMPTY_ZERO_LENGTH_SINCE: Final = "2015-02-21"
_VERSION_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


class SharedKeySigner:
    """Sign Azure Storage requests with an account's Shared Key.

    Args:
        account_name: the storage account's name (``devstoreaccount1`` for
            the emulator).
        account_key: the account's key (``key1`` or ``key2``), base64 as the
            portal shows it.
        version: the ``x-ms-version`` sent when a request has none.
        service: ``"blob"``, ``"queue"``, ``"file"`` (one string to sign) or
            ``"table"`` (the Table service's shorter one).
        lite: use ``SharedKeyLite``; implemented for the Table service only.

    Raises:
        ConfigurationError: an empty or malformed account name, a key that is
            not base64, a version that is not ``YYYY-MM-DD``, an unknown
            service, or ``lite`` without ``service="table"``.
    """

    __slots__ = ("_account_name", "_key_length", "_lite", "_mac", "_service", "_version")

    def __init__(
        self,
        account_name: str,
        account_key: str,
        *,
        version: str = DEFAULT_VERSION,
        service: AzureService = "blob",
        lite: bool = False,
    ) -> None:
        if not isinstance(account_name, str) or TOKEN_RE.match(account_name) is None:
            raise ConfigurationError(
                f"account_name must be the storage account's name, got {account_name!r}"
            )
        if not isinstance(version, str) or _VERSION_RE.match(version) is None:
            raise ConfigurationError(f"version must be a date such as {DEFAULT_VERSION!r}")
        if service not in _SERVICES:
            raise ConfigurationError(
                f"service must be one of {sorted(_SERVICES)}, got {service!r}"
            )
        if lite and service != "table":
            raise ConfigurationError(
                "SharedKeyLite is implemented for the Table service only: pass "
                "service='table', or use SharedKey (lite=False), which every service accepts"
            )
        self._mac = hmac.new(_decode_key(account_key), digestmod=hashlib.sha256)
        self._key_length = len(account_key)
        self._account_name = account_name
        self._version = version
        self._service: AzureService = service
        self._lite = bool(lite)

    @property
    def account_name(self) -> str:
        """The storage account's name."""
        return self._account_name

    @property
    def version(self) -> str:
        """The ``x-ms-version`` sent when a request has none."""
        return self._version

    @property
    def service(self) -> AzureService:
        """The service whose string to sign is built."""
        return self._service

    @property
    def scheme(self) -> str:
        """The ``Authorization`` scheme: ``SharedKey`` or ``SharedKeyLite``."""
        return "SharedKeyLite" if self._lite else "SharedKey"

    def __repr__(self) -> str:
        return redacted_repr(
            self,
            account_name=repr(self._account_name),
            account_key=f"<redacted {self._key_length} chars>",
            version=repr(self._version),
            service=repr(self._service),
            scheme=repr(self.scheme),
        )

    def string_to_sign(
        self, method: str, raw_path: str, raw_query: str, headers: Iterable[tuple[str, str]]
    ) -> str:
        """Build the string to sign for a request, as it goes on the wire.

        The service's 403 answer quotes the string it signed
        (``AuthenticationErrorDetail``): compare it with this one.

        Args:
            method: the HTTP method, as sent.
            raw_path: the percent-encoded path, as sent.
            raw_query: the raw query string, without ``?``.
            headers: every header as ``(name, value)`` pairs, ``x-ms-date``
                and ``x-ms-version`` included.

        Raises:
            SigningError: the request cannot be signed unambiguously.
        """
        return self._string_to_sign(method, raw_path, raw_query, signed_fields(headers))

    def signature(self, string_to_sign: str) -> str:
        """Return ``base64(HMAC-SHA256(key, string_to_sign))``."""
        mac = self._mac.copy()
        mac.update(string_to_sign.encode())
        return base64.b64encode(mac.digest()).decode("ascii")

    def authorization(self, string_to_sign: str) -> str:
        """Return the ``Authorization`` header value for *string_to_sign*."""
        return f"{self.scheme} {self._account_name}:{self.signature(string_to_sign)}"

    def sign(
        self,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: Iterable[tuple[str, str]],
        *,
        timestamp: float,
    ) -> list[tuple[str, str]]:
        """Return the headers that authorize a request: set each on it.

        ``x-ms-date`` (from *timestamp*) and ``x-ms-version`` come first when
        *headers* lack them, then ``Authorization``.

        Args:
            method: the HTTP method, as sent.
            raw_path: the percent-encoded path, as sent.
            raw_query: the raw query string, without ``?``.
            headers: every header the request will carry, as pairs.
            timestamp: the time of the request, in epoch seconds.

        Raises:
            SigningError: the request cannot be signed unambiguously.
        """
        fields = signed_fields(headers)
        added: list[tuple[str, str]] = []
        if _DATE not in fields:
            fields[_DATE] = format_date(timestamp)
            added.append((_DATE, fields[_DATE]))
        if _VERSION not in fields:
            fields[_VERSION] = self._version
            added.append((_VERSION, self._version))
        string_to_sign = self._string_to_sign(method, raw_path, raw_query, fields)
        added.append(("Authorization", self.authorization(string_to_sign)))
        return added

    def _string_to_sign(
        self, method: str, raw_path: str, raw_query: str, fields: dict[str, str]
    ) -> str:
        if TOKEN_RE.match(method) is None:
            raise SigningError(f"the method {method!r} is not an HTTP token (RFC 9110 §9.1)")
        if self._service == "table":
            return self._table_string(method, raw_path, raw_query, fields)
        standard = [fields.get(name, "") for name in STANDARD_HEADERS]
        if standard[2] == "0" and self._version >= _EMPTY_ZERO_LENGTH_SINCE:
            standard[2] = ""
        lines = "\n".join((method, *standard))
        headers = canonicalized_headers(fields)
        resource = canonicalized_resource(self._account_name, raw_path, raw_query)
        return f"{lines}\n{headers}{resource}"

    def _table_string(
        self, method: str, raw_path: str, raw_query: str, fields: dict[str, str]
    ) -> str:
        # x-ms-date takes precedence over Date when both are sent.
        date = fields.get(_DATE) or fields.get("date", "")
        resource = comp_resource(self._account_name, raw_path, raw_query)
        if self._lite:
            return f"{date}\n{resource}"
        content_md5 = fields.get("content-md5", "")
        content_type = fields.get("content-type", "")
        return f"{method}\n{content_md5}\n{content_type}\n{date}\n{resource}"


def _decode_key(account_key: str) -> bytes:
    """Decode a base64 account key, naming the problem but never the key."""
    if not isinstance(account_key, str) or not account_key:
        got = "an empty str" if account_key == "" else type(account_key).__name__
        raise ConfigurationError(
            f"account_key must be the account's base64 key as a non-empty str, got {got}"
        )
    try:
        return base64.b64decode(account_key, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(
            f"account_key ({redacted(account_key)}) is not valid base64: copy key1 or key2 "
            "from the storage account's Access keys, as shown"
        ) from None
