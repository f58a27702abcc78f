"""Fuzzing the SigV4 test server's checks: a verified request or an S3 refusal, never a crash.

The SigV4 server of ``aiohttp_auth.testing`` turns a ``SigV4Refusal`` into an
S3 error answer (400 or 403); any other exception would escape as a 500. The
requests here are signed by the package's own signer, header, presigned or
``aws-chunked``, then tampered with: a request left alone verifies, one
changed in what its signature covers is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from fuzzing import outcome
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aiohttp_auth.signing.aws_chunked import STREAMING_PAYLOAD
from aiohttp_auth.signing.sigv4 import UNSIGNED_PAYLOAD, SigV4Signer
from aiohttp_auth.testing.signing_sigv4_claim import (
    ReceivedRequest,
    SigV4Claim,
    SigV4Refusal,
    read_claim,
)
from aiohttp_auth.testing.signing_sigv4_verify import VerifiedSigV4, verify_sigv4

FUZZ = settings(max_examples=300, deadline=None)
KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "session-token"
NOW = 1_440_938_160.0  # 2015-08-30T12:36:00Z
S3 = SigV4Signer("us-east-1", "s3")
HOST = ("Host", "s3.test:9000")

PATHS = st.sampled_from(["/", "/bucket/key", "/a%20b/c", "/caf%C3%A9", "/a//b/../c", "/k~!"])
QUERIES = st.sampled_from(["", "a=1", "b=&a=2", "x=%7E", "list-type=2&prefix=a%2Fb"])
BODIES = st.binary(max_size=40)


def verify(received: ReceivedRequest) -> VerifiedSigV4:
    """Check *received* as the SigV4 server does (S3 rules, 900 s skew)."""
    return verify_sigv4(
        received,
        signer=S3,
        credentials={KEY_ID: SECRET},
        session_tokens={KEY_ID: TOKEN},
        now=NOW,
        max_skew=900,
    )


@st.composite
def signed_requests(draw: st.DrawFn) -> ReceivedRequest:
    """Draw a request the package's signer signed: in its headers, presigned, or aws-chunked."""
    method, path, query = draw(st.sampled_from(["GET", "PUT"])), draw(PATHS), draw(QUERIES)
    keys = {"access_key_id": KEY_ID, "secret_access_key": SECRET, "session_token": TOKEN}
    mode = draw(st.sampled_from(["header", "presigned", "chunked"]))
    if mode == "presigned":
        expires = draw(st.integers(1, 604800))
        query = S3.presign(method, path, query, [HOST], **keys, timestamp=NOW, expires=expires)
        return ReceivedRequest(method, path, query, (HOST,), b"")
    body = draw(BODIES)
    if mode == "header":
        payload_hash = draw(st.sampled_from([hashlib.sha256(body).hexdigest(), UNSIGNED_PAYLOAD]))
        signed = S3.sign_headers(
            method, path, query, [HOST], **keys, payload_hash=payload_hash, timestamp=NOW
        )
        return ReceivedRequest(method, path, query, (HOST, *signed), body)
    signed, chunk_signer = S3.sign_streaming(
        method, path, query, [HOST], **keys, timestamp=NOW, decoded_length=len(body)
    )
    size = draw(st.integers(1, 16))
    chunks = [body[start : start + size] for start in range(0, len(body), size)]
    # Chunks smaller than S3's 8 KiB minimum, framed by hand: the server checks the framing.
    framed = b"".join(chunk_signer.sign_chunk(chunk) for chunk in [*chunks, b""])
    return ReceivedRequest(method, path, query, (HOST, *signed), framed)


# --- tampering ---------------------------------------------------------------------------

QUERY_NAMES = st.sampled_from(
    [
        *("X-Amz-Expires", "X-Amz-Date", "X-Amz-Credential", "X-Amz-Algorithm"),
        *("X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Security-Token", "a"),
    ]
)
QUERY_VALUES = st.sampled_from(
    [
        *("%C2%B2", "0", "604801", "1" * 5000, "", "%zz", "%C0", "\udcff", "+1", " 1"),
        *("AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fs3%2Faws4_request", "host%3Bx-amz-date"),
        *("AWS4-HMAC-SHA256", "20150830T123600Z", "2015", "0" * 64),
    ]
)
HEADER_NAMES = st.sampled_from(
    [
        *("Authorization", "X-Amz-Date", "X-Amz-Content-SHA256", "X-Amz-Security-Token"),
        *("X-Amz-Decoded-Content-Length", "Host", "X-Amz-Meta-A", "Content-Encoding"),
    ]
)
# Header values as the server decodes them: latin-1, so any code point up to U+00FF.
HEADER_VALUES = st.sampled_from(
    [
        *("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/x, Signature=00"),
        *("AWS4-HMAC-SHA256 Credential=, SignedHeaders=host;;, Signature=0", "Basic x"),
        *("20150830T123600Z", "2015", "99991399T999999Z", "\x00", "\u00b2" * 8, "\xff\xfe"),
        *(UNSIGNED_PAYLOAD, STREAMING_PAYLOAD, "", "1" * 5000, "-1", "s3.test"),
    ]
)


