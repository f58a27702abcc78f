"""Where the authorization server's application is mounted, and paths relative to it.

The server may run as an application of its own or be mounted in a test's
application with ``app.add_subapp("/oauth", authorization_server_app())``.
Its endpoints are then at ``/oauth/token`` and so on, and its issuer is the
origin followed by ``/oauth``. Faults and the records of endpoint calls name
paths as the server's own application sees them (``/token``), wherever it is
mounted; the record of every request keeps the path as it was received.
"""

from __future__ import annotations

from typing import Final

from aiohttp import web

__all__ = ["TOKEN_PATH", "TOKEN_ROUTE", "local_path", "mount_path"]

TOKEN_ROUTE: Final = "token"  # noqa: S105 - a route name, not a secret
"""The name of the token endpoint's route."""
TOKEN_PATH: Final = "/token"  # noqa: S105 - a path, not a secret
"""The token endpoint's path in the server's own application."""


def mount_path(request: web.Request) -> str:
    """Return the path the server's application is mounted at: ``""`` at the root.

    A sub-application's routes carry its prefix once it is mounted, so the
    token route's path, less ``/token``, is the prefix. A request handled by
    another application (one the server is mounted in) gets ``""``.
    """
    route = request.app.router.named_resources().get(TOKEN_ROUTE)
    return "" if route is None else route.canonical[: -len(TOKEN_PATH)]


def local_path(request: web.Request) -> str:
    """Return *request*'s path as the server's own application sees it, e.g. ``/token``."""
    prefix, path = mount_path(request), request.path
    return path[len(prefix) :] if prefix and path.startswith(prefix) else path
