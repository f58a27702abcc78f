"""Which Digest challenge to answer, and the answers a request carries, sans-IO.

A challenge comes from the origin (401, ``WWW-Authenticate``) or from a proxy
(407, ``Proxy-Authenticate``); the two [`Channel`][] values name the
headers each uses (RFC 7616 §3.8, RFC 9110 §11.6-§11.7). One request may
carry an answer on both. Each [`Answer`][] remembers what it was computed
from, so the server's ``Authentication-Info`` can be checked against it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, NamedTuple

from ..challenges import Challenge, parse_challenges
from ..errors import ChallengeError
from .authinfo import AuthenticationInfo
from .challenge import DigestChallenge, select_challenge
from .credentials import DigestCredentials
from .spaces import ProtectionSpace

__all__ = ["ORIGIN", "PROXY", "Answer", "Channel", "choose_challenge"]


class Channel(NamedTuple):
    """The status and header names of one side: the origin or the proxy."""

    status: int
    challenge: str
    answer: str
    info: str


ORIGIN: Final = Channel(401, "WWW-Authenticate", "Authorization", "Authentication-Info")
"""The origin server: 401, ``WWW-Authenticate``, ``Authorization``, ``Authentication-Info``."""
PROXY: Final = Channel(
    407, "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Authentication-Info"
)
"""A proxy: 407 and the ``Proxy-`` headers (RFC 7616 §3.8, RFC 9110 §11.7)."""


def choose_challenge(lines: Iterable[str]) -> tuple[DigestChallenge | None, list[str]]:
    """Pick the strongest Digest challenge (RFC 7616 §3.7) and list what was malformed.

    Each field line is parsed on its own, so a malformed line cannot hide a
    good challenge on another one. A malformed line that does not mention
    Digest is another scheme's business and is not listed.

    Returns:
        The challenge to answer (None if none can be), and the problems
        found with Digest challenges.
    """
    challenges: list[Challenge] = []
    problems: list[str] = []
    for line in lines:
        try:
            challenges += parse_challenges(line)
        except ChallengeError as error:
            if "digest" in line.lower():
                problems.append(str(error))
    try:
        return select_challenge(challenges), problems
    except ChallengeError as error:
        return None, [*problems, str(error)]


class Answer(NamedTuple):
    """One Digest answer sent with a request (RFC 7616 §3.4).

    Attributes:
        channel: the side it answers.
        space: the protection space it was taken from.
        credentials: the credentials (and nonce) it used.
        nc: its nonce count.
        cnonce: its client nonce.
        uri: the request-target it covers.
    """

    channel: Channel
    space: ProtectionSpace
    credentials: DigestCredentials
    nc: int
    cnonce: str
    uri: str

    def header(self, method: str, body: bytes = b"") -> str:
        """Build the header value; *body* is hashed only for qop ``auth-int``."""
        return self.credentials.authorization(
            method, self.uri, nc=self.nc, cnonce=self.cnonce, body=body
        )

    def accept(self, info: AuthenticationInfo, body: bytes = b"") -> bool:
        """Check the server's ``Authentication-Info`` and take its ``nextnonce`` (RFC 7616 §3.5).

        Args:
            info: the parsed ``Authentication-Info``.
            body: the response body, which ``rspauth`` covers for qop ``auth-int``.

        Returns:
            False if ``rspauth`` was sent and does not match (then ``nextnonce``
            is not taken either); True otherwise.
        """
        if info.rspauth is not None and not self.credentials.verify_rspauth(
            info, self.uri, nc=self.nc, cnonce=self.cnonce, body=body
        ):
            return False
        if info.nextnonce:
            self.space.renew(info.nextnonce)
        return True
