"""SigV4Middleware against moto's server, which verifies every signature it receives.

moto recomputes each signature with botocore from the request it received and
checks the caller's IAM permissions; see tests/moto_peer.py.
"""

from __future__ import annotations

import hashlib
import os
import re

import aiohttp
import pytest
from moto_peer import MotoServer

import aiohttp_auth as aa
from aiohttp_auth.signing.credentials import (
    AwsCredentials,
    RefreshableCredentials,
    StaticCredentials,
)
from aiohttp_auth.signing.sts import AssumeRoleCredentials

BUCKET = "aiohttp-auth-tests"
MIB = os.urandom(1 << 20)


def _s3(moto: MotoServer, **kwargs) -> aa.SigV4Middleware:
    return aa.SigV4Middleware(
        moto.access_key_id, moto.secret_access_key, region=moto.region, service="s3", **kwargs
    )


def _error_code(text: str) -> str | None:
    found = re.search(r"<Code>([^<]+)</Code>", text)
    return found.group(1) if found else None


@pytest.fixture
async def bucket(moto_server: MotoServer) -> str:
    """The test bucket, created (signed by the middleware) on first use."""
    url = f"{moto_server.endpoint}/{BUCKET}"
    async with aiohttp.ClientSession(middlewares=(_s3(moto_server),)) as session:
        async with session.head(url) as response:
            if response.status == 200:
                return url
        async with session.put(url) as response:
            assert response.status == 200, await response.text()
    return url


async def test_s3_put_and_get_of_one_mebibyte(moto_server, bucket):
    async with aiohttp.ClientSession(middlewares=(_s3(moto_server),)) as session:
        async with session.put(f"{bucket}/big object.bin", data=MIB) as response:
            assert response.status == 200, await response.text()
        async with session.get(f"{bucket}/big object.bin") as response:
            assert response.status == 200
            assert hashlib.sha256(await response.read()).digest() == hashlib.sha256(MIB).digest()


async def test_s3_keys_with_reserved_and_unicode_characters(moto_server, bucket):
    key = "dir/ü & ~ (1)+x=y.txt"
    async with aiohttp.ClientSession(middlewares=(_s3(moto_server),)) as session:
        async with session.put(f"{bucket}/{key}", data=b"payload") as response:
            assert response.status == 200, await response.text()
        params = {"prefix": "dir/", "max-keys": "10", "list-type": "2"}
        async with session.get(bucket, params=params) as response:
            text = await response.text()
            assert response.status == 200, text
            assert "payload" not in text
            assert "<KeyCount>1</KeyCount>" in text


@pytest.mark.skipif(
    not hasattr(aiohttp.payload.Payload, "as_bytes"),
    reason="aiohttp >= 3.12.1 reads streams with as_bytes()",
)
async def test_s3_streaming_upload_is_signed_chunk_by_chunk(moto_server, bucket):
    async def chunks():
        for start in range(0, len(MIB), 100_000):
            yield MIB[start : start + 100_000]

    headers = {"Content-Length": str(len(MIB))}
    async with aiohttp.ClientSession(middlewares=(_s3(moto_server),)) as session:
        async with session.put(f"{bucket}/streamed", data=chunks(), headers=headers) as response:
            assert response.status == 200, await response.text()
        async with session.get(f"{bucket}/streamed") as response:
            assert await response.read() == MIB


async def test_unsigned_payload_is_accepted(moto_server, bucket):
    async with (
        aiohttp.ClientSession(middlewares=(_s3(moto_server, unsigned_payload=True),)) as s,
        s.put(f"{bucket}/unsigned", data=b"abc") as response,
    ):
        assert response.status == 200, await response.text()


async def test_wrong_secret_is_rejected_by_the_server(moto_server, bucket):
    bad = aa.SigV4Middleware(moto_server.access_key_id, "wrong", region="us-east-1", service="s3")
    async with (
        aiohttp.ClientSession(middlewares=(bad,)) as session,
        session.get(f"{bucket}/big object.bin") as response,
    ):
        assert response.status == 403
        assert _error_code(await response.text()) == "SignatureDoesNotMatch"


async def test_tampered_body_is_rejected_by_the_server(moto_server, bucket):
    async def tamper(request, handler):
        request.headers["x-amz-content-sha256"] = hashlib.sha256(b"other").hexdigest()
        return await handler(request)

    async with (
        aiohttp.ClientSession(middlewares=(_s3(moto_server), tamper)) as session,
        session.put(f"{bucket}/tampered", data=b"body") as response,
    ):
        assert response.status == 403


async def test_sts_caller_identity_with_a_form_body(moto_server):
    mw = aa.SigV4Middleware(
        moto_server.access_key_id,
        moto_server.secret_access_key,
        region="us-east-1",
        service="sts",
    )
    form = {"Action": "GetCallerIdentity", "Version": "2011-06-15"}
    async with (
        aiohttp.ClientSession(middlewares=(mw,)) as session,
        session.post(moto_server.endpoint, data=form) as response,
    ):
        text = await response.text()
        assert response.status == 200, text
        assert "user/signer" in text


async def test_assumed_role_credentials_sign_s3_requests(moto_server, bucket):
    source = StaticCredentials(moto_server.access_key_id, moto_server.secret_access_key)
    role = AssumeRoleCredentials(
        moto_server.role_arn, source=source, endpoint=moto_server.endpoint, duration=900
    )
    mw = aa.SigV4Middleware(credentials=role, region="us-east-1", service="s3")
    async with aiohttp.ClientSession(middlewares=(mw,)) as session:
        async with session.put(f"{bucket}/from-role", data=b"role") as response:
            assert response.status == 200, await response.text()
        async with session.get(f"{bucket}/from-role") as response:
            assert await response.read() == b"role"
        assert (await role.resolve(session)).access_key_id.startswith("ASIA")


async def test_assume_role_refused_is_a_credential_error(moto_server):
    source = StaticCredentials(moto_server.access_key_id, "wrong-secret")
    role = AssumeRoleCredentials(
        moto_server.role_arn, source=source, endpoint=moto_server.endpoint
    )
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aa.CredentialError, match=r"STS refused AssumeRole.*HTTP 403"):
            await role.resolve(session)


async def test_refreshable_credentials_from_a_callable(moto_server, bucket):
    calls = []

    def fetch():
        calls.append(1)
        return AwsCredentials(moto_server.access_key_id, moto_server.secret_access_key)

    mw = aa.SigV4Middleware(
        credentials=RefreshableCredentials(fetch), region="us-east-1", service="s3"
    )
    async with aiohttp.ClientSession(middlewares=(mw,)) as session:
        for _ in range(3):
            async with session.head(f"{bucket}/from-role") as response:
                assert response.status == 200
    assert len(calls) == 1
