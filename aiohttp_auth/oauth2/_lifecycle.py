"""A token's life: obtain, reuse, refresh before expiry, replace when rejected.

[`TokenLifecycle`][] is what [`OAuth2Middleware`][aiohttp_auth.OAuth2Middleware]
asks for a token on every request. It keeps the token in a
[`TokenStore`][aiohttp_auth.stores.base.TokenStore] under one key and follows
the store protocol's pattern: reuse the token last found usable (no store read
per request), else read the store without the lock; when the token is missing,
about to expire or rejected, run one *flight* per key
([`SingleFlight`][aiohttp_auth._single_flight.SingleFlight]: every
concurrent caller in this process shares it, and cancelling a caller does not
cancel it), which takes the store's lock (other processes sharing the store
wait there), reads the store again, and calls the token endpoint only if the
token it finds still needs replacing.

Nothing is lost on the way: a new token is written to the store before anyone
uses it, so a rotated refresh token (RFC 9700 §4.14.2) is kept even if the
request that caused the refresh is cancelled; a failed token request stores
nothing, so the previous token, and its refresh token, stay.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Callable
from dataclasses import replace
from typing import Final

from aiohttp import ClientSession

from .._redact import logger, safe_url
from .._single_flight import SingleFlight
from ..errors import ConfigurationError, OAuth2Error
from ..stores import MemoryTokenStore, TokenStore, validate_key
from .endpoint import request_token
from .grants_base import Grant
from .protocol import TokenRequest
from .retry import RetryPolicy
from .token import Token

__all__ = ["LEEWAY_JITTER", "TokenLifecycle", "default_key"]

LEEWAY_JITTER: Final = 0.1
"""Each lifecycle refreshes up to this fraction of its leeway earlier, chosen at random
once, so that processes sharing a store do not all try to refresh at the same instant."""


def default_key(grant: Grant) -> str:
    """Name the token of *grant* in a store: grant type, client, token endpoint, scope.

    Two middlewares with equal keys share one token, in one process or, through
    a shared store, across processes.
    """
    grant_type = getattr(grant, "grant_type", None) or type(grant).__name__
    key = f"{grant_type}:{grant.client_id}@{safe_url(grant.token_url)}"
    scope = getattr(grant, "scope", None)
    return f"{key} scope={scope}" if isinstance(scope, str) and scope else key


def _check_leeway(leeway: object) -> float:
    if (
        isinstance(leeway, bool)
        or not isinstance(leeway, (int, float))
        or not math.isfinite(leeway)
        or leeway < 0
    ):
        raise ConfigurationError(
            f"leeway: expected seconds before expiry, a finite number >= 0, got {leeway!r}"
        )
    return float(leeway)


class TokenLifecycle:
    """Obtain, keep and replace the token of one grant (see the module docstring).

    Args:
        grant: how to obtain and refresh tokens.
        store: where the token lives; a new ``MemoryTokenStore`` by default.
        key: the token's name in *store*; [`default_key`][] by default.
        leeway: refresh this many seconds before expiry (at most half the
            token's lifetime, see ``Token.refresh_at``).
        retry: how token requests are retried.
        clock: the current time in epoch seconds.

    Raises:
        ConfigurationError: a bad grant, store, key or leeway.
    """

    def __init__(
        self,
        grant: Grant,
        *,
        store: TokenStore | None = None,
        key: str | None = None,
        leeway: float = 30.0,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float],
    ) -> None:
        if not isinstance(grant, Grant):
            raise ConfigurationError(
                f"grant: expected a grant such as ClientCredentials(...), got "
                f"{type(grant).__name__}"
            )
        if store is not None and not isinstance(store, TokenStore):
            raise ConfigurationError(
                f"store: expected a TokenStore such as MemoryTokenStore(), got "
                f"{type(store).__name__}"
            )
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise ConfigurationError(f"retry: expected a RetryPolicy, got {type(retry).__name__}")
        self.grant = grant
        self.store: TokenStore = store if store is not None else MemoryTokenStore()
        self.key = validate_key(key if key is not None else default_key(grant))
        self.leeway = _check_leeway(leeway)
        self.retry = retry if retry is not None else RetryPolicy()
        self._clock = clock
        self._jittered_leeway = self.leeway * (1.0 + LEEWAY_JITTER * random.random())  # noqa: S311
        self._flights: SingleFlight[str, Token] = SingleFlight()
        # The access token a resource server last refused: never sent again.
        self._rejected: str | None = None
        # The token last found usable and when it stops being so: the per-request
        # check is then one clock read.
        self._checked: Token | None = None
        self._refresh_at = 0.0
        # A RefreshToken grant cannot start over: its own refresh token is the
        # oldest, already rotated out or revoked when a newer one is refused.
        self._can_start_over = getattr(grant, "grant_type", None) != "refresh_token"

    def usable(self, token: Token) -> bool:
        """Tell whether *token* may be sent now: not refused, not about to expire."""
        if token is not self._checked:
            if token.access_token == self._rejected:
                return False
            refresh_at = token.refresh_at(self._jittered_leeway)
            self._checked = token
            self._refresh_at = math.inf if refresh_at is None else refresh_at
        return self._clock() < self._refresh_at

    async def current(self, session: ClientSession) -> Token:
        """Return a usable token: the last one, the stored one, or a new one.

        The token last found usable is reused without reading the store (for
        a Redis store, that saves a round trip per request); the store is read
        once it needs replacing, and another process may have replaced it there.
        """
        token = self._checked
        if token is not None and self._clock() < self._refresh_at:
            return token
        token = await self.store.get(self.key)
        if token is not None and self.usable(token):
            return token
        return await self.renew(session)

    def reject(self, token: Token) -> None:
        """Remember that a resource server refused *token*, so it is not sent again."""
        self._rejected = token.access_token
        self._checked = None

    async def renew(self, session: ClientSession, *, rejected: Token | None = None) -> Token:
        """Return a new token unless another caller already stored a usable one.

        Args:
            session: the session for the token request.
            rejected: a token a resource server refused (a 401): the result
                is another token, unless the server issues this one again.

        Raises:
            TokenError: the token endpoint gave no token; the store is unchanged.
            StoreError: the store failed.
        """
        if rejected is not None:
            self.reject(rejected)
        token = await self._flights.run(self.key, lambda: self._replace(session))
        if rejected is not None and token.access_token == rejected.access_token:
            # This caller joined a flight that had read the store before the
            # rejection: one more flight, which will not return it.
            token = await self._flights.run(self.key, lambda: self._replace(session))
        return token

    async def _replace(self, session: ClientSession) -> Token:
        async with self.store.lock(self.key):
            # Another process (or a flight of another lifecycle on this store)
            # may have replaced the token while this one waited for the lock.
            current = await self.store.get(self.key)
            if current is not None and self.usable(current):
                return current
            token = await self._obtain(session, current)
            # Stored before anyone uses it: a rotated refresh token is never lost.
            await self.store.set(self.key, token)
        if token.access_token == self._rejected:
            # The server issued the refused token again (some cache tokens per
            # client): sending it is all that can be done, so stop avoiding it.
            self._rejected = None
        logger.debug("OAuth2: stored a new token under key %r", self.key)
        return token

    async def _obtain(self, session: ClientSession, current: Token | None) -> Token:
        refresh_token = current.refresh_token if current is not None else None
        if refresh_token is not None:
            refresh = self.grant.refresh_request(refresh_token, now=self._clock(), jti=_jti())
            try:
                token = await self._send(session, refresh)
            except OAuth2Error as exc:
                if exc.error != "invalid_grant" or not self._can_start_over:
                    raise
                logger.info(
                    "OAuth2: the refresh token for key %r was refused (invalid_grant); "
                    "obtaining a new token with the grant",
                    self.key,
                )
            else:
                # RFC 6749 §6: without a new refresh token, the old one stays valid.
                return token.with_previous(current)
        request = self.grant.token_request(now=self._clock(), jti=_jti())
        token = await self._send(session, request)
        sent = request.form.get("refresh_token")
        if request.grant_type == "refresh_token" and sent and token.refresh_token is None:
            # A RefreshToken grant's first request is a refresh too: without a
            # new refresh token, the one sent stays valid (RFC 6749 §6).
            return replace(token, refresh_token=sent)
        return token

    async def _send(self, session: ClientSession, token_request: TokenRequest) -> Token:
        try:
            return await request_token(session, token_request, now=self._clock, retry=self.retry)
        except OAuth2Error as exc:
            if exc.error == "invalid_grant" and not self._can_start_over:
                raise self._reauthenticate(exc) from exc
            raise

    def _reauthenticate(self, exc: OAuth2Error) -> OAuth2Error:
        return OAuth2Error(
            exc.error,
            exc.description,
            exc.uri,
            message=(
                f"The token endpoint {safe_url(self.grant.token_url)} refused the refresh "
                f"token of client {self.grant.client_id!r} (invalid_grant): it has expired "
                "or was revoked. Re-authenticate to get a new refresh token, then pass it "
                f"as RefreshToken(refresh_token=...) or store it under key {self.key!r}."
            ),
        )


def _jti() -> str:
    # RFC 7519 §4.1.7: unique per JWT; JWT assertions in the request use it.
    return secrets.token_urlsafe(16)
