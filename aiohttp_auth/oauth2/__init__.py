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
from .grants import BaseGrant as BaseGrant
from .grants import ClientCredentials as ClientCredentials
from .grants import Grant as Grant
from .grants import JWTBearer as JWTBearer
from .grants import Password as Password
from .grants import RefreshToken as RefreshToken
from .grants import TokenExchange as TokenExchange
from .protocol import TokenRequest as TokenRequest
from .protocol import bearer_challenge_error as bearer_challenge_error
from .protocol import parse_token_response as parse_token_response
from .token import Token as Token

__all__ = [
    "BaseGrant",
    "ClientAuth",
    "ClientAuthMethod",
    "ClientCredentials",
    "Grant",
    "JWTBearer",
    "Password",
    "RefreshToken",
    "Token",
    "TokenExchange",
    "TokenRequest",
    "bearer_challenge_error",
    "make_client_auth",
    "parse_token_response",
]
