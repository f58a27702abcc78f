"""OAuth 2 grants that need no user interaction (RFC 6749 §4.3, §4.4, §6), sans-IO.

A grant knows how to ask a token endpoint for a token: it builds a
[`TokenRequest`][aiohttp_auth.oauth2.protocol.TokenRequest] (form, headers,
client authentication) and never does IO itself. The clock and the ``jti`` of
JWT assertions are parameters, supplied by the middleware.

Every grant checks its arguments at construction and raises
[`ConfigurationError`][aiohttp_auth.errors.ConfigurationError] naming what to
fix; after that it is immutable. This module holds the grants of RFC 6749 and
re-exports the extension grants ([`JWTBearer`][aiohttp_auth.oauth2.grants_extension.JWTBearer],
[`TokenExchange`][aiohttp_auth.oauth2.grants_extension.TokenExchange]) and the
base ([`BaseGrant`][aiohttp_auth.oauth2.grants_base.BaseGrant],
[`Grant`][aiohttp_auth.oauth2.grants_base.Grant]), so that every grant can be
imported from here.
"""

from __future__ import annotations

from collections.abc import Mapping

from .._redact import redacted
from ..errors import ConfigurationError, TokenError
from .client_auth import ClientAuth, ClientAuthMethod
from .grants_base import BaseGrant as BaseGrant
from .grants_base import Grant as Grant
from .grants_base import ScopeArg as ScopeArg
from .grants_extension import JWTBearer as JWTBearer
from .grants_extension import TokenExchange as TokenExchange
from .jwt import PrivateKey

__all__ = [
    "BaseGrant",
    "ClientCredentials",
    "Grant",
    "JWTBearer",
    "Password",
    "RefreshToken",
    "ScopeArg",
    "TokenExchange",
]


class ClientCredentials(BaseGrant):
    """The client credentials grant (RFC 6749 §4.4): the client acts for itself.

    Takes the arguments of [`BaseGrant`][aiohttp_auth.oauth2.grants_base.BaseGrant].
    The client must authenticate (RFC 6749 §4.4: confidential clients only),
    so ``client_auth="none"`` is refused.
    """

    grant_type = "client_credentials"

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str | None = None,
        *,
        scope: ScopeArg = None,
        client_auth: ClientAuthMethod | ClientAuth | None = None,
        private_key: PrivateKey | None = None,
        key_id: str | None = None,
        signing_alg: str | None = None,
        audience: str | None = None,
        extra_params: Mapping[str, str] | None = None,
        allow_http: bool = False,
    ) -> None:
        super().__init__(
            token_url,
            client_id,
            client_secret,
            scope=scope,
            client_auth=client_auth,
            private_key=private_key,
            key_id=key_id,
            signing_alg=signing_alg,
            audience=audience,
            extra_params=extra_params,
            allow_http=allow_http,
        )
        if self.client_auth.method == "none":
            raise ConfigurationError(
                "client_credentials needs client authentication (RFC 6749 §4.4): pass "
                "client_secret= or private_key=, or use client_auth='tls_client_auth' with "
                "a client certificate in the session's ssl context"
            )

    def grant_params(self, *, now: float, jti: str) -> dict[str, str]:
        """Return no parameters: the client's authentication is the grant."""
        return {}


class RefreshToken(BaseGrant):
    """Start from a refresh token (RFC 6749 §6), e.g. one a CLI login produced.

    The middleware keeps the newest refresh token in its store and uses that
    one (through ``refresh_request``) once it has one; ``refresh_token`` here
    is only the first.

    The other arguments are those of
    [`BaseGrant`][aiohttp_auth.oauth2.grants_base.BaseGrant].

    Args:
        refresh_token: the initial refresh token; without one, a token store
            must already hold a token with a refresh token.
    """

    grant_type = "refresh_token"

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str | None = None,
        *,
        refresh_token: str | None = None,
        scope: ScopeArg = None,
        client_auth: ClientAuthMethod | ClientAuth | None = None,
        private_key: PrivateKey | None = None,
        key_id: str | None = None,
        signing_alg: str | None = None,
        audience: str | None = None,
        extra_params: Mapping[str, str] | None = None,
        allow_http: bool = False,
    ) -> None:
        if refresh_token is not None and (not isinstance(refresh_token, str) or not refresh_token):
            raise ConfigurationError("refresh_token: expected a non-empty string or None")
        super().__init__(
            token_url,
            client_id,
            client_secret,
            scope=scope,
            client_auth=client_auth,
            private_key=private_key,
            key_id=key_id,
            signing_alg=signing_alg,
            audience=audience,
            extra_params=extra_params,
            allow_http=allow_http,
        )
        self._refresh_token = refresh_token

    def grant_params(self, *, now: float, jti: str) -> dict[str, str]:
        """Return the initial refresh token as the ``refresh_token`` parameter.

        Raises:
            TokenError: there is no initial refresh token.
        """
        if self._refresh_token is None:
            raise TokenError("no refresh token: pass refresh_token= or store one")
        return {"refresh_token": self._refresh_token}

    def _repr_fields(self) -> dict[str, object]:
        return {"refresh_token": redacted(self._refresh_token)}


class Password(BaseGrant):
    """The resource owner password credentials grant (RFC 6749 §4.3).

    Deprecated by the OAuth 2.0 Security BCP (RFC 9700 §2.4); use it only
    where the server offers nothing else.

    The other arguments are those of
    [`BaseGrant`][aiohttp_auth.oauth2.grants_base.BaseGrant].

    Args:
        username: the resource owner's user name.
        password: the resource owner's password.
    """

    grant_type = "password"

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str | None = None,
        *,
        username: str,
        password: str,
        scope: ScopeArg = None,
        client_auth: ClientAuthMethod | ClientAuth | None = None,
        private_key: PrivateKey | None = None,
        key_id: str | None = None,
        signing_alg: str | None = None,
        audience: str | None = None,
        extra_params: Mapping[str, str] | None = None,
        allow_http: bool = False,
    ) -> None:
        if not isinstance(username, str) or not username:
            raise ConfigurationError("username: expected a non-empty string")
        if not isinstance(password, str):
            raise ConfigurationError(f"password: expected a string, got {type(password).__name__}")
        super().__init__(
            token_url,
            client_id,
            client_secret,
            scope=scope,
            client_auth=client_auth,
            private_key=private_key,
            key_id=key_id,
            signing_alg=signing_alg,
            audience=audience,
            extra_params=extra_params,
            allow_http=allow_http,
        )
        self._username = username
        self._password = password

    def grant_params(self, *, now: float, jti: str) -> dict[str, str]:
        """Return ``username`` and ``password``."""
        return {"username": self._username, "password": self._password}

    def _repr_fields(self) -> dict[str, object]:
        return {"username": repr(self._username), "password": redacted(self._password)}
