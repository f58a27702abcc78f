"""The query parameters of a presigned SigV4 URL.

A presigned URL carries the signature in its query instead of headers
(Amazon S3 API Reference, "Authenticating Requests: Using Query Parameters";
Cloud Storage, "Signed URLs" with ``X-Goog-*`` names). The parameters other
than the signature are part of the canonical query that gets signed.
"""

from __future__ import annotations

from typing import Final

from ..errors import SigningError
from .canonical import uri_encode
from .sigv4_scheme import SigningScheme

__all__ = [
    "MAX_PRESIGN_EXPIRES",
    "auth_parameter_pairs",
    "auth_parameters",
    "check_expires",
    "check_unsigned_query",
]

MAX_PRESIGN_EXPIRES: Final = 604800
"""The longest validity of a presigned URL, in seconds (seven days), for AWS and GCS."""

_AUTH_NAMES: Final = (
    "algorithm",
    "credential",
    "date",
    "expires",
    "signedheaders",
    "signature",
    "security-token",
)


def check_expires(expires: object) -> int:
    """Return *expires* if it is a whole number of seconds from 1 to 604800.

    Raises:
        SigningError: otherwise, naming the limit.
    """
    if isinstance(expires, bool) or not isinstance(expires, int):
        raise SigningError(f"expires must be an int number of seconds, not {expires!r}.")
    if not 1 <= expires <= MAX_PRESIGN_EXPIRES:
        raise SigningError(
            f"expires must be between 1 and {MAX_PRESIGN_EXPIRES} seconds (7 days), not {expires}."
        )
    return expires


def check_unsigned_query(raw_query: str, scheme: SigningScheme) -> None:
    """Refuse a query that already holds presigning parameters.

    A second set of ``X-Amz-*`` parameters would be signed into the new
    signature and confuse the server about which one to check; aws-c-auth
    refuses such requests too.

    Raises:
        SigningError: naming the parameter found.
    """
    prefix = scheme.header_prefix.lower()
    lowered = raw_query.lower()
    if prefix not in lowered:
        return
    for parameter in lowered.split("&"):
        name = parameter.partition("=")[0]
        if name.startswith(prefix) and name[len(prefix) :] in _AUTH_NAMES:
            raise SigningError(
                f"The query already holds {name!r}: it is signed already; "
                "presign the URL without its old signature parameters."
            )


def auth_parameter_pairs(
    scheme: SigningScheme,
    *,
    access_key_id: str,
    encoded_scope: str,
    request_date: str,
    signed_headers: str,
    expires: int,
) -> list[tuple[str, str]]:
    """Return the presigning parameters but the signature, values percent-encoded.

    *encoded_scope* is the credential scope already URI-encoded: a signer
    encodes its constant part once. The order is aws-c-auth's (Algorithm,
    Credential, Date, SignedHeaders, Expires); servers sort them for the
    canonical query anyway.
    """
    prefix = scheme.header_prefix
    return [
        (f"{prefix}Algorithm", scheme.algorithm),
        (f"{prefix}Credential", f"{uri_encode(access_key_id)}%2F{encoded_scope}"),
        (f"{prefix}Date", request_date),
        (f"{prefix}SignedHeaders", uri_encode(signed_headers)),
        (f"{prefix}Expires", str(expires)),
    ]


def auth_parameters(
    scheme: SigningScheme,
    *,
    access_key_id: str,
    scope: str,
    request_date: str,
    signed_headers: str,
    expires: int,
) -> str:
    """Return ``X-Amz-Algorithm=...&...&X-Amz-Expires=...``, percent-encoded.

    The same parameters as [`auth_parameter_pairs`][], joined, for an
    unencoded *scope*.
    """
    pairs = auth_parameter_pairs(
        scheme,
        access_key_id=access_key_id,
        encoded_scope=uri_encode(scope),
        request_date=request_date,
        signed_headers=signed_headers,
        expires=expires,
    )
    return "&".join([f"{name}={value}" for name, value in pairs])
