"""The scanner behind the challenge parser (RFC 9110 §5.6, §11.2), sans-IO.

Positions over one field value for [`aiohttp_auth.challenges`][]: tokens
(§5.6.2), whitespace (§5.6.3), empty list elements (§5.6.1), and
``name = value`` auth-params whose value is a token or a quoted-string
(§5.6.4, §5.6.6), RFC 8187 ``name*`` ext-values decoded. Each regular
expression is anchored and its alternatives never overlap, so every input is
scanned in linear time; a malformed value raises
[`ChallengeError`][aiohttp_auth.errors.ChallengeError] naming the problem and
its position.
"""

from __future__ import annotations

import re
from typing import Final, NoReturn
from urllib.parse import unquote_to_bytes

from .errors import ChallengeError

# RFC 9110 §5.6.2 token.
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 §5.6.3 OWS / BWS.
_OWS: Final = re.compile(r"[ \t]*")
# Whitespace and empty list elements between list members (§5.6.1).
_SEPARATORS: Final = re.compile(r"[ \t,]*")
# The longest valid beginning of a quoted-string (§5.6.4): qdtext or
# quoted-pair. Both exclude CTLs other than HTAB; anything from 0x80 up is
# obs-text (aiohttp decodes header bytes as UTF-8 with surrogateescape). The
# two alternatives start with different characters, so matching is linear.
_QUOTED_PREFIX: Final = re.compile(
    r'"(?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[^\x00-\x08\x0a-\x1f\x7f])*'
)
_QUOTED_PAIR: Final = re.compile(r"\\(.)", re.DOTALL)
# RFC 8187 §3.2.1 ext-value: charset "'" [ language ] "'" value-chars.
_EXT_VALUE: Final = re.compile(
    r"([A-Za-z0-9!#$%&+\-^_`{}~]+)'([A-Za-z0-9\-]*)'"
    r"((?:%[0-9A-Fa-f]{2}|[A-Za-z0-9!#$&+\-.^_`|~])*)"
)
_EXT_CHARSETS: Final = {"utf-8": "utf-8", "iso-8859-1": "latin-1"}


class ChallengeBuilder:
    """A challenge being parsed: parameters as sent and decoded RFC 8187 values."""

    __slots__ = ("ext", "params", "scheme", "token68")

    def __init__(self, scheme: str) -> None:
        self.scheme = scheme
        self.params: dict[str, str] = {}
        self.ext: dict[str, str] = {}
        self.token68: str | None = None

    def merged_params(self) -> dict[str, str]:
        return {**self.params, **self.ext}


def _match_end(pattern: re.Pattern[str], text: str, position: int) -> int:
    """End of *pattern*, which matches every input (it may match nothing), at *position*."""
    match = pattern.match(text, position)
    assert match is not None
    return match.end()


class Scanner:
    """Positions and error reporting over one field value."""

    __slots__ = ("end", "text", "what")

    def __init__(self, text: str, what: str) -> None:
        self.text = text
        self.end = len(text)
        self.what = what

    def fail(self, problem: str, position: int) -> NoReturn:
        raise ChallengeError(f"Malformed {self.what}: {problem} at position {position}")

    def found(self, position: int) -> str:
        return repr(self.text[position]) if position < self.end else "the end of the value"

    def skip_ows(self, position: int) -> int:
        return _match_end(_OWS, self.text, position)

    def skip_separators(self, position: int) -> int:
        return _match_end(_SEPARATORS, self.text, position)

    def token_end(self, position: int) -> int:
        match = _TOKEN.match(self.text, position)
        return position if match is None else match.end()

    def param(self, name_start: int, name_end: int, equals: int, builder: ChallengeBuilder) -> int:
        """Parse ``name = value`` whose ``=`` is at *equals*; return the next position."""
        text = self.text
        raw_name = text[name_start:name_end]
        start = self.skip_ows(equals + 1)
        if start < self.end and text[start] == '"':
            stop = _match_end(_QUOTED_PREFIX, text, start)
            if stop >= self.end or text[stop] != '"':
                self._bad_quoted_string(start, stop)
            value = text[start + 1 : stop]
            if "\\" in value:
                value = _QUOTED_PAIR.sub(r"\1", value)
            stop += 1
        else:
            stop = self.token_end(start)
            if stop == start:
                self.fail(
                    f"expected a token or quoted-string value for parameter {raw_name!r}, "
                    f"found {self.found(start)}",
                    start,
                )
            value = text[start:stop]
        following = self.skip_ows(stop)
        if following < self.end and text[following] != ",":
            self.fail(
                f"expected ',' after the value of parameter {raw_name!r}, "
                f"found {self.found(following)}",
                following,
            )
        name = raw_name.lower()
        if name in builder.params:
            self.fail(f"duplicate parameter {raw_name!r}", name_start)
        builder.params[name] = value
        if len(name) > 1 and name.endswith("*"):
            builder.ext[name[:-1]] = self._decode_ext_value(value, raw_name, start)
        return following

    def _bad_quoted_string(self, start: int, stop: int) -> NoReturn:
        # *stop* ends the longest valid prefix: it is the end of the value, a
        # backslash at the end, or a character that may not appear there.
        if stop < self.end and self.text[stop] == "\\":
            stop += 1
        if stop >= self.end:
            self.fail("unterminated quoted-string opened", start)
        self.fail(f"character {self.text[stop]!r} is not allowed in a quoted-string", stop)

    def _decode_ext_value(self, value: str, raw_name: str, position: int) -> str:
        """Decode an RFC 8187 §3.2 ext-value such as ``UTF-8''J%C3%A4s``."""
        match = _EXT_VALUE.fullmatch(value)
        if match is None:
            self.fail(
                f"parameter {raw_name!r} is not an RFC 8187 ext-value "
                "(expected charset'language'percent-encoded-value)",
                position,
            )
        charset = _EXT_CHARSETS.get(match.group(1).lower())
        if charset is None:
            self.fail(
                f"parameter {raw_name!r} uses charset {match.group(1)!r}; only UTF-8 and "
                "ISO-8859-1 are supported (RFC 8187 §3.2.1)",
                position,
            )
        try:
            return unquote_to_bytes(match.group(3)).decode(charset)
        except UnicodeDecodeError:
            self.fail(f"parameter {raw_name!r} is not valid {match.group(1)}", position)
