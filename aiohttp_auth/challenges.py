"""Parse ``WWW-Authenticate`` and ``Proxy-Authenticate`` challenges (RFC 9110 §11).

The grammar (RFC 9110 §11.2, §11.6.1, with lists per §5.6.1)::

    WWW-Authenticate = #challenge
    challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
    auth-param       = token BWS "=" BWS ( token / quoted-string )
    token68          = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="

A comma separates both challenges and the parameters of one challenge, so a
list element that is a bare token starts a new challenge and one followed by
``=`` is a parameter of the current one. Tokens and quoted-strings are RFC 9110
§5.6.2 and §5.6.4; a parameter value is either, as in §5.6.6, and names are
case-insensitive; whitespace is §5.6.3; empty list elements (``,,``) are
allowed and skipped (§5.6.1).

The scanner is hand-written over anchored regular expressions whose
alternatives never overlap, so every input is scanned in linear time, and the
total length is capped ([`MAX_CHALLENGE_LENGTH`][]) before any scanning.
Malformed input raises [`ChallengeError`][aiohttp_auth.errors.ChallengeError] naming the
problem and its position, never another exception.

Parameter values in RFC 8187 extended notation (``username*=UTF-8''J%C3%A4s``)
are kept as sent under their own name (``username*``) and also decoded into
the plain name (``username``), where the decoded value wins over a plain
parameter of the same name (as RFC 6266 §4.3 asks for ``filename*``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, NoReturn
from urllib.parse import unquote_to_bytes

from .errors import ChallengeError

__all__ = ["MAX_CHALLENGE_LENGTH", "Challenge", "parse_auth_params", "parse_challenges"]

MAX_CHALLENGE_LENGTH: Final = 16 * 1024
"""Longest combined field value accepted (all field lines joined by ", ").
Real challenges are a few hundred characters; the cap bounds the work a
hostile server can cause.
"""

# RFC 9110 §5.6.2 token.
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 §11.2 token68.
_TOKEN68: Final = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
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


@dataclass(frozen=True)
class Challenge:
    """One authentication challenge (RFC 9110 §11.2).

    Attributes:
        scheme: the auth-scheme as the server sent it, e.g. ``"Digest"``.
        scheme_lower: the auth-scheme lower-cased, for comparisons
            (auth-scheme names are case-insensitive, RFC 9110 §11.1).
        params: the auth-params, names lower-cased (they are
            case-insensitive, §11.2), values unquoted and unescaped; RFC 8187
            ``name*`` values are also decoded into ``name``.
        token68: the token68 form of credentials-like challenges, or None.
    """

    scheme: str
    params: Mapping[str, str] = field(default_factory=dict, hash=False)
    token68: str | None = None
    scheme_lower: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scheme_lower", self.scheme.lower())


class _Builder:
    """A challenge being parsed: parameters as sent and decoded RFC 8187 values."""

    __slots__ = ("ext", "params", "scheme", "token68")

    def __init__(self, scheme: str) -> None:
        self.scheme = scheme
        self.params: dict[str, str] = {}
        self.ext: dict[str, str] = {}
        self.token68: str | None = None

    def merged_params(self) -> dict[str, str]:
        return {**self.params, **self.ext}

    def build(self) -> Challenge:
        return Challenge(self.scheme, self.merged_params(), self.token68)


def _match_end(pattern: re.Pattern[str], text: str, position: int) -> int:
    """End of *pattern*, which matches every input (it may match nothing), at *position*."""
    match = pattern.match(text, position)
    assert match is not None
    return match.end()


class _Scanner:
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

    def param(self, name_start: int, name_end: int, equals: int, builder: _Builder) -> int:
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


def _parse_challenge_list(scanner: _Scanner) -> list[Challenge]:
    """Parse one field value: ``#challenge`` (RFC 9110 §11.6.1)."""
    text, end = scanner.text, scanner.end
    builders: list[_Builder] = []
    position = 0
    while True:
        position = scanner.skip_separators(position)
        if position >= end:
            return [builder.build() for builder in builders]
        name_end = scanner.token_end(position)
        if name_end == position:
            scanner.fail(
                f"expected an auth-scheme or a parameter, found {scanner.found(position)}",
                position,
            )
        equals = scanner.skip_ows(name_end)
        if equals < end and text[equals] == "=":
            # A list element "name=value" continues the current challenge.
            name = text[position:name_end]
            if not builders:
                scanner.fail(f"parameter {name!r} comes before any auth-scheme", position)
            if builders[-1].token68 is not None:
                scanner.fail(f"parameter {name!r} follows a token68", position)
            position = scanner.param(position, name_end, equals, builders[-1])
            continue
        builder = _Builder(text[position:name_end])
        builders.append(builder)
        position = _parse_challenge_body(scanner, builder, name_end)


