"""OAuth 2 for the aiohttp client: tokens, grants, client authentication.

The sans-IO core lives in [`token`][aiohttp_auth.oauth2.token] (the
[`Token`][aiohttp_auth.oauth2.token.Token]),
[`protocol`][aiohttp_auth.oauth2.protocol] (token requests and responses),
[`client_auth`][aiohttp_auth.oauth2.client_auth] (RFC 6749 §2.3, RFC 7523 §2.2)
and [`grants`][aiohttp_auth.oauth2.grants]. Nothing imported here loads
joserfc or cryptography: they are imported only when a JWT is signed.
"""

from .client_auth import ClientAuth as ClientAuth
from .client_auth import ClientAuthMethod as ClientAuthMethod
from .client_auth import make_client_auth as make_client_auth
from .discovery import discover as discover
from .discovery import grant_from_issuer as grant_from_issuer
from .endpoint import request_token as request_token
from .grants import BaseGrant as BaseGrant
from .grants import ClientCredentials as ClientCredentials
from .grants import Grant as Grant
from .grants import JWTBearer as JWTBearer
from .grants import Password as Password
from .grants import RefreshToken as RefreshToken
from .grants import TokenExchange as TokenExchange
from .metadata import ServerMetadata as ServerMetadata
from .metadata import metadata_urls as metadata_urls
from .middleware import OAuth2Middleware as OAuth2Middleware
from .protocol import TokenRequest as TokenRequest
from .protocol import bearer_challenge_error as bearer_challenge_error
from .protocol import parse_token_response as parse_token_response
from .retry import RetryPolicy as RetryPolicy
from .revocation import revocation_request as revocation_request
from .revocation import revoke as revoke
from .token import Token as Token

__all__ = [
    "BaseGrant",
    "ClientAuth",
    "ClientAuthMethod",
    "ClientCredentials",
    "Grant",
    "JWTBearer",
    "OAuth2Middleware",
    "Password",
    "RefreshToken",
    "RetryPolicy",
    "ServerMetadata",
    "Token",
    "TokenExchange",
    "TokenRequest",
    "bearer_challenge_error",
    "discover",
    "grant_from_issuer",
    "make_client_auth",
    "metadata_urls",
    "parse_token_response",
    "request_token",
    "revocation_request",
    "revoke",
]
