"""The SigV4-verifying S3-like test server: what it accepts, and what it refuses as S3 does.

Accepted requests are sent by the package's real client code (SigV4Middleware,
presign_url); refused ones by the same code with a wrong value, or built with
the sans-IO SigV4Signer and then changed, as a hostile or broken client would.
Every test talks to a real server on 127.0.0.1 and reads the server's records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

import aiohttp
import pytest
from aiohttp import hdrs
from multidict import CIMultiDict
from yarl import URL

import aiohttp_auth as aa
from aiohttp_auth.errors import ConfigurationError
from aiohttp_auth.signing import AwsCredentials, presign_url
from aiohttp_auth.signing.aws_chunked import STREAMING_PAYLOAD, ChunkSigner
from aiohttp_auth.signing.sigv4 import UNSIGNED_PAYLOAD, SigV4Signer
from aiohttp_auth.testing import LocalServer, ResourceConfig, resource_app
from aiohttp_auth.testing.signing import SIGV4_CONFIG, SigV4Config, StoredObject, sigv4_app

KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEBYaDH/session+token=="
NOW = 1_440_938_160.0  # 2015-08-30T12:36:00Z
TIMEOUT = aiohttp.ClientTimeout(total=10)
S3 = SigV4Signer("us-east-1", "s3")


def at(when: float) -> Callable[[], float]:
    return lambda: when


@dataclass
class Reply:
    status: int
    headers: CIMultiDict[str]
    body: bytes

    @property
    def error(self) -> tuple[str | None, str | None]:
        """The S3 error document's code and message."""
        root = ElementTree.fromstring(self.body)  # noqa: S314 - our own server's XML
        return root.findtext("Code"), root.findtext("Message")


@dataclass
class Site:
    server: LocalServer
    config: SigV4Config

    def url(self, path: str) -> URL:
        return self.server.make_url(path)

    async def send(
        self,
        method: str,
        path: str,
        *middlewares: aiohttp.ClientMiddlewareType,
        url: URL | None = None,
        **kwargs: Any,
    ) -> Reply:
        async with (
            aiohttp.ClientSession(middlewares=middlewares, timeout=TIMEOUT) as session,
            session.request(method, url or self.url(path), **kwargs) as response,
        ):
            return Reply(response.status, CIMultiDict(response.headers), await response.read())

    def signed(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        headers: Sequence[tuple[str, str]] = (),
        signer: SigV4Signer = S3,
        secret: str = SECRET,
        **kwargs: Any,
    ) -> dict[str, str]:
        """Headers signed by the sans-IO signer, as a client would send them."""
        url = self.url(path)
        signed = signer.sign_headers(
            method,
            url.raw_path,
            url.raw_query_string,
            [("Host", url.raw_authority), *headers],
            **{
                "access_key_id": KEY_ID,
                "secret_access_key": secret,
                "payload_hash": hashlib.sha256(body).hexdigest(),
                "timestamp": NOW,
            }
            | kwargs,
        )
        return dict(headers) | dict(signed)


SiteFactory = Callable[..., Awaitable[Site]]


@pytest.fixture
async def serve() -> AsyncIterator[SiteFactory]:
    """Return ``await serve(**settings)``: a SigV4 server accepting KEY_ID at NOW."""
    async with AsyncExitStack() as stack:

        async def make(**settings: Any) -> Site:
            config = SigV4Config(
                **({"credentials": {KEY_ID: SECRET}, "clock": at(NOW)} | settings)
            )
            server = await stack.enter_async_context(LocalServer(sigv4_app(config)))
            return Site(server, config)

        yield make


@pytest.fixture
async def s3(serve: SiteFactory) -> Site:
    return await serve()


def middleware(service: str = "s3", *, secret: str = SECRET, when: float = NOW, **kwargs: Any):
    return aa.SigV4Middleware(
        KEY_ID, secret, region="us-east-1", service=service, clock=at(when), **kwargs
    )


async def tamper(request: aiohttp.ClientRequest, handler: Any) -> aiohttp.ClientResponse:
    """A middleware after the signer: the body changes in transit."""
    request.body = b"tampered in transit"
    return await handler(request)  # type: ignore[no-any-return]


