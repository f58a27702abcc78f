"""The request body a signer covers: exactly the bytes aiohttp will send, read once."""

from __future__ import annotations

from aiohttp import ClientRequest, hdrs

from .._body import read_body, unreadable_reason
from .._redact import safe_url
from ..errors import SigningError

__all__ = ["body_to_sign"]


async def body_to_sign(request: ClientRequest) -> bytes:
    """Return the body aiohttp will send for *request*, for a signature or digest to cover.

    ``as_bytes()`` caches a streaming body's chunks, so the stream is still
    sent intact afterwards.

    Raises:
        SigningError: aiohttp will compress the body (``compress=``) after
            middlewares run, so no signature made now could cover it; the
            ``Content-Length`` header disagrees with the body, so aiohttp would
            send it cut, or too short for the server ever to answer; or, on
            aiohttp 3.12.0, the body is a stream or a file, which cannot be
            read without leaving nothing to send.
    """
    if request.compress:
        raise SigningError(
            f"{safe_url(request.url)}: a signature cannot cover a body that aiohttp compresses "
            "(compress=...) after middlewares run; compress it yourself and set "
            "Content-Encoding"
        )
    body = await read_body(request)
    if body is None:
        raise SigningError(f"cannot sign {safe_url(request.url)}: {unreadable_reason(request)}")
    _check_length(request, body)
    return body


def _check_length(request: ClientRequest, body: bytes) -> None:
    """Refuse a body that aiohttp would not send whole (RFC 9110 §8.6).

    aiohttp writes at most ``Content-Length`` bytes of the body: a longer body
    arrives cut, and a shorter one leaves the server waiting for bytes that
    never come. Either way a digest of *body* would not match what was sent.
    On aiohttp 3.12.0 this is what a middleware that assigns ``request.body``
    a body of another length leads to: the ``Content-Length`` of the original
    body stays (3.12.1 and later recompute it).
    """
    declared = request.headers.get(hdrs.CONTENT_LENGTH)
    if declared is None or declared == str(len(body)):
        return
    raise SigningError(
        f"the body of {safe_url(request.url)} has {len(body)} bytes but its Content-Length "
        f"header says {declared[:20]!r}, so aiohttp would not send it whole: when a middleware "
        "replaces request.body, set Content-Length to the new body's length too (aiohttp "
        "3.12.0 does not update it; 3.12.1 and later do)"
    )
