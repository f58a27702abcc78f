"""The parts of an Azure Storage Shared Key string to sign, sans-IO.

What Microsoft's "Authorize with Shared Key" calls CanonicalizedHeaders and
CanonicalizedResource, and the rules for which headers are signed and how
their values are read. [`SharedKeySigner`][aiohttp_auth.signing.azure.SharedKeySigner]
assembles them. Where the written specification and the service disagree,
these follow the service:

- header values are trimmed (the service trims them, as HTTP parsers do;
  Azure SDK issues such as azure-storage-net#950 show a signature over an
  untrimmed metadata value failing), and inner whitespace is kept as sent;
- ``x-ms-*`` names are ordered the way the service orders them (Windows'
  "word sort", see [`header_sort_key`][]), not by code point;
- ``+`` in the query decodes to a space, as the service's form decoding and
  Azurite do (yarl writes a space in a query value as ``+``).

A request whose signature would be ambiguous (a signed header repeated, a
non-ASCII or control character where the service could read it differently)
raises [`SigningError`][aiohttp_auth.errors.SigningError] instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from email.utils import formatdate
from typing import Final
from urllib.parse import unquote_plus

from ..errors import SigningError

__all__ = [
    "STANDARD_HEADERS",
    "TOKEN_RE",
    "X_MS_PREFIX",
    "canonicalized_headers",
    "canonicalized_resource",
    "comp_resource",
    "format_date",
    "header_sort_key",
    "signed_fields",
]

STANDARD_HEADERS: Final = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
)
"""The standard headers in the Blob, Queue and File string to sign, in order."""

X_MS_PREFIX: Final = "x-ms-"
"""Every header whose name starts with this is signed (CanonicalizedHeaders)."""

TOKEN_RE: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
"""An RFC 9110 token (§5.6.2): what a header name or a method is made of."""

_SIGNED_STANDARD: Final = frozenset(STANDARD_HEADERS)
# A header value the service reads exactly as it is signed: visible ASCII,
# spaces and tabs (trimmed at both ends, as the service trims them).
_VALUE_RE: Final = re.compile(r"[\t\x20-\x7e]*\Z")
# A raw path as it goes on the wire: visible ASCII, no space.
_PATH_RE: Final = re.compile(r"[\x21-\x7e]*\Z")
_OWS: Final = " \t"

# How the service orders x-ms-* header names. It compares them as Windows'
# default "word sort" does, which the Azure SDKs emulate since signatures
# over names such as x-ms-meta-a_b and x-ms-meta-a-b failed: case is
# ignored, hyphen and apostrophe are skipped at first and only break ties
# (by position), and punctuation sorts before digits before letters. Only
# RFC 9110 token characters occur in header names (checked before sorting).
_PRIMARY_ORDER: Final = "!#$%&*.^_`|~+0123456789abcdefghijklmnopqrstuvwxyz"
_PRIMARY: Final = {char: weight for weight, char in enumerate(_PRIMARY_ORDER, start=1)}
# Tie-break weights, position by position: any other character < the end of
# the name < apostrophe < hyphen.
_END_OF_NAME: Final = 1
_TIE_BREAK: Final = {"'": 2, "-": 3}


def _check_header_name(name: str) -> None:
    if TOKEN_RE.match(name) is None:
        raise SigningError(
            f"the header name {name!r} has characters HTTP does not allow in a name "
            "(RFC 9110 §5.1): Azure Shared Key cannot sign it"
        )


def header_sort_key(name: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Return the key that orders header *name* as Azure Storage does.

    Two names compare first by their letters, digits and punctuation, case
    ignored and hyphens and apostrophes left out, then, when those are
    equal, by where the hyphens and apostrophes stand (a name with one
    earlier sorts later). So ``x-ms-meta-a_b`` < ``x-ms-meta-ab`` <
    ``x-ms-meta-a-b`` (by code point, ``-`` < ``_`` < ``b``).

    Raises:
        SigningError: *name* has a character that is not an RFC 9110 token
            character.
    """
    _check_header_name(name)
    lowered = name.lower()
    primary = tuple(_PRIMARY[char] for char in lowered if char in _PRIMARY)
    tie_break = (*(_TIE_BREAK.get(char, 0) for char in lowered), _END_OF_NAME)
    return primary, tie_break


def format_date(timestamp: float) -> str:
    """Format epoch seconds as an RFC 1123 date, as ``x-ms-date`` wants it (RFC 9110 §5.6.7)."""
    return formatdate(timestamp, usegmt=True)


