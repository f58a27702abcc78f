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

from collections.abc import Collection, Sequence
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from .._redact import redacted_repr
from ..errors import SigningError
from .canonical import uri_encode
from .canonical_headers import UNSIGNED_HEADERS
from .sigv4_query import check_expires, check_unsigned_query
from .sigv4_scheme import EMPTY_SHA256, UNSIGNED_PAYLOAD, check_scope_part
from .sigv4_scope import ScopeSigner
from .sigv4a_key import SigV4aKeyCache
from .sigv4a_scheme import AWS4A, REGION_SET_HEADER, has_region_set, region_set_value

__all__ = ["AWS4A", "REGION_SET_HEADER", "SigV4aSigner"]

_ECDSA_SHA256: Final = ec.ECDSA(hashes.SHA256())


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
        self._keys = SigV4aKeyCache(key_cache_size)
        self._scope = _RegionSetScope(
            self._keys,
            self.service,
            s3=self.s3,
            normalize_path=self.normalize_path,
            omit_session_token=omit_session_token,
        )
        self._region_set_header = [(REGION_SET_HEADER, self.region_set)]
        self._region_set_parameter = [(REGION_SET_HEADER, uri_encode(self.region_set))]

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
                empty access key id or secret. An empty *session_token* counts as none.
        """
        if content_sha256_header is None:
            content_sha256_header = self.s3
        request = (method, raw_path, raw_query, headers)
        keys = (access_key_id, secret_access_key, session_token)
        added = list(self._region_set_header)
        return self._scope.sign(
            request, keys, payload_hash, timestamp, content_sha256_header, added, self._skip
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
        request = (method, raw_path, raw_query, headers)
        keys = (access_key_id, secret_access_key, session_token)
        return self._scope.presign(
            request,
            keys,
            payload_hash,
            timestamp,
            expires,
            self._unsigned,
            extra_parameters=self._region_set_parameter,
        )


class _RegionSetScope(ScopeSigner):
    """SigV4's computation with SigV4a's scope (no region) and ECDSA signature."""

    def __init__(
        self,
        keys: SigV4aKeyCache,
        service: str,
        *,
        s3: bool,
        normalize_path: bool,
        omit_session_token: bool,
    ) -> None:
        super().__init__(
            "",
            service,
            AWS4A,
            s3=s3,
            normalize_path=normalize_path,
            omit_session_token=omit_session_token,
            scope_tail=f"/{service}/{AWS4A.terminator}",
        )
        self._private_keys = keys

    def _signature(
        self, access_key_id: str, secret: str, request_date: str, scope: str, canonical: str
    ) -> str:
        # The hex of a DER-encoded ECDSA P-256 / SHA-256 signature of the string to sign.
        private_key = self._private_keys.get(access_key_id, secret)
        string_to_sign = self._string_to_sign(request_date, scope, canonical)
        return private_key.sign(string_to_sign, _ECDSA_SHA256).hex()
