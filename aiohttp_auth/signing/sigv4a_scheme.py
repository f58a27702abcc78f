"""The names SigV4a adds to SigV4: its algorithm and the region set.

SigV4a (AWS IAM User Guide, "AWS Signature Version 4 for API requests", "How AWS SigV4a
works") signs for a *set* of regions instead of one. The set travels, signed, in the
``X-Amz-Region-Set`` header (or query parameter of a presigned URL) as regions joined
with ``,``; ``*`` stands for every region.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from ..errors import ConfigurationError
from .sigv4_scheme import SigningScheme

__all__ = ["AWS4A", "REGION_SET_HEADER", "has_region_set", "region_set_value"]

AWS4A: Final = SigningScheme(
    algorithm="AWS4-ECDSA-P256-SHA256",
    key_prefix="AWS4A",
    terminator="aws4_request",
    header_prefix="X-Amz-",
)
"""The names of SigV4a: algorithm ``AWS4-ECDSA-P256-SHA256``, ``X-Amz-*`` headers and
parameters. ``key_prefix`` is the prefix of the KDF input key, not of an HMAC chain."""

REGION_SET_HEADER: Final = "X-Amz-Region-Set"
"""The header (and presigned query parameter) that carries the signed region set."""


def region_set_value(region_set: str | Sequence[str]) -> str:
    """Return the ``X-Amz-Region-Set`` value for *region_set*: regions joined with ``,``.

    Args:
        region_set: one region (``"us-east-1"``), a comma-separated list, or a sequence
            of regions; ``"*"`` stands for every region.

    Returns:
        The regions joined with ``,``, each stripped of surrounding spaces.

    Raises:
        ConfigurationError: the set is empty, or a region is empty or holds anything but
            printable ASCII without ``/``, ``,`` or whitespace.
    """
    if isinstance(region_set, str):
        regions = region_set.split(",")
    elif isinstance(region_set, Sequence) and all(isinstance(r, str) for r in region_set):
        regions = list(region_set)
    else:
        raise ConfigurationError(
            f"SigV4a: region_set must be a string or a sequence of strings, not {region_set!r}."
        )
    regions = [region.strip() for region in regions]
    if not regions or not all(regions):
        raise ConfigurationError(
            f"SigV4a: region_set {region_set!r} is empty or holds an empty region; "
            "give at least one region, such as 'us-east-1', or '*' for all."
        )
    for region in regions:
        if not (region.isascii() and region.isprintable()) or any(c in region for c in "/, "):
            raise ConfigurationError(
                f"SigV4a: region {region!r} cannot be part of a region set "
                "(printable ASCII without '/', ',' or spaces, such as 'us-east-1' or '*')."
            )
    return ",".join(regions)


def has_region_set(raw_query: str) -> bool:
    """Tell whether *raw_query* already holds an ``X-Amz-Region-Set`` parameter.

    [`check_unsigned_query`][aiohttp_auth.signing.sigv4_query.check_unsigned_query] knows
    SigV4's parameters only; a second region set would be signed along with the signer's
    and leave the server two to choose from.
    """
    lowered = raw_query.lower()
    if "region-set" not in lowered:
        return False
    return any(p.partition("=")[0] == "x-amz-region-set" for p in lowered.split("&"))
