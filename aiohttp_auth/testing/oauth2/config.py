"""What the authorization server accepts, the state it keeps, and what it has seen.

One [`AuthorizationServerConfig`][aiohttp_auth.testing.oauth2.AuthorizationServerConfig]
is read by the server on every request, so a test may change it while the server
runs: register a client, shorten a lifetime, advance the clock, plan a fault.
The token state (issued tokens, authorization codes, device authorizations) and
the records (calls, forms, counters) live in it too, so a test can assert what
a client sent and what it was given. Records hold secrets (they must, to be
useful); they stay in memory and out of every ``repr``.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from aiohttp import web

from ...errors import ConfigurationError
from ..resource import RecordedRequest
from .faults import Fault
from .mount import mount_path
from .registration import ClientRegistration
from .tokens import AuthorizationCode, DeviceAuthorization, IssuedToken

__all__ = ["CONFIG", "AuthorizationServerConfig", "EndpointCall"]


@dataclass
class EndpointCall:
    """One request to a form endpoint (``/token``, ``/revoke``, ...), and its answer.

    Attributes:
        endpoint: the path, e.g. ``/token``.
        grant_type: the ``grant_type`` parameter ("" when absent).
        form: every form parameter as received, in order, repeats and empty
            values included.
        authorization: the ``Authorization`` header, or None.
        client_id: the client it authenticated, or None if it was refused or
            never got that far (a fault, a malformed request).
        auth_method: how that client authenticated, or None.
        status: the status answered; 0 when a fault dropped the connection,
            None while the call is still being answered.
        error: the RFC 6749 §5.2 ``error`` code answered, or None.
        fault: the kind of fault injected into this call, or None.
    """

    endpoint: str
    grant_type: str
    form: tuple[tuple[str, str], ...] = field(repr=False)
    authorization: str | None = field(repr=False)
    client_id: str | None = None
    auth_method: str | None = None
    status: int | None = None
    error: str | None = None
    fault: str | None = None

    @property
    def params(self) -> dict[str, str]:
        """The form as a dict (the last value of a repeated parameter wins)."""
        return dict(self.form)


@dataclass
class AuthorizationServerConfig:
    """Everything the authorization server accepts, keeps and records.

    Settings:
        clients: client_id -> its [`ClientRegistration`][]; add them with
            [`register`][aiohttp_auth.testing.oauth2.AuthorizationServerConfig.register].
        users: username -> password, for the password grant and the user the
            authorization and device endpoints approve as.
        issuer: the issuer identifier (RFC 8414 §2): the server's root URL,
            e.g. ``http://127.0.0.1:8080``, as the endpoints' URLs are built
            from it. None (the default) means the origin each request reached,
            so the metadata is right for any ``LocalServer``; the
            ``oauth2_server`` fixture sets it once the port is known.
        access_token_lifetime: seconds.
        refresh_token_lifetime: seconds, or None for refresh tokens that do
            not expire.
        rotate_refresh_tokens: issue a new refresh token on every refresh and
            invalidate the old one (RFC 6749 §10.4, RFC 9700 §4.14.2).
        revoke_grant_on_refresh_reuse: when a rotated-out refresh token is
            used again, also revoke every token of its grant (RFC 9700
            §4.14.2: the server cannot tell the client from an attacker).
        client_credentials_refresh_tokens: issue refresh tokens for the client
            credentials grant (RFC 6749 §4.4.3 says it SHOULD NOT).
        trusted_issuers: issuer -> public JWK or JWK Set, whose JWTs the
            JWT bearer grant (RFC 7523 §2.1) and token exchange (RFC 8693,
            ``subject_token_type`` jwt) accept.
        exchange_audiences: the ``audience`` / ``resource`` values token
            exchange accepts (RFC 8693 §2.1); None for any.
        authorization_code_lifetime: seconds (RFC 6749 §4.1.2 recommends at most 600).
        pkce_methods: the ``code_challenge_method`` values accepted (RFC 7636 §4.2).
        require_pkce: refuse an authorization request without a code challenge.
        authorize_as: the user ``/authorize`` and ``/device`` approve as; None
            for the first of *users*.
        authorize_decision: ``"approve"``, or ``"deny"`` to answer
            ``access_denied`` (RFC 6749 §4.1.2.1).
        device_code_lifetime: seconds (RFC 8628 §3.2 ``expires_in``).
        device_poll_interval: seconds between polls (RFC 8628 §3.2 ``interval``).
        realm: the ``realm`` of the server's challenges (Bearer at the
            resource, Basic at the token endpoint).
        resource_scopes: path below ``/resource/`` -> the scope it needs
            (a path matches itself and everything below it).
        token_type: the ``token_type`` answered; set ``"bearer"`` to imitate
            providers that send it lower-case (RFC 6749 §7.1: case-insensitive).
        send_expires_in: send ``expires_in`` (RFC 6749 §5.1 only RECOMMENDS it).
        clock: epoch seconds; tests pass a fake one to age tokens.

    State (the server's; read it, change it to set up a case):
        tokens: token value -> [`IssuedToken`][aiohttp_auth.testing.oauth2.IssuedToken].
        authorization_codes: code -> its authorization request.
        device_authorizations: device_code -> its state.
        client_assertion_ids: (client_id, jti) of the client assertions
            accepted -> their ``exp``, to refuse replays (RFC 7523 §3).
        signing_key: the private JWK the ID tokens are signed with, made on
            first use.
        faults: the faults planned, consumed one per matching request in order
            (see [`inject`][aiohttp_auth.testing.oauth2.AuthorizationServerConfig.inject]).

    Records (cleared by [`reset`][aiohttp_auth.testing.oauth2.AuthorizationServerConfig.reset]):
        token_calls: calls of the token endpoint per grant type.
        calls: every call of a form endpoint, with its form and Authorization;
            ``token_requests`` lists those of ``/token``.
        issued: every token issued, in order.
        refreshes: successful refresh grants.
        revocations: tokens revoked through ``/revoke``.
        introspections: calls of ``/introspect`` answered 200.
        resource_requests: requests to ``/resource/...`` per access token
            value ("" for requests without one).
        requests: every request received, whatever its route.
    """

    clients: dict[str, ClientRegistration] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict, repr=False)
    issuer: str | None = None
    access_token_lifetime: float = 3600.0
    refresh_token_lifetime: float | None = None
    rotate_refresh_tokens: bool = False
    revoke_grant_on_refresh_reuse: bool = True
    client_credentials_refresh_tokens: bool = False
    trusted_issuers: dict[str, Mapping[str, Any]] = field(default_factory=dict, repr=False)
    exchange_audiences: frozenset[str] | None = None
    authorization_code_lifetime: float = 60.0
    pkce_methods: tuple[str, ...] = ("S256",)
    require_pkce: bool = True
    authorize_as: str | None = None
    authorize_decision: Literal["approve", "deny"] = "approve"
    device_code_lifetime: float = 600.0
    device_poll_interval: int = 5
    realm: str = "aiohttp-auth testing"
    resource_scopes: dict[str, str] = field(default_factory=lambda: {"admin": "admin"})
    token_type: str = "Bearer"  # noqa: S105 - a token type name
    send_expires_in: bool = True
    clock: Callable[[], float] = field(default=time.time, repr=False)

    tokens: dict[str, IssuedToken] = field(default_factory=dict, repr=False)
    authorization_codes: dict[str, AuthorizationCode] = field(default_factory=dict, repr=False)
    device_authorizations: dict[str, DeviceAuthorization] = field(default_factory=dict, repr=False)
    faults: deque[Fault] = field(default_factory=deque)
    client_assertion_ids: dict[tuple[str, str], float] = field(default_factory=dict, repr=False)
    signing_key: dict[str, Any] | None = field(default=None, repr=False)

    token_calls: Counter[str] = field(default_factory=Counter)
    calls: list[EndpointCall] = field(default_factory=list, repr=False)
    issued: list[IssuedToken] = field(default_factory=list, repr=False)
    refreshes: int = 0
    revocations: list[IssuedToken] = field(default_factory=list, repr=False)
    introspections: int = 0
    resource_requests: Counter[str] = field(default_factory=Counter, repr=False)
    requests: list[RecordedRequest] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check the settings; ``authorization_server_app`` calls it too.

        Raises:
            ConfigurationError: a lifetime or poll interval that is not
                positive, a PKCE method other than ``S256`` and ``plain``, or
                an ``authorize_decision`` other than ``approve`` and ``deny``.
        """
        lifetimes = {
            "access_token_lifetime": self.access_token_lifetime,
            "refresh_token_lifetime": self.refresh_token_lifetime,
            "authorization_code_lifetime": self.authorization_code_lifetime,
            "device_code_lifetime": self.device_code_lifetime,
            "device_poll_interval": self.device_poll_interval,
        }
        for name, value in lifetimes.items():
            if value is not None and value <= 0:
                raise ConfigurationError(f"AuthorizationServerConfig.{name} must be positive")
        if not set(self.pkce_methods) <= {"S256", "plain"}:
            raise ConfigurationError(
                f"AuthorizationServerConfig.pkce_methods: {self.pkce_methods!r}; "
                "use S256 and/or plain (RFC 7636 §4.2)"
            )
        if self.authorize_decision not in ("approve", "deny"):
            raise ConfigurationError(
                "AuthorizationServerConfig.authorize_decision: use 'approve' or 'deny'"
            )

    def register(
        self, client_id: str, secret: str | None = None, **settings: Any
    ) -> ClientRegistration:
        """Register (or replace) a client; *settings* are those of ``ClientRegistration``.

        Returns:
            The registration, to read back or change.
        """
        registration = ClientRegistration(client_id, secret, **settings)
        self.clients[client_id] = registration
        return registration

    @property
    def token_requests(self) -> list[EndpointCall]:
        """The calls of the token endpoint, in order."""
        return [call for call in self.calls if call.endpoint == "/token"]

    def issuer_for(self, request: web.Request) -> str:
        """Return the issuer identifier: *issuer*, or where *request* reached the server.

        That is the origin, followed by the path the server is mounted at
        when it runs as a sub-application.
        """
        if self.issuer is not None:
            return self.issuer.rstrip("/")
        return str(request.url.origin()) + mount_path(request)

    def inject(self, *faults: Fault) -> None:
        """Plan *faults* for the next requests to their endpoints, one request each."""
        self.faults.extend(faults)

    def take_fault(self, path: str) -> Fault | None:
        """Remove and return the first planned fault for *path*, if any."""
        # A snapshot: a test thread may plan faults while the server thread looks.
        for fault in list(self.faults):
            if fault.endpoint == path:
                self.faults.remove(fault)
                return fault
        return None

    def approving_user(self) -> str | None:
        """Return the user ``/authorize`` and ``/device`` approve as, or None."""
        if self.authorize_as is not None:
            return self.authorize_as
        return next(iter(self.users), None)

    def active_tokens(self, kind: str = "access_token") -> list[IssuedToken]:
        """Return the tokens of *kind* that are valid now, oldest first."""
        now = self.clock()
        tokens = list(self.tokens.values())  # the server thread may be adding some
        return [t for t in tokens if t.kind == kind and t.active(now)]

    def reset(self) -> None:
        """Clear the records; the settings, tokens and planned faults stay."""
        self.token_calls.clear()
        self.calls.clear()
        self.issued.clear()
        self.refreshes = 0
        self.revocations.clear()
        self.introspections = 0
        self.resource_requests.clear()
        self.requests.clear()


CONFIG: Final = web.AppKey("oauth2_server_config", AuthorizationServerConfig)
"""The key of the configuration in the application."""
