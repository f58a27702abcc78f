"""Servers that verify signed requests: AWS SigV4 (S3-like) and RFC 9421 signatures.

Both are real ``aiohttp.web`` applications to serve on 127.0.0.1 with
[`LocalServer`][aiohttp_auth.testing.server.LocalServer] or
[`serve_in_thread`][aiohttp_auth.testing.server.serve_in_thread] (or the
pytest fixtures of [`aiohttp_auth.testing.signing_plugin`][]). Each one
verifies the signature of every request it receives by recomputing it from
what arrived, and records what it accepted and why it refused the rest:

- [`sigv4_app`][aiohttp_auth.testing.signing_sigv4.sigv4_app] with a
  [`SigV4Config`][aiohttp_auth.testing.signing_sigv4.SigV4Config]: SigV4
  ``Authorization`` headers, presigned URLs, ``aws-chunked`` uploads and
  session tokens, answered with S3's XML errors, plus a small in-memory
  object store;
- [`httpsig_app`][aiohttp_auth.testing.signing_httpsig.httpsig_app] with an
  [`HTTPSigConfig`][aiohttp_auth.testing.signing_httpsig.HTTPSigConfig]:
  HTTP Message Signatures (RFC 9421) and ``Content-Digest`` (RFC 9530).

They verify with the package's own sans-IO code, so they test how your code
uses the middlewares, not the signing arithmetic itself (the package's test
suite checks that against AWS's vectors, botocore, moto, LocalStack and
RFC 9421's examples).
"""

from __future__ import annotations

from .signing_httpsig import HTTPSIG_CONFIG as HTTPSIG_CONFIG
from .signing_httpsig import HTTPSigConfig as HTTPSigConfig
from .signing_httpsig import httpsig_app as httpsig_app
from .signing_sigv4 import SIGV4_CONFIG as SIGV4_CONFIG
from .signing_sigv4 import SigV4Config as SigV4Config
from .signing_sigv4 import StoredObject as StoredObject
from .signing_sigv4 import sigv4_app as sigv4_app
from .signing_sigv4_verify import VerifiedSigV4 as VerifiedSigV4

__all__ = [
    "HTTPSIG_CONFIG",
    "SIGV4_CONFIG",
    "HTTPSigConfig",
    "SigV4Config",
    "StoredObject",
    "VerifiedSigV4",
    "httpsig_app",
    "sigv4_app",
]
