"""Extension grants (RFC 6749 §4.5): JWT bearer (RFC 7523) and token exchange (RFC 8693).

Both present a credential obtained elsewhere (a signed JWT, a token from
another issuer) and get an access token for it. Like every grant here they
are sans-IO: the clock and the assertion's ``jti`` are parameters, and a
callable credential source is a plain synchronous function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, cast

from .._redact import redacted
from ..errors import AuthError, ConfigurationError, CredentialError
from .client_auth import ClientAuth, ClientAuthMethod
from .grants_base import BaseGrant, ScopeArg
from .jwt import JWTSigner, PrivateKey, assertion_claims

__all__ = ["JWTBearer", "TokenExchange"]

ACCESS_TOKEN_TYPE: Final = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105
"""RFC 8693 §3 token type of an OAuth access token."""


def _check_text(value: object, argument: str) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigurationError(f"{argument}: expected a non-empty string")


def _check_source(value: object, argument: str) -> None:
    if value is not None and not callable(value) and (not isinstance(value, str) or not value):
        raise ConfigurationError(
            f"{argument}: expected a non-empty string or a callable returning one"
        )


def _call_source(source: Callable[..., object], argument: str, *args: Any) -> str:
    """Call a credential callable; wrap its failures in CredentialError."""
    name = getattr(source, "__qualname__", type(source).__name__)
    try:
        value = source(*args)
    except AuthError:
        raise
    except Exception as exc:
        raise CredentialError(
            f"the {argument} callable {name} raised {type(exc).__name__}; fix the callable "
            "or what it reads"
        ) from exc
    if not isinstance(value, str) or not value:
        got = "an empty string" if value == "" else type(value).__name__
        raise CredentialError(
            f"the {argument} callable {name} returned {got}, not a non-empty string"
        )
    return value


def _shown_source(value: str | Callable[..., str] | None) -> str:
    if value is None or isinstance(value, str):
        return redacted(value)
    return f"<callable {getattr(value, '__qualname__', type(value).__name__)}>"


class JWTBearer(BaseGrant):
    """The JWT bearer grant (RFC 7523 §2.1): trade a signed JWT for an access token.

    Give either a ready ``assertion`` (a string, or a callable of the current
    time returning a fresh one), or a ``private_key`` to build and sign one
    per request: ``iss`` = *issuer*, ``sub`` = *subject*, ``aud`` =
    *audience*, ``iat`` = now, ``exp`` = now + 60 s, a fresh ``jti``, plus
    *extra_claims* (e.g. Google's ``scope`` claim).

    Client authentication is independent of the assertion: by default
    ``client_secret_basic`` with a ``client_secret``, else ``none``; for
    ``private_key_jwt`` pass a [`ClientAuth`][aiohttp_auth.oauth2.client_auth.ClientAuth]
    from [`make_client_auth`][aiohttp_auth.oauth2.client_auth.make_client_auth].

    Args:
        token_url: the token endpoint.
        client_id: the client identifier.
        client_secret: the client secret, if the client authenticates with one.
        assertion: a JWT, or a callable ``(now) -> JWT``.
        issuer: ``iss`` of built assertions; by default *client_id*.
        subject: ``sub`` of built assertions; by default *issuer*.
        audience: ``aud`` of built assertions; by default *token_url*.
        private_key: the key that signs built assertions: PEM or JWK.
        key_id: ``kid`` header of built assertions.
        signing_alg: their algorithm; by default the key's (RS256 for RSA).
        extra_claims: more claims for built assertions.
        scope: the scope to request.
        client_auth: the client authentication method or object.
        extra_params: more form parameters.
        allow_http: allow plain http to non-loopback hosts.

    Raises:
        ConfigurationError: neither or both of *assertion* and *private_key*;
            key options with a ready assertion; a bad key; see also
            [`BaseGrant`][aiohttp_auth.oauth2.grants_base.BaseGrant].
    """

    grant_type = "urn:ietf:params:oauth:grant-type:jwt-bearer"

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str | None = None,
        *,
        assertion: str | Callable[[float], str] | None = None,
        issuer: str | None = None,
        subject: str | None = None,
        audience: str | None = None,
        private_key: PrivateKey | None = None,
        key_id: str | None = None,
        signing_alg: str | None = None,
        extra_claims: Mapping[str, Any] | None = None,
        scope: ScopeArg = None,
        client_auth: ClientAuthMethod | ClientAuth | None = None,
        extra_params: Mapping[str, str] | None = None,
        allow_http: bool = False,
    ) -> None:
        super().__init__(
            token_url,
            client_id,
            client_secret,
            scope=scope,
            client_auth=client_auth,
            extra_params=extra_params,
            allow_http=allow_http,
        )
        self._assertion = assertion
        self._signer: JWTSigner | None = None
        options = {"issuer": issuer, "subject": subject, "audience": audience}
        for argument, value in (*options.items(), ("key_id", key_id)):
            _check_text(value, argument)
        if assertion is not None:
            _check_source(assertion, "assertion")
            given = {**options, "private_key": private_key, "key_id": key_id}
            given |= {"signing_alg": signing_alg, "extra_claims": extra_claims}
            if names := [name for name, value in given.items() if value is not None]:
                raise ConfigurationError(
                    f"{', '.join(names)}: build an assertion, but assertion= is given too; "
                    "pass one or the other"
                )
            return
        if private_key is None:
            raise ConfigurationError(
                "JWTBearer needs assertion= (a JWT or a callable returning one) or "
                "private_key= to sign one (RFC 7523 §2.1)"
            )
        if extra_claims is not None and not isinstance(extra_claims, Mapping):
            raise ConfigurationError("extra_claims: expected a mapping of claim names to values")
        self._signer = JWTSigner.from_private_key(
            private_key, algorithm=signing_alg, key_id=key_id
        )
        self._issuer = issuer or client_id
        self._subject = subject or self._issuer
        self._audience = audience or self.token_url
        self._extra_claims = dict(extra_claims or {})

    def grant_params(self, *, now: float, jti: str) -> dict[str, str]:
        """Return the ``assertion`` parameter: given, from the callable, or signed now.

        Raises:
            CredentialError: the assertion callable raised or returned no string.
        """
        if self._signer is None:
            if isinstance(self._assertion, str):
                return {"assertion": self._assertion}
            source = cast("Callable[[float], str]", self._assertion)
            return {"assertion": _call_source(source, "assertion", now)}
        claims = assertion_claims(
            issuer=self._issuer,
            subject=self._subject,
            audience=self._audience,
            now=now,
            # A client assertion in the same request may carry *jti*; each JWT
            # needs its own (RFC 7519 §4.1.7).
            jti=f"{jti}.grant",
        )
        return {"assertion": self._signer.sign({**self._extra_claims, **claims})}

    def _repr_fields(self) -> dict[str, object]:
        if self._signer is None:
            return {"assertion": _shown_source(self._assertion)}
        return {
            "issuer": repr(self._issuer),
            "subject": repr(self._subject),
            "signing_alg": repr(self._signer.algorithm),
        }


class TokenExchange(BaseGrant):
    """The token exchange grant (RFC 8693 §2.1): trade a token for another.

    Args:
        token_url: the token endpoint.
        client_id: the client identifier.
        client_secret: the client secret, if the client authenticates with one.
        subject_token: the token to exchange, or a callable returning it
            (called for every request, e.g. to read a projected file).
        subject_token_type: its type (RFC 8693 §3).
        actor_token: the acting party's token, or a callable returning it.
        actor_token_type: its type; required with *actor_token*.
        resource: the URI of the service the token is for (RFC 8707).
        audience: the logical name of that service (RFC 8693 §2.1); this is a
            request parameter, not a client assertion's ``aud``.
        requested_token_type: the type of token wanted.
        scope: the scope to request.
        client_auth: the client authentication method or object.
        private_key: for ``private_key_jwt`` client authentication.
        key_id: ``kid`` of client assertions.
        signing_alg: JWS algorithm of client assertions.
        extra_params: more form parameters.
        allow_http: allow plain http to non-loopback hosts.

    Raises:
        ConfigurationError: a missing subject token, an actor token without
            its type (or the reverse); see also
            [`BaseGrant`][aiohttp_auth.oauth2.grants_base.BaseGrant].
    """

    grant_type = "urn:ietf:params:oauth:grant-type:token-exchange"

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str | None = None,
        *,
        subject_token: str | Callable[[], str],
        subject_token_type: str = ACCESS_TOKEN_TYPE,
        actor_token: str | Callable[[], str] | None = None,
        actor_token_type: str | None = None,
        resource: str | None = None,
        audience: str | None = None,
        requested_token_type: str | None = None,
        scope: ScopeArg = None,
        client_auth: ClientAuthMethod | ClientAuth | None = None,
        private_key: PrivateKey | None = None,
        key_id: str | None = None,
        signing_alg: str | None = None,
        extra_params: Mapping[str, str] | None = None,
        allow_http: bool = False,
    ) -> None:
        if subject_token is None:
            raise ConfigurationError("subject_token: the token to exchange is required")
        _check_source(subject_token, "subject_token")
        _check_source(actor_token, "actor_token")
        fixed = {
            "subject_token_type": subject_token_type,
            "actor_token_type": actor_token_type,
            "resource": resource,
            "audience": audience,
            "requested_token_type": requested_token_type,
        }
        for argument, value in fixed.items():
            _check_text(value, argument)
        if subject_token_type is None:
            raise ConfigurationError("subject_token_type: required (RFC 8693 §2.1)")
        if (actor_token is None) != (actor_token_type is None):
            raise ConfigurationError(
                "actor_token_type: RFC 8693 §2.1 requires it exactly when actor_token is "
                "given; pass both or neither"
            )
        super().__init__(
            token_url,
            client_id,
            client_secret,
            scope=scope,
            client_auth=client_auth,
            private_key=private_key,
            key_id=key_id,
            signing_alg=signing_alg,
            extra_params=extra_params,
            allow_http=allow_http,
        )
        self._subject_token = subject_token
        self._actor_token = actor_token
        self._fixed = {name: value for name, value in fixed.items() if value is not None}

    def grant_params(self, *, now: float, jti: str) -> dict[str, str]:
        """Return the subject (and actor) token and the fixed RFC 8693 parameters.

        Raises:
            CredentialError: a token callable raised or returned no string.
        """
        params = {"subject_token": _token_from(self._subject_token, "subject_token")}
        if self._actor_token is not None:
            params["actor_token"] = _token_from(self._actor_token, "actor_token")
        params.update(self._fixed)
        return params

    def _repr_fields(self) -> dict[str, object]:
        return {
            "subject_token": _shown_source(self._subject_token),
            "subject_token_type": repr(self._fixed["subject_token_type"]),
            "actor_token": _shown_source(self._actor_token),
        }


def _token_from(source: str | Callable[[], str], argument: str) -> str:
    return source if isinstance(source, str) else _call_source(source, argument)
