"""Real in-process servers for testing code that uses aiohttp_auth.

Used by this package's own tests, its demo and users' tests alike: the servers
are real ``aiohttp.web`` applications on 127.0.0.1, not mocks. The pytest
plugin in [`aiohttp_auth.testing.plugin`][] exposes them as fixtures.
"""

from .digest import DigestConfig as DigestConfig
from .digest import digest_app as digest_app
from .resource import RecordedRequest as RecordedRequest
from .resource import ResourceConfig as ResourceConfig
from .resource import resource_app as resource_app
from .server import LocalServer as LocalServer
from .server import serve_in_thread as serve_in_thread

__all__ = [
    "DigestConfig",
    "LocalServer",
    "RecordedRequest",
    "ResourceConfig",
    "digest_app",
    "resource_app",
    "serve_in_thread",
]
