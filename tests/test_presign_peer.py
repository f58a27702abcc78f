"""The presigned-URL peer really verifies SigV4 query authentication.

Each test signs with botocore (``generate_presigned_url``, ``s3v4``), an independent
signer, and fetches with aiohttp, so what the project's own presigner is later
tested against is known to refuse what AWS S3 refuses: a tampered signature, a
wrong secret, an expired URL, a changed session token. Without the peer
(``make peers``) the tests skip, or fail with ``AIOHTTP_AUTH_REQUIRE_PEERS=1``.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time

import aiohttp
import pytest
from presign_peer import PresignServer
from yarl import URL

pytestmark = pytest.mark.peer("localstack")

# A key that needs percent-encoding in the path (space, plus) and has a slash.
KEY = "presign/a b+c.txt"


async def fetch(url: str, *, method: str = "GET", data: bytes | None = None) -> tuple[int, bytes]:
    # encoded=True: send the URL exactly as it was signed, byte for byte.
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, URL(url, encoded=True), data=data) as response,
    ):
        return response.status, await response.read()


def error_code(body: bytes) -> str:
    match = re.search(rb"<Code>([^<]+)</Code>", body)
    assert match is not None, body[:300]
    return match.group(1).decode()


def presign_get(server: PresignServer, *, expires_in: int = 300, **client_args: str) -> str:
    url: str = server.client(**client_args).generate_presigned_url(
        "get_object", Params={"Bucket": server.bucket, "Key": KEY}, ExpiresIn=expires_in
    )
    return url


@pytest.fixture
def stored(presign_server: PresignServer) -> bytes:
    """Put a fresh random object at KEY with a header-signed request; return its body."""
    body = secrets.token_bytes(48)
    presign_server.client().put_object(Bucket=presign_server.bucket, Key=KEY, Body=body)
    return body


async def test_valid_presigned_get_returns_the_object(
    presign_server: PresignServer, stored: bytes
) -> None:
    # `stored` went up with an Authorization header; the presigned GET reads it back.
    url = presign_get(presign_server)
    assert "X-Amz-Signature=" in url
    assert "X-Amz-Expires=300" in url

    assert await fetch(url) == (200, stored)


async def test_tampered_signature_is_refused(presign_server: PresignServer, stored: bytes) -> None:
    url = presign_get(presign_server)
    signature = re.search(r"X-Amz-Signature=([0-9a-f]{64})", url)
    assert signature is not None
    original = signature.group(1)
    flipped = ("1" if original[0] == "0" else "0") + original[1:]

    status, body = await fetch(url.replace(original, flipped))

    assert (status, error_code(body)) == (403, "SignatureDoesNotMatch")
    # The same URL with its own signature still works: only the signature changed.
    assert await fetch(url) == (200, stored)


async def test_url_signed_with_a_wrong_secret_is_refused(
    presign_server: PresignServer, stored: bytes
) -> None:
    wrong_secret = presign_server.secret_access_key[:-4] + secrets.token_hex(2)
    assert wrong_secret != presign_server.secret_access_key
    url = presign_get(presign_server, secret_access_key=wrong_secret)

    status, body = await fetch(url)

    assert (status, error_code(body)) == (403, "SignatureDoesNotMatch")


async def test_expired_url_is_refused(presign_server: PresignServer, stored: bytes) -> None:
    signed_at = time.monotonic()
    url = presign_get(presign_server, expires_in=2)
    # X-Amz-Date is truncated to the second, so within 1 s of signing it is valid ...
    assert await fetch(url) == (200, stored)
    assert time.monotonic() - signed_at < 1, "too slow to check the URL before it expired"

    # ... and 2.5 s after signing it is past X-Amz-Date + X-Amz-Expires.
    await asyncio.sleep(2.5 - (time.monotonic() - signed_at))
    status, body = await fetch(url)

    assert (status, error_code(body)) == (403, "AccessDenied")
    assert b"Request has expired" in body


async def test_session_token_is_part_of_the_signed_query(
    presign_server: PresignServer, stored: bytes
) -> None:
    token = presign_server.session_token
    url = presign_get(
        presign_server,
        access_key_id=presign_server.temporary_access_key_id,
        secret_access_key=presign_server.temporary_secret_access_key,
        session_token=token,
    )
    assert f"X-Amz-Security-Token={token}" in url

    assert await fetch(url) == (200, stored)
    for changed in (
        url.replace(token, token + "x"),
        url.replace(f"&X-Amz-Security-Token={token}", ""),
    ):
        status, body = await fetch(changed)
        assert (status, error_code(body)) == (403, "SignatureDoesNotMatch")


async def test_presigned_put_is_readable_with_a_header_signed_get(
    presign_server: PresignServer,
) -> None:
    body = secrets.token_bytes(32)
    key = f"presign/put-{secrets.token_hex(4)}"
    client = presign_server.client()
    url = client.generate_presigned_url(
        "put_object", Params={"Bucket": presign_server.bucket, "Key": key}, ExpiresIn=300
    )

    status, _ = await fetch(url, method="PUT", data=body)

    assert status == 200
    got = client.get_object(Bucket=presign_server.bucket, Key=key)["Body"].read()
    assert got == body
