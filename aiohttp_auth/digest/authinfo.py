"""The ``Authentication-Info`` of a Digest response (RFC 7616 §3.5)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from ..challenges import parse_auth_params
from ..errors import ChallengeError

__all__ = ["AuthenticationInfo", "parse_authentication_info"]

_NC: Final = re.compile(r"[0-9A-Fa-f]{8}")


@dataclass(frozen=True)
class AuthenticationInfo:
    """The ``Authentication-Info`` of a Digest response (RFC 7616 §3.5).

    Attributes:
        nextnonce: the nonce to use for the next request, or None.
        qop: the qop the server applied, lower-cased, or None.
        rspauth: the server's proof that it knows the credentials, or None.
        cnonce: the client nonce the server answered, or None.
        nc: the nonce count the server answered, or None.
    """

    nextnonce: str | None = None
    qop: str | None = None
    rspauth: str | None = None
    cnonce: str | None = None
    nc: int | None = None


def parse_authentication_info(values: str | Iterable[str]) -> AuthenticationInfo:
    """Parse ``Authentication-Info`` (or ``Proxy-Authentication-Info``) (RFC 7616 §3.5).

    Args:
        values: the field value, or all of its field lines.

    Raises:
        ChallengeError: the value is malformed, or ``nc`` is not 8
            hexadecimal digits.
    """
    text = values if isinstance(values, str) else ", ".join(values)
    params = parse_auth_params(text, what="Authentication-Info")
    nc_text = params.get("nc")
    nc = None
    if nc_text is not None:
        if _NC.fullmatch(nc_text) is None:
            raise ChallengeError(
                f"Malformed Authentication-Info: nc {nc_text!r} is not 8 hexadecimal digits "
                "(RFC 7616 §3.5)"
            )
        nc = int(nc_text, 16)
    qop = params.get("qop")
    return AuthenticationInfo(
        nextnonce=params.get("nextnonce"),
        qop=None if qop is None else qop.lower(),
        rspauth=params.get("rspauth"),
        cnonce=params.get("cnonce"),
        nc=nc,
    )
