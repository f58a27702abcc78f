"""Authentication middlewares for the aiohttp client.

Every middleware is scoped to origins (a redirect elsewhere carries no
credential), refuses to send secrets over plain http to non-loopback hosts,
and never shows a secret in a repr, a log line or an exception.
"""

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
from .errors import SigningError as SigningError
from .errors import StoreError as StoreError
from .errors import TokenError as TokenError
from .static import ApiKeyMiddleware as ApiKeyMiddleware
from .static import BasicAuthMiddleware as BasicAuthMiddleware
from .static import BearerAuthMiddleware as BearerAuthMiddleware

__version__ = "0.1.0.dev0"

__all__ = [
    "ApiKeyMiddleware",
    "AuthError",
    "AuthMiddleware",
    "BasicAuthMiddleware",
    "BearerAuthMiddleware",
    "BodyNotReplayableError",
    "ChallengeError",
    "ConfigurationError",
    "CredentialError",
    "DigestAuthMiddleware",
    "InsecureTransportError",
    "OAuth2Error",
    "Origin",
    "OriginScope",
    "SigningError",
    "StoreError",
    "TokenError",
    "__version__",
    "subrequest",
]
