"""The request body a signer covers: exactly the bytes aiohttp will send, read once."""

from __future__ import annotations

from aiohttp import ClientRequest
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
            middlewares run, so no signature made now could cover it; or, on
            aiohttp 3.12.0, the body is a stream or a file, which cannot be
            read without leaving nothing to send.
    """
    if request.compress:
        raise SigningError(
            f"{safe_url(request.url)}: a signature cannot cover a body that aiohttp compresses "
            "(compress=...) after middlewares run; compress it yourself and set "
            "Content-Encoding"
        )
    body = request.body
    if not isinstance(body, Payload):
        return bytes(body)  # b"": no body
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
