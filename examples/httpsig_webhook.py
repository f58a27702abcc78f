"""Signed webhooks with HTTP Message Signatures (RFC 9421): the sender and the receiver.

The sender signs each event with HTTPSignatureMiddleware and an ed25519 private
key. The signature covers the method, the host, the path and Content-Digest,
the body's SHA-256 (RFC 9530), so the body cannot change without breaking it.
The receiver, a small aiohttp application below, checks every event with
verify_request and the sender's public key before acting on it: an event whose
body was changed on the way is refused.

Demo credentials: the key pair is RFC 9421's own example key "test-key-ed25519"
(Appendix B.1.4), public, for demonstrations only. In a real program, load
the private key from a secret store; the receiver only needs the public key.

Run it alone (it starts the receiver on 127.0.0.1):
    python examples/httpsig_webhook.py
or against a running receiver (this file's webhook_receiver, or the testing httpsig_app):
    AIOHTTP_AUTH_EXAMPLE_URL=http://127.0.0.1:8080/ python examples/httpsig_webhook.py

Expected output::

    POST /webhooks/orders (order.paid) -> 200: verified, signed by 'test-key-ed25519'
    POST /webhooks/orders (order.paid), body changed on the way -> 401:
      Content-Digest: the sha-256 digest does not match the body
"""

import asyncio
import json
import os
import sys

import aiohttp
from aiohttp import hdrs, web
from aiohttp.client_middlewares import ClientHandlerType, ClientMiddlewareType
from cryptography.hazmat.primitives import serialization
from yarl import URL

from aiohttp_auth.errors import SignatureVerificationError
from aiohttp_auth.signing import HTTPSignatureMiddleware, verify_request
from aiohttp_auth.testing import LocalServer, RecordedRequest
from aiohttp_auth.testing.signing import HTTPSigConfig

KEY_ID = "test-key-ed25519"
PRIVATE_KEY_PEM = b"""-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""
PUBLIC_KEY_PEM = b"""-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
"""
EVENT = {"type": "order.paid", "order": 7, "amount": "19.99"}

# --- the receiver ----------------------------------------------------------------------

RECEIVER_CONFIG = web.AppKey("receiver_config", HTTPSigConfig)


async def receive(request: web.Request) -> web.Response:
    """Act on an event only if its signature, and the digest of its body, verify."""
    config = request.app[RECEIVER_CONFIG]
    body = await request.read()
    # The receiver keeps the records of aiohttp_auth.testing's servers, for tests.
    config.requests.append(RecordedRequest.of(request, body))
    try:
        verified = verify_request(
            request.method,
            request.url,
            request.headers,
            key=config.keys,  # keyid -> public key
            algorithm="ed25519",  # never let the message choose the algorithm
            required_components=("@method", "@authority", "@path", "content-digest"),
            body=body,  # checked against the signed Content-Digest
            max_age=config.max_age,  # a replay of an old event is refused
        )
    except SignatureVerificationError as exc:
        config.rejections.append(str(exc))
        return web.json_response({"error": str(exc)}, status=401)
    config.accepted += 1
    config.verified.append(verified)
    event = json.loads(body)
    return web.json_response({"event": event["type"], "signed_by": verified.key_id})


def webhook_receiver(config: HTTPSigConfig) -> web.Application:
    """The receiving application, knowing the senders' public keys from *config*."""
    app = web.Application()
    app[RECEIVER_CONFIG] = config
    app.router.add_post("/webhooks/orders", receive)
    return app


def demo_server_config() -> HTTPSigConfig:
    """What the receiver accepts: events signed with this example's key."""
    return HTTPSigConfig(keys={KEY_ID: serialization.load_pem_public_key(PUBLIC_KEY_PEM)})


#: The application the demo server runs (this file's receiver).
demo_server_app = webhook_receiver

# --- the sender ------------------------------------------------------------------------


async def change_body(
    request: aiohttp.ClientRequest, handler: ClientHandlerType
) -> aiohttp.ClientResponse:
    """A middleware after the signer, standing for a proxy that alters the event."""
    changed = json.dumps(EVENT | {"amount": "0.01"}).encode()
    request.body = changed
    # A proxy sends the new length with the new body. aiohttp 3.12.0 keeps the
    # old Content-Length when the body is replaced (3.12.1 and later recompute
    # it): the receiver would wait for ever for the byte this event is short of.
    request.headers[hdrs.CONTENT_LENGTH] = str(len(changed))
    return await handler(request)


async def send(url: URL, *middlewares: ClientMiddlewareType) -> tuple[int, dict[str, str]]:
    async with (
        aiohttp.ClientSession(middlewares=middlewares) as session,
        session.post(url, json=EVENT) as response,
    ):
        return response.status, await response.json()


async def run(base_url: URL) -> bool:
    """Send a signed event, then one changed on the way; True if only the first is accepted."""
    signing = HTTPSignatureMiddleware(KEY_ID, PRIVATE_KEY_PEM, algorithm="ed25519")
    url = base_url / "webhooks/orders"
    status, answer = await send(url, signing)
    said = f"verified, signed by {answer['signed_by']!r}" if status == 200 else answer["error"]
    print(f"POST /webhooks/orders ({EVENT['type']}) -> {status}: {said}")
    changed, answer = await send(url, signing, change_body)
    print(f"POST /webhooks/orders ({EVENT['type']}), body changed on the way -> {changed}:")
    print(f"  {answer.get('error', answer)}")
    return status == 200 and changed == 401


async def main() -> int:
    base_url = os.environ.get("AIOHTTP_AUTH_EXAMPLE_URL")
    if base_url:
        accepted = await run(URL(base_url))
    else:
        # No receiver given: serve this one here, on 127.0.0.1.
        async with LocalServer(demo_server_app(demo_server_config())) as server:
            accepted = await run(server.url)
    return 0 if accepted else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
