"""AWS Signature Version 4 (and Google Cloud Storage HMAC), sans-IO.

A [`SigV4Signer`][] is made once per region and service and signs requests
given as they go on the wire (method, raw path, raw query, header pairs and
the payload hash), with the clock passed in as epoch seconds:

- [`SigV4Signer.sign_headers`][] returns the headers to set (AWS General
  Reference, "Add the signature to the HTTP request");
- [`SigV4Signer.presign`][] returns the query string of a presigned URL
  (Amazon S3 API Reference, "Authenticating Requests: Using Query Parameters");
- [`SigV4Signer.sign_streaming`][] signs the headers of an ``aws-chunked``
  upload and returns the [`ChunkSigner`][aiohttp_auth.signing.aws_chunked.ChunkSigner]
  of its body.

The derived signing key changes once a day; each signer caches the few it
uses, so the per-request work is the canonical request, one SHA-256 and one
HMAC. The signer checks its arguments and says where the signature goes; its
[`ScopeSigner`][aiohttp_auth.signing.sigv4_scope.ScopeSigner] computes it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Final

from .._redact import redacted_repr
from ..errors import SigningError
from .aws_chunked import DEFAULT_CHUNK_SIZE, STREAMING_PAYLOAD, ChunkSigner, streaming_headers
from .canonical_headers import UNSIGNED_HEADERS
from .sigv4_query import MAX_PRESIGN_EXPIRES, check_expires, check_unsigned_query
from .sigv4_scheme import (
    AWS4,
    EMPTY_SHA256,
    GOOG4,
    UNSIGNED_PAYLOAD,
    SigningScheme,
    check_scope_part,
)
from .sigv4_scope import ScopeSigner

__all__ = [
    "AWS4",
    "EMPTY_SHA256",
    "GOOG4",
    "MAX_PRESIGN_EXPIRES",
    "STREAMING_PAYLOAD",
    "UNSIGNED_PAYLOAD",
    "SigV4Signer",
    "SigningScheme",
]


class SigV4Signer:
    """Sign requests for one region and service with SigV4 (or GOOG4 for Cloud Storage).

    Args:
        region: the region of the credential scope, e.g. ``us-east-1``
            (``auto`` for Cloud Storage).
        service: the signing name of the service, e.g. ``s3``, ``execute-api``
            (``storage`` for Cloud Storage).
        scheme: [`AWS4`][aiohttp_auth.signing.sigv4_scheme.AWS4] or
            [`GOOG4`][aiohttp_auth.signing.sigv4_scheme.GOOG4].
        s3: sign the path as S3 and Cloud Storage do: as sent, without
            normalisation or a second encoding. Defaults to ``True`` for
            service ``s3`` and for GOOG4.
        normalize_path: remove ``.``, ``..`` and empty path segments before
            signing (aws-c-auth ``should_normalize_uri_path``); defaults to
            ``not s3``.
        unsigned_headers: lower-case header names never signed.
        omit_session_token: send the session token but leave it out of the
            signature, as a few services (IoT device websockets) require.

    Raises:
        ConfigurationError: *region* or *service* is missing, empty or not a
            valid credential-scope element.
    """

    def __init__(
        self,
        region: str,
        service: str,
        *,
        scheme: SigningScheme = AWS4,
        s3: bool | None = None,
        normalize_path: bool | None = None,
        unsigned_headers: Collection[str] = UNSIGNED_HEADERS,
        omit_session_token: bool = False,
    ) -> None:
        self.region: Final = check_scope_part("region", region)
        self.service: Final = check_scope_part("service", service)
        self.scheme: Final = scheme
        self.s3: Final = (service == "s3" or scheme is GOOG4) if s3 is None else s3
        self.normalize_path: Final = not self.s3 if normalize_path is None else normalize_path
        self.omit_session_token: Final = omit_session_token
        self._unsigned = frozenset(name.lower() for name in unsigned_headers)
        # The caller's copies of the headers the signer sets are replaced, not signed.
        own = (scheme.date_header, scheme.security_token_header, scheme.content_sha256_header)
        self._skip = self._unsigned | {name.lower() for name in own}
        self._streaming_skip = self._skip | {
            "content-encoding",
            "content-length",
            "x-amz-decoded-content-length",
        }
        self._scope = ScopeSigner(
            region,
            service,
            scheme,
            s3=self.s3,
            normalize_path=self.normalize_path,
            omit_session_token=omit_session_token,
        )

    def __repr__(self) -> str:
        return redacted_repr(
            self,
            region=repr(self.region),
            service=repr(self.service),
            scheme=self.scheme.algorithm,
        )

    def signing_key(self, secret_access_key: str, date: str) -> bytes:
        """Return the signing key for *date* (``YYYYMMDD``), derived once and cached.

        The cache lives on this signer, holds at most eight keys (credential
        rotations and day changes) and is never shown in a repr.
        """
        return self._scope.signing_key(secret_access_key, date)

    def sign_headers(
        self,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: Sequence[tuple[str, str]],
        *,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None = None,
        payload_hash: str,
        timestamp: float,
        content_sha256_header: bool | None = None,
    ) -> list[tuple[str, str]]:
        """Sign a request in its headers (AWS "Add the signature to the HTTP request").

        Args:
            method: the HTTP method.
            raw_path: the path as sent (``request.url.raw_path``).
            raw_query: the query as sent (``request.url.raw_query_string``).
            headers: the request headers as ``(name, value)`` pairs; must hold
                ``Host``. Copies of the headers returned are left out.
            access_key_id: the access key id.
            secret_access_key: the secret access key.
            session_token: the session token of temporary credentials.
            payload_hash: hex SHA-256 of the body, [`EMPTY_SHA256`][] without
                one, or [`UNSIGNED_PAYLOAD`][].
            timestamp: the request time in epoch seconds.
            content_sha256_header: send and sign ``X-Amz-Content-SHA256``
                (S3 requires it); defaults to ``True`` for S3 with AWS4.

        Returns:
            The headers to set, replacing any of the same name:
            ``X-Amz-Security-Token`` (with a session token), ``X-Amz-Date``,
            ``X-Amz-Content-SHA256`` (when asked) and ``Authorization``
            (``X-Goog-*`` for GOOG4).

        Raises:
            SigningError: no ``Host`` header, a header that cannot be signed,
                an empty key, or a session token with GOOG4. An empty
                *session_token* counts as none.
        """
        if content_sha256_header is None:
            content_sha256_header = self.s3 and self.scheme is AWS4
        request = (method, raw_path, raw_query, headers)
        keys = (access_key_id, secret_access_key, session_token)
        return self._scope.sign(
            request, keys, payload_hash, timestamp, content_sha256_header, [], self._skip
        )[0]

    def presign(
        self,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: Sequence[tuple[str, str]],
        *,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None = None,
        timestamp: float,
        expires: int,
        payload_hash: str | None = None,
    ) -> str:
        """Return the query string of a presigned URL (S3 API, "Using Query Parameters").

        Arguments are those of [`sign_headers`][], and *expires*, the seconds
        the URL stays valid (1 to 604800). The headers given are signed, so
        whoever uses the URL must send them unchanged: pass only ``Host`` for
        a URL to hand out. *payload_hash* defaults to [`UNSIGNED_PAYLOAD`][]
        for S3 and GCS and to [`EMPTY_SHA256`][] elsewhere, as botocore does
        (RDS IAM authentication tokens need the latter). *raw_query* is kept
        first, as is.

        Returns:
            *raw_query*, then ``X-Amz-Algorithm``, ``-Credential``, ``-Date``,
            ``-SignedHeaders``, ``-Expires``, ``-Security-Token`` (with a
            session token) and ``-Signature`` (``X-Goog-*`` for GOOG4).

        Raises:
            SigningError: *expires* out of range, *raw_query* already
                presigned, no ``Host`` header, or a header that cannot be signed.
        """
        check_expires(expires)
        check_unsigned_query(raw_query, self.scheme)
        if payload_hash is None:
            payload_hash = UNSIGNED_PAYLOAD if self.s3 else EMPTY_SHA256
        request = (method, raw_path, raw_query, headers)
        keys = (access_key_id, secret_access_key, session_token)
        return self._scope.presign(request, keys, payload_hash, timestamp, expires, self._unsigned)

    def sign_streaming(
        self,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: Sequence[tuple[str, str]],
        *,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None = None,
        timestamp: float,
        decoded_length: int,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> tuple[list[tuple[str, str]], ChunkSigner]:
        """Sign the headers of an ``aws-chunked`` upload (S3 API, "Chunked Upload").

        Arguments are those of [`sign_headers`][] (the payload hash is
        ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``), and *decoded_length*, the
        exact length of the body, and *chunk_size*, the size of every chunk
        but the last (at least 8 KiB). Send the body through the returned
        signer's ``feed`` and ``finish``, without ``Transfer-Encoding``.

        Returns:
            ``(headers, chunk_signer)``: the headers of [`sign_headers`][]
            plus those of
            [`streaming_headers`][aiohttp_auth.signing.aws_chunked.streaming_headers]
            (``Content-Encoding``, ``Content-Length``,
            ``X-Amz-Decoded-Content-Length``), and the signer of the body.

        Raises:
            ConfigurationError: *chunk_size* below 8 KiB or a negative
                *decoded_length*.
            SigningError: the scheme is GOOG4 (Cloud Storage has no
                aws-chunked), or as [`sign_headers`][].
        """
        if self.scheme is not AWS4:
            raise SigningError("aws-chunked streaming signatures exist only for AWS SigV4 (S3).")
        request = (method, raw_path, raw_query, headers)
        keys = (access_key_id, secret_access_key, session_token)
        added = streaming_headers(headers, decoded_length, chunk_size)
        headers_out, signature, request_date, scope = self._scope.sign(
            request, keys, STREAMING_PAYLOAD, timestamp, True, added, self._streaming_skip
        )
        chunk_signer = ChunkSigner(
            signing_key=self.signing_key(secret_access_key, request_date[:8]),
            request_date=request_date,
            scope=scope,
            seed_signature=signature,
            decoded_length=decoded_length,
            chunk_size=chunk_size,
        )
        return headers_out, chunk_signer
