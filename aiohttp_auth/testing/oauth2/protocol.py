"""What every form-posting endpoint shares: parsing, client authentication, records.

The token, revocation, introspection and device authorization endpoints all
take ``application/x-www-form-urlencoded`` POSTs from an authenticated client
(RFC 6749 §3.2, §2.3; RFC 7009 §2.1; RFC 7662 §2.1; RFC 8628 §3.1) and answer
JSON. [`form_endpoint`][] turns a function of a [`Call`][] into such an
endpoint: it records the request, applies a planned fault, parses the form,
authenticates the client and answers RFC 6749 §5.2 errors.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl

from aiohttp import hdrs, web
from multidict import MultiDict, MultiDictProxy

from .clients import authenticate_client
from .config import CONFIG, AuthorizationServerConfig, EndpointCall
from .errors import OAuthError, error_response
from .faults import apply_fault
from .mount import local_path
from .registration import ClientRegistration

__all__ = ["Call", "form_endpoint", "read_form", "scope_for"]

FORM: Final = "application/x-www-form-urlencoded"
# RFC 8693 §2.1 (with RFC 8707) lets these repeat; no other parameter may (RFC 6749 §3.2).
_REPEATABLE: Final = frozenset({"resource", "audience"})
# RFC 6749 §3.3 scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN: Final = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


@dataclass(frozen=True)
class Call:
    """One authenticated request to a form endpoint.

    Attributes:
        config: the server's configuration.
        request: the request.
        form: its parameters, those sent without a value dropped (RFC 6749 §3.1).
        client: the authenticated client.
        auth_method: how it authenticated.
        issuer: the server's issuer identifier for this request.
        audiences: what an assertion's ``aud`` may name to mean this server.
        now: epoch seconds, read once for the whole call.
    """

    config: AuthorizationServerConfig
    request: web.Request
    form: MultiDictProxy[str]
    client: ClientRegistration
    auth_method: str
    issuer: str
    audiences: frozenset[str]
    now: float


def read_form(content_type: str, body: bytes) -> MultiDictProxy[str]:
    """Parse a form body, refusing what RFC 6749 §3.2 forbids.

    Raises:
        OAuthError: ``invalid_request`` for another content type, a body that
            is not UTF-8, or a parameter sent more than once.
    """
    if content_type != FORM:
        raise OAuthError("invalid_request", f"the body must be {FORM} (RFC 6749 §3.2)")
    try:
        # RFC 6749 Appendix B: UTF-8, before and after percent-decoding.
        form = MultiDict(parse_qsl(body.decode("utf-8"), errors="strict"))
    except UnicodeDecodeError:
        raise OAuthError(
            "invalid_request", "the form is not UTF-8 (RFC 6749 Appendix B)"
        ) from None
    repeated = sorted({name for name in form if len(form.getall(name)) > 1} - _REPEATABLE)
    if repeated:
        raise OAuthError(
            "invalid_request",
            f"parameters sent more than once: {', '.join(repeated)} (RFC 6749 §3.2)",
        )
    return MultiDictProxy(form)


def scope_for(
    client: ClientRegistration, requested: str | None, *, within: Collection[str] | None = None
) -> str:
    """Return the scope to grant for a request naming *requested* (RFC 6749 §3.3).

    Args:
        client: the client; it may be granted only its registered scopes.
        requested: the ``scope`` parameter, or None.
        within: the scopes the grant is bounded by (a refresh token's or a
            subject token's), which also become the default; None for the
            client's ``default_scopes``.

    Raises:
        OAuthError: ``invalid_scope`` for a malformed scope or one beyond what
            the client (or the grant) may have.
    """
    if requested is None:
        return " ".join(within if within is not None else client.default_scopes)
    names = list(dict.fromkeys(requested.split(" ")))
    if any(_SCOPE_TOKEN.fullmatch(name) is None for name in names):
        raise OAuthError("invalid_scope", f"malformed scope {requested!r}")
    allowed = set(within) if within is not None else client.scopes
    beyond = [name for name in names if allowed is not None and name not in allowed]
    if beyond:
        raise OAuthError(
            "invalid_scope", f"scope {' '.join(beyond)} is beyond what may be granted here"
        )
    return " ".join(names)


def _audiences(issuer: str, request: web.Request) -> frozenset[str]:
    # RFC 7523 §3: the issuer or the token endpoint URL; also the URL the
    # client actually posted to, which is the endpoint's URL as it knows it.
    return frozenset({issuer, issuer + "/token", str(request.url.with_query(None))})


def _authenticated(
    config: AuthorizationServerConfig,
    request: web.Request,
    body: bytes,
    record: EndpointCall,
    confidential: bool,
) -> Call:
    form = read_form(request.content_type, body)
    issuer = config.issuer_for(request)
    audiences = _audiences(issuer, request)
    now = config.clock()
    client = authenticate_client(config, record.authorization, form, audiences=audiences, now=now)
    record.client_id, record.auth_method = client.registration.client_id, client.method
    if confidential and client.method == "none":
        raise OAuthError("invalid_client", f"{record.endpoint} needs client authentication")
    return Call(config, request, form, client.registration, client.method, issuer, audiences, now)


def form_endpoint(
    handler: Callable[[Call], web.Response], *, confidential: bool = False
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Make an aiohttp handler of *handler* (see the module docstring).

    Args:
        handler: answers an authenticated call; raises ``OAuthError`` to refuse it.
        confidential: refuse public clients (``none``), as introspection does
            (RFC 7662 §2.1 requires authorization).
    """

    async def endpoint(request: web.Request) -> web.Response:
        config = request.app[CONFIG]
        body = await request.read()
        received = tuple(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        path = local_path(request)
        record = EndpointCall(
            path,
            dict(received).get("grant_type", ""),
            received,
            request.headers.get(hdrs.AUTHORIZATION),
        )
        config.calls.append(record)
        if path == "/token":
            config.token_calls[record.grant_type] += 1
        fault = config.take_fault(path)
        if fault is not None:
            record.fault = fault.kind
            faulted = await apply_fault(request, fault)
            if faulted is not None:
                record.status = 0 if fault.kind == "close" else faulted.status
                return faulted
        try:
            response = handler(_authenticated(config, request, body, record, confidential))
        except OAuthError as error:
            record.error = error.error
            response = error_response(error, realm=config.realm)
        record.status = response.status
        return response

    return endpoint
