"""Checking a received AWS SigV4 request the way S3 does, from plain values.

[`verify_sigv4`][] takes a request as the server received it (method, raw
path, raw query, header lines, body) and either returns what verified or
raises [`SigV4Refusal`][aiohttp_auth.testing.signing_sigv4_claim.SigV4Refusal]
carrying the S3 error code, the HTTP status and a message. It recomputes the
signature of an ``Authorization`` header or of a presigned URL's ``X-Amz-*``
query, and of each chunk of an ``aws-chunked`` body (Amazon S3 API
Reference, "Authenticating Requests (AWS Signature Version 4)").

The arithmetic is the package's own sans-IO code (canonical request, string
to sign, signing key, chunk signatures), so this is not an independent
check of it: the test suite checks that code against the AWS test vectors,
botocore, moto and LocalStack. What this module adds is the server's side:
which values the signature is recomputed from, and S3's rules about time,
scope, tokens, unsigned ``x-amz-*`` headers and the payload hash.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import re
import time
from dataclasses import dataclass, field
from typing import Final, Literal

from ..errors import SigningError
from ..signing.aws_chunked import STREAMING_PAYLOAD
from ..signing.canonical import canonical_request
from ..signing.sigv4 import AWS4, UNSIGNED_PAYLOAD, SigV4Signer
from ..signing.sigv4_scheme import string_to_sign
from .signing_sigv4_chunks import decode_streaming
from .signing_sigv4_claim import (
    ReceivedRequest,
    SigV4Claim,
    SigV4Refusal,
    header_value,
    malformed,
    read_claim,
)

__all__ = ["VerifiedSigV4", "verify_sigv4"]

_AMZ_DATE: Final = "%Y%m%dT%H%M%SZ"
# The token's header line, or its query parameter (X-Amz-Security-Token=).
_TOKEN_VALUE: Final = re.compile(r"(^x-amz-security-token:|X-Amz-Security-Token=)[^&\n]*", re.M)


@dataclass(frozen=True)
class VerifiedSigV4:
    """A request whose signature verified, and how it was signed.

    Attributes:
        access_key_id: the access key id that signed it.
        method: its method.
        path: its raw path.
        mode: ``"header"`` (``Authorization``) or ``"presigned"`` (query).
        signed_headers: the names of the signed headers, lower case.
        payload_hash: the payload hash signed: hex SHA-256,
            ``UNSIGNED-PAYLOAD`` or ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``.
        chunks: the ``aws-chunked`` chunks verified, the final empty one
            included (0 for other bodies).
        session_token: whether a session token was presented (and matched).
        body: the body, ``aws-chunked`` framing removed.
    """

    access_key_id: str
    method: str
    path: str
    mode: Literal["header", "presigned"]
    signed_headers: tuple[str, ...]
    payload_hash: str
    chunks: int
    session_token: bool
    body: bytes = field(repr=False)


def _same(expected: str, received: str) -> bool:
    # compare_digest refuses non-ASCII str, and a hostile client may send any byte.
    return hmac.compare_digest(
        expected.encode("utf-8", "surrogateescape"), received.encode("utf-8", "surrogateescape")
    )


def _check_time(claim: SigV4Claim, now: float, max_skew: float) -> None:
    """Refuse a request too far from the server's clock, or a presigned URL that expired."""
    try:
        signed_at = calendar.timegm(time.strptime(claim.request_date, _AMZ_DATE))
    except ValueError:
        raise SigV4Refusal(
            "AccessDenied",
            f"AWS authentication requires a valid X-Amz-Date (YYYYMMDDTHHMMSSZ), "
            f"not {claim.request_date!r}",
        ) from None
    if claim.expires is not None:
        if now > signed_at + claim.expires:
            raise SigV4Refusal(
                "AccessDenied", f"Request has expired: it was valid for {claim.expires} s"
            )
        if signed_at - now > max_skew:
            raise SigV4Refusal("AccessDenied", "Request is not valid yet: X-Amz-Date is ahead")
    elif abs(now - signed_at) > max_skew:
        raise SigV4Refusal(
            "RequestTimeTooSkewed",
            f"The difference between the request time and the server's time is "
            f"{abs(now - signed_at):.0f} s, more than {max_skew:g} s",
        )


def _check_token(claim: SigV4Claim, expected: str | None) -> None:
    """Require exactly the session token issued with the key id (S3 ``InvalidToken``)."""
    if claim.token is None and expected is None:
        return
    if claim.token is None or expected is None or not _same(expected, claim.token):
        what = "takes no session token" if expected is None else "needs the token issued with it"
        raise SigV4Refusal(
            "InvalidToken",
            f"The provided token is malformed or otherwise invalid: access key "
            f"{claim.access_key_id!r} {what}",
            status=400,
        )


