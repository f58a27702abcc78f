"""A real OAuth 2 authorization server on ``aiohttp.web``, for tests and demos.

It implements what a client library must get right against real servers, and
checks it as strictly as the RFCs allow:

- RFC 8414 metadata and OpenID Connect discovery;
- the token endpoint with client credentials, refresh (optionally rotating),
  password, JWT bearer (RFC 7523 §2.1), token exchange (RFC 8693),
  authorization code with PKCE (RFC 7636) and device code (RFC 8628);
- client authentication by ``client_secret_basic``, ``client_secret_post``,
  ``client_secret_jwt``, ``private_key_jwt`` (RFC 6749 §2.3, RFC 7523 §2.2)
  and ``none``;
- revocation (RFC 7009), introspection (RFC 7662), and a protected resource
  answering RFC 6750 challenges;
- fault injection (5xx, delays, garbage, dropped connections), an injectable
  clock, and records of everything the clients sent.

Usage::

    config = AuthorizationServerConfig()
    config.register("app", "app-secret", scopes=("read", "admin"))
    async with LocalServer(authorization_server_app(config)) as server:
        token_url = server.make_url("/token")

or, with the pytest plugin, the ``oauth2_config`` and ``oauth2_server`` fixtures.
"""

from .app import authorization_server_app as authorization_server_app
from .config import CONFIG as CONFIG
from .config import AuthorizationServerConfig as AuthorizationServerConfig
from .config import EndpointCall as EndpointCall
from .faults import GARBAGE as GARBAGE
from .faults import MAX_FAULT_DELAY as MAX_FAULT_DELAY
from .faults import Fault as Fault
from .faults import FaultKind as FaultKind
from .faults import GarbageKind as GarbageKind
from .registration import ALL_GRANT_TYPES as ALL_GRANT_TYPES
from .registration import CLIENT_AUTH_METHODS as CLIENT_AUTH_METHODS
from .registration import ClientAuthMethod as ClientAuthMethod
from .registration import ClientRegistration as ClientRegistration
from .tokens import AuthorizationCode as AuthorizationCode
from .tokens import DeviceAuthorization as DeviceAuthorization
from .tokens import IssuedToken as IssuedToken

__all__ = [
    "ALL_GRANT_TYPES",
    "CLIENT_AUTH_METHODS",
    "CONFIG",
    "GARBAGE",
    "MAX_FAULT_DELAY",
    "AuthorizationCode",
    "AuthorizationServerConfig",
    "ClientAuthMethod",
    "ClientRegistration",
    "DeviceAuthorization",
    "EndpointCall",
    "Fault",
    "FaultKind",
    "GarbageKind",
    "IssuedToken",
    "authorization_server_app",
]
