"""OAuth 2 access tokens (RFC 6749 §5.1), sans-IO.

A [`Token`][] is what a token endpoint hands out: the access token, its type
and lifetime, and optionally a refresh token, the granted scope and an OpenID
Connect ID token. Every other field of the response is kept in
[`Token.extra`][], so nothing a provider sends is lost on the way to a store.

Lifetimes are absolute (``expires_at``, epoch seconds) so that a stored token
still means something after a restart; the clock is always a parameter. The
JSON document stores keep ([`Token.to_json`][]) is defined in
``aiohttp_auth.oauth2._token_json``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Final

from .._redact import redacted, redacted_repr
from ..errors import ConfigurationError, TokenError
from ._token_json import optional_str, token_fields_from_json, token_to_json

__all__ = ["Token"]

# RFC 6749 §5.1 names; everything else goes to Token.extra.
_KNOWN_FIELDS: Final = frozenset(
    {"access_token", "token_type", "expires_in", "refresh_token", "scope", "id_token"}
)
# Token types are case-insensitive (RFC 6749 §7.1); providers send "bearer"
# (e.g. GitHub, Salesforce), so known types are stored in their registered spelling.
_TOKEN_TYPES: Final = {"bearer": "Bearer", "dpop": "DPoP", "mac": "MAC", "n_a": "N_A"}
# A number as a JSON string, as several providers send expires_in ("3600").
_NUMERIC_STRING: Final = re.compile(r"[ \t]*(\d{1,15}(?:\.\d{1,9})?)[ \t]*")


def _normalise_token_type(token_type: str) -> str:
    return _TOKEN_TYPES.get(token_type.lower(), token_type)


def _parse_expires_in(value: object) -> float | None:
    """Read ``expires_in`` (RFC 6749 §5.1), tolerating numeric strings.

    Returns the lifetime in seconds, or None when it is unknown (absent, null,
    or 0, which some providers send for tokens that do not expire).

    Raises:
        TokenError: the value is negative, not finite, or not a number.
    """
    if value is None:
        return None
    if isinstance(value, str):
        match = _NUMERIC_STRING.fullmatch(value)
        if match is None:
            raise TokenError(f"expires_in is a string that is not a number ({len(value)} chars)")
        value = float(match.group(1))
    # bool is an int in Python, but "expires_in": true is garbage.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TokenError(f"expires_in must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise TokenError("expires_in must be a finite number of seconds, at least 0")
    return float(value) or None


def _parse_scope(value: object) -> str | None:
    # RFC 6749 §3.3 scope is a space-delimited string; a few providers send a
    # JSON array of scope tokens instead.
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return " ".join(value) or None
    if value is None or isinstance(value, str):
        return value
    raise TokenError(f"scope must be a string, got {type(value).__name__}")


@dataclass(frozen=True, repr=False)
class Token:
    """An OAuth 2 access token and what came with it (RFC 6749 §5.1).

    Instances are immutable; build changed copies with
    ``dataclasses.replace``. Neither ``repr`` nor ``str`` shows the access,
    refresh or ID token, nor the values of ``extra``.

    Attributes:
        access_token: the token to send to resource servers.
        token_type: how to send it; ``"Bearer"`` (RFC 6750) or ``"DPoP"``
            (RFC 9449) in their registered spelling, whatever the case the
            server used (token types are case-insensitive, RFC 6749 §7.1).
        expires_at: when the token expires, in epoch seconds; None when the
            lifetime is unknown (the server sent no ``expires_in``).
        refresh_token: a refresh token (RFC 6749 §6), if one was issued.
        scope: the granted scope, space-separated (RFC 6749 §3.3).
        id_token: an OpenID Connect ID token (OIDC Core §3.1.3.3), if any.
        extra: every other field of the token response, unchanged.
        issued_at: when the token was obtained, in epoch seconds, if known;
            it caps the refresh leeway at half the lifetime.
    """

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - a token type name, not a secret
    expires_at: float | None = None
    refresh_token: str | None = None
    scope: str | None = None
    id_token: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    issued_at: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.access_token, str) or not self.access_token:
            raise ConfigurationError("access_token: expected a non-empty string")
        if not isinstance(self.token_type, str) or not self.token_type:
            raise ConfigurationError("token_type: expected a non-empty string such as 'Bearer'")
        object.__setattr__(self, "token_type", _normalise_token_type(self.token_type))
        # A read-only copy: the caller's dict can change neither this token
        # nor a token a store handed out.
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))

    @classmethod
    def from_response(cls, fields: Mapping[str, Any], *, now: float) -> Token:
        """Build a token from a successful token response (RFC 6749 §5.1).

        Tolerates what real providers send: ``expires_in`` as a numeric string
        or missing (unknown lifetime), ``token_type`` in any case or missing
        (taken as Bearer), an empty ``refresh_token`` (taken as none), a scope
        as a JSON array.

        Args:
            fields: the members of the response's JSON object.
            now: the current time in epoch seconds; ``expires_at`` is
                ``now + expires_in``.

        Raises:
            TokenError: ``access_token`` is missing, empty or not a string, or
                another field has a value of the wrong type. The message names
                the field, never its value.
        """
        access_token = fields.get("access_token")
        if access_token is None:
            raise TokenError("the response has no access_token (RFC 6749 §5.1 requires it)")
        if not isinstance(access_token, str):
            raise TokenError(f"access_token must be a string, got {type(access_token).__name__}")
        if not access_token:
            raise TokenError("access_token is empty")
        token_type = optional_str(fields, "token_type") or "Bearer"
        expires_in = _parse_expires_in(fields.get("expires_in"))
        return cls(
            access_token=access_token,
            token_type=token_type,
            expires_at=None if expires_in is None else float(now) + expires_in,
            refresh_token=optional_str(fields, "refresh_token") or None,
            scope=_parse_scope(fields.get("scope")),
            id_token=optional_str(fields, "id_token") or None,
            extra={name: value for name, value in fields.items() if name not in _KNOWN_FIELDS},
            issued_at=float(now),
        )

    def refresh_at(self, leeway: float) -> float | None:
        """Return when to obtain a new token, in epoch seconds: *leeway* before expiry.

        The margin never exceeds half the token's lifetime (known when
        ``issued_at`` is), so that a token living 10 s with a 30 s leeway is
        used for 5 s instead of being refreshed on every request; a negative
        *leeway* counts as 0.

        Args:
            leeway: how many seconds before expiry to refresh.

        Returns:
            The time, or None for a token of unknown lifetime, which is never
            refreshed ahead: a 401 from the resource server tells instead.
        """
        if self.expires_at is None:
            return None
        margin = max(leeway, 0.0)
        if self.issued_at is not None:
            margin = min(margin, max(self.expires_at - self.issued_at, 0.0) / 2)
        return self.expires_at - margin

    def needs_refresh(self, *, now: float, leeway: float) -> bool:
        """Tell whether to obtain a new token before using this one.

        True once the token is expired or within *leeway* seconds of expiry,
        the margin capped at half its lifetime: see
        [`refresh_at`][aiohttp_auth.oauth2.token.Token.refresh_at]. A token
        of unknown lifetime never needs a refresh here.

        Args:
            now: the current time in epoch seconds.
            leeway: how many seconds before expiry to refresh.
        """
        refresh_at = self.refresh_at(leeway)
        return refresh_at is not None and now >= refresh_at

    def with_previous(self, previous: Token | None) -> Token:
        """Fill what a refresh response may omit from the token it replaces.

        RFC 6749 §6: the server *may* issue a new refresh token; when it does
        not, the previous one stays valid, so it is kept. A response without
        ``scope`` means the scope is unchanged (RFC 6749 §5.1), so it is kept
        too.

        Args:
            previous: the token that was refreshed, or None.
        """
        if previous is None:
            return self
        changes: dict[str, Any] = {}
        if self.refresh_token is None and previous.refresh_token is not None:
            changes["refresh_token"] = previous.refresh_token
        if self.scope is None and previous.scope is not None:
            changes["scope"] = previous.scope
        return replace(self, **changes) if changes else self

    def to_json(self) -> str:
        """Serialise the token, secrets included, for a token store.

        Raises:
            TokenError: ``extra`` holds a value JSON cannot represent.
        """
        return token_to_json(self)

    @classmethod
    def from_json(cls, text: str | bytes) -> Token:
        """Read a token written by [`to_json`][aiohttp_auth.oauth2.token.Token.to_json].

        Raises:
            TokenError: *text* is not such a document. The message names the
                problem (not JSON, a missing or mistyped field), never a value.
        """
        return cls(**token_fields_from_json(text))

    def __reduce__(self) -> tuple[Any, ...]:
        # extra is a read-only mappingproxy, which neither pickle nor
        # copy.deepcopy handle: rebuild from a plain dict.
        return (
            type(self),
            (
                self.access_token,
                self.token_type,
                self.expires_at,
                self.refresh_token,
                self.scope,
                self.id_token,
                dict(self.extra),
                self.issued_at,
            ),
        )

    def __repr__(self) -> str:
        return redacted_repr(
            self,
            access_token=redacted(self.access_token),
            token_type=repr(self.token_type),
            expires_at=self.expires_at,
            refresh_token=redacted(self.refresh_token),
            scope=repr(self.scope),
            id_token=redacted(self.id_token),
            # Provider fields may hold secrets too (Slack nests a user token):
            # show which fields there are, not their values.
            extra=list(self.extra),
        )
