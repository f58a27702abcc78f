"""HTTPSignatureMiddleware against a real aiohttp server on 127.0.0.1.

The server verifies every request it receives twice: with this package's
``verify_request`` and with http-message-signatures 3.0, an independent
implementation. Tests look at what the server saw, not at what the client
meant to send.
"""

from __future__ import annotations

import secrets
import types
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import ClientHandlerType, ClientRequest, ClientResponse, web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from http_message_signatures import HTTPMessageVerifier, algorithms
from http_message_signatures.resolvers import MappingKeyResolver
from peers import NameResolver

from aiohttp_auth.errors import ConfigurationError, SigningError
from aiohttp_auth.signing.content_digest import content_digest
from aiohttp_auth.signing.httpsig_middleware import HTTPSignatureMiddleware
from aiohttp_auth.signing.httpsig_verify import verify_request
from aiohttp_auth.testing.server import LocalServer

KEY = ed25519.Ed25519PrivateKey.generate()
KEY_PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
SECRET = secrets.token_bytes(32)
SIGNATURE_FIELDS = ("Signature-Input", "Signature", "Content-Digest")
THEIR_ALGORITHMS = {"ed25519": algorithms.ED25519, "hmac-sha256": algorithms.HMAC_SHA256}
#: aiohttp 3.12.0 cannot give a streaming body to digest; 3.12.1 added Payload.as_bytes().
HAS_AS_BYTES = hasattr(aiohttp.payload.Payload, "as_bytes")


@dataclass
class Seen:
    """One request as the server received it, and what both verifiers said."""

    method: str
    path: str
    headers: dict[str, list[str]]
    body: bytes
    ours: Any = None
    theirs: Any = None


@dataclass
class Verifier:
    """The server's side: the key it verifies with, and what it saw."""

    key: Any = field(default_factory=KEY.public_key)
    algorithm: str = "ed25519"
    label: str | None = None
    required: tuple[str, ...] = ("@method", "@authority", "@path")
    seen: list[Seen] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/redirect", self.redirect)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def redirect(self, request: web.Request) -> web.StreamResponse:
        await self.handle(request)
        raise web.HTTPTemporaryRedirect(request.query["to"])

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        seen = Seen(request.method, request.path, headers, body)
        self.seen.append(seen)
        if "signature-input" in headers:
            seen.ours = self.verify_ours(request, body)
            seen.theirs = self.verify_theirs(request, body)
        return web.json_response({"ok": True})

    def verify_ours(self, request: web.Request, body: bytes) -> Any:
        try:
            return verify_request(
                request.method,
                request.url,
                request.headers,
                key=self.key,
                algorithm=self.algorithm,
                label=self.label,
                required_components=self.required,
                body=body,
            )
        except SigningError as exc:
            return exc

    def verify_theirs(self, request: web.Request, body: bytes) -> Any:
        resolver = MappingKeyResolver(public_keys={"k1": self.key}, private_keys={})
        verifier = HTTPMessageVerifier(
            signature_algorithm=THEIR_ALGORITHMS[self.algorithm], key_resolver=resolver
        )
        message = types.SimpleNamespace(
            method=request.method, url=str(request.url), headers=request.headers
        )
        try:
            return verifier.verify(
                message,
                body=body,
                expect_tag=None if self.label is None else "t",
                expect_label=self.label,
            )
        except Exception as exc:  # recorded, and asserted on by the test
            return exc


@pytest.fixture
async def verifier() -> AsyncIterator[tuple[Verifier, LocalServer]]:
    server_side = Verifier()
    async with LocalServer(server_side.app()) as server:
        yield server_side, server


async def send(
    middleware: HTTPSignatureMiddleware, method: str, url: Any, **kwargs: Any
) -> ClientResponse:
    async with (
        aiohttp.ClientSession(middlewares=(middleware,)) as session,
        session.request(method, url, **kwargs) as response,
    ):
        await response.read()
        return response


