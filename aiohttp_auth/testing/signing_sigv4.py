"""An S3-like server that verifies the AWS SigV4 signature of every request it receives.

Every request, whatever its route, must be signed for the configured region
and service with one of the configured keys, in its ``Authorization`` header
or as a presigned URL (``X-Amz-*`` query). The server recomputes the
signature from what it received (method, raw path and query, the headers
named in ``SignedHeaders``, ``x-amz-content-sha256`` or the body's hash,
``X-Amz-Date``) and, for ``aws-chunked`` uploads, every chunk's signature;
it checks the clock skew, a presigned URL's expiry and the session token. A
refused request gets S3's XML error (``SignatureDoesNotMatch``,
``InvalidAccessKeyId``, ``RequestTimeTooSkewed``, ``AccessDenied``...).

An accepted request is then served:

- with service ``s3``, ``PUT``, ``GET``, ``HEAD`` and ``DELETE`` of
  ``/{bucket}/{key}`` store, return and delete objects in memory
  ([`SigV4Config.objects`][aiohttp_auth.testing.signing_sigv4.SigV4Config]);
  ``GET`` of a missing key answers 404 ``NoSuchKey``;
- ``/redirect?to=URL&status=302`` redirects, as on the resource server;
- anything else answers 200 with JSON ``{method, path, query, body_length,
  body_sha256, access_key_id, mode, signed_headers, payload_hash, chunks}``.

The signature arithmetic is the package's own sans-IO code
([`SigV4Signer`][aiohttp_auth.signing.sigv4.SigV4Signer] and its helpers), so
this server is not an independent check of it: it is for your tests and the
demo. The package's own tests check the signer against the AWS test vectors,
botocore, moto and LocalStack.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final
from xml.sax.saxutils import escape

from aiohttp import hdrs, web

from ..errors import ConfigurationError
from ..signing.credentials import AwsCredentials
from ..signing.sigv4 import SigV4Signer
from ..signing.sigv4_scheme import check_scope_part
from .resource import RecordedRequest, recording_app, redirect
from .signing_sigv4_claim import ReceivedRequest, SigV4Refusal
from .signing_sigv4_verify import VerifiedSigV4, verify_sigv4

__all__ = ["SIGV4_CONFIG", "SigV4Config", "StoredObject", "sigv4_app"]

_DEFAULT_MAX_SKEW: Final = 900.0
"""S3 refuses requests more than 15 minutes away from its clock."""


@dataclass(frozen=True)
class StoredObject:
    """An object the server holds: its bytes and the ``Content-Type`` it was put with."""

    body: bytes = field(repr=False)
    content_type: str

    @property
    def etag(self) -> str:
        """The ``ETag``: the quoted hex MD5 of the body, as S3 gives a single-part upload."""
        return '"' + hashlib.md5(self.body, usedforsecurity=False).hexdigest() + '"'


@dataclass
class SigV4Config:
    """What the SigV4 server accepts, and what it has seen.

    The server reads it on every request, so a test may change it (add a key,
    move the clock) after the server started. The records (from ``accepted``
    on) are the server's; [`reset`][aiohttp_auth.testing.signing_sigv4.SigV4Config.reset]
    clears them.

    Attributes:
        region: the region of the credential scope the server expects.
        service: the service's signing name; ``s3`` also turns on S3's path
            rules, its ``x-amz-content-sha256`` requirement and the object store.
        credentials: access key id -> secret access key. Not shown in repr.
        session_tokens: access key id -> the session token its requests must
            carry (temporary credentials). Not shown in repr.
        max_skew: seconds ``X-Amz-Date`` may be away from *clock* (S3: 900).
        clock: the server's clock, epoch seconds; tests pass a fake one to
            skew time or expire presigned URLs.
        accepted: requests whose signature verified.
        rejected: refusals counted by S3 error code.
        rejections: ``"Code: message"`` for each refusal, in order.
        verified: what verified, for each accepted request, in order.
        objects: the object store, ``"bucket/key"`` -> object.
        requests: every request received, whatever its route.
        statuses: the status answered to each of *requests*, in the same order.
    """

    region: str = "us-east-1"
    service: str = "s3"
    credentials: dict[str, str] = field(default_factory=dict, repr=False)
    session_tokens: dict[str, str] = field(default_factory=dict, repr=False)
    max_skew: float = _DEFAULT_MAX_SKEW
    clock: Callable[[], float] = field(default=time.time, repr=False)
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    rejections: list[str] = field(default_factory=list)
    verified: list[VerifiedSigV4] = field(default_factory=list, repr=False)
    objects: dict[str, StoredObject] = field(default_factory=dict, repr=False)
    requests: list[RecordedRequest] = field(default_factory=list, repr=False)
    statuses: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check the settings; ``sigv4_app`` checks them too.

        Raises:
            ConfigurationError: an empty or invalid region or service, or a
                *max_skew* that is not positive.
        """
        check_scope_part("region", self.region)
        check_scope_part("service", self.service)
        if not self.max_skew > 0:
            raise ConfigurationError(f"SigV4Config.max_skew must be > 0 s, not {self.max_skew!r}")

    def accept(self, credentials: AwsCredentials) -> None:
        """Accept *credentials*: its key id and secret, and its session token if it has one."""
        self.credentials[credentials.access_key_id] = credentials.secret_access_key
        if credentials.session_token is not None:
            self.session_tokens[credentials.access_key_id] = credentials.session_token

    def reset(self) -> None:
        """Clear the records and the object store; the settings and keys stay."""
        self.accepted = 0
        self.rejected.clear()
        self.rejections.clear()
        self.verified.clear()
        self.objects.clear()
        self.requests.clear()
        self.statuses.clear()


