"""Basic authentication (RFC 7617) that a redirect to another origin does not get.

BasicAuthMiddleware replaces aiohttp's deprecated ``BasicAuth`` / ``auth=``. It
sends ``login:password`` encoded as UTF-8, so non-ASCII logins work (RFC 7617
§2.1), and only to the origin of its first request: when that server redirects
to another origin, aiohttp follows and the next hop goes without the password.

Demo credentials: the demo server accepts exactly LOGIN and PASSWORD below. In
a real program, read them from the environment or a secret store.

Run it alone (it starts two demo servers on 127.0.0.1, two origins):
    python examples/basic_auth.py
or against running aiohttp_auth.testing resource servers:
    AIOHTTP_AUTH_EXAMPLE_URL=http://127.0.0.1:8080/ \\
    AIOHTTP_AUTH_EXAMPLE_OTHER_URL=http://127.0.0.1:8081/ python examples/basic_auth.py

Expected output::

    GET /basic as 'jürgen' -> 200
    GET /redirect?to=<other origin>/echo -> 200
    the other origin received an Authorization header: no
"""

import asyncio
import os
import sys

import aiohttp
from yarl import URL

from aiohttp_auth import BasicAuthMiddleware
from aiohttp_auth.testing import LocalServer, ResourceConfig, resource_app

LOGIN = "jürgen"
PASSWORD = "correct horse battery staple"


async def run(base_url: URL, other_url: URL) -> bool:
    """Log in, then follow a redirect to *other_url*; True if no password leaked."""
    auth = BasicAuthMiddleware(LOGIN, PASSWORD)
    async with aiohttp.ClientSession(middlewares=(auth,)) as session:
        async with session.get(base_url / "basic") as response:
            print(f"GET /basic as {LOGIN!r} -> {response.status}")
            if response.status != 200:
                return False

        # The demo server's /redirect sends us to ?to=..., here another origin,
        # whose /echo answers with the headers it received.
        target = other_url / "echo"
        async with session.get(base_url / "redirect", params={"to": str(target)}) as response:
            print(f"GET /redirect?to=<other origin>/echo -> {response.status}")
            if response.status != 200 or response.url.origin() != other_url.origin():
                return False
            received = await response.json()

    leaked = any(name.lower() == "authorization" for name in received["headers"])
    print(f"the other origin received an Authorization header: {'yes' if leaked else 'no'}")
    return not leaked


def demo_server_config() -> ResourceConfig:
    """What the demo server accepts: this example's demo login and password."""
    return ResourceConfig(basic_users={LOGIN: PASSWORD})


async def main() -> int:
    base_url = os.environ.get("AIOHTTP_AUTH_EXAMPLE_URL")
    if base_url:
        other_url = os.environ.get("AIOHTTP_AUTH_EXAMPLE_OTHER_URL")
        if not other_url:
            sys.exit("AIOHTTP_AUTH_EXAMPLE_OTHER_URL: set it to a second server's URL")
        accepted = await run(URL(base_url), URL(other_url))
    else:
        # No servers given: serve two demo ones here, on two ports of 127.0.0.1.
        async with (
            LocalServer(resource_app(demo_server_config())) as server,
            LocalServer(resource_app(ResourceConfig())) as other,
        ):
            accepted = await run(server.url, other.url)
    return 0 if accepted else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
