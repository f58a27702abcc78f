"""Hostile Signature-Input and Signature values: a result or a SigningError, never a crash.

A webhook receiver calls the verifier with whatever arrives; any exception
other than SigningError would surface as a 500 instead of a refusal.
"""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiohttp_auth.errors import SigningError
from aiohttp_auth.signing.httpsig import HTTPSigner
from aiohttp_auth.signing.httpsig_verify import VerifiedSignature, verify_request, verify_response

KEY = ed25519.Ed25519PrivateKey.generate()
NOW = 1_700_000_000
URL = "https://api.example.com/p?a=1&a=2&b=%ZZ&c"
HEADERS = [
    ("Content-Type", "application/json"),
    ("Content-Digest", "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"),
    ("Example-Dict", "a=1, b=(x y);p=?0, c"),
    ("X-Weird", "é\t\x01"),
    ("Date", "Tue, 20 Apr 2021 02:07:56 GMT"),
]
# Pieces of identifiers and parameters, valid and not, to reach deep into the verifier.
IDENTIFIERS = [
    '"@method"',
    '"@authority"',
    '"@path"',
    '"@query"',
    '"@target-uri"',
    '"@scheme"',
    '"@request-target"',
    '"@status"',
    '"@signature-params"',
    '"@unknown"',
    '"@Method"',
    '"@query-param";name="a"',
    '"@query-param";name="b"',
    '"@query-param";name="c"',
    '"@query-param";name=1',
    '"@query-param"',
    '"content-type"',
    '"content-digest";sf',
    '"content-digest";key="sha-256"',
    '"example-dict";key="b"',
    '"example-dict";key="z"',
    '"example-dict";sf',
    '"x-weird"',
    '"x-weird";bs',
    '"x-missing"',
    '"date";tr',
    '"date";req',
    '"date";bs;sf',
    '"Date"',
    "date",
    "1",
    ":AAAA:",
    '"date";sf=1',
    '"x-unknown";sf',
    '"a b"',
]
PARAMS = [
    f";created={NOW}",
    ";created=-5",
    f";created={NOW + 999}",
    ';created="x"',
    f";expires={NOW - 99}",
    ";expires=1.5",
    ';keyid="k1"',
    ";keyid=k1",
    ';alg="ed25519"',
    ';alg="hmac-sha256"',
    ';alg="rsa-pss-sha512"',
    ";alg=?1",
    ';nonce="n"',
    ";nonce=@1",
    ';tag="t"',
    ";tag=:AA==:",
    ';ext=%"caf%c3%a9"',
    ";x=@99999999999999",
    ";d=-0.5",
    ";big=999999999999999",
]
SIGNATURES = [
    ":AAAA:",
    '"AAAA"',
    "?1",
    "(:AAAA:)",
    ":" + base64.b64encode(bytes(64)).decode() + ":",
]


@st.composite
def signature_fields(draw: st.DrawFn) -> tuple[str, str]:
    """Draw a Signature-Input and a Signature built from valid and invalid pieces."""
    labels = draw(st.lists(st.sampled_from(["sig1", "sig2", "a", "*x"]), min_size=1, max_size=3))
    inputs, signatures = [], []
    for label in labels:
        components = " ".join(draw(st.lists(st.sampled_from(IDENTIFIERS), max_size=5)))
        params = "".join(draw(st.lists(st.sampled_from(PARAMS), max_size=5)))
        inner = f"({components}){params}"
        member = draw(st.sampled_from([inner, inner, inner, inner, f'"{label}"', ":AA:"]))
        inputs.append(f"{label}={member}")
        signatures.append(f"{draw(st.sampled_from(labels))}={draw(st.sampled_from(SIGNATURES))}")
    return ", ".join(inputs), ", ".join(signatures)


SF_TEXT = st.text(
    alphabet=st.sampled_from(list('sig12=()"@;:, abcxyz-?*.%/+\\\t\x7féAA=')), max_size=120
)


def outcome(**kwargs: Any) -> None:
    try:
        result = verify_request("POST", URL, now=NOW, **kwargs)
    except SigningError:
        return
    assert isinstance(result, VerifiedSignature)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(signature_fields(), st.sampled_from(["pinned", "inferred", "by-keyid"]))
def test_hostile_structured_values_give_a_signing_error(
    fields: tuple[str, str], keys: str
) -> None:
    signature_input, signature = fields
    key: Any = {
        "pinned": KEY.public_key(),
        "inferred": KEY.public_key(),
        "by-keyid": {"k1": KEY.public_key(), "k2": b"secret"},
    }[keys]
    outcome(
        headers=[*HEADERS, ("Signature-Input", signature_input), ("Signature", signature)],
        key=key,
        algorithm="ed25519" if keys == "pinned" else None,
        required_components=(),
        max_age=None,
        body=b"{}",
    )


@settings(max_examples=400, deadline=None)
@given(SF_TEXT, SF_TEXT)
def test_arbitrary_text_gives_a_signing_error(signature_input: str, signature: str) -> None:
    outcome(
        headers=[*HEADERS, ("Signature-Input", signature_input), ("Signature", signature)],
        key=KEY.public_key(),
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(IDENTIFIERS), max_size=4), st.integers(100, 599))
def test_hostile_response_components_give_a_signing_error(
    components: list[str], status: int
) -> None:
    value = f"sig1=({' '.join(components)});created={NOW}"
    try:
        verify_response(
            status,
            [*HEADERS, ("Signature-Input", value), ("Signature", "sig1=:AAAA:")],
            key=KEY.public_key(),
            now=NOW,
            required_components=(),
        )
    except SigningError:
        return
    raise AssertionError("a signature of four zero bytes verified")


def test_a_valid_signature_among_hostile_ones_still_verifies() -> None:
    signer = HTTPSigner("k1", KEY, algorithm="ed25519", components=("@method",), label="good")
    fields = signer.sign_request("POST", URL, created=NOW)
    headers = [
        *HEADERS,
        ("Signature-Input", 'bad=("@unknown");created=1'),
        ("Signature-Input", fields.signature_input),
        ("Signature", "bad=:AAAA:"),
        ("Signature", fields.signature),
    ]
    result = verify_request(
        "POST", URL, headers, key=KEY.public_key(), now=NOW, required_components=()
    )
    assert result.label == "good"
