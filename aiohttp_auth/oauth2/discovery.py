"""Authorization server discovery: RFC 8414 metadata and OpenID Connect Discovery 1.0.

Give an issuer identifier (``https://auth.example.com``) instead of endpoint
URLs, and the server's metadata document says where its token, revocation,
device authorization and authorization endpoints are and how clients may
authenticate there. The parts:

- [`metadata_urls`][]: where the document lives (RFC 8414 §3.1, OpenID
  Connect Discovery 1.0 §4), sans-IO;
- [`ServerMetadata.from_json`][]: parse and validate a document (RFC 8414
  §3.2, §3.3), sans-IO; above all, the document must name the very issuer it
  was fetched for, or it may come from an attacker (a mix-up attack);
- [`ServerMetadata.make_grant`][]: build a grant with the discovered
  endpoints and a client authentication method the server supports, sans-IO;
- [`discover`][] and [`grant_from_issuer`][]: the IO, one GET per candidate
  URL through the caller's session (no middleware, no redirect), bounded in
  time.

Typical use::

    async with aiohttp.ClientSession() as session:
        grant = await grant_from_issuer(
            session, "https://auth.example.com", ClientCredentials, "my-app", secret
        )
        async with session.get(api_url, middlewares=(OAuth2Middleware(grant),)) as resp:
            ...
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, TypeVar

import aiohttp
from aiohttp import ClientSession
from yarl import URL

from .._middleware import subrequest
from .._origins import is_secure_transport
from .._redact import logger, safe_url
from ..errors import ConfigurationError, TokenError
from .client_auth import ClientAuthMethod
from .grants_base import Grant

__all__ = [
    "DEFAULT_DISCOVERY_TIMEOUT",
    "MAX_METADATA_BYTES",
    "ServerMetadata",
    "discover",
    "grant_from_issuer",
    "metadata_urls",
]

OAUTH_SUFFIX: Final = "oauth-authorization-server"
"""RFC 8414 §3 well-known URI suffix."""
OPENID_SUFFIX: Final = "openid-configuration"
"""OpenID Connect Discovery 1.0 §4 well-known URI suffix."""

DEFAULT_DISCOVERY_TIMEOUT: Final = 10.0
"""Seconds [`discover`][] may take in all, every candidate URL included."""
MAX_METADATA_BYTES: Final = 1 << 20
"""Largest metadata document read (real ones are a few kilobytes)."""

_BOM: Final = b"\xef\xbb\xbf"
# Metadata name -> the grant argument it fills (see ServerMetadata.make_grant).
_GRANT_ENDPOINTS: Final = {
    "token_url": "token_endpoint",
    "authorization_url": "authorization_endpoint",
    "device_authorization_url": "device_authorization_endpoint",
}
_ENDPOINT_FIELDS: Final = (
    "token_endpoint",
    "authorization_endpoint",
    "device_authorization_endpoint",
    "revocation_endpoint",
    "introspection_endpoint",
    "jwks_uri",
)
_LIST_FIELDS: Final = (
    "grant_types_supported",
    "token_endpoint_auth_methods_supported",
    "code_challenge_methods_supported",
    "scopes_supported",
)
# What each kind of client credential allows, in order of preference: a
# signature proves possession without sending the key; Basic is RFC 6749
# §2.3.1's MUST-support method; a secret in the form is the fallback.
_PREFERRED_WITH_KEY: Final[tuple[ClientAuthMethod, ...]] = ("private_key_jwt",)
_PREFERRED_WITH_SECRET: Final[tuple[ClientAuthMethod, ...]] = (
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
)
_PREFERRED_WITHOUT_CREDENTIALS: Final[tuple[ClientAuthMethod, ...]] = (
    "none",
    "tls_client_auth",
    "self_signed_tls_client_auth",
)

G = TypeVar("G", bound=Grant)


def _shown(value: object, limit: int = 100) -> str:
    # Server-supplied text in a message: bounded, and repr() escapes controls.
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_issuer(issuer: object, *, allow_http: bool) -> URL:
    """Check an issuer identifier as RFC 8414 §2 defines it; return it parsed.

    Raises:
        ConfigurationError: not an absolute https URL without query and
            fragment (http only to loopback hosts, unless *allow_http*).
    """
    if not isinstance(issuer, str):
        raise ConfigurationError(f"issuer: expected a URL string, got {type(issuer).__name__}")
    url: URL | None
    try:
        url = URL(issuer)
        host = url.raw_host
    except (ValueError, TypeError, IndexError):
        url, host = None, None
    if url is None or url.scheme not in ("http", "https") or not host:
        shown = repr(safe_url(url)) if url is not None else "a value that is not a URL"
        raise ConfigurationError(
            "issuer: expected the authorization server's issuer identifier, an https URL "
            f"such as 'https://auth.example.com', got {shown}"
        )
    if "?" in issuer or "#" in issuer or url.raw_user is not None:
        raise ConfigurationError(
            "issuer: an issuer identifier has no query, fragment or user info (RFC 8414 §2): "
            f"{safe_url(url)}"
        )
    if not allow_http and not is_secure_transport(url):
        raise ConfigurationError(
            f"issuer: {safe_url(url)} is plain http: anyone on the path could forge the "
            "server's metadata and send your client credentials elsewhere; use https, or "
            "pass allow_http=True if the network path is trusted"
        )
    return url


def metadata_urls(
    issuer: str, *, openid: bool | None = None, allow_http: bool = False
) -> list[str]:
    """Return the URLs of *issuer*'s metadata document, in the order to try them.

    RFC 8414 §3.1 inserts the well-known suffix between the host and the
    issuer's path (``https://as.example/tenant`` ->
    ``https://as.example/.well-known/oauth-authorization-server/tenant``);
    OpenID Connect Discovery 1.0 §4 appends it
    (``https://as.example/tenant/.well-known/openid-configuration``). RFC
    8414 §5 says to try the inserted form first and fall back to the other.
    For an issuer without a path both forms are the same URL, listed once.

    Args:
        issuer: the issuer identifier, e.g. ``https://auth.example.com``.
        openid: None (the default) for RFC 8414 first, then OpenID Connect;
            True for OpenID Connect only; False for RFC 8414 only.
        allow_http: allow a plain http issuer that is not a loopback host.

    Raises:
        ConfigurationError: *issuer* is not an https URL, or has a query,
            fragment or user info (RFC 8414 §2).
    """
    url = _check_issuer(issuer, allow_http=allow_http)
    if openid is not None and not isinstance(openid, bool):
        raise ConfigurationError(f"openid: expected True, False or None, got {openid!r}")
    # RFC 8414 §3.1 and OIDC Discovery §4: a terminating "/" is removed first.
    path = url.raw_path.rstrip("/")
    origin = str(url.origin())
    urls = []
    if openid is not True:
        urls.append(f"{origin}/.well-known/{OAUTH_SUFFIX}{path}")
    if openid is not False:
        urls.append(f"{origin}/.well-known/{OPENID_SUFFIX}{path}")
        urls.append(f"{origin}{path}/.well-known/{OPENID_SUFFIX}")
    return list(dict.fromkeys(urls))


def _decode_document(body: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(body.removeprefix(_BOM))
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def _endpoint(document: Mapping[str, Any], name: str, where: str, allow_http: bool) -> str | None:
    value = document.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise TokenError(f"{where}: {name} must be a URL string, got {type(value).__name__}")
    url: URL | None
    try:
        url = URL(value)
        host = url.raw_host
    except (ValueError, TypeError, IndexError):
        url, host = None, None
    if url is None or url.scheme not in ("http", "https") or not host:
        raise TokenError(f"{where}: {name} is not an absolute https URL: {_shown(value)}")
    if url.raw_fragment or url.raw_user is not None:
        # RFC 6749 §3.1, §3.2: endpoint URIs must not include a fragment.
        raise TokenError(f"{where}: {name} has a fragment or user info: {safe_url(url)}")
    if not allow_http and not is_secure_transport(url):
        raise TokenError(
            f"{where}: {name} {safe_url(url)} is plain http, which RFC 8414 §2 forbids: "
            "tokens and client credentials would travel in clear text. Fix the server's "
            "metadata, or pass allow_http=True if the network path is trusted"
        )
    return value


def _names(document: Mapping[str, Any], name: str, where: str) -> tuple[str, ...] | None:
    value = document.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TokenError(f"{where}: {name} must be a JSON array of strings")
    return tuple(value)


@dataclass(frozen=True)
class ServerMetadata:
    """What an authorization server says about itself (RFC 8414 §2).

    Build it with [`from_json`][aiohttp_auth.oauth2.discovery.ServerMetadata.from_json]
    (or [`discover`][aiohttp_auth.oauth2.discovery.discover]), which validates
    the document; the constructor trusts its arguments.

    Attributes:
        issuer: the issuer identifier, identical to the one asked for.
        token_endpoint: the token endpoint (RFC 6749 §3.2).
        authorization_endpoint: the authorization endpoint (RFC 6749 §3.1).
        device_authorization_endpoint: RFC 8628 §4.
        revocation_endpoint: RFC 7009 (see [`revoke`][aiohttp_auth.oauth2.revocation.revoke]).
        introspection_endpoint: RFC 7662.
        jwks_uri: the server's JWK Set (RFC 7517).
        grant_types_supported: None when not listed (RFC 8414 §2: then
            ``authorization_code`` and ``implicit``).
        token_endpoint_auth_methods_supported: None when not listed (then
            ``client_secret_basic``).
        code_challenge_methods_supported: PKCE methods (RFC 7636); None when
            not listed, which means the server may not support PKCE.
        scopes_supported: None when not listed.
        extra: every other member of the document, as received (read-only).
    """

    issuer: str
    token_endpoint: str
    authorization_endpoint: str | None = None
    device_authorization_endpoint: str | None = None
    revocation_endpoint: str | None = None
    introspection_endpoint: str | None = None
    jwks_uri: str | None = None
    grant_types_supported: tuple[str, ...] | None = None
    token_endpoint_auth_methods_supported: tuple[str, ...] | None = None
    code_challenge_methods_supported: tuple[str, ...] | None = None
    scopes_supported: tuple[str, ...] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))

    def __reduce__(self) -> tuple[Any, ...]:
        # The read-only mappingproxy cannot be pickled as it is.
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        fields["extra"] = dict(self.extra)
        return _rebuild, (fields,)

    @classmethod
    def from_json(
        cls,
        body: bytes | str,
        *,
        issuer: str,
        url: str | None = None,
        allow_http: bool = False,
    ) -> ServerMetadata:
        """Parse and validate a metadata document (RFC 8414 §3.2, §3.3).

        Args:
            body: the document, a JSON object.
            issuer: the issuer identifier the document was requested for.
            url: where it was fetched from, for messages.
            allow_http: accept plain http endpoints on hosts that are not
                loopback (RFC 8414 §2 requires https).

        Raises:
            ConfigurationError: *issuer* is not a valid issuer identifier.
            TokenError: the body is not a JSON object; its ``issuer`` is
                missing or not identical to *issuer* (a possible mix-up
                attack, RFC 8414 §3.3); ``token_endpoint`` is missing; an
                endpoint is not an https URL; a ``*_supported`` member is not
                an array of strings.
        """
        _check_issuer(issuer, allow_http=allow_http)
        where = f"The metadata at {safe_url(url)}" if url else f"The metadata of {issuer}"
        raw = body.encode("utf-8") if isinstance(body, str) else body
        document = _decode_document(raw)
        if document is None:
            raise TokenError(
                f"{where} is not a JSON object ({len(raw)} bytes): check the issuer, which "
                "must be the server's issuer identifier"
            )
        return cls._from_document(document, issuer=issuer, where=where, allow_http=allow_http)

    @classmethod
    def _from_document(
        cls, document: Mapping[str, Any], *, issuer: str, where: str, allow_http: bool
    ) -> ServerMetadata:
        named = document.get("issuer")
        if not isinstance(named, str):
            raise TokenError(f"{where} has no issuer member, which RFC 8414 §2 requires")
        if named != issuer:
            hint = (
                f"; the two differ only in a trailing slash: pass issuer={named!r}"
                if named.rstrip("/") == issuer.rstrip("/")
                else ""
            )
            raise TokenError(
                f"{where} names the issuer {_shown(named)}, not {issuer!r}, the issuer it was "
                "requested for. RFC 8414 §3.3 forbids using it: a server that names another "
                "issuer may be impersonating it to collect your credentials and tokens (a "
                f"mix-up attack, RFC 9700 §4.4). Pass the exact issuer identifier{hint}"
            )
        endpoint = {
            name: _endpoint(document, name, where, allow_http) for name in _ENDPOINT_FIELDS
        }
        token_endpoint = endpoint["token_endpoint"]
        if token_endpoint is None:
            raise TokenError(
                f"{where} has no token_endpoint: this server offers no token endpoint "
                "(RFC 8414 §2), so no grant of this package can use it"
            )
        names = {name: _names(document, name, where) for name in _LIST_FIELDS}
        known = {"issuer", *_ENDPOINT_FIELDS, *_LIST_FIELDS}
        return cls(
            issuer=issuer,
            token_endpoint=token_endpoint,
            authorization_endpoint=endpoint["authorization_endpoint"],
            device_authorization_endpoint=endpoint["device_authorization_endpoint"],
            revocation_endpoint=endpoint["revocation_endpoint"],
            introspection_endpoint=endpoint["introspection_endpoint"],
            jwks_uri=endpoint["jwks_uri"],
            grant_types_supported=names["grant_types_supported"],
            token_endpoint_auth_methods_supported=names["token_endpoint_auth_methods_supported"],
            code_challenge_methods_supported=names["code_challenge_methods_supported"],
            scopes_supported=names["scopes_supported"],
            extra={name: value for name, value in document.items() if name not in known},
        )

    def client_auth_method(self, *, has_secret: bool, has_private_key: bool) -> ClientAuthMethod:
        """Choose how a client with these credentials authenticates to this server.

        With a private key ``private_key_jwt``; with a secret
        ``client_secret_basic``, else ``client_secret_post``, else
        ``client_secret_jwt``; with neither ``none``, else the mutual TLS
        methods (RFC 8705; the certificate comes from the session's ``ssl``
        context). The first that ``token_endpoint_auth_methods_supported``
        lists wins; when the server lists nothing, the first of each kind.

        Raises:
            ConfigurationError: the server lists none of the methods these
                credentials allow.
        """
        if has_private_key:
            candidates = _PREFERRED_WITH_KEY
        elif has_secret:
            candidates = _PREFERRED_WITH_SECRET
        else:
            candidates = _PREFERRED_WITHOUT_CREDENTIALS
        supported = self.token_endpoint_auth_methods_supported
        if supported is None:
            # Unlisted: RFC 8414 §2 implies client_secret_basic, but servers
            # often omit the member; go by the credentials the caller has.
            return candidates[0]
        for method in candidates:
            if method in supported:
                return method
        given = "a private key" if has_private_key else "a secret" if has_secret else "no secret"
        raise ConfigurationError(
            f"client_auth: the server {self.issuer} accepts {', '.join(supported) or 'nothing'} "
            f"at its token endpoint, none of which works with {given}; pass the credentials "
            "it expects, or client_auth= to use a method it does not list"
        )

    def make_grant(
        self,
        grant_class: type[G],
        client_id: str,
        client_secret: str | None = None,
        **kwargs: Any,
    ) -> G:
        """Build a *grant_class* for this server, sans-IO.

        The endpoints the grant's constructor takes (``token_url``,
        ``authorization_url``, ``device_authorization_url``) are filled from
        the metadata unless given in *kwargs*; ``client_auth``, unless given,
        is chosen with
        [`client_auth_method`][aiohttp_auth.oauth2.discovery.ServerMetadata.client_auth_method].
        A grant type the server does not list is logged as a warning, not
        refused: servers' lists are often incomplete.

        Args:
            grant_class: e.g. ``ClientCredentials`` or ``RefreshToken``.
            client_id: the client identifier.
            client_secret: the client secret, if any.
            **kwargs: the grant's other arguments (``scope=``, ``private_key=``, ...).

        Raises:
            ConfigurationError: the grant needs an endpoint the metadata does
                not have; the server supports no method for the credentials
                given (see ``client_auth_method``); the grant's own checks.
        """
        name = getattr(grant_class, "__name__", repr(grant_class))
        parameters = inspect.signature(grant_class).parameters
        for argument, member in _GRANT_ENDPOINTS.items():
            if argument not in parameters or kwargs.get(argument) is not None:
                continue
            endpoint = getattr(self, member)
            if endpoint is None:
                raise ConfigurationError(
                    f"{name} needs {argument}, but the metadata of {self.issuer} has no "
                    f"{member}: the server does not offer it, or pass {argument}= yourself"
                )
            kwargs[argument] = endpoint
        if "client_auth" in parameters and kwargs.get("client_auth") is None:
            kwargs["client_auth"] = self.client_auth_method(
                has_secret=client_secret is not None,
                has_private_key=kwargs.get("private_key") is not None,
            )
        grant_type = getattr(grant_class, "grant_type", None)
        supported = self.grant_types_supported
        if isinstance(grant_type, str) and supported is not None and grant_type not in supported:
            logger.warning(
                "%s: %s does not list grant type %s in its metadata; trying it anyway",
                name,
                self.issuer,
                grant_type,
            )
        factory: Callable[..., G] = grant_class
        return factory(client_id=client_id, client_secret=client_secret, **kwargs)


def _rebuild(fields: dict[str, Any]) -> ServerMetadata:
    return ServerMetadata(**fields)


class _NotThere(Exception):
    """No metadata document at this URL; the next candidate may have one."""


async def _read_limited(response: aiohttp.ClientResponse, url: str) -> bytes:
    if (response.content_length or 0) > MAX_METADATA_BYTES:
        raise _NotThere(f"{safe_url(url)} announced {response.content_length} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > MAX_METADATA_BYTES:
            raise _NotThere(f"{safe_url(url)} sent more than {MAX_METADATA_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _fetch_document(session: ClientSession, url: str, issuer: str) -> dict[str, Any]:
    """GET one candidate URL; return its JSON object.

    Raises:
        _NotThere: a status other than 200, or a body that is not a JSON object.
        TokenError: the server could not be reached (or the session's own
            timeout ran out).
    """
    try:
        async with subrequest(
            session,
            "GET",
            url,
            headers={"Accept": "application/json"},
            # The session may raise on 4xx; a 404 here means "try the next URL".
            raise_for_status=False,
        ) as response:
            if response.status != 200:
                # RFC 8414 §3.2: a successful response uses 200 OK; a redirect
                # is not followed (the document must be at the well-known URL).
                raise _NotThere(f"{safe_url(url)} answered HTTP {response.status}")
            body = await _read_limited(response, url)
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        kind = "timed out" if isinstance(exc, asyncio.TimeoutError) else type(exc).__name__
        raise TokenError(
            f"Could not fetch the metadata of {issuer} from {safe_url(url)} ({kind}): check "
            "the issuer URL and the network"
        ) from exc
    document = _decode_document(body)
    if document is None:
        raise _NotThere(f"{safe_url(url)} answered 200 with a body that is not a JSON object")
    return document


async def _first_metadata(
    session: ClientSession, issuer: str, urls: list[str], current: list[str], allow_http: bool
) -> ServerMetadata:
    failures: list[str] = []
    for url in urls:
        current[0] = url
        try:
            document = await _fetch_document(session, url, issuer)
        except _NotThere as exc:
            failures.append(str(exc))
            continue
        where = f"The metadata at {safe_url(url)}"
        metadata = ServerMetadata._from_document(
            document, issuer=issuer, where=where, allow_http=allow_http
        )
        logger.debug("discovered the metadata of %s at %s", issuer, safe_url(url))
        return metadata
    raise TokenError(
        f"No authorization server metadata found for {issuer}: {'; '.join(failures)}. Check "
        "that the issuer is the server's exact issuer identifier, or give the grant its "
        "endpoint URLs instead"
    )


async def discover(
    session: ClientSession,
    issuer: str,
    *,
    openid: bool | None = None,
    timeout: float = DEFAULT_DISCOVERY_TIMEOUT,
    allow_http: bool = False,
) -> ServerMetadata:
    """Fetch and validate *issuer*'s metadata (RFC 8414 §3, OpenID Connect Discovery 1.0 §4).

    Tries the URLs of [`metadata_urls`][] in order through *session*, with no
    middleware and no redirect (see [`subrequest`][aiohttp_auth._middleware.subrequest]).
    A status other than 200 or a body that is not a JSON object moves on to
    the next URL; a document that is there but invalid (another issuer, http
    endpoints, no token endpoint) fails at once.

    Args:
        session: the session to send the requests through; its own timeouts
            apply too.
        issuer: the issuer identifier, e.g. ``https://auth.example.com``.
        openid: see [`metadata_urls`][].
        timeout: seconds for the whole discovery, every URL included.
        allow_http: allow plain http to hosts that are not loopback.

    Raises:
        ConfigurationError: *issuer* or *timeout* is invalid.
        TokenError: no URL had a metadata document (the message lists what
            each answered), the server was unreachable or too slow, or the
            document is invalid (see ``ServerMetadata.from_json``).
    """
    urls = metadata_urls(issuer, openid=openid, allow_http=allow_http)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ConfigurationError(
            f"timeout: expected a positive number of seconds, got {timeout!r}"
        )
    # The URL being fetched, for the message if time runs out.
    current = [urls[0]]
    try:
        return await asyncio.wait_for(
            _first_metadata(session, issuer, urls, current, allow_http), timeout
        )
    except asyncio.TimeoutError:
        raise TokenError(
            f"Could not fetch the metadata of {issuer} within {timeout:g} s (waiting for "
            f"{safe_url(current[0])}): check the issuer URL and the network, or raise "
            "timeout="
        ) from None


async def grant_from_issuer(
    session: ClientSession,
    issuer: str,
    grant_class: type[G],
    client_id: str,
    client_secret: str | None = None,
    *,
    openid: bool | None = None,
    discovery_timeout: float = DEFAULT_DISCOVERY_TIMEOUT,
    **kwargs: Any,
) -> G:
    """Discover *issuer*'s endpoints and build a *grant_class* for them.

    ``await grant_from_issuer(session, issuer, ClientCredentials, id, secret, scope="read")``
    is [`discover`][] followed by
    [`ServerMetadata.make_grant`][aiohttp_auth.oauth2.discovery.ServerMetadata.make_grant].
    Call those two yourself to keep the metadata (for instance its
    ``revocation_endpoint``).

    Args:
        session: the session to send the discovery requests through.
        issuer: the issuer identifier.
        grant_class: the grant to build, e.g. ``ClientCredentials``.
        client_id: the client identifier.
        client_secret: the client secret, if any.
        openid: see [`metadata_urls`][].
        discovery_timeout: seconds for the discovery.
        **kwargs: the grant's other arguments; ``allow_http`` applies to the
            discovery too.

    Raises:
        ConfigurationError: see [`discover`][] and ``ServerMetadata.make_grant``.
        TokenError: see [`discover`][].
    """
    metadata = await discover(
        session,
        issuer,
        openid=openid,
        timeout=discovery_timeout,
        allow_http=kwargs.get("allow_http", False),
    )
    return metadata.make_grant(grant_class, client_id, client_secret, **kwargs)