# --- accepted --------------------------------------------------------------------------


async def test_s3_put_then_get_with_a_session_token_round_trips(serve: SiteFactory) -> None:
    site = await serve(session_tokens={KEY_ID: TOKEN})
    signing = middleware(session_token=TOKEN)

    put = await site.send("PUT", "/bucket/reports/2015.csv", signing, data=b"a,b\n1,2\n")
    got = await site.send("GET", "/bucket/reports/2015.csv", signing)

    assert (put.status, got.status, got.body) == (200, 200, b"a,b\n1,2\n")
    stored = site.config.objects["bucket/reports/2015.csv"]
    assert got.headers[hdrs.ETAG] == put.headers[hdrs.ETAG] == stored.etag
    assert got.headers[hdrs.CONTENT_TYPE] == "application/octet-stream"
    assert site.config.accepted == 2
    assert [v.session_token for v in site.config.verified] == [True, True]
    assert {"host", "x-amz-date", "x-amz-security-token"} <= set(
        site.config.verified[0].signed_headers
    )


@pytest.mark.skipif(
    not hasattr(aiohttp.payload.Payload, "as_bytes"),
    reason="aiohttp >= 3.12.1 reads streams with as_bytes()",
)
async def test_streaming_upload_is_verified_chunk_by_chunk_and_stored_decoded(s3: Site) -> None:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"x" * 5_000

    reply = await s3.send(
        "PUT",
        "/bucket/big",
        middleware(chunk_size=8192),
        data=body(),
        headers={"Content-Length": "20000"},
    )

    assert reply.status == 200
    (verified,) = s3.config.verified
    assert verified.payload_hash == STREAMING_PAYLOAD
    assert verified.chunks == 4  # 8192 + 8192 + 3616 + the final empty chunk
    assert s3.config.objects["bucket/big"].body == b"x" * 20_000


async def test_presigned_get_works_without_credentials_until_it_expires(
    serve: SiteFactory,
) -> None:
    site = await serve(session_tokens={KEY_ID: TOKEN})
    site.config.objects["bucket/shared.txt"] = StoredObject(b"shared", "text/plain")
    url = presign_url(
        site.url("/bucket/shared.txt"),
        credentials=AwsCredentials(KEY_ID, SECRET, TOKEN),
        region="us-east-1",
        expires=60,
        clock=at(NOW),
    )

    fresh = await site.send("GET", "", url=url)
    site.config.clock = at(NOW + 61)
    expired = await site.send("GET", "", url=url)

    assert (fresh.status, fresh.body) == (200, b"shared")
    assert site.config.verified[0].mode == "presigned"
    assert site.config.verified[0].payload_hash == UNSIGNED_PAYLOAD
    assert expired.status == 403
    assert expired.error[0] == "AccessDenied"
    assert "expired" in (expired.error[1] or "")


async def test_presigned_url_dated_ahead_of_the_server_is_not_valid_yet(s3: Site) -> None:
    url = presign_url(
        s3.url("/bucket/k"),
        credentials=AwsCredentials(KEY_ID, SECRET),
        region="us-east-1",
        clock=at(NOW + 3600),
    )

    reply = await s3.send("GET", "", url=url)

    assert (reply.status, reply.error[0]) == (403, "AccessDenied")
    assert "not valid yet" in (reply.error[1] or "")


async def test_presigned_url_for_another_service_signs_the_body_hash(serve: SiteFactory) -> None:
    site = await serve(service="execute-api")
    url = presign_url(
        site.url("/prod/items"),
        credentials=AwsCredentials(KEY_ID, SECRET),
        region="us-east-1",
        service="execute-api",
        clock=at(NOW),
    )

    reply = await site.send("GET", "", url=url)

    assert reply.status == 200
    assert site.config.verified[0].payload_hash == hashlib.sha256(b"").hexdigest()


