"""Authentication middlewares for the aiohttp client.

Every middleware is scoped to origins (a redirect elsewhere carries no
credential), refuses to send secrets over plain http to non-loopback hosts,
and never shows a secret in a repr, a log line or an exception.
"""

from typing import TYPE_CHECKING, Any

from ._middleware import AuthMiddleware as AuthMiddleware
from ._middleware import subrequest as subrequest
from ._origins import Origin as Origin
from ._origins import OriginScope as OriginScope
from .digest import DigestAuthMiddleware as DigestAuthMiddleware
from .errors import AuthError as AuthError
from .errors import BodyNotReplayableError as BodyNotReplayableError
from .errors import ChallengeError as ChallengeError
from .errors import ConfigurationError as ConfigurationError
from .errors import CredentialError as CredentialError
from .errors import InsecureTransportError as InsecureTransportError
from .errors import OAuth2Error as OAuth2Error
from .errors import SignatureVerificationError as SignatureVerificationError
from .errors import SigningError as SigningError
from .errors import StoreError as StoreError
from .errors import TokenError as TokenError
from .static import ApiKeyMiddleware as ApiKeyMiddleware
from .static import BasicAuthMiddleware as BasicAuthMiddleware
from .static import BearerAuthMiddleware as BearerAuthMiddleware

if TYPE_CHECKING:
    from .oauth2.middleware import OAuth2Middleware as OAuth2Middleware
    from .oauth2.token import Token as Token
    from .signing.azure_middleware import AzureSharedKeyMiddleware as AzureSharedKeyMiddleware
    from .signing.httpsig_middleware import HTTPSignatureMiddleware as HTTPSignatureMiddleware
    from .signing.middleware import GoogleHMACMiddleware as GoogleHMACMiddleware
    from .signing.middleware import SigV4Middleware as SigV4Middleware
    from .stores import MemoryTokenStore as MemoryTokenStore
    from .stores import TokenStore as TokenStore

__version__ = "0.1.0.dev0"

# Names imported on first use (PEP 562), so that `import aiohttp_auth` stays
# cheap (<= 1.2x aiohttp's own import time) for users of the static middlewares.
_LAZY = {
    "MemoryTokenStore": "aiohttp_auth.stores",
    "AzureSharedKeyMiddleware": "aiohttp_auth.signing.azure_middleware",
    "GoogleHMACMiddleware": "aiohttp_auth.signing.middleware",
    "HTTPSignatureMiddleware": "aiohttp_auth.signing.httpsig_middleware",
    "OAuth2Middleware": "aiohttp_auth.oauth2.middleware",
    "SigV4Middleware": "aiohttp_auth.signing.middleware",
    "Token": "aiohttp_auth.oauth2.token",
    "TokenStore": "aiohttp_auth.stores",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'aiohttp_auth' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ApiKeyMiddleware",
    "AuthError",
    "AuthMiddleware",
    "AzureSharedKeyMiddleware",
    "BasicAuthMiddleware",
    "BearerAuthMiddleware",
    "BodyNotReplayableError",
    "ChallengeError",
    "ConfigurationError",
    "CredentialError",
    "DigestAuthMiddleware",
    "GoogleHMACMiddleware",
    "HTTPSignatureMiddleware",
    "InsecureTransportError",
    "MemoryTokenStore",
    "OAuth2Error",
    "OAuth2Middleware",
    "Origin",
    "OriginScope",
    "SigV4Middleware",
    "SignatureVerificationError",
    "SigningError",
    "StoreError",
    "Token",
    "TokenError",
    "TokenStore",
    "__version__",
    "subrequest",
]
