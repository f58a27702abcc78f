"""What a Digest client has learned from challenges, and the answers it gives (RFC 7616 §3.3-§3.4).

[`Answerer`][] keeps the protection spaces of origins and of proxies for one
login, learns a new one from each challenge, and computes the answers a
request carries. It takes plain values (the side that challenged, header
lines, URLs) and returns plain values; the middleware reads them from aiohttp and sets the
headers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeAlias

from yarl import URL

from .._origins import Origin
from .._redact import logger, safe_url
from ..errors import ChallengeError
from .answers import ORIGIN, PROXY, Answer, Channel, choose_challenge
from .spaces import ProtectionSpace, ProtectionSpaces, space_prefixes

__all__ = ["Answerer", "Learned"]

Learned: TypeAlias = tuple[Channel, ProtectionSpace]
"""A challenge just learned: the side that sent it, and the space it set up."""


class Answerer:
    """The protection spaces known to one login, and the answers computed from them.

    Args:
        login: the username.
        password: the password.
        cnonce: returns a new client nonce per answer.

    Attributes:
        spaces: the origins' protection spaces.
        proxy_spaces: the proxies' protection spaces, one per proxy (RFC 7616 §3.3).
        cnonce: returns a new client nonce per answer.
    """

    __slots__ = ("cnonce", "proxy_spaces", "spaces")

    def __init__(self, login: str, password: str, cnonce: Callable[[], str]) -> None:
        self.spaces = ProtectionSpaces(login, password)
        self.proxy_spaces = ProtectionSpaces(login, password)
        self.cnonce = cnonce

    def learn(
        self,
        channel: Channel,
        lines: Iterable[str],
        url: URL,
        proxy: URL | None,
        admits: Callable[[URL], bool],
    ) -> ProtectionSpace | None:
        """Record the challenge in a 401's or a proxy's 407's header *lines* (RFC 7616 §3.3, §3.8).

        Args:
            channel: [`ORIGIN`][aiohttp_auth.digest.answers.ORIGIN] for a 401,
                [`PROXY`][aiohttp_auth.digest.answers.PROXY] for a 407 from *proxy*.
            lines: the ``WWW-Authenticate`` or ``Proxy-Authenticate`` field lines.
            url: the URL of the challenged request.
            proxy: for a 407, the proxy that sent it; None for a 401.
            admits: the middleware's scope check, which bounds the ``domain``.

        Returns:
            The space the challenge set up, or None if it holds no usable Digest challenge.

        Raises:
            ChallengeError: nothing can be answered and a Digest challenge was malformed.
        """
        challenge, problems = choose_challenge(lines)
        if challenge is None:
            if problems:
                raise ChallengeError(
                    f"{safe_url(url)} answered {channel.status} without a usable Digest "
                    f"challenge: {'; '.join(problems)}"
                )
            return None
        if proxy is None:
            prefixes = space_prefixes(challenge.domain, url, admits)
            space = self.spaces.learn(challenge, prefixes)
        else:  # RFC 7616 §3.3: a proxy's protection space is the whole proxy.
            space = self.proxy_spaces.learn(challenge, ((Origin.of(proxy), ""),))
        logger.debug(
            "DigestAuthMiddleware: %s challenge for realm %r from %s (stale=%s)",
            space.credentials.algorithm.name,
            challenge.realm,
            safe_url(url),
            challenge.stale,
        )
        return space

    def answers(self, url: URL, proxy: URL | None, learned: Learned | None) -> list[Answer]:
        """Answer every known space that covers a request, and *learned* (RFC 7616 §3.4).

        Each answer takes its nonce count now, synchronously, so concurrent
        requests never share one.

        Args:
            url: the request's URL.
            proxy: the proxy it goes through in the clear (None through a
                ``CONNECT`` tunnel, which reaches the origin, not the proxy).
            learned: a challenge just learned from this request's response.
        """
        origin_space = self.spaces.find(url)
        proxy_space = None if proxy is None else self.proxy_spaces.find(proxy)
        if learned is not None:
            if learned[0] is PROXY:
                proxy_space = learned[1]
            else:
                origin_space = learned[1]
        answers: list[Answer] = []
        for channel, space in ((ORIGIN, origin_space), (PROXY, proxy_space)):
            if space is not None and (taken := space.take()) is not None:
                # The request-target each receives (RFC 9112 §3.2): aiohttp sends a proxy
                # the absolute-form, and a proxy forwards the origin-form to the origin.
                uri = str(url) if channel is PROXY else url.raw_path_qs
                credentials, nc = taken
                answers.append(Answer(channel, space, credentials, nc, self.cnonce(), uri))
        return answers
