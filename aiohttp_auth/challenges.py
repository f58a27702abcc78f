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

The scanner (``aiohttp_auth._challenge_scanner``) is hand-written over
anchored regular expressions whose alternatives never overlap, so every input
is scanned in linear time, and the total length is capped
([`MAX_CHALLENGE_LENGTH`][]) before any scanning. Malformed input raises
[`ChallengeError`][aiohttp_auth.errors.ChallengeError] naming the problem and
its position, never another exception.

Parameter values in RFC 8187 extended notation (``username*=UTF-8''J%C3%A4s``)
are kept as sent under their own name (``username*``) and also decoded into
the plain name (``username``), where the decoded value wins over a plain
parameter of the same name (as RFC 6266 §4.3 asks for ``filename*``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from ._challenge_scanner import ChallengeBuilder, Scanner
from .errors import ChallengeError

__all__ = ["MAX_CHALLENGE_LENGTH", "Challenge", "parse_auth_params", "parse_challenges"]

MAX_CHALLENGE_LENGTH: Final = 16 * 1024
"""Longest combined field value accepted (all field lines joined by ", ").
Real challenges are a few hundred characters; the cap bounds the work a
hostile server can cause.
"""

# RFC 9110 §11.2 token68.
_TOKEN68: Final = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


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


def _parse_challenge_list(scanner: Scanner) -> list[Challenge]:
    """Parse one field value: ``#challenge`` (RFC 9110 §11.6.1)."""
    text, end = scanner.text, scanner.end
    builders: list[ChallengeBuilder] = []
    position = 0
    while True:
        position = scanner.skip_separators(position)
        if position >= end:
            return [
                Challenge(builder.scheme, builder.merged_params(), builder.token68)
                for builder in builders
            ]
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
        builder = ChallengeBuilder(text[position:name_end])
        builders.append(builder)
        position = _parse_challenge_body(scanner, builder, name_end)


def _parse_challenge_body(scanner: Scanner, builder: ChallengeBuilder, position: int) -> int:
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
        challenges.extend(_parse_challenge_list(Scanner(value, what)))
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
    scanner = Scanner(value, what)
    builder = ChallengeBuilder("")
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
