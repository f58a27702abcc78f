"""Validation of authorization server metadata (RFC 8414 §2, §3.3), sans-IO.

The checks behind ``ServerMetadata.from_json`` and ``metadata_urls`` (in
``aiohttp_auth.oauth2.metadata``), one per kind of value: the issuer
identifier asked for, the issuer a document names, the endpoint URLs, the
lists of names. Each raises with a message that says what to fix and shows a
server-supplied value only bounded and escaped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from yarl import URL

from .._origins import is_secure_transport
from .._redact import safe_url
from ..errors import ConfigurationError, TokenError

_BOM: Final = b"\xef\xbb\xbf"
# The members ServerMetadata has a field for, by kind; "issuer" is checked apart.
_ENDPOINT_MEMBERS: Final = (
    "token_endpoint",
    "authorization_endpoint",
    "device_authorization_endpoint",
    "revocation_endpoint",
    "introspection_endpoint",
    "jwks_uri",
)
_LIST_MEMBERS: Final = (
    "grant_types_supported",
    "token_endpoint_auth_methods_supported",
    "code_challenge_methods_supported",
    "scopes_supported",
)
_KNOWN_MEMBERS: Final = frozenset({"issuer", *_ENDPOINT_MEMBERS, *_LIST_MEMBERS})


def _shown(value: object, limit: int = 100) -> str:
    # Server-supplied text in a message: bounded, and repr() escapes controls.
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _parse_url(value: str) -> tuple[URL | None, bool]:
    """Parse *value*: the URL (None if yarl cannot), and whether it is absolute http(s)."""
    try:
        # A lone surrogate is valid JSON text but no URL: yarl would drop it silently.
        value.encode()
        url = URL(value)
        host = url.raw_host
    except (ValueError, TypeError, IndexError):  # UnicodeEncodeError is a ValueError
        return None, False
    return url, url.scheme in ("http", "https") and bool(host)


def check_issuer(issuer: object, *, allow_http: bool) -> URL:
    """Check an issuer identifier as RFC 8414 §2 defines it; return it parsed.

    Raises:
        ConfigurationError: not an absolute https URL without query and
            fragment (http only to loopback hosts, unless *allow_http*).
    """
    if not isinstance(issuer, str):
        raise ConfigurationError(f"issuer: expected a URL string, got {type(issuer).__name__}")
    url, absolute = _parse_url(issuer)
    if url is None or not absolute:
        shown_issuer = repr(safe_url(url)) if url is not None else "a value that is not a URL"
        raise ConfigurationError(
            "issuer: expected the authorization server's issuer identifier, an https URL "
            f"such as 'https://auth.example.com', got {shown_issuer}"
        )
    if "?" in issuer or "#" in issuer or url.raw_user is not None:
        raise ConfigurationError(
            "issuer: an issuer identifier has no query, fragment or user info (RFC 8414 §2): "
            f"{safe_url(url)}"
        )
    if not allow_http and not is_secure_transport(url):
        raise ConfigurationError(
            f"issuer: {safe_url(url)} is plain http: anyone on the path could forge the "
            "server's metadata and send your client credentials elsewhere; use https, or "
            "pass allow_http=True if the network path is trusted"
        )
    return url


def decode_document(body: bytes) -> dict[str, Any] | None:
    """Return the JSON object in *body* (a UTF-8 byte order mark allowed), else None."""
    try:
        document = json.loads(body.removeprefix(_BOM))
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def check_named_issuer(document: Mapping[str, Any], issuer: str, where: str) -> None:
    """Check that *document* names *issuer*, the issuer it was requested for.

    Raises:
        TokenError: its ``issuer`` member is missing or not identical to
            *issuer*: the document may come from a server impersonating
            another (a mix-up attack, RFC 8414 §3.3).
    """
    named = document.get("issuer")
    if not isinstance(named, str):
        raise TokenError(f"{where} has no issuer member, which RFC 8414 §2 requires")
    if named != issuer:
        hint = (
            f"; the two differ only in a trailing slash: pass issuer={named!r}"
            if named.rstrip("/") == issuer.rstrip("/")
            else ""
        )
        raise TokenError(
            f"{where} names the issuer {_shown(named)}, not {issuer!r}, the issuer it was "
            "requested for. RFC 8414 §3.3 forbids using it: a server that names another "
            "issuer may be impersonating it to collect your credentials and tokens (a "
            f"mix-up attack, RFC 9700 §4.4). Pass the exact issuer identifier{hint}"
        )


def endpoint_urls(
    document: Mapping[str, Any], where: str, allow_http: bool
) -> dict[str, str | None]:
    """Return the endpoint members of *document* by name, None for absent ones.

    Raises:
        TokenError: one is not an absolute https URL (http only to loopback
            hosts, unless *allow_http*), or has a fragment or user info.
    """
    return {name: _endpoint_url(document, name, where, allow_http) for name in _ENDPOINT_MEMBERS}


def _endpoint_url(
    document: Mapping[str, Any], name: str, where: str, allow_http: bool
) -> str | None:
    value = document.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise TokenError(f"{where}: {name} must be a URL string, got {type(value).__name__}")
    url, absolute = _parse_url(value)
    if url is None or not absolute:
        raise TokenError(f"{where}: {name} is not an absolute https URL: {_shown(value)}")
    if url.raw_fragment or url.raw_user is not None:
        # RFC 6749 §3.1, §3.2: endpoint URIs must not include a fragment.
        raise TokenError(f"{where}: {name} has a fragment or user info: {safe_url(url)}")
    if not allow_http and not is_secure_transport(url):
        raise TokenError(
            f"{where}: {name} {safe_url(url)} is plain http, which RFC 8414 §2 forbids: "
            "tokens and client credentials would travel in clear text. Fix the server's "
            "metadata, or pass allow_http=True if the network path is trusted"
        )
    return value


def name_lists(document: Mapping[str, Any], where: str) -> dict[str, tuple[str, ...] | None]:
    """Return the ``*_supported`` members of *document* by name, None for absent ones.

    Raises:
        TokenError: one is not a JSON array of strings.
    """
    return {name: _name_list(document, name, where) for name in _LIST_MEMBERS}


def _name_list(document: Mapping[str, Any], name: str, where: str) -> tuple[str, ...] | None:
    value = document.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TokenError(f"{where}: {name} must be a JSON array of strings")
    return tuple(value)


def extra_members(document: Mapping[str, Any]) -> dict[str, Any]:
    """Return the members of *document* that ServerMetadata has no field for."""
    return {name: value for name, value in document.items() if name not in _KNOWN_MEMBERS}
