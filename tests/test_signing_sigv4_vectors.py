"""SigV4 against the AWS signing test suite (aws-c-auth), header and query variants.

Every case under ``tests/vectors/aws-signing-test-suite/v4`` is checked for
both ways of signing: the canonical request, the string to sign, the
signature and the signed request itself.

``request.txt`` is turned into what aiohttp would send, deterministically:

- the request target is everything between the method and the last space
  (the path may hold a space), split at the first ``?``;
- the path and query go in *verbatim*. Two cases carry an unencoded path
  (``get-space-*``: ``/example space/``, ``get-utf8``: ``/ሴ``). aws-c-auth
  hands the path to its signer as given and its "double encoding" encodes
  whatever it gets once more; ``canonical_request`` does the same with
  ``raw_path``, so the verbatim path reproduces the suite. (A real aiohttp
  request to ``/example space/`` puts ``/example%20space/`` on the wire,
  which a non-S3 service canonicalises as ``/example%2520space/``: that case
  is pinned against botocore in ``tests/vectors/sigv4-encoded-paths.json``.)
- a header line starting with whitespace continues the previous value
  (obs-fold); it is unfolded into one line by replacing the fold with a
  single space, as RFC 9112 §5.2 tells a recipient to do. aiohttp refuses a
  newline in a header value, so this is the only form it could send;
- the text after the blank line is the body.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest

from aiohttp_auth.signing.canonical import canonical_request
from aiohttp_auth.signing.sigv4 import EMPTY_SHA256, SigV4Signer
from aiohttp_auth.signing.sigv4_scheme import AWS4, credential_scope, string_to_sign

SUITE = Path(__file__).parent / "vectors" / "aws-signing-test-suite" / "v4"
CASES = sorted(path.name for path in SUITE.iterdir() if path.is_dir())


class Request:
    """One request.txt (or *-signed-request.txt), parsed."""

    def __init__(self, text: str) -> None:
        head, _, self.body = text.partition("\n\n")
        request_line, *header_lines = head.split("\n")
        self.method, _, rest = request_line.partition(" ")
        target, _, self.version = rest.rpartition(" ")
        self.path, _, self.query = target.partition("?")
        self.headers: list[tuple[str, str]] = []
        for line in header_lines:
            if not line:  # the newline ending a file without a body
                continue
            if line[:1] in (" ", "\t"):
                name, value = self.headers.pop()
                self.headers.append((name, f"{value} {line.strip()}"))
            else:
                name, _, value = line.partition(":")
                self.headers.append((name, value))


def load(case: str) -> tuple[Request, dict[str, Any]]:
    folder = SUITE / case
    request = Request((folder / "request.txt").read_text(encoding="utf-8"))
    context = json.loads((folder / "context.json").read_text(encoding="utf-8"))
    return request, context


def expected(case: str, name: str) -> str:
    return (SUITE / case / name).read_text(encoding="utf-8")


def timestamp_of(context: dict[str, Any]) -> int:
    return calendar.timegm(time.strptime(context["timestamp"], "%Y-%m-%dT%H:%M:%SZ"))


def signer_for(context: dict[str, Any]) -> SigV4Signer:
    return SigV4Signer(
        context["region"],
        context["service"],
        normalize_path=context["normalize"],
        omit_session_token=context.get("omit_session_token", False),
    )


def payload_of(request: Request, context: dict[str, Any]) -> str:
    if context["sign_body"]:
        return hashlib.sha256(request.body.encode()).hexdigest()
    return EMPTY_SHA256


def credentials_of(context: dict[str, Any]) -> dict[str, Any]:
    credentials = context["credentials"]
    return {
        "access_key_id": credentials["access_key_id"],
        "secret_access_key": credentials["secret_access_key"],
        "session_token": credentials.get("token"),
    }


def lowered(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted((name.lower(), value) for name, value in headers)


def signature_of(signer: SigV4Signer, context: dict[str, Any], canonical: str) -> str:
    request_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(timestamp_of(context)))
    scope = credential_scope(request_date[:8], context["region"], context["service"])
    to_sign = string_to_sign(AWS4.algorithm, request_date, scope, canonical)
    key = signer.signing_key(context["credentials"]["secret_access_key"], request_date[:8])
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("case", CASES)
def test_header_signing_matches_suite(case: str) -> None:
    request, context = load(case)
    signer = signer_for(context)
    added = signer.sign_headers(
        request.method,
        request.path,
        request.query,
        request.headers,
        **credentials_of(context),
        payload_hash=payload_of(request, context),
        timestamp=timestamp_of(context),
        content_sha256_header=context["sign_body"],
    )

    signed = Request(expected(case, "header-signed-request.txt"))
    assert (signed.method, signed.path, signed.query) == (
        request.method,
        request.path,
        request.query,
    )
    original = lowered(request.headers)
    new_headers = list(lowered(signed.headers))
    for header in original:
        new_headers.remove(header)
    assert lowered(added) == new_headers
    assert signed.body == request.body

    # The canonical request and string to sign behind that signature: the
    # signed headers are the request's plus the ones the signer set, minus a
    # session token the context says to leave unsigned.
    signed_added = [(name, value) for name, value in added if name != "Authorization"]
    if context.get("omit_session_token"):
        signed_added = [h for h in signed_added if h[0] != "X-Amz-Security-Token"]
    canonical, signed_names = canonical_request(
        request.method,
        request.path,
        request.query,
        request.headers + signed_added,
        payload_of(request, context),
        normalize_path=context["normalize"],
    )
    assert canonical == expected(case, "header-canonical-request.txt")
    assert f"SignedHeaders={signed_names}," in dict(added)["Authorization"]
    assert signature_of(signer, context, canonical) == expected(case, "header-signature.txt")
    assert dict(added)["Authorization"].endswith(
        "Signature=" + expected(case, "header-signature.txt")
    )


@pytest.mark.parametrize("case", CASES)
def test_string_to_sign_matches_suite(case: str) -> None:
    _, context = load(case)
    request_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(timestamp_of(context)))
    scope = credential_scope(request_date[:8], context["region"], context["service"])
    for variant in ("header", "query"):
        canonical = expected(case, f"{variant}-canonical-request.txt")
        assert string_to_sign(AWS4.algorithm, request_date, scope, canonical) == expected(
            case, f"{variant}-string-to-sign.txt"
        )


@pytest.mark.parametrize("case", CASES)
def test_presigned_url_matches_suite(case: str) -> None:
    request, context = load(case)
    signer = signer_for(context)
    query = signer.presign(
        request.method,
        request.path,
        request.query,
        request.headers,
        **credentials_of(context),
        timestamp=timestamp_of(context),
        expires=context["expiration_in_seconds"],
        payload_hash=payload_of(request, context),
    )

    signed = Request(expected(case, "query-signed-request.txt"))
    assert (signed.method, signed.path, signed.query) == (request.method, request.path, query)
    assert signed.headers == request.headers
    assert signed.body == request.body

    unsigned_query, _, signature = query.rpartition("&X-Amz-Signature=")
    assert signature == expected(case, "query-signature.txt")
    if context.get("omit_session_token"):
        unsigned_query = unsigned_query.partition("&X-Amz-Security-Token=")[0]
    canonical, _ = canonical_request(
        request.method,
        request.path,
        unsigned_query,
        request.headers,
        payload_of(request, context),
        normalize_path=context["normalize"],
    )
    assert canonical == expected(case, "query-canonical-request.txt")
    assert signature_of(signer, context, canonical) == signature


def test_suite_is_complete() -> None:
    # A truncated copy would silently test less: the commit pinned in
    # SOURCE.txt has 38 SigV4 cases, each with both variants.
    assert len(CASES) == 38
    for case in CASES:
        for variant in ("header", "query"):
            for part in ("canonical-request", "string-to-sign", "signature", "signed-request"):
                assert (SUITE / case / f"{variant}-{part}.txt").is_file()