async def test_other_services_get_the_body_hash_and_an_echo(serve: SiteFactory) -> None:
    site = await serve(service="execute-api")

    reply = await site.send("POST", "/prod/items?b=2&a=1", middleware("execute-api"), data=b"{}")

    assert reply.status == 200
    echoed = json.loads(reply.body)
    assert echoed["query"] == {"b": "2", "a": "1"}
    assert (echoed["access_key_id"], echoed["mode"], echoed["body_length"]) == (
        KEY_ID,
        "header",
        2,
    )
    (verified,) = site.config.verified
    assert verified.payload_hash == hashlib.sha256(b"{}").hexdigest()
    assert "x-amz-content-sha256" not in verified.signed_headers


async def test_unsigned_payload_is_accepted_for_s3(s3: Site) -> None:
    reply = await s3.send("PUT", "/bucket/k", middleware(unsigned_payload=True), data=b"body")

    assert reply.status == 200
    assert s3.config.verified[0].payload_hash == UNSIGNED_PAYLOAD


async def test_a_redirect_to_another_origin_carries_no_signature(s3: Site) -> None:
    other = ResourceConfig()
    async with LocalServer(resource_app(other)) as other_server:
        target = str(other_server.make_url("/echo/landing"))
        reply = await s3.send(
            "GET", "", middleware(), url=s3.url("/redirect").with_query(to=target)
        )

    assert reply.status == 200
    assert s3.config.statuses == [302]
    (landed,) = other.requests
    assert not [
        name for name in landed.headers if name.lower().startswith(("authorization", "x-amz-"))
    ]


# --- refused ---------------------------------------------------------------------------


async def test_a_wrong_secret_gets_signature_does_not_match_with_the_string_to_sign(
    serve: SiteFactory,
) -> None:
    site = await serve(session_tokens={KEY_ID: TOKEN})

    reply = await site.send(
        "GET", "/bucket/k", middleware(secret="not-the-secret", session_token=TOKEN)
    )

    assert (reply.status, reply.error[0]) == (403, "SignatureDoesNotMatch")
    root = ElementTree.fromstring(reply.body)  # noqa: S314 - our own server's XML
    assert (root.findtext("StringToSign") or "").startswith("AWS4-HMAC-SHA256\n20150830T123600Z\n")
    canonical = root.findtext("CanonicalRequest") or ""
    assert "x-amz-security-token:<redacted>" in canonical
    assert TOKEN[:18] not in reply.body.decode()  # neither raw nor percent-encoded
    assert site.config.rejected == {"SignatureDoesNotMatch": 1}
    assert site.config.accepted == 0
    assert site.config.statuses == [403]


async def test_a_presigned_url_error_hides_the_token_of_the_query(serve: SiteFactory) -> None:
    site = await serve(session_tokens={KEY_ID: TOKEN})
    url = presign_url(
        site.url("/bucket/k"),
        credentials=AwsCredentials(KEY_ID, "not-the-secret", TOKEN),
        region="us-east-1",
        clock=at(NOW),
    )

    reply = await site.send("GET", "", url=url)

    assert reply.error[0] == "SignatureDoesNotMatch"
    root = ElementTree.fromstring(reply.body)  # noqa: S314 - our own server's XML
    assert "&X-Amz-Security-Token=<redacted>&" in (root.findtext("CanonicalRequest") or "")
    assert TOKEN[:18] not in reply.body.decode()  # neither raw nor percent-encoded


@pytest.mark.parametrize(
    ("settings", "code", "status"),
    [
        ({"credentials": {}}, "InvalidAccessKeyId", 403),
        ({"region": "eu-west-1"}, "AuthorizationHeaderMalformed", 400),
        ({"service": "execute-api"}, "AuthorizationHeaderMalformed", 400),
        ({"clock": at(NOW + 901)}, "RequestTimeTooSkewed", 403),
        ({"clock": at(NOW - 901)}, "RequestTimeTooSkewed", 403),
        ({"session_tokens": {KEY_ID: TOKEN}}, "InvalidToken", 400),
    ],
    ids=[
        "unknown key",
        "other region",
        "other service",
        "server ahead",
        "server behind",
        "no token",
    ],
)
async def test_the_server_refuses_what_s3_would(
    serve: SiteFactory, settings: dict[str, Any], code: str, status: int
) -> None:
    site = await serve(**settings)

    reply = await site.send("PUT", "/bucket/k", middleware(), data=b"data")

    assert (reply.status, reply.error[0]) == (status, code)
    assert site.config.rejected == {code: 1}
    assert site.config.objects == {}