SIGV4_CONFIG: Final = web.AppKey("sigv4_config", SigV4Config)
"""The key of the [`SigV4Config`][aiohttp_auth.testing.signing_sigv4.SigV4Config] in the app."""


def _error_response(refusal: SigV4Refusal) -> web.Response:
    """Answer as S3 does: an XML ``<Error>`` document (S3 API Reference, "Error responses")."""
    parts = [
        f"<Code>{escape(refusal.code)}</Code>",
        f"<Message>{escape(refusal.message)}</Message>",
    ]
    if refusal.string_to_sign is not None:
        parts.append(f"<StringToSign>{escape(refusal.string_to_sign)}</StringToSign>")
    if refusal.canonical_request is not None:
        parts.append(f"<CanonicalRequest>{escape(refusal.canonical_request)}</CanonicalRequest>")
    xml = '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' + "".join(parts) + "</Error>"
    return web.Response(status=refusal.status, text=xml, content_type="application/xml")


def _echo(request: web.Request, verified: VerifiedSigV4) -> web.Response:
    description: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "query": dict(request.query),
        "body_length": len(verified.body),
        "body_sha256": hashlib.sha256(verified.body).hexdigest(),
        "access_key_id": verified.access_key_id,
        "mode": verified.mode,
        "signed_headers": list(verified.signed_headers),
        "payload_hash": verified.payload_hash,
        "chunks": verified.chunks,
    }
    return web.json_response(description)


def _object_key(config: SigV4Config, request: web.Request) -> str | None:
    """Return ``bucket/key`` for an S3 object request, or None for anything else."""
    if config.service != "s3" or request.method not in ("PUT", "GET", "HEAD", "DELETE"):
        return None
    bucket, _, key = request.path[1:].partition("/")
    return f"{bucket}/{key}" if bucket and key else None


def _serve_object(
    config: SigV4Config, request: web.Request, name: str, body: bytes
) -> web.Response:
    """Put, get or delete the object *name* (S3 PutObject, GetObject, DeleteObject)."""
    if request.method == "PUT":
        content_type = request.headers.get(hdrs.CONTENT_TYPE, "binary/octet-stream")
        stored = config.objects[name] = StoredObject(body, content_type)
        return web.Response(headers={hdrs.ETAG: stored.etag})
    if request.method == "DELETE":
        config.objects.pop(name, None)
        return web.Response(status=204)
    found = config.objects.get(name)
    if found is None:
        return _error_response(
            SigV4Refusal("NoSuchKey", "The specified key does not exist.", status=404)
        )
    return web.Response(
        body=found.body, content_type=found.content_type, headers={hdrs.ETAG: found.etag}
    )


def _respond(config: SigV4Config, request: web.Request, body: bytes) -> web.StreamResponse:
    raw_path, _, raw_query = request.raw_path.partition("?")
    headers = tuple(
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in request.raw_headers
    )
    try:
        verified = verify_sigv4(
            ReceivedRequest(request.method, raw_path, raw_query, headers, body),
            signer=SigV4Signer(config.region, config.service),
            credentials=config.credentials,
            session_tokens=config.session_tokens,
            now=config.clock(),
            max_skew=config.max_skew,
        )
    except SigV4Refusal as refusal:
        config.rejected[refusal.code] += 1
        config.rejections.append(str(refusal))
        return _error_response(refusal)
    config.accepted += 1
    config.verified.append(verified)
    if request.path == "/redirect":
        return redirect(request)
    name = _object_key(config, request)
    if name is not None:
        return _serve_object(config, request, name, verified.body)
    return _echo(request, verified)


def sigv4_app(config: SigV4Config | None = None) -> web.Application:
    """Build the SigV4-verifying application for *config* (a fresh one by default).

    Raises:
        ConfigurationError: *config* is invalid (see
            [`SigV4Config.validate`][aiohttp_auth.testing.signing_sigv4.SigV4Config.validate]).
    """
    config = config if config is not None else SigV4Config()
    config.validate()
    return recording_app(SIGV4_CONFIG, config, _respond)
