"""Verification (RFC 9421 §3.2): what the verifier decides, and every way a signature fails."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from aiohttp_auth.errors import ConfigurationError, SigningError
from aiohttp_auth.signing.content_digest import content_digest
from aiohttp_auth.signing.httpsig import HTTPSigner
from aiohttp_auth.signing.httpsig_verify import verify_request, verify_response

ED_KEY = ed25519.Ed25519PrivateKey.generate()
ED_PUBLIC = ED_KEY.public_key()
ED_PUBLIC_PEM = ED_PUBLIC.public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
OTHER_KEY = ed25519.Ed25519PrivateKey.generate()
URL = "https://api.example.com/hooks/orders?id=7"
BODY = b'{"event": "order.paid"}'
HEADERS = [("Content-Type", "application/json"), ("Content-Digest", content_digest(BODY))]
NOW = 1_700_000_000
COMPONENTS = ("@method", "@authority", "@path", "content-digest", "content-type")


def signed(
    *,
    key: Any = ED_KEY,
    key_id: str | None = "k1",
    algorithm: str = "ed25519",
    components: tuple[str, ...] = COMPONENTS,
    label: str = "sig1",
    headers: list[tuple[str, str]] | None = None,
    sign: dict[str, Any] | None = None,
    **options: Any,
) -> list[tuple[str, str]]:
    """Return HEADERS (or *headers*) with a signature of the request added."""
    headers = list(HEADERS if headers is None else headers)
    signer = HTTPSigner(
        key_id, key, algorithm=algorithm, components=components, label=label, **options
    )
    fields = signer.sign_request("POST", URL, headers, **({"created": NOW} | (sign or {})))
    return [*headers, ("Signature-Input", fields.signature_input), ("Signature", fields.signature)]


def verify(headers: list[tuple[str, str]], **options: Any) -> Any:
    options.setdefault("key", ED_PUBLIC)
    options.setdefault("now", NOW + 1)
    return verify_request("POST", URL, headers, **options)


def replace(headers: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return [(n, value if n == name else v) for n, v in headers]


def test_valid_signature_gives_what_it_vouches_for() -> None:
    result = verify(signed(sign={"nonce": "n1", "expires": NOW + 60}, tag="hooks"), body=BODY)
    assert result.label == "sig1"
    assert result.algorithm == "ed25519"
    assert result.key_id == "k1"
    assert result.components == COMPONENTS
    assert (result.created, result.expires, result.nonce, result.tag) == (
        NOW,
        NOW + 60,
        "n1",
        "hooks",
    )
    assert dict(result.parameters) == {
        "created": NOW,
        "expires": NOW + 60,
        "keyid": "k1",
        "alg": "ed25519",
        "nonce": "n1",
        "tag": "hooks",
    }
    assert result.body_verified


@pytest.mark.parametrize(
    "key", [ED_PUBLIC, ED_PUBLIC_PEM, ED_PUBLIC_PEM.decode(), ED_KEY, {"k1": ED_PUBLIC_PEM}]
)
def test_key_may_be_given_in_every_form(key: Any) -> None:
    assert verify(signed(), key=key).key_id == "k1"


def test_signature_from_the_clock_verifies_with_the_clock() -> None:
    assert verify(signed(sign={"created": int(time.time())}), now=None).label == "sig1"


def test_changed_header_is_detected() -> None:
    headers = replace(signed(), "Content-Type", "text/plain")
    with pytest.raises(
        SigningError, match=r"signature 'sig1' \(ed25519, keyid='k1'\) does not match the request"
    ):
        verify(headers)


def test_changed_url_is_detected() -> None:
    with pytest.raises(SigningError, match="does not match"):
        verify_request("POST", URL.replace("orders", "refunds"), signed(), key=ED_PUBLIC, now=NOW)


def test_other_key_is_detected() -> None:
    with pytest.raises(SigningError, match="does not match"):
        verify(signed(key=OTHER_KEY))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Signature-Input", "the request has no Signature-Input header: it is not signed"),
        ("Signature", "the request has no Signature header: it is not signed"),
    ],
)
def test_unsigned_request_is_refused(name: str, message: str) -> None:
    with pytest.raises(SigningError, match=message):
        verify([(n, v) for n, v in signed() if n != name])


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Signature-Input", 'sig1=("@method"'),
        ("Signature-Input", "sig1=(é)"),
        ("Signature", "sig1=:AAAA"),
    ],
)
def test_malformed_signature_fields_are_refused(name: str, value: str) -> None:
    with pytest.raises(SigningError, match=f"{name} is not a structured dictionary"):
        verify(replace(signed(), name, value))


def test_signature_input_member_must_be_an_inner_list() -> None:
    with pytest.raises(SigningError, match="its Signature-Input member is not an inner list"):
        verify(replace(signed(), "Signature-Input", "sig1=:AAAA:"))


@pytest.mark.parametrize("signature", ["sig2=:AAAA:", 'sig1="AAAA"', "sig1=(:AAAA:)"])
def test_signature_must_be_a_byte_sequence_with_the_same_label(signature: str) -> None:
    with pytest.raises(SigningError, match="no byte sequence labelled so in Signature"):
        verify(replace(signed(), "Signature", signature))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ('created="1"', "its created parameter is not an integer"),
        ("expires=1.5", "its expires parameter is not an integer"),
        ("keyid=k1", "its keyid parameter is not a string"),  # a token, not a string
        ("alg=1", "its alg parameter is not a string"),
        ("nonce=?1", "its nonce parameter is not a string"),
        ("tag=:AAAA:", "its tag parameter is not a string"),
    ],
)
def test_parameters_of_the_wrong_type_are_refused(params: str, message: str) -> None:
    headers = replace(signed(), "Signature-Input", f'sig1=("@method");{params}')
    with pytest.raises(SigningError, match=message):
        verify(headers, required_components=())


def test_signature_created_in_the_future_is_refused() -> None:
    with pytest.raises(SigningError, match="was created in the future"):
        verify(signed(sign={"created": NOW + 60}))


def test_small_clock_differences_are_allowed() -> None:
    assert verify(signed(sign={"created": NOW + 5}), now=NOW).created == NOW + 5
    with pytest.raises(SigningError, match="created in the future"):
        verify(signed(sign={"created": NOW + 5}), now=NOW, clock_skew=0)


def test_expired_signature_is_refused() -> None:
    with pytest.raises(SigningError, match=f"signature 'sig1' expired at {NOW + 10}"):
        verify(signed(sign={"expires": NOW + 10}), now=NOW + 20)


def test_signature_older_than_max_age_is_refused() -> None:
    with pytest.raises(SigningError, match=r"is 400 s old, more than max_age \(300 s\)"):
        verify(signed(), now=NOW + 400)
    assert verify(signed(), now=NOW + 400, max_age=None).created == NOW
    assert verify(signed(), now=NOW + 400, max_age=600).created == NOW


def test_signature_without_created_needs_max_age_none() -> None:
    headers = signed(sign={"created": None})
    with pytest.raises(
        SigningError, match="has no created parameter, so its age cannot be checked"
    ):
        verify(headers)
    assert verify(headers, max_age=None).created is None


def test_required_components_must_be_covered() -> None:
    with pytest.raises(SigningError, match="does not cover @query, which the verifier requires"):
        verify(signed(), required_components=("@method", "@query"))


def test_target_uri_covers_the_parts_it_is_made_of() -> None:
    headers = signed(components=("@method", "@target-uri"))
    result = verify(
        headers, required_components=("@method", "@authority", "@path", "@query", "@scheme")
    )
    assert result.components == ("@method", "@target-uri")


def test_request_target_covers_path_and_query() -> None:
    headers = signed(components=("@method", "@authority", "@request-target"))
    assert verify(headers, required_components=("@path", "@query")).label == "sig1"


def test_required_components_are_compared_as_identifiers() -> None:
    headers = signed(components=('@query-param;name="id"', "@method"))
    assert verify(headers, required_components=('"@query-param";name="id"',)).label == "sig1"
    with pytest.raises(SigningError, match='does not cover @query-param;name="other"'):
        verify(headers, required_components=('@query-param;name="other"',))


def test_component_covered_twice_is_refused() -> None:
    headers = replace(signed(), "Signature-Input", 'sig1=("@method" "@method");created=1')
    with pytest.raises(SigningError, match="signature 'sig1' covers @method twice"):
        verify(headers, required_components=(), max_age=None)


def test_invalid_component_in_the_message_is_refused() -> None:
    headers = replace(signed(), "Signature-Input", 'sig1=("@signature-params");created=1')
    with pytest.raises(SigningError, match="signature 'sig1': component '@signature-params'"):
        verify(headers, required_components=(), max_age=None)


def test_covered_field_missing_from_the_message_is_refused() -> None:
    headers = [(n, v) for n, v in signed() if n != "Content-Type"]
    with pytest.raises(
        SigningError, match="signature 'sig1': the request has no 'content-type' header field"
    ):
        verify(headers)


def test_keys_by_keyid_pick_the_signature_key() -> None:
    keys = {"old": OTHER_KEY.public_key(), "k1": ED_PUBLIC}
    assert verify(signed(), key=keys).key_id == "k1"


def test_unknown_keyid_is_refused() -> None:
    with pytest.raises(SigningError, match="unknown keyid 'k1'"):
        verify(signed(), key={"other": ED_PUBLIC})


def test_missing_keyid_is_refused_when_keys_are_by_keyid() -> None:
    with pytest.raises(SigningError, match="has no keyid, so no key can be chosen"):
        verify(signed(key_id=None), key={"k1": ED_PUBLIC})


def test_keyid_that_chooses_a_key_of_another_kind_is_a_signing_error() -> None:
    keys = {"k1": ec.generate_private_key(ec.SECP256R1()).public_key()}
    with pytest.raises(
        SigningError, match="signature 'sig1': algorithm 'ed25519' needs an Ed25519 key"
    ):
        verify(signed(), key=keys, algorithm="ed25519")


def test_verifier_key_of_another_kind_than_its_algorithm_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="algorithm 'ecdsa-p256-sha256' needs an EC key"):
        verify(signed(include_alg=False), algorithm="ecdsa-p256-sha256")


def test_pinned_algorithm_refuses_another_announced_one() -> None:
    with pytest.raises(
        SigningError, match="announces alg='ed25519' but this verifier accepts only 'hmac-sha256'"
    ):
        verify(signed(), key=b"secret", algorithm="hmac-sha256")


def test_hmac_forged_with_the_public_key_as_secret_is_refused() -> None:
    # Algorithm confusion (RFC 9421 §7.3.5): a forger who knows the public key
    # signs with HMAC, using the PEM text as the secret, and announces
    # hmac-sha256. The verifier's key is a public key: it never becomes a secret.
    headers = signed(key=ED_PUBLIC_PEM, algorithm="hmac-sha256")
    with pytest.raises(
        SigningError, match="announces alg='hmac-sha256' but the verification key is for 'ed25519'"
    ):
        verify(headers, key=ED_PUBLIC_PEM)


def test_hmac_signature_without_alg_cannot_be_checked_with_a_public_key() -> None:
    headers = signed(key=ED_PUBLIC_PEM, algorithm="hmac-sha256", include_alg=False)
    with pytest.raises(SigningError, match="does not match"):
        verify(headers, key=ED_PUBLIC_PEM)


def test_hmac_signature_verifies_with_the_shared_secret() -> None:
    secret = b"k" * 32
    assert (
        verify(signed(key=secret, algorithm="hmac-sha256"), key=secret).algorithm == "hmac-sha256"
    )


def test_forged_hmac_is_detected() -> None:
    headers = signed(key=b"k" * 32, algorithm="hmac-sha256")
    forged = base64.b64encode(hmac.new(b"guess", b"x", hashlib.sha256).digest()).decode()
    with pytest.raises(SigningError, match="does not match"):
        verify(replace(headers, "Signature", f"sig1=:{forged}:"), key=b"k" * 32)


def test_label_selects_one_signature() -> None:
    first = signed(label="a", key=OTHER_KEY)
    both = [
        *signed(label="b")[:2],
        ("Signature-Input", f"{first[2][1]}, {signed(label='b')[2][1]}"),
    ]
    both.append(("Signature", f"{first[3][1]}, {signed(label='b')[3][1]}"))
    assert verify(both, label="b").label == "b"
    with pytest.raises(SigningError, match="signature 'a'"):
        verify(both, label="a")


def test_without_label_the_first_signature_that_verifies_wins() -> None:
    first = signed(label="a", key=OTHER_KEY)
    second = signed(label="b")
    headers = [*HEADERS, first[2], second[2], first[3], second[3]]  # repeated field lines
    assert verify(headers).label == "b"


def test_when_no_signature_verifies_every_reason_is_given() -> None:
    first = signed(label="a", key=OTHER_KEY)
    second = signed(label="b", components=("@method",))
    headers = [*HEADERS, first[2], second[2], first[3], second[3]]
    with pytest.raises(
        SigningError,
        match=(
            r"none of the 2 signatures verified: signature 'a' .*does not match.*; "
            r"signature 'b' does not cover @authority"
        ),
    ):
        verify(headers)


def test_unknown_label_is_refused_naming_the_labels_there() -> None:
    with pytest.raises(SigningError, match="no signature labelled 'x'; the request has 'sig1'"):
        verify(signed(), label="x")


def test_tag_selects_signatures() -> None:
    assert verify(signed(tag="hooks"), tag="hooks").tag == "hooks"
    with pytest.raises(SigningError, match="signature 'sig1' does not have tag='hooks'"):
        verify(signed(tag="other"), tag="hooks")


def test_body_must_match_the_covered_digest() -> None:
    with pytest.raises(SigningError, match="sha-256 digest does not match the body"):
        verify(signed(), body=b'{"event": "order.refunded"}')


def test_body_needs_a_covered_digest() -> None:
    headers = signed(components=("@method", "@authority", "@path"))
    with pytest.raises(
        SigningError, match="does not cover content-digest, so the body is not authenticated"
    ):
        verify(headers, body=BODY)


def test_digest_covered_as_byte_sequences_does_not_authenticate_the_body() -> None:
    headers = signed(components=("@method", "@authority", "@path", "content-digest;bs"))
    with pytest.raises(SigningError, match="does not cover content-digest"):
        verify(headers, body=BODY)


def test_digest_member_covered_with_key_authenticates_the_body() -> None:
    headers = signed(components=("@method", "@authority", "@path", 'content-digest;key="sha-256"'))
    assert verify(headers, body=BODY).body_verified


def test_without_a_body_the_digest_is_not_checked() -> None:
    assert not verify(signed()).body_verified


def test_unknown_signature_parameters_are_kept_and_signed() -> None:
    # A parameter registered after RFC 9421 is part of @signature-params: a
    # signature covering it verifies, and it is reported.
    signer = HTTPSigner("k1", ED_KEY, algorithm="ed25519", components=("@method",), tag="t")
    params = signer.signature_params(created=NOW) + ";ext=5"
    base = f'"@method": POST\n"@signature-params": {params}'.encode()
    signature = base64.b64encode(ED_KEY.sign(base)).decode()
    headers = [("Signature-Input", f"sig1={params}"), ("Signature", f"sig1=:{signature}:")]
    result = verify(headers, required_components=("@method",))
    assert result.parameters["ext"] == 5


def test_response_signature_verifies() -> None:
    signer = HTTPSigner("k1", ED_KEY, algorithm="ed25519", components=("@status", "content-type"))
    fields = signer.sign_response(200, [("Content-Type", "text/plain")], created=NOW)
    headers = [
        ("Content-Type", "text/plain"),
        ("Signature-Input", fields.signature_input),
        ("Signature", fields.signature),
    ]
    assert verify_response(200, headers, key=ED_PUBLIC, now=NOW).components == (
        "@status",
        "content-type",
    )
    with pytest.raises(SigningError, match="does not match the response"):
        verify_response(201, headers, key=ED_PUBLIC, now=NOW)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"required_components": "@method"}, "required_components: expected a sequence"),
        ({"required_components": ("@nope",)}, "required_components: component '@nope'"),
        ({"algorithm": "hs2019"}, "algorithm: expected one of"),
        ({"max_age": -1}, "max_age: expected a number of seconds >= 0"),
        ({"max_age": True}, "max_age: expected a number of seconds >= 0"),
        ({"clock_skew": "5"}, "clock_skew: expected a number of seconds >= 0"),
        ({"body": "text"}, "body: expected bytes, got str"),
        ({"tag": 5}, "tag: expected a string or None"),
        ({"label": 5}, "label: expected a string or None"),
        ({"structured_fields": {"x": "set"}}, "structured_fields"),
    ],
)
def test_invalid_verifier_arguments_are_configuration_errors(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        verify(signed(), **options)


@pytest.mark.parametrize("method", ["", None])
def test_verify_request_needs_a_method(method: Any) -> None:
    with pytest.raises(ConfigurationError, match="method: expected a method name"):
        verify_request(method, URL, signed(), key=ED_PUBLIC)


@pytest.mark.parametrize("status", [0, 1000, "200"])
def test_verify_response_needs_a_status(status: Any) -> None:
    with pytest.raises(ConfigurationError, match="status: expected a three-digit status code"):
        verify_response(status, [], key=ED_PUBLIC)


def test_an_announced_algorithm_the_verifier_refuses_is_a_verification_error():
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    from aiohttp_auth.errors import SignatureVerificationError
    from aiohttp_auth.signing.httpsig import HTTPSigner
    from aiohttp_auth.signing.httpsig_verify import verify_request

    signer = HTTPSigner(
        "k", ed25519.Ed25519PrivateKey.generate(), algorithm="ed25519", components=("@method",)
    )
    fields = signer.sign_request("GET", "https://example.com/", [], created=1_700_000_000)
    headers = [("Signature-Input", fields.signature_input), ("Signature", fields.signature)]
    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(SignatureVerificationError, match="ed25519"):
        verify_request(
            "GET",
            "https://example.com/",
            headers,
            key=ec_key,
            algorithm="ecdsa-p256-sha256",
            required_components=("@method",),
            max_age=None,
        )