def signed_fields(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Collect the signed headers of *headers*: lower-case name -> trimmed value.

    The standard headers and every ``x-ms-*`` header are signed; the others
    are left out (and not checked).

    Raises:
        SigningError: a signed header is repeated, has a name that is not an
            HTTP token, or has a value with non-ASCII or control characters.
    """
    fields: dict[str, str] = {}
    for name, value in headers:
        lowered = name.lower()
        if lowered.startswith(X_MS_PREFIX):
            # Checked on the name as sent: a Kelvin sign lower-cases to an
            # ASCII "k" that the service would never see.
            _check_header_name(name)
        elif lowered not in _SIGNED_STANDARD:
            continue
        if lowered in fields:
            raise SigningError(
                f"the header {lowered} appears more than once: Azure Shared Key signs one "
                "value per header, so join the values into one header yourself"
            )
        if not isinstance(value, str) or _VALUE_RE.match(value) is None:
            raise SigningError(
                f"the header {lowered} has a value with non-ASCII or control characters: "
                "Azure Storage may read it differently from what is signed; percent- or "
                "base64-encode it"
            )
        fields[lowered] = value.strip(_OWS)
    return fields


def canonicalized_headers(fields: Mapping[str, str]) -> str:
    """Build the CanonicalizedHeaders: one ``name:value`` line per ``x-ms-*`` field, sorted.

    *fields* holds lower-case names and trimmed values, as [`signed_fields`][]
    returns them; each line ends with a newline.

    Raises:
        SigningError: a name is not an HTTP token.
    """
    names = sorted((name for name in fields if name.startswith(X_MS_PREFIX)), key=header_sort_key)
    return "".join(f"{name}:{fields[name]}\n" for name in names)


def _decode_query_part(part: str, what: str) -> str:
    try:
        decoded = unquote_plus(part, errors="strict")
    except UnicodeDecodeError:
        raise SigningError(
            f"a query {what} is not valid percent-encoded UTF-8: Azure Shared Key "
            "signs decoded parameters, so it cannot be signed"
        ) from None
    if "\n" in decoded:
        # A decoded newline would add a line of its own to the string to sign.
        raise SigningError(f"a query {what} decodes to a newline: Azure Shared Key cannot sign it")
    return decoded


def _query_parameters(raw_query: str) -> dict[str, list[str]]:
    """Decode *raw_query* into lower-case names and their values, in order."""
    parameters: dict[str, list[str]] = {}
    for pair in raw_query.split("&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition("=")
        name = _decode_query_part(raw_name, "parameter name")
        if not name.isascii():
            # Lower-casing beyond ASCII differs between Python and the service.
            raise SigningError(
                "a query parameter name is not ASCII: Azure Shared Key lower-cases names, "
                "which is ambiguous beyond ASCII, so it cannot be signed"
            )
        parameters.setdefault(name.lower(), []).append(_decode_query_part(raw_value, "value"))
    return parameters


def _resource_path(account_name: str, raw_path: str) -> str:
    if _PATH_RE.match(raw_path) is None:
        raise SigningError(
            "the request path has characters that are not percent-encoded: Azure Shared "
            "Key signs the encoded path, so encode it (yarl does) before signing"
        )
    return f"/{account_name}{raw_path or '/'}"


def canonicalized_resource(account_name: str, raw_path: str, raw_query: str) -> str:
    """Build the CanonicalizedResource of the Blob, Queue and File services (2009-09-19+).

    ``/account`` and the encoded path, then one line per query parameter:
    its decoded name in lower case, a colon and its decoded values (several
    values sorted and joined by commas), parameters sorted by name.

    Raises:
        SigningError: the path is not encoded, or a parameter is not valid
            percent-encoded UTF-8, decodes to a newline or has a non-ASCII name.
    """
    lines = [_resource_path(account_name, raw_path)]
    parameters = _query_parameters(raw_query)
    for name in sorted(parameters):
        lines.append(f"{name}:{','.join(sorted(parameters[name]))}")
    return "\n".join(lines)


def comp_resource(account_name: str, raw_path: str, raw_query: str) -> str:
    """Build the Table service's (and Shared Key Lite's) resource: path and ``comp`` only.

    Raises:
        SigningError: as for [`canonicalized_resource`][].
    """
    resource = _resource_path(account_name, raw_path)
    comp = _query_parameters(raw_query).get("comp")
    return resource if comp is None else f"{resource}?comp={','.join(comp)}"
