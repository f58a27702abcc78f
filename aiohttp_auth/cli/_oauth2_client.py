"""The OAuth 2 demo's client side: its grants, how they are shown, the request it sends.

Every OAuth 2 scenario of [`aiohttp_auth.cli.demo_oauth2`][] and
[`aiohttp_auth.cli.demo_oauth2_refresh`][] is the demo client (and, for the
password grant, the demo user) of [`aiohttp_auth.cli._demo_env`][] against
its own authorization server, requesting [`RESOURCE`][] on it.
"""

from __future__ import annotations

from typing import Final

from aiohttp import ClientSession
from yarl import URL

from ..oauth2 import ClientCredentials, Password
from ..testing import LocalServer
from ._console import Outcome
from ._demo_env import OAUTH2_CLIENT_ID, OAUTH2_CLIENT_SECRET, OAUTH2_PASSWORD, OAUTH2_USERNAME

__all__ = [
    "CLIENT",
    "RESOURCE",
    "client_credentials_grant",
    "get_status",
    "password_grant",
    "say_password_grant",
]

RESOURCE: Final = "/resource/reports"
"""The protected resource the scenarios request, served by their authorization server."""
CLIENT: Final = f"{OAUTH2_CLIENT_ID!r}, {OAUTH2_CLIENT_SECRET!r}"
"""The demo client's id and secret as the code shown passes them to a grant."""


async def get_status(session: ClientSession, url: URL) -> int:
    """GET *url*; return the status once the body is read."""
    async with session.get(url) as response:
        await response.read()
        return response.status


def client_credentials_grant(server: LocalServer) -> ClientCredentials:
    """Return the demo client's client credentials grant on *server* (RFC 6749 §4.4)."""
    return ClientCredentials(
        str(server.make_url("/token")), OAUTH2_CLIENT_ID, OAUTH2_CLIENT_SECRET
    )


def password_grant(server: LocalServer) -> Password:
    """Return the demo client's password grant for the demo user on *server* (RFC 6749 §4.3)."""
    return Password(
        str(server.make_url("/token")),
        OAUTH2_CLIENT_ID,
        OAUTH2_CLIENT_SECRET,
        username=OAUTH2_USERNAME,
        password=OAUTH2_PASSWORD,
    )


def say_password_grant(out: Outcome, middleware: str) -> None:
    """Show the code of [`password_grant`][], then *middleware*'s construction."""
    out.say(f"grant = Password(token_url, {CLIENT},", label="code")
    out.say(f"                 username={OAUTH2_USERNAME!r}, password={OAUTH2_PASSWORD!r})")
    out.say(middleware)
