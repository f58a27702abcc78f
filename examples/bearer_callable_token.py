"""Bearer token from an async callable that reads a token file another process refreshes.

Many deployments hand a program a short-lived token in a file and replace the
file before the token expires: a Kubernetes projected service-account token, a
Vault agent sink, a cron job. Pass BearerAuthMiddleware a callable instead of a
string and it asks the callable on every request, so each request carries
whatever the file holds now, without restarting anything.

Demo credentials: the demo server accepts the two tokens in DEMO_TOKENS. This
script writes them to a temporary file one after the other, playing the part of
the process that refreshes the file.

Run it alone (it starts a demo server on 127.0.0.1):
    python examples/bearer_callable_token.py
or against a running aiohttp_auth.testing resource server:
    AIOHTTP_AUTH_EXAMPLE_URL=http://127.0.0.1:8080/ python examples/bearer_callable_token.py

Expected output::

    token 1 in the file -> GET /bearer: 200
    token 2 in the file -> GET /bearer: 200
"""

import asyncio
import os
import sys
import tempfile
from pathlib import Path

import aiohttp
from yarl import URL

from aiohttp_auth import BearerAuthMiddleware
from aiohttp_auth.testing import LocalServer, ResourceConfig, resource_app

DEMO_TOKENS = ("demo-file-token-1", "demo-file-token-2")


class TokenFile:
    """An async token source: the token stored in a file, read again on every call."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def __call__(self) -> str:
        # The file is tiny, so reading it per request costs little and the token
        # is never stale. Read in a thread: file IO would block the event loop.
        text = await asyncio.to_thread(self.path.read_text, encoding="utf-8")
        return text.strip()


def replace_token(path: Path, token: str) -> None:
    """Write a new token the way refreshers do: a new file renamed over the old one.

    The rename is atomic, so a reader sees the old token or the new one, never half.
    """
    new = path.with_suffix(".new")
    new.write_text(token + "\n", encoding="utf-8")
    os.replace(new, path)


async def run(base_url: URL) -> bool:
    """Send one request per token, replacing the file in between; True if all got 200."""
    all_ok = True
    with tempfile.TemporaryDirectory() as directory:
        token_file = Path(directory) / "token"
        auth = BearerAuthMiddleware(TokenFile(token_file))
        async with aiohttp.ClientSession(middlewares=(auth,)) as session:
            for number, token in enumerate(DEMO_TOKENS, start=1):
                replace_token(token_file, token)
                async with session.get(base_url / "bearer") as response:
                    print(f"token {number} in the file -> GET /bearer: {response.status}")
                    all_ok &= response.status == 200
    return all_ok


def demo_server_config() -> ResourceConfig:
    """What the demo server accepts: this example's demo tokens."""
    return ResourceConfig(bearer_tokens=frozenset(DEMO_TOKENS))


async def main() -> int:
    base_url = os.environ.get("AIOHTTP_AUTH_EXAMPLE_URL")
    if base_url:
        all_ok = await run(URL(base_url))
    else:
        # No server given: serve the demo one here, on 127.0.0.1.
        async with LocalServer(resource_app(demo_server_config())) as server:
            all_ok = await run(server.url)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