def _set_query(received: ReceivedRequest, name: str, value: str) -> ReceivedRequest:
    parts = [part for part in received.raw_query.split("&") if part.partition("=")[0] != name]
    return received._replace(raw_query="&".join([*parts, f"{name}={value}"]))


def _set_header(received: ReceivedRequest, name: str, value: str | None) -> ReceivedRequest:
    kept = [(key, text) for key, text in received.headers if key.lower() != name.lower()]
    return received._replace(headers=(*kept, *([(name, value)] if value is not None else [])))


def _flip_byte(received: ReceivedRequest, position: int) -> ReceivedRequest:
    body = bytearray(received.body or b"\x00")
    body[position % len(body)] ^= 0x20
    return received._replace(body=bytes(body))


def _cut_authorization(received: ReceivedRequest, stop: int) -> ReceivedRequest:
    value = dict(received.headers).get("Authorization")
    return received if value is None else _set_header(received, "Authorization", value[:stop])


OTHER_PATHS = ["/x", "/%FF", "/bucket/key/", "/\udcff"]
Tamper = Callable[[ReceivedRequest], ReceivedRequest]
TAMPERINGS: st.SearchStrategy[Tamper] = st.one_of(
    st.builds(lambda n, v: lambda r: _set_query(r, n, v), QUERY_NAMES, QUERY_VALUES),
    st.builds(lambda n, v: lambda r: _set_header(r, n, v), HEADER_NAMES, HEADER_VALUES),
    st.builds(lambda n: lambda r: _set_header(r, n, None), HEADER_NAMES),
    st.builds(lambda i: lambda r: _flip_byte(r, i), st.integers(0, 2000)),
    st.builds(lambda i: lambda r: _cut_authorization(r, i), st.integers(0, 300)),
    st.builds(lambda i: lambda r: r._replace(body=r.body[:i]), st.integers(0, 2000)),
    st.builds(lambda p: lambda r: r._replace(raw_path=p), st.sampled_from(OTHER_PATHS)),
    st.just(lambda r: r._replace(method="DELETE")),
)


@FUZZ
@given(signed_requests(), st.lists(TAMPERINGS, max_size=2))
def test_tampered_requests_are_verified_or_refused(
    received: ReceivedRequest, tamperings: list[Tamper]
) -> None:
    tampered = received
    for tamper in tamperings:
        tampered = tamper(tampered)
    decision = outcome(SigV4Refusal, verify, tampered)
    if tampered == received:
        assert isinstance(decision, VerifiedSigV4)
        assert decision.access_key_id == KEY_ID
    if (tampered.method, tampered.raw_path) != (received.method, received.raw_path):
        # Every signature covers the method and the path.
        assert isinstance(decision, SigV4Refusal)
    if isinstance(decision, SigV4Refusal):
        assert decision.status in (400, 403)
        assert decision.code
        assert SECRET not in str(decision)


def test_a_path_that_is_not_utf8_is_refused() -> None:
    # aiohttp decodes a request-target with surrogateescape: a client sending the
    # byte 0xFF in its path arrives as "\udcff".
    received = ReceivedRequest("GET", "/\udcff", "", (HOST,), b"")
    headers = S3.sign_headers(
        "GET",
        "/",
        "",
        [HOST],
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
        session_token=TOKEN,
        payload_hash=UNSIGNED_PAYLOAD,
        timestamp=NOW,
    )
    received = received._replace(headers=(HOST, *headers))
    refusal = outcome(SigV4Refusal, verify, received)
    assert isinstance(refusal, SigV4Refusal)
    assert refusal.code == "SignatureDoesNotMatch"


# --- read_claim -----------------------------------------------------------------------------


@st.composite
def claimed_requests(draw: st.DrawFn) -> ReceivedRequest:
    """Draw a request whose query and headers say, more or less, how it was signed."""
    pairs = draw(st.lists(st.tuples(QUERY_NAMES, QUERY_VALUES | st.text(max_size=6)), max_size=8))
    query = "&".join(f"{name}={value}" for name, value in pairs)
    headers = draw(
        st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES | st.text(max_size=10)), max_size=3)
    )
    return ReceivedRequest("GET", "/", query, tuple(headers), b"")


@FUZZ
@given(
    claimed_requests()
    | st.builds(lambda q: ReceivedRequest("GET", "/", q, (), b""), st.text(max_size=80))
)
@example(
    ReceivedRequest(
        "GET",
        "/",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a/b&X-Amz-Date=x"
        "&X-Amz-SignedHeaders=host&X-Amz-Expires=%C2%B2&X-Amz-Signature=s",
        (),
        b"",
    )
)
def test_any_claim_is_read_or_refused(received: ReceivedRequest) -> None:
    claim = outcome(SigV4Refusal, read_claim, received)
    if isinstance(claim, SigV4Refusal):
        assert claim.status in (400, 403)
        return
    assert isinstance(claim, SigV4Claim)
    assert claim.expires is None or 1 <= claim.expires <= 604800
    if claim.mode == "presigned":
        # The one parameter a presigned URL does not sign is left out of what it covers.
        names = [part.partition("=")[0] for part in claim.canonical_query.split("&")]
        assert "X-Amz-Signature" not in names
