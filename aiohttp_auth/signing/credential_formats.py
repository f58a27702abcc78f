"""The documents temporary AWS credentials arrive in, parsed without IO.

- STS ``AssumeRole`` responses (XML; "AssumeRole" in the AWS STS API
  reference), and STS error responses;
- ``credential_process`` output (JSON, ``Version: 1``; "Sourcing credentials
  with an external process" in the AWS CLI user guide).

Each parser returns [`AwsCredentials`][aiohttp_auth.signing.credentials.AwsCredentials]
or raises [`CredentialError`][aiohttp_auth.errors.CredentialError] with a
message that names the problem and never quotes a secret.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Any, Final

from ..errors import CredentialError
from .credentials import AwsCredentials

__all__ = ["parse_assume_role_response", "parse_iso8601", "parse_process_output"]

_STS_NS: Final = "{https://sts.amazonaws.com/doc/2011-06-15/}"


def parse_iso8601(value: str, *, what: str) -> float:
    """Parse an ISO 8601 timestamp (``2026-11-24T10:00:00Z``) to epoch seconds.

    A timestamp without a zone is taken as UTC, as AWS writes them.

    Raises:
        CredentialError: *value* is not such a timestamp; *what* names it.
    """
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise CredentialError(f"{what} is not an ISO 8601 timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def parse_assume_role_response(body: bytes, status: int = 200) -> AwsCredentials:
    """Parse STS's answer to ``AssumeRole`` (or ``AssumeRoleWithWebIdentity``).

    Args:
        body: the response body (XML).
        status: the HTTP status; an error status is reported with STS's
            ``Code`` and ``Message``.

    Raises:
        CredentialError: STS refused, or the body is not a credentials response.
    """
    try:
        root = ET.fromstring(body)  # noqa: S314 - a bounded body from the STS endpoint
    except (ET.ParseError, ValueError, LookupError):
        # expat raises ValueError and LookupError, not ParseError, for an
        # encoding declaration it cannot read ("utf-32", "cp932", "nope").
        raise CredentialError(
            f"STS answered HTTP {status} with a body that is not XML: check the STS endpoint URL"
        ) from None
    error = _find(root, "Error")
    if status != 200 or error is not None:
        code = _text(error, "Code") if error is not None else None
        message = _text(error, "Message") if error is not None else None
        raise CredentialError(
            f"STS refused AssumeRole (HTTP {status}, {code or 'no error code'}): "
            f"{message or 'no message'}"
        )
    creds = _find(root, "Credentials")
    if creds is None:
        raise CredentialError("the STS response holds no Credentials element")
    return _credentials(
        _text(creds, "AccessKeyId"),
        _text(creds, "SecretAccessKey"),
        _text(creds, "SessionToken"),
        _text(creds, "Expiration"),
        source="the STS response",
    )


def parse_process_output(output: bytes) -> AwsCredentials:
    """Parse what a ``credential_process`` command printed.

    Raises:
        CredentialError: the output is not a ``Version: 1`` credentials document.
    """
    try:
        document: Any = json.loads(output)
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: arrays nested a few thousand deep exhaust json's stack.
        raise CredentialError("credential_process printed something that is not JSON") from None
    if not isinstance(document, dict):
        raise CredentialError("credential_process printed JSON that is not an object")
    if document.get("Version") != 1:
        raise CredentialError(
            f"credential_process output has Version {document.get('Version')!r}; only 1 is known"
        )
    keys = ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")
    fields: list[str | None] = []
    for key in keys:
        value = document.get(key)
        if value is not None and not isinstance(value, str):
            raise CredentialError(f"credential_process output: {key} is not a string")
        fields.append(value)
    access_key_id, secret, token, expiration = fields
    return _credentials(
        access_key_id, secret, token, expiration, source="credential_process output"
    )


def _credentials(
    access_key_id: str | None,
    secret: str | None,
    token: str | None,
    expiration: str | None,
    *,
    source: str,
) -> AwsCredentials:
    if not access_key_id or not secret:
        missing = "AccessKeyId" if not access_key_id else "SecretAccessKey"
        raise CredentialError(f"{source} has no {missing}")
    expires_at = None if expiration is None else parse_iso8601(expiration, what="Expiration")
    return AwsCredentials(access_key_id, secret, token or None, expires_at)


def _find(element: ET.Element, name: str) -> ET.Element | None:
    """The first descendant called *name*, namespaced like STS's or not."""
    found = element.find(f".//{_STS_NS}{name}")
    return found if found is not None else element.find(f".//{name}")


def _text(element: ET.Element, name: str) -> str | None:
    child = _find(element, name)
    if child is None or child.text is None:
        return None
    return child.text.strip()
