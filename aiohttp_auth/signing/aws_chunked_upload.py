"""An ``aws-chunked`` upload in aiohttp: a streaming body signed chunk by chunk as it is sent.

S3 accepts a streaming body of known length as ``aws-chunked`` frames, each
signed with a signature chained to the one before (Amazon S3 API Reference,
"Signature Calculations for the Authorization Header: Transferring Payload in
Multiple Chunks (Chunked Upload)"). [`sign_streaming_upload`][] signs the
headers of such a request with
[`SigV4Signer.sign_streaming`][aiohttp_auth.signing.sigv4.SigV4Signer.sign_streaming]
and replaces its body by a payload that frames the original payload's writes
with the sans-IO [`ChunkSigner`][aiohttp_auth.signing.aws_chunked.ChunkSigner]
while aiohttp sends them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final, cast

from aiohttp import ClientRequest, hdrs
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import AsyncIterablePayload, Payload

from .._redact import safe_url
from ..errors import BodyNotReplayableError, SigningError
from .aws_chunked import ChunkSigner
from .credentials import AwsCredentials
from .sigv4 import SigV4Signer

__all__ = ["sign_streaming_upload"]

_DECODED_LENGTH: Final = "X-Amz-Decoded-Content-Length"
_LENGTH: Final = re.compile(r"[0-9]{1,19}")


def sign_streaming_upload(
    request: ClientRequest,
    body: AsyncIterablePayload,
    credentials: AwsCredentials,
    *,
    signer: SigV4Signer,
    clock: Callable[[], float],
    chunk_size: int,
) -> ClientRequest:
    """Sign an ``aws-chunked`` upload's headers and frame its body (S3 "Chunked Upload").

    Args:
        request: the request to S3, its body a streaming payload whose length
            is in ``Content-Length`` (or ``X-Amz-Decoded-Content-Length``).
        body: the request's streaming body.
        credentials: the credentials to sign with.
        signer: an AWS4 signer for S3.
        clock: the clock, in epoch seconds.
        chunk_size: the size of every chunk but the last.

    Returns:
        *request*, with the signed headers set and the framed body, sent with
        a known length rather than HTTP-chunked.

    Raises:
        BodyNotReplayableError: the streaming body was sent already (a
            redirect or a retry).
        SigningError: the request does not declare the body's length.
    """
    if getattr(body, "consumed", False):
        raise BodyNotReplayableError(
            f"the streaming body for {safe_url(request.url)} was already sent (a redirect "
            "or retry): send bytes or a file to allow resending"
        )
    headers = request.headers
    declared = headers.get(_DECODED_LENGTH) or headers.get(hdrs.CONTENT_LENGTH)
    # ASCII digits only: isdigit() also takes "²", which int() refuses.
    if declared is None or not _LENGTH.fullmatch(declared):
        raise SigningError(
            f"S3 needs the length of a streaming upload to sign it ({safe_url(request.url)}): "
            "pass headers={'Content-Length': str(size)}, send bytes or a file, "
            "or use unsigned_payload=True"
        )
    url = request.url
    signed, chunk_signer = signer.sign_streaming(
        request.method,
        url.raw_path,
        url.raw_query_string,
        list(headers.items()),  # Transfer-Encoding is never signed
        access_key_id=credentials.access_key_id,
        secret_access_key=credentials.secret_access_key,
        session_token=credentials.session_token,
        timestamp=clock(),
        decoded_length=int(declared),
        chunk_size=chunk_size,
    )
    framed = _AwsChunkedPayload(body, chunk_signer)
    # Framed with a known length, so not HTTP-chunked: aiohttp chunks
    # whenever `chunked` is not None (False included).
    headers.popall(hdrs.TRANSFER_ENCODING, None)
    request.chunked = None
    # The setter recomputes Content-Length from the framed payload's size.
    request.body = framed
    for name, value in signed:
        headers[name] = value
    return request


class _Framer:
    """The writer the original payload writes into: frames and forwards each piece."""

    __slots__ = ("_signer", "_writer")

    def __init__(self, signer: ChunkSigner, writer: AbstractStreamWriter) -> None:
        self._signer = signer
        self._writer = writer

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        for part in self._signer.feed_parts(bytes(chunk)):
            await self._writer.write(part)


class _AwsChunkedPayload(Payload):
    """A streaming body sent as signed ``aws-chunked`` frames, of a known encoded size."""

    def __init__(self, original: AsyncIterablePayload, signer: ChunkSigner) -> None:
        super().__init__(original, content_type=None)
        self._original = original
        self._signer = signer
        self._size = signer.content_length

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("an aws-chunked body cannot be decoded")

    async def write(self, writer: AbstractStreamWriter) -> None:
        self._consumed = True
        framer = cast(AbstractStreamWriter, _Framer(self._signer, writer))
        await self._original.write(framer)
        for part in self._signer.finish_parts():
            await writer.write(part)

    async def write_with_length(self, writer: AbstractStreamWriter, content_length: Any) -> None:
        await self.write(writer)
