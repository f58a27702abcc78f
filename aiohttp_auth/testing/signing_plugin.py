"""pytest fixtures for the signature-verifying servers of [`aiohttp_auth.testing.signing`][].

The servers run in a thread with their own event loop, as those of
[`aiohttp_auth.testing.plugin`][], so the fixtures work with any async
framework or none.

Fixtures:
    sigv4_config: a fresh [`SigV4Config`][aiohttp_auth.testing.signing_sigv4.SigV4Config]
        (``us-east-1``, ``s3``, no keys); add the keys it accepts with
        ``sigv4_config.accept(AwsCredentials(...))`` before or during the test.
    sigv4_server: the SigV4-verifying S3-like server served on 127.0.0.1 for
        the test, as a [`LocalServer`][aiohttp_auth.testing.server.LocalServer].
    httpsig_config: a fresh [`HTTPSigConfig`][aiohttp_auth.testing.signing_httpsig.HTTPSigConfig]
        (no keys); add ``keyid -> public key`` entries to ``httpsig_config.keys``.
    httpsig_server: the RFC 9421-verifying server served on 127.0.0.1 for the
        test, as a [`LocalServer`][aiohttp_auth.testing.server.LocalServer].
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import LocalServer, serve_in_thread
from .signing_httpsig import HTTPSigConfig, httpsig_app
from .signing_sigv4 import SigV4Config, sigv4_app

__all__ = ["httpsig_config", "httpsig_server", "sigv4_config", "sigv4_server"]


@pytest.fixture
def sigv4_config() -> SigV4Config:
    """Return what the SigV4 server accepts (no keys yet); edit it in the test."""
    return SigV4Config()


@pytest.fixture
def sigv4_server(sigv4_config: SigV4Config) -> Iterator[LocalServer]:
    """Serve the SigV4-verifying server on 127.0.0.1 for one test."""
    with serve_in_thread(sigv4_app(sigv4_config)) as server:
        yield server


@pytest.fixture
def httpsig_config() -> HTTPSigConfig:
    """Return what the RFC 9421 server accepts (no keys yet); edit it in the test."""
    return HTTPSigConfig()


@pytest.fixture
def httpsig_server(httpsig_config: HTTPSigConfig) -> Iterator[LocalServer]:
    """Serve the RFC 9421-verifying server on 127.0.0.1 for one test."""
    with serve_in_thread(httpsig_app(httpsig_config)) as server:
        yield server
