"""SigV4Middleware and GoogleHMACMiddleware on a real loopback server.

What the server received is re-signed with botocore (an independent
implementation) from the recorded request, and must carry the same signature.
"""

from __future__ import annotations

import re

import aiohttp
import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from peers import NameResolver, Site
from yarl import URL

import aiohttp_auth as aa
from aiohttp_auth.signing.credentials import RefreshableCredentials, StaticCredentials
from aiohttp_auth.signing.middleware import aws_wire_url
from aiohttp_auth.signing.sigv4 import SigV4Signer

# aiohttp 3.12.1 made payloads readable before sending; 3.12.0 cannot hash a stream.
needs_readable_payloads = pytest.mark.skipif(
    not hasattr(aiohttp.payload.Payload, "as_bytes"),
    reason="aiohttp >= 3.12.1 reads streams with as_bytes()",
)

KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NOW = 1_440_938_160.0  # 2015-08-30T12:36:00Z


def _clock() -> float:
    return NOW


def _sigv4(service: str = "service", **kwargs) -> aa.SigV4Middleware:
    return aa.SigV4Middleware(
        KEY_ID, SECRET, region="us-east-1", service=service, clock=_clock, **kwargs
    )


def _signature(authorization: str) -> str:
    found = re.search(r"Signature=([0-9a-f]{64})", authorization)
    assert found, authorization
    return found.group(1)


def botocore_signature(site: Site, recorded, *, service: str, token: str | None = None) -> str:
    """Re-sign what the server received with botocore; return its signature."""
    signed = recorded.headers["Authorization"].split("SignedHeaders=")[1].split(",")[0]
    names = signed.split(";")
    headers = {k: v for k, v in recorded.headers.items() if k.lower() in names}
    url = str(site.url("/")).rstrip("/") + recorded.raw_target
    request = AWSRequest(method=recorded.method, url=url, data=recorded.body, headers=headers)
    request.context["timestamp"] = recorded.headers["X-Amz-Date"]
    auth_class = S3SigV4Auth if service == "s3" else SigV4Auth
    auth = auth_class(BotoCredentials(KEY_ID, SECRET, token), service, "us-east-1")
    canonical = auth.canonical_request(request)
    return auth.signature(auth.string_to_sign(request, canonical), request)


@pytest.mark.parametrize("service", ["service", "s3"])
@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("GET", "/echo/a b/c?x=1&y=a b&list=dir/&z", None),
        ("POST", "/echo/upload", b"\x00binary\xff" * 100),
        ("PUT", "/echo/ü/(1)+x=y", "text body"),
        ("DELETE", "/echo/%7Etilde", None),
    ],
)
async def test_what_the_server_receives_verifies_with_botocore(site, service, method, path, data):
    async with (
        aiohttp.ClientSession(middlewares=(_sigv4(service),)) as session,
        session.request(method, site.url("/").join(URL(path)), data=data) as resp,
    ):
        assert resp.status == 200
    (recorded,) = site.config.requests
    assert recorded.headers["X-Amz-Date"] == "20150830T123600Z"
    expected = botocore_signature(site, recorded, service=service)
    assert _signature(recorded.headers["Authorization"]) == expected
    if method in ("POST", "PUT"):
        # aiohttp would add this after middlewares; signed, it must be set before.
        assert "content-type" in recorded.headers["Authorization"]
    assert ("X-Amz-Content-SHA256" in recorded.headers) == (service == "s3")


async def test_session_token_is_sent_and_signed(site):
    mw = _sigv4(session_token="FQoGZXIvYXdzE-token")
    async with (
        aiohttp.ClientSession(middlewares=(mw,)) as session,
        session.get(site.url("/echo")) as resp,
    ):
        assert resp.status == 200
    (recorded,) = site.config.requests
    assert recorded.headers["X-Amz-Security-Token"] == "FQoGZXIvYXdzE-token"
    expected = botocore_signature(site, recorded, service="service", token="FQoGZXIvYXdzE-token")
    assert _signature(recorded.headers["Authorization"]) == expected


