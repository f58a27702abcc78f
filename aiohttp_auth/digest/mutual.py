"""Mutual authentication: the server's ``Authentication-Info`` checked (RFC 7616 §3.5).

A server that knows the credentials may prove it with ``rspauth``, and may
hand out the next nonce with ``nextnonce``. [`infos`][] finds the headers a
response carries for the answers its request sent; [`check_infos`][] checks
each ``rspauth`` and takes each ``nextnonce``.
"""

from __future__ import annotations

from aiohttp import ClientResponse

from .._redact import logger, safe_url
from ..errors import ChallengeError
from .answers import Answer
from .protocol import parse_authentication_info

__all__ = ["check_infos", "infos"]


def infos(response: ClientResponse, answers: list[Answer]) -> list[tuple[Answer, list[str]]]:
    """Pair each answer with the ``Authentication-Info`` values the response has for it.

    Most responses have none: checking for the header here spares them the
    coroutine of [`check_infos`][].
    """
    headers = response.headers
    found = []
    for answer in answers:
        if answer.channel.info in headers:
            found.append((answer, headers.getall(answer.channel.info)))
    return found


async def check_infos(response: ClientResponse, found: list[tuple[Answer, list[str]]]) -> None:
    """Check ``rspauth`` and take ``nextnonce`` from ``Authentication-Info`` (RFC 7616 §3.5).

    A malformed header is logged and ignored: it proves nothing either way.

    Args:
        response: the response that carried the headers.
        found: each answer with the values of its ``Authentication-Info`` header
            (see [`infos`][]).

    Raises:
        ChallengeError: ``rspauth`` does not match (the response is released first).
    """
    for answer, values in found:
        try:
            info = parse_authentication_info(values)
        except ChallengeError as error:
            logger.warning("DigestAuthMiddleware: ignoring %s: %s", answer.channel.info, error)
            continue
        # For qop auth-int, rspauth covers the response body (RFC 7616 §3.5).
        body = await response.read() if info.rspauth and answer.credentials.needs_body else b""
        if not answer.accept(info, body):
            message = (
                f"Mutual authentication failed: the rspauth in {answer.channel.info} from "
                f"{safe_url(response.url)} does not match the credentials for realm "
                f"{answer.space.realm!r} (RFC 7616 §3.5): the server does not know "
                "them, or something altered the response"
            )
            logger.warning("DigestAuthMiddleware: %s", message)
            response.release()
            raise ChallengeError(message)