def signer(**options: Any) -> HTTPSignatureMiddleware:
    options.setdefault("algorithm", "ed25519")
    return HTTPSignatureMiddleware("k1", options.pop("key", KEY), **options)


def assert_verified_by_both(seen: Seen) -> None:
    assert not isinstance(seen.ours, Exception), seen.ours
    assert not isinstance(seen.theirs, Exception), seen.theirs
    assert seen.ours.body_verified
    assert [result.label for result in seen.theirs] == [seen.ours.label]


async def test_post_with_a_bytes_body_is_verified_by_both(
    verifier: tuple[Verifier, LocalServer],
) -> None:
    server_side, server = verifier
    response = await send(signer(), "POST", server.make_url("/orders?id=7"), data=b'{"id": 7}')
    assert response.status == 200
    (seen,) = server_side.seen
    assert_verified_by_both(seen)
    assert seen.headers["content-digest"] == [content_digest(b'{"id": 7}')]
    assert seen.ours.components == ("@method", "@authority", "@path", "content-digest")
    assert seen.ours.algorithm == "ed25519"


async def chunks() -> AsyncIterator[bytes]:
    for part in (b"first,", b"second,", b"third"):
        yield part


@pytest.mark.skipif(not HAS_AS_BYTES, reason="aiohttp < 3.12.1 cannot read a stream to digest")
async def test_streaming_body_is_digested_and_still_sent_intact(
    verifier: tuple[Verifier, LocalServer],
) -> None:
    server_side, server = verifier
    await send(signer(), "PUT", server.make_url("/upload"), data=chunks())
    (seen,) = server_side.seen
    assert seen.body == b"first,second,third"
    assert "transfer-encoding" in seen.headers  # streamed, not buffered into a length
    assert_verified_by_both(seen)


@pytest.mark.usefixtures("without_as_bytes")
async def test_streaming_body_on_aiohttp_3_12_0_is_refused_not_sent_unsigned(
    verifier: tuple[Verifier, LocalServer],
) -> None:
    server_side, server = verifier
    with pytest.raises(SigningError, match=r"needs aiohttp >= 3\.12\.1"):
        await send(signer(), "PUT", server.make_url("/upload"), data=chunks())
    assert server_side.seen == []


async def test_get_without_body_has_the_digest_of_no_bytes(
    verifier: tuple[Verifier, LocalServer],
) -> None:
    server_side, server = verifier
    await send(signer(), "GET", server.make_url("/items/1?x=%20y"))
    (seen,) = server_side.seen
    assert seen.headers["content-digest"] == [content_digest(b"")]
    assert_verified_by_both(seen)


async def test_redirect_to_another_origin_carries_no_signature(
    verifier: tuple[Verifier, LocalServer],
) -> None:
    server_side, server = verifier
    other_side = Verifier()
    async with LocalServer(other_side.app()) as other:
        target = other.make_url("/landing")
        await send(signer(), "GET", server.make_url("/redirect").with_query(to=str(target)))
    (first,) = server_side.seen
    assert_verified_by_both(first)
    (landed,) = other_side.seen
    assert landed.path == "/landing"
    assert not set(landed.headers) & {name.lower() for name in SIGNATURE_FIELDS}


async def test_redirect_within_the_origin_is_signed_again(
    verifier: tuple[Verifier, LocalServer],
) -> None:
    server_side, server = verifier
    target = server.make_url("/after")
    await send(
        signer(),
        "POST",
        server.make_url("/redirect").with_query(to=str(target)),
        data=b"payload",
    )
    first, second = server_side.seen
    assert (first.path, second.path) == ("/redirect", "/after")
    assert_verified_by_both(first)
    assert_verified_by_both(second)  # 307 keeps the body; a new signature covers the new path
    assert second.body == b"payload"


@pytest.mark.parametrize("data", [None, b"\x00\x01"])
async def test_default_content_type_is_set_before_signing_it(
    data: bytes | None, verifier: tuple[Verifier, LocalServer]
) -> None:
    # Without a body, aiohttp adds this type only after middlewares run.
    server_side, server = verifier
    middleware = signer(
        components=("@method", "@authority", "@path", "content-digest", "content-type")
    )
    await send(middleware, "POST", server.make_url("/raw"), data=data)
    (seen,) = server_side.seen
    assert seen.headers["content-type"] == ["application/octet-stream"]
    assert_verified_by_both(seen)
    assert "content-type" in seen.ours.components


