"""Token revocation (RFC 7009): tell the authorization server a token is no longer needed.

[`revocation_request`][] builds the request, sans-IO: a form POST with the
token and an optional ``token_type_hint``, authenticated the way the client
authenticates at the token endpoint (RFC 7009 §2.1).
[`revoke`][] sends it through the caller's session and reads the answer:

- 200 means done, for unknown and already invalid tokens too (§2.2): the
  purpose of the request, that the token cannot be used, is achieved;
- 503 means the server cannot revoke now; the token is still valid, so
  [`TokenError`][aiohttp_auth.errors.TokenError] says to retry later
  (§2.2.1), with the server's ``Retry-After``;
- an error object (400 ``unsupported_token_type``, 401 ``invalid_client``,
  ...) is an [`OAuth2Error`][aiohttp_auth.errors.OAuth2Error] (§2.2.1).

The revocation endpoint is in the server's metadata
([`ServerMetadata.revocation_endpoint`][aiohttp_auth.oauth2.discovery.ServerMetadata]).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final, Protocol

import aiohttp
from aiohttp import ClientSession

from .._middleware import read_limited, subrequest
from .._redact import logger, safe_url
from ..errors import ConfigurationError, OAuth2Error, TokenError
from .client_auth import ClientAuth
from .grants_base import check_token_url
from .protocol import FORM_CONTENT_TYPE, TokenRequest
from .token import Token

__all__ = ["DEFAULT_REVOCATION_TIMEOUT", "RevokingClient", "revocation_request", "revoke"]

DEFAULT_REVOCATION_TIMEOUT: Final = 10.0
"""Seconds one revocation request may take."""

# RFC 6749 §5.2's characters for error_description; other text is not shown.
_ERROR_TEXT: Final = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,300}")
# Only the start of a response is read: its status decides, and an error
# object is small.
_MAX_BODY: Final = 1 << 16

_ADVICE: Final = {
    "unsupported_token_type": (
        "the server does not revoke this type of token (RFC 7009 §2.2.1); many cannot "
        "revoke self-contained access tokens: revoke the refresh token instead, or let the "
        "access token expire"
    ),
    "invalid_client": (
        "the client authentication failed: check client_id and client_secret (or the "
        "private key), and that the client authenticates as the server expects"
    ),
    "invalid_grant": "the server says the token was issued to another client",
    "invalid_request": "the server refused the request as malformed",
    "unauthorized_client": "this client may not revoke tokens at this server",
}


class RevokingClient(Protocol):
    """A client that can authenticate: every grant of this package is one."""

    @property
    def token_url(self) -> str:
        """The token endpoint, the audience of JWT client assertions."""

    @property
    def client_auth(self) -> ClientAuth:
        """How the client authenticates (RFC 6749 §2.3)."""


def revocation_request(
    url: str,
    token: str,
    *,
    token_type_hint: str | None = None,
    client_auth: ClientAuth,
    now: float,
    jti: str,
    token_url: str | None = None,
    allow_http: bool = False,
) -> TokenRequest:
    """Build the request that revokes *token* (RFC 7009 §2.1).

    Args:
        url: the revocation endpoint.
        token: the token to revoke.
        token_type_hint: ``"access_token"`` or ``"refresh_token"`` (or an
            extension type): helps the server find the token.
        client_auth: how the client authenticates, as at the token endpoint.
        now: the current time in epoch seconds (for JWT client assertions).
        jti: a fresh unique id for a JWT client assertion.
        token_url: the token endpoint, used as ``aud`` of a JWT client
            assertion (RFC 7523 §3 names it as the server's identifier);
            by default *url*.
        allow_http: allow plain http to a host that is not loopback.

    Raises:
        ConfigurationError: *url* is not https, *token* is empty, or
            *token_type_hint* is not a non-empty string.
    """
    url = check_token_url(url, allow_http=allow_http, argument="revocation_url")
    if not isinstance(token, str) or not token:
        raise ConfigurationError("token: expected the non-empty token to revoke")
    if token_type_hint is not None and (
        not isinstance(token_type_hint, str) or not token_type_hint
    ):
        raise ConfigurationError(
            "token_type_hint: expected 'access_token', 'refresh_token' or None"
        )
    if not isinstance(client_auth, ClientAuth):
        raise ConfigurationError(
            f"client_auth: expected a ClientAuth (e.g. a grant's client_auth), got "
            f"{type(client_auth).__name__}"
        )
    form = {"token": token}
    if token_type_hint is not None:
        form["token_type_hint"] = token_type_hint
    headers = {"Content-Type": FORM_CONTENT_TYPE, "Accept": "application/json"}
    client_auth.apply(form, headers, token_url=token_url or url, now=now, jti=jti)
    return TokenRequest(url, form, headers)


def _tokens_to_revoke(
    token: Token | str, token_type_hint: str | None
) -> Sequence[tuple[str, str | None]]:
    if isinstance(token, str):
        return [(token, token_type_hint)]
    if not isinstance(token, Token):
        raise ConfigurationError(
            f"token: expected a Token or a token string, got {type(token).__name__}"
        )
    if token_type_hint is not None:
        raise ConfigurationError(
            "token_type_hint: not used with a Token, whose tokens are sent with their own hints"
        )
    # The refresh token first: it is the long-lived credential, and RFC 7009
    # §2.1 says a server SHOULD revoke the access tokens of its grant with it;
    # revoking the access token first and then failing would leave the
    # refresh token able to mint new ones. The access token is still revoked
    # explicitly, as servers need not cascade (revoking it then is harmless:
    # an unknown token is answered 200, §2.2).
    pairs: list[tuple[str, str | None]] = []
    if token.refresh_token:
        pairs.append((token.refresh_token, "refresh_token"))
    pairs.append((token.access_token, "access_token"))
    return pairs


def _error_field(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    return value if isinstance(value, str) else None


def _answer_error(status: int, headers: Mapping[str, str], body: bytes, where: str) -> TokenError:
    """The error for a revocation response that is not a success."""
    if status == 503:
        retry_after = headers.get("Retry-After")
        after = f" (the server says after {retry_after[:40]!r})" if retry_after else ""
        return TokenError(
            f"{where} answered HTTP 503: the server cannot revoke tokens right now and the "
            f"token is still valid; retry later{after} (RFC 7009 §2.2.1)"
        )
    try:
        fields = json.loads(body)
    except (ValueError, RecursionError):
        fields = None
    error = _error_field(fields, "error") if isinstance(fields, dict) else None
    if isinstance(fields, dict) and error:
        description = _error_field(fields, "error_description")
        advice = _ADVICE.get(error, "see the server's documentation of this error code")
        message = f"{where} answered HTTP {status} with OAuth error {error[:100]!r}: {advice}."
        if description and _ERROR_TEXT.fullmatch(description):
            message += f" The server says: {description!r}."
        return OAuth2Error(error, description, _error_field(fields, "error_uri"), message=message)
    if 300 <= status < 400:
        hint = "revocation endpoints do not redirect: check the revocation URL"
    elif status >= 500:
        hint = "a server error; retry later"
    else:
        hint = "check the revocation URL and the client's credentials"
    return TokenError(f"{where} answered HTTP {status} without an OAuth error code: {hint}")


async def _send(session: ClientSession, request: TokenRequest, timeout: float) -> None:
    endpoint = f"revocation endpoint {safe_url(request.url)}"
    try:
        async with subrequest(
            session,
            "POST",
            request.url,
            data=request.body,
            headers=dict(request.headers),
            timeout=aiohttp.ClientTimeout(total=timeout),
            # The session may raise on 4xx; the OAuth error in the body is what tells.
            raise_for_status=False,
        ) as response:
            if 200 <= response.status < 300:
                return
            # Only for the error message: a body past the limit is not read at all.
            body = await read_limited(response, _MAX_BODY) or b""
            status, headers = response.status, response.headers
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        kind = "timed out" if isinstance(exc, asyncio.TimeoutError) else type(exc).__name__
        raise TokenError(
            f"Could not reach the {endpoint} ({kind}): the token is still valid; check the "
            "URL and the network, then retry"
        ) from exc
    raise _answer_error(status, headers, body, f"The {endpoint}")


async def revoke(
    session: ClientSession,
    revocation_url: str,
    token: Token | str,
    *,
    client: RevokingClient | ClientAuth,
    token_type_hint: str | None = None,
    timeout: float = DEFAULT_REVOCATION_TIMEOUT,
    allow_http: bool = False,
) -> None:
    """Revoke *token* at *revocation_url* (RFC 7009 §2).

    A [`Token`][aiohttp_auth.oauth2.token.Token] with a refresh token is
    revoked in two requests: the refresh token first (the long-lived
    credential, whose revocation a server should extend to the access tokens
    of its grant, §2.1), then the access token. If one fails the other is
    still tried, and the first error is raised.

    Each request goes through *session* with no middleware and no redirect
    (see [`subrequest`][aiohttp_auth._middleware.subrequest]).

    Args:
        session: the session to send the requests through.
        revocation_url: the revocation endpoint, e.g. the metadata's
            ``revocation_endpoint``.
        token: a Token, or one token string.
        client: the grant the token came from (its client authentication is
            used, with its token endpoint as the audience of JWT assertions),
            or a [`ClientAuth`][aiohttp_auth.oauth2.client_auth.ClientAuth].
        token_type_hint: for a token string, ``"access_token"`` or
            ``"refresh_token"``; not used with a Token.
        timeout: seconds per request.
        allow_http: allow plain http to a host that is not loopback.

    Raises:
        ConfigurationError: a bad argument.
        OAuth2Error: the server answered an error object, e.g.
            ``unsupported_token_type`` or ``invalid_client`` (§2.2.1).
        TokenError: 503 (retry later), another failure status, or the
            server could not be reached in time; the token may still be valid.
    """
    given_auth = client if isinstance(client, ClientAuth) else getattr(client, "client_auth", None)
    if not isinstance(given_auth, ClientAuth):
        raise ConfigurationError(
            "client: expected the grant the token came from, or a ClientAuth, got "
            f"{type(client).__name__}"
        )
    # A grant's token endpoint is the audience of its JWT client assertions.
    token_url = None if client is given_auth else getattr(client, "token_url", None)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ConfigurationError(
            f"timeout: expected a positive number of seconds, got {timeout!r}"
        )
    revocation_url = check_token_url(
        revocation_url, allow_http=allow_http, argument="revocation_url"
    )
    first_error: TokenError | None = None
    for value, hint in _tokens_to_revoke(token, token_type_hint):
        # Built just before it is sent, so that a JWT client assertion is fresh.
        request = revocation_request(
            revocation_url,
            value,
            token_type_hint=hint,
            client_auth=given_auth,
            now=time.time(),
            jti=secrets.token_urlsafe(16),
            token_url=token_url,
            allow_http=allow_http,
        )
        try:
            await _send(session, request, timeout)
        except TokenError as exc:
            logger.warning("revoking a %s failed: %s", hint or "token", exc)
            first_error = first_error or exc
        else:
            logger.debug("revoked a %s at %s", hint or "token", safe_url(request.url))
    if first_error is not None:
        raise first_error
