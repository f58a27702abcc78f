"""Static credentials: Bearer tokens (RFC 6750), Basic (RFC 7617) and API keys.

Each middleware adds its credential only to requests in its origin scope and
refuses plain ``http://`` to non-loopback hosts (see
[`AuthMiddleware`][aiohttp_auth._middleware.AuthMiddleware]). Header values are built
once at construction, so the per-request cost is one header assignment.
"""

from __future__ import annotations

import base64
import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Final, TypeAlias, cast

from aiohttp import ClientRequest, ClientResponse, hdrs
from aiohttp.client_middlewares import ClientHandlerType
from yarl import URL

from ._middleware import AuthMiddleware
from ._origins import OriginsArg
from ._redact import redacted, redacted_repr
from .errors import AuthError, ConfigurationError, CredentialError

__all__ = ["ApiKeyMiddleware", "BasicAuthMiddleware", "BearerAuthMiddleware", "TokenSource"]

TokenSource: TypeAlias = str | Callable[[], str | Awaitable[str]]
"""A bearer token, or a callable (sync or async) returning one, called per request."""

# RFC 9110 §5.6.2 token: header field names and auth-scheme names.
_TOKEN_RE: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Control characters and whitespace would split or corrupt the header line.
_UNSAFE_RE: Final = re.compile(r"[\x00-\x20\x7f]")
# RFC 7617 §2: user-id and password must not contain control characters.
_CTL_RE: Final = re.compile(r"[\x00-\x1f\x7f]")
# No token callable returns this object, so its first result is always validated.
_NOT_VALIDATED: Final = object()


def _check_token_name(value: object, argument: str) -> str:
    if not isinstance(value, str) or not _TOKEN_RE.fullmatch(value):
        raise ConfigurationError(
            f"{argument}: expected an HTTP token such as 'Bearer' or 'X-API-Key' "
            f"(letters, digits and !#$%&'*+-.^_`|~), got {value!r}"
        )
    return value


def _credential_problem(value: object, what: str) -> str | None:
    """Say what is wrong with *value* as a header credential, or None if nothing is."""
    if not isinstance(value, str):
        return f"expected a non-empty string for the {what}, got {type(value).__name__}"
    if not value:
        return f"the {what} is empty"
    if match := _UNSAFE_RE.search(value):
        kind = "whitespace" if match.group().isspace() else "a control character"
        return (
            f"the {what} contains {kind} at position {match.start()}; pass the bare "
            f"{what}, without a scheme prefix or a trailing newline"
        )
    return None


class BearerAuthMiddleware(AuthMiddleware):
    """Send ``Authorization: Bearer <token>`` (RFC 6750 §2.1) to the allowed origins.

    Args:
        token: the token, or a callable (sync or async) that returns it and is
            called for every request, e.g. to read a file a sidecar refreshes.
        scheme: the auth-scheme name; some APIs want ``token`` or ``Token``.
        origins: see [`AuthMiddleware`][aiohttp_auth._middleware.AuthMiddleware].
        allow_http: see [`AuthMiddleware`][aiohttp_auth._middleware.AuthMiddleware].

    Raises:
        ConfigurationError: the token is empty, not a string or callable, or
            contains whitespace; the scheme is not an HTTP token.
    """

    def __init__(
        self,
        token: TokenSource,
        *,
        scheme: str = "Bearer",
        origins: OriginsArg = None,
        allow_http: bool = False,
    ) -> None:
        super().__init__(origins=origins, allow_http=allow_http)
        self._prefix = _check_token_name(scheme, "scheme") + " "
        self._provider: Callable[[], str | Awaitable[str]] | None = None
        self._header: str | None = None
        self._last_token: object = _NOT_VALIDATED
        self._last_header = ""
        if isinstance(token, str):
            if problem := _credential_problem(token, "token"):
                raise ConfigurationError(f"token: {problem}")
            self._header = self._prefix + token
        elif callable(token):
            self._provider = token
        else:
            raise ConfigurationError(
                f"token: expected a string or a callable returning one, got {type(token).__name__}"
            )

    def _provider_name(self) -> str:
        return getattr(self._provider, "__qualname__", type(self._provider).__name__)

    async def _fetch_header(self) -> str:
        provider = cast("Callable[[], str | Awaitable[str]]", self._provider)
        try:
            token = provider()
            if not isinstance(token, str) and inspect.isawaitable(token):
                token = await token
        except AuthError:
            raise
        except Exception as exc:
            raise CredentialError(
                f"BearerAuthMiddleware: the token callable {self._provider_name()} raised "
                f"{type(exc).__name__}; fix the callable or what it reads"
            ) from exc
        # A callable usually hands back the same cached string: validate and
        # build the header only when it is a different object.
        if token is not self._last_token:
            problem = _credential_problem(token, "token")
            if problem is not None or not isinstance(token, str):
                raise CredentialError(
                    f"BearerAuthMiddleware: the token callable {self._provider_name()}: {problem}"
                )
            self._last_token = token
            self._last_header = self._prefix + token
        return self._last_header

    async def authenticate(
        self, request: ClientRequest, handler: ClientHandlerType
    ) -> ClientResponse:
        """Set the Authorization header and send the request."""
        header = self._header
        if header is None:
            header = await self._fetch_header()
        request.headers[hdrs.AUTHORIZATION] = header
        return await handler(request)

    def __repr__(self) -> str:
        if self._header is None:
            token = f"<callable {self._provider_name()}>"
        else:
            token = redacted(self._header[len(self._prefix) :])
        return redacted_repr(
            self, token=token, scheme=repr(self._prefix[:-1]), origins=self.scope.describe()
        )


