"""A request's body as aiohttp will send it, read before it is sent and without consuming it.

Digest ``auth-int`` (RFC 7616 §3.4.3) hashes the body, and request signers
cover it; both need the exact bytes aiohttp is about to write. From aiohttp
3.12.1 every body is a payload whose ``as_bytes()`` caches a stream's chunks,
so the body is still sent whole afterwards. aiohttp 3.12.0 has no
``as_bytes()``: there an in-memory body is read from its payload, while a
stream or a file cannot be read without leaving nothing to send.
"""

from __future__ import annotations

from aiohttp import ClientRequest
from aiohttp.payload import BytesPayload, Payload

__all__ = ["read_body", "unreadable_reason"]


async def read_body(request: ClientRequest) -> bytes | None:
    """Return the bytes aiohttp will send as *request*'s body (``b""`` for none).

    Returns:
        The body, or None when it cannot be read before it is sent (aiohttp
        3.12.0 only; [`unreadable_reason`][] says why).
    """
    body = request.body
    if not isinstance(body, Payload):
        return _assigned(body)
    as_bytes = getattr(body, "as_bytes", None)
    if as_bytes is not None:
        return bytes(await as_bytes())
    # aiohttp 3.12.0: an in-memory body keeps its value; a stream or a file would be consumed.
    return bytes(body._value) if isinstance(body, BytesPayload) else None


def _assigned(body: object) -> bytes | None:
    """Return a body that is not a payload: ``b""``, or what a middleware assigned on 3.12.0.

    From aiohttp 3.12.1 the ``body`` property turns every value into a payload
    and gives ``b""`` for no body. On 3.12.0 ``body`` is a plain attribute
    holding whatever was assigned, and ``write_bytes()`` replaces bytes by a
    one-chunk tuple when it writes them (the form a request sent again has).
    """
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, tuple) and all(  # pragma: no cover - aiohttp 3.12.0
        isinstance(chunk, bytes | bytearray) for chunk in body
    ):
        return b"".join(body)
    return None  # pragma: no cover - aiohttp 3.12.0


def unreadable_reason(request: ClientRequest) -> str:
    """Say why [`read_body`][] returned None for *request*, and what to do about it."""
    body = request.body
    if isinstance(body, Payload):
        return (
            f"reading its {type(body).__name__} body before sending it needs aiohttp >= 3.12.1 "
            "(Payload.as_bytes): send bytes, or upgrade aiohttp"
        )
    return (  # pragma: no cover - aiohttp 3.12.0
        f"aiohttp 3.12.0 cannot tell which bytes it sends for the {type(body).__name__} "
        "assigned to its body: assign bytes (and set Content-Length), or upgrade aiohttp "
        "to >= 3.12.1"
    )
