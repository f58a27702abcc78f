"""A body replaced by a middleware, and what the signers do with it, on every aiohttp.

aiohttp 3.12.0 keeps ``ClientRequest.body`` as a plain attribute: assigning
it leaves the ``Content-Length`` computed in ``__init__`` untouched, and
``write_bytes()`` then sends at most that many bytes of the new body (a longer
body arrives cut; a shorter one leaves the server waiting for the rest). From
3.12.1 the ``body`` setter recomputes ``Content-Length``. The signer's
``Content-Digest`` must cover the bytes that are sent, so a body whose length
disagrees with ``Content-Length`` is refused before anything is sent.
Every test talks to a real server on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import ClientRequest, ClientResponse, hdrs, web
from aiohttp.client_middlewares import ClientHandlerType, ClientMiddlewareType
from cryptography.hazmat.primitives.asymmetric import ed25519

from aiohttp_auth.cli import demo, demo_signing, main
from aiohttp_auth.errors import SignatureVerificationError, SigningError
from aiohttp_auth.signing import AwsCredentials, SigV4Middleware
from aiohttp_auth.signing.httpsig_middleware import HTTPSignatureMiddleware
from aiohttp_auth.signing.httpsig_verify import verify_request
from aiohttp_auth.testing.server import LocalServer
from aiohttp_auth.testing.signing import SigV4Config

KEY = ed25519.Ed25519PrivateKey.generate()
ORDER = b'{"order": 7, "amount": 1}'
#: aiohttp 3.12.1 made ``body`` a property whose setter recomputes Content-Length.
BODY_SETTER_SETS_LENGTH = isinstance(getattr(ClientRequest, "body", None), property)
# Short: a request aiohttp sends with a Content-Length longer than its body
# would otherwise leave the test waiting for the server's answer.
TIMEOUT = aiohttp.ClientTimeout(total=5)


@dataclass
class Receiver:
    """The server's side: every body it received, and whether its signature verified."""

    bodies: list[bytes] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/orders", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.bodies.append(body)
        try:
            verify_request(
                request.method,
                request.url,
                request.headers,
                key=KEY.public_key(),
                algorithm="ed25519",
                required_components=("@method", "@path", "content-digest"),
                body=body,
            )
        except SignatureVerificationError as exc:
            self.verdicts.append(str(exc))
            return web.Response(status=401)
        self.verdicts.append("verified")
        return web.Response()


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, LocalServer]]:
    server_side = Receiver()
    async with LocalServer(server_side.app()) as server:
        yield server_side, server


async def post(server: LocalServer, *middlewares: ClientMiddlewareType, **kwargs: object) -> int:
    async with (
        aiohttp.ClientSession(middlewares=middlewares, timeout=TIMEOUT) as session,
        session.post(server.make_url("/orders"), **kwargs) as response,
    ):
        await response.read()
        return response.status


def signing() -> HTTPSignatureMiddleware:
    return HTTPSignatureMiddleware("k1", KEY, algorithm="ed25519")