@pytest.mark.parametrize(
    ("expected", "sent"), [(None, TOKEN), (TOKEN, "another-token")], ids=["unexpected", "wrong"]
)
async def test_a_token_not_issued_with_the_key_is_refused(
    serve: SiteFactory, expected: str | None, sent: str
) -> None:
    site = await serve(session_tokens={} if expected is None else {KEY_ID: expected})

    reply = await site.send("GET", "/bucket/k", middleware(session_token=sent))

    assert (reply.status, reply.error[0]) == (400, "InvalidToken")
    assert sent not in reply.body.decode()


async def test_an_unsigned_request_is_denied(s3: Site) -> None:
    reply = await s3.send("GET", "/bucket/k")

    assert (reply.status, reply.error[0]) == (403, "AccessDenied")
    assert s3.config.rejections == [
        "AccessDenied: Anonymous access is denied: the request has neither an Authorization "
        "header nor a presigned query"
    ]


@pytest.mark.parametrize(
    ("service", "code", "status"),
    [("s3", "XAmzContentSHA256Mismatch", 400), ("execute-api", "SignatureDoesNotMatch", 403)],
)
async def test_a_body_changed_after_signing_is_refused(
    serve: SiteFactory, service: str, code: str, status: int
) -> None:
    site = await serve(service=service)

    reply = await site.send("PUT", "/bucket/k", middleware(service), tamper, data=b"original")

    assert (reply.status, reply.error[0]) == (status, code)
    assert site.config.objects == {}


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        ("Bearer abc", "InvalidArgument"),
        ("AWS4-ECDSA-P256-SHA256 Credential=x", "InvalidArgument"),
        (
            f"AWS4-HMAC-SHA256 Credential={KEY_ID}/20150830/us-east-1/s3/aws4_request",
            "AuthorizationHeaderMalformed",
        ),
        (
            f"AWS4-HMAC-SHA256 Credential={KEY_ID}/20150830/us-east-1/s3/aws4_request, "
            f"SignedHeaders=x-amz-date, Signature={'0' * 64}",
            "AuthorizationHeaderMalformed",
        ),
    ],
    ids=["bearer", "sigv4a", "no signature", "host not signed"],
)
async def test_malformed_authorization_headers_are_refused(
    s3: Site, authorization: str, code: str
) -> None:
    headers = {"Authorization": authorization, "X-Amz-Date": "20150830T123600Z"}

    reply = await s3.send("GET", "/bucket/k", headers=headers)

    assert (reply.status, reply.error[0]) == (400, code)


async def test_a_request_without_a_valid_date_is_denied(s3: Site) -> None:
    headers = s3.signed("GET", "/bucket/k") | {"X-Amz-Date": "yesterday"}

    reply = await s3.send("GET", "/bucket/k", headers=headers)

    assert (reply.status, reply.error[0]) == (403, "AccessDenied")
    assert "X-Amz-Date" in (reply.error[1] or "")


def _presigned_query(**changes: str | None) -> str:
    parameters: dict[str, str | None] = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": f"{KEY_ID}%2F20150830%2Fus-east-1%2Fs3%2Faws4_request",
        "X-Amz-Date": "20150830T123600Z",
        "X-Amz-Expires": "60",
        "X-Amz-SignedHeaders": "host",
        "X-Amz-Signature": "0" * 64,
    } | changes
    return "&".join(f"{name}={value}" for name, value in parameters.items() if value is not None)


