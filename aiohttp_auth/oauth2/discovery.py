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

The sans-IO parts live in ``aiohttp_auth.oauth2.metadata`` and are
re-exported here. Typical use::

    async with aiohttp.ClientSession() as session:
        grant = await grant_from_issuer(
            session, "https://auth.example.com", ClientCredentials, "my-app", secret
        )
        async with session.get(api_url, middlewares=(OAuth2Middleware(grant),)) as resp:
            ...
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import aiohttp
from aiohttp import ClientSession

from .._middleware import read_limited, subrequest
from .._redact import logger, safe_url
from ..errors import ConfigurationError, TokenError
from ._metadata_validation import decode_document
from .metadata import OAUTH_SUFFIX as OAUTH_SUFFIX
from .metadata import OPENID_SUFFIX as OPENID_SUFFIX
from .metadata import G
from .metadata import ServerMetadata as ServerMetadata
from .metadata import metadata_urls as metadata_urls

__all__ = [
    "DEFAULT_DISCOVERY_TIMEOUT",
    "MAX_METADATA_BYTES",
    "OAUTH_SUFFIX",
    "OPENID_SUFFIX",
    "ServerMetadata",
    "discover",
    "grant_from_issuer",
    "metadata_urls",
]

DEFAULT_DISCOVERY_TIMEOUT: Final = 10.0
"""Seconds [`discover`][] may take in all, every candidate URL included."""
MAX_METADATA_BYTES: Final = 1 << 20
"""Largest metadata document read (real ones are a few kilobytes)."""


class _NotThere(Exception):
    """No metadata document at this URL; the next candidate may have one."""


async def _read_document(response: aiohttp.ClientResponse, url: str) -> bytes:
    body = await read_limited(response, MAX_METADATA_BYTES)
    if body is None:
        raise _NotThere(f"{safe_url(url)} sent more than {MAX_METADATA_BYTES} bytes")
    return body


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
            body = await _read_document(response, url)
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        kind = "timed out" if isinstance(exc, asyncio.TimeoutError) else type(exc).__name__
        raise TokenError(
            f"Could not fetch the metadata of {issuer} from {safe_url(url)} ({kind}): check "
            "the issuer URL and the network"
        ) from exc
    document = decode_document(body)
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
