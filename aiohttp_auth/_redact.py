"""Keeping secrets out of reprs, log lines and exception messages.

Every object that holds a credential builds its ``repr`` with [`redacted_repr`][]
and shows secrets only as ``<redacted N chars>``. Log lines go through the one
package logger, [`logger`][], and name URLs with [`safe_url`][], which drops
user info and query values (API keys and presigned signatures live there).
"""

from __future__ import annotations

import hmac
import logging
from typing import Final

from yarl import URL

__all__ = ["Secret", "logger", "redacted", "redacted_repr", "safe_url"]

logger: Final = logging.getLogger("aiohttp_auth")
"""The package logger. It never receives a secret: only names, URLs without
query values, status codes and lengths.
"""
# A library must not print through logging's last-resort handler: warnings
# reach the user only when the application configures logging.
logger.addHandler(logging.NullHandler())


def redacted(secret: str | bytes | None) -> str:
    """Describe *secret* without revealing it, e.g. ``<redacted 40 chars>``."""
    if secret is None:
        return "None"
    unit = "bytes" if isinstance(secret, bytes) else "chars"
    return f"<redacted {len(secret)} {unit}>"


class Secret:
    """A string that does not show itself in ``repr``, ``str`` or f-strings.

    Compare with ``==``, which is constant-time; read the value with
    [`value`][] only where it is sent.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    @property
    def value(self) -> str:
        """The secret itself."""
        return self._value

    def __len__(self) -> int:
        return len(self._value)

    def __repr__(self) -> str:
        return redacted(self._value)

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return redacted(self._value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            other = other._value
        if not isinstance(other, str):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> str:
        # Pickling would write the secret in clear into whatever file or cache
        # receives it; stores encrypt tokens explicitly instead.
        raise TypeError("Secret values cannot be pickled; store them through a TokenStore")


def redacted_repr(obj: object, **fields: object) -> str:
    """Build ``ClassName(field=value, ...)`` for *obj*; pass secrets through [`redacted`][]."""
    inner = ", ".join(f"{name}={value}" for name, value in fields.items())
    return f"{type(obj).__name__}({inner})"


def safe_url(url: URL | str) -> str:
    """Render *url* for a log line or an error: no user info, fragment or query values.

    Query parameter names stay, values become ``...``, because API keys,
    presigned signatures and OAuth codes travel there.
    """
    url = URL(url) if isinstance(url, str) else url
    # Fragments carry tokens too (the implicit grant's "#access_token=...").
    url = url.with_fragment(None)
    if url.is_absolute():
        url = url.with_user(None)
    if not url.raw_query_string:
        return str(url)
    # Each name once: multidict 6 iterates repeated names, multidict 7 does not.
    names = "&".join(f"{name}=..." for name in dict.fromkeys(url.query))
    return f"{url.with_query(None)}?{names}"
