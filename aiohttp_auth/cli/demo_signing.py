"""Demo scenarios for request signing: AWS SigV4 (S3) and HTTP Message Signatures (RFC 9421).

Each scenario serves its own verifying server of [`aiohttp_auth.testing.signing`][]
on 127.0.0.1, sends real requests, and checks the server's records: which
signatures it verified (recomputed from what it received), which it refused
and why, what it stored. The redirect scenario also checks what the demo's
other origin received.

The keys are throwaway demo values: the SigV4 pair is AWS's documentation
example, and the ed25519 key is made anew on every run.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from typing import Any, Final

from aiohttp import ClientRequest, ClientResponse, hdrs
from aiohttp.client_middlewares import ClientHandlerType
from aiohttp.payload import Payload
from cryptography.hazmat.primitives.asymmetric import ed25519
from yarl import URL

from ..signing.aws_chunked import STREAMING_PAYLOAD
from ..signing.credentials import AwsCredentials
from ..signing.httpsig_middleware import HTTPSignatureMiddleware
from ..signing.middleware import SigV4Middleware
from ..signing.presign import presign_url
from ..testing import LocalServer, RecordedRequest
from ..testing.signing import HTTPSigConfig, SigV4Config, StoredObject, httpsig_app, sigv4_app
from ._console import Outcome
from ._demo_env import DemoEnv, Scenario, session_with
from ._signing_report import error_code, short, show

__all__ = ["SCENARIOS", "demo_httpsig_config", "demo_sigv4_config"]

# AWS's documentation example key pair, a throwaway value shown on purpose.
ACCESS_KEY_ID: Final = "AKIDEXAMPLE"
SECRET_ACCESS_KEY: Final = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"  # noqa: S105
SESSION_TOKEN: Final = "demo-session-token"  # noqa: S105
REGION: Final = "us-east-1"
OBJECT_PATH: Final = "/demo-bucket/reports/2026.csv"
OBJECT_BODY: Final = b"quarter,revenue\nQ1,42\n"
STREAM_CHUNKS: Final = 4
"""The streaming upload yields this many pieces of ``STREAM_PIECE`` bytes."""
STREAM_PIECE: Final = 5_000
PRESIGN_EXPIRES: Final = 60
_WRONG_SECRET: Final = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYWRONGKEY"  # noqa: S105 - deliberately wrong
_KEY_ID: Final = "demo-webhook-key"
_TAMPERED_BODY: Final = b'{"order": 7, "amount": 1000000}'
# What no hop to another origin may carry, besides any x-amz-* header.
_SIGNATURE_FIELDS: Final = ("authorization", "signature-input", "signature", "content-digest")


def demo_sigv4_config(**settings: Any) -> SigV4Config:
    """Return a SigV4 server configuration accepting the demo key (*settings* as for the class)."""
    config = SigV4Config(region=REGION, service="s3", **settings)
    config.accept(AwsCredentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY))
    return config


def demo_httpsig_config(public_key: ed25519.Ed25519PublicKey) -> HTTPSigConfig:
    """Return an RFC 9421 server configuration knowing *public_key* as the demo key id."""
    return HTTPSigConfig(keys={_KEY_ID: public_key}, algorithm="ed25519")


def _sigv4(secret: str = SECRET_ACCESS_KEY, **kwargs: Any) -> SigV4Middleware:
    return SigV4Middleware(ACCESS_KEY_ID, secret, region=REGION, service="s3", **kwargs)


def _code(secret: str = SECRET_ACCESS_KEY, extra: str = "") -> str:
    return (
        f"SigV4Middleware({ACCESS_KEY_ID!r}, {secret!r}, region={REGION!r}, service='s3'{extra})"
    )


def _no_secret_sent(out: Outcome, requests: Sequence[RecordedRequest]) -> None:
    leaked = [request.path for request in requests if SECRET_ACCESS_KEY in request.raw()]
    out.check(not leaked, "the secret key itself never crossed the wire", got=leaked)


async def s3_put_get(env: DemoEnv, out: Outcome) -> None:
    """Put an object and get it back, each request signed with SigV4 and verified."""
    config = demo_sigv4_config()
    out.say(_code(), label="code")
    async with LocalServer(sigv4_app(config)) as server, session_with(_sigv4()) as session:
        url = server.make_url(OBJECT_PATH)
        async with session.put(url, data=OBJECT_BODY, headers={"Content-Type": "text/csv"}):
            pass
        async with session.get(url) as response:
            got = await response.read()
    show(out, config.requests, config.statuses)
    out.check(config.statuses == [200, 200], "the PUT and the GET got 200", got=config.statuses)
    out.check(
        config.accepted == 2 and not config.rejections,
        "the server recomputed and verified both signatures",
        got=config.rejections,
    )
    out.check(got == OBJECT_BODY, "the GET returned the bytes put", got=got)
    _no_secret_sent(out, config.requests)


async def s3_wrong_secret(env: DemoEnv, out: Outcome) -> None:
    """Sign with a wrong secret: the server refuses the request as S3 would."""
    config = demo_sigv4_config()
    out.say(_code(_WRONG_SECRET), label="code")
    async with (
        LocalServer(sigv4_app(config)) as server,
        session_with(_sigv4(_WRONG_SECRET)) as session,
        session.put(server.make_url(OBJECT_PATH), data=OBJECT_BODY) as response,
    ):
        status, code = response.status, error_code(await response.read())
    show(out, config.requests, config.statuses)
    out.say(f"{status} <Error><Code>{code}</Code>...", label="answer")
    out.check(
        (status, code) == (403, "SignatureDoesNotMatch"),
        "refused: 403 SignatureDoesNotMatch (expected)",
        got=(status, code),
    )
    out.check(not config.objects, "nothing was stored", got=list(config.objects))


async def _pieces() -> AsyncIterator[bytes]:
    for number in range(STREAM_CHUNKS):
        yield bytes([0x61 + number]) * STREAM_PIECE


async def s3_streaming(env: DemoEnv, out: Outcome) -> None:
    """Upload a stream without buffering it: every 8 KiB chunk signed (aws-chunked)."""
    config = demo_sigv4_config()
    length = STREAM_CHUNKS * STREAM_PIECE
    out.say(_code(extra=", chunk_size=8192"), label="code")
    out.say(f"PUT an async generator of {length} bytes, headers={{'Content-Length': '{length}'}}")
    async with (
        LocalServer(sigv4_app(config)) as server,
        session_with(_sigv4(chunk_size=8192)) as s,
    ):
        headers = {hdrs.CONTENT_LENGTH: str(length)}
        async with s.put(
            server.make_url("/demo-bucket/stream.bin"), data=_pieces(), headers=headers
        ):
            pass
    show(out, config.requests, config.statuses)
    verified = config.verified[0] if config.verified else None
    chunks = verified.chunks if verified else 0
    out.say(f"{chunks} chunk signatures verified, the last one the empty final chunk")
    out.check(config.statuses == [200], "the server answers 200", got=config.statuses)
    out.check(
        verified is not None and verified.payload_hash == STREAMING_PAYLOAD and chunks == 4,
        "the seed and 4 chained chunk signatures (8192 + 8192 + 3616 + 0 bytes) verified",
        got=chunks,
    )
    stored = config.objects.get("demo-bucket/stream.bin")
    expected = b"".join(bytes([0x61 + n]) * STREAM_PIECE for n in range(STREAM_CHUNKS))
    out.check(stored is not None and stored.body == expected, "the object is the stream, unframed")


async def presigned_get(env: DemoEnv, out: Outcome) -> None:
    """Hand out a presigned GET URL: it works without credentials, until it expires."""
    now = time.time()
    config = demo_sigv4_config(clock=lambda: now)
    config.objects[OBJECT_PATH[1:]] = StoredObject(OBJECT_BODY, "text/csv")
    async with LocalServer(sigv4_app(config)) as server:
        url = presign_url(
            server.make_url(OBJECT_PATH),
            credentials=AwsCredentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY),
            region=REGION,
            expires=PRESIGN_EXPIRES,
            clock=lambda: now,
        )
        out.say(f"presign_url(..., expires={PRESIGN_EXPIRES})", label="code")
        out.say(f"{url.path}?{'&'.join(name for name in url.query)}", label="url")
        fresh = await _plain_get(url)
        config.clock = lambda: now + PRESIGN_EXPIRES + 1
        expired = await _plain_get(url)
    show(out, config.requests, config.statuses)
    out.say(f"the server's clock moved {PRESIGN_EXPIRES + 1} s on", label="then")
    out.check(fresh == (200, OBJECT_BODY), "a session without credentials got the object")
    out.check(
        bool(config.verified) and config.verified[0].mode == "presigned",
        "the server verified the query signature",
    )
    code = error_code(expired[1])
    out.check(
        (expired[0], code) == (403, "AccessDenied"),
        f"{PRESIGN_EXPIRES + 1} s later the same URL is refused: 403 AccessDenied (expected)",
        got=(expired[0], code),
    )


async def _plain_get(url: URL) -> tuple[int, bytes]:
    async with session_with() as session, session.get(url) as response:
        return response.status, await response.read()


async def _tamper(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
    """Stand for a proxy that changes the body after it was signed."""
    request.body = _TAMPERED_BODY
    # A proxy sends the new length with the new body. aiohttp 3.12.0 keeps the
    # old Content-Length when the body is replaced (3.12.1 and later recompute
    # it), and would send the changed body cut to the length that was signed.
    request.headers[hdrs.CONTENT_LENGTH] = str(len(_TAMPERED_BODY))
    return await handler(request)


async def httpsig_webhook(env: DemoEnv, out: Outcome) -> None:
    """Sign a webhook with ed25519 over Content-Digest; a body changed in transit is refused."""
    private_key = ed25519.Ed25519PrivateKey.generate()
    config = demo_httpsig_config(private_key.public_key())
    out.say(
        f"HTTPSignatureMiddleware({_KEY_ID!r}, private_key, algorithm='ed25519')", label="code"
    )
    signing = HTTPSignatureMiddleware(_KEY_ID, private_key, algorithm="ed25519")
    order = {"order": 7, "amount": 1}
    async with LocalServer(httpsig_app(config)) as server:
        url = server.make_url("/webhooks/orders")
        for middlewares in ((signing,), (signing, _tamper)):
            async with session_with(*middlewares) as session, session.post(url, json=order):
                pass
    show(out, config.requests, config.statuses)
    if config.rejections:
        out.say(short(config.rejections[0], 90), label="refused")
    out.check(config.statuses == [200, 403], "the webhook got 200, the tampered one 403")
    verified = config.verified[0] if config.verified else None
    out.check(
        verified is not None
        and verified.body_verified
        and "content-digest" in verified.components,
        "the signature covered Content-Digest, and the digest matched the body",
    )
    received = [request.body for request in config.requests[1:]]
    out.check(
        received == [_TAMPERED_BODY],
        "the server received the changed body whole, not cut to the signed length",
        got=received,
    )
    out.check(
        config.rejected == {"invalid_signature": 1}
        and "does not match the body" in config.rejections[0],
        "the changed body was refused: its digest no longer matched (expected)",
        got=config.rejections,
    )


async def redirect_elsewhere(env: DemoEnv, out: Outcome) -> None:
    """Follow a redirect to another origin: SigV4 and RFC 9421 sign only the first hop."""
    private_key = ed25519.Ed25519PrivateKey.generate()
    sigv4_config = demo_sigv4_config()
    sigv4_config.session_tokens[ACCESS_KEY_ID] = SESSION_TOKEN
    httpsig_config = demo_httpsig_config(private_key.public_key())
    out.say(_code(extra=f", session_token={SESSION_TOKEN!r}"), label="code")
    out.say(f"HTTPSignatureMiddleware({_KEY_ID!r}, private_key, algorithm='ed25519')")
    watch = env.watch()
    target = str(env.other.make_url("/echo/landing"))
    async with (
        LocalServer(sigv4_app(sigv4_config)) as sigv4_server,
        LocalServer(httpsig_app(httpsig_config)) as httpsig_server,
    ):
        for server, middleware in (
            (sigv4_server, _sigv4(session_token=SESSION_TOKEN)),
            (httpsig_server, HTTPSignatureMiddleware(_KEY_ID, private_key, algorithm="ed25519")),
        ):
            url = server.make_url("/redirect").with_query(to=target)
            async with session_with(middleware) as session, session.get(url):
                pass
    show(
        out,
        [*sigv4_config.requests, *httpsig_config.requests],
        [*sigv4_config.statuses, *httpsig_config.statuses],
        label="hop 1",
    )
    show(out, watch.other, label="hop 2")
    out.say(f"hop 2 went to {env.other.url.origin()}, another origin")
    out.check(
        sigv4_config.accepted == httpsig_config.accepted == 1,
        "each signing server verified hop 1 before redirecting",
    )
    carried = [
        name
        for request in watch.other
        for name in request.headers
        if name.lower().startswith("x-amz-") or name.lower() in _SIGNATURE_FIELDS
    ]
    out.check(
        len(watch.other) == 2 and not carried,
        "the other origin got both requests with no signature and no session token",
        got=f"{len(watch.other)} requests, carrying {carried}",
    )


SCENARIOS: Final[tuple[Scenario, ...]] = (
    Scenario("SigV4 S3: put an object and get it back, both signatures verified", s3_put_get),
    Scenario("SigV4 wrong secret: refused with SignatureDoesNotMatch", s3_wrong_secret),
    # aiohttp 3.12.0 cannot sign a stream (no Payload.as_bytes): its demo leaves it out.
    *(
        (Scenario("SigV4 streaming upload: signed chunk by chunk (aws-chunked)", s3_streaming),)
        if hasattr(Payload, "as_bytes")
        else ()
    ),
    Scenario("Presigned GET URL: works without credentials, then expires", presigned_get),
    Scenario(
        "RFC 9421 ed25519 webhook with Content-Digest; tampered body refused", httpsig_webhook
    ),
    Scenario("Redirect to another origin carries no signature", redirect_elsewhere),
)
