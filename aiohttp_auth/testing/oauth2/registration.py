"""Registered clients: who may authenticate how, and use which grants and scopes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from ...errors import ConfigurationError

__all__ = ["ALL_GRANT_TYPES", "CLIENT_AUTH_METHODS", "ClientAuthMethod", "ClientRegistration"]

ClientAuthMethod = Literal[
    "client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"
]
"""A client authentication method (RFC 6749 §2.3, RFC 7523 §2.2, RFC 8414 §2)."""

CLIENT_AUTH_METHODS: Final[tuple[ClientAuthMethod, ...]] = (
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "none",
)

ALL_GRANT_TYPES: Final = (
    "authorization_code",
    "client_credentials",
    "refresh_token",
    "password",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:ietf:params:oauth:grant-type:device_code",
)
"""Every grant type the token endpoint implements, in the metadata's order."""


@dataclass
class ClientRegistration:
    """One registered client (RFC 6749 §2, RFC 7591 §2 for the names).

    Attributes:
        client_id: the client identifier.
        secret: the client secret; None for a public client, or one that
            authenticates with ``private_key_jwt`` only.
        auth_methods: the authentication methods it may use at the token,
            revocation and introspection endpoints. Empty (the default) means
            what its credentials allow: ``client_secret_basic``,
            ``client_secret_post`` and ``client_secret_jwt`` with a secret,
            ``private_key_jwt`` with *jwks*, ``none`` with neither.
        jwks: its public key(s) for ``private_key_jwt``: one JWK or a JWK Set
            (``{"keys": [...]}``), as RFC 7591's ``jwks``.
        grant_types: the grant types it may use (RFC 6749 §5.2
            ``unauthorized_client`` otherwise); all of them by default.
        scopes: the scopes it may request; None for any scope.
        default_scopes: what it is granted when a request names no scope
            (RFC 6749 §3.3).
        redirect_uris: its registered redirect URIs (RFC 6749 §3.1.2). For a
            loopback ``http`` URI any port matches (RFC 8252 §7.3).
    """

    client_id: str
    secret: str | None = field(default=None, repr=False)
    auth_methods: tuple[ClientAuthMethod, ...] = ()
    jwks: Mapping[str, Any] | None = field(default=None, repr=False)
    grant_types: tuple[str, ...] = ALL_GRANT_TYPES
    scopes: tuple[str, ...] | None = None
    default_scopes: tuple[str, ...] = ()
    redirect_uris: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.auth_methods:
            methods: list[ClientAuthMethod] = []
            if self.secret is not None:
                methods += ["client_secret_basic", "client_secret_post", "client_secret_jwt"]
            if self.jwks is not None:
                methods.append("private_key_jwt")
            self.auth_methods = tuple(methods) or ("none",)
        unknown = [m for m in self.auth_methods if m not in CLIENT_AUTH_METHODS]
        if unknown:
            raise ConfigurationError(
                f"ClientRegistration({self.client_id!r}).auth_methods: unknown {unknown}; "
                f"use {', '.join(CLIENT_AUTH_METHODS)}"
            )
        if self.secret == "":
            # An empty HMAC key would let anyone forge client_secret_jwt assertions.
            raise ConfigurationError(f"ClientRegistration({self.client_id!r}): empty secret")
        needs_secret = {"client_secret_basic", "client_secret_post", "client_secret_jwt"}
        if self.secret is None and needs_secret & set(self.auth_methods):
            raise ConfigurationError(
                f"ClientRegistration({self.client_id!r}): a secret-based auth method needs "
                "a secret"
            )
        if self.jwks is None and "private_key_jwt" in self.auth_methods:
            raise ConfigurationError(
                f"ClientRegistration({self.client_id!r}): private_key_jwt needs jwks"
            )
        unknown_grants = [g for g in self.grant_types if g not in ALL_GRANT_TYPES]
        if unknown_grants:
            raise ConfigurationError(
                f"ClientRegistration({self.client_id!r}).grant_types: unknown {unknown_grants}"
            )

    @property
    def public(self) -> bool:
        """Whether the client cannot keep a credential (RFC 6749 §2.1)."""
        return self.auth_methods == ("none",)
