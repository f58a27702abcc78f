"""Authorization server metadata (RFC 8414) and OpenID Connect discovery, and the JWK Set."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .assertions import HMAC_ALGORITHMS, PUBLIC_KEY_ALGORITHMS, public_jwks
from .config import CONFIG, AuthorizationServerConfig
from .registration import ALL_GRANT_TYPES, CLIENT_AUTH_METHODS

__all__ = ["ENDPOINTS", "jwks", "metadata", "openid_configuration", "server_metadata"]

ENDPOINTS = {
    "authorization_endpoint": "/authorize",
    "token_endpoint": "/token",
    "device_authorization_endpoint": "/device_authorization",
    "revocation_endpoint": "/revoke",
    "introspection_endpoint": "/introspect",
    "jwks_uri": "/jwks.json",
}
"""Metadata name -> path of each endpoint (RFC 8414 §2, RFC 8628 §4)."""


def server_metadata(config: AuthorizationServerConfig, issuer: str) -> dict[str, Any]:
    """Return the RFC 8414 §2 metadata of a server whose issuer is *issuer*."""
    authenticated = [method for method in CLIENT_AUTH_METHODS if method != "none"]
    signing_algorithms = list(HMAC_ALGORITHMS + PUBLIC_KEY_ALGORITHMS)
    metadata: dict[str, Any] = {"issuer": issuer}
    metadata |= {name: issuer + path for name, path in ENDPOINTS.items()}
    metadata |= {
        "grant_types_supported": list(ALL_GRANT_TYPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "token_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": signing_algorithms,
        "revocation_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "revocation_endpoint_auth_signing_alg_values_supported": signing_algorithms,
        "introspection_endpoint_auth_methods_supported": authenticated,
        "introspection_endpoint_auth_signing_alg_values_supported": signing_algorithms,
        "code_challenge_methods_supported": list(config.pkce_methods),
        "authorization_response_iss_parameter_supported": True,  # RFC 9207 §3
    }
    scopes = sorted({scope for c in config.clients.values() for scope in c.scopes or ()})
    if scopes:
        metadata["scopes_supported"] = scopes
    return metadata


async def metadata(request: web.Request) -> web.Response:
    """``GET /.well-known/oauth-authorization-server`` (RFC 8414 §3)."""
    config = request.app[CONFIG]
    return web.json_response(server_metadata(config, config.issuer_for(request)))


async def openid_configuration(request: web.Request) -> web.Response:
    """``GET /.well-known/openid-configuration`` (OpenID Connect Discovery 1.0 §3).

    The same metadata, with the members OpenID Connect requires on top: ID
    tokens are issued by the authorization code grant for the ``openid`` scope.
    """
    config = request.app[CONFIG]
    fields = server_metadata(config, config.issuer_for(request))
    fields |= {
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
    }
    return web.json_response(fields)


async def jwks(request: web.Request) -> web.Response:
    """``GET /jwks.json``: the server's public keys (RFC 7517 §5), for ID tokens."""
    return web.json_response(public_jwks(request.app[CONFIG]))
