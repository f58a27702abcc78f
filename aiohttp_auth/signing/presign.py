"""Presigned URLs: hand out a URL that works without credentials, until it expires.

``presign_url`` signs a URL in its query string (Amazon S3 API Reference,
"Authenticating Requests: Using Query Parameters"; Cloud Storage "Signed URLs"
with an HMAC key when given a GOOG4 signer). Whoever holds the URL can make
that one request, with that method, until ``expires`` seconds have passed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from yarl import URL

from ..errors import ConfigurationError
from .credentials import AwsCredentials
from .middleware import aws_wire_url
from .sigv4 import SigV4Signer

__all__ = ["presign_url"]


def presign_url(
    url: str | URL,
    *,
    credentials: AwsCredentials,
    region: str | None = None,
    service: str = "s3",
    method: str = "GET",
    expires: int = 3600,
    headers: Mapping[str, str] | None = None,
    signer: SigV4Signer | None = None,
    clock: Callable[[], float] = time.time,
) -> URL:
    """Return *url* presigned for one *method*, valid for *expires* seconds.

    Args:
        url: the absolute URL (``https://bucket.s3.eu-west-1.amazonaws.com/key``).
        credentials: the [`AwsCredentials`][aiohttp_auth.signing.credentials.AwsCredentials]
            that sign it; a session token is included in the URL.
        region: the region (or give *signer*).
        service: the signing name, ``s3`` by default.
        method: the method the URL is for.
        expires: seconds the URL stays valid, 1 to 604800 (7 days).
        headers: headers the user of the URL must send unchanged (besides
            ``Host``), e.g. ``Content-Type`` for an upload.
        signer: a ready signer (GOOG4 for Cloud Storage, custom path rules).
        clock: the clock, in epoch seconds.

    Returns:
        The URL with ``X-Amz-*`` (or ``X-Goog-*``) query parameters, its path
        and query in AWS's URI encoding.

    Raises:
        ConfigurationError: *url* is not absolute, or neither *region* nor
            *signer* is given.
        SigningError: *expires* is out of range, or a header cannot be signed.
    """
    url = URL(url)
    if not url.is_absolute() or not url.raw_host:
        raise ConfigurationError(f"presign_url needs an absolute URL, got {str(url)!r}")
    if signer is None:
        if region is None:
            raise ConfigurationError("presign_url needs region= (or signer=)")
        signer = SigV4Signer(region, service)
    url = aws_wire_url(url) or url
    signed_headers = [("Host", url.raw_authority), *(headers or {}).items()]
    query = signer.presign(
        method.upper(),
        url.raw_path,
        url.raw_query_string,
        signed_headers,
        access_key_id=credentials.access_key_id,
        secret_access_key=credentials.secret_access_key,
        session_token=credentials.session_token,
        timestamp=clock(),
        expires=expires,
    )
    return URL.build(
        scheme=url.scheme,
        authority=url.raw_authority,
        path=url.raw_path,
        query_string=query,
        encoded=True,
    )
