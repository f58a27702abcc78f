"""Real in-process servers for testing code that uses aiohttp_auth.

Used by this package's own tests, its demo and users' tests alike: the servers
are real ``aiohttp.web`` applications on 127.0.0.1, not mocks. The pytest
plugin in :mod:`aiohttp_auth.testing.plugin` exposes them as fixtures.
"""

from .resource import RecordedRequest as RecordedRequest
from .resource import ResourceConfig as ResourceConfig
from .resource import resource_app as resource_app
from .server import LocalServer as LocalServer
from .server import serve_in_thread as serve_in_thread

__all__ = ["LocalServer", "RecordedRequest", "ResourceConfig", "resource_app", "serve_in_thread"]
