"""An independent implementation agrees: http-message-signatures 3.0 against ours.

For every algorithm and seeded random messages (methods, hosts, paths, query
parameters, repeated header lines, bodies, and components covering derived
components, fields, ``;sf``, ``;key`` and ``;bs``):

- both build the same signature base, byte for byte;
- http-message-signatures verifies what we sign;
- we verify what http-message-signatures signs.
"""

from __future__ import annotations

import datetime
import random
import string
import time
import types
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from http_message_signatures import HTTPMessageSigner, HTTPMessageVerifier, algorithms
from http_message_signatures.resolvers import MappingKeyResolver
from multidict import CIMultiDict

from aiohttp_auth.signing.content_digest import content_digest
from aiohttp_auth.signing.httpsig import HTTPSigner
from aiohttp_auth.signing.httpsig_algorithms import ALGORITHMS
from aiohttp_auth.signing.httpsig_verify import verify_request

THEIRS = {
    "hmac-sha256": algorithms.HMAC_SHA256,
    "ed25519": algorithms.ED25519,
    "ecdsa-p256-sha256": algorithms.ECDSA_P256_SHA256,
    "ecdsa-p384-sha384": algorithms.ECDSA_P384_SHA384,
    "rsa-pss-sha512": algorithms.RSA_PSS_SHA512,
    "rsa-v1_5-sha256": algorithms.RSA_V1_5_SHA256,
}
MESSAGES_PER_ALGORITHM = 12
SAFE = string.ascii_letters + string.digits + "-._~"
VALUE_CHARS = string.ascii_letters + string.digits + " !#$%&'*+-.^_`|~/:;=?@[](){}<>,\t"


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    """Return one private key (or secret) per algorithm, generated for this module."""
    return {
        "hmac-sha256": random.Random(1).randbytes(32),
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
        "ecdsa-p256-sha256": ec.generate_private_key(ec.SECP256R1()),
        "ecdsa-p384-sha384": ec.generate_private_key(ec.SECP384R1()),
        "rsa-pss-sha512": rsa.generate_private_key(65537, 2048),
        "rsa-v1_5-sha256": rsa.generate_private_key(65537, 2048),
    }


def public(key: Any) -> Any:
    return key if isinstance(key, bytes) else key.public_key()


def random_message(rng: random.Random) -> dict[str, Any]:
    """Draw a request and the components a signature of it covers."""
    scheme = rng.choice(["https", "http"])
    host = rng.choice(["api.example.com", "example.org:8443", "127.0.0.1:8080", "[::1]:9000"])
    path = "/" + "/".join(
        "".join(rng.choice(SAFE) for _ in range(rng.randint(1, 8))) + rng.choice(["", "%20x"])
        for _ in range(rng.randint(0, 3))
    )
    names = rng.sample(["id", "q", "page", "sort", "filter"], rng.randint(0, 3))
    query = "&".join(
        f"{name}={''.join(rng.choice(SAFE + '+') for _ in range(rng.randint(0, 6)))}"
        for name in names
    )
    body = rng.randbytes(rng.randint(0, 64))
    headers = [
        ("Content-Type", rng.choice(["application/json", "text/plain; charset=utf-8"])),
        ("Content-Digest", content_digest(body, rng.choice(["sha-256", "sha-512"]))),
        (
            "X-Request-Id",
            "".join(rng.choice(VALUE_CHARS) for _ in range(rng.randint(1, 30))).strip(),
        ),
        ("Example-Dict", rng.choice(["a=1,  b=2;x=1", "a=(x  y), b", "a=?0"])),
        ("X-Multi", "first, one"),
        ("x-multi", "  second  "),
    ]
    components = ["@method", "@authority", "@path", "content-digest"]
    optional = [
        "@target-uri",
        "@scheme",
        "@request-target",
        "@query",
        "content-type",
        "x-request-id",
        "x-multi",
        "x-multi;bs",
        "content-digest;sf",
        'example-dict;key="a"',
        *(f'@query-param;name="{name}"' for name in names),
    ]
    components += rng.sample(optional, rng.randint(0, len(optional)))
    rng.shuffle(components)
    url = f"{scheme}://{host}{path or '/'}" + (f"?{query}" if query else "")
    return {
        "method": rng.choice(["GET", "POST", "PUT", "PATCH", "DELETE"]),
        "url": url,
        "headers": headers,
        "body": body,
        "components": components,
    }


