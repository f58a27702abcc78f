"""RFC 8414 / OpenID Connect metadata, sans-IO: metadata URLs, validation, grants.

No event loop, no server: tables of (input, expected) rows built from RFC
8414's own examples, Authlib's independent URL builder, the embedded
authorization server's metadata and hand-made documents.
"""

from __future__ import annotations

import ast
import inspect
import json
import logging
import pickle
import secrets
import time
from types import ModuleType
from typing import Any

import pytest
from authlib.oauth2.rfc8414 import get_well_known_url

from aiohttp_auth.errors import ConfigurationError, TokenError
from aiohttp_auth.oauth2 import ClientCredentials, Password, RefreshToken, _metadata_validation
from aiohttp_auth.oauth2 import metadata as metadata_module
from aiohttp_auth.oauth2.grants import BaseGrant
from aiohttp_auth.oauth2.metadata import ServerMetadata, metadata_urls
from aiohttp_auth.testing import AuthorizationServerConfig
from aiohttp_auth.testing.oauth2.metadata import server_metadata

ISSUER = "https://as.example"
OAUTH_PATH = "/.well-known/oauth-authorization-server"
OPENID_PATH = "/.well-known/openid-configuration"
SECRET = "app-" + secrets.token_urlsafe(12)


def document(**members: Any) -> bytes:
    """A minimal valid metadata document for ISSUER, with *members* changed (None drops one)."""
    fields: dict[str, Any] = {"issuer": ISSUER, "token_endpoint": ISSUER + "/token"}
    fields.update(members)
    return json.dumps(
        {name: value for name, value in fields.items() if value is not None}
    ).encode()


# --- metadata_urls ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("issuer", "openid", "expected"),
    [
        # RFC 8414 §3.1's example.
        (
            "https://example.com/issuer1",
            False,
            ["https://example.com/.well-known/oauth-authorization-server/issuer1"],
        ),
        (
            "https://as.example",
            None,
            [
                "https://as.example/.well-known/oauth-authorization-server",
                "https://as.example/.well-known/openid-configuration",
            ],
        ),
        # A terminating "/" is removed before inserting (RFC 8414 §3.1).
        (
            "https://as.example/",
            False,
            ["https://as.example/.well-known/oauth-authorization-server"],
        ),
        (
            "https://as.example/tenant/",
            None,
            [
                "https://as.example/.well-known/oauth-authorization-server/tenant",
                "https://as.example/.well-known/openid-configuration/tenant",
                "https://as.example/tenant/.well-known/openid-configuration",
            ],
        ),
        # OpenID Connect Discovery 1.0 §4 appends; RFC 8414 §5's inserted form first.
        (
            "https://as.example:8443/realms/a b",
            True,
            [
                "https://as.example:8443/.well-known/openid-configuration/realms/a%20b",
                "https://as.example:8443/realms/a%20b/.well-known/openid-configuration",
            ],
        ),
        (
            "http://127.0.0.1:8080",
            True,
            ["http://127.0.0.1:8080/.well-known/openid-configuration"],
        ),
        (
            "https://login.example.com/3f2a/v2.0",
            False,
            ["https://login.example.com/.well-known/oauth-authorization-server/3f2a/v2.0"],
        ),
    ],
)
def test_metadata_urls(issuer: str, openid: bool | None, expected: list[str]) -> None:
    assert metadata_urls(issuer, openid=openid) == expected


@pytest.mark.parametrize(
    "issuer",
    ["https://as.example", "https://as.example/tenant", "https://as.example:444/a/b/c"],
)
@pytest.mark.parametrize("suffix", ["oauth-authorization-server", "openid-configuration"])
def test_metadata_urls_agree_with_authlib(issuer: str, suffix: str) -> None:
    # Authlib's get_well_known_url is an independent implementation of §3.1.
    assert get_well_known_url(issuer, external=True, suffix=suffix) in metadata_urls(issuer)