@pytest.mark.parametrize(
    "changes",
    [
        {"X-Amz-Algorithm": "AWS4-HMAC-SHA1"},
        {"X-Amz-Credential": None},
        {"X-Amz-Expires": "0"},
        {"X-Amz-Expires": "604801"},
        {"X-Amz-Expires": "soon"},
        {"X-Amz-SignedHeaders": "x-amz-date"},
        {"X-Amz-Credential": f"{KEY_ID}%2F20150830%2Feu-west-1%2Fs3%2Faws4_request"},
    ],
    ids=[
        "algorithm",
        "no credential",
        "expires 0",
        "expires 7 days + 1",
        "expires text",
        "no host",
        "region",
    ],
)
async def test_malformed_presigned_queries_are_refused(
    s3: Site, changes: dict[str, str | None]
) -> None:
    url = s3.url("/bucket/k").with_query(None)
    reply = await s3.send("GET", "", url=URL(f"{url}?{_presigned_query(**changes)}", encoded=True))

    assert (reply.status, reply.error[0]) == (400, "AuthorizationQueryParametersError")


async def test_a_presigned_url_with_a_wrong_signature_does_not_match(s3: Site) -> None:
    url = URL(f"{s3.url('/bucket/k')}?list=1&{_presigned_query()}", encoded=True)

    reply = await s3.send("GET", "", url=url)

    assert (reply.status, reply.error[0]) == (403, "SignatureDoesNotMatch")


async def test_header_and_query_signatures_together_are_refused(s3: Site) -> None:
    url = URL(f"{s3.url('/bucket/k')}?{_presigned_query()}", encoded=True)
    headers = {"Authorization": "AWS4-HMAC-SHA256 Credential=x, SignedHeaders=host, Signature=0"}

    reply = await s3.send("GET", "", url=url, headers=headers)

    assert (reply.status, reply.error[0]) == (400, "InvalidArgument")


async def test_a_signed_header_missing_from_the_request_does_not_match(s3: Site) -> None:
    headers = s3.signed("GET", "/bucket/k", headers=[("X-Meta", "1")])
    del headers["X-Meta"]

    reply = await s3.send("GET", "/bucket/k", headers=headers)

    assert (reply.status, reply.error[0]) == (403, "SignatureDoesNotMatch")
    assert "x-meta" in (reply.error[1] or "")


async def test_an_unsigned_amz_header_is_denied(s3: Site) -> None:
    headers = s3.signed("GET", "/bucket/k") | {"X-Amz-Meta-Owner": "mallory"}

    reply = await s3.send("GET", "/bucket/k", headers=headers)

    assert (reply.status, reply.error[0]) == (403, "AccessDenied")
    assert "x-amz-meta-owner" in (reply.error[1] or "")


async def test_s3_requires_the_content_sha256_header(s3: Site) -> None:
    headers = s3.signed("GET", "/bucket/k", content_sha256_header=False)

    reply = await s3.send("GET", "/bucket/k", headers=headers)

    assert (reply.status, reply.error[0]) == (400, "InvalidRequest")


async def test_a_signed_header_that_cannot_be_canonicalised_does_not_match(s3: Site) -> None:
    headers = s3.signed("GET", "/bucket/k", headers=[("X-Meta", "caf")])
    headers["X-Meta"] = "café"

    reply = await s3.send("GET", "/bucket/k", headers=headers)

    assert (reply.status, reply.error[0]) == (403, "SignatureDoesNotMatch")
    assert "cannot be signed" in (reply.error[1] or "")


async def test_signed_headers_out_of_canonical_order_do_not_match(s3: Site) -> None:
    headers = s3.signed("GET", "/bucket/k")
    names = "host;x-amz-content-sha256;x-amz-date"
    headers["Authorization"] = headers["Authorization"].replace(
        names, "x-amz-date;host;x-amz-content-sha256"
    )

    reply = await s3.send("GET", "/bucket/k", headers=headers)

    assert (reply.status, reply.error[0]) == (403, "SignatureDoesNotMatch")


# --- aws-chunked framing ---------------------------------------------------------------


