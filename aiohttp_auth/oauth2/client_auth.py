"""Client authentication at the token endpoint, sans-IO.

The methods of RFC 6749 §2.3.1, RFC 7523 §2.2 and OpenID Connect Core §9, by
the names the OAuth registry gives them (``token_endpoint_auth_method``):

| method | what the request carries |
|---|---|
| ``client_secret_basic`` | HTTP Basic with the form-urlencoded id and secret |
| ``client_secret_post`` | ``client_id`` and ``client_secret`` in the form |
| ``client_secret_jwt`` | a JWT assertion signed with the secret (HMAC) |
| ``private_key_jwt`` | a JWT assertion signed with a private key |
| ``none`` | a public client: ``client_id`` in the form only |
| ``tls_client_auth`` | mutual TLS (RFC 8705 §2.1): ``client_id`` in the form |
| ``self_signed_tls_client_auth`` | mutual TLS, self-signed (RFC 8705 §2.2): the same |

With the TLS methods the client certificate comes from the ``ssl`` context of
the session that calls the token endpoint.

The JWT methods are in [`client_auth_jwt`][aiohttp_auth.oauth2.client_auth_jwt];
their JWTs are signed by [`JWTSigner`][aiohttp_auth.oauth2.jwt.JWTSigner], which
imports joserfc only when a JWT method is configured.
Keys and algorithms are checked at construction: a wrong combination raises
[`ConfigurationError`][aiohttp_auth.errors.ConfigurationError] there, not at
the first token request.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Final, Literal, TypeAlias, get_args
from urllib.parse import quote_plus

from .._redact import redacted, redacted_repr
from ..errors import ConfigurationError

if TYPE_CHECKING:
    from .jwt import PrivateKey

__all__ = [
    "ClientAuth",
    "ClientAuthMethod",
    "ClientSecretBasic",
    "ClientSecretPost",
    "NoClientAuth",
    "make_client_auth",
]

ClientAuthMethod: TypeAlias = Literal[
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "none",
    "tls_client_auth",
    "self_signed_tls_client_auth",
]
"""The client authentication methods, as registered for ``token_endpoint_auth_method``."""

_METHODS: Final = frozenset(get_args(ClientAuthMethod))
_JWT_METHODS: Final = frozenset({"client_secret_jwt", "private_key_jwt"})
_SECRET_METHODS: Final = frozenset(
    {"client_secret_basic", "client_secret_post", "client_secret_jwt"}
)


class ClientAuth:
    """How a client authenticates to the token endpoint: adds to the form and headers.

    Build one with [`make_client_auth`][] (or a grant's ``client_auth=``);
    subclass it for a method not listed here.
    """

    __slots__ = ("client_id", "method")

    def __init__(self, client_id: str, method: str) -> None:
        self.client_id = client_id
        self.method = method

    def apply(
        self,
        form: dict[str, str],
        headers: dict[str, str],
        *,
        token_url: str,
        now: float,
        jti: str,
    ) -> None:
        """Add the client's credentials to a token request's *form* and *headers*.

        Args:
            form: the form parameters, changed in place.
            headers: the request headers, changed in place.
            token_url: the token endpoint (the default assertion audience).
            now: the current time in epoch seconds.
            jti: a unique id for a client assertion (RFC 7519 §4.1.7).
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        return redacted_repr(self, client_id=repr(self.client_id), method=repr(self.method))


class NoClientAuth(ClientAuth):
    """A public client (``none``) or mutual TLS (RFC 8705 §2): ``client_id`` in the form."""

    __slots__ = ()

    def __init__(self, client_id: str, method: str = "none") -> None:
        super().__init__(client_id, method)

    def apply(
        self,
        form: dict[str, str],
        headers: dict[str, str],
        *,
        token_url: str,
        now: float,
        jti: str,
    ) -> None:
        """Put ``client_id`` in the form (RFC 6749 §3.2.1, RFC 8705 §2)."""
        form["client_id"] = self.client_id


class ClientSecretBasic(ClientAuth):
    """``client_secret_basic``: HTTP Basic authentication (RFC 6749 §2.3.1).

    The client id and secret are form-urlencoded (RFC 6749 Appendix B)
    *before* being joined with ``:`` and base64-encoded, so an id or secret
    holding ``:``, ``%``, ``+``, spaces or non-ASCII characters arrives
    intact at a conforming server. Some servers skip the decoding step; if
    such a server refuses a secret with those characters, use
    ``client_secret_post``.
    """

    __slots__ = ("_authorization", "_client_secret")

    def __init__(self, client_id: str, client_secret: str) -> None:
        super().__init__(client_id, "client_secret_basic")
        self._client_secret = client_secret
        credentials = f"{quote_plus(client_id, safe='')}:{quote_plus(client_secret, safe='')}"
        self._authorization = "Basic " + base64.b64encode(credentials.encode("ascii")).decode()

    def apply(
        self,
        form: dict[str, str],
        headers: dict[str, str],
        *,
        token_url: str,
        now: float,
        jti: str,
    ) -> None:
        """Set ``Authorization: Basic ...``."""
        headers["Authorization"] = self._authorization

    def __repr__(self) -> str:
        return redacted_repr(
            self, client_id=repr(self.client_id), client_secret=redacted(self._client_secret)
        )


class ClientSecretPost(ClientAuth):
    """``client_secret_post``: the id and secret in the form (RFC 6749 §2.3.1)."""

    __slots__ = ("_client_secret",)

    def __init__(self, client_id: str, client_secret: str) -> None:
        super().__init__(client_id, "client_secret_post")
        self._client_secret = client_secret

    def apply(
        self,
        form: dict[str, str],
        headers: dict[str, str],
        *,
        token_url: str,
        now: float,
        jti: str,
    ) -> None:
        """Put ``client_id`` and ``client_secret`` in the form."""
        form["client_id"] = self.client_id
        form["client_secret"] = self._client_secret

    def __repr__(self) -> str:
        return redacted_repr(
            self, client_id=repr(self.client_id), client_secret=redacted(self._client_secret)
        )


def _check_optional_str(value: object, argument: str) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigurationError(f"{argument}: expected a non-empty string or None")


def make_client_auth(
    method: str,
    client_id: str,
    client_secret: str | None,
    *,
    private_key: PrivateKey | None = None,
    key_id: str | None = None,
    signing_alg: str | None = None,
    audience: str | None = None,
) -> ClientAuth:
    """Build the client authentication *method* for *client_id*.

    Args:
        method: one of [`ClientAuthMethod`][].
        client_id: the client identifier (RFC 6749 §2.2).
        client_secret: the secret, for the ``client_secret_*`` methods.
        private_key: the key, for ``private_key_jwt``: PEM (str or bytes) or a JWK.
        key_id: the ``kid`` header of JWT assertions.
        signing_alg: the JWS algorithm of JWT assertions; by default HS256
            for ``client_secret_jwt`` and the key's own for ``private_key_jwt``.
        audience: the ``aud`` of JWT assertions; by default the token endpoint
            URL (some servers want their issuer identifier instead).

    Raises:
        ConfigurationError: an unknown method, a missing secret or key, an
            argument the method does not use, a key that cannot sign with
            *signing_alg*.
    """
    # The JWT methods subclass ClientAuth, so their module can only be
    # imported once this one is complete.
    from .client_auth_jwt import ClientSecretJWT, PrivateKeyJWT

    if method not in _METHODS:
        raise ConfigurationError(
            f"client_auth: unknown method {method!r}; use one of {', '.join(sorted(_METHODS))}"
        )
    if not isinstance(client_id, str) or not client_id:
        raise ConfigurationError("client_id: expected a non-empty string")
    for argument, value in (
        ("client_secret", client_secret),
        ("key_id", key_id),
        ("signing_alg", signing_alg),
        ("audience", audience),
    ):
        _check_optional_str(value, argument)
    if method not in _JWT_METHODS:
        for argument, value in (
            ("key_id", key_id),
            ("signing_alg", signing_alg),
            ("audience", audience),
        ):
            if value is not None:
                hint = (
                    "; to send an 'audience' parameter (e.g. Auth0), use "
                    "extra_params={'audience': ...}"
                    if argument == "audience"
                    else ""
                )
                raise ConfigurationError(
                    f"{argument}: used only by the JWT methods client_secret_jwt and "
                    f"private_key_jwt, not {method!r}{hint}"
                )
    if private_key is not None and method != "private_key_jwt":
        raise ConfigurationError(
            f"private_key: used only by client_auth='private_key_jwt', not {method!r}"
        )
    if method not in _SECRET_METHODS and client_secret is not None:
        raise ConfigurationError(
            f"client_secret: not used by client_auth={method!r}; drop it, or choose a "
            "client_secret_* method"
        )
    if method == "private_key_jwt":
        if private_key is None:
            raise ConfigurationError(
                "private_key: private_key_jwt needs the client's private key (PEM or JWK)"
            )
        return PrivateKeyJWT(
            client_id, private_key, signing_alg=signing_alg, key_id=key_id, audience=audience
        )
    if method not in _SECRET_METHODS:
        return NoClientAuth(client_id, method)
    if client_secret is None:
        raise ConfigurationError(
            f"client_secret: {method} needs the client secret; pass client_secret=, or "
            "choose client_auth='none' for a public client"
        )
    if method == "client_secret_basic":
        return ClientSecretBasic(client_id, client_secret)
    if method == "client_secret_post":
        return ClientSecretPost(client_id, client_secret)
    return ClientSecretJWT(
        client_id, client_secret, signing_alg=signing_alg, key_id=key_id, audience=audience
    )