async def test_redirect_to_other_origin_carries_no_signature(site, other_site):
    target = other_site.url("/echo")
    async with (
        aiohttp.ClientSession(middlewares=(_sigv4(),)) as session,
        session.get(site.url("/redirect").with_query(to=str(target))) as resp,
    ):
        assert resp.status == 200
    assert "Authorization" in site.config.requests[0].headers
    (hop,) = other_site.config.requests
    assert "Authorization" not in hop.headers
    assert "X-Amz-Date" not in hop.headers


async def test_same_origin_redirect_is_signed_again_for_its_own_url(site):
    target = site.url("/echo/next?a=1")
    async with (
        aiohttp.ClientSession(middlewares=(_sigv4(),)) as session,
        session.get(site.url("/redirect").with_query(to=str(target))) as resp,
    ):
        assert resp.status == 200
    first, second = site.config.requests
    assert second.raw_target == "/echo/next?a=1"
    assert _signature(second.headers["Authorization"]) == botocore_signature(
        site, second, service="service"
    )
    assert first.headers["Authorization"] != second.headers["Authorization"]


@needs_readable_payloads
async def test_streaming_upload_to_s3_is_framed_as_aws_chunked(site):
    async def body():
        for _ in range(3):
            yield b"x" * 10_000

    headers = {"Content-Length": "30000"}
    mw = _sigv4("s3", chunk_size=8192)
    async with (
        aiohttp.ClientSession(middlewares=(mw,)) as session,
        session.put(site.url("/echo/object"), data=body(), headers=headers) as resp,
    ):
        assert resp.status == 200
    (recorded,) = site.config.requests
    assert recorded.headers["Content-Encoding"] == "aws-chunked"
    assert recorded.headers["X-Amz-Decoded-Content-Length"] == "30000"
    assert "Transfer-Encoding" not in recorded.headers
    assert int(recorded.headers["Content-Length"]) == len(recorded.body)
    frames = re.findall(rb"([0-9a-f]+);chunk-signature=[0-9a-f]{64}\r\n", recorded.body)
    assert [int(size, 16) for size in frames] == [8192, 8192, 8192, 5424, 0]


@needs_readable_payloads
async def test_streaming_upload_without_length_is_refused(site):
    async def body():
        yield b"data"

    async with aiohttp.ClientSession(middlewares=(_sigv4("s3"),)) as session:
        with pytest.raises(aa.SigningError, match="Content-Length"):
            await session.put(site.url("/echo/object"), data=body())
    assert site.config.requests == []


@needs_readable_payloads
async def test_streaming_body_for_other_services_is_hashed(site):
    async def body():
        yield b"part one, "
        yield b"part two"

    async with (
        aiohttp.ClientSession(middlewares=(_sigv4(),)) as session,
        session.post(site.url("/echo"), data=body()) as resp,
    ):
        assert resp.status == 200
    (recorded,) = site.config.requests
    assert recorded.body == b"part one, part two"
    assert _signature(recorded.headers["Authorization"]) == botocore_signature(
        site, recorded, service="service"
    )


@needs_readable_payloads
async def test_consumed_stream_is_never_resent(site):
    async def body():
        yield b"once"

    payload = aiohttp.payload.AsyncIterablePayload(body())
    payload._consumed = True  # as after a first hop
    async with aiohttp.ClientSession(middlewares=(_sigv4("s3"),)) as session:
        with pytest.raises(aa.BodyNotReplayableError, match="already sent"):
            await session.put(
                site.url("/echo/object"), data=payload, headers={"Content-Length": "4"}
            )