def _chunked(site: Site, chunks: list[bytes], decoded_length: int) -> tuple[dict[str, str], bytes]:
    """Sign an aws-chunked upload of *chunks*, framed as given, declaring *decoded_length*.

    ``Content-Length`` is left unsigned (aiohttp sets it), so a test may
    change the framing after signing without breaking the seed signature.
    """
    url = site.url("/bucket/chunked")
    headers = [
        ("Host", url.raw_authority),
        ("Content-Encoding", "aws-chunked"),
        ("X-Amz-Decoded-Content-Length", str(decoded_length)),
    ]
    signed = dict(
        S3.sign_headers(
            "PUT",
            url.raw_path,
            "",
            headers,
            access_key_id=KEY_ID,
            secret_access_key=SECRET,
            payload_hash=STREAMING_PAYLOAD,
            timestamp=NOW,
        )
    )
    chunk_signer = ChunkSigner(
        signing_key=S3.signing_key(SECRET, "20150830"),
        request_date="20150830T123600Z",
        scope="20150830/us-east-1/s3/aws4_request",
        seed_signature=signed["Authorization"].rpartition("Signature=")[2],
        decoded_length=decoded_length,
    )
    framed = b"".join(chunk_signer.sign_chunk(chunk) for chunk in [*chunks, b""])
    return dict(headers[1:]) | signed, framed


async def test_hand_framed_aws_chunked_upload_is_accepted(s3: Site) -> None:
    headers, framed = _chunked(s3, [b"y" * 8192, b"z" * 100], 8292)

    reply = await s3.send("PUT", "/bucket/chunked", headers=headers, data=framed)

    assert reply.status == 200
    assert s3.config.objects["bucket/chunked"].body == b"y" * 8192 + b"z" * 100
    assert s3.config.verified[0].chunks == 3


FRAMING_FAULTS: list[tuple[str, Callable[[bytes], bytes], str, str]] = [
    ("truncated", lambda framed: framed[:-40], "IncompleteBody", "no header line"),
    ("bad size", lambda framed: b"zz" + framed[4:], "IncompleteBody", "malformed header"),
    (
        "short chunk",
        lambda framed: framed.replace(b"y" * 10, b"y" * 9, 1),
        "IncompleteBody",
        "CRLF",
    ),
    (
        "changed data",
        lambda framed: framed.replace(b"y" * 10, b"Y" * 10, 1),
        "SignatureDoesNotMatch",
        "chunk 1",
    ),
    ("trailing bytes", lambda framed: framed + b"extra", "IncompleteBody", "follow"),
]


@pytest.mark.parametrize(
    ("change", "code", "says"),
    [fault[1:] for fault in FRAMING_FAULTS],
    ids=[fault[0] for fault in FRAMING_FAULTS],
)
async def test_broken_aws_chunked_bodies_are_refused(
    s3: Site, change: Callable[[bytes], bytes], code: str, says: str
) -> None:
    headers, framed = _chunked(s3, [b"y" * 8192, b"y" * 1808], 10_000)

    reply = await s3.send("PUT", "/bucket/chunked", headers=headers, data=change(framed))

    assert reply.error[0] == code
    assert says in (reply.error[1] or "")
    assert s3.config.objects == {}


async def test_a_body_shorter_than_its_decoded_length_is_incomplete(s3: Site) -> None:
    # Every chunk correctly signed, but 9000 bytes where 10000 were declared.
    headers, framed = _chunked(s3, [b"y" * 8192, b"y" * 808], 10_000)

    reply = await s3.send("PUT", "/bucket/chunked", headers=headers, data=framed)

    assert (reply.status, reply.error[0]) == (400, "IncompleteBody")
    assert "9000 bytes" in (reply.error[1] or "")


# --- the server around the verifier ----------------------------------------------------


async def test_objects_can_be_deleted_and_a_missing_key_is_no_such_key(s3: Site) -> None:
    signing = middleware()
    await s3.send("PUT", "/bucket/k", signing, data=b"v1")

    head = await s3.send("HEAD", "/bucket/k", signing)
    deleted = await s3.send("DELETE", "/bucket/k", signing)
    missing = await s3.send("GET", "/bucket/k", signing)

    assert (head.status, head.headers[hdrs.CONTENT_LENGTH]) == (200, "2")
    assert deleted.status == 204
    assert (missing.status, missing.error[0]) == (404, "NoSuchKey")
    assert s3.config.objects == {}
    assert s3.config.accepted == 4


