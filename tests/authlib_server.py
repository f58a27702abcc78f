"""An independent OAuth 2 authorization server built with Authlib, as a test peer.

Our own embedded server (``aiohttp_auth.testing.oauth2``) was written by the
same hands as the client, so a shared misreading of an RFC would pass every
test against it. This server is Authlib's server side (its Flask
integration): the token endpoint with the client credentials, password and
refresh token grants (refresh tokens rotated), RFC 7009 revocation, an RFC
6750 protected resource (Authlib's ``ResourceProtector`` with a
``BearerTokenValidator``) and RFC 8414 metadata checked by Authlib's own
``AuthorizationServerMetadata``.

It runs in a **separate process** (``python tests/authlib_server.py``), so
that ``AUTHLIB_INSECURE_TRANSPORT=1``, which Authlib needs for plain http on
loopback, is set in that process only. The session-scoped fixture
:func:`authlib_server` starts it with random secrets and stops it by PID.

Routes:
    ``/.well-known/oauth-authorization-server``: RFC 8414 metadata.
    ``POST /oauth/token``: the token endpoint.
    ``POST /oauth/revoke``: RFC 7009.
    ``/api/read``, ``/api/admin``: protected, needing scope ``read`` / ``admin``.
    ``POST /_test/clock`` (form ``advance=<seconds>``): move the server's clock.
    ``GET /_test/stats``: calls of the token endpoint per grant type
    (``token_calls``), ``revocations`` (tokens found and revoked),
    ``resource_requests`` (all) and ``resource_served`` (authorized).

Authlib's quirks a client meets here (see PEERS.md): the client credentials
grant issues no refresh token; the refresh grant needs a user; a refresh
response omits ``refresh_token`` unless the grant rotates (this one does);
``client_secret_basic`` credentials are percent-decoded with ``unquote``, not
form-decoded, so a ``+`` in them stays a ``+`` (a secret with a space does
not survive RFC 6749 Appendix B encoding: use ``client_secret_post``); a 403
``insufficient_scope`` comes without a ``WWW-Authenticate`` challenge (RFC
6750 §3 wants one), only with the error in a JSON body.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Final

import pytest
from peers import free_port, require_peer, running_process

__all__ = ["AuthlibClient", "AuthlibServer", "authlib_server"]

ISSUER_PLACEHOLDER: Final = "http://127.0.0.1:{port}"
BOTH_SECRET_METHODS: Final = ("client_secret_basic", "client_secret_post")
SCOPES: Final = ("read", "write", "admin")


@dataclass(frozen=True)
class AuthlibClient:
    """One client registered at the Authlib server."""

    client_id: str
    client_secret: str = field(repr=False)
    auth_methods: tuple[str, ...] = BOTH_SECRET_METHODS
    grant_types: tuple[str, ...] = ("client_credentials",)
    scope: str = "read write"
    #: Seconds; the ``expires_in`` of its access tokens.
    access_token_lifetime: int = 3600


def _secret() -> str:
    return "sec-" + secrets.token_urlsafe(18)


def default_clients() -> dict[str, AuthlibClient]:
    """The clients every session registers, with fresh random secrets."""
    user_grants = ("password", "refresh_token")
    clients = [
        AuthlibClient("cc-basic", _secret(), ("client_secret_basic",)),
        AuthlibClient("cc-post", _secret(), ("client_secret_post",)),
        AuthlibClient("cc-admin", _secret(), scope="read write admin"),
        # Every character RFC 6749 §2.3.1 makes a client encode, but no space.
        AuthlibClient("cc-special", "s3cr%t:é&=/" + secrets.token_urlsafe(6)),
        AuthlibClient("app", _secret(), grant_types=user_grants, scope="read write"),
        AuthlibClient("other-app", _secret(), grant_types=user_grants, scope="read"),
        # Access tokens that live 3 s: the middleware must refresh them.
        AuthlibClient("short", _secret(), grant_types=user_grants, access_token_lifetime=3),
    ]
    return {client.client_id: client for client in clients}


@dataclass(frozen=True)
class AuthlibServer:
    """The running Authlib server as the tests see it."""

    port: int
    clients: Mapping[str, AuthlibClient]
    users: Mapping[str, str] = field(repr=False)
    refresh_token_lifetime: int = 600

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, which is also the issuer identifier."""
        return ISSUER_PLACEHOLDER.format(port=self.port)

    issuer = base_url

    @property
    def token_url(self) -> str:
        """The token endpoint."""
        return self.base_url + "/oauth/token"

    @property
    def revocation_url(self) -> str:
        """The revocation endpoint (RFC 7009)."""
        return self.base_url + "/oauth/revoke"

    def url(self, path: str) -> str:
        """Return the absolute URL of *path* on the server."""
        return self.base_url + path

    def secret(self, client_id: str) -> str:
        """Return the secret of *client_id*."""
        return self.clients[client_id].client_secret

    def _control(self, path: str, form: Mapping[str, str] | None = None) -> dict[str, Any]:
        data = None if form is None else urllib.parse.urlencode(form).encode()
        request = urllib.request.Request(self.url(path), data=data)  # noqa: S310 - loopback
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            answer: dict[str, Any] = json.loads(response.read())
            return answer

    def advance_clock(self, seconds: float) -> None:
        """Move the server's clock forward: its tokens age by *seconds*."""
        self._control("/_test/clock", {"advance": str(seconds)})

    def stats(self) -> dict[str, Any]:
        """Return the server's counters (``token_calls`` per grant type, ...)."""
        return self._control("/_test/stats")

    def config_json(self) -> str:
        """The configuration the server process reads."""
        return json.dumps(
            {
                "port": self.port,
                "clients": [asdict(client) for client in self.clients.values()],
                "users": dict(self.users),
                "refresh_token_lifetime": self.refresh_token_lifetime,
            }
        )


