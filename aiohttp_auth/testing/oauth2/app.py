"""The authorization server as one ``aiohttp.web`` application."""

from __future__ import annotations

from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler

from ..resource import RecordedRequest
from .authorize import authorize
from .config import CONFIG, AuthorizationServerConfig
from .device import device_authorization, device_decision, device_page
from .endpoints import introspect, revoke, token
from .faults import apply_fault
from .metadata import jwks, metadata, openid_configuration
from .mount import TOKEN_PATH, TOKEN_ROUTE, local_path
from .protocol import form_endpoint
from .resource import protected_resource

__all__ = ["authorization_server_app"]


# The form endpoints apply their own faults, to record them with the call.
_FORM_ENDPOINTS: Final = frozenset({TOKEN_PATH, "/device_authorization", "/revoke", "/introspect"})


@web.middleware
async def _record_and_fault(request: web.Request, handler: Handler) -> web.StreamResponse:
    # Every request, whatever its route (and a 404 too), so that a test can
    # search everything a client sent for a leaked secret.
    config = request.app[CONFIG]
    config.requests.append(RecordedRequest.of(request, await request.read()))
    path = local_path(request)
    if path not in _FORM_ENDPOINTS:
        fault = config.take_fault(path)
        faulted = await apply_fault(request, fault) if fault is not None else None
        if faulted is not None:
            return faulted
    return await handler(request)


def authorization_server_app(config: AuthorizationServerConfig | None = None) -> web.Application:
    """Build the authorization server for *config* (a fresh, empty one by default).

    It runs as an application of its own, or mounted in another with
    ``app.add_subapp(prefix, authorization_server_app(config))``: then every
    route below is under *prefix*, and so is the issuer (unless *config* sets
    one). Clients discover a mounted server through the OpenID Connect form of
    the well-known URL (``{prefix}/.well-known/openid-configuration``): the
    RFC 8414 form puts the prefix after ``/.well-known/...``, outside the
    mounted application.

    Raises:
        ConfigurationError: *config* is invalid (see ``AuthorizationServerConfig.validate``).

    Routes:
        ``GET /.well-known/oauth-authorization-server``: RFC 8414 metadata.
        ``GET /.well-known/openid-configuration``: the same, for OIDC discovery.
        ``POST /token``: the token endpoint, every grant of ``ALL_GRANT_TYPES``.
        ``GET /authorize``: the authorization endpoint (code + PKCE), auto-approving.
        ``POST /device_authorization``: RFC 8628 device authorization.
        ``GET /device``, ``POST /device``: the user's side of the device flow.
        ``POST /revoke``: RFC 7009 revocation.
        ``POST /introspect``: RFC 7662 introspection (confidential clients).
        ``GET /jwks.json``: the server's public keys (ID tokens).
        ``* /resource/{tail}``: a protected resource answering RFC 6750 challenges.
    """
    config = config if config is not None else AuthorizationServerConfig()
    config.validate()
    app = web.Application(middlewares=[_record_and_fault])
    app[CONFIG] = config
    router = app.router
    router.add_get("/.well-known/oauth-authorization-server", metadata)
    router.add_get("/.well-known/openid-configuration", openid_configuration)
    router.add_post(TOKEN_PATH, form_endpoint(token), name=TOKEN_ROUTE)
    router.add_get("/authorize", authorize)
    router.add_post("/device_authorization", form_endpoint(device_authorization))
    router.add_get("/device", device_page)
    router.add_post("/device", device_decision)
    router.add_post("/revoke", form_endpoint(revoke))
    router.add_post("/introspect", form_endpoint(introspect, confidential=True))
    router.add_get("/jwks.json", jwks)
    router.add_route("*", "/resource/{tail:.*}", protected_resource)
    return app