async def test_an_object_put_without_a_type_is_stored_as_binary(s3: Site) -> None:
    headers = s3.signed("PUT", "/bucket/k", body=b"raw")

    reply = await s3.send(
        "PUT", "/bucket/k", headers=headers, data=b"raw", skip_auto_headers=[hdrs.CONTENT_TYPE]
    )

    assert reply.status == 200
    assert s3.config.objects["bucket/k"] == StoredObject(b"raw", "binary/octet-stream")


@pytest.mark.parametrize(("method", "path"), [("POST", "/bucket/k"), ("GET", "/bucket")])
async def test_requests_that_are_not_object_operations_get_the_echo(
    s3: Site, method: str, path: str
) -> None:
    reply = await s3.send(method, path, middleware(), data=b"payload")

    assert reply.status == 200
    assert json.loads(reply.body)["body_sha256"] == hashlib.sha256(b"payload").hexdigest()
    assert s3.config.objects == {}


async def test_a_redirect_without_a_target_is_a_bad_request_after_verification(s3: Site) -> None:
    reply = await s3.send("GET", "/redirect", middleware())

    assert reply.status == 400
    assert (s3.config.accepted, s3.config.statuses) == (1, [400])


def test_the_app_holds_its_config_under_sigv4_config() -> None:
    config = SigV4Config()

    assert sigv4_app(config)[SIGV4_CONFIG] is config


async def test_a_default_app_accepts_no_key() -> None:
    async with LocalServer(sigv4_app()) as server:
        site = Site(server, SigV4Config())
        reply = await site.send("GET", "/bucket/k", middleware())

    assert (reply.status, reply.error[0]) == (403, "InvalidAccessKeyId")


@pytest.mark.parametrize(
    "settings",
    [{"region": ""}, {"service": "s3/x"}, {"max_skew": 0}],
    ids=["empty region", "slash in service", "no skew"],
)
def test_invalid_settings_are_refused(settings: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        SigV4Config(**settings)
    config = SigV4Config()
    for name, value in settings.items():
        setattr(config, name, value)
    with pytest.raises(ConfigurationError):
        sigv4_app(config)


def test_accept_adds_the_key_and_its_token_and_repr_shows_neither() -> None:
    config = SigV4Config()

    config.accept(AwsCredentials(KEY_ID, SECRET, TOKEN))
    config.accept(AwsCredentials("AKIDOTHER", "other-secret"))

    assert config.credentials == {KEY_ID: SECRET, "AKIDOTHER": "other-secret"}
    assert config.session_tokens == {KEY_ID: TOKEN}
    assert SECRET not in repr(config)
    assert TOKEN not in repr(config)


async def test_reset_clears_the_records_and_the_store_but_keeps_the_keys(s3: Site) -> None:
    await s3.send("PUT", "/bucket/k", middleware(), data=b"v")
    await s3.send("GET", "/bucket/k")

    s3.config.reset()

    assert (s3.config.accepted, s3.config.rejected, s3.config.rejections) == (0, {}, [])
    assert (s3.config.verified, s3.config.objects) == ([], {})
    assert (s3.config.requests, s3.config.statuses) == ([], [])
    assert s3.config.credentials == {KEY_ID: SECRET}


async def test_the_plugin_fixtures_serve_a_fresh_config(
    sigv4_config: SigV4Config,
    sigv4_server: LocalServer,
) -> None:
    sigv4_config.accept(AwsCredentials(KEY_ID, SECRET))
    signing = aa.SigV4Middleware(KEY_ID, SECRET, region="us-east-1", service="s3")

    reply = await Site(sigv4_server, sigv4_config).send("PUT", "/b/k", signing, data=b"x")

    assert reply.status == 200
    assert sigv4_config.objects["b/k"].body == b"x"


def test_testing_package_loads_the_signing_servers_on_first_use() -> None:
    import aiohttp_auth.testing as testing

    assert testing.SigV4Config is SigV4Config
    with pytest.raises(AttributeError, match="no attribute 'NoSuchServer'"):
        testing.NoSuchServer  # noqa: B018