async def test_unsigned_payload_reads_no_body(site):
    async with (
        aiohttp.ClientSession(middlewares=(_sigv4("s3", unsigned_payload=True),)) as s,
        s.put(site.url("/echo/o"), data=b"abc") as resp,
    ):
        assert resp.status == 200
    (recorded,) = site.config.requests
    assert recorded.headers["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"


async def test_compressed_bodies_are_refused(site):
    async with aiohttp.ClientSession(middlewares=(_sigv4(),)) as session:
        with pytest.raises(aa.SigningError, match="compress"):
            await session.post(site.url("/echo"), data=b"x" * 100, compress="deflate")


async def test_session_token_is_not_sent_over_plain_http_to_remote_hosts(site):
    connector = aiohttp.TCPConnector(resolver=NameResolver())
    mw = _sigv4(session_token="tok")
    async with aiohttp.ClientSession(connector=connector, middlewares=(mw,)) as session:
        with pytest.raises(aa.InsecureTransportError, match="session token"):
            await session.get(site.url("/echo", host="api.test"))
    assert site.config.requests == []
    allowed = _sigv4(session_token="tok", allow_http=True)
    connector = aiohttp.TCPConnector(resolver=NameResolver())
    async with (
        aiohttp.ClientSession(connector=connector, middlewares=(allowed,)) as session,
        session.get(site.url("/echo", host="api.test")) as resp,
    ):
        assert resp.status == 200


async def test_keys_without_token_may_sign_plain_http_to_remote_hosts(site):
    connector = aiohttp.TCPConnector(resolver=NameResolver())
    async with (
        aiohttp.ClientSession(connector=connector, middlewares=(_sigv4(),)) as session,
        session.get(site.url("/echo", host="api.test")) as resp,
    ):
        assert resp.status == 200


async def test_credentials_come_from_the_provider_on_each_request(site):
    count = 0

    def fetch():
        nonlocal count
        count += 1
        return aa.signing.credentials.AwsCredentials(KEY_ID, SECRET, None, NOW + 3600)

    provider = RefreshableCredentials(fetch, clock=_clock)
    mw = aa.SigV4Middleware(credentials=provider, region="us-east-1", service="service")
    async with aiohttp.ClientSession(middlewares=(mw,)) as session:
        for _ in range(3):
            async with session.get(site.url("/echo")) as resp:
                assert resp.status == 200
    assert count == 1
    assert len(site.config.requests) == 3


async def test_google_hmac_signs_with_goog4_names(site):
    mw = aa.GoogleHMACMiddleware("GOOG1EXAMPLE", "hmac-secret", clock=_clock)
    async with (
        aiohttp.ClientSession(middlewares=(mw,)) as session,
        session.get(site.url("/echo/bucket/object")) as resp,
    ):
        assert resp.status == 200
    (recorded,) = site.config.requests
    auth = recorded.headers["Authorization"]
    assert auth.startswith("GOOG4-HMAC-SHA256 Credential=GOOG1EXAMPLE/20150830/auto/storage/")
    assert recorded.headers["X-Goog-Date"] == "20150830T123600Z"
    assert "hmac-secret" not in repr(mw)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"region": "us-east-1"}, "service"),
        ({"service": "s3"}, "region"),
        ({"region": "", "service": "s3"}, "region"),
    ],
)
def test_missing_region_or_service_is_a_configuration_error(kwargs, match):
    with pytest.raises(aa.ConfigurationError, match=match):
        aa.SigV4Middleware(KEY_ID, SECRET, **kwargs)


def test_keys_and_provider_are_exclusive():
    provider = StaticCredentials(KEY_ID, SECRET)
    with pytest.raises(aa.ConfigurationError, match="not both"):
        aa.SigV4Middleware(KEY_ID, SECRET, region="r", service="s", credentials=provider)
    with pytest.raises(aa.ConfigurationError, match="needs access_key_id"):
        aa.SigV4Middleware(region="r", service="s")
    with pytest.raises(aa.ConfigurationError, match="CredentialsProvider"):
        aa.SigV4Middleware(region="r", service="s", credentials="env")


def test_repr_shows_no_secret():
    mw = _sigv4(session_token="session-token-value")
    text = repr(mw)
    assert KEY_ID in text
    assert SECRET not in text
    assert "session-token-value" not in text
    provider = aa.SigV4Middleware(
        credentials=StaticCredentials(KEY_ID, SECRET), region="r", service="s"
    )
    assert SECRET not in repr(provider)
    assert provider.signer.region == "r"


