"""Amazon S3 with SigV4Middleware: put an object, get it back, hand out a presigned URL.

SigV4Middleware signs every request with AWS Signature Version 4: it hashes the
body into x-amz-content-sha256, signs the headers, and sends the signature in
Authorization; the secret key itself never leaves the program. presign_url
signs a URL instead, in its X-Amz-* query parameters: whoever holds it can GET
that one object, without credentials, until it expires.

The demo server is aiohttp_auth.testing's S3-like server: it recomputes the
signature of every request from what it received and refuses those that do
not match, as S3 does. The same code talks to S3, MinIO or any S3-compatible
store: pass its endpoint and your keys instead.

Demo credentials: the demo server accepts exactly ACCESS_KEY_ID and
SECRET_ACCESS_KEY below (the example pair of AWS's documentation). In a real
program, use EnvironmentCredentials() or profile_credentials() from
aiohttp_auth.signing instead of keys in the code.

Run it alone (it starts a demo S3-like server on 127.0.0.1):
    python examples/sigv4_s3.py
or against a running aiohttp_auth.testing SigV4 server (sigv4_app):
    AIOHTTP_AUTH_EXAMPLE_URL=http://127.0.0.1:8080/ python examples/sigv4_s3.py

Expected output::

    PUT /demo-bucket/notes/hello.txt -> 200, ETag "f11e4d2487a0d3f7248f1765a19846b1"
    GET /demo-bucket/notes/hello.txt -> 200: 'hello from aiohttp-auth'
    GET presigned URL, without credentials -> 200: 'hello from aiohttp-auth'
"""

import asyncio
import os
import sys
from xml.etree import ElementTree

import aiohttp
from yarl import URL

from aiohttp_auth import SigV4Middleware
from aiohttp_auth.signing import AwsCredentials, presign_url
from aiohttp_auth.testing import LocalServer
from aiohttp_auth.testing.signing import SigV4Config, sigv4_app

ACCESS_KEY_ID = "AKIDEXAMPLE"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
KEY = "demo-bucket/notes/hello.txt"
CONTENT = b"hello from aiohttp-auth"


def error_code(body: bytes) -> str:
    """The Code of an S3 error document, e.g. SignatureDoesNotMatch."""
    try:
        return ElementTree.fromstring(body).findtext("Code") or "no error code"  # noqa: S314
    except ElementTree.ParseError:
        return "not an S3 error document"


async def run(base_url: URL) -> bool:
    """Put, get, then get through a presigned URL; True if all three worked."""
    s3 = SigV4Middleware(ACCESS_KEY_ID, SECRET_ACCESS_KEY, region=REGION, service="s3")
    async with aiohttp.ClientSession(middlewares=(s3,)) as session:
        async with session.put(base_url / KEY, data=CONTENT) as response:
            if response.status != 200:
                print(f"PUT /{KEY} -> {response.status} {error_code(await response.read())}")
                return False
            print(f"PUT /{KEY} -> {response.status}, ETag {response.headers['ETag']}")
        async with session.get(base_url / KEY) as response:
            body = await response.read()
            print(f"GET /{KEY} -> {response.status}: {body.decode()!r}")
    # Presigned: no middleware, no keys; the URL itself carries the signature.
    url = presign_url(
        base_url / KEY,
        credentials=AwsCredentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY),
        region=REGION,
        expires=300,
    )
    async with aiohttp.ClientSession() as anonymous, anonymous.get(url) as response:
        shared = await response.read()
        print(f"GET presigned URL, without credentials -> {response.status}: {shared.decode()!r}")
    return body == shared == CONTENT


def demo_server_config() -> SigV4Config:
    """What the demo server accepts: this example's key pair, for S3 in REGION."""
    return SigV4Config(region=REGION, service="s3", credentials={ACCESS_KEY_ID: SECRET_ACCESS_KEY})


#: The application the demo server runs (the S3-like SigV4 server).
demo_server_app = sigv4_app


async def main() -> int:
    base_url = os.environ.get("AIOHTTP_AUTH_EXAMPLE_URL")
    if base_url:
        accepted = await run(URL(base_url))
    else:
        # No server given: serve the demo one here, on 127.0.0.1.
        async with LocalServer(demo_server_app(demo_server_config())) as server:
            accepted = await run(server.url)
    return 0 if accepted else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