class BasicAuthMiddleware(AuthMiddleware):
    """Send ``Authorization: Basic ...`` (RFC 7617) to the allowed origins.

    The replacement for aiohttp's deprecated ``BasicAuth`` / ``auth=`` (3.14),
    with origin scoping, so a redirect to another host never carries the password.

    Args:
        login: the user-id; must not contain ``:`` (RFC 7617 §2).
        password: the password; may be empty.
        encoding: how to encode ``login:password``; UTF-8 as RFC 7617 §2.1 advises.
        origins: see [`AuthMiddleware`][aiohttp_auth._middleware.AuthMiddleware].
        allow_http: see [`AuthMiddleware`][aiohttp_auth._middleware.AuthMiddleware].

    Raises:
        ConfigurationError: the login is empty or contains ``:``; either contains
            a control character; they cannot be encoded with *encoding*.
    """

    def __init__(
        self,
        login: str,
        password: str,
        *,
        encoding: str = "utf-8",
        origins: OriginsArg = None,
        allow_http: bool = False,
    ) -> None:
        super().__init__(origins=origins, allow_http=allow_http)
        for argument, value in (("login", login), ("password", password)):
            if not isinstance(value, str):
                raise ConfigurationError(
                    f"{argument}: expected a string, got {type(value).__name__}"
                )
            if _CTL_RE.search(value):
                raise ConfigurationError(
                    f"{argument}: contains a control character, which RFC 7617 §2 forbids"
                )
        if not login:
            raise ConfigurationError("login: is empty; pass the user name")
        if ":" in login:
            raise ConfigurationError(
                "login: contains ':', which Basic authentication uses to separate the "
                "login from the password (RFC 7617 §2); use another login"
            )
        try:
            raw = f"{login}:{password}".encode(encoding)
        except (UnicodeEncodeError, LookupError, TypeError) as exc:
            raise ConfigurationError(
                f"encoding: cannot encode the login and password with {encoding!r} "
                f"({type(exc).__name__}); use 'utf-8'"
            ) from None
        self._login = login
        self._password_length = len(password)
        self._header = "Basic " + base64.b64encode(raw).decode("ascii")

    async def authenticate(
        self, request: ClientRequest, handler: ClientHandlerType
    ) -> ClientResponse:
        """Set the Authorization header and send the request."""
        request.headers[hdrs.AUTHORIZATION] = self._header
        return await handler(request)

    def __repr__(self) -> str:
        return redacted_repr(
            self,
            login=repr(self._login),
            password=f"<redacted {self._password_length} chars>",
            origins=self.scope.describe(),
        )


class ApiKeyMiddleware(AuthMiddleware):
    """Send an API key in a header (``X-API-Key`` by default) or a query parameter.

    Args:
        key: the API key.
        header: the header to send it in; ignored when *query_param* is given.
        query_param: send the key as this query parameter instead of a header.
            Prefer headers: URLs end up in server logs, proxies and ``response.url``.
        origins: see [`AuthMiddleware`][aiohttp_auth._middleware.AuthMiddleware].
        allow_http: see [`AuthMiddleware`][aiohttp_auth._middleware.AuthMiddleware].

    Raises:
        ConfigurationError: the key is empty, not a string or contains
            whitespace; the header name is not an HTTP token; the query
            parameter name is empty.
    """

    def __init__(
        self,
        key: str,
        *,
        header: str = "X-API-Key",
        query_param: str | None = None,
        origins: OriginsArg = None,
        allow_http: bool = False,
    ) -> None:
        super().__init__(origins=origins, allow_http=allow_http)
        if problem := _credential_problem(key, "key"):
            raise ConfigurationError(f"key: {problem}")
        if query_param is not None and (not isinstance(query_param, str) or not query_param):
            raise ConfigurationError(
                f"query_param: expected a non-empty parameter name or None, got {query_param!r}"
            )
        self._key = key
        self._query_param = query_param
        self._header_name = _check_token_name(header, "header")
        # The encoded "name=key" pair, for URLs without a query (the common case):
        # building the URL from it is several times cheaper than update_query().
        self._query_string = (
            URL("/").with_query({query_param: key}).raw_query_string if query_param else ""
        )

    async def authenticate(
        self, request: ClientRequest, handler: ClientHandlerType
    ) -> ClientResponse:
        """Add the key to the request and send it."""
        if self._query_param is None:
            request.headers[self._header_name] = self._key
        else:
            url = request.url
            if url.raw_query_string:
                request.url = url.update_query({self._query_param: self._key})
            else:
                request.url = URL.build(
                    scheme=url.scheme,
                    authority=url.raw_authority,
                    path=url.raw_path,
                    query_string=self._query_string,
                    fragment=url.raw_fragment,
                    encoded=True,
                )
        return await handler(request)

    def __repr__(self) -> str:
        where = (
            f"query_param={self._query_param!r}"
            if self._query_param is not None
            else f"header={self._header_name!r}"
        )
        return (
            f"ApiKeyMiddleware(key={redacted(self._key)}, {where}, "
            f"origins={self.scope.describe()})"
        )