def test_custom_signer_is_used():
    signer = SigV4Signer("eu-west-1", "execute-api")
    mw = aa.SigV4Middleware(KEY_ID, SECRET, signer=signer)
    assert mw.signer is signer


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://h/a/b?x=1&y=2", None),
        ("http://h/a/%7Eb?x=%2F", None),
        ("http://h/a?prefix=dir/&q=a+b", "http://h/a?prefix=dir%2F&q=a%20b"),
        ("http://h/a(1)/b+c?k", "http://h/a%281%29/b%2Bc?k"),
        ("http://h/a?v=%2Bplus", None),
    ],
)
def test_wire_url_uses_aws_encoding(url, expected):
    result = aws_wire_url(URL(url, encoded=True))
    assert (None if result is None else str(result)) == expected


@needs_readable_payloads
async def test_sigv4a_signer_signs_with_a_region_set(site):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from aiohttp_auth.signing.sigv4a import SigV4aSigner

    signer = SigV4aSigner(["us-east-1", "eu-west-1"], "s3")
    mw = aa.SigV4Middleware(KEY_ID, SECRET, signer=signer, clock=_clock)
    assert "us-east-1,eu-west-1" in repr(mw)

    async def body():
        yield b"streamed to a multi-region access point"

    async with (
        aiohttp.ClientSession(middlewares=(mw,)) as session,
        session.put(site.url("/echo/o"), data=body()) as resp,
    ):
        assert resp.status == 200
    (recorded,) = site.config.requests
    assert recorded.headers["X-Amz-Region-Set"] == "us-east-1,eu-west-1"
    assert recorded.body == b"streamed to a multi-region access point"
    auth = recorded.headers["Authorization"]
    assert auth.startswith("AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20150830/s3/")
    # The signature verifies with the key derived from the secret over what was sent.
    from aiohttp_auth.signing.canonical import canonical_request

    names = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    pairs = [(k, v) for k, v in recorded.headers.items() if k.lower() in names]
    canonical, _ = canonical_request(
        "PUT",
        "/echo/o",
        "",
        pairs,
        recorded.headers["X-Amz-Content-SHA256"],
        normalize_path=False,
        double_encode=False,
    )
    import hashlib

    string_to_sign = (
        "AWS4-ECDSA-P256-SHA256\n20150830T123600Z\n20150830/s3/aws4_request\n"
        + hashlib.sha256(canonical.encode()).hexdigest()
    )
    public = signer.private_key(KEY_ID, SECRET).public_key()
    signature = bytes.fromhex(auth.split("Signature=")[1])
    public.verify(signature, string_to_sign.encode(), ec.ECDSA(hashes.SHA256()))


def test_framed_payload_cannot_be_decoded():
    from aiohttp_auth.signing.aws_chunked_upload import _AwsChunkedPayload

    async def body():
        yield b""

    original = aiohttp.payload.AsyncIterablePayload(body())
    from aiohttp_auth.signing.aws_chunked import ChunkSigner

    signer = ChunkSigner(
        signing_key=b"k" * 32,
        request_date="20150830T123600Z",
        scope="20150830/us-east-1/s3/aws4_request",
        seed_signature="0" * 64,
        decoded_length=0,
    )
    framed = _AwsChunkedPayload(original, signer)
    assert framed.size == 86
    with pytest.raises(TypeError, match="cannot be decoded"):
        framed.decode()


@pytest.mark.skipif(
    hasattr(aiohttp.payload.Payload, "as_bytes"), reason="only aiohttp 3.12.0 cannot read streams"
)
async def test_streams_are_refused_on_aiohttp_3_12_0(site):
    async def body():
        yield b"data"

    async with aiohttp.ClientSession(middlewares=(_sigv4("s3"),)) as session:
        with pytest.raises(aa.SigningError, match="upgrade aiohttp"):
            await session.put(site.url("/echo/o"), data=body(), headers={"Content-Length": "4"})
    assert site.config.requests == []
