"""The signature computation behind a SigV4 signer, for one credential scope.

A [`SigV4Signer`][aiohttp_auth.signing.sigv4.SigV4Signer] checks its
arguments and says where the signature goes; a [`ScopeSigner`][] computes it
for one region, service and scheme (AWS General Reference, "Create a
canonical request", "Create a string to sign", "Derive a signing key",
"Calculate the signature"):

- [`ScopeSigner.sign`][] signs in headers and returns the headers to set,
  ``Authorization`` last (AWS "Add the signature to the HTTP request");
- [`ScopeSigner.presign`][] signs in the query and returns the query string of
  a presigned URL (Amazon S3 API Reference, "Authenticating Requests: Using
  Query Parameters").

The derived signing key changes once a day; each scope signer caches the few
it uses, so the per-request work is the canonical request, one SHA-256 and
one HMAC.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Final, TypeAlias

from ..errors import SigningError
from .canonical import AmzDates, canonical_path, canonical_query, uri_encode
from .canonical_headers import canonical_headers
from .sigv4_query import auth_parameter_pairs
from .sigv4_scheme import GOOG4, SigningScheme, derive_signing_key

__all__ = ["AccessKeys", "ScopeSigner", "WireRequest"]

WireRequest: TypeAlias = tuple[str, str, str, Sequence[tuple[str, str]]]
"""A request as it goes on the wire: the method, the raw path, the raw query
and the ``(name, value)`` header pairs."""

AccessKeys: TypeAlias = tuple[str, str, str | None]
"""The access key id, the secret access key and the session token (or None)."""

_KEY_CACHE_SIZE: Final = 8
_NO_HOST: Final = "The request has no Host header; SigV4 requires it to be signed."


class ScopeSigner:
    """Compute SigV4 signatures in one credential scope (region, service, scheme).

    Args:
        region: the region of the credential scope, checked by the caller.
        service: the service of the credential scope, checked by the caller.
        scheme: [`AWS4`][aiohttp_auth.signing.sigv4_scheme.AWS4] or
            [`GOOG4`][aiohttp_auth.signing.sigv4_scheme.GOOG4].
        s3: sign the path as sent, without a second encoding.
        normalize_path: remove ``.``, ``..`` and empty path segments first.
        omit_session_token: send the session token but leave it out of the
            signature.
        scope_tail: what follows the date in the credential scope; by default
            ``/{region}/{service}/{terminator}``.

    A subclass changes how the string to sign is signed by overriding
    ``_signature`` (SigV4a signs with an ECDSA key, not an HMAC one).
    """

    def __init__(
        self,
        region: str,
        service: str,
        scheme: SigningScheme,
        *,
        s3: bool,
        normalize_path: bool,
        omit_session_token: bool,
        scope_tail: str | None = None,
    ) -> None:
        self._region = region
        self._service = service
        self._scheme = scheme
        self._s3 = s3
        self._normalize_path = normalize_path
        self._omit_session_token = omit_session_token
        self._scope_tail = scope_tail or f"/{region}/{service}/{scheme.terminator}"
        self._encoded_scope_tail = uri_encode(self._scope_tail)
        self._keys: dict[tuple[str, str], bytes] = {}
        # (second, formatted date), replaced as one tuple so that threads
        # sharing a signer never pair one second with another's date.
        self._request_date = AmzDates()

    def signing_key(self, secret_access_key: str, date: str) -> bytes:
        """Return the signing key for *date* (``YYYYMMDD``), derived once and cached.

        The cache lives on this scope signer, holds at most eight keys
        (credential rotations and day changes) and is never shown in a repr.
        """
        key = self._keys.get((secret_access_key, date))
        if key is None:
            key = derive_signing_key(
                secret_access_key, date, self._region, self._service, self._scheme
            )
            if len(self._keys) >= _KEY_CACHE_SIZE:
                # Oldest first; pop(..., None) because a thread sharing this
                # signer may have evicted the same entry a moment ago.
                self._keys.pop(next(iter(self._keys)), None)
            self._keys[(secret_access_key, date)] = key
        return key

    def _string_to_sign(self, request_date: str, scope: str, canonical: str) -> bytes:
        """AWS "Create a string to sign": the algorithm, date, scope and canonical hash."""
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        return f"{self._scheme.algorithm}\n{request_date}\n{scope}\n{digest}".encode()

    def _signature(
        self, access_key_id: str, secret: str, request_date: str, scope: str, canonical: str
    ) -> str:
        string_to_sign = self._string_to_sign(request_date, scope, canonical)
        key = self.signing_key(secret, request_date[:8])
        return hmac.digest(key, string_to_sign, "sha256").hex()

    def _token(self, access_key_id: str, secret: str, session_token: str | None) -> str | None:
        # The key id goes into a header and a URL as is: refuse what would
        # corrupt them rather than send a request that cannot verify.
        missing = (
            "access key id"
            if not access_key_id
            else "secret of the access key id"
            if not secret
            else None
        )
        if missing is not None:
            raise SigningError(f"The {missing} is empty; check the credentials provider.")
        if not (access_key_id.isascii() and access_key_id.isprintable()):
            raise SigningError(
                "The access key id must be printable ASCII; check the credentials provider."
            )
        if not session_token:
            return None
        if self._scheme is GOOG4:
            raise SigningError("Cloud Storage HMAC keys have no session token; pass None.")
        return session_token

    def _canonical(
        self, method: str, raw_path: str, query: str, block: str, signed: str, payload: str
    ) -> str:
        # *query* is the CanonicalQueryString already.
        path = canonical_path(raw_path, normalize=self._normalize_path, double_encode=not self._s3)
        return "\n".join((method.upper(), path, query, block, signed, payload))

    def sign(
        self,
        request: WireRequest,
        keys: AccessKeys,
        payload_hash: str,
        timestamp: float,
        content_sha256_header: bool,
        added: list[tuple[str, str]],
        skip: frozenset[str],
    ) -> tuple[list[tuple[str, str]], str, str, str]:
        """Sign *request* in its headers (AWS "Add the signature to the HTTP request").

        Args:
            request: the request as sent; its headers must hold ``Host``.
            keys: the credentials to sign with.
            payload_hash: the payload hash to sign.
            timestamp: the request time in epoch seconds.
            content_sha256_header: send and sign the payload hash header.
            added: headers to set and sign besides the signer's own; the
                signer's are appended to it.
            skip: lower-case names of the request's headers left out.

        Returns:
            ``(headers, signature, request_date, scope)``: *added* with the
            date, token, payload hash and ``Authorization`` headers, then what
            an ``aws-chunked`` body's signer is seeded with.

        Raises:
            SigningError: no ``Host`` header, a header that cannot be signed,
                an empty key, or a session token with GOOG4.
        """
        method, raw_path, raw_query, headers = request
        access_key_id, secret_access_key, session_token = keys
        scheme = self._scheme
        request_date = self._request_date(timestamp)
        scope = request_date[:8] + self._scope_tail
        token = self._token(access_key_id, secret_access_key, session_token)
        if token is not None and not self._omit_session_token:
            added.append((scheme.security_token_header, token))
        added.append((scheme.date_header, request_date))
        if content_sha256_header:
            added.append((scheme.content_sha256_header, payload_hash))
        block, signed = canonical_headers(headers, unsigned_headers=skip, added_headers=added)
        if ";host;" not in f";{signed};":
            raise SigningError(_NO_HOST)
        query = canonical_query(raw_query)
        canonical = self._canonical(method, raw_path, query, block, signed, payload_hash)
        signature = self._signature(
            access_key_id, secret_access_key, request_date, scope, canonical
        )
        if token is not None and self._omit_session_token:
            added.append((scheme.security_token_header, token))
        authorization = (
            f"{scheme.algorithm} Credential={access_key_id}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature}"
        )
        added.append(("Authorization", authorization))
        return added, signature, request_date, scope

    def presign(
        self,
        request: WireRequest,
        keys: AccessKeys,
        payload_hash: str,
        timestamp: float,
        expires: int,
        unsigned: frozenset[str],
        extra_parameters: Sequence[tuple[str, str]] = (),
    ) -> str:
        """Return the query string of a presigned URL (S3 API, "Using Query Parameters").

        Args:
            request: the request as sent; its headers must hold ``Host``.
            keys: the credentials to sign with.
            payload_hash: the payload hash to sign.
            timestamp: the signing time in epoch seconds.
            expires: the seconds the URL stays valid, checked by the caller.
            unsigned: lower-case names of the request's headers left out.
            extra_parameters: more signed query parameters, encoded already,
                sent after the session token (SigV4a's region set).

        Raises:
            SigningError: no ``Host`` header, a header that cannot be signed,
                an empty key, or a session token with GOOG4.
        """
        method, raw_path, raw_query, headers = request
        access_key_id, secret_access_key, session_token = keys
        request_date = self._request_date(timestamp)
        scope = request_date[:8] + self._scope_tail
        block, signed = canonical_headers(headers, unsigned_headers=unsigned)
        if ";host;" not in f";{signed};":
            raise SigningError(_NO_HOST)
        parameters = auth_parameter_pairs(
            self._scheme,
            access_key_id=access_key_id,
            encoded_scope=request_date[:8] + self._encoded_scope_tail,
            request_date=request_date,
            signed_headers=signed,
            expires=expires,
        )
        token = self._token(access_key_id, secret_access_key, session_token)
        token_parameter = []
        if token is not None:
            token_parameter = [(self._scheme.security_token_header, uri_encode(token))]
        # The parameters are canonical already: sort them in as they are.
        signed_parameters = [
            *parameters,
            *([] if self._omit_session_token else token_parameter),
            *extra_parameters,
        ]
        parameters += [*token_parameter, *extra_parameters]
        canonical = self._canonical(
            method,
            raw_path,
            canonical_query(raw_query, encoded_parameters=signed_parameters),
            block,
            signed,
            payload_hash,
        )
        signature = self._signature(
            access_key_id, secret_access_key, request_date, scope, canonical
        )
        parameters.append((f"{self._scheme.header_prefix}Signature", signature))
        query = "&".join([f"{name}={value}" for name, value in parameters])
        return f"{raw_query}&{query}" if raw_query else query
