r"""Signed streaming uploads: the ``aws-chunked`` content encoding.

With ``x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` the headers
are signed first (the *seed* signature), and the body is sent as a sequence of
chunks, each carrying a signature chained to the one before it (Amazon S3 API
Reference, "Signature Calculations for the Authorization Header: Transferring
Payload in Multiple Chunks (Chunked Upload)")::

    hex(len);chunk-signature=<64 hex>\r\n<len bytes>\r\n
    ...
    0;chunk-signature=<64 hex>\r\n\r\n

The ``Content-Length`` is that of the encoded body ([`encoded_length`][]),
the decoded length goes in ``x-amz-decoded-content-length``: both must be
known before the first byte is sent. [`ChunkSigner`][] re-slices whatever
pieces the body yields into chunks of the agreed size and refuses to finish
a body whose length differs from the one declared, so a wrong body is never
sent under a valid signature.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Final

from .._redact import redacted, redacted_repr
from ..errors import ConfigurationError, SigningError

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "MIN_CHUNK_SIZE",
    "STREAMING_PAYLOAD",
    "ChunkSigner",
    "encoded_length",
    "streaming_headers",
]

STREAMING_PAYLOAD: Final = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
"""The payload hash marker (``x-amz-content-sha256``) of a signed chunked upload."""

DEFAULT_CHUNK_SIZE: Final = 64 * 1024
"""The chunk size AWS recommends (64 KiB)."""

MIN_CHUNK_SIZE: Final = 8 * 1024
"""S3 rejects chunks smaller than 8 KiB, except the last one."""

_CHUNK_ALGORITHM: Final = "AWS4-HMAC-SHA256-PAYLOAD"
_EMPTY_SHA256: Final = hashlib.sha256(b"").hexdigest()
# ";chunk-signature=" plus 64 hex digits plus the two CRLFs around the data.
_FRAME_OVERHEAD: Final = len(";chunk-signature=") + 64 + 4


def _frame_length(size: int) -> int:
    return len(f"{size:x}") + _FRAME_OVERHEAD + size


def _check_chunk_size(chunk_size: int) -> None:
    if chunk_size < MIN_CHUNK_SIZE:
        raise ConfigurationError(
            f"chunk_size must be at least {MIN_CHUNK_SIZE} bytes (S3's minimum for "
            f"aws-chunked uploads), not {chunk_size}."
        )


def encoded_length(decoded_length: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> int:
    """Return the ``Content-Length`` of a body of *decoded_length* bytes sent ``aws-chunked``.

    Args:
        decoded_length: the length of the body itself
            (``x-amz-decoded-content-length``).
        chunk_size: the size of every chunk but the last.

    Raises:
        ConfigurationError: *chunk_size* is below [`MIN_CHUNK_SIZE`][] or
            *decoded_length* is negative.
    """
    _check_chunk_size(chunk_size)
    if decoded_length < 0:
        raise ConfigurationError(f"decoded_length must be >= 0, not {decoded_length}.")
    full, rest = divmod(decoded_length, chunk_size)
    length = full * _frame_length(chunk_size) + _frame_length(0)
    if rest:
        length += _frame_length(rest)
    return length


def streaming_headers(
    headers: Sequence[tuple[str, str]], decoded_length: int, chunk_size: int
) -> list[tuple[str, str]]:
    """Return the headers an ``aws-chunked`` body needs, all of them signed.

    ``Content-Encoding`` gets ``aws-chunked`` first, before any coding the
    request already has (S3 removes it and stores the rest);
    ``Content-Length`` is the encoded length and
    ``X-Amz-Decoded-Content-Length`` the length of the body itself.

    Raises:
        ConfigurationError: as [`encoded_length`][].
    """
    content_length = encoded_length(decoded_length, chunk_size)
    codings = [value.strip() for name, value in headers if name.lower() == "content-encoding"]
    codings = [coding for coding in codings if coding and coding != "aws-chunked"]
    return [
        ("Content-Encoding", ",".join(["aws-chunked", *codings])),
        ("Content-Length", str(content_length)),
        ("X-Amz-Decoded-Content-Length", str(decoded_length)),
    ]


class ChunkSigner:
    """Frame and sign the chunks of one ``aws-chunked`` body (S3 "Chunked Upload").

    Feed it the body in pieces of any size; it returns the encoded bytes to
    send, in chunks of exactly *chunk_size* bytes but the last. Each chunk's
    string to sign is::

        AWS4-HMAC-SHA256-PAYLOAD
        <request date>
        <credential scope>
        <previous signature, the seed signature for the first chunk>
        <sha256 of "">
        <sha256 of the chunk data>

    A signer serves one request: make a new one (through
    ``SigV4Signer.sign_streaming``) for a retry.

    Args:
        signing_key: the derived SigV4 signing key of the request.
        request_date: the request's ``x-amz-date``.
        scope: the request's credential scope.
        seed_signature: the signature of the request headers.
        decoded_length: the exact length of the body.
        chunk_size: the size of every chunk but the last.

    Raises:
        ConfigurationError: as [`encoded_length`][].
    """

    __slots__ = (
        "_chunk_size",
        "_decoded_length",
        "_finished",
        "_key",
        "_pending",
        "_pending_length",
        "_prefix",
        "_received",
        "_signature",
        "content_length",
    )

    def __init__(
        self,
        *,
        signing_key: bytes,
        request_date: str,
        scope: str,
        seed_signature: str,
        decoded_length: int,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        self.content_length: Final = encoded_length(decoded_length, chunk_size)
        """The ``Content-Length`` of the encoded body."""
        self._key = signing_key
        self._prefix = f"{_CHUNK_ALGORITHM}\n{request_date}\n{scope}\n"
        self._signature = seed_signature
        self._decoded_length = decoded_length
        self._chunk_size = chunk_size
        # Pieces shorter than a chunk wait here, joined once a chunk is full.
        self._pending: list[bytes] = []
        self._pending_length = 0
        self._received = 0
        self._finished = False

    def __repr__(self) -> str:
        return redacted_repr(
            self,
            signing_key=redacted(self._key),
            decoded_length=self._decoded_length,
            chunk_size=self._chunk_size,
            received=self._received,
        )

    @property
    def signature(self) -> str:
        """The signature of the last chunk framed (the seed signature before the first)."""
        return self._signature

    def sign_chunk(self, chunk: bytes | memoryview) -> bytes:
        """Sign *chunk* and return its frame; the chain moves on by one.

        This is the low-level step: it does not check sizes. Use [`feed`][]
        and [`finish`][] for a whole body.
        """
        return b"".join(self._frame(chunk))

    def _frame(self, chunk: bytes | memoryview) -> list[bytes | memoryview]:
        """The three pieces of *chunk*'s frame: header, data, CRLF (not joined)."""
        chunk_hash = hashlib.sha256(chunk).hexdigest()
        string_to_sign = f"{self._prefix}{self._signature}\n{_EMPTY_SHA256}\n{chunk_hash}"
        self._signature = hmac.digest(self._key, string_to_sign.encode(), "sha256").hex()
        header = f"{len(chunk):x};chunk-signature={self._signature}\r\n".encode()
        return [header, chunk, b"\r\n"]

    def feed(self, data: bytes) -> bytes:
        """Take the next piece of the body; return the frames now complete (maybe ``b""``).

        Raises:
            SigningError: the body grew past the declared length, or the
                signer has finished.
        """
        return b"".join(self.feed_parts(data))

    def feed_parts(self, data: bytes) -> list[bytes | memoryview]:
        """As [`feed`][], but return the frames as pieces to write in order.

        Writing the pieces one by one spares a copy of every chunk into a
        joined frame: for large uploads that copy costs as much as hashing.

        Raises:
            SigningError: as [`feed`][].
        """
        if self._finished:
            raise SigningError("This aws-chunked body is already finished; sign a new request.")
        self._received += len(data)
        if self._received > self._decoded_length:
            self._finished = True
            raise SigningError(
                f"The body is longer than its declared length of {self._decoded_length} "
                "bytes (x-amz-decoded-content-length); it was not sent."
            )
        size = self._chunk_size
        if not self._pending and len(data) == size:
            # The common case when the body already yields chunk_size pieces.
            return self._frame(data)
        self._pending.append(data)
        self._pending_length += len(data)
        if self._pending_length < size:
            return []
        # One join, then chunks as views of it (the views keep it alive).
        joined = b"".join(self._pending)
        full = len(joined) - len(joined) % size
        view = memoryview(joined)
        parts: list[bytes | memoryview] = []
        for start in range(0, full, size):
            parts += self._frame(view[start : start + size])
        rest = joined[full:]
        self._pending = [rest] if rest else []
        self._pending_length = len(rest)
        return parts

    def finish(self) -> bytes:
        """Return the last partial chunk, if any, and the final zero-length chunk.

        Raises:
            SigningError: the body is shorter than its declared length, or the
                signer has already finished.
        """
        return b"".join(self.finish_parts())

    def finish_parts(self) -> list[bytes | memoryview]:
        """As [`finish`][], but return the frames as pieces to write in order.

        Raises:
            SigningError: as [`finish`][].
        """
        if self._finished:
            raise SigningError("This aws-chunked body is already finished; sign a new request.")
        if self._received != self._decoded_length:
            self._finished = True
            raise SigningError(
                f"The body ended after {self._received} of its declared "
                f"{self._decoded_length} bytes (x-amz-decoded-content-length)."
            )
        self._finished = True
        parts = self._frame(b"".join(self._pending)) if self._pending_length else []
        self._pending = []
        return parts + self._frame(b"")
