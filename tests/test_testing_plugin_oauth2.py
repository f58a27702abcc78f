"""The pytest plugin's OAuth 2 fixtures: the issuer a test sets is kept."""

from __future__ import annotations

import json
import urllib.request

import pytest

from aiohttp_auth.testing import AuthorizationServerConfig, LocalServer

ISSUER = "https://issuer.example"


@pytest.fixture
def oauth2_config() -> AuthorizationServerConfig:
    # Overrides the plugin's fixture, as a user's test module would.
    return AuthorizationServerConfig(issuer=ISSUER)


def test_an_issuer_set_by_the_test_is_not_replaced(
    oauth2_config: AuthorizationServerConfig, oauth2_server: LocalServer
) -> None:
    assert oauth2_config.issuer == ISSUER
    url = str(oauth2_server.make_url("/.well-known/oauth-authorization-server"))
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback URL
        metadata = json.load(response)
    assert metadata["issuer"] == ISSUER
