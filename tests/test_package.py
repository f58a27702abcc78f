"""The package's public surface: contract names, explicit re-exports, a cheap import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import aiohttp_auth

# Names of the contract (../shared/DESIGN.md) that exist so far.
CONTRACT_NAMES = [
    "ApiKeyMiddleware",
    "AuthError",
    "BasicAuthMiddleware",
    "BearerAuthMiddleware",
    "ChallengeError",
    "ConfigurationError",
    "DigestAuthMiddleware",
    "InsecureTransportError",
    "MemoryTokenStore",
    "OAuth2Error",
    "OAuth2Middleware",
    "SigningError",
    "StoreError",
    "Token",
    "TokenError",
    "TokenStore",
]


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_contract_name_is_exported(name: str) -> None:
    assert name in aiohttp_auth.__all__
    assert getattr(aiohttp_auth, name).__name__ == name


def test_every_name_in_all_resolves() -> None:
    for name in aiohttp_auth.__all__:
        assert getattr(aiohttp_auth, name) is not None


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'NoSuchMiddleware'"):
        aiohttp_auth.NoSuchMiddleware  # noqa: B018


def test_import_loads_no_oauth2_store_signing_or_crypto_module() -> None:
    # The static middlewares' users pay for nothing else: oauth2, stores, signing and the
    # crypto libraries load on first use of their names.
    probe = (
        "import sys, aiohttp_auth; "
        "heavy = ('aiohttp_auth.oauth2', 'aiohttp_auth.stores', 'joserfc', 'authlib', "
        "'cryptography', 'keyring', 'redis', 'aiohttp_auth.signing', 'http_sfv'); "
        "print([m for m in heavy if m in sys.modules])"
    )
    loaded = subprocess.run(  # noqa: S603 - our own interpreter and a fixed program
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert loaded.stdout.strip() == "[]"
