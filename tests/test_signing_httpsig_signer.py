"""HTTPSigner: construction, signature parameters, requests and responses, merging."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from yarl import URL

from aiohttp_auth.errors import ConfigurationError, SigningError
from aiohttp_auth.signing.content_digest import content_digest
from aiohttp_auth.signing.httpsig import DEFAULT_COMPONENTS, HTTPSigner
from aiohttp_auth.signing.httpsig_message import RequestMessage, TargetURI
from aiohttp_auth.signing.httpsig_signature_fields import SignatureFields
from aiohttp_auth.signing.httpsig_verify import verify_request, verify_response

SECRET = b"0123456789abcdef0123456789abcdef"
URL_ = "https://api.example.com/v1/orders?id=7"
BODY = b'{"id": 7}'
HEADERS = [("Content-Type", "application/json"), ("Content-Digest", content_digest(BODY))]


def hmac_signer(**options: Any) -> HTTPSigner:
    return HTTPSigner("k1", SECRET, algorithm="hmac-sha256", **options)


def test_default_components_cover_method_authority_path_and_body() -> None:
    assert DEFAULT_COMPONENTS == ("@method", "@authority", "@path", "content-digest")
    fields = hmac_signer().sign_request("POST", URL_, HEADERS, created=1700000000)
    assert fields.base == (
        '"@method": POST\n'
        '"@authority": api.example.com\n'
        '"@path": /v1/orders\n'
        f'"content-digest": {content_digest(BODY)}\n'
        '"@signature-params": ("@method" "@authority" "@path" "content-digest")'
        ';created=1700000000;keyid="k1";alg="hmac-sha256"'
    )
    assert fields.signature_input == "sig1=" + fields.base.rsplit(": ", 1)[1]
    assert fields.label == "sig1"


def test_signature_is_the_base64_of_the_signature_as_a_byte_sequence() -> None:
    fields = hmac_signer().sign_request("POST", URL_, HEADERS, created=1)
    signature = base64.b64decode(fields.signature.removeprefix("sig1=:").removesuffix(":"))
    assert len(signature) == 32


def test_parameters_are_in_a_fixed_order() -> None:
    signer = hmac_signer(components=("@method",), tag="app")
    params = signer.signature_params(created=10, expires=20, nonce="n-1")
    assert (
        params
        == '("@method");created=10;expires=20;keyid="k1";alg="hmac-sha256";nonce="n-1";tag="app"'
    )


def test_parameters_may_all_be_left_out() -> None:
    signer = HTTPSigner(None, SECRET, algorithm="hmac-sha256", components=(), include_alg=False)
    assert signer.signature_params() == "()"
    assert signer.key_id is None


def test_strings_in_parameters_are_escaped_as_structured_field_strings() -> None:
    signer = HTTPSigner('k"1\\', SECRET, algorithm="hmac-sha256", components=(), tag='t"')
    assert (
        signer.signature_params(nonce='"')
        == '();keyid="k\\"1\\\\";alg="hmac-sha256";nonce="\\"";tag="t\\""'
    )


@pytest.mark.parametrize("value", [-1, 10**15, 1.5, "1", True])
@pytest.mark.parametrize("name", ["created", "expires"])
def test_times_must_be_whole_seconds_in_range(name: str, value: Any) -> None:
    with pytest.raises(SigningError, match=f"{name}: expected a whole number of seconds"):
        hmac_signer().signature_params(**{name: value})


@pytest.mark.parametrize("nonce", ["é", "a\nb", 7])
def test_nonce_must_be_printable_ascii(nonce: Any) -> None:
    with pytest.raises(SigningError, match="nonce: expected a string of printable ASCII"):
        hmac_signer().signature_params(nonce=nonce)


def test_url_may_be_a_yarl_url_or_a_target_uri() -> None:
    signer = hmac_signer(components=("@target-uri",))
    by_str = signer.sign_request("GET", URL_, created=1).signature
    assert signer.sign_request("GET", URL(URL_), created=1).signature == by_str
    assert signer.sign_request("GET", TargetURI.parse(URL_), created=1).signature == by_str


@pytest.mark.parametrize("method", ["", None, 7])
def test_method_must_be_a_name(method: Any) -> None:
    with pytest.raises(SigningError, match="method: expected a method name"):
        hmac_signer().sign_request(method, URL_, HEADERS)


def test_missing_covered_field_is_refused_never_signed_without() -> None:
    with pytest.raises(SigningError, match="no 'content-digest' header field"):
        hmac_signer().sign_request("POST", URL_, [("Content-Type", "application/json")])


def test_response_is_signed_with_request_components() -> None:
    request = RequestMessage("POST", URL_, HEADERS)
    signer = hmac_signer(
        components=("@status", "content-type", "@method;req", "content-digest;req")
    )
    fields = signer.sign_response(
        201, [("Content-Type", "text/plain")], request=request, created=5
    )
    assert fields.base.splitlines()[:4] == [
        '"@status": 201',
        '"content-type": text/plain',
        '"@method";req: POST',
        f'"content-digest";req: {content_digest(BODY)}',
    ]
    result = verify_response(
        201,
        [
            ("Content-Type", "text/plain"),
            ("Signature-Input", fields.signature_input),
            ("Signature", fields.signature),
        ],
        key=SECRET,
        request=request,
        now=5,
        required_components=("@status", "@method;req"),
    )
    assert result.components == ("@status", "content-type", "@method;req", "content-digest;req")


@pytest.mark.parametrize("status", [99, 1000, "200", True])
def test_response_status_must_be_three_digits(status: Any) -> None:
    with pytest.raises(SigningError, match="status: expected a three-digit status code"):
        hmac_signer(components=("@status",)).sign_response(status)


def test_properties_describe_the_signer() -> None:
    signer = hmac_signer(
        components=("@method", '@query-param;name="id"', "Content-Type;req"), label="s"
    )
    assert signer.algorithm == "hmac-sha256"
    assert signer.label == "s"
    assert signer.components == ("@method", '@query-param;name="id"', "content-type;req")
    assert signer.covers("@method")
    assert not signer.covers("content-type")  # only the request's, with ;req
    assert not signer.covers("content-digest")


def test_repr_shows_the_kind_of_key_never_the_key() -> None:
    assert repr(hmac_signer()) == (
        "HTTPSigner(key_id='k1', key=<redacted 32 bytes>, algorithm='hmac-sha256', "
        "components=('@method', '@authority', '@path', 'content-digest'), label='sig1')"
    )
    assert SECRET.decode() not in repr(hmac_signer())
    ed = HTTPSigner("k2", ed25519.Ed25519PrivateKey.generate(), algorithm="ed25519", components=())
    assert repr(ed) == (
        "HTTPSigner(key_id='k2', key=<an Ed25519 private key>, algorithm='ed25519', "
        "components=(), label='sig1')"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"components": "@method"}, "components: expected a sequence of component identifiers"),
        ({"components": 7}, "components: expected a sequence of component identifiers"),
        ({"components": ("@method", "@method")}, "components: @method is listed twice"),
        (
            {"components": ('x;sf;key="a"', 'x;key="a";sf')},
            'components: x;key="a";sf is listed twice',
        ),
        ({"components": ("@nope",)}, "components: component '@nope': not a derived component"),
        ({"components": ("x;sf",)}, "the structured type of 'x' is not known"),
        ({"label": "Sig1"}, "label: expected a structured-field key"),
        ({"label": ""}, "label: expected a structured-field key"),
        ({"label": 1}, "label: expected a structured-field key"),
        ({"tag": "é"}, "tag: expected a string of printable ASCII"),
        ({"include_alg": 1}, "include_alg: expected True or False"),
        ({"structured_fields": {"x": "set"}}, "structured_fields"),
    ],
)
def test_invalid_arguments_are_configuration_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(")):
        hmac_signer(**options)


@pytest.mark.parametrize("key_id", ["é", 7, "a\nb"])
def test_key_id_must_be_printable_ascii(key_id: Any) -> None:
    with pytest.raises(ConfigurationError, match="key_id: expected a string of printable ASCII"):
        HTTPSigner(key_id, SECRET, algorithm="hmac-sha256")


def test_declared_structured_field_is_signed_reserialised() -> None:
    signer = hmac_signer(
        components=("example-dict;sf",), structured_fields={"Example-Dict": "dictionary"}
    )
    fields = signer.sign_request("GET", URL_, [("Example-Dict", "a=1,   b=2")], created=1)
    assert fields.base.startswith('"example-dict";sf: a=1, b=2\n')


FIELDS = SignatureFields("sig2", 'sig2=("@method");created=1', "sig2=:AAAA:", "")


def test_merged_keeps_other_signatures_and_replaces_its_own_label() -> None:
    signature_input, signature = FIELDS.merged(
        ['sig1=("@path");created=1', 'sig2=("@old")'], ["sig1=:BBBB:, sig2=:CCCC:"]
    )
    assert signature_input == 'sig1=("@path");created=1, sig2=("@method");created=1'
    assert signature == "sig1=:BBBB:, sig2=:AAAA:"


def test_merged_with_nothing_there_is_the_fields_themselves() -> None:
    assert FIELDS.merged() == (FIELDS.signature_input, FIELDS.signature)
    assert FIELDS.merged('sig2=("@x")', "sig2=:CCCC:") == (
        FIELDS.signature_input,
        FIELDS.signature,
    )


def test_merged_refuses_a_malformed_existing_field() -> None:
    with pytest.raises(
        SigningError, match="already has a Signature header that is not a structured dictionary"
    ):
        FIELDS.merged(['sig1=("@path")'], ["sig1=:BBBB"])


def test_signed_request_verifies() -> None:
    fields = hmac_signer().sign_request("POST", URL_, HEADERS, created=100, nonce="n")
    headers = [
        *HEADERS,
        ("Signature-Input", fields.signature_input),
        ("Signature", fields.signature),
    ]
    result = verify_request("POST", URL_, headers, key=SECRET, body=BODY, now=101)
    assert (result.nonce, result.body_verified) == ("n", True)