def _parse_challenge_body(scanner: _Scanner, builder: _Builder, position: int) -> int:
    """Parse what follows an auth-scheme: nothing, a token68, or a first auth-param."""
    text, end = scanner.text, scanner.end
    if position >= end or text[position] == ",":
        return position
    if text[position] not in " \t":
        scanner.fail(
            f"expected a space after auth-scheme {builder.scheme!r}, "
            f"found {scanner.found(position)}",
            position,
        )
    start = scanner.skip_ows(position)
    if start >= end or text[start] == ",":
        return start
    match = _TOKEN68.match(text, start)
    if match is not None:
        following = scanner.skip_ows(match.end())
        if following >= end or text[following] == ",":
            builder.token68 = match.group()
            return following
    name_end = scanner.token_end(start)
    if name_end == start:
        scanner.fail(
            f"expected a token68 or a parameter after auth-scheme {builder.scheme!r}, "
            f"found {scanner.found(start)}",
            start,
        )
    equals = scanner.skip_ows(name_end)
    if equals >= end or text[equals] != "=":
        scanner.fail(
            f"expected '=' after parameter name {text[start:name_end]!r}, "
            f"found {scanner.found(equals)}",
            equals,
        )
    return scanner.param(start, name_end, equals, builder)


def _check_length(total: int, max_length: int, what: str) -> None:
    if total > max_length:
        raise ChallengeError(
            f"Malformed {what}: longer than {max_length} characters; refusing to parse it"
        )


def parse_challenges(
    values: str | Iterable[str], *, max_length: int = MAX_CHALLENGE_LENGTH
) -> list[Challenge]:
    """Parse every challenge in one or several field values (RFC 9110 §11.6.1).

    Args:
        values: one field value, or several (such as
            ``response.headers.getall("WWW-Authenticate", [])``); each is a
            comma-separated list of challenges (RFC 9110 §5.3). A challenge
            does not continue from one field line into the next.
        max_length: the longest combined value accepted, all lines joined by
            ``", "``.

    Returns:
        The challenges in the order sent; an empty list for empty values.

    Raises:
        ChallengeError: the value is malformed (unterminated quoted-string,
            a character not allowed, a parameter before any auth-scheme,
            duplicate parameter names in one challenge, a bad RFC 8187
            value) or too long. The message names the problem and its
            position in its field value.
    """
    if isinstance(values, str):
        values = (values,)
        labelled = False
    else:
        labelled = True
    challenges: list[Challenge] = []
    total = -2
    for index, value in enumerate(values):
        total += len(value) + 2
        _check_length(total, max_length, "authentication challenge")
        what = "authentication challenge"
        if labelled:
            what += f" (field line {index + 1})"
        challenges.extend(_parse_challenge_list(_Scanner(value, what)))
    return challenges


def parse_auth_params(
    value: str,
    *,
    what: str = "auth-param list",
    max_length: int = MAX_CHALLENGE_LENGTH,
) -> dict[str, str]:
    """Parse a bare ``#auth-param`` list (RFC 9110 §11.6.3, e.g. ``Authentication-Info``).

    Args:
        value: the field value, e.g. ``nextnonce="abc", qop=auth``.
        what: how to name the value in error messages.
        max_length: the longest value accepted.

    Returns:
        The parameters, names lower-cased, values unquoted (RFC 8187
        ``name*`` values also decoded into ``name``).

    Raises:
        ChallengeError: the value is malformed or too long.
    """
    _check_length(len(value), max_length, what)
    scanner = _Scanner(value, what)
    builder = _Builder("")
    position = 0
    while True:
        position = scanner.skip_separators(position)
        if position >= scanner.end:
            return builder.merged_params()
        name_end = scanner.token_end(position)
        if name_end == position:
            scanner.fail(f"expected a parameter name, found {scanner.found(position)}", position)
        equals = scanner.skip_ows(name_end)
        if equals >= scanner.end or value[equals] != "=":
            scanner.fail(
                f"expected '=' after parameter name {value[position:name_end]!r}, "
                f"found {scanner.found(equals)}",
                equals,
            )
        position = scanner.param(position, name_end, equals, builder)