@pytest.mark.parametrize(
    ("issuer", "words"),
    [
        ("as.example", "issuer identifier"),
        ("/tenant", "issuer identifier"),
        ("ftp://as.example", "issuer identifier"),
        ("https://", "issuer identifier"),
        ("http://[::1", "issuer identifier"),
        (42, "expected a URL string"),
        ("https://as.example/?tenant=1", "no query"),
        ("https://as.example?", "no query"),
        ("https://as.example/#top", "no query, fragment"),
        ("https://user:pw@as.example", "user info"),
        ("http://as.example", "plain http"),
    ],
)
def test_bad_issuer_is_a_configuration_error(issuer: Any, words: str) -> None:
    with pytest.raises(ConfigurationError, match=words) as caught:
        metadata_urls(issuer)
    assert "pw" not in str(caught.value)


def test_http_issuer_on_a_remote_host_needs_allow_http() -> None:
    assert metadata_urls("http://as.example", openid=False, allow_http=True) == [
        "http://as.example/.well-known/oauth-authorization-server"
    ]


def test_openid_must_be_a_bool_or_none() -> None:
    with pytest.raises(ConfigurationError, match="openid"):
        metadata_urls(ISSUER, openid="yes")  # type: ignore[arg-type]


# --- ServerMetadata.from_json ------------------------------------------------------------


def test_embedded_server_metadata_parses_into_every_field() -> None:
    config = AuthorizationServerConfig()
    config.register("app", SECRET, scopes=("read", "admin"))
    body = json.dumps(server_metadata(config, ISSUER)).encode()
    metadata = ServerMetadata.from_json(body, issuer=ISSUER)
    assert metadata.issuer == ISSUER
    assert metadata.token_endpoint == ISSUER + "/token"
    assert metadata.authorization_endpoint == ISSUER + "/authorize"
    assert metadata.device_authorization_endpoint == ISSUER + "/device_authorization"
    assert metadata.revocation_endpoint == ISSUER + "/revoke"
    assert metadata.introspection_endpoint == ISSUER + "/introspect"
    assert metadata.jwks_uri == ISSUER + "/jwks.json"
    assert metadata.grant_types_supported is not None
    assert "client_credentials" in metadata.grant_types_supported
    assert metadata.token_endpoint_auth_methods_supported == (
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
        "private_key_jwt",
        "none",
    )
    assert metadata.code_challenge_methods_supported == ("S256",)
    assert metadata.scopes_supported == ("admin", "read")
    # Everything else is kept, as received.
    assert metadata.extra["response_types_supported"] == ["code"]
    assert metadata.extra["authorization_response_iss_parameter_supported"] is True
    assert "issuer" not in metadata.extra
    assert "token_endpoint" not in metadata.extra


def test_minimal_document_leaves_unlisted_members_none() -> None:
    metadata = ServerMetadata.from_json(document(), issuer=ISSUER)
    assert metadata == ServerMetadata(issuer=ISSUER, token_endpoint=ISSUER + "/token")
    assert metadata.revocation_endpoint is None
    assert metadata.grant_types_supported is None
    assert dict(metadata.extra) == {}


def test_null_members_count_as_absent() -> None:
    fields = json.loads(document()) | {"revocation_endpoint": None, "scopes_supported": None}
    metadata = ServerMetadata.from_json(json.dumps(fields), issuer=ISSUER)
    assert metadata.revocation_endpoint is None
    assert metadata.scopes_supported is None


def test_text_and_byte_order_mark_are_accepted() -> None:
    metadata = ServerMetadata.from_json(b"\xef\xbb\xbf" + document(), issuer=ISSUER)
    assert metadata.token_endpoint == ISSUER + "/token"
    assert ServerMetadata.from_json(document().decode(), issuer=ISSUER) == metadata


