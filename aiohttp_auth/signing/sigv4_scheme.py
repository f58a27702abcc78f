"""The fixed parts of SigV4: schemes, dates, credential scope, string to sign, signing key.

AWS Signature Version 4 and Google Cloud Storage's HMAC variant differ only in
names: the algorithm (``AWS4-HMAC-SHA256`` / ``GOOG4-HMAC-SHA256``), the
prefix of the key derivation (``AWS4`` / ``GOOG4``), the scope terminator
(``aws4_request`` / ``goog4_request``) and the header and query parameter
prefixes (``X-Amz-`` / ``X-Goog-``). A [`SigningScheme`][] holds those names;
[`AWS4`][] and [`GOOG4`][] are the two instances. Everything else is shared
(AWS General Reference, "Signature Version 4 signing process"; Google Cloud
Storage, "V4 signing process with your own program").
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Final

from ..errors import ConfigurationError

__all__ = [
    "AWS4",
    "EMPTY_SHA256",
    "GOOG4",
    "UNSIGNED_PAYLOAD",
    "SigningScheme",
    "amz_date",
    "check_scope_part",
    "credential_scope",
    "derive_signing_key",
    "string_to_sign",
]

UNSIGNED_PAYLOAD: Final = "UNSIGNED-PAYLOAD"
"""Payload hash marker for a body left out of the signature (S3 over HTTPS, presigned URLs)."""

EMPTY_SHA256: Final = hashlib.sha256(b"").hexdigest()
"""Hex SHA-256 of the empty body: the payload hash of a request without one."""


@dataclass(frozen=True)
class SigningScheme:
    """The names that tell AWS SigV4 and Google Cloud Storage HMAC apart.

    Attributes:
        algorithm: first line of the string to sign and the ``Authorization``
            scheme, e.g. ``AWS4-HMAC-SHA256``.
        key_prefix: prepended to the secret for the first HMAC, e.g. ``AWS4``.
        terminator: last element of the credential scope, e.g. ``aws4_request``.
        header_prefix: prefix of the date, token and content-hash headers and
            of the presigned query parameters, e.g. ``X-Amz-``.
    """

    algorithm: str
    key_prefix: str
    terminator: str
    header_prefix: str

    @property
    def date_header(self) -> str:
        """The request-date header, e.g. ``X-Amz-Date``."""
        return f"{self.header_prefix}Date"

    @property
    def content_sha256_header(self) -> str:
        """The payload-hash header, e.g. ``X-Amz-Content-SHA256``."""
        return f"{self.header_prefix}Content-SHA256"

    @property
    def security_token_header(self) -> str:
        """The session-token header and query parameter, e.g. ``X-Amz-Security-Token``."""
        return f"{self.header_prefix}Security-Token"


AWS4: Final = SigningScheme(
    algorithm="AWS4-HMAC-SHA256",
    key_prefix="AWS4",
    terminator="aws4_request",
    header_prefix="X-Amz-",
)
"""AWS Signature Version 4 (AWS General Reference, "Signature Version 4")."""

GOOG4: Final = SigningScheme(
    algorithm="GOOG4-HMAC-SHA256",
    key_prefix="GOOG4",
    terminator="goog4_request",
    header_prefix="X-Goog-",
)
"""Google Cloud Storage HMAC keys (Cloud Storage, "Signatures": V4 signing with HMAC)."""


def amz_date(timestamp: float) -> str:
    """Format epoch seconds as the ISO 8601 basic UTC form SigV4 uses, ``20150830T123600Z``."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(int(timestamp)))


def check_scope_part(name: str, value: object) -> str:
    """Return *value* if it can be the region or service of a credential scope.

    Raises:
        ConfigurationError: *value* is missing, empty, or holds ``/``,
            whitespace or non-printable characters; the message names *name*.
    """
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"SigV4: {name} must be a non-empty string, not {value!r}.")
    if not (value.isascii() and value.isprintable()) or "/" in value or " " in value:
        raise ConfigurationError(
            f"SigV4: {name} {value!r} cannot be part of a credential scope "
            "(printable ASCII without '/' or spaces, such as 'us-east-1' or 's3')."
        )
    return value


def credential_scope(date: str, region: str, service: str, scheme: SigningScheme = AWS4) -> str:
    """Return ``date/region/service/aws4_request`` (AWS "Create a string to sign").

    Args:
        date: the day, ``YYYYMMDD``.
        region: e.g. ``us-east-1``; ``auto`` for Cloud Storage.
        service: e.g. ``s3``; ``storage`` for Cloud Storage.
        scheme: [`AWS4`][] or [`GOOG4`][].
    """
    return f"{date}/{region}/{service}/{scheme.terminator}"


def string_to_sign(algorithm: str, request_date: str, scope: str, canonical_request: str) -> str:
    """Return the string to sign (AWS General Reference, "Create a string to sign").

    Args:
        algorithm: e.g. ``AWS4-HMAC-SHA256``.
        request_date: the request time, ``YYYYMMDDTHHMMSSZ``.
        scope: from [`credential_scope`][].
        canonical_request: from
            [`canonical_request`][aiohttp_auth.signing.canonical.canonical_request].
    """
    digest = hashlib.sha256(canonical_request.encode()).hexdigest()
    return f"{algorithm}\n{request_date}\n{scope}\n{digest}"


def derive_signing_key(
    secret_access_key: str,
    date: str,
    region: str,
    service: str,
    scheme: SigningScheme = AWS4,
) -> bytes:
    """Derive the signing key (AWS General Reference, "Derive a signing key").

    ``HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")``.
    The key is valid for one day, region and service; cache it, never log it.

    Args:
        secret_access_key: the secret half of the access key.
        date: the day, ``YYYYMMDD``.
        region: the region of the credential scope.
        service: the service of the credential scope.
        scheme: [`AWS4`][] or [`GOOG4`][].
    """
    key = (scheme.key_prefix + secret_access_key).encode()
    for part in (date, region, service, scheme.terminator):
        key = hmac.digest(key, part.encode(), "sha256")
    return key
