"""Reading what a received AWS SigV4 request says it was signed with.

A request is signed either in its ``Authorization`` header or, presigned, in
its ``X-Amz-*`` query parameters (Amazon S3 API Reference, "Authenticating
Requests (AWS Signature Version 4)"). [`read_claim`][] reads either into one
[`SigV4Claim`][]; a request with neither, both, or a malformed one raises
[`SigV4Refusal`][] with the S3 error code and status.
"""

from __future__ import annotations

import re
from typing import Final, Literal, NamedTuple
from urllib.parse import unquote

from ..signing.sigv4 import AWS4, MAX_PRESIGN_EXPIRES

__all__ = [
    "ReceivedRequest",
    "SigV4Claim",
    "SigV4Refusal",
    "header_value",
    "malformed",
    "read_claim",
]

_ALGORITHM: Final = AWS4.algorithm
_SIGNATURE_PARAMETER: Final = "X-Amz-Signature"
# ASCII digits only: str.isdigit() also takes "²", which int() refuses, and
# int() refuses more than 4300 digits.
_EXPIRES: Final = re.compile(r"[0-9]{1,16}")


class ReceivedRequest(NamedTuple):
    """A request as the server received it.

    Attributes:
        method: the method.
        raw_path: the path as sent, percent-encoding included.
        raw_query: the query as sent, without ``?``.
        headers: every header line as ``(name, value)``, in order.
        body: the body as sent (still ``aws-chunked`` framed, if it was).
    """

    method: str
    raw_path: str
    raw_query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


class SigV4Refusal(Exception):
    """A request S3 would refuse: its error code, HTTP status and message.

    Attributes:
        code: the S3 error code, e.g. ``SignatureDoesNotMatch``.
        status: the HTTP status, 400 or 403.
        message: why, naming what was checked; never a secret.
        string_to_sign: the string to sign the server computed, for a
            signature that does not match (S3 returns it too).
        canonical_request: the canonical request the server computed, the
            session token redacted.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 403,
        string_to_sign: str | None = None,
        canonical_request: str | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.status = status
        self.message = message
        self.string_to_sign = string_to_sign
        self.canonical_request = canonical_request


class SigV4Claim(NamedTuple):
    """What a request says it was signed with.

    Attributes:
        mode: ``"header"`` or ``"presigned"``.
        access_key_id: the access key id of the credential.
        scope: the credential scope, ``date/region/service/aws4_request``.
        request_date: ``X-Amz-Date``, ``YYYYMMDDTHHMMSSZ`` (``""`` if absent).
        signed_headers: the ``SignedHeaders`` list, as received.
        signature: the signature, as received.
        expires: a presigned URL's ``X-Amz-Expires``, or None.
        token: the session token presented, or None.
        canonical_query: the query the signature covers (a presigned URL's
            without ``X-Amz-Signature``), still raw.
    """

    mode: Literal["header", "presigned"]
    access_key_id: str
    scope: str
    request_date: str
    signed_headers: str
    signature: str
    expires: int | None
    token: str | None
    canonical_query: str


def malformed(mode: str, message: str) -> SigV4Refusal:
    """Return the refusal of a malformed header (or query) signature: 400."""
    if mode == "header":
        return SigV4Refusal("AuthorizationHeaderMalformed", message, status=400)
    return SigV4Refusal("AuthorizationQueryParametersError", message, status=400)


def header_value(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    """Return the first value of header *name* (lower case) in *headers*, or None."""
    return next((value for key, value in headers if key.lower() == name), None)


def _header_claim(authorization: str, received: ReceivedRequest) -> SigV4Claim:
    """Read ``Authorization: AWS4-HMAC-SHA256 Credential=.., SignedHeaders=.., Signature=..``."""
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme != _ALGORITHM:
        raise SigV4Refusal(
            "InvalidArgument",
            f"Unsupported Authorization Type {scheme!r}: this server verifies {_ALGORITHM} only",
            status=400,
        )
    params: dict[str, str] = {}
    for part in rest.split(","):
        name, _, value = part.strip().partition("=")
        params[name] = value
    required = ("Credential", "SignedHeaders", "Signature")
    missing = [name for name in required if not params.get(name)]
    if missing:
        raise malformed("header", f"the Authorization header has no {', '.join(missing)}")
    key_id, _, scope = params["Credential"].partition("/")
    return SigV4Claim(
        "header",
        key_id,
        scope,
        header_value(received.headers, "x-amz-date") or "",
        params["SignedHeaders"],
        params["Signature"],
        None,
        header_value(received.headers, "x-amz-security-token"),
        received.raw_query,
    )


def _query_claim(parameters: dict[str, str], received: ReceivedRequest) -> SigV4Claim:
    """Read the ``X-Amz-*`` parameters of a presigned URL (S3 "Using Query Parameters")."""
    if parameters.get("X-Amz-Algorithm") != _ALGORITHM:
        raise malformed("presigned", f"X-Amz-Algorithm only supports {_ALGORITHM!r}")
    names = ("X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires")
    missing = [name for name in (*names, _SIGNATURE_PARAMETER) if not parameters.get(name)]
    if missing:
        raise malformed("presigned", f"the query has no {', '.join(missing)}")
    expires = parameters["X-Amz-Expires"]
    if _EXPIRES.fullmatch(expires) is None or not 1 <= int(expires) <= MAX_PRESIGN_EXPIRES:
        raise malformed(
            "presigned", f"X-Amz-Expires must be 1 to {MAX_PRESIGN_EXPIRES} s, not {expires!r}"
        )
    key_id, _, scope = parameters["X-Amz-Credential"].partition("/")
    # The signature is the one parameter not signed (S3 "Using Query Parameters").
    unsigned = [
        part
        for part in received.raw_query.split("&")
        if part.partition("=")[0] != _SIGNATURE_PARAMETER
    ]
    return SigV4Claim(
        "presigned",
        key_id,
        scope,
        parameters["X-Amz-Date"],
        parameters["X-Amz-SignedHeaders"],
        parameters[_SIGNATURE_PARAMETER],
        int(expires),
        parameters.get("X-Amz-Security-Token"),
        "&".join(unsigned),
    )


def read_claim(received: ReceivedRequest) -> SigV4Claim:
    """Read how *received* says it was signed: its header, or its presigned query.

    Raises:
        SigV4Refusal: unsigned (``AccessDenied``), signed both ways or with
            another algorithm (``InvalidArgument``), or malformed.
    """
    parameters: dict[str, str] = {}
    for part in received.raw_query.split("&"):
        name, _, value = part.partition("=")
        if name.startswith("X-Amz-"):
            parameters.setdefault(name, unquote(value))
    authorization = header_value(received.headers, "authorization")
    if authorization is not None and _SIGNATURE_PARAMETER in parameters:
        raise SigV4Refusal(
            "InvalidArgument",
            "Only one auth mechanism allowed: the request has an Authorization header "
            "and an X-Amz-Signature query parameter",
            status=400,
        )
    if authorization is not None:
        return _header_claim(authorization, received)
    if "X-Amz-Algorithm" in parameters:
        return _query_claim(parameters, received)
    raise SigV4Refusal(
        "AccessDenied",
        "Anonymous access is denied: the request has neither an Authorization header "
        "nor a presigned query",
    )
