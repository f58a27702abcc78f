"""[`OAuth2Middleware`][]: OAuth 2 access tokens on every request, refreshed for you.

Add it to a session and forget about it::

    grant = ClientCredentials("https://idp.example/oauth2/token", "app", "secret")
    async with aiohttp.ClientSession(middlewares=(OAuth2Middleware(grant),)) as session:
        await session.get("https://api.example/things")

Per request it takes a usable token from its
``TokenLifecycle`` (obtaining or
refreshing one first if need be, one token request for any number of
concurrent requests), sends it as ``Authorization: Bearer ...`` (RFC 6750
§2.1), and on a 401 replaces the token and resends the request once. Token
requests go through ``request.session`` without middlewares, so the middleware
may sit on the very session that reaches the token endpoint: it neither
recurses nor deadlocks there, unlike the refresh examples of aiohttp's
client middleware cookbook.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import ClientRequest, ClientResponse, ClientSession, hdrs
from aiohttp.client_middlewares import ClientHandlerType

from .._middleware import AuthMiddleware, body_is_replayable
from .._origins import OriginsArg
from .._redact import logger, redacted_repr, safe_url
from ..errors import ConfigurationError, TokenError
from ..stores import TokenStore
from ._lifecycle import TokenLifecycle
from .grants_base import Grant
from .protocol import bearer_challenge_error
from .retry import RetryPolicy
from .token import Token

__all__ = ["OAuth2Middleware"]


def _authorization(token: Token) -> str:
    """Build the Authorization value for *token* (RFC 6750 §2.1; RFC 6749 §7.1)."""
    value = f"{token.token_type} {token.access_token}"
    # A CR or LF from a hostile token endpoint would split the header.
    if not value.isprintable():
        raise TokenError(
            "The token endpoint issued a token with control characters, which cannot go "
            "in an Authorization header: check the authorization server"
        )
    return value


class OAuth2Middleware(AuthMiddleware):
    """Authenticate requests with OAuth 2 access tokens from *grant*, kept fresh.

    Args:
        grant: how to obtain tokens, e.g. ``ClientCredentials(...)``.
        store: where to keep the token; a new ``MemoryTokenStore`` by default.
            Share a store (and key) between middlewares or processes to share
            the token and its refreshes.
        key: the token's name in the store; by default built from the grant
            type, client id, token endpoint and scope. Pass one per user when
            several users' tokens (password grant) share a store.
        leeway: refresh this many seconds before expiry, never more than half
            the token's lifetime. A token without ``expires_in`` is used until
            a resource server answers 401.
        origins: where the token may go (see
            [`AuthMiddleware`][aiohttp_auth._middleware.AuthMiddleware]). The
            token endpoint gets none unless it is listed.
        dpop: reserved for DPoP (RFC 9449); only None is accepted for now.
        allow_http: send the token over plain http to non-loopback hosts.
        retry: how token requests are retried; ``RetryPolicy()`` by default.
        clock: the current time in epoch seconds.

    Raises:
        ConfigurationError: a bad argument.
    """

    def __init__(
        self,
        grant: Grant,
        *,
        store: TokenStore | None = None,
        key: str | None = None,
        leeway: float = 30.0,
        origins: OriginsArg = None,
        dpop: object = None,
        allow_http: bool = False,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(origins=origins, allow_http=allow_http)
        if dpop is not None:
            raise ConfigurationError(
                "dpop: DPoP is not supported yet (RFC 9449); pass dpop=None and use bearer tokens"
            )
        self._tokens = TokenLifecycle(
            grant, store=store, key=key, leeway=leeway, retry=retry, clock=clock
        )
        # The header of the token last sent, built once per token.
        self._sent: tuple[Token, str] | None = None

    @property
    def grant(self) -> Grant:
        """The grant tokens are obtained with."""
        return self._tokens.grant

    @property
    def store(self) -> TokenStore:
        """The store the token is kept in."""
        return self._tokens.store

    @property
    def key(self) -> str:
        """The token's name in the store."""
        return self._tokens.key

    async def get_token(self, session: ClientSession, *, force: bool = False) -> Token:
        """Return a usable token now, obtaining or refreshing it if need be.

        Args:
            session: the session to reach the token endpoint with.
            force: obtain a new token even if the stored one is still usable.

        Raises:
            TokenError: no token could be obtained (``OAuth2Error`` for an
                OAuth error answer); the store keeps what it had.
            StoreError: the store failed.
        """
        if not force:
            return await self._tokens.current(session)
        stored = await self.store.get(self.key)
        return await self._tokens.renew(session, rejected=stored)

    def _header(self, token: Token) -> str:
        sent = self._sent
        if sent is None or sent[0] is not token:
            sent = self._sent = (token, _authorization(token))
        return sent[1]

    async def authenticate(
        self, request: ClientRequest, handler: ClientHandlerType
    ) -> ClientResponse:
        """Send *request* with a token; on a 401, replace the token and resend it once."""
        token = await self._tokens.current(request.session)
        request.headers[hdrs.AUTHORIZATION] = self._header(token)
        response = await handler(request)
        if response.status != 401:
            return response
        challenges = response.headers.getall(hdrs.WWW_AUTHENTICATE, ())
        if bearer_challenge_error(challenges, scheme=token.token_type) == "insufficient_scope":
            # RFC 6750 §3.1: a new token of the same grant has the same scope.
            return response
        logger.debug("OAuth2Middleware: 401 from %s; replacing the token", safe_url(request.url))
        if not body_is_replayable(request):
            # No resend is possible; the next request gets a new token.
            self._tokens.reject(token)
            return await self.retry_once(request, handler, response)
        # Free the connection first: with a connection limit, the token request
        # could otherwise wait for the very connection this response holds.
        response.release()
        fresh = await self._tokens.renew(request.session, rejected=token)
        request.headers[hdrs.AUTHORIZATION] = self._header(fresh)
        return await self.retry_once(request, handler, response)

    def __repr__(self) -> str:
        return redacted_repr(
            self,
            grant=repr(self._tokens.grant),
            key=repr(self._tokens.key),
            leeway=self._tokens.leeway,
            origins=self.scope.describe(),
        )
