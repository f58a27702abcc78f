"""Temporary credentials from AWS STS ``AssumeRole``, refreshed before they expire.

The request is signed with SigV4 by the source credentials and sent through
the session of the request that needs the credentials, with no middleware
(so it never signs itself, and it uses the session's connector, proxy and
TLS settings).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from typing import Final, final
from urllib.parse import urlencode

from aiohttp import ClientError, ClientSession, ClientTimeout
from yarl import URL

from .._middleware import read_limited, subrequest
from .._origins import is_secure_transport
from .._redact import safe_url
from ..errors import ConfigurationError, CredentialError, InsecureTransportError
from .credential_formats import parse_assume_role_response
from .credentials import (
    REFRESH_BEFORE,
    AwsCredentials,
    CredentialsProvider,
    RefreshableCredentials,
)
from .sigv4 import SigV4Signer

__all__ = ["AssumeRoleCredentials"]

MAX_RESPONSE: Final = 64 * 1024
"""The largest STS answer read, in bytes (a real one is about 1.5 KiB)."""

_CONTENT_TYPE: Final = "application/x-www-form-urlencoded; charset=utf-8"


@final
class AssumeRoleCredentials(RefreshableCredentials):
    """Assume an IAM role with STS, and assume it again before the credentials expire.

    Args:
        role_arn: the role to assume (``arn:aws:iam::123456789012:role/name``).
        source: the provider of the credentials that may assume it.
        session_name: the ``RoleSessionName`` (2 to 64 characters), which
            shows in CloudTrail.
        duration: the lifetime asked for, 900 to 43200 seconds.
        external_id: the ``ExternalId`` the role's trust policy requires.
        region: the STS region; the endpoint defaults to its regional one.
        endpoint: the STS endpoint URL (a VPC endpoint, a local test server).
        timeout: seconds the STS request may take.
        refresh_before: seconds before expiry at which to assume it again.
        clock: the clock, in epoch seconds.

    Raises:
        ConfigurationError: an argument is out of range.
        InsecureTransportError: *endpoint* is plain http to a non-loopback
            host, where the temporary credentials would travel in clear.
    """

    def __init__(
        self,
        role_arn: str,
        *,
        source: CredentialsProvider,
        session_name: str = "aiohttp-auth",
        duration: int = 3600,
        external_id: str | None = None,
        region: str = "us-east-1",
        endpoint: str | URL | None = None,
        timeout: float = 30.0,
        refresh_before: float = REFRESH_BEFORE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(role_arn, str) or not role_arn.startswith("arn:"):
            raise ConfigurationError(f"role_arn: expected an ARN (arn:...), got {role_arn!r}")
        if not isinstance(source, CredentialsProvider):
            raise ConfigurationError("source: expected a CredentialsProvider")
        if not 2 <= len(session_name) <= 64:
            raise ConfigurationError("session_name must be 2 to 64 characters long")
        if not 900 <= duration <= 43200:
            raise ConfigurationError(f"duration must be 900 to 43200 seconds, got {duration}")
        self.role_arn = role_arn
        self.source = source
        url = (
            URL(endpoint) if endpoint is not None else URL(f"https://sts.{region}.amazonaws.com/")
        )
        if not url.is_absolute() or url.scheme not in ("http", "https"):
            raise ConfigurationError(f"endpoint: expected an http(s) URL, got {str(url)!r}")
        if not is_secure_transport(url):
            raise InsecureTransportError(
                f"STS endpoint {safe_url(url)} is plain http: it answers with secret "
                "credentials, so use https (or a loopback test server)",
                url=safe_url(url),
            )
        self._url = url.with_path(url.path or "/")
        self._signer = SigV4Signer(region=region, service="sts")
        self._form = {
            "Action": "AssumeRole",
            "Version": "2011-06-15",
            "RoleArn": role_arn,
            "RoleSessionName": session_name,
            "DurationSeconds": str(duration),
        }
        if external_id is not None:
            self._form["ExternalId"] = external_id
        self._timeout = timeout
        super().__init__(refresh_before=refresh_before, clock=clock)

    async def fetch(self, session: ClientSession) -> AwsCredentials:
        """Call ``AssumeRole`` and parse the credentials it returns.

        Raises:
            CredentialError: STS refused, could not be reached, or answered garbage.
        """
        source = await self.source.resolve(session)
        body = urlencode(self._form).encode()
        headers = self._signed_headers(source, body)
        try:
            async with subrequest(
                session,
                "POST",
                self._url,
                data=body,
                headers=headers,
                timeout=ClientTimeout(total=self._timeout),
            ) as response:
                answer = await read_limited(response, MAX_RESPONSE)
                status = response.status
        except (ClientError, asyncio.TimeoutError) as exc:
            raise CredentialError(
                f"STS at {self._url.origin()} cannot be reached: {type(exc).__name__}"
            ) from exc
        if answer is None:
            raise CredentialError(f"STS answered more than {MAX_RESPONSE} bytes")
        return parse_assume_role_response(answer, status)

    def _signed_headers(self, source: AwsCredentials, body: bytes) -> dict[str, str]:
        headers = {"Host": self._url.raw_authority, "Content-Type": _CONTENT_TYPE}
        signed = self._signer.sign_headers(
            "POST",
            self._url.raw_path,
            "",
            list(headers.items()),
            access_key_id=source.access_key_id,
            secret_access_key=source.secret_access_key,
            session_token=source.session_token,
            payload_hash=hashlib.sha256(body).hexdigest(),
            timestamp=self._clock(),
            content_sha256_header=False,
        )
        headers.update(signed)
        return headers

    def __repr__(self) -> str:
        return f"AssumeRoleCredentials(role_arn={self.role_arn!r}, source={self.source!r})"