def replacing_body(body: bytes | str, *, set_length: bool) -> ClientMiddlewareType:
    """A middleware before the signer that replaces the body, setting its length or not."""

    async def replace(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        request.body = body
        if set_length:
            request.headers[hdrs.CONTENT_LENGTH] = str(len(body))
        return await handler(request)

    return replace


async def sending_twice(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
    """A middleware that sends the same request again, as a retrying one does."""
    first = await handler(request)
    first.release()
    return await handler(request)


@pytest.mark.parametrize("replacement", [b'{"order": 7}', b'{"order": 7, "amount": 1000000}'])
async def test_a_body_replaced_before_signing_is_signed_whole_or_refused(
    receiver: tuple[Receiver, LocalServer], replacement: bytes
) -> None:
    server_side, server = receiver
    replace = replacing_body(replacement, set_length=False)
    if BODY_SETTER_SETS_LENGTH:
        assert await post(server, replace, signing(), data=ORDER) == 200
        assert server_side.bodies == [replacement]
        assert server_side.verdicts == ["verified"]
    else:
        # aiohttp 3.12.0 would send len(ORDER) bytes of it: cut, or too few.
        with pytest.raises(SigningError, match=r"Content-Length .* set Content-Length"):
            await post(server, replace, signing(), data=ORDER)
        assert server_side.bodies == []


async def test_a_str_assigned_as_the_body_is_signed_as_sent_or_refused(
    receiver: tuple[Receiver, LocalServer],
) -> None:
    server_side, server = receiver
    replace = replacing_body('{"order": 7}', set_length=True)
    if BODY_SETTER_SETS_LENGTH:
        assert await post(server, replace, signing(), data=ORDER) == 200
        assert server_side.bodies == [b'{"order": 7}']
        assert server_side.verdicts == ["verified"]
    else:
        # aiohttp 3.12.0 keeps the str as it is, and cannot write it.
        with pytest.raises(SigningError, match=r"assigned .* assign bytes"):
            await post(server, replace, signing(), data=ORDER)
        assert server_side.bodies == []


@pytest.mark.parametrize("declared", ["3", "99", "seven"])
async def test_a_content_length_that_disagrees_with_the_body_is_refused_before_sending(
    receiver: tuple[Receiver, LocalServer], declared: str
) -> None:
    server_side, server = receiver
    with pytest.raises(SigningError, match="Content-Length") as raised:
        await post(server, signing(), data=ORDER, headers={hdrs.CONTENT_LENGTH: declared})
    assert f"{len(ORDER)} bytes" in str(raised.value)
    assert server_side.bodies == []


async def test_a_replaced_body_with_its_length_is_signed_on_every_send(
    receiver: tuple[Receiver, LocalServer],
) -> None:
    server_side, server = receiver
    replacement = b'{"order": 8}'
    replace = replacing_body(replacement, set_length=True)
    # aiohttp 3.12.0 turns a bytes body into a one-chunk tuple once it is written.
    assert await post(server, replace, sending_twice, signing(), data=ORDER) == 200
    assert server_side.bodies == [replacement, replacement]
    assert server_side.verdicts == ["verified", "verified"]


async def test_a_body_changed_after_signing_arrives_whole_and_is_refused(
    receiver: tuple[Receiver, LocalServer],
) -> None:
    server_side, server = receiver
    changed = b'{"order": 7, "amount": 1000000}'
    assert await post(server, signing(), replacing_body(changed, set_length=True), data=ORDER) == (
        401
    )
    assert server_side.bodies == [changed]
    assert server_side.verdicts == ["Content-Digest: the sha-256 digest does not match the body"]


def test_the_demo_webhook_scenario_delivers_its_changed_body_whole(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (scenario,) = [s for s in demo_signing.SCENARIOS if s.run is demo_signing.httpsig_webhook]
    monkeypatch.setattr(demo, "SCENARIOS", [scenario])

    assert main(["demo", "--no-color"]) == 0

    assert "✓ the server received the changed body whole, not cut to the signed length" in (
        capsys.readouterr().out
    )


async def test_sigv4_hashes_a_body_a_middleware_assigned(
    sigv4_config: SigV4Config, sigv4_server: LocalServer
) -> None:
    # On aiohttp 3.12.0 an assigned body stays bytes, not a payload: it must be
    # hashed all the same, not signed as an empty body. Newer aiohttp turns it into
    # a payload, so only the run against the oldest aiohttp (make test-oldest) can fail.
    sigv4_config.accept(AwsCredentials("AKIDEXAMPLE", "secret"))
    signing = SigV4Middleware("AKIDEXAMPLE", "secret", region="us-east-1", service="s3")
    replace = replacing_body(b"assigned", set_length=True)
    async with (
        aiohttp.ClientSession(middlewares=(replace, signing), timeout=TIMEOUT) as session,
        session.put(sigv4_server.make_url("/bucket/key"), data=b"original") as response,
    ):
        assert response.status == 200, await response.text()
    assert sigv4_config.objects["bucket/key"].body == b"assigned"
