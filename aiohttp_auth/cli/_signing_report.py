"""What the signing demo shows of the requests its servers received."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final
from xml.etree import ElementTree

from ..testing import RecordedRequest
from ._console import Outcome

__all__ = ["error_code", "short", "show"]

# The headers a signer sets, shown for every request received.
_SHOWN_HEADERS: Final = (
    "Authorization",
    "X-Amz-Security-Token",
    "X-Amz-Content-SHA256",
    "X-Amz-Decoded-Content-Length",
    "Content-Encoding",
    "Signature-Input",
    "Signature",
    "Content-Digest",
)


def short(value: str, keep: int = 80) -> str:
    """Return *value*, cut to *keep* characters with an ellipsis if longer."""
    return value if len(value) <= keep else value[: keep - 3] + "..."


def show(
    out: Outcome,
    requests: Sequence[RecordedRequest],
    statuses: Sequence[int] | None = None,
    *,
    label: str = "received",
) -> None:
    """List each request a server received, its signature headers, and its status."""
    if not requests:
        out.say("(nothing arrived)", label=label)
    for number, request in enumerate(requests):
        status = f"  -> {statuses[number]}" if statuses else ""
        out.say(f"{request.method} {short(request.raw_target, 64)}{status}", label=label)
        label = ""
        for name in _SHOWN_HEADERS:
            value = request.headers.get(name)
            if value is None:
                continue
            # A SigV4 Authorization has three parts (Credential, SignedHeaders,
            # Signature): one line each, so that none is cut off.
            first, *rest = value.split(", ") if name == "Authorization" else [value]
            out.say(f"  {name}: {short(first)}")
            for part in rest:
                out.say(f"  {' ' * len(name)}  {short(part)}")


def error_code(body: bytes) -> str | None:
    """Return the ``Code`` of an S3 XML error body, or None if it is not one."""
    try:
        return ElementTree.fromstring(body).findtext("Code")  # noqa: S314 - the demo's own server
    except ElementTree.ParseError:
        return None