@pytest.fixture(scope="session")
def authlib_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthlibServer]:
    """Run the Authlib server on 127.0.0.1 for the test session."""
    require_peer("flask", module="flask")
    require_peer("authlib", module="authlib.integrations.flask_oauth2")
    server = AuthlibServer(
        port=free_port(), clients=default_clients(), users={"alice": "pw-" + _secret()}
    )
    config = tmp_path_factory.mktemp("authlib") / "config.json"
    config.touch(mode=0o600)
    config.write_text(server.config_json())
    env = {**os.environ, "AUTHLIB_INSECURE_TRANSPORT": "1"}
    argv = [sys.executable, str(Path(__file__).resolve()), "--config", str(config)]
    with running_process(argv, port=server.port, env=env):
        yield server


# --- the server process --------------------------------------------------------------


@dataclass
class _Token:
    """One issued token pair (Authlib's ``TokenMixin``)."""

    access_token: str
    refresh_token: str | None
    client_id: str
    user: str | None
    scope: str
    issued_at: float
    expires_in: int
    refresh_expires_at: float | None
    access_revoked: bool = False
    refresh_revoked: bool = False


def build_app(config: Mapping[str, Any]) -> Any:
    """Build the Flask application (imports Flask and Authlib's server side)."""
    from authlib.integrations.flask_oauth2 import (
        AuthorizationServer,
        ResourceProtector,
        current_token,
    )
    from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, grants
    from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
    from authlib.oauth2.rfc7009 import RevocationEndpoint
    from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
    from flask import Flask, jsonify, request

    issuer = ISSUER_PLACEHOLDER.format(port=config["port"])
    users: dict[str, str] = config["users"]
    refresh_lifetime: int = config["refresh_token_lifetime"]
    clock_offset = [0.0]
    by_access: dict[str, _Token] = {}
    by_refresh: dict[str, _Token] = {}
    stats: dict[str, Any] = {
        "token_calls": Counter(),
        "revocations": 0,
        "resource_requests": 0,
        "resource_served": 0,
    }
    # The werkzeug server is threaded; one token request at a time keeps
    # rotation atomic, as a database transaction would.
    lock = threading.Lock()

    def now() -> float:
        return time.time() + clock_offset[0]

    class Client(ClientMixin):  # type: ignore[misc]
        def __init__(self, entry: Mapping[str, Any]) -> None:
            self.entry = entry
            self.client_id: str = entry["client_id"]

        def get_client_id(self) -> str:
            return self.client_id

        def get_default_redirect_uri(self) -> None:
            return None

        def get_allowed_scope(self, scope: str | None) -> str:
            allowed = set(self.entry["scope"].split())
            return " ".join(name for name in (scope or "").split() if name in allowed)

        def check_redirect_uri(self, redirect_uri: str) -> bool:
            return False

        def check_client_secret(self, client_secret: str) -> bool:
            return secrets.compare_digest(
                client_secret.encode(), self.entry["client_secret"].encode()
            )

        def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
            return method in self.entry["auth_methods"]

        def check_response_type(self, response_type: str) -> bool:
            return False

        def check_grant_type(self, grant_type: str) -> bool:
            return grant_type in self.entry["grant_types"]

    clients = {entry["client_id"]: Client(entry) for entry in config["clients"]}

    class Token(TokenMixin):  # type: ignore[misc]
        def __init__(self, record: _Token) -> None:
            self.record = record

        def check_client(self, client: Client) -> bool:
            return bool(self.record.client_id == client.client_id)

        def get_scope(self) -> str:
            return self.record.scope

        def get_expires_in(self) -> int:
            return self.record.expires_in

        def is_expired(self) -> bool:
            return now() >= self.record.issued_at + self.record.expires_in

        def is_revoked(self) -> bool:
            return self.record.access_revoked

        def get_user(self) -> str | None:
            return self.record.user

        def get_client(self) -> Client:
            return clients[self.record.client_id]

    def save_token(token: Mapping[str, Any], oauth_request: Any) -> None:
        refresh_token = token.get("refresh_token")
        record = _Token(
            access_token=token["access_token"],
            refresh_token=refresh_token,
            client_id=oauth_request.client.client_id,
            user=oauth_request.user,
            scope=token.get("scope", ""),
            issued_at=now(),
            expires_in=token["expires_in"],
            refresh_expires_at=now() + refresh_lifetime if refresh_token else None,
        )
        by_access[record.access_token] = record
        if refresh_token:
            by_refresh[refresh_token] = record

    class ClientCredentials(grants.ClientCredentialsGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS: ClassVar = list(BOTH_SECRET_METHODS)

    class Password(grants.ResourceOwnerPasswordCredentialsGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS: ClassVar = list(BOTH_SECRET_METHODS)

        def authenticate_user(self, username: str, password: str) -> str | None:
            expected = users.get(username)
            if expected is not None and secrets.compare_digest(
                password.encode(), expected.encode()
            ):
                return username
            return None

    class Refresh(grants.RefreshTokenGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS: ClassVar = list(BOTH_SECRET_METHODS)
        INCLUDE_NEW_REFRESH_TOKEN = True  # rotation (RFC 9700 §4.14.2)

        def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
            record = by_refresh.get(refresh_token)
            if record is None or record.refresh_revoked:
                return None
            if record.refresh_expires_at is not None and now() >= record.refresh_expires_at:
                return None
            return Token(record)

        def authenticate_user(self, credential: Token) -> str | None:
            return credential.record.user

        def revoke_old_credential(self, credential: Token) -> None:
            credential.record.refresh_revoked = True

    class Revocation(RevocationEndpoint):  # type: ignore[misc]
        CLIENT_AUTH_METHODS: ClassVar = list(BOTH_SECRET_METHODS)

        def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
            # RFC 7009 §2.1: the hint only says where to look first.
            record = None
            if token_type_hint != "refresh_token":
                record = by_access.get(token_string)
            if record is None:
                record = by_refresh.get(token_string) or by_access.get(token_string)
            return None if record is None else Token(record)

        def revoke_token(self, token: Token, oauth_request: Any) -> None:
            record = token.record
            stats["revocations"] += 1
            record.access_revoked = True
            if oauth_request.form.get("token") == record.refresh_token:
                # A refresh token takes its grant's access token with it (§2.1).
                record.refresh_revoked = True

    class Validator(BearerTokenValidator):  # type: ignore[misc]
        def authenticate_token(self, token_string: str) -> Token | None:
            record = by_access.get(token_string)
            return None if record is None else Token(record)

    app = Flask(__name__)
    server = AuthorizationServer(app, query_client=clients.get, save_token=save_token)
    server.scopes_supported = list(SCOPES)

    def expires_in(client: Client, grant_type: str) -> int:
        lifetime: int = client.entry["access_token_lifetime"]
        return lifetime

    server.register_token_generator(
        "default",
        BearerTokenGenerator(
            lambda **_: secrets.token_urlsafe(32),
            lambda **_: secrets.token_urlsafe(48),
            expires_in,
        ),
    )
    server.register_grant(ClientCredentials)
    server.register_grant(Password)
    server.register_grant(Refresh)
    server.register_endpoint(Revocation)
    require_oauth = ResourceProtector()
    require_oauth.register_token_validator(Validator())

    metadata = AuthorizationServerMetadata(
        issuer=issuer,
        token_endpoint=issuer + "/oauth/token",
        revocation_endpoint=issuer + "/oauth/revoke",
        grant_types_supported=["client_credentials", "password", "refresh_token"],
        token_endpoint_auth_methods_supported=list(BOTH_SECRET_METHODS),
        revocation_endpoint_auth_methods_supported=list(BOTH_SECRET_METHODS),
        scopes_supported=list(SCOPES),
    )
    for key in metadata.REGISTRY_KEYS:
        # response_types_supported is REQUIRED by RFC 8414 §2 but meaningless
        # for a server without an authorization endpoint; the rest is checked.
        if key != "response_types_supported":
            getattr(metadata, f"validate_{key}")()

    @app.get("/.well-known/oauth-authorization-server")
    def well_known() -> Any:
        return jsonify(dict(metadata))

    @app.post("/oauth/token")
    def token() -> Any:
        stats["token_calls"][request.form.get("grant_type", "")] += 1
        with lock:
            return server.create_token_response()

    @app.post("/oauth/revoke")
    def revoke() -> Any:
        with lock:
            return server.create_endpoint_response(Revocation.ENDPOINT_NAME)

    @app.before_request
    def count_resource_requests() -> None:
        if request.path.startswith("/api/"):
            stats["resource_requests"] += 1

    def resource() -> Any:
        stats["resource_served"] += 1
        record = current_token.record
        return jsonify(client_id=record.client_id, user=record.user, scope=record.scope)

    app.add_url_rule("/api/read", "read", require_oauth("read")(resource))
    app.add_url_rule("/api/admin", "admin", require_oauth("admin")(resource))

    @app.post("/_test/clock")
    def advance_clock() -> Any:
        clock_offset[0] += float(request.form["advance"])
        return jsonify(offset=clock_offset[0])

    @app.get("/_test/stats")
    def read_stats() -> Any:
        return jsonify(stats)

    return app


def main(argv: list[str] | None = None) -> None:
    """Serve the application on 127.0.0.1 until terminated."""
    from werkzeug.serving import make_server

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, type=Path)
    arguments = parser.parse_args(argv)
    config = json.loads(arguments.config.read_text())
    if os.environ.get("AUTHLIB_INSECURE_TRANSPORT") != "1":
        sys.exit("AUTHLIB_INSECURE_TRANSPORT=1 is needed for plain http on loopback")
    make_server("127.0.0.1", config["port"], build_app(config), threaded=True).serve_forever()


if __name__ == "__main__":
    main()