def test_metadata_is_immutable_hashable_and_picklable() -> None:
    metadata = ServerMetadata.from_json(document(op_tos_uri=ISSUER + "/tos"), issuer=ISSUER)
    with pytest.raises(TypeError):
        metadata.extra["op_tos_uri"] = "https://evil.example"  # type: ignore[index]
    copy = pickle.loads(pickle.dumps(metadata))  # noqa: S301 - our own object
    assert copy == metadata
    assert hash(copy) == hash(metadata)
    assert copy.extra["op_tos_uri"] == ISSUER + "/tos"
    assert "extra" not in repr(metadata)


@pytest.mark.parametrize(
    "named",
    ["https://evil.example", "https://as.example.evil.example", "https://AS.example", ""],
)
def test_issuer_mismatch_is_refused_as_a_possible_mix_up(named: str) -> None:
    with pytest.raises(TokenError, match="mix-up attack") as caught:
        ServerMetadata.from_json(document(issuer=named), issuer=ISSUER, url=ISSUER + OAUTH_PATH)
    message = str(caught.value)
    assert "RFC 8414 §3.3" in message
    assert ISSUER + OAUTH_PATH in message
    assert "trailing slash" not in message


@pytest.mark.parametrize(
    ("requested", "named"),
    [(ISSUER, ISSUER + "/"), (ISSUER + "/", ISSUER)],
)
def test_trailing_slash_mismatch_says_which_issuer_to_pass(requested: str, named: str) -> None:
    with pytest.raises(TokenError, match=f"trailing slash: pass issuer='{named}'"):
        ServerMetadata.from_json(document(issuer=named), issuer=requested)


@pytest.mark.parametrize("issuer_member", [None, 42, ["https://as.example"]])
def test_document_without_an_issuer_string_is_refused(issuer_member: Any) -> None:
    fields = json.loads(document())
    fields["issuer"] = issuer_member
    if issuer_member is None:
        del fields["issuer"]
    with pytest.raises(TokenError, match="no issuer member"):
        ServerMetadata.from_json(json.dumps(fields), issuer=ISSUER)


def test_document_without_token_endpoint_is_refused() -> None:
    with pytest.raises(TokenError, match="no token_endpoint"):
        ServerMetadata.from_json(document(token_endpoint=None), issuer=ISSUER)


@pytest.mark.parametrize(
    ("member", "value", "words"),
    [
        ("token_endpoint", "http://as.example/token", "plain http"),
        ("revocation_endpoint", "http://as.example/revoke", "plain http"),
        ("jwks_uri", "http://as.example/jwks", "plain http"),
        ("token_endpoint", "/token", "not an absolute https URL"),
        ("authorization_endpoint", "javascript:alert(1)", "not an absolute https URL"),
        ("device_authorization_endpoint", "https://", "not an absolute https URL"),
        ("introspection_endpoint", "http://[::1", "not an absolute https URL"),
        ("token_endpoint", "https://as.example/token#frag", "fragment or user info"),
        ("token_endpoint", "https://u:p@as.example/token", "fragment or user info"),
        ("token_endpoint", 42, "must be a URL string"),
        ("revocation_endpoint", ["https://as.example/revoke"], "must be a URL string"),
    ],
)
def test_bad_endpoint_is_refused(member: str, value: Any, words: str) -> None:
    with pytest.raises(TokenError, match=words) as caught:
        ServerMetadata.from_json(document(**{member: value}), issuer=ISSUER)
    assert member in str(caught.value)
    assert ":p@" not in str(caught.value)


def test_http_endpoints_on_loopback_are_accepted() -> None:
    issuer = "http://127.0.0.1:8080"
    body = document(issuer=issuer, token_endpoint="http://localhost:8080/token")
    assert ServerMetadata.from_json(body, issuer=issuer).token_endpoint.startswith("http://")


def test_http_endpoints_on_remote_hosts_need_allow_http() -> None:
    body = document(issuer="http://as.example", token_endpoint="http://as.example/token")
    metadata = ServerMetadata.from_json(body, issuer="http://as.example", allow_http=True)
    assert metadata.token_endpoint == "http://as.example/token"


