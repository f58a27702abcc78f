"""RFC 9421 Appendix B.2: the signed examples, signed again and verified.

Each case is a row of ``tests/vectors/rfc9421/rfc9421_appendix_b2.json``. The
signature base must equal the RFC's byte for byte; the deterministic
algorithms (HMAC, Ed25519) must give the RFC's signature; the randomized ones
(RSA-PSS, ECDSA) are verified, the RFC's and ours.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from aiohttp_auth.errors import SigningError
from aiohttp_auth.signing.httpsig import HTTPSigner
from aiohttp_auth.signing.httpsig_signature_fields import SignatureFields
from aiohttp_auth.signing.httpsig_verify import verify_request, verify_response

VECTORS = Path(__file__).parent / "vectors" / "rfc9421"
SUITE: dict[str, Any] = json.loads((VECTORS / "rfc9421_appendix_b2.json").read_text())
SECRET = base64.b64decode(SUITE["shared_secret_b64"])
CASES = SUITE["cases"]


def private_key(key_id: str) -> bytes:
    if key_id == "test-shared-secret":
        return SECRET
    return (VECTORS / "keys" / f"{key_id}.key").read_bytes()


def public_key(key_id: str) -> bytes:
    if key_id == "test-shared-secret":
        return SECRET
    return (VECTORS / "keys" / f"{key_id}.pem").read_bytes()


def sign(case: dict[str, Any]) -> SignatureFields:
    params = case["params"]
    signer = HTTPSigner(
        case["keyid"],
        private_key(case["keyid"]),
        algorithm=case["alg"],
        components=case["components"],
        label=case["label"],
        tag=params.get("tag"),
        include_alg=False,
    )
    message = SUITE[case["message"]]
    if case["message"] == "request":
        return signer.sign_request(
            message["method"],
            message["url"],
            message["headers"],
            created=params["created"],
            nonce=params.get("nonce"),
        )
    return signer.sign_response(message["status"], message["headers"], created=params["created"])


def verify(case: dict[str, Any], signature_input: str, signature: str, **options: Any) -> Any:
    message = SUITE[case["message"]]
    headers = [*message["headers"], ("Signature-Input", signature_input), ("Signature", signature)]
    options.setdefault("key", public_key(case["keyid"]))
    options.setdefault("required_components", ())
    options.setdefault("now", case["params"]["created"] + 10)
    if case["alg"].startswith("rsa"):
        options.setdefault("algorithm", case["alg"])  # one RSA key serves two algorithms
    if case["message"] == "request":
        return verify_request(message["method"], message["url"], headers, **options)
    return verify_response(message["status"], headers, **options)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case["rfc"])
def test_signature_base_equals_the_rfc_byte_for_byte(case: dict[str, Any]) -> None:
    assert sign(case).base == case["signature_base"]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case["rfc"])
def test_signature_input_equals_the_rfc(case: dict[str, Any]) -> None:
    assert sign(case).signature_input == case["signature_input"]


@pytest.mark.parametrize(
    "case", [c for c in CASES if c["deterministic"]], ids=lambda case: case["rfc"]
)
def test_deterministic_signature_equals_the_rfc(case: dict[str, Any]) -> None:
    assert sign(case).signature == case["signature"]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case["rfc"])
def test_rfc_signature_verifies(case: dict[str, Any]) -> None:
    result = verify(case, case["signature_input"], case["signature"])
    assert result.label == case["label"]
    assert result.algorithm == case["alg"]
    assert result.key_id == case["keyid"]
    assert result.created == case["params"]["created"]
    assert result.nonce == case["params"].get("nonce")
    assert result.tag == case["params"].get("tag")
    # Identifiers come back as users write them: the name without its quotes.
    assert list(result.components) == [re.sub(r'^"([^"]*)"', r"\1", c) for c in case["components"]]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case["rfc"])
def test_our_signature_verifies(case: dict[str, Any]) -> None:
    fields = sign(case)
    assert verify(case, fields.signature_input, fields.signature).label == case["label"]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case["rfc"])
def test_rfc_signature_fails_for_a_changed_message(case: dict[str, Any]) -> None:
    # Another created time changes @signature-params, present in every base.
    changed = case["signature_input"].replace("1618884473", "1618884474")
    with pytest.raises(SigningError, match="does not match"):
        verify(case, changed, case["signature"])


def test_b22_verifies_the_request_body_through_its_content_digest() -> None:
    case = next(c for c in CASES if c["rfc"] == "B.2.2")
    body = SUITE["request"]["body"].encode()
    result = verify(case, case["signature_input"], case["signature"], body=body)
    assert result.body_verified


def test_b21_covers_nothing_so_the_default_required_components_refuse_it() -> None:
    case = next(c for c in CASES if c["rfc"] == "B.2.1")
    with pytest.raises(SigningError, match="does not cover @method"):
        verify(case, case["signature_input"], case["signature"], required_components=("@method",))
