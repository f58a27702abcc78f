"""HTTP Digest (RFC 7616) with SHA-512-256: one challenge answers many requests.

DigestAuthMiddleware proves that it knows the password without sending it. It
answers the strongest challenge a server offers, here SHA-512-256, which
aiohttp's own DigestAuthMiddleware cannot compute, and then answers every later
request to the same protection space at once, without waiting for another 401.
The server echoes the nonce count of each answer: 1, 2, 3 on one nonce means
one challenge for three requests.

Demo credentials: the demo server accepts exactly LOGIN and PASSWORD below (the
user of RFC 7616's own examples). In a real program, read them from the
environment or a secret store.

Run it alone (it starts a demo Digest server on 127.0.0.1):
    python examples/digest_auth.py
or against a running aiohttp_auth.testing Digest server (digest_app):
    AIOHTTP_AUTH_EXAMPLE_URL=http://127.0.0.1:8080/ python examples/digest_auth.py

Expected output::

    GET /digest/reports/1 -> 200 as 'Mufasa' (SHA-512-256, nc=1)
    GET /digest/reports/2 -> 200 as 'Mufasa' (SHA-512-256, nc=2)
    GET /digest/reports/3 -> 200 as 'Mufasa' (SHA-512-256, nc=3)
"""

import asyncio
import os
import sys

import aiohttp
from yarl import URL

from aiohttp_auth.digest import DigestAuthMiddleware
from aiohttp_auth.testing import DigestConfig, LocalServer, digest_app

LOGIN = "Mufasa"
PASSWORD = "Circle of Life"


async def run(base_url: URL) -> bool:
    """Send three requests to one protection space; True if all were accepted."""
    auth = DigestAuthMiddleware(LOGIN, PASSWORD)
    all_ok = True
    async with aiohttp.ClientSession(middlewares=(auth,)) as session:
        for number in (1, 2, 3):
            path = f"digest/reports/{number}"
            async with session.get(base_url / path) as response:
                if response.status != 200:
                    print(f"GET /{path} -> {response.status}")
                    all_ok = False
                    continue
                # The demo server says whom it authenticated, and how.
                answer = await response.json()
            print(
                f"GET /{path} -> {response.status} as {answer['username']!r} "
                f"({answer['algorithm']}, nc={answer['nc']})"
            )
    return all_ok


def demo_server_config() -> DigestConfig:
    """What the demo server offers and accepts: SHA-512-256 first, and the demo login."""
    return DigestConfig(users={LOGIN: PASSWORD}, algorithms=["SHA-512-256", "SHA-256", "MD5"])


#: The application the demo server runs (a Digest server, not the resource server).
demo_server_app = digest_app


async def main() -> int:
    base_url = os.environ.get("AIOHTTP_AUTH_EXAMPLE_URL")
    if base_url:
        all_ok = await run(URL(base_url))
    else:
        # No server given: serve the demo one here, on 127.0.0.1.
        async with LocalServer(demo_server_app(demo_server_config())) as server:
            all_ok = await run(server.url)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