async def test_content_type_given_by_the_caller_is_signed_as_is(
    verifier: tuple[Verifier, LocalServer],
) -> None:
    server_side, server = verifier
    middleware = signer(
        components=("@method", "@authority", "@path", "content-digest", "content-type")
    )
    await send(middleware, "PATCH", server.make_url("/j"), json={"a": 1})
    (seen,) = server_side.seen
    assert seen.headers["content-type"] == ["application/json"]
    assert_verified_by_both(seen)


async def test_skipped_content_type_cannot_be_signed(
    verifier: tuple[Verifier, LocalServer],
) -> None:
    server_side, server = verifier
    middleware = signer(components=("@method", "content-type"))
    with pytest.raises(SigningError, match="no 'content-type' header field"):
        await send(
            middleware,
            "POST",
            server.make_url("/x"),
            data=b"x",
            skip_auto_headers=("Content-Type",),
        )
    assert server_side.seen == []  # never sent with a wrong signature


async def test_get_with_content_type_covered_and_none_set_is_refused(
    verifier: tuple[Verifier, LocalServer],
) -> None:
    server_side, server = verifier
    with pytest.raises(SigningError, match="no 'content-type' header field"):
        await send(signer(components=("content-type",)), "GET", server.make_url("/x"))
    assert server_side.seen == []


async def test_compressed_body_cannot_carry_a_content_digest(
    verifier: tuple[Verifier, LocalServer],
) -> None:
    server_side, server = verifier
    with pytest.raises(SigningError, match="cannot cover a body that aiohttp compresses"):
        await send(signer(), "POST", server.make_url("/x"), data=b"x" * 100, compress="deflate")
    assert server_side.seen == []


async def test_parameters_come_from_the_clock_and_the_nonce_callable(
    verifier: tuple[Verifier, LocalServer],
) -> None:
    server_side, server = verifier
    nonces = iter(["n-1", "n-2"])
    now = [1_700_000_000.9]
    middleware = signer(expires_in=30, nonce=lambda: next(nonces), tag="t", clock=lambda: now[0])
    server_side.label = "sig1"
    for _ in range(2):
        await send(middleware, "GET", server.make_url("/p"))
    first, second = server_side.seen
    # The server's clock is real; this one is pinned, so check the values as received.
    for seen, nonce in ((first, "n-1"), (second, "n-2")):
        assert isinstance(seen.ours, SigningError)  # created long ago by the real clock
        (value,) = seen.headers["signature-input"]
        assert value.endswith(
            f';created=1700000000;expires=1700000030;keyid="k1";alg="ed25519";nonce="{nonce}";tag="t"'
        )


async def test_nonce_and_tag_verify_on_the_server(verifier: tuple[Verifier, LocalServer]) -> None:
    server_side, server = verifier
    server_side.label = "sig1"
    await send(
        signer(nonce=lambda: secrets.token_urlsafe(12), tag="t", expires_in=60),
        "GET",
        server.make_url("/p"),
    )
    (seen,) = server_side.seen
    assert_verified_by_both(seen)
    assert seen.ours.tag == "t"
    assert seen.ours.expires == seen.ours.created + 60


async def test_created_may_be_left_out(verifier: tuple[Verifier, LocalServer]) -> None:
    server_side, server = verifier
    await send(signer(created=False, include_alg=False), "GET", server.make_url("/p"))
    (seen,) = server_side.seen
    assert seen.headers["signature-input"][0].endswith(';keyid="k1"')
    assert "has no created parameter" in str(seen.ours)


