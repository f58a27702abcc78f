"""A server that verifies the HTTP Message Signature (RFC 9421) of every request it receives.

Every request, whatever its route, must carry a signature (``Signature-Input``
and ``Signature``, RFC 9421 §4) that
[`verify_request`][aiohttp_auth.signing.httpsig_verify.verify_request]
accepts with the configured keys and policy; a request with a body must
cover ``content-digest``, and the digest must match the body (RFC 9530 §2,
RFC 9421 §7.2.8). Answers:

- unsigned: 401 ``{"error": "unsigned", "reason": ...}``;
- a signature that does not verify: 403 ``{"error": "invalid_signature", "reason": ...}``;
- verified, ``/redirect?to=URL&status=302``: a redirect, as on the resource server;
- verified, anything else: 200 with JSON ``{method, path, query, body_length,
  body_sha256, label, key_id, algorithm, components, body_verified}``.

Verification is the package's own sans-IO code, so this server is not an
independent check of it: it is for your tests and the demo. The package's
own tests check it against RFC 9421's examples and the
``http-message-signatures`` library.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from aiohttp import web

from ..errors import SigningError
from ..signing.content_digest import verify_content_digest
from ..signing.httpsig_keys import VerifyingKeyArg
from ..signing.httpsig_message import TargetURI, normalise_authority
from ..signing.httpsig_policy import VerificationPolicy
from ..signing.httpsig_verify import VerifiedSignature, verify_request
from .resource import RecordedRequest, recording_app, redirect

__all__ = ["HTTPSIG_CONFIG", "HTTPSigConfig", "httpsig_app"]

_CONTENT_DIGEST: Final = "Content-Digest"


@dataclass
class HTTPSigConfig:
    """What the RFC 9421 server accepts, and what it has seen.

    The server reads it on every request, so a test may change it after the
    server started. The records (from ``accepted`` on) are the server's;
    [`reset`][aiohttp_auth.testing.signing_httpsig.HTTPSigConfig.reset] clears them.

    Attributes:
        keys: ``keyid`` -> verification key: a public key (object or PEM)
            or an HMAC secret (``bytes``). Not shown in repr.
        algorithm: the one algorithm accepted, or None to let each key decide.
        required_components: what every signature must cover.
        require_content_digest: a request with a body (or a
            ``Content-Digest``) must cover ``content-digest``; a covered
            digest is checked against the body either way.
        tag: the ``tag`` parameter a signature must have, or None.
        max_age: the oldest ``created`` accepted, in seconds; None accepts
            any age and signatures without ``created``.
        clock_skew: the seconds of disagreement allowed between clocks.
        clock: the server's clock, epoch seconds.
        accepted: requests whose signature verified.
        rejected: refusals counted by kind: ``"unsigned"`` or ``"invalid_signature"``.
        rejections: the reason of each refusal, in order.
        verified: the signature that verified, for each accepted request, in order.
        requests: every request received, whatever its route.
        statuses: the status answered to each of *requests*, in the same order.
    """

    keys: dict[str, VerifyingKeyArg] = field(default_factory=dict, repr=False)
    algorithm: str | None = None
    required_components: tuple[str, ...] = ("@method", "@authority", "@path")
    require_content_digest: bool = True
    tag: str | None = None
    max_age: float | None = 300.0
    clock_skew: float = 5.0
    clock: Callable[[], float] = field(default=time.time, repr=False)
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    rejections: list[str] = field(default_factory=list)
    verified: list[VerifiedSignature] = field(default_factory=list, repr=False)
    requests: list[RecordedRequest] = field(default_factory=list, repr=False)
    statuses: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check the settings as ``verify_request`` would; ``httpsig_app`` checks them too.

        Raises:
            ConfigurationError: an unknown algorithm, an invalid component
                identifier, or a negative *max_age* or *clock_skew*.
        """
        VerificationPolicy.build(
            key=self.keys,
            algorithm=self.algorithm,
            tag=self.tag,
            required_components=self.required_components,
            body=None,
            max_age=self.max_age,
            clock_skew=self.clock_skew,
            now=0.0,
            structured_fields=None,
        )

    def reset(self) -> None:
        """Clear the records (counters and lists); the settings and keys stay."""
        self.accepted = 0
        self.rejected.clear()
        self.rejections.clear()
        self.verified.clear()
        self.requests.clear()
        self.statuses.clear()


HTTPSIG_CONFIG: Final = web.AppKey("httpsig_config", HTTPSigConfig)
"""The key of the [`HTTPSigConfig`][aiohttp_auth.testing.signing_httpsig.HTTPSigConfig]."""


def _verify(config: HTTPSigConfig, request: web.Request, body: bytes) -> VerifiedSignature:
    """Verify *request*'s signature (RFC 9421 §3.2) and a covered ``Content-Digest``."""
    headers = [
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in request.raw_headers
    ]
    raw_path, _, raw_query = request.raw_path.partition("?")
    target = TargetURI(
        request.scheme, normalise_authority(request.host, request.scheme), raw_path, raw_query
    )
    must_cover = config.require_content_digest and (
        bool(body) or _CONTENT_DIGEST in request.headers
    )
    verified = verify_request(
        request.method,
        target,
        headers,
        key=config.keys,
        algorithm=config.algorithm,
        tag=config.tag,
        required_components=config.required_components,
        body=body if must_cover else None,
        max_age=config.max_age,
        clock_skew=config.clock_skew,
        now=config.clock(),
    )
    if not verified.body_verified and "content-digest" in verified.components:
        # Covered though not required: a digest that vouches for another body
        # must still be refused.
        verify_content_digest(request.headers.getall(_CONTENT_DIGEST, []), body)
        return dataclasses.replace(verified, body_verified=True)
    return verified


def _describe(request: web.Request, body: bytes, verified: VerifiedSignature) -> web.Response:
    return web.json_response(
        {
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "body_length": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "label": verified.label,
            "key_id": verified.key_id,
            "algorithm": verified.algorithm,
            "components": list(verified.components),
            "body_verified": verified.body_verified,
        }
    )


def _refuse(config: HTTPSigConfig, kind: str, reason: str, status: int) -> web.Response:
    config.rejected[kind] += 1
    config.rejections.append(reason)
    return web.json_response({"error": kind, "reason": reason}, status=status)


def _respond(config: HTTPSigConfig, request: web.Request, body: bytes) -> web.StreamResponse:
    if "Signature-Input" not in request.headers and "Signature" not in request.headers:
        return _refuse(config, "unsigned", "the request has no Signature-Input", 401)
    try:
        verified = _verify(config, request, body)
    except SigningError as exc:
        # SignatureVerificationError, or the SigningError verify_request lets
        # through for an announced alg that contradicts the pin or the key.
        return _refuse(config, "invalid_signature", str(exc), 403)
    config.accepted += 1
    config.verified.append(verified)
    if request.path == "/redirect":
        return redirect(request)
    return _describe(request, body, verified)


def httpsig_app(config: HTTPSigConfig | None = None) -> web.Application:
    """Build the RFC 9421-verifying application for *config* (a fresh one, no keys, by default).

    Raises:
        ConfigurationError: *config* is invalid (see
            [`HTTPSigConfig.validate`][aiohttp_auth.testing.signing_httpsig.HTTPSigConfig.validate]).
    """
    config = config if config is not None else HTTPSigConfig()
    config.validate()
    return recording_app(HTTPSIG_CONFIG, config, _respond)
