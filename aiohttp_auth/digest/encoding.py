"""How a login and a password go into a Digest answer (RFC 7616 §3.4, §4).

Character encoding of the username and password (RFC 7616 §4):

* ``charset=UTF-8`` in the challenge: both are normalized to NFC (the
  normalization rule of the RFC 7613 profiles RFC 7616 §4 names; the password
  also has non-ASCII spaces mapped to U+0020, as the OpaqueString profile
  does) and encoded as UTF-8.
* otherwise: ISO-8859-1 when every character of both fits (what RFC 2617
  servers assume), else UTF-8 for both, unnormalized. ASCII credentials are
  the same bytes either way.

The username goes in the header as ``username="..."``; if it holds characters
a quoted-string cannot carry (anything but printable ASCII, space and tab),
as ``username*=UTF-8''...`` (RFC 8187, RFC 7616 §3.4); and when the challenge
says ``userhash=true``, as ``username="H(username:realm)"`` with
``userhash=true`` (RFC 7616 §3.4.4).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final
from urllib.parse import quote_from_bytes

from ..errors import ConfigurationError
from .algorithms import DigestAlgorithm
from .challenge import DigestChallenge

__all__ = ["prepare", "quote", "username_param", "wire"]

# Characters a quoted-string cannot carry as text (RFC 9110 §5.6.4 without obs-text).
_NOT_QUOTABLE: Final = re.compile(r"[^\t\x20-\x7e]")
# RFC 8187 §3.2.1 attr-char beyond ALPHA / DIGIT and quote()'s always-safe "_.-~".
_ATTR_CHAR_SAFE: Final = "!#$&+^`|"
# Unicode space separators other than U+0020 (RFC 8265 §4.2.1 OpaqueString mapping).
_NON_ASCII_SPACE: Final = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")


def quote(value: str) -> str:
    """Escape *value* for the inside of a quoted-string (RFC 9110 §5.6.4)."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def wire(text: str) -> bytes:
    """Encode header-derived *text* back to the bytes the server sent.

    aiohttp decodes header bytes as UTF-8 with ``surrogateescape``, so this
    restores them exactly; a surrogate no decoder produces is kept as is.
    """
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _encode(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ConfigurationError(
            f"The Digest {what} cannot be encoded as UTF-8: it contains a lone surrogate "
            f"at position {error.start}"
        ) from None


def prepare(login: str, password: str, utf8: bool) -> tuple[str, bytes, bytes]:
    """Return the login as the server will compare it, and both as bytes (module docstring)."""
    if utf8:
        login = unicodedata.normalize("NFC", login)
        password = _NON_ASCII_SPACE.sub(" ", unicodedata.normalize("NFC", password))
    else:
        try:
            return login, login.encode("latin-1"), password.encode("latin-1")
        except UnicodeEncodeError:
            pass
    return login, _encode(login, "login"), _encode(password, "password")


def username_param(
    login: str,
    login_bytes: bytes,
    realm: bytes,
    challenge: DigestChallenge,
    algorithm: DigestAlgorithm,
) -> str:
    """Return the header's username parameter: plain, ``username*`` or hashed (RFC 7616 §3.4).

    Args:
        login: the login as prepared (see ``prepare``).
        login_bytes: its bytes.
        realm: the realm's bytes as the server sent them.
        challenge: the challenge answered (``userhash``).
        algorithm: its algorithm, which hashes the username for ``userhash``.
    """
    if challenge.userhash:
        return f'username="{algorithm.new(login_bytes + b":" + realm).hexdigest()}"'
    if _NOT_QUOTABLE.search(login):
        encoded = quote_from_bytes(login.encode("utf-8"), safe=_ATTR_CHAR_SAFE)
        return f"username*=UTF-8''{encoded}"
    return f'username="{quote(login)}"'
