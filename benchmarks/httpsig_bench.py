"""RFC 9421 part of ``signing.py``: ed25519 over @method @authority @path content-digest.

Ours (``HTTPSigner.sign_request`` with the Content-Digest of the body computed
per call) against http-message-signatures 3.0 (``HTTPMessageSigner.sign`` with
``body=``, which computes the same digest), and a raw ed25519 signature as the
floor. Each library's signature is verified by the other before timing.
"""

from __future__ import annotations

import datetime
import time
import types
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from http_message_signatures import HTTPMessageSigner, HTTPMessageVerifier, algorithms
from http_message_signatures.resolvers import MappingKeyResolver
from http_message_signatures.structures import CaseInsensitiveDict

from aiohttp_auth.signing.content_digest import content_digest
from aiohttp_auth.signing.httpsig import HTTPSigner
from aiohttp_auth.signing.httpsig_verify import verify_request

URL = "https://api.example.com/v1/orders?id=7"
BODY = b'{"order": 7, "items": [1, 2, 3], "note": "benchmark"}'
COMPONENTS = ("@method", "@authority", "@path", "content-digest")
CREATED = int(time.time())
HEADERS = {"Content-Type": "application/json", "Content-Length": str(len(BODY))}
OURS = "aiohttp_auth HTTPSigner"
THEIRS = "http-message-signatures"
RAW = "raw ed25519 signature (floor)"


def _variants() -> tuple[dict[str, Callable[[], Any]], Callable[[], None]]:
    key = ed25519.Ed25519PrivateKey.generate()
    ours = HTTPSigner("k1", key, algorithm="ed25519", components=COMPONENTS)
    resolver = MappingKeyResolver(public_keys={"k1": key.public_key()}, private_keys={"k1": key})
    theirs = HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=resolver)
    created = datetime.datetime.fromtimestamp(CREATED, datetime.timezone.utc)

    def sign_ours() -> list[tuple[str, str]]:
        headers = [*HEADERS.items(), ("Content-Digest", content_digest(BODY))]
        fields = ours.sign_request("POST", URL, headers, created=CREATED)
        return [
            *headers,
            ("Signature-Input", fields.signature_input),
            ("Signature", fields.signature),
        ]

    def sign_theirs() -> Any:
        message = types.SimpleNamespace(
            method="POST", url=URL, headers=CaseInsensitiveDict(HEADERS)
        )
        theirs.sign(
            message,
            key_id="k1",
            created=created,
            label="sig1",
            covered_component_ids=COMPONENTS,
            body=BODY,
        )
        return message

    def check() -> None:
        signed = sign_theirs()
        verify_request(
            "POST",
            URL,
            list(signed.headers.items()),
            key=key.public_key(),
            body=BODY,
            max_age=None,
        )
        message = types.SimpleNamespace(
            method="POST", url=URL, headers=CaseInsensitiveDict(sign_ours()), body=BODY
        )
        verifier = HTTPMessageVerifier(
            signature_algorithm=algorithms.ED25519, key_resolver=resolver
        )
        verifier.verify(message)

    variants = {
        OURS: sign_ours,
        THEIRS: sign_theirs,
        RAW: lambda: key.sign(b"x" * 200),
    }
    return variants, check


def compare_httpsig(
    measure: Callable[..., dict[str, float]],
    report: Callable[..., float],
    calls: int,
    repeats: int,
) -> dict[str, Any]:
    """Run the RFC 9421 comparison with ``signing.py``'s timer; return its results."""
    variants, check = _variants()
    check()
    results = measure(variants, max(200, calls // 5), repeats)
    ratio = report(
        "RFC 9421, ed25519 over @method @authority @path content-digest",
        results,
        OURS,
        THEIRS,
        ">= 5",
    )
    return results | {"ratio": ratio}
