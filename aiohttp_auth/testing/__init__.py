"""Real in-process servers for testing code that uses aiohttp_auth.

Used by this package's own tests, its demo and users' tests alike: the servers
are real ``aiohttp.web`` applications on 127.0.0.1, not mocks. The pytest
plugin in [`aiohttp_auth.testing.plugin`][] exposes them as fixtures.
"""

from typing import TYPE_CHECKING, Any

from .digest import DigestConfig as DigestConfig
from .digest import digest_app as digest_app
from .oauth2 import AuthorizationServerConfig as AuthorizationServerConfig
from .oauth2 import ClientRegistration as ClientRegistration
from .oauth2 import Fault as Fault
from .oauth2 import authorization_server_app as authorization_server_app
from .resource import RecordedRequest as RecordedRequest
from .resource import ResourceConfig as ResourceConfig
from .resource import resource_app as resource_app
from .server import LocalServer as LocalServer
from .server import serve_in_thread as serve_in_thread

if TYPE_CHECKING:
    from .signing import HTTPSigConfig as HTTPSigConfig
    from .signing import SigV4Config as SigV4Config
    from .signing import httpsig_app as httpsig_app
    from .signing import sigv4_app as sigv4_app

# The signing servers load on first use (PEP 562): they import the signing code
# and cryptography, which tests of the other servers need not pay for.
_LAZY = frozenset({"HTTPSigConfig", "SigV4Config", "httpsig_app", "sigv4_app"})


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'aiohttp_auth.testing' has no attribute {name!r}")
    from . import signing

    value = getattr(signing, name)
    globals()[name] = value
    return value


__all__ = [
    "AuthorizationServerConfig",
    "ClientRegistration",
    "DigestConfig",
    "Fault",
    "HTTPSigConfig",
    "LocalServer",
    "RecordedRequest",
    "ResourceConfig",
    "SigV4Config",
    "authorization_server_app",
    "digest_app",
    "httpsig_app",
    "resource_app",
    "serve_in_thread",
    "sigv4_app",
]
