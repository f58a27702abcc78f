"""The authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636).

``GET /authorize`` approves at once, as the configured user, without a login
page: tests and the demo drive it with a plain GET (or a "browser" callable
that fetches the URL) and follow the redirect to the client's ``redirect_uri``
with ``code``, ``state`` and ``iss`` (RFC 9207). Errors about the client or
its redirect URI are answered here (400, JSON), never redirected; every other
error goes to the redirect URI (§4.1.2.1).

At the token endpoint the code is single-use (a second use revokes what the
first produced, §4.1.2), bound to its client and redirect URI (§4.1.3), and
needs the PKCE ``code_verifier`` matching its challenge (RFC 7636 §4.6); a
verifier without a challenge is refused too (RFC 9700 §2.1.1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import Any, Final

from aiohttp import web
from multidict import MultiMapping
from yarl import URL

from .assertions import sign_id_token
from .config import CONFIG, AuthorizationServerConfig
from .errors import OAuthError, error_response
from .grants import required
from .protocol import Call, scope_for
from .registration import ClientRegistration
from .tokens import AuthorizationCode, issue, new_grant, revoke_grant

__all__ = ["authorization_code", "authorize", "redirect_uri_matches", "s256"]

# RFC 7636 §4.1: code_verifier = 43*128unreserved; the S256 challenge has the same form.
_PKCE_VALUE: Final = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_LOOPBACK: Final = frozenset({"127.0.0.1", "::1", "localhost"})


def s256(verifier: str) -> str:
    """Return the S256 code challenge of *verifier* (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def redirect_uri_matches(registered: str, requested: str) -> bool:
    """Whether *requested* is the *registered* redirect URI (RFC 6749 §3.1.2.3).

    Exact string comparison, except that a loopback ``http`` URI matches on
    any port (RFC 8252 §7.3: native apps listen on an ephemeral port).
    """
    if registered == requested:
        return True
    wanted, given = URL(registered), URL(requested)
    return (
        wanted.scheme == given.scheme == "http"
        and wanted.host in _LOOPBACK
        and wanted.host == given.host
        and wanted.raw_path == given.raw_path
        and wanted.raw_query_string == given.raw_query_string
        and not given.raw_fragment
    )


def _client_and_redirect(
    config: AuthorizationServerConfig, query: MultiMapping[str]
) -> tuple[ClientRegistration, str]:
    """Find the client and the redirect URI, or refuse without redirecting (§4.1.2.1)."""
    repeated = sorted({name for name in query if len(query.getall(name)) > 1})
    if repeated:
        raise OAuthError(
            "invalid_request", f"parameters sent more than once: {', '.join(repeated)}"
        )
    client_id = query.get("client_id")
    client = config.clients.get(client_id) if client_id is not None else None
    if client is None:
        raise OAuthError("invalid_request", f"unknown client {client_id!r}")
    requested = query.get("redirect_uri")
    if requested is None:
        # §3.1.2.3: may be omitted only when exactly one is registered.
        if len(client.redirect_uris) != 1:
            raise OAuthError("invalid_request", "redirect_uri is required for this client")
        return client, client.redirect_uris[0]
    if not any(redirect_uri_matches(uri, requested) for uri in client.redirect_uris):
        raise OAuthError("invalid_request", "redirect_uri is not registered for this client")
    return client, requested


def _challenge(
    config: AuthorizationServerConfig, query: MultiMapping[str]
) -> tuple[str | None, str]:
    """Return the PKCE challenge and method of an authorization request (RFC 7636 §4.3)."""
    challenge = query.get("code_challenge")
    method = query.get("code_challenge_method", "plain")
    if challenge is None:
        if config.require_pkce:
            raise OAuthError("invalid_request", "code challenge required (RFC 7636 §4.4.1)")
        return None, method
    if method not in config.pkce_methods:
        raise OAuthError("invalid_request", f"transform algorithm {method!r} not supported")
    if _PKCE_VALUE.fullmatch(challenge) is None:
        raise OAuthError("invalid_request", "code_challenge is not 43-128 unreserved characters")
    return challenge, method


def _approve(
    config: AuthorizationServerConfig,
    client: ClientRegistration,
    redirect_uri: str,
    query: MultiMapping[str],
) -> dict[str, str]:
    """Approve the request as the configured user; return the redirect's parameters."""
    if query.get("response_type") != "code":
        raise OAuthError("unsupported_response_type", "only response_type=code is supported")
    if "authorization_code" not in client.grant_types:
        raise OAuthError(
            "unauthorized_client", "the client may not use the authorization code grant"
        )
    scope = scope_for(client, query.get("scope"))
    challenge, method = _challenge(config, query)
    subject = config.approving_user()
    if config.authorize_decision == "deny" or subject is None:
        raise OAuthError("access_denied", "the resource owner denied the request")
    code = AuthorizationCode(
        code=secrets.token_urlsafe(32),
        client_id=client.client_id,
        redirect_uri=query.get("redirect_uri"),
        scope=scope,
        subject=subject,
        code_challenge=challenge,
        code_challenge_method=method,
        nonce=query.get("nonce"),
        expires_at=config.clock() + config.authorization_code_lifetime,
        grant_id=new_grant(),
    )
    config.authorization_codes[code.code] = code
    return {"code": code.code}


async def authorize(request: web.Request) -> web.StreamResponse:
    """``GET /authorize``: the authorization endpoint (RFC 6749 §3.1, §4.1.1-4.1.2)."""
    config = request.app[CONFIG]
    try:
        client, redirect_uri = _client_and_redirect(config, request.query)
    except OAuthError as error:
        return error_response(error, realm=config.realm)
    try:
        answer = _approve(config, client, redirect_uri, request.query)
    except OAuthError as error:
        answer = {"error": error.error, "error_description": error.description}
    if "state" in request.query:
        answer["state"] = request.query["state"]
    answer["iss"] = config.issuer_for(request)
    # §3.1.2: keep the redirect URI's own query; add ours to it.
    raise web.HTTPFound(URL(redirect_uri, encoded=True).extend_query(answer))


def _redeemable(call: Call, value: str) -> AuthorizationCode:
    config = call.config
    code = config.authorization_codes.get(value)
    if code is None or code.client_id != call.client.client_id:
        raise OAuthError("invalid_grant", "unknown authorization code, or another client's")
    if code.used:
        revoke_grant(config, code.grant_id)
        raise OAuthError("invalid_grant", "the authorization code was already used")
    if call.now >= code.expires_at:
        raise OAuthError("invalid_grant", "the authorization code has expired")
    redirect_uri = call.form.get("redirect_uri")
    if code.redirect_uri is not None and redirect_uri != code.redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri differs from the authorization request's")
    return code


def _check_verifier(code: AuthorizationCode, verifier: str | None) -> None:
    """Check the PKCE code verifier against the code's challenge (RFC 7636 §4.6)."""
    if code.code_challenge is None:
        if verifier is not None:
            raise OAuthError("invalid_grant", "code_verifier sent for a code without challenge")
        return
    if verifier is None or _PKCE_VALUE.fullmatch(verifier) is None:
        raise OAuthError("invalid_grant", "code_verifier is missing or malformed")
    derived = s256(verifier) if code.code_challenge_method == "S256" else verifier
    if not hmac.compare_digest(derived, code.code_challenge):
        raise OAuthError("invalid_grant", "code_verifier does not match the code challenge")


def authorization_code(call: Call) -> dict[str, Any]:
    """Exchange an authorization code for tokens (RFC 6749 §4.1.3, RFC 7636 §4.5)."""
    code = _redeemable(call, required(call, "code"))
    _check_verifier(code, call.form.get("code_verifier"))
    code.used = True
    fields = issue(
        call.config,
        client_id=code.client_id,
        subject=code.subject,
        scope=code.scope,
        grant_type="authorization_code",
        grant_id=code.grant_id,
        refresh=True,
    )
    if "openid" in code.scope.split():
        fields["id_token"] = _id_token(call, code)
    return fields


def _id_token(call: Call, code: AuthorizationCode) -> str:
    """Sign the ID token of an OpenID Connect authentication (OIDC Core §2, §3.1.3.3)."""
    claims: dict[str, Any] = {
        "iss": call.issuer,
        "sub": code.subject,
        "aud": code.client_id,
        "iat": int(call.now),
        "exp": int(call.now + call.config.access_token_lifetime),
    }
    if code.nonce is not None:
        claims["nonce"] = code.nonce
    return sign_id_token(call.config, claims)
