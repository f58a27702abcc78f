"""The headers of the SigV4 canonical request: which are signed, and in what form.

Part of the canonical request that AWS Signature Version 4 and Google Cloud
Storage HMAC keys sign (AWS General Reference, "Create a canonical request";
the path and query rules are in [`aiohttp_auth.signing.canonical`][]). The
headers are ``(name, value)`` pairs as aiohttp sends them, in which a name may
repeat. Names are lower-cased and sorted; each value trimmed with inner runs
of whitespace collapsed to one space; a repeated header's values joined with
``,`` in the order sent. A value with non-ASCII or control characters cannot
be signed reliably (servers disagree on its bytes) and raises
[`SigningError`][aiohttp_auth.errors.SigningError].
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Final

from ..errors import SigningError

__all__ = ["UNSIGNED_HEADERS", "canonical_headers"]

UNSIGNED_HEADERS: Final = frozenset(
    {
        # botocore SIGNED_HEADERS_BLACKLIST: expect, transfer-encoding,
        # user-agent, x-amzn-trace-id. aws-c-auth s_skipped_headers adds
        # connection, upgrade and the sec-websocket-* handshake headers.
        # Proxies, tracing agents and the HTTP stack rewrite all of these, so
        # signing them would break the signature in transit.
        "connection",
        "expect",
        "sec-websocket-key",
        "sec-websocket-protocol",
        "sec-websocket-version",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
        # The header that carries the signature cannot be part of it.
        "authorization",
    }
)
"""Header names (lower-case) never signed: the union of what botocore and
aws-c-auth skip, plus ``authorization``."""


def _group(
    grouped: dict[str, list[str]], headers: Sequence[tuple[str, str]], skip: Collection[str]
) -> None:
    # One loop with the checks inlined: this runs for every header of every
    # request, and a helper call per header would cost more than the checks.
    for name, value in headers:
        lower = name.lower()
        if lower in skip:
            continue
        if (
            not (lower.isascii() and lower.isprintable())
            or " " in lower
            or ":" in lower
            or not lower
        ):
            raise SigningError(
                f"Header name {name!r} is not a valid HTTP field name (RFC 9110 §5.1): "
                "it is empty or holds whitespace, ':' or non-printable characters."
            )
        # isprintable() is False for every C0 control and DEL; a tab is legal
        # in a field value (RFC 9110 §5.5) and collapsed like a space.
        if not (
            value.isascii() and (value.isprintable() or value.replace("\t", " ").isprintable())
        ):
            raise SigningError(
                f"The value of header {name!r} holds non-ASCII or control characters, which "
                "SigV4 cannot sign reliably: percent-encode or RFC 2047-encode it first."
            )
        # AWS "Trimall": strip, and collapse inner runs of whitespace to one space.
        value = " ".join(value.split()) if "  " in value or "\t" in value else value.strip(" ")
        values = grouped.get(lower)
        if values is None:
            grouped[lower] = [value]
        else:
            values.append(value)


def canonical_headers(
    headers: Sequence[tuple[str, str]],
    *,
    unsigned_headers: Collection[str] = UNSIGNED_HEADERS,
    added_headers: Sequence[tuple[str, str]] = (),
) -> tuple[str, str]:
    """Return the CanonicalHeaders block and SignedHeaders list (AWS "Create a canonical request").

    Args:
        headers: ``(name, value)`` pairs as sent; a name may repeat.
        unsigned_headers: lower-case names of *headers* left out of the
            signature.
        added_headers: pairs the signer sets itself (``x-amz-date`` and the
            like), always signed. To replace a caller's header of the same
            name, put that name in *unsigned_headers* too.

    Returns:
        ``(block, signed)``: the block holds one ``name:value`` line, ending
        in a newline, per signed header; *signed* is ``name1;name2``.

    Raises:
        SigningError: a header name is empty or holds whitespace, ``:`` or
            control characters, or a value holds non-ASCII or control
            characters.
    """
    grouped: dict[str, list[str]] = {}
    _group(grouped, headers, unsigned_headers)
    if added_headers:
        _group(grouped, added_headers, ())
    names = sorted(grouped)
    block = "".join([f"{name}:{','.join(grouped[name])}\n" for name in names])
    return block, ";".join(names)
