"""OAuth 2 refresh tokens with rotation: the store always holds the newest one.

A command-line tool logged in once (in a browser, with the device flow...) and
kept the refresh token it got. Each run starts from it with the RefreshToken
grant. This server rotates refresh tokens (RFC 9700 §4.14.2): every refresh
answers a new refresh token and invalidates the one sent. OAuth2Middleware
writes each new token to its store before using it, and refreshes with the
newest refresh token of the store, never the first one again.

Access tokens of the demo server live 2 seconds. OAuth2Middleware refreshes
``leeway`` seconds (30 by default) before expiry, but never earlier than half
the lifetime, so here it refreshes after one second: the second request,
1.2 s after the first, is sent with a new access token.

Demo credentials: the demo authorization server knows the client CLIENT_ID
with the secret CLIENT_SECRET, and has issued LOGIN_REFRESH_TOKEN to it for
the user USERNAME, as that login would have. In a real program, read the
client secret and the refresh token from a secret store.

Run it alone (it starts the demo authorization server on 127.0.0.1, which also
serves a protected API under /resource/):
    python examples/oauth2_refresh_rotation.py
or against a running aiohttp_auth.testing authorization server (authorization_server_app):
    AIOHTTP_AUTH_EXAMPLE_URL=http://127.0.0.1:8080/ python examples/oauth2_refresh_rotation.py

Expected output::

    GET /resource/notes -> 200 as 'ada'; the store holds access token 1, refresh token 2
    GET /resource/notes -> 200 as 'ada'; the store holds access token 2, refresh token 3
"""

import asyncio
import os
import sys
import time

import aiohttp
from yarl import URL

from aiohttp_auth import AuthError, MemoryTokenStore, OAuth2Middleware
from aiohttp_auth.oauth2 import RefreshToken
from aiohttp_auth.testing import AuthorizationServerConfig, LocalServer, authorization_server_app
from aiohttp_auth.testing.oauth2 import IssuedToken

CLIENT_ID = "notes-cli"
CLIENT_SECRET = "demo-notes-cli-secret"
LOGIN_REFRESH_TOKEN = "demo-login-refresh-token"
USERNAME = "ada"
TOKEN_LIFETIME = 2.0
PAUSE = 1.2
"""Seconds between the requests: past half the token lifetime, before its end."""


class TokenNumbers:
    """Numbers tokens in the order they appear, to show them without printing them."""

    def __init__(self, *known: str) -> None:
        self.seen = list(known)

    def __call__(self, token: str | None) -> int:
        if token not in self.seen:
            self.seen.append(token)
        return self.seen.index(token) + 1


async def run(base_url: URL) -> bool:
    """Send two requests a token refresh apart; True if both were served."""
    grant = RefreshToken(
        str(base_url / "token"), CLIENT_ID, CLIENT_SECRET, refresh_token=LOGIN_REFRESH_TOKEN
    )
    # A MemoryTokenStore lives as long as the process; a store shared between
    # processes or runs keeps the newest refresh token for the next one too.
    store = MemoryTokenStore()
    auth = OAuth2Middleware(grant, store=store)
    access_numbers, refresh_numbers = TokenNumbers(), TokenNumbers(LOGIN_REFRESH_TOKEN)
    all_ok = True
    async with aiohttp.ClientSession(middlewares=(auth,)) as session:
        for number in (1, 2):
            if number > 1:
                await asyncio.sleep(PAUSE)
            async with session.get(base_url / "resource/notes") as response:
                # The demo API says whom the token stood for.
                user = (await response.json()).get("sub") if response.status == 200 else None
            token = await store.get(auth.key)
            assert token is not None  # stored before the request was sent
            print(
                f"GET /resource/notes -> {response.status} as {user!r}; the store holds "
                f"access token {access_numbers(token.access_token)}, "
                f"refresh token {refresh_numbers(token.refresh_token)}"
            )
            all_ok &= response.status == 200
    return all_ok


def demo_server_config() -> AuthorizationServerConfig:
    """What the demo authorization server knows: the client, and the login's refresh token."""
    config = AuthorizationServerConfig(
        access_token_lifetime=TOKEN_LIFETIME, rotate_refresh_tokens=True
    )
    config.register(CLIENT_ID, CLIENT_SECRET)
    config.tokens[LOGIN_REFRESH_TOKEN] = IssuedToken(
        value=LOGIN_REFRESH_TOKEN,
        kind="refresh_token",
        client_id=CLIENT_ID,
        subject=USERNAME,
        scope="notes",
        grant_type="authorization_code",
        grant_id="demo-login",
        issued_at=time.time(),
        expires_at=None,
    )
    return config


#: The application the demo server runs (an authorization server with an API).
demo_server_app = authorization_server_app


async def main() -> int:
    base_url = os.environ.get("AIOHTTP_AUTH_EXAMPLE_URL")
    try:
        if base_url:
            all_ok = await run(URL(base_url))
        else:
            # No server given: serve the demo one here, on 127.0.0.1.
            async with LocalServer(demo_server_app(demo_server_config())) as server:
                all_ok = await run(server.url)
    except AuthError as exc:
        # No token: the message says why (e.g. invalid_grant: log in again).
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
