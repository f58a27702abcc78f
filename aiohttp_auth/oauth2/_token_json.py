"""The JSON format of stored tokens, sans-IO.

What [`Token.to_json`][aiohttp_auth.oauth2.token.Token.to_json] writes for the
token stores and [`Token.from_json`][aiohttp_auth.oauth2.token.Token.from_json]
reads back: one JSON object holding a format ``version`` and every field of the
token, secrets included, so that a store keeps it as an opaque string. Reading
is strict where the token endpoint's responses are read tolerantly: anything
but such a document raises [`TokenError`][aiohttp_auth.errors.TokenError]
naming the problem, never a value, and telling to obtain a new token.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from ..errors import TokenError

if TYPE_CHECKING:
    from .token import Token

# The stored-token format written by token_to_json; a document without a
# version is read as this one.
_JSON_VERSION: Final = 1


def token_to_json(token: Token) -> str:
    """Serialise *token*, secrets included, for a token store.

    Raises:
        TokenError: ``extra`` holds a value JSON cannot represent.
    """
    document = {
        "version": _JSON_VERSION,
        "access_token": token.access_token,
        "token_type": token.token_type,
        "expires_at": token.expires_at,
        "refresh_token": token.refresh_token,
        "scope": token.scope,
        "id_token": token.id_token,
        "issued_at": token.issued_at,
        "extra": dict(token.extra),
    }
    try:
        return json.dumps(document, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise TokenError(
            f"Cannot serialise the token: its extra fields hold a value JSON cannot "
            f"represent ({type(exc).__name__}); keep only JSON values in extra"
        ) from None


def token_fields_from_json(text: str | bytes) -> dict[str, Any]:
    """Read a document written by [`token_to_json`][] into ``Token``'s arguments.

    Returns:
        The keyword arguments that build the stored ``Token``.

    Raises:
        TokenError: *text* is not such a document. The message names the
            problem (not JSON, a missing or mistyped field), never a value.
    """
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        # JSONDecodeError and UnicodeDecodeError are ValueErrors; their
        # messages give positions, but keep even those out: say what it is.
        raise TokenError(
            f"Cannot read the stored token: it is not valid JSON ({type(exc).__name__}); "
            "delete it from the store and obtain a new token"
        ) from None
    try:
        return _token_fields(document)
    except TokenError as exc:
        raise TokenError(
            f"Cannot read the stored token: {exc}; delete it from the store and obtain a new token"
        ) from None


def _token_fields(document: object) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise TokenError(f"expected a JSON object, got {type(document).__name__}")
    version = document.get("version", _JSON_VERSION)
    if version != _JSON_VERSION:
        raise TokenError(f"unknown format version {version!r} (this version reads 1)")
    access_token = document.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise TokenError("access_token is missing or not a non-empty string")
    token_type = document.get("token_type", "Bearer")
    if not isinstance(token_type, str) or not token_type:
        raise TokenError("token_type is not a non-empty string")
    extra = document.get("extra", {})
    if not isinstance(extra, dict):
        raise TokenError(f"extra must be an object, got {type(extra).__name__}")
    return {
        "access_token": access_token,
        "token_type": token_type,
        "expires_at": _stored_time(document, "expires_at"),
        "refresh_token": optional_str(document, "refresh_token"),
        "scope": optional_str(document, "scope"),
        "id_token": optional_str(document, "id_token"),
        "extra": extra,
        "issued_at": _stored_time(document, "issued_at"),
    }


def _reject_constant(name: str) -> None:
    # json accepts NaN and Infinity, which are not JSON (RFC 8259 §6) and
    # which token_to_json could not write back.
    raise ValueError(f"{name} is not a JSON number")


def optional_str(document: Mapping[str, Any], name: str) -> str | None:
    """Return the string *name* of *document*, or None; anything else is a ``TokenError``."""
    value = document.get(name)
    if value is None or isinstance(value, str):
        return value
    raise TokenError(f"{name} must be a string, got {type(value).__name__}")


def _stored_time(document: Mapping[str, Any], name: str) -> float | None:
    value = document.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TokenError(f"{name} must be a finite number or null")
    return float(value)
