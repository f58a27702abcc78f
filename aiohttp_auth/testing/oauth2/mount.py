"""Where the authorization server's application is mounted, and paths relative to it.

The server may run as an application of its own or be mounted in a test's
application with ``app.add_subapp("/oauth", authorization_server_app())``.
Its endpoints are then at ``/oauth/token`` and so on, and its issuer is the
origin followed by ``/oauth``. Endpoints, faults and records name paths as
the server's own application sees them (``/token``), wherever it is mounted.
"""

from __future__ import annotations

from typing import Final

from aiohttp import web

__all__ = ["TOKEN_ROUTE", "local_path", "mount_path"]

TOKEN_ROUTE: Final = "token"  # noqa: S105 - a route name, not a secret
"""The name of the token endpoint's route, registered at ``/token``."""
_TOKEN_PATH: Final = "/token"  # noqa: S105 - a path, not a secret


def mount_path(request: web.Request) -> str:
    """Return the path the server's application is mounted at: ``""`` at the root.

    A sub-application's routes carry its prefix once it is mounted, so the
    token route's path, less ``/token``, is the prefix.
    """
    return request.app.router[TOKEN_ROUTE].canonical[: -len(_TOKEN_PATH)]


def local_path(request: web.Request) -> str:
    """Return *request*'s path as the server's own application sees it, e.g. ``/token``."""
    prefix, path = mount_path(request), request.path
    return path[len(prefix) :] if prefix and path.startswith(prefix) else path
