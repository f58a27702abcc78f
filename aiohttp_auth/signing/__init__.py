"""Request signing for cloud APIs: AWS SigV4/SigV4a, GCS HMAC, RFC 9421, Azure SharedKey.

The middlewares (also exported by ``aiohttp_auth``) adapt aiohttp to the
sans-IO signers; the signers, verifiers and credential providers are here for
code that signs or verifies without a middleware (presigned URLs, webhook
verification). Names load on first use, so importing one scheme does not
import the others' dependencies.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .aws_config import AwsProfile as AwsProfile
    from .aws_config import load_profile as load_profile
    from .aws_config import profile_credentials as profile_credentials
    from .azure import SharedKeySigner as SharedKeySigner
    from .azure_middleware import AzureSharedKeyMiddleware as AzureSharedKeyMiddleware
    from .content_digest import content_digest as content_digest
    from .content_digest import verify_content_digest as verify_content_digest
    from .credentials import AwsCredentials as AwsCredentials
    from .credentials import CredentialsProvider as CredentialsProvider
    from .credentials import EnvironmentCredentials as EnvironmentCredentials
    from .credentials import RefreshableCredentials as RefreshableCredentials
    from .credentials import StaticCredentials as StaticCredentials
    from .hmac_fields import HMACSigner as HMACSigner
    from .hmac_middleware import HMACHeadersMiddleware as HMACHeadersMiddleware
    from .hmac_middleware import SignableRequest as SignableRequest
    from .httpsig import HTTPSigner as HTTPSigner
    from .httpsig_middleware import HTTPSignatureMiddleware as HTTPSignatureMiddleware
    from .httpsig_verify import VerifiedSignature as VerifiedSignature
    from .httpsig_verify import verify_request as verify_request
    from .httpsig_verify import verify_response as verify_response
    from .middleware import GoogleHMACMiddleware as GoogleHMACMiddleware
    from .middleware import SigV4Middleware as SigV4Middleware
    from .presign import presign_url as presign_url
    from .process import ProcessCredentials as ProcessCredentials
    from .sigv4 import SigV4Signer as SigV4Signer
    from .sigv4a import SigV4aSigner as SigV4aSigner
    from .sts import AssumeRoleCredentials as AssumeRoleCredentials

_LAZY = {
    "AssumeRoleCredentials": "sts",
    "AwsCredentials": "credentials",
    "AwsProfile": "aws_config",
    "AzureSharedKeyMiddleware": "azure_middleware",
    "CredentialsProvider": "credentials",
    "EnvironmentCredentials": "credentials",
    "GoogleHMACMiddleware": "middleware",
    "HMACHeadersMiddleware": "hmac_middleware",
    "HMACSigner": "hmac_fields",
    "HTTPSignatureMiddleware": "httpsig_middleware",
    "HTTPSigner": "httpsig",
    "ProcessCredentials": "process",
    "RefreshableCredentials": "credentials",
    "SharedKeySigner": "azure",
    "SignableRequest": "hmac_middleware",
    "SigV4Middleware": "middleware",
    "SigV4Signer": "sigv4",
    "SigV4aSigner": "sigv4a",
    "StaticCredentials": "credentials",
    "VerifiedSignature": "httpsig_verify",
    "content_digest": "content_digest",
    "load_profile": "aws_config",
    "presign_url": "presign",
    "profile_credentials": "aws_config",
    "verify_content_digest": "content_digest",
    "verify_request": "httpsig_verify",
    "verify_response": "httpsig_verify",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'aiohttp_auth.signing' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = sorted(_LAZY)
