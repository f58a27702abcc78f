"""AWS Signature Version 4a (``AWS4-ECDSA-P256-SHA256``), sans-IO.

SigV4a signs the same canonical request as SigV4, but with an ECDSA P-256 key derived
from the secret access key instead of a per-day, per-region HMAC key, so that one
signature is valid in every region of a *region set* (AWS IAM User Guide, "AWS Signature
Version 4 for API requests", "How AWS SigV4a works"; used by S3 Multi-Region Access
Points). What changes from SigV4:

- the credential scope has no region: ``20150830/s3/aws4_request``;
- the region set is sent, and signed, as ``X-Amz-Region-Set: us-east-1,us-west-2``
  (``*`` for all regions), or as the ``X-Amz-Region-Set`` query parameter of a presigned
  URL;
- the signature is the hex of a DER-encoded ECDSA P-256 / SHA-256 signature of the
  string to sign. ECDSA signatures are randomised: the same request signs differently
  every time, and every one of them verifies.

A [`SigV4aSigner`][] mirrors [`SigV4Signer`][aiohttp_auth.signing.sigv4.SigV4Signer]:
made once per region set and service, it signs requests given as they go on the wire,
the clock passed in as epoch seconds. Deriving the key costs a point multiplication, so
each signer keeps its own [`SigV4aKeyCache`][aiohttp_auth.signing.sigv4a_key.SigV4aKeyCache];
the per-request work is the canonical request, one SHA-256 and one ECDSA signature.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from .._redact import redacted_repr
from ..errors import SigningError
from .canonical import AmzDates, canonical_path, canonical_query, uri_encode
from .canonical_headers import UNSIGNED_HEADERS, canonical_headers
from .sigv4_query import auth_parameters, check_expires, check_unsigned_query
from .sigv4_scheme import EMPTY_SHA256, UNSIGNED_PAYLOAD, check_scope_part
from .sigv4a_key import SigV4aKeyCache
from .sigv4a_scheme import AWS4A, REGION_SET_HEADER, has_region_set, region_set_value

__all__ = ["AWS4A", "REGION_SET_HEADER", "SigV4aSigner"]

_ECDSA_SHA256: Final = ec.ECDSA(hashes.SHA256())
_NO_HOST: Final = "The request has no Host header; SigV4a requires it to be signed."


class SigV4aSigner:
    """Sign requests for one region set and service with SigV4a (``AWS4-ECDSA-P256-SHA256``).

    Args:
        region_set: the regions the signature is valid in: ``"us-east-1"``,
            ``"us-east-1,us-west-2"``, ``["us-east-1", "us-west-2"]`` or ``"*"``.
        service: the signing name of the service, e.g. ``s3``.
        s3: sign the path as S3 does: as sent, without normalisation or a second
            encoding. Defaults to ``True`` for service ``s3``.
        normalize_path: remove ``.``, ``..`` and empty path segments before signing;
            defaults to ``not s3``.
        unsigned_headers: lower-case header names never signed.
        omit_session_token: send the session token but leave it out of the signature.
        key_cache_size: how many derived private keys (one per access key pair) this
            signer keeps.

    Raises:
        ConfigurationError: *region_set* or *service* is missing, empty or malformed, or
            *key_cache_size* is not a positive integer.
    """

    def __init__(
        self,
        region_set: str | Sequence[str],
        service: str,
        *,
        s3: bool | None = None,
        normalize_path: bool | None = None,
        unsigned_headers: Collection[str] = UNSIGNED_HEADERS,
        omit_session_token: bool = False,
        key_cache_size: int = 8,
    ) -> None:
        self.region_set: Final = region_set_value(region_set)
        self.service: Final = check_scope_part("service", service)
        self.s3: Final = (service == "s3") if s3 is None else s3
        self.normalize_path: Final = not self.s3 if normalize_path is None else normalize_path
        self.omit_session_token: Final = omit_session_token
        self._unsigned = frozenset(name.lower() for name in unsigned_headers)
        # The caller's copies of the headers the signer sets are replaced, not signed.
        own = ("x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "x-amz-region-set")
        self._skip = self._unsigned | frozenset(own)
        self._scope_tail = f"/{service}/{AWS4A.terminator}"
        self._region_set_parameter = f"&{REGION_SET_HEADER}={uri_encode(self.region_set)}"
        self._keys = SigV4aKeyCache(key_cache_size)
        # (second, request date) in one tuple, so that threads never pair one second's
        # date with another's.
        self._request_date = AmzDates()

    def __repr__(self) -> str:
        return redacted_repr(
            self,
            region_set=repr(self.region_set),
            service=repr(self.service),
            scheme=AWS4A.algorithm,
        )

    def private_key(
        self, access_key_id: str, secret_access_key: str
    ) -> ec.EllipticCurvePrivateKey:
        """Return the SigV4a private key of an access key pair, derived once and cached.

        Its public key is what AWS verifies the signatures with. The cache lives on this
        signer and is never shown in a repr.

        Raises:
            SigningError: the access key id or the secret is empty.
        """
        return self._keys.get(access_key_id, secret_access_key)

    def _canonical(
        self, method: str, raw_path: str, raw_query: str, block: str, signed: str, payload: str
    ) -> str:
        path = canonical_path(raw_path, normalize=self.normalize_path, double_encode=not self.s3)
        return "\n".join(
            (method.upper(), path, canonical_query(raw_query), block, signed, payload)
        )

    def _signature(
        self, access_key_id: str, secret: str, request_date: str, scope: str, canonical: str
    ) -> str:
        # AWS "Create a string to sign": as SigV4, with the SigV4a algorithm and scope.
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        string_to_sign = f"{AWS4A.algorithm}\n{request_date}\n{scope}\n{digest}"
        private_key = self._keys.get(access_key_id, secret)
        return private_key.sign(string_to_sign.encode(), _ECDSA_SHA256).hex()

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
            headers: the request headers as ``(name, value)`` pairs; must hold ``Host``.
                Copies of the headers returned are left out.
            access_key_id: the access key id.
            secret_access_key: the secret access key.
            session_token: the session token of temporary credentials.
            payload_hash: hex SHA-256 of the body,
                [`EMPTY_SHA256`][aiohttp_auth.signing.sigv4_scheme.EMPTY_SHA256] without
                one, or [`UNSIGNED_PAYLOAD`][aiohttp_auth.signing.sigv4_scheme.UNSIGNED_PAYLOAD].
            timestamp: the request time in epoch seconds.
            content_sha256_header: send and sign ``X-Amz-Content-SHA256`` (S3 requires
                it); defaults to ``True`` for S3.

        Returns:
            The headers to set, replacing any of the same name: ``X-Amz-Security-Token``
            (with a session token), ``X-Amz-Date``, ``X-Amz-Region-Set``,
            ``X-Amz-Content-SHA256`` (when asked) and ``Authorization``.

        Raises:
            SigningError: no ``Host`` header, a header that cannot be signed, or an
                empty access key id or secret.
        """
        if content_sha256_header is None:
            content_sha256_header = self.s3
        request_date = self._request_date(timestamp)
        scope = request_date[:8] + self._scope_tail
        added: list[tuple[str, str]] = []
        if session_token is not None and not self.omit_session_token:
            added.append((AWS4A.security_token_header, session_token))
        added.append((AWS4A.date_header, request_date))
        added.append((REGION_SET_HEADER, self.region_set))
        if content_sha256_header:
            added.append((AWS4A.content_sha256_header, payload_hash))
        block, signed = canonical_headers(
            headers, unsigned_headers=self._skip, added_headers=added
        )
        if ";host;" not in f";{signed};":
            raise SigningError(_NO_HOST)
        canonical = self._canonical(method, raw_path, raw_query, block, signed, payload_hash)
        signature = self._signature(
            access_key_id, secret_access_key, request_date, scope, canonical
        )
        if session_token is not None and self.omit_session_token:
            added.append((AWS4A.security_token_header, session_token))
        added.append(
            (
                "Authorization",
                f"{AWS4A.algorithm} Credential={access_key_id}/{scope}, "
                f"SignedHeaders={signed}, Signature={signature}",
            )
        )
        return added

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

        The headers given are signed, so whoever uses the URL must send them unchanged:
        pass only ``Host`` for a URL to hand out.

        Args:
            method: the HTTP method the URL is for.
            raw_path: the path as sent.
            raw_query: the query as sent, without ``?``; kept first, as is.
            headers: the headers to sign; must hold ``Host``.
            access_key_id: the access key id.
            secret_access_key: the secret access key.
            session_token: the session token of temporary credentials.
            timestamp: the signing time in epoch seconds.
            expires: seconds the URL stays valid, 1 to 604800.
            payload_hash: defaults to ``UNSIGNED-PAYLOAD`` for S3 and to the hash of the
                empty body elsewhere, as SigV4's presign does.

        Returns:
            *raw_query*, then ``X-Amz-Algorithm``, ``-Credential``, ``-Date``,
            ``-SignedHeaders``, ``-Expires``, ``-Security-Token`` (with a session
            token), ``-Region-Set`` and ``-Signature``.

        Raises:
            SigningError: *expires* out of range, *raw_query* already presigned, no
                ``Host`` header, a header that cannot be signed, or an empty access key
                id or secret.
        """
        check_expires(expires)
        check_unsigned_query(raw_query, AWS4A)
        if has_region_set(raw_query):
            raise SigningError(
                f"The query already holds {REGION_SET_HEADER!r}: pass the region set to "
                "SigV4aSigner, not in the URL."
            )
        if payload_hash is None:
            payload_hash = UNSIGNED_PAYLOAD if self.s3 else EMPTY_SHA256
        request_date = self._request_date(timestamp)
        scope = request_date[:8] + self._scope_tail
        block, signed = canonical_headers(headers, unsigned_headers=self._unsigned)
        if ";host;" not in f";{signed};":
            raise SigningError(_NO_HOST)
        query = auth_parameters(
            AWS4A,
            access_key_id=access_key_id,
            scope=scope,
            request_date=request_date,
            signed_headers=signed,
            expires=expires,
        )
        if raw_query:
            query = f"{raw_query}&{query}"
        token = ""
        if session_token is not None:
            token = f"&{AWS4A.security_token_header}={uri_encode(session_token)}"
        signed_token = "" if self.omit_session_token else token
        region_set = self._region_set_parameter
        canonical = self._canonical(
            method, raw_path, f"{query}{signed_token}{region_set}", block, signed, payload_hash
        )
        signature = self._signature(
            access_key_id, secret_access_key, request_date, scope, canonical
        )
        return f"{query}{token}{region_set}&{AWS4A.header_prefix}Signature={signature}"
