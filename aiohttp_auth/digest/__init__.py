"""HTTP Digest access authentication (RFC 7616).

The protocol is sans-IO ([`aiohttp_auth.digest.protocol`][]): parse the
challenges with [`aiohttp_auth.challenges.parse_challenges`][], pick one with
[`select_challenge`][], build [`DigestCredentials`][] once per protection
space, then call [`DigestCredentials.authorization`][] per request with the
nonce count and a client nonce from [`make_cnonce`][].
[`DigestAuthMiddleware`][] does all of that for an aiohttp ``ClientSession``.
"""

from .middleware import DigestAuthMiddleware as DigestAuthMiddleware
from .protocol import SUPPORTED_ALGORITHMS as SUPPORTED_ALGORITHMS
from .protocol import AuthenticationInfo as AuthenticationInfo
from .protocol import DigestAlgorithm as DigestAlgorithm
from .protocol import DigestChallenge as DigestChallenge
from .protocol import DigestCredentials as DigestCredentials
from .protocol import algorithm_for as algorithm_for
from .protocol import authorization as authorization
from .protocol import expected_rspauth as expected_rspauth
from .protocol import make_cnonce as make_cnonce
from .protocol import parse_authentication_info as parse_authentication_info
from .protocol import select_challenge as select_challenge
from .protocol import verify_rspauth as verify_rspauth

__all__ = [
    "SUPPORTED_ALGORITHMS",
    "AuthenticationInfo",
    "DigestAlgorithm",
    "DigestAuthMiddleware",
    "DigestChallenge",
    "DigestCredentials",
    "algorithm_for",
    "authorization",
    "expected_rspauth",
    "make_cnonce",
    "parse_authentication_info",
    "select_challenge",
    "verify_rspauth",
]