@pytest.mark.parametrize(
    "value", ["client_credentials", [1, 2], {"a": "b"}, ["client_credentials", None]]
)
@pytest.mark.parametrize(
    "member",
    [
        "grant_types_supported",
        "token_endpoint_auth_methods_supported",
        "code_challenge_methods_supported",
        "scopes_supported",
    ],
)
def test_supported_lists_must_be_arrays_of_strings(member: str, value: Any) -> None:
    with pytest.raises(TokenError, match=f"{member} must be a JSON array of strings"):
        ServerMetadata.from_json(document(**{member: value}), issuer=ISSUER)


@pytest.mark.parametrize(
    "body",
    [b"", b"<!doctype html><title>Sign in</title>", b"[]", b'"issuer"', b"{", b"\xff\xfe", b"1"],
)
def test_garbage_is_not_metadata(body: bytes) -> None:
    with pytest.raises(TokenError, match="is not a JSON object"):
        ServerMetadata.from_json(body, issuer=ISSUER)


def test_from_json_checks_the_requested_issuer_too() -> None:
    with pytest.raises(ConfigurationError, match="no query"):
        ServerMetadata.from_json(document(), issuer=ISSUER + "?x=1")


# --- choosing the client authentication, building grants ---------------------------------


@pytest.mark.parametrize(
    ("supported", "has_secret", "has_private_key", "expected"),
    [
        (None, True, False, "client_secret_basic"),
        (None, False, True, "private_key_jwt"),
        (None, False, False, "none"),
        (("client_secret_post", "client_secret_basic"), True, False, "client_secret_basic"),
        (("client_secret_post", "private_key_jwt"), True, False, "client_secret_post"),
        (("client_secret_jwt", "private_key_jwt"), True, False, "client_secret_jwt"),
        (("client_secret_basic", "private_key_jwt"), True, True, "private_key_jwt"),
        (("client_secret_basic", "none"), False, False, "none"),
        (("client_secret_basic", "tls_client_auth"), False, False, "tls_client_auth"),
        (("self_signed_tls_client_auth",), False, False, "self_signed_tls_client_auth"),
    ],
)
def test_client_auth_method_prefers_keys_then_basic_then_post(
    supported: tuple[str, ...] | None, has_secret: bool, has_private_key: bool, expected: str
) -> None:
    metadata = ServerMetadata(
        ISSUER, ISSUER + "/token", token_endpoint_auth_methods_supported=supported
    )
    assert (
        metadata.client_auth_method(has_secret=has_secret, has_private_key=has_private_key)
        == expected
    )


@pytest.mark.parametrize(
    ("supported", "has_secret", "has_private_key", "words"),
    [
        (("client_secret_basic",), False, True, "with a private key"),
        (("private_key_jwt",), True, False, "with a secret"),
        (("client_secret_post",), False, False, "with no secret"),
        ((), True, False, "accepts nothing"),
    ],
)
def test_client_auth_method_the_server_does_not_list_is_a_configuration_error(
    supported: tuple[str, ...], has_secret: bool, has_private_key: bool, words: str
) -> None:
    metadata = ServerMetadata(
        ISSUER, ISSUER + "/token", token_endpoint_auth_methods_supported=supported
    )
    with pytest.raises(ConfigurationError, match=words) as caught:
        metadata.client_auth_method(has_secret=has_secret, has_private_key=has_private_key)
    assert "client_auth=" in str(caught.value)


def full_metadata(**changes: Any) -> ServerMetadata:
    config = AuthorizationServerConfig()
    fields = server_metadata(config, ISSUER) | changes
    return ServerMetadata.from_json(json.dumps(fields), issuer=ISSUER)


def test_make_grant_fills_the_token_endpoint_and_client_auth() -> None:
    metadata = full_metadata(token_endpoint_auth_methods_supported=["client_secret_post"])
    grant = metadata.make_grant(ClientCredentials, "app", SECRET, scope="read")
    assert isinstance(grant, ClientCredentials)
    assert grant.token_url == ISSUER + "/token"
    assert grant.client_auth.method == "client_secret_post"
    request = grant.token_request(now=0.0, jti="j")
    assert request.form["client_secret"] == SECRET
    assert request.form["scope"] == "read"


