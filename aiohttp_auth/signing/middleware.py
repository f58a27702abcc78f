"""The SigV4 middleware: sign every request (and every redirect hop) for AWS or GCS.

It adapts aiohttp to the sans-IO [`SigV4Signer`][aiohttp_auth.signing.sigv4.SigV4Signer]:
it resolves credentials, sets the headers aiohttp would add only after
middlewares run (so that what is signed is what is sent), hashes the body once
through aiohttp's replayable payload, or frames a streaming upload as
``aws-chunked``, and sets the signed headers.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Final, cast

from aiohttp import ClientRequest, ClientResponse
from aiohttp.client_middlewares import ClientHandlerType
from aiohttp.payload import AsyncIterablePayload, Payload
from yarl import URL

from .._middleware import AuthMiddleware, set_default_content_type
from .._origins import OriginsArg, is_secure_transport
from .._redact import redacted_repr, safe_url
from ..errors import ConfigurationError, InsecureTransportError, SigningError
from ._body import body_to_sign
from .aws_chunked import DEFAULT_CHUNK_SIZE
from .aws_chunked_upload import sign_streaming_upload
from .canonical import wire_target
from .credentials import AwsCredentials, CredentialsProvider
from .sigv4 import AWS4, EMPTY_SHA256, GOOG4, UNSIGNED_PAYLOAD, SigV4Signer
from .sigv4a import SigV4aSigner

__all__ = ["GoogleHMACMiddleware", "SigV4Middleware", "aws_wire_url"]

# aiohttp 3.12.1 made payloads readable before sending (as_bytes) and replayable.
_READABLE_PAYLOADS: Final = hasattr(Payload, "as_bytes")


class SigV4Middleware(AuthMiddleware):
    """Sign requests with AWS Signature Version 4 (AWS, and S3-compatible stores).

    Every request to an admitted origin is signed, on every hop: a redirect
    to another origin carries no signature, and one to the same origin is
    signed again for its new URL. The body is hashed into
    ``x-amz-content-sha256`` for S3 (aiohttp keeps the bytes, so nothing is
    read twice); a streaming body (an async iterable) sent to S3 is signed
    chunk by chunk as ``aws-chunked``, which needs its length up front
    (``headers={"Content-Length": str(size)}``).

    Args:
        access_key_id: the access key id (or None with *credentials*).
        secret_access_key: the secret access key (or None with *credentials*).
        region: the region, e.g. ``"eu-west-1"``.
        service: the service's signing name: ``"s3"``, ``"execute-api"``,
            ``"sts"``, ``"dynamodb"``...
        session_token: the session token of temporary credentials.
        unsigned_payload: sign ``UNSIGNED-PAYLOAD`` instead of the body's hash
            (S3 over https accepts it), so bodies are never hashed or buffered.
        credentials: a credentials provider
            ([`CredentialsProvider`][aiohttp_auth.signing.credentials.CredentialsProvider]:
            environment, profile, AssumeRole, a callable...) instead of keys.
        origins: see [`AuthMiddleware`][aiohttp_auth._middleware.AuthMiddleware].
        allow_http: send a session token over plain http to non-loopback hosts.
        chunk_size: the chunk size of ``aws-chunked`` uploads (>= 8 KiB).
        signer: a ready [`SigV4Signer`][aiohttp_auth.signing.sigv4.SigV4Signer]
            (another scheme, path rules or unsigned headers) or
            [`SigV4aSigner`][aiohttp_auth.signing.sigv4a.SigV4aSigner]
            (multi-region access points); region and service are then taken
            from it.
        clock: the clock, in epoch seconds.

    Raises:
        ConfigurationError: no region or service, both or neither of keys and
            *credentials*, or an argument of the wrong type.
    """

    sends_secret = False

    def __init__(
        self,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        *,
        region: str | None = None,
        service: str | None = None,
        session_token: str | None = None,
        unsigned_payload: bool = False,
        credentials: CredentialsProvider | None = None,
        origins: OriginsArg = None,
        allow_http: bool = False,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        signer: SigV4Signer | SigV4aSigner | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(origins=origins, allow_http=allow_http)
        self._static = _static_credentials(
            access_key_id, secret_access_key, session_token, credentials
        )
        self._provider = credentials
        if signer is None:
            signer = SigV4Signer(cast(str, region), cast(str, service))
        self._signer = signer
        # Only SigV4 (not SigV4a, not GOOG4) has aws-chunked signatures here;
        # the others hash a streaming body, which aiohttp then keeps to send.
        self._streams = isinstance(signer, SigV4Signer) and signer.s3 and signer.scheme is AWS4
        self._unsigned = bool(unsigned_payload)
        self._chunk_size = chunk_size
        self._clock = clock

    @property
    def signer(self) -> SigV4Signer | SigV4aSigner:
        """The sans-IO signer (region, service, scheme)."""
        return self._signer

    def __repr__(self) -> str:
        who = self._static.access_key_id if self._static else self._provider
        return redacted_repr(
            self,
            access_key_id=repr(who),
            region=repr(_region_of(self._signer)),
            service=repr(self._signer.service),
            origins=self.scope,
        )

    async def authenticate(
        self, request: ClientRequest, handler: ClientHandlerType
    ) -> ClientResponse:
        """Sign *request* (AWS "Create a signed AWS API request") and send it."""
        credentials = self._static
        if credentials is None:
            assert self._provider is not None
            credentials = await self._provider.resolve(request.session)
        self._check_request(request, credentials)
        set_default_content_type(request)
        if (wire := aws_wire_url(request.url)) is not None:
            request.url = wire
        body = request.body
        if (
            self._streams
            and not self._unsigned
            and isinstance(body, AsyncIterablePayload)
            and _READABLE_PAYLOADS
        ):
            assert isinstance(self._signer, SigV4Signer)
            signed_request = sign_streaming_upload(
                request,
                body,
                credentials,
                signer=self._signer,
                clock=self._clock,
                chunk_size=self._chunk_size,
            )
            return await handler(signed_request)
        url = request.url
        signed = self._signer.sign_headers(
            request.method,
            url.raw_path,
            url.raw_query_string,
            list(request.headers.items()),
            access_key_id=credentials.access_key_id,
            secret_access_key=credentials.secret_access_key,
            session_token=credentials.session_token,
            payload_hash=await self._payload_hash(request),
            timestamp=self._clock(),
        )
        headers = request.headers
        for name, value in signed:
            headers[name] = value
        return await handler(request)

    def _check_request(self, request: ClientRequest, credentials: AwsCredentials) -> None:
        if (
            credentials.session_token is not None
            and not self._allow_http
            and not is_secure_transport(request.url)
        ):
            raise InsecureTransportError(
                f"refusing to send a session token over plain http to {safe_url(request.url)}: "
                "use https, or allow_http=True",
                url=safe_url(request.url),
            )
        if request.compress:
            # aiohttp compresses in the writer, after signing: neither a body
            # hash nor aws-chunked frames would match the bytes sent.
            raise SigningError(
                "SigV4 cannot sign a body aiohttp compresses (compress=...): compress the "
                "body yourself and set Content-Encoding"
            )

    async def _payload_hash(self, request: ClientRequest) -> str:
        if self._unsigned:
            return UNSIGNED_PAYLOAD
        if request.body == b"":
            return EMPTY_SHA256  # no body: skip hashing b"" on every GET
        return hashlib.sha256(await body_to_sign(request)).hexdigest()


class GoogleHMACMiddleware(SigV4Middleware):
    """Sign Google Cloud Storage XML API requests with an HMAC key (``GOOG4-HMAC-SHA256``).

    Cloud Storage's V4 signing is SigV4 with Google's names (``x-goog-date``,
    ``goog4_request``); the region is ``auto`` unless a bucket's location is
    wanted.

    Args:
        access_id: the HMAC key's access id (``GOOG...``).
        secret: the HMAC key's secret.
        region: the credential scope's region.
        unsigned_payload: sign ``UNSIGNED-PAYLOAD`` instead of the body's hash.
        origins: see [`AuthMiddleware`][aiohttp_auth._middleware.AuthMiddleware].
        clock: the clock, in epoch seconds.
    """

    def __init__(
        self,
        access_id: str,
        secret: str,
        *,
        region: str = "auto",
        unsigned_payload: bool = False,
        origins: OriginsArg = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            access_id,
            secret,
            unsigned_payload=unsigned_payload,
            origins=origins,
            signer=SigV4Signer(region, "storage", scheme=GOOG4),
            clock=clock,
        )


def _region_of(signer: SigV4Signer | SigV4aSigner) -> str:
    return signer.region if isinstance(signer, SigV4Signer) else signer.region_set


def aws_wire_url(url: URL) -> URL | None:
    """Return *url* with its path and query in AWS's URI encoding, or None if already so.

    See [`wire_target`][aiohttp_auth.signing.canonical.wire_target], which
    this applies to a yarl URL.
    """
    target = wire_target(url.raw_path, url.raw_query_string)
    if target is None:
        return None
    return URL.build(
        scheme=url.scheme,
        authority=url.raw_authority,
        path=target[0],
        query_string=target[1],
        encoded=True,
    )


def _static_credentials(
    access_key_id: str | None,
    secret_access_key: str | None,
    session_token: str | None,
    credentials: CredentialsProvider | None,
) -> AwsCredentials | None:
    if credentials is not None:
        if access_key_id is not None or secret_access_key is not None:
            raise ConfigurationError("pass either access keys or credentials=, not both")
        if not isinstance(credentials, CredentialsProvider):
            raise ConfigurationError(
                f"credentials: expected a CredentialsProvider, got {type(credentials).__name__}"
            )
        return None
    if access_key_id is None or secret_access_key is None:
        raise ConfigurationError(
            "SigV4Middleware needs access_key_id and secret_access_key, or credentials= "
            "(EnvironmentCredentials(), profile_credentials(), AssumeRoleCredentials...)"
        )
    return AwsCredentials(access_key_id, secret_access_key, session_token)
