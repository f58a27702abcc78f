"""The base of every token-endpoint grant, and the checks of its arguments, sans-IO.

[`BaseGrant`][] holds what all grants share: the token endpoint (checked for
https), the client id and its authentication, the scope and extra form
parameters. It builds a [`TokenRequest`][aiohttp_auth.oauth2.protocol.TokenRequest]
from a subclass's [`grant_params`][aiohttp_auth.oauth2.grants_base.BaseGrant.grant_params],
and every grant's refresh request (RFC 6749 §6). [`Grant`][] is the protocol the
middleware relies on; interactive grants implement it too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar, Final, Protocol, TypeAlias, runtime_checkable

from yarl import URL

from .._origins import is_secure_transport
from .._redact import redacted_repr, safe_url
from ..errors import ConfigurationError, TokenError
from .client_auth import ClientAuth, ClientAuthMethod, make_client_auth
from .jwt import PrivateKey
from .protocol import FORM_CONTENT_TYPE, TokenRequest

__all__ = ["BaseGrant", "Grant", "ScopeArg", "check_token_url", "normalise_scope"]

ScopeArg: TypeAlias = str | Sequence[str] | None
"""What ``scope=`` accepts: a space-separated string or a sequence of scope tokens."""

# Set by the grant or its client authentication; extra_params may not change them.
_RESERVED_PARAMS: Final = frozenset(
    {"grant_type", "client_secret", "client_assertion", "client_assertion_type"}
)


@runtime_checkable
class Grant(Protocol):
    """What [`OAuth2Middleware`][aiohttp_auth.OAuth2Middleware] needs from a grant."""

    interactive: bool
    """Whether obtaining a token needs a user (a browser, a device code)."""

    @property
    def token_url(self) -> str:
        """The token endpoint (RFC 6749 §3.2)."""

    @property
    def client_id(self) -> str:
        """The client identifier (RFC 6749 §2.2)."""

    def token_request(self, *, now: float, jti: str) -> TokenRequest:
        """Build the request that obtains a token without a refresh token."""

    def refresh_request(self, refresh_token: str, *, now: float, jti: str) -> TokenRequest:
        """Build the request that refreshes a token (RFC 6749 §6)."""


def normalise_scope(scope: object) -> str | None:
    """Turn ``scope=`` into the space-separated string of RFC 6749 §3.3, or None.

    Raises:
        ConfigurationError: *scope* is neither a string nor a sequence of
            non-empty strings without spaces.
    """
    if scope is None:
        return None
    if isinstance(scope, str):
        return " ".join(scope.split()) or None
    if isinstance(scope, Sequence) and all(
        isinstance(item, str) and item and not any(c.isspace() for c in item) for item in scope
    ):
        return " ".join(scope) or None
    raise ConfigurationError(
        "scope: expected a space-separated string or a list of scope names without spaces, "
        f"got {type(scope).__name__}"
    )


def check_token_url(token_url: object, *, allow_http: bool, argument: str = "token_url") -> str:
    """Check that *token_url* is an absolute https URL (http only to loopback hosts).

    Raises:
        ConfigurationError: it is not such a URL; plain http to another host
            unless *allow_http*.
    """
    if not isinstance(allow_http, bool):
        raise ConfigurationError(f"allow_http: expected True or False, got {allow_http!r}")
    if isinstance(token_url, URL):
        token_url = str(token_url)
    if not isinstance(token_url, str):
        raise ConfigurationError(
            f"{argument}: expected a URL string, got {type(token_url).__name__}"
        )
    url: URL | None
    try:
        url = URL(token_url)
        host = url.raw_host
    except (ValueError, TypeError, IndexError):
        # yarl signals most malformed URLs with ValueError, a few with others.
        url, host = None, None
    if url is None or url.scheme not in ("http", "https") or not host:
        shown = repr(safe_url(url)) if url is not None else "a value that is not a URL"
        raise ConfigurationError(
            f"{argument}: expected an absolute https URL such as "
            f"'https://auth.example.com/oauth2/token', got {shown}"
        )
    if url.raw_fragment or url.raw_user is not None:
        # RFC 6749 §3.2: the endpoint URI must not include a fragment.
        raise ConfigurationError(
            f"{argument}: must not contain a fragment or user info: {safe_url(url)}"
        )
    if not allow_http and not is_secure_transport(url):
        raise ConfigurationError(
            f"{argument}: {safe_url(url)} would carry client credentials and tokens in clear "
            "text; use https, or pass allow_http=True if the network path is trusted"
        )
    return token_url


def _check_extra_params(extra_params: object) -> Mapping[str, str]:
    if extra_params is None:
        return MappingProxyType({})
    if not isinstance(extra_params, Mapping) or not all(
        isinstance(name, str) and isinstance(value, str) for name, value in extra_params.items()
    ):
        raise ConfigurationError("extra_params: expected a mapping of strings to strings")
    if reserved := sorted(_RESERVED_PARAMS.intersection(extra_params)):
        raise ConfigurationError(
            f"extra_params: must not set {', '.join(reserved)}; the grant and its "
            "client_auth set them"
        )
    return MappingProxyType(dict(extra_params))


def _resolve_client_auth(
    client_auth: ClientAuthMethod | ClientAuth | None,
    client_id: str,
    client_secret: str | None,
    key_options: Mapping[str, Any],
) -> ClientAuth:
    if isinstance(client_auth, ClientAuth):
        given = [name for name, value in key_options.items() if value is not None]
        if client_secret is not None:
            given.insert(0, "client_secret")
        if given:
            raise ConfigurationError(
                f"{', '.join(given)}: not used when client_auth is a ClientAuth object; "
                "give them to make_client_auth instead"
            )
        if client_auth.client_id != client_id:
            raise ConfigurationError(
                f"client_auth: authenticates client {client_auth.client_id!r}, not {client_id!r}"
            )
        return client_auth
    if client_auth is None:
        # The method the arguments imply: a key signs, a secret goes in Basic,
        # and a client with neither is a public client.
        if key_options.get("private_key") is not None:
            client_auth = "private_key_jwt"
        elif client_secret is not None:
            client_auth = "client_secret_basic"
        else:
            client_auth = "none"
    return make_client_auth(client_auth, client_id, client_secret, **key_options)


class BaseGrant:
    """The parts every token-endpoint grant shares; subclass it for a new grant.

    Args:
        token_url: the token endpoint; https, or http to a loopback host.
        client_id: the client identifier.
        client_secret: the client secret, for the ``client_secret_*`` methods.
        scope: the scope to request (RFC 6749 §3.3), a string or a list.
        client_auth: a [`ClientAuthMethod`][aiohttp_auth.oauth2.client_auth.ClientAuthMethod]
            name or a [`ClientAuth`][aiohttp_auth.oauth2.client_auth.ClientAuth].
            By default ``private_key_jwt`` with a ``private_key``,
            ``client_secret_basic`` with a ``client_secret``, else ``none``.
        private_key: for ``private_key_jwt``: PEM or JWK.
        key_id: ``kid`` of client assertions.
        signing_alg: JWS algorithm of client assertions.
        audience: ``aud`` of client assertions (default: ``token_url``). Not
            a request parameter: for Auth0's ``audience`` use ``extra_params``.
        extra_params: more form parameters, added to every token request
            after the grant's own; they may not set ``grant_type`` or the
            client authentication's parameters.
        allow_http: allow plain http to non-loopback hosts.

    Raises:
        ConfigurationError: an argument is missing, mistyped or inconsistent.
    """

    grant_type: ClassVar[str]
    """The ``grant_type`` form parameter."""
    interactive: bool = False
    """Whether obtaining a token needs a user; False for every grant here."""

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
        self._token_url = check_token_url(token_url, allow_http=allow_http)
        if not isinstance(client_id, str) or not client_id:
            raise ConfigurationError("client_id: expected a non-empty string")
        self._client_id = client_id
        self._scope = normalise_scope(scope)
        self._extra_params = _check_extra_params(extra_params)
        key_options = {
            "private_key": private_key,
            "key_id": key_id,
            "signing_alg": signing_alg,
            "audience": audience,
        }
        self._client_auth = _resolve_client_auth(
            client_auth, client_id, client_secret, key_options
        )

    @property
    def token_url(self) -> str:
        """The token endpoint (RFC 6749 §3.2)."""
        return self._token_url

    @property
    def client_id(self) -> str:
        """The client identifier (RFC 6749 §2.2)."""
        return self._client_id

    @property
    def scope(self) -> str | None:
        """The requested scope, space-separated, or None."""
        return self._scope

    @property
    def client_auth(self) -> ClientAuth:
        """How the client authenticates to the token endpoint."""
        return self._client_auth

    @property
    def extra_params(self) -> Mapping[str, str]:
        """Form parameters added to every token request."""
        return self._extra_params

    def grant_params(self, *, now: float, jti: str) -> dict[str, str]:
        """Return the grant's own form parameters, without ``grant_type``."""
        raise NotImplementedError

    def token_request(self, *, now: float, jti: str) -> TokenRequest:
        """Build the request that obtains a new token with this grant.

        Args:
            now: the current time in epoch seconds (for JWT assertions).
            jti: a fresh unique id for JWT assertions.
        """
        return self._request(self.grant_type, self.grant_params(now=now, jti=jti), now, jti)

    def refresh_request(self, refresh_token: str, *, now: float, jti: str) -> TokenRequest:
        """Build the request that refreshes a token (RFC 6749 §6).

        Same client authentication, same scope.

        Raises:
            TokenError: *refresh_token* is empty or not a string.
        """
        if not isinstance(refresh_token, str) or not refresh_token:
            raise TokenError("no refresh token: pass refresh_token= or store one")
        return self._request("refresh_token", {"refresh_token": refresh_token}, now, jti)

    def _request(
        self, grant_type: str, params: Mapping[str, str], now: float, jti: str
    ) -> TokenRequest:
        form = {"grant_type": grant_type, **params}
        if self._scope is not None:
            form["scope"] = self._scope
        form.update(self._extra_params)
        headers = {"Content-Type": FORM_CONTENT_TYPE, "Accept": "application/json"}
        self._client_auth.apply(form, headers, token_url=self._token_url, now=now, jti=jti)
        return TokenRequest(self._token_url, form, headers)

    def _repr_fields(self) -> dict[str, object]:
        return {}

    def __repr__(self) -> str:
        return redacted_repr(
            self,
            token_url=repr(safe_url(self._token_url)),
            client_id=repr(self._client_id),
            client_auth=repr(self._client_auth.method),
            scope=repr(self._scope),
            **self._repr_fields(),
        )
