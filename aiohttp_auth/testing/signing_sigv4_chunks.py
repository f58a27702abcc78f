r"""Decoding a signed ``aws-chunked`` upload on the server's side, checking every chunk.

The body of a request signed with ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` is a
sequence of frames, each carrying the signature of its chunk, chained to the
one before and seeded by the request's own signature (Amazon S3 API
Reference, "Signature Calculations for the Authorization Header: Transferring
Payload in Multiple Chunks")::

    hex(len);chunk-signature=<64 hex>\r\n<len bytes>\r\n ... 0;chunk-signature=<64 hex>\r\n\r\n

Each chunk's signature is recomputed with the package's own
[`ChunkSigner`][aiohttp_auth.signing.aws_chunked.ChunkSigner].
"""

from __future__ import annotations

import hmac
import re
from typing import Final

from ..signing.aws_chunked import ChunkSigner
from .signing_sigv4_claim import ReceivedRequest, SigV4Claim, SigV4Refusal, header_value

__all__ = ["decode_streaming"]

_HEX_SIZE: Final = re.compile(rb"[0-9a-fA-F]{1,16}")


def _incomplete(message: str) -> SigV4Refusal:
    return SigV4Refusal("IncompleteBody", message, status=400)


def _decode_aws_chunked(body: bytes, chunk_signer: ChunkSigner) -> tuple[bytes, int]:
    """Remove the ``aws-chunked`` framing of *body*, checking each chunk's signature.

    *chunk_signer* is seeded with the request's signature; each chunk moves
    its chain on by one, as on the client (S3 "Chunked Upload").

    Returns:
        The body and the number of chunks, the final empty one included.

    Raises:
        SigV4Refusal: ``IncompleteBody`` for broken framing, or
            ``SignatureDoesNotMatch`` naming the first chunk whose signature
            does not match.
    """
    parts: list[bytes] = []
    position = count = 0
    # Each pass moves past a CRLF or raises, so the loop ends within len(body) passes.
    while True:
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            raise _incomplete(f"chunk {count + 1} has no header line (the body ended early)")
        size_text, _, extension = body[position:line_end].partition(b";")
        name, _, signature = extension.partition(b"=")
        if name != b"chunk-signature" or _HEX_SIZE.fullmatch(size_text) is None:
            raise _incomplete(f"chunk {count + 1} has a malformed header line")
        start = line_end + 2
        stop = start + int(size_text, 16)
        if body[stop : stop + 2] != b"\r\n":
            raise _incomplete(f"chunk {count + 1} is not {stop - start} bytes and a CRLF")
        chunk_signer.sign_chunk(body[start:stop])
        count += 1
        if not hmac.compare_digest(chunk_signer.signature.encode(), signature):
            raise SigV4Refusal(
                "SignatureDoesNotMatch", f"the signature of chunk {count} does not match"
            )
        position = stop + 2
        if stop == start:
            break
        parts.append(body[start:stop])
    if position != len(body):
        raise _incomplete("bytes follow the final chunk")
    return b"".join(parts), count


def decode_streaming(
    received: ReceivedRequest, key: bytes, claim: SigV4Claim, seed_signature: str
) -> tuple[bytes, int]:
    """Decode *received*'s ``aws-chunked`` body, whose seed signature has verified.

    Args:
        received: the request, its body still framed.
        key: the signing key of the request's date, region and service.
        claim: what the request says it was signed with.
        seed_signature: the request's signature, which the first chunk's chains on.

    Returns:
        The body without its framing, and the number of chunks.

    Raises:
        SigV4Refusal: broken framing, a chunk whose signature does not match,
            or a body of another length than ``x-amz-decoded-content-length``.
    """
    chunk_signer = ChunkSigner(
        signing_key=key,
        request_date=claim.request_date,
        scope=claim.scope,
        seed_signature=seed_signature,
        decoded_length=0,  # the length is checked below, once the chunks are read
    )
    body, chunks = _decode_aws_chunked(received.body, chunk_signer)
    declared = header_value(received.headers, "x-amz-decoded-content-length")
    if declared != str(len(body)):
        raise _incomplete(
            f"x-amz-decoded-content-length is {declared!r}, the chunks hold {len(body)} bytes"
        )
    return body, chunks
