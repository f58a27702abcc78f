"""The token endpoint protocol (RFC 6749 §3.2, §5), sans-IO.

A grant describes its call to the token endpoint as a [`TokenRequest`][]; the
code that does the IO posts it and hands status, content type and body to
[`parse_token_response`][], which returns a [`Token`][aiohttp_auth.oauth2.token.Token]
or raises. [`bearer_challenge_error`][] reads the RFC 6750 §3.1 error code a
resource server puts in its ``WWW-Authenticate`` challenge.

Response parsing is tolerant of what real providers send (numeric strings,
``text/plain`` JSON, form-encoded bodies, errors with status 200) and strict
on garbage: anything that is not a token raises
[`TokenError`][aiohttp_auth.errors.TokenError] or
[`OAuth2Error`][aiohttp_auth.errors.OAuth2Error]. Messages name the endpoint
(without its query) and the status; they never quote the body, which could
echo a secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

from yarl import URL

from .._redact import redacted_repr
from ..challenges import parse_challenges
from ..errors import ChallengeError, OAuth2Error, TokenError
from .token import Token

__all__ = ["TokenRequest", "bearer_challenge_error", "parse_token_response"]

FORM_CONTENT_TYPE: Final = "application/x-www-form-urlencoded"

# RFC 6749 §5.2: error, error_description and error_uri use these characters
# only; anything else in a description is not shown in a message.
_ERROR_TEXT: Final = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,300}")
_BOM: Final = b"\xef\xbb\xbf"

# What to do about the common RFC 6749 §5.2 error codes.
_ADVICE: Final = {
    "invalid_client": (
        "the client authentication failed: check client_id and client_secret (or the "
        "private key), and that client_auth is the method the server expects for this client"
    ),
    "invalid_grant": (
        "the grant was refused: the refresh token, authorization code, assertion or "
        "password is invalid, expired or revoked; re-authenticate to obtain a new one"
    ),
    "invalid_scope": (
        "the requested scope is invalid, unknown, or more than this client may have: check scope="
    ),
    "unauthorized_client": (
        "this client may not use this grant type: allow the grant for the client at the "
        "authorization server, or use another grant"
    ),
    "unsupported_grant_type": (
        "the server does not support this grant type: check its grant_types_supported "
        "metadata and use a grant it supports"
    ),
    "invalid_request": (
        "the request misses a parameter or repeats one: check the grant's arguments and "
        "extra_params"
    ),
}


@dataclass(frozen=True, repr=False)
class TokenRequest:
    """One call to a token endpoint: ``POST`` of a form (RFC 6749 §3.2).

    Attributes:
        url: the token endpoint URL.
        form: the form parameters, sent as ``application/x-www-form-urlencoded``
            (RFC 6749 Appendix B).
        headers: headers to send: ``Content-Type``, ``Accept`` and, with
            ``client_secret_basic``, ``Authorization``.
    """

    url: str
    form: Mapping[str, str]
    headers: Mapping[str, str]

    def __post_init__(self) -> None:
        object.__setattr__(self, "form", MappingProxyType(dict(self.form)))
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))

    @property
    def body(self) -> bytes:
        """The form, encoded as RFC 6749 Appendix B says (UTF-8, then form-urlencoded)."""
        return urlencode(self.form).encode("ascii")

    @property
    def grant_type(self) -> str | None:
        """The ``grant_type`` parameter, if any."""
        return self.form.get("grant_type")

    def __reduce__(self) -> tuple[Any, ...]:
        # The read-only mappingproxies cannot be pickled or deep-copied as they are.
        return type(self), (self.url, dict(self.form), dict(self.headers))

    def __repr__(self) -> str:
        # Form values hold secrets (passwords, refresh tokens, assertions):
        # show only the grant type and which parameters there are.
        return redacted_repr(
            self,
            url=repr(_endpoint_name(self.url)),
            grant_type=repr(self.grant_type),
            form=list(self.form),
            headers=list(self.headers),
        )


def _endpoint_name(endpoint: str) -> str:
    """The endpoint URL for a message: without user info, query or fragment."""
    try:
        url = URL(endpoint)
        if url.is_absolute():
            url = url.with_user(None)
        return str(url.with_query(None).with_fragment(None))
    except (ValueError, TypeError):
        return "<an unparsable URL>"


def _media_type(content_type: str | None) -> str:
    return (content_type or "").partition(";")[0].strip().lower()


def _decode_fields(media_type: str, body: bytes) -> dict[str, Any] | None:
    """The body as a JSON object (or a form, if so labelled), or None."""
    if media_type == FORM_CONTENT_TYPE:
        # Some providers (GitHub without "Accept: application/json", old
        # Facebook) answer form-encoded.
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):
            return None
        return dict(pairs) if pairs else None
    # Whatever the label (providers serve JSON as text/plain or text/html),
    # a body that is a JSON object is taken as one.
    try:
        document = json.loads(body.removeprefix(_BOM))
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def _describe_body(content_type: str | None, body: bytes) -> str:
    # Only the type and the length: the body itself may echo a secret.
    media_type = _media_type(content_type) or "no content type"
    if not body:
        return f"an empty body ({media_type})"
    if media_type in ("text/html", "application/xhtml+xml") or body.lstrip()[:1] == b"<":
        kind = "an HTML or XML page"
    elif body.lstrip()[:1] in (b"[", b'"') or body.strip().isdigit():
        kind = "JSON that is not an object"
    else:
        kind = "a body that is not a JSON object"
    return f"{kind} ({media_type}, {len(body)} bytes)"


def _shown(text: object) -> str | None:
    return text if isinstance(text, str) and _ERROR_TEXT.fullmatch(text) else None


def _oauth2_error(fields: Mapping[str, Any], error: str, status: int, where: str) -> OAuth2Error:
    description = fields.get("error_description")
    uri = fields.get("error_uri")
    description = description if isinstance(description, str) else None
    uri = uri if isinstance(uri, str) else None
    advice = _ADVICE.get(error, "see the server's documentation of this error code")
    code = _shown(error) or f"<an error code of {len(error)} chars>"
    message = f"{where} answered HTTP {status} with OAuth error {code!r}: {advice}."
    if shown := _shown(description):
        message += f" The server says: {shown!r}."
    if shown := _shown(uri):
        message += f" See {shown}."
    return OAuth2Error(error, description, uri, message=message)


def parse_token_response(
    status: int, content_type: str | None, body: bytes, *, now: float, endpoint: str
) -> Token:
    """Turn a token endpoint's response into a [`Token`][aiohttp_auth.oauth2.token.Token].

    Args:
        status: the HTTP status code.
        content_type: the ``Content-Type`` header, if any.
        body: the whole response body.
        now: the current time in epoch seconds (for ``expires_at``).
        endpoint: the token endpoint URL, for messages (shown without query).

    Returns:
        The token of a 2xx response whose body is a JSON object with an
        ``access_token`` (RFC 6749 §5.1).

    Raises:
        OAuth2Error: the body is an RFC 6749 §5.2 error object (status 4xx,
            or 2xx from providers that report errors that way); the message
            says what to do about the common error codes.
        TokenError: anything else: a 3xx or 5xx status, an HTML page,
            a body that is not a JSON object, a missing, empty or non-string
            ``access_token``, a mistyped field.
    """
    where = f"The token endpoint {_endpoint_name(endpoint)}"
    if status >= 500:
        raise TokenError(
            f"{where} answered HTTP {status}, a server error: it may be overloaded or "
            "down; retry later"
        )
    media_type = _media_type(content_type)
    fields = _decode_fields(media_type, body)
    if fields is not None:
        error = fields.get("error")
        if isinstance(error, str) and error and (status >= 300 or "access_token" not in fields):
            raise _oauth2_error(fields, error, status, where)
    if 300 <= status < 400:
        raise TokenError(
            f"{where} answered HTTP {status}, a redirect; token endpoints do not redirect: "
            "check token_url (scheme, host, path, trailing slash)"
        )
    if status >= 400 or status < 200:
        hint = {
            401: "the client authentication was refused: check client_id, client_secret "
            "and client_auth",
            404: "no token endpoint there: check token_url",
            405: "POST is not allowed there: check token_url",
        }.get(status, "check token_url and the grant's arguments")
        shape = "a JSON object" if fields is not None else _describe_body(content_type, body)
        raise TokenError(
            f"{where} answered HTTP {status} with {shape} but no OAuth error code: {hint}"
        )
    if fields is None:
        raise TokenError(
            f"{where} answered HTTP {status} with {_describe_body(content_type, body)} "
            "instead of a JSON token response (RFC 6749 §5.1): check that token_url is the "
            "token endpoint"
        )
    try:
        return Token.from_response(fields, now=now)
    except TokenError as exc:
        raise TokenError(f"{where} answered HTTP {status}, but {exc}") from None


def bearer_challenge_error(
    www_authenticate: str | Iterable[str], *, scheme: str = "Bearer"
) -> str | None:
    """Return the ``error`` of a Bearer challenge (RFC 6750 §3.1), if any.

    Args:
        www_authenticate: the ``WWW-Authenticate`` field values, e.g.
            ``response.headers.getall("WWW-Authenticate", [])``; each may hold
            several challenges.
        scheme: the challenge's auth-scheme; ``"DPoP"`` for RFC 9449 §7.1.

    Returns:
        The error code, e.g. ``"invalid_token"`` or ``"insufficient_scope"``,
        of the first challenge of *scheme* that has one; None when there is
        none. A malformed field line is skipped, never an error: the caller
        decides from the status code alone then.
    """
    values = (www_authenticate,) if isinstance(www_authenticate, str) else www_authenticate
    wanted = scheme.lower()
    for value in values:
        try:
            challenges = parse_challenges(value)
        except ChallengeError:
            continue
        for challenge in challenges:
            error = challenge.params.get("error")
            if challenge.scheme_lower == wanted and error:
                return error
    return None
