"""API key in the query string: ApiKeyMiddleware(key, query_param="api_key").

Some APIs (maps, weather, search) take the key as a URL parameter. The
middleware adds it to every request to the API's origin, next to the parameters
you pass yourself. Keys in URLs end up in access logs, proxies and
``response.url``: never log such a URL whole, and prefer a header when the API
accepts one (ApiKeyMiddleware(key) sends X-API-Key).

Demo credentials: the demo server accepts exactly API_KEY below. In a real
program, read the key from the environment or a secret store.

Run it alone (it starts a demo server on 127.0.0.1):
    python examples/api_key_query.py
or against a running aiohttp_auth.testing resource server:
    AIOHTTP_AUTH_EXAMPLE_URL=http://127.0.0.1:8080/ python examples/api_key_query.py

Expected output::

    GET /api-key?q=aiohttp&page=2 -> 200
    the server received the parameters: api_key, page, q
"""

import asyncio
import os
import sys

import aiohttp
from yarl import URL

from aiohttp_auth import ApiKeyMiddleware
from aiohttp_auth.testing import LocalServer, ResourceConfig, resource_app

API_KEY = "demo-query-api-key"


async def run(base_url: URL) -> bool:
    """Search with the key added by the middleware; True if the server accepted it."""
    auth = ApiKeyMiddleware(API_KEY, query_param="api_key")
    async with aiohttp.ClientSession(middlewares=(auth,)) as session:
        params = {"q": "aiohttp", "page": "2"}
        async with session.get(base_url / "api-key", params=params) as response:
            # response.url now holds the key too: print the path, not the URL.
            print(f"GET /api-key?q=aiohttp&page=2 -> {response.status}")
            if response.status != 200:
                return False
            # The demo server answers with what it received.
            received = await response.json()
    print("the server received the parameters:", ", ".join(sorted(received["query"])))
    return received["query"].get("api_key") == API_KEY


def demo_server_config() -> ResourceConfig:
    """What the demo server accepts: this example's demo key, in the api_key parameter."""
    return ResourceConfig(api_keys=frozenset({API_KEY}), api_key_query="api_key")


async def main() -> int:
    base_url = os.environ.get("AIOHTTP_AUTH_EXAMPLE_URL")
    if base_url:
        accepted = await run(URL(base_url))
    else:
        # No server given: serve the demo one here, on 127.0.0.1.
        async with LocalServer(resource_app(demo_server_config())) as server:
            accepted = await run(server.url)
    return 0 if accepted else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