def _signed_pairs(claim: SigV4Claim, received: ReceivedRequest) -> list[tuple[str, str]]:
    """The header lines the signature covers; refuse unsigned ``x-amz-*`` ones."""
    names = claim.signed_headers.split(";")
    if "host" not in names:
        raise malformed(claim.mode, "SignedHeaders must include host")
    present = {name.lower() for name, _ in received.headers}
    absent = [name for name in names if name not in present]
    if absent:
        raise SigV4Refusal(
            "SignatureDoesNotMatch", f"signed headers missing from the request: {absent}"
        )
    unsigned = sorted(name for name in present - set(names) if name.startswith("x-amz-"))
    if unsigned:
        raise SigV4Refusal(
            "AccessDenied",
            f"There were headers present in the request which were not signed: {unsigned}",
        )
    return [(name, value) for name, value in received.headers if name.lower() in names]


def _payload_hash(claim: SigV4Claim, received: ReceivedRequest, s3: bool) -> str:
    """Return the payload hash to recompute with (S3 ``x-amz-content-sha256`` rules)."""
    body_hash = hashlib.sha256(received.body).hexdigest()
    if claim.mode == "presigned":
        return UNSIGNED_PAYLOAD if s3 else body_hash
    declared = header_value(received.headers, "x-amz-content-sha256")
    if declared is None:
        if s3:
            raise SigV4Refusal(
                "InvalidRequest",
                "Missing required header for this request: x-amz-content-sha256",
                status=400,
            )
        return body_hash
    if declared in (UNSIGNED_PAYLOAD, STREAMING_PAYLOAD):
        return declared
    if not _same(body_hash, declared.lower()):
        raise SigV4Refusal(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed "
            "from the body",
            status=400,
        )
    return declared


def _redacted(canonical: str) -> str:
    """Hide the session token in a canonical request shown in an error."""
    return _TOKEN_VALUE.sub(r"\1<redacted>", canonical)


def _check_signature(
    claim: SigV4Claim,
    received: ReceivedRequest,
    signer: SigV4Signer,
    key: bytes,
    pairs: list[tuple[str, str]],
    payload_hash: str,
) -> tuple[str, str]:
    """Recompute the signature from what was received (AWS "Create a canonical request").

    Returns:
        The signature and the canonical SignedHeaders list.

    Raises:
        SigV4Refusal: ``SignatureDoesNotMatch``, with the string to sign and
            the canonical request computed.
    """
    try:
        canonical, signed = canonical_request(
            received.method,
            received.raw_path,
            claim.canonical_query,
            pairs,
            payload_hash,
            normalize_path=signer.normalize_path,
            double_encode=not signer.s3,
            unsigned_headers=(),
        )
    except SigningError as exc:
        raise SigV4Refusal(
            "SignatureDoesNotMatch", f"the request cannot be signed: {exc}"
        ) from None
    to_sign = string_to_sign(AWS4.algorithm, claim.request_date, claim.scope, canonical)
    expected = hmac.digest(key, to_sign.encode(), "sha256").hex()
    # A SignedHeaders list out of canonical form was not what the client signed either.
    if signed != claim.signed_headers or not _same(expected, claim.signature):
        raise SigV4Refusal(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
            string_to_sign=to_sign,
            canonical_request=_redacted(canonical),
        )
    return expected, signed


def verify_sigv4(
    received: ReceivedRequest,
    *,
    signer: SigV4Signer,
    credentials: dict[str, str],
    session_tokens: dict[str, str],
    now: float,
    max_skew: float,
) -> VerifiedSigV4:
    """Check *received*'s SigV4 signature as S3 would, recomputing it.

    Args:
        received: the request as received.
        signer: a signer for the server's region and service (its path rules
            and cached signing keys are used).
        credentials: access key id -> secret access key.
        session_tokens: access key id -> the session token it must present.
        now: the server's time, epoch seconds.
        max_skew: the largest difference allowed between ``X-Amz-Date`` and
            *now* (S3: 900 s); for presigned URLs, how far ahead it may be.

    Returns:
        What verified.

    Raises:
        SigV4Refusal: the request is unsigned, malformed, signed with an
            unknown key, stale, expired, or does not match its signature.
    """
    claim = read_claim(received)
    secret = credentials.get(claim.access_key_id)
    if secret is None:
        raise SigV4Refusal(
            "InvalidAccessKeyId",
            f"The AWS Access Key Id you provided does not exist in our records: "
            f"{claim.access_key_id!r}",
        )
    _check_time(claim, now, max_skew)
    scope = f"{claim.request_date[:8]}/{signer.region}/{signer.service}/aws4_request"
    if claim.scope != scope:
        raise malformed(
            claim.mode,
            f"the credential scope {claim.scope!r} is not {scope!r}: check the region, "
            "the service and the date",
        )
    _check_token(claim, session_tokens.get(claim.access_key_id))
    pairs = _signed_pairs(claim, received)
    payload_hash = _payload_hash(claim, received, signer.s3)
    key = signer.signing_key(secret, claim.request_date[:8])
    signature, signed = _check_signature(claim, received, signer, key, pairs, payload_hash)
    body, chunks = received.body, 0
    if payload_hash == STREAMING_PAYLOAD:
        body, chunks = decode_streaming(received, key, claim, signature)
    return VerifiedSigV4(
        access_key_id=claim.access_key_id,
        method=received.method,
        path=received.raw_path,
        mode=claim.mode,
        signed_headers=tuple(signed.split(";")),
        payload_hash=payload_hash,
        chunks=chunks,
        session_token=claim.token is not None,
        body=body,
    )