def their_message(message: dict[str, Any]) -> Any:
    return types.SimpleNamespace(
        method=message["method"], url=message["url"], headers=CIMultiDict(message["headers"])
    )


def their_identifier(component: str) -> str:
    # http-message-signatures reads parameters only in the quoted form.
    name, separator, params = component.partition(";")
    return f'"{name}"{separator}{params}' if separator else name


def their_handler(cls: Any, algorithm: str, key: Any) -> Any:
    resolver = MappingKeyResolver(public_keys={"k1": public(key)}, private_keys={"k1": key})
    return cls(signature_algorithm=THEIRS[algorithm], key_resolver=resolver)


CASES = [(algorithm, seed) for algorithm in ALGORITHMS for seed in range(MESSAGES_PER_ALGORITHM)]


@pytest.mark.parametrize(("algorithm", "seed"), CASES)
def test_both_build_the_same_signature_base(
    algorithm: str, seed: int, keys: dict[str, Any]
) -> None:
    message = random_message(random.Random(f"{algorithm}-{seed}"))
    created = 1_700_000_000
    ours = HTTPSigner("k1", keys[algorithm], algorithm=algorithm, components=message["components"])
    fields = ours.sign_request(
        message["method"], message["url"], message["headers"], created=created
    )
    prepared = their_handler(HTTPMessageSigner, algorithm, keys[algorithm]).prepare(
        their_message(message),
        key_id="k1",
        created=datetime.datetime.fromtimestamp(created),
        label="sig1",
        covered_component_ids=[their_identifier(c) for c in message["components"]],
        use_existing_digest=True,
    )
    assert fields.base.encode() == prepared.signature_base


@pytest.mark.parametrize(("algorithm", "seed"), CASES)
def test_they_verify_what_we_sign(algorithm: str, seed: int, keys: dict[str, Any]) -> None:
    message = random_message(random.Random(f"ours-{algorithm}-{seed}"))
    now = int(time.time())
    ours = HTTPSigner("k1", keys[algorithm], algorithm=algorithm, components=message["components"])
    fields = ours.sign_request(
        message["method"],
        message["url"],
        message["headers"],
        created=now,
        expires=now + 60,
        nonce=f"n-{seed}",
    )
    theirs = their_message(message)
    theirs.headers["Signature-Input"] = fields.signature_input
    theirs.headers["Signature"] = fields.signature
    results = their_handler(HTTPMessageVerifier, algorithm, keys[algorithm]).verify(
        theirs, body=message["body"]
    )
    assert [result.label for result in results] == ["sig1"]
    assert results[0].body == message["body"]


@pytest.mark.parametrize(("algorithm", "seed"), CASES)
def test_we_verify_what_they_sign(algorithm: str, seed: int, keys: dict[str, Any]) -> None:
    message = random_message(random.Random(f"theirs-{algorithm}-{seed}"))
    theirs = their_message(message)
    their_handler(HTTPMessageSigner, algorithm, keys[algorithm]).sign(
        theirs,
        key_id="k1",
        label="sig1",
        tag="diff",
        covered_component_ids=[their_identifier(c) for c in message["components"]],
        use_existing_digest=True,
    )
    result = verify_request(
        message["method"],
        message["url"],
        theirs.headers,
        key={"k1": public(keys[algorithm])},
        algorithm=algorithm,
        tag="diff",
        body=message["body"],
    )
    assert result.algorithm == algorithm
    assert list(result.components) == message["components"]
    assert result.body_verified
