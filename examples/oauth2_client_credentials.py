"""OAuth 2 client credentials: a service calls an API with tokens it obtains itself.

A backend service authenticates as itself, not as a user (RFC 6749 §4.4).
OAuth2Middleware asks the token endpoint for an access token on the first
request, sends it as "Authorization: Bearer ...", reuses it until shortly
before it expires, and gets a new one then, or when the API answers 401.
Requests sent at the same time share one token request: the three below, sent
together, cost one.

Demo credentials: the demo authorization server knows the client CLIENT_ID
with the secret CLIENT_SECRET below, and grants it SCOPE. In a real program,
read the secret from the environment or a secret store.

Run it alone (it starts the demo authorization server on 127.0.0.1, which also
serves a protected API under /resource/):
    python examples/oauth2_client_credentials.py
or against a running aiohttp_auth.testing authorization server (authorization_server_app):
    AIOHTTP_AUTH_EXAMPLE_URL=http://127.0.0.1:8080/ python examples/oauth2_client_credentials.py

Expected output::

    GET /resource/reports/1 -> 200 for client 'reporting-service', scope 'reports:read'
    GET /resource/reports/2 -> 200 for client 'reporting-service', scope 'reports:read'
    GET /resource/reports/3 -> 200 for client 'reporting-service', scope 'reports:read'
"""

import asyncio
import os
import sys

import aiohttp
from yarl import URL

from aiohttp_auth import AuthError, OAuth2Middleware
from aiohttp_auth.oauth2 import ClientCredentials
from aiohttp_auth.testing import AuthorizationServerConfig, LocalServer, authorization_server_app

CLIENT_ID = "reporting-service"
CLIENT_SECRET = "demo-reporting-secret"
SCOPE = "reports:read"


async def fetch(session: aiohttp.ClientSession, url: URL) -> bool:
    """GET *url* and print what the API says; True if it answered 200."""
    async with session.get(url) as response:
        if response.status != 200:
            print(f"GET {url.path} -> {response.status}")
            return False
        # The demo API says which client and scope the token stood for.
        answer = await response.json()
    print(f"GET {url.path} -> 200 for client {answer['client_id']!r}, scope {answer['scope']!r}")
    return True


async def run(base_url: URL) -> bool:
    """Fetch three reports at once with one token; True if all were served."""
    grant = ClientCredentials(str(base_url / "token"), CLIENT_ID, CLIENT_SECRET, scope=SCOPE)
    api = base_url / "resource"
    # The token goes to URLs under the API only: not to the token endpoint, nor
    # anywhere a redirect leads.
    auth = OAuth2Middleware(grant, origins=[str(api)])
    async with aiohttp.ClientSession(middlewares=(auth,)) as session:
        urls = [api / f"reports/{number}" for number in (1, 2, 3)]
        served = await asyncio.gather(*(fetch(session, url) for url in urls))
    return all(served)


def demo_server_config() -> AuthorizationServerConfig:
    """What the demo authorization server knows: this example's client and its scope."""
    config = AuthorizationServerConfig()
    config.register(CLIENT_ID, CLIENT_SECRET, scopes=(SCOPE,))
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
        # No token: the message says why (e.g. invalid_client) and what to check.
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