def test_make_grant_keeps_what_the_caller_gives() -> None:
    metadata = full_metadata(token_endpoint_auth_methods_supported=["client_secret_post"])
    grant = metadata.make_grant(
        RefreshToken,
        "app",
        SECRET,
        refresh_token="rt-1",
        token_url="https://other.example/token",
        client_auth="client_secret_basic",
    )
    assert grant.token_url == "https://other.example/token"
    assert grant.client_auth.method == "client_secret_basic"


def test_make_grant_with_a_private_key_signs_client_assertions() -> None:
    from joserfc.jwk import ECKey

    key = ECKey.generate_key("P-256").as_dict(private=True)
    grant = full_metadata().make_grant(ClientCredentials, "app", private_key=key)
    assert grant.client_auth.method == "private_key_jwt"
    assert "client_assertion" in grant.token_request(now=time.time(), jti="j").form


def test_make_grant_for_a_public_client_uses_none() -> None:
    grant = full_metadata().make_grant(
        Password, "cli", username="alice", password="pw-" + secrets.token_hex(4)
    )
    assert grant.client_auth.method == "none"
    assert grant.token_request(now=0.0, jti="j").form["client_id"] == "cli"


def test_grant_type_the_server_does_not_list_is_tried_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metadata = full_metadata(grant_types_supported=["authorization_code"])
    with caplog.at_level(logging.WARNING, logger="aiohttp_auth"):
        grant = metadata.make_grant(ClientCredentials, "app", SECRET)
    assert grant.token_url == ISSUER + "/token"
    assert "does not list grant type client_credentials" in caplog.text
    assert SECRET not in caplog.text


def test_listed_grant_type_gives_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="aiohttp_auth"):
        full_metadata().make_grant(ClientCredentials, "app", SECRET)
    assert caplog.records == []


class CodeLikeGrant(BaseGrant):
    """A grant whose constructor takes the authorization endpoint first, as
    DESIGN.md's AuthorizationCode and DeviceCode do."""

    grant_type = "authorization_code"

    def __init__(
        self,
        authorization_url: str,
        token_url: str,
        client_id: str,
        client_secret: str | None = None,
        *,
        device_authorization_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(token_url, client_id, client_secret, **kwargs)
        self.authorization_url = authorization_url
        self.device_authorization_url = device_authorization_url

    def grant_params(self, *, now: float, jti: str) -> dict[str, str]:
        return {"code": "c"}


def test_make_grant_fills_every_endpoint_the_grant_takes() -> None:
    grant = full_metadata().make_grant(CodeLikeGrant, "app", SECRET)
    assert grant.authorization_url == ISSUER + "/authorize"
    assert grant.device_authorization_url == ISSUER + "/device_authorization"
    assert grant.token_url == ISSUER + "/token"


def test_make_grant_without_a_needed_endpoint_is_a_configuration_error() -> None:
    metadata = full_metadata(authorization_endpoint=None)
    with pytest.raises(
        ConfigurationError, match=r"needs authorization_url.*no authorization_endpoint"
    ):
        metadata.make_grant(CodeLikeGrant, "app", SECRET)
    grant = metadata.make_grant(
        CodeLikeGrant, "app", SECRET, authorization_url="https://as.example/login"
    )
    assert grant.authorization_url == "https://as.example/login"


# --- the sans-IO boundary ------------------------------------------------------------------


def imported_modules(module: ModuleType) -> set[str]:
    tree = ast.parse(inspect.getsource(module))
    names = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    return names | {
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    }


@pytest.mark.parametrize(
    "module", [metadata_module, _metadata_validation], ids=lambda module: module.__name__
)
def test_metadata_modules_import_no_http_client(module: ModuleType) -> None:
    # Parsing metadata and building grants needs no HTTP: discovery.py does the IO.
    assert imported_modules(module)
    assert not {name for name in imported_modules(module) if name.split(".")[0] == "aiohttp"}
