"""The SigV4 canonical request, built from what goes on the wire.

AWS Signature Version 4 signs a *canonical* form of the request: the method,
the path, the query, the signed headers and the payload hash, each rewritten
by fixed rules so that client and server arrive at the same text (AWS General
Reference, "Create a canonical request"). Google Cloud Storage HMAC keys
(``GOOG4-HMAC-SHA256``) use the same rules.

Every input here is what aiohttp sends: the path and query exactly as
``request.url.raw_path`` and ``request.url.raw_query_string`` (already
percent-encoded once), and the headers as ``(name, value)`` pairs in which a
name may repeat. Nothing here touches the network, a clock or a secret.

The rules, and where they come from:

- **Path.** For every service but S3 the path is normalised (empty and ``.``
  segments dropped, ``..`` pops the segment before it, a trailing ``/`` kept)
  and then URI-encoded *once more*: the wire form is encoded once, and these
  services canonicalise a second encoding of it ("Each path segment must be
  URI-encoded twice"). S3 does neither: its canonical path is the wire path.
  This is what botocore (``SigV4Auth`` / ``S3SigV4Auth``) and aws-c-auth
  (``use_double_uri_encode``, ``should_normalize_uri_path``) do.
- **Query.** Each ``&``-separated parameter is split at its first ``=``, its
  name and value are percent-*decoded* to bytes and re-encoded with AWS's
  URI-encode (only ``A-Za-z0-9-_.~`` kept, everything else ``%XX`` with
  upper-case hex, ``/`` included), then sorted by encoded name and, for a
  repeated name, by encoded value. ``a`` and ``a=`` both become ``a=``.
  Decoding first makes ``%7e``, ``~`` and ``%7E`` sign alike, as servers
  compute them alike. A ``+`` is a literal plus (canonical ``%2B``), never a
  space, as services compute it (smithy-kotlin #654; curl #20543, tested
  against S3); botocore never meets one, as it sends ``+`` as ``%2B``.
  yarl writes a space in a query value as ``+`` (``with_query``,
  ``update_query``, ``params=``); the signature still matches, as AWS signs
  the same ``%2B``, but the service may then read a plus where a space was
  meant. A URL string holding ``%20`` (``URL("...?q=a%20b")``) sends a space.
- **Headers.** See [`aiohttp_auth.signing.canonical_headers`][], which also
  holds the names never signed.

[`AmzDates`][] formats the request date (``X-Amz-Date``) SigV4 and SigV4a
sign, once per second.
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection, Sequence
from typing import Final
from urllib.parse import quote, quote_from_bytes, unquote_to_bytes

from ..errors import SigningError
from .canonical_headers import UNSIGNED_HEADERS, canonical_headers

__all__ = [
    "AmzDates",
    "canonical_path",
    "canonical_query",
    "canonical_request",
    "wire_target",
    "uri_encode",
]

# RFC 3986 §2.3 unreserved characters, the only ones AWS's URI-encode keeps.
_UNRESERVED: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
# str.translate deletes these, so "nothing left" means "nothing to encode":
# one C call instead of a loop or a regex per component.
_DELETE_UNRESERVED: Final = str.maketrans("", "", _UNRESERVED)
_DELETE_UNRESERVED_AND_SLASH: Final = str.maketrans("", "", _UNRESERVED + "/")


def uri_encode(text: str, *, keep_slash: bool = False) -> str:
    """URI-encode *text* the AWS way (AWS General Reference, "URI-encode").

    Keeps ``A-Za-z0-9-_.~`` (and ``/`` when *keep_slash*), encodes every other
    character as ``%XX`` of its UTF-8 bytes with upper-case hex.

    Args:
        text: the unencoded text.
        keep_slash: leave ``/`` as is, as in a path.

    Returns:
        The encoded text.

    Raises:
        SigningError: *text* holds a lone surrogate (no UTF-8 form).
    """
    safe = "/~" if keep_slash else "~"
    if not text.translate(_DELETE_UNRESERVED_AND_SLASH if keep_slash else _DELETE_UNRESERVED):
        return text
    try:
        return quote(text, safe=safe)
    except UnicodeEncodeError:
        raise _not_unicode() from None


def _not_unicode() -> SigningError:
    return SigningError(
        "The path or query holds a lone surrogate, which has no UTF-8 form to sign; "
        "pass the URL as aiohttp sends it (request.url.raw_path, raw_query_string)."
    )


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 §5.2.4 as AWS applies it (botocore remove_dot_segments,
    # aws-c-auth s_append_normalized_path): empty segments go too, so "//"
    # collapses, and a trailing "/" survives only after a real segment.
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    if not segments:
        return "/"
    if path.endswith("/"):
        return "/" + "/".join(segments) + "/"
    return "/" + "/".join(segments)


def canonical_path(raw_path: str, *, normalize: bool = True, double_encode: bool = True) -> str:
    """Return the CanonicalURI line for *raw_path* (AWS "Create a canonical request").

    Args:
        raw_path: the path as sent, already percent-encoded once.
        normalize: remove dot segments and empty segments first (every
            service but S3).
        double_encode: URI-encode the (wire) path once more (every service
            but S3).

    Returns:
        The canonical path; ``/`` for an empty path.
    """
    if not raw_path:
        return "/"
    if normalize and ("//" in raw_path or "/." in raw_path):
        raw_path = _remove_dot_segments(raw_path)
    if double_encode:
        return uri_encode(raw_path, keep_slash=True)
    if not raw_path.isascii():
        # aiohttp hands undecodable bytes over as lone surrogates, which the
        # string to sign could not be encoded with.
        try:
            raw_path.encode()
        except UnicodeEncodeError:
            raise _not_unicode() from None
    return raw_path


# A component already in canonical form: unreserved characters and upper-case
# escapes, none of which stands for an unreserved character (those must be
# decoded: "%7E" signs as "~"). Two regex calls cost a tenth of decoding and
# re-encoding, and most components that hold escapes are canonical already.
_CANONICAL_SHAPE: Final = re.compile(r"[A-Za-z0-9_.~-]*(?:%[0-9A-F]{2}[A-Za-z0-9_.~-]*)*")
_UNRESERVED_ESCAPE: Final = re.compile(r"%(?:2[DE]|3[0-9]|4[1-9A-F]|5[0-9AF]|6[1-9A-F]|7[0-9AE])")


def _encode_component(component: str) -> str:
    if component.isalnum() and component.isascii():
        return component
    if _CANONICAL_SHAPE.fullmatch(component) and not _UNRESERVED_ESCAPE.search(component):
        return component
    # Decode to bytes, not str: a value percent-encoding bytes that are not
    # UTF-8 must round-trip unchanged, and a '%' not followed by two hex
    # digits stays a literal '%' (encoded as %25), as the AWS SDKs do.
    try:
        return quote_from_bytes(unquote_to_bytes(component), safe="~")
    except UnicodeEncodeError:
        raise _not_unicode() from None


def canonical_query(raw_query: str, *, encoded_parameters: Sequence[tuple[str, str]] = ()) -> str:
    """Return the CanonicalQueryString line for *raw_query* (AWS "Create a canonical request").

    Args:
        raw_query: the query string as sent, without the ``?``.
        encoded_parameters: ``(name, value)`` pairs already in canonical
            form (the ``X-Amz-*`` parameters of a presigned URL), sorted in
            without being decoded again.

    Returns:
        The parameters decoded, re-encoded with [`uri_encode`][], sorted by
        name then value and joined with ``&``; empty for an empty query.
        Empty parameters (``a&&b``) carry nothing and are dropped.
    """
    pairs = list(encoded_parameters)
    if raw_query:
        for parameter in raw_query.split("&"):
            if parameter:
                name, _, value = parameter.partition("=")
                pairs.append((_encode_component(name), _encode_component(value)))
    pairs.sort()
    return "&".join([f"{name}={value}" for name, value in pairs])


def canonical_request(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Sequence[tuple[str, str]],
    payload_hash: str,
    *,
    normalize_path: bool = True,
    double_encode: bool = True,
    unsigned_headers: Collection[str] = UNSIGNED_HEADERS,
    added_headers: Sequence[tuple[str, str]] = (),
) -> tuple[str, str]:
    """Build the canonical request (AWS General Reference, "Create a canonical request").

    Args:
        method: the HTTP method; upper-cased as aiohttp sends it.
        raw_path: the path as sent (``request.url.raw_path``).
        raw_query: the query as sent, without ``?`` (``request.url.raw_query_string``).
        headers: the ``(name, value)`` pairs to sign; names may repeat.
        payload_hash: hex SHA-256 of the body, or a marker such as
            ``UNSIGNED-PAYLOAD``.
        normalize_path: normalise the path (``False`` for S3).
        double_encode: encode the wire path once more (``False`` for S3).
        unsigned_headers: lower-case names of *headers* left out of the
            signature.
        added_headers: pairs the signer sets itself, always signed (see
            [`canonical_headers`][aiohttp_auth.signing.canonical_headers.canonical_headers]).

    Returns:
        ``(canonical request text, signed headers list such as "host;x-amz-date")``.

    Raises:
        SigningError: a header cannot be signed (see
            [`canonical_headers`][aiohttp_auth.signing.canonical_headers.canonical_headers]),
            or the path or query holds a lone surrogate.
    """
    block, signed = canonical_headers(
        headers, unsigned_headers=unsigned_headers, added_headers=added_headers
    )
    text = "\n".join(
        (
            method.upper(),
            canonical_path(raw_path, normalize=normalize_path, double_encode=double_encode),
            canonical_query(raw_query),
            block,
            signed,
            payload_hash,
        )
    )
    return text, signed


# str.translate deletes these; anything left in a path or query needs encoding.
_DELETE_PATH_SAFE: Final = str.maketrans("", "", _UNRESERVED + "%/")
_DELETE_QUERY_SAFE: Final = str.maketrans("", "", _UNRESERVED + "%=&")


def wire_target(raw_path: str, raw_query: str) -> tuple[str, str] | None:
    """Return *raw_path* and *raw_query* in AWS's URI encoding, or None if already so.

    yarl leaves characters such as ``/ ( ) + = , ;`` unencoded in a query
    (and some in a path), and writes a space in a query value as ``+``.
    Verifiers disagree on such bytes: AWS decodes and re-encodes them, while
    botocore-based ones (moto, LocalStack) sign the raw text. A request sent
    in the encoded form reads alike to all of them. A ``+`` in the query is
    read as yarl writes it, a space (``%20``); a literal plus is ``%2B``.
    """
    path_ok = not raw_path.translate(_DELETE_PATH_SAFE)
    query_ok = not raw_query.translate(_DELETE_QUERY_SAFE)
    if path_ok and query_ok:
        return None
    if not path_ok:
        raw_path = "/".join([_encode_component(segment) for segment in raw_path.split("/")])
    if not query_ok:
        raw_query = "&".join([_wire_parameter(pair) for pair in raw_query.split("&")])
    return raw_path, raw_query


def _wire_parameter(pair: str) -> str:
    # yarl writes a space in a query as "+": it stays a space.
    return "=".join([_encode_component(part.replace("+", "%20")) for part in pair.split("=", 1)])


class AmzDates:
    """The ``X-Amz-Date`` of a timestamp (ISO 8601 basic format, UTC), made once per second.

    A client signing many requests a second formats each second once.
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: tuple[int, str] = (-1, "")

    def __call__(self, timestamp: float) -> str:
        """Return ``YYYYMMDDTHHMMSSZ`` for *timestamp* (epoch seconds, fractions dropped)."""
        second = int(timestamp)
        last_second, last_date = self._last
        if second != last_second:
            last_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second))
            self._last = (second, last_date)
        return last_date
