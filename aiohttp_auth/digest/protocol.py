"""HTTP Digest access authentication, sans-IO (RFC 7616, RFC 2617, RFC 2069).

Values in, values out: no IO, no clock, no randomness. The middleware parses
the challenges ([`aiohttp_auth.challenges.parse_challenges`][]), picks one
with [`select_challenge`][], builds a [`DigestCredentials`][] once per
protection space and nonce, and then asks it for one ``Authorization`` value
per request, passing the nonce count and a client nonce ([`make_cnonce`][]
over random bytes it draws). The functions here are one-off forms of the same,
for tests and scripts.

Modules: [`.algorithms`][..algorithms] (hash algorithms and their ranking),
[`.challenge`][..challenge] (challenge parameters and choice), [`.credentials`][..credentials]
(answers, username forms and encodings), [`.authinfo`][..authinfo]
(``Authentication-Info``).
"""

from __future__ import annotations

from ..errors import ConfigurationError
from .algorithms import SUPPORTED_ALGORITHMS, DigestAlgorithm, algorithm_for
from .authinfo import AuthenticationInfo, parse_authentication_info
from .challenge import DigestChallenge, select_challenge
from .credentials import DigestCredentials

__all__ = [
    "SUPPORTED_ALGORITHMS",
    "AuthenticationInfo",
    "DigestAlgorithm",
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


def authorization(
    challenge: DigestChallenge,
    *,
    method: str,
    uri: str,
    login: str,
    password: str,
    nc: int,
    cnonce: str,
    body: bytes = b"",
    qop: str | None = None,
) -> str:
    """Build the Authorization header value for *challenge* (RFC 7616 §3.4).

    A one-off form of [`DigestCredentials.authorization`][]; build a
    [`DigestCredentials`][] to answer many requests.
    """
    credentials = DigestCredentials(challenge, login, password, qop=qop)
    return credentials.authorization(method, uri, nc=nc, cnonce=cnonce, body=body)


def expected_rspauth(
    challenge: DigestChallenge,
    *,
    uri: str,
    login: str,
    password: str,
    nc: int,
    cnonce: str,
    body: bytes = b"",
    qop: str | None = None,
) -> str:
    """Compute the ``rspauth`` a server should answer with (RFC 7616 §3.5)."""
    credentials = DigestCredentials(challenge, login, password, qop=qop)
    return credentials.rspauth(uri, nc=nc, cnonce=cnonce, body=body)


def verify_rspauth(
    challenge: DigestChallenge,
    info: AuthenticationInfo,
    *,
    uri: str,
    login: str,
    password: str,
    nc: int,
    cnonce: str,
    body: bytes = b"",
    qop: str | None = None,
) -> bool:
    """Check *info*'s ``rspauth`` in constant time (RFC 7616 §3.5)."""
    credentials = DigestCredentials(challenge, login, password, qop=qop)
    return credentials.verify_rspauth(info, uri, nc=nc, cnonce=cnonce, body=body)


def make_cnonce(random_bytes: bytes) -> str:
    """Turn at least 8 random bytes into a client nonce (RFC 7616 §3.4 ``cnonce``).

    Hexadecimal, so it never needs escaping. Pass ``os.urandom(16)`` or
    ``secrets.token_bytes(16)``.

    Raises:
        ConfigurationError: fewer than 8 bytes.
    """
    if len(random_bytes) < 8:
        raise ConfigurationError(
            f"a client nonce needs at least 8 random bytes, got {len(random_bytes)}"
        )
    return random_bytes.hex()
