"""The request body a signer covers: exactly the bytes aiohttp will send, read once."""

from __future__ import annotations

from aiohttp import ClientRequest, hdrs
from aiohttp.payload import BytesPayload, Payload

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
    body = await _read(request)
    _check_length(request, body)
    return body


async def _read(request: ClientRequest) -> bytes:
    body = request.body
    if not isinstance(body, Payload):
        return _assigned(request, body)
    as_bytes = getattr(body, "as_bytes", None)
    if as_bytes is not None:
        data: bytes = await as_bytes()
        return data
    if isinstance(body, BytesPayload):  # pragma: no cover - aiohttp 3.12.0
        return bytes(body._value)
    raise SigningError(  # pragma: no cover - aiohttp 3.12.0
        f"signing the streaming or file body of {safe_url(request.url)} needs aiohttp "
        ">= 3.12.1 (Payload.as_bytes): send bytes, or upgrade aiohttp"
    )


def _assigned(request: ClientRequest, body: object) -> bytes:
    """Return a body that is not a payload: ``b""``, or what was assigned on aiohttp 3.12.0.

    From aiohttp 3.12.1 the ``body`` property turns every value into a payload
    and gives ``b""`` for no body. On 3.12.0 ``body`` is a plain attribute
    holding whatever a middleware assigned, and ``write_bytes()`` replaces
    bytes by a one-chunk tuple when it writes them (the form a request sent
    again arrives in).
    """
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, tuple) and all(  # pragma: no cover - aiohttp 3.12.0
        isinstance(chunk, bytes | bytearray) for chunk in body
    ):
        return b"".join(body)
    raise SigningError(  # pragma: no cover - aiohttp 3.12.0
        f"cannot tell which bytes aiohttp 3.12.0 sends for the {type(body).__name__} assigned "
        f"to the body of {safe_url(request.url)}: assign bytes (and set Content-Length), "
        "or upgrade aiohttp to >= 3.12.1"
    )


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
