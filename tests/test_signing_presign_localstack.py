"""presign_url's URLs against LocalStack's S3, which verifies presigned URLs.

See tests/presign_peer.py: LocalStack recomputes the signature of every
presigned URL with the secret of the key id it names and checks its expiry.
"""

from __future__ import annotations

import asyncio
import re
import secrets

import aiohttp
import pytest
from presign_peer import PresignServer
from yarl import URL

from aiohttp_auth.signing.credentials import AwsCredentials
from aiohttp_auth.signing.presign import presign_url

pytestmark = pytest.mark.peer("localstack")

KEY = "ours/a b+c (1).txt"


async def _fetch(url: URL, method: str = "GET", data: bytes | None = None) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, data=data) as response,
    ):
        return response.status, await response.read()


def _code(body: bytes) -> str:
    found = re.search(rb"<Code>([^<]+)</Code>", body)
    assert found, body[:300]
    return found.group(1).decode()


def _url(server: PresignServer, key: str = KEY) -> str:
    return f"{server.endpoint}/{server.bucket}/{key}"


def _credentials(server: PresignServer) -> AwsCredentials:
    return AwsCredentials(server.access_key_id, server.secret_access_key)


@pytest.fixture
def stored(presign_server: PresignServer) -> bytes:
    body = secrets.token_bytes(64)
    client = presign_server.client()
    client.put_object(Bucket=presign_server.bucket, Key=KEY, Body=body)
    return body


async def test_our_presigned_get_is_accepted(presign_server, stored):
    url = presign_url(
        _url(presign_server), credentials=_credentials(presign_server), region="us-east-1"
    )
    assert await _fetch(url) == (200, stored)


async def test_our_presigned_url_with_a_wrong_secret_is_refused(presign_server, stored):
    wrong = AwsCredentials(presign_server.access_key_id, "not-the-secret")
    url = presign_url(_url(presign_server), credentials=wrong, region="us-east-1")
    status, body = await _fetch(url)
    assert (status, _code(body)) == (403, "SignatureDoesNotMatch")


async def test_url_moved_to_another_object_is_refused(presign_server, stored):
    presign_server.client().put_object(Bucket=presign_server.bucket, Key="ours/other", Body=b"x")
    url = presign_url(
        _url(presign_server), credentials=_credentials(presign_server), region="us-east-1"
    )
    moved = URL.build(
        scheme=url.scheme,
        authority=url.raw_authority,
        path=f"/{presign_server.bucket}/ours/other",
        query_string=url.raw_query_string,
        encoded=True,
    )
    status, body = await _fetch(moved)
    assert (status, _code(body)) == (403, "SignatureDoesNotMatch")


async def test_our_expired_url_is_refused(presign_server, stored):
    url = presign_url(
        _url(presign_server),
        credentials=_credentials(presign_server),
        region="us-east-1",
        expires=1,
    )
    await asyncio.sleep(2.2)
    status, body = await _fetch(url)
    assert (status, _code(body)) == (403, "AccessDenied")


async def test_session_token_is_signed_into_the_url(presign_server, stored):
    creds = AwsCredentials(
        presign_server.temporary_access_key_id,
        presign_server.temporary_secret_access_key,
        presign_server.session_token,
    )
    url = presign_url(_url(presign_server), credentials=creds, region="us-east-1")
    assert (await _fetch(url))[0] == 200
    tampered = URL(
        str(url).replace("X-Amz-Security-Token=", "X-Amz-Security-Token=x"), encoded=True
    )
    assert (await _fetch(tampered))[0] == 403


async def test_our_presigned_put_uploads(presign_server):
    body = secrets.token_bytes(1000)
    url = presign_url(
        _url(presign_server, "ours/upload.bin"),
        credentials=_credentials(presign_server),
        region="us-east-1",
        method="PUT",
    )
    assert (await _fetch(url, "PUT", body))[0] == 200
    fetched = presign_server.client().get_object(
        Bucket=presign_server.bucket, Key="ours/upload.bin"
    )
    assert fetched["Body"].read() == body