async def test_signature_from_an_outer_retry_replaces_its_own_label(
    verifier: tuple[Verifier, LocalServer],
) -> None:
    server_side, server = verifier

    async def send_twice(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        first = await handler(request)
        first.release()
        return await handler(request)

    async with (
        aiohttp.ClientSession(middlewares=(send_twice, signer())) as session,
        session.post(server.make_url("/twice"), data=b"again") as response,
    ):
        await response.read()
    first, second = server_side.seen
    assert_verified_by_both(first)
    assert_verified_by_both(second)
    assert len(second.headers["signature-input"]) == 1
    assert second.headers["signature-input"][0].count("sig1=") == 1


async def test_two_signers_add_two_signatures(verifier: tuple[Verifier, LocalServer]) -> None:
    server_side, server = verifier
    hmac_signer = HTTPSignatureMiddleware(
        "k2", SECRET, algorithm="hmac-sha256", label="mac", components=("@method", "@path")
    )
    async with (
        aiohttp.ClientSession(middlewares=(hmac_signer, signer())) as session,
        session.post(server.make_url("/both"), data=b"x") as response,
    ):
        await response.read()
    (seen,) = server_side.seen
    # The outer signer signs first; the inner one adds its member to the dictionary.
    (signature_input,) = seen.headers["signature-input"]
    assert signature_input.startswith('mac=("@method" "@path")')
    assert ', sig1=("@method" "@authority" "@path" "content-digest")' in signature_input
    headers = [(name, value) for name, values in seen.headers.items() for value in values]
    url = server.make_url("/both")
    ed = verify_request("POST", url, headers, key=KEY.public_key(), label="sig1", body=b"x")
    mac = verify_request(
        "POST", url, headers, key=SECRET, label="mac", required_components=("@method",)
    )
    assert (ed.algorithm, mac.algorithm) == ("ed25519", "hmac-sha256")


async def test_malformed_signature_input_already_there_is_refused(
    verifier: tuple[Verifier, LocalServer],
) -> None:
    server_side, server = verifier
    with pytest.raises(SigningError, match="already has a Signature-Input header that is not"):
        await send(signer(), "GET", server.make_url("/x"), headers={"Signature-Input": "(("})
    assert server_side.seen == []


@pytest.mark.parametrize("key", [KEY_PEM, KEY_PEM.encode()])
async def test_pem_private_key_signs(key: Any, verifier: tuple[Verifier, LocalServer]) -> None:
    server_side, server = verifier
    await send(signer(key=key), "GET", server.make_url("/pem"))
    assert_verified_by_both(server_side.seen[0])


async def test_hmac_secret_signs(verifier: tuple[Verifier, LocalServer]) -> None:
    server_side, server = verifier
    server_side.key, server_side.algorithm = SECRET, "hmac-sha256"
    await send(signer(key=SECRET, algorithm="hmac-sha256"), "DELETE", server.make_url("/h"))
    assert_verified_by_both(server_side.seen[0])


async def test_sha_512_content_digest(verifier: tuple[Verifier, LocalServer]) -> None:
    server_side, server = verifier
    await send(signer(content_digest="sha-512"), "POST", server.make_url("/d"), data=b"body")
    (seen,) = server_side.seen
    assert seen.headers["content-digest"] == [content_digest(b"body", "sha-512")]
    assert_verified_by_both(seen)


async def test_content_digest_set_by_the_caller_is_signed(
    verifier: tuple[Verifier, LocalServer],
) -> None:
    server_side, server = verifier
    digest = content_digest(b"body", ("sha-256", "sha-512"))
    await send(
        signer(content_digest=None),
        "POST",
        server.make_url("/d"),
        data=b"body",
        headers={"Content-Digest": digest},
    )
    (seen,) = server_side.seen
    assert seen.headers["content-digest"] == [digest]
    assert_verified_by_both(seen)


async def test_content_digest_left_to_the_caller_and_missing_is_refused(
    verifier: tuple[Verifier, LocalServer],
) -> None:
    server_side, server = verifier
    with pytest.raises(SigningError, match="no 'content-digest' header field"):
        await send(signer(content_digest=None), "POST", server.make_url("/d"), data=b"body")
    assert server_side.seen == []


async def test_without_content_digest_covered_the_body_is_not_read(
    verifier: tuple[Verifier, LocalServer],
) -> None:
    server_side, server = verifier
    server_side.required = ("@method",)
    middleware = signer(components=("@method", "@authority", "@path"))
    await send(middleware, "POST", server.make_url("/n"), data=b"body")
    (seen,) = server_side.seen
    assert "content-digest" not in seen.headers
    assert "does not cover content-digest" in str(seen.ours)  # the server asked for the body


async def test_requests_to_other_origins_are_not_signed(
    verifier: tuple[Verifier, LocalServer],
) -> None:
    server_side, server = verifier
    other_side = Verifier()
    async with LocalServer(other_side.app()) as other:
        middleware = signer(origins=str(server.url))
        await send(middleware, "GET", other.make_url("/x"))
        await send(middleware, "GET", server.make_url("/y"))
    assert not set(other_side.seen[0].headers) & {name.lower() for name in SIGNATURE_FIELDS}
    assert_verified_by_both(server_side.seen[0])


async def test_plain_http_to_a_remote_host_is_signed(
    verifier: tuple[Verifier, LocalServer], resolver: NameResolver
) -> None:
    # A signature does not reveal the key, so the plain-http rule for secrets
    # does not apply (AuthMiddleware.sends_secret is False).
    server_side, server = verifier
    url = f"http://api.test:{server.port}/remote"
    connector = aiohttp.TCPConnector(resolver=resolver)
    async with (
        aiohttp.ClientSession(middlewares=(signer(),), connector=connector) as session,
        session.get(url) as response,
    ):
        assert response.status == 200
    (seen,) = server_side.seen
    assert seen.headers["host"] == [f"api.test:{server.port}"]
    assert_verified_by_both(seen)


def test_repr_shows_no_key() -> None:
    middleware = HTTPSignatureMiddleware(
        "k2", SECRET, algorithm="hmac-sha256", origins="https://api.example.com"
    )
    text = repr(middleware)
    assert text.startswith(
        "HTTPSignatureMiddleware(key_id='k2', algorithm='hmac-sha256', components=("
    )
    assert "origins=" in text
    assert SECRET.hex() not in text
    assert repr(SECRET) not in text
    assert middleware.signer.key_id == "k2"
    assert HTTPSignatureMiddleware.sends_secret is False


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"content_digest": "md5"}, "content_digest: expected 'sha-256', 'sha-512' or None"),
        ({"created": 1}, "created: expected True or False"),
        ({"expires_in": 0}, "expires_in: expected seconds > 0 or None"),
        ({"expires_in": -5.0}, "expires_in: expected seconds > 0 or None"),
        ({"expires_in": True}, "expires_in: expected seconds > 0 or None"),
        ({"expires_in": "60"}, "expires_in: expected seconds > 0 or None"),
        ({"nonce": "fixed"}, "nonce: expected a callable"),
        ({"clock": 5}, "clock: expected a callable"),
        (
            {"algorithm": "ecdsa-p256-sha256"},
            "algorithm 'ecdsa-p256-sha256' needs an EC key on curve P-256",
        ),
        ({"key": SECRET}, "algorithm 'ed25519' needs an Ed25519 key, got 32 bytes"),
        (
            {"key": ec.generate_private_key(ec.SECP256R1()), "algorithm": "ed25519"},
            "needs an Ed25519 key, got an EC private key",
        ),
        ({"components": ("@nope",)}, "components: component '@nope'"),
        ({"label": "Bad"}, "label: expected a structured-field key"),
    ],
)
def test_invalid_arguments_are_configuration_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        signer(**options)


async def test_nonce_that_is_not_printable_ascii_is_refused(
    verifier: tuple[Verifier, LocalServer],
) -> None:
    server_side, server = verifier
    with pytest.raises(SigningError, match="nonce: expected a string of printable ASCII"):
        await send(signer(nonce=lambda: "é"), "GET", server.make_url("/x"))
    assert server_side.seen == []
