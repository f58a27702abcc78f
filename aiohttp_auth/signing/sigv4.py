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
HMAC.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Collection, Sequence
from typing import Final

from .._redact import redacted_repr
from ..errors import SigningError
from .aws_chunked import DEFAULT_CHUNK_SIZE, STREAMING_PAYLOAD, ChunkSigner, streaming_headers
from .canonical import (
    UNSIGNED_HEADERS,
    canonical_headers,
    canonical_path,
    canonical_query,
    uri_encode,
)
from .sigv4_query import (
    MAX_PRESIGN_EXPIRES,
    auth_parameter_pairs,
    check_expires,
    check_unsigned_query,
)
from .sigv4_scheme import (
    AWS4,
    EMPTY_SHA256,
    GOOG4,
    UNSIGNED_PAYLOAD,
    SigningScheme,
    check_scope_part,
    derive_signing_key,
)

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

_KEY_CACHE_SIZE: Final = 8
_NO_HOST: Final = "The request has no Host header; SigV4 requires it to be signed."


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
        self._scope_tail = f"/{region}/{service}/{scheme.terminator}"
        self._encoded_scope_tail = uri_encode(self._scope_tail)
        self._keys: dict[tuple[str, str], bytes] = {}
        # (second, formatted date), replaced as one tuple so that threads
        # sharing a signer never pair one second with another's date.
        self._last_date: tuple[int, str] = (-1, "")

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
        key = self._keys.get((secret_access_key, date))
        if key is None:
            key = derive_signing_key(
                secret_access_key, date, self.region, self.service, self.scheme
            )
            if len(self._keys) >= _KEY_CACHE_SIZE:
                # Oldest first; pop(..., None) because a thread sharing this
                # signer may have evicted the same entry a moment ago.
                self._keys.pop(next(iter(self._keys)), None)
            self._keys[(secret_access_key, date)] = key
        return key

    def _request_date(self, timestamp: float) -> str:
        second = int(timestamp)
        last_second, last_date = self._last_date
        if second != last_second:
            last_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second))
            self._last_date = (second, last_date)
        return last_date

    def _signature(self, secret: str, request_date: str, scope: str, canonical: str) -> str:
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        string_to_sign = f"{self.scheme.algorithm}\n{request_date}\n{scope}\n{digest}"
        key = self.signing_key(secret, request_date[:8])
        return hmac.digest(key, string_to_sign.encode(), "sha256").hex()

    def _token(self, access_key_id: str, secret: str, session_token: str | None) -> str | None:
        # The key id goes into a header and a URL as is: refuse what would
        # corrupt them rather than send a request that cannot verify.
        if not (access_key_id.isascii() and access_key_id.isprintable()) or not (
            access_key_id and secret
        ):
            raise SigningError(
                "The access key id and secret must be non-empty, and the key id "
                "printable ASCII; check the credentials provider."
            )
        if not session_token:
            return None
        if self.scheme is GOOG4:
            raise SigningError("Cloud Storage HMAC keys have no session token; pass None.")
        return session_token

    def _canonical(
        self, method: str, raw_path: str, query: str, block: str, signed: str, payload: str
    ) -> str:
        # *query* is the CanonicalQueryString already.
        path = canonical_path(raw_path, normalize=self.normalize_path, double_encode=not self.s3)
        return "\n".join((method.upper(), path, query, block, signed, payload))

    def _sign(
        self,
        request: tuple[str, str, str, Sequence[tuple[str, str]]],
        keys: tuple[str, str, str | None],
        payload_hash: str,
        timestamp: float,
        content_sha256_header: bool,
        added: list[tuple[str, str]],
        skip: frozenset[str],
    ) -> tuple[list[tuple[str, str]], str, str, str]:
        method, raw_path, raw_query, headers = request
        access_key_id, secret_access_key, session_token = keys
        scheme = self.scheme
        request_date = self._request_date(timestamp)
        scope = request_date[:8] + self._scope_tail
        token = self._token(access_key_id, secret_access_key, session_token)
        if token is not None and not self.omit_session_token:
            added.append((scheme.security_token_header, token))
        added.append((scheme.date_header, request_date))
        if content_sha256_header:
            added.append((scheme.content_sha256_header, payload_hash))
        block, signed = canonical_headers(headers, unsigned_headers=skip, added_headers=added)
        if ";host;" not in f";{signed};":
            raise SigningError(_NO_HOST)
        query = canonical_query(raw_query)
        canonical = self._canonical(method, raw_path, query, block, signed, payload_hash)
        signature = self._signature(secret_access_key, request_date, scope, canonical)
        if token is not None and self.omit_session_token:
            added.append((scheme.security_token_header, token))
        authorization = (
            f"{scheme.algorithm} Credential={access_key_id}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature}"
        )
        added.append(("Authorization", authorization))
        return added, signature, request_date, scope

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
        return self._sign(
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
        request_date = self._request_date(timestamp)
        scope = request_date[:8] + self._scope_tail
        block, signed = canonical_headers(headers, unsigned_headers=self._unsigned)
        if ";host;" not in f";{signed};":
            raise SigningError(_NO_HOST)
        parameters = auth_parameter_pairs(
            self.scheme,
            access_key_id=access_key_id,
            encoded_scope=request_date[:8] + self._encoded_scope_tail,
            request_date=request_date,
            signed_headers=signed,
            expires=expires,
        )
        token = self._token(access_key_id, secret_access_key, session_token)
        if token is not None:
            parameters.append((self.scheme.security_token_header, uri_encode(token)))
        # The parameters are canonical already: sort them in as they are.
        omit = self.omit_session_token and token is not None
        signed_parameters = parameters[:-1] if omit else parameters
        canonical = self._canonical(
            method,
            raw_path,
            canonical_query(raw_query, encoded_parameters=signed_parameters),
            block,
            signed,
            payload_hash,
        )
        signature = self._signature(secret_access_key, request_date, scope, canonical)
        parameters.append((f"{self.scheme.header_prefix}Signature", signature))
        query = "&".join([f"{name}={value}" for name, value in parameters])
        return f"{raw_query}&{query}" if raw_query else query

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
        headers_out, signature, request_date, scope = self._sign(
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
