"""Two reference Digest middlewares that split what a Digest middleware costs.

Against aiohttp's ``DigestAuthMiddleware`` they bound what ours can gain on the
benchmark server's Digest route (``server.py``):

* :class:`PrecomputedDigest` carries a Digest-sized header computed once per
  path: the floor of any Digest middleware, and so the ceiling of the
  ours / aiohttp's ratio;
* :class:`HeaderOnlyDigest` does per request only the irreducible work, with
  our own header code and no middleware logic: what ours costs beyond it is
  its own logic.

``run.py`` measures both in its throughput rounds and ``digest_warm_profile.py``
counts their instructions.
"""

from __future__ import annotations

import os

import aiohttp
from aiohttp import hdrs
from aiohttp.client_middlewares import ClientHandlerType
from server import DIGEST_LOGIN, DIGEST_PASSWORD, digest_authorization, digest_challenge

from aiohttp_auth.digest.answers import choose_challenge
from aiohttp_auth.digest.protocol import make_cnonce
from aiohttp_auth.digest.spaces import ProtectionSpaces


class PrecomputedDigest:
    """The floor of any Digest middleware: a valid answer computed once per URL path.

    Every later request to the path carries the same answer (the same nonce
    count and client nonce, which a verifying server would refuse as a
    replay), so per request it only sets a header of Digest's size. Against it,
    aiohttp's middleware shows the most any Digest middleware could gain on
    this setup: the ceiling of the ours / aiohttp's ratio.
    """

    def __init__(self, algorithm: str) -> None:
        self._algorithm = algorithm
        self._answers: dict[str, str] = {}

    async def __call__(
        self, request: aiohttp.ClientRequest, handler: ClientHandlerType
    ) -> aiohttp.ClientResponse:
        uri = request.url.raw_path_qs
        answer = self._answers.get(uri)
        if answer is None:
            answer = digest_authorization(self._algorithm, request.method, uri, 1, "0" * 32)
            self._answers[uri] = answer
        request.headers[hdrs.AUTHORIZATION] = answer
        return await handler(request)


class HeaderOnlyDigest:
    """Our Digest header code with no middleware logic around it.

    The protection space is set up from the benchmark challenge in advance, so
    per request it only does the irreducible work of a Digest client: take a
    nonce count, draw a client nonce (16 bytes of ``os.urandom``), compute the header
    (``DigestCredentials.authorization``) and set it. It never reads a response.
    """

    def __init__(self, algorithm: str) -> None:
        challenge, _ = choose_challenge([digest_challenge(algorithm)])
        assert challenge is not None
        spaces = ProtectionSpaces(DIGEST_LOGIN, DIGEST_PASSWORD)
        self._space = spaces.learn(challenge, ())

    async def __call__(
        self, request: aiohttp.ClientRequest, handler: ClientHandlerType
    ) -> aiohttp.ClientResponse:
        taken = self._space.take()
        assert taken is not None
        credentials, nc = taken
        cnonce = make_cnonce(os.urandom(16))  # as the middleware draws it
        uri = request.url.raw_path_qs
        request.headers[hdrs.AUTHORIZATION] = credentials.authorization(
            request.method, uri, nc=nc, cnonce=cnonce
        )
        return await handler(request)
