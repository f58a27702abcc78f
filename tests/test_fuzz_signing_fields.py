"""Fuzzing Content-Digest verification and component identifiers: a result or a SigningError.

A verifier reads ``Content-Digest`` (RFC 9530) from whatever arrives, and a
signer or verifier is configured with component identifiers (RFC 9421 §2);
neither may answer bad input with anything but a ``SigningError`` (a
``SignatureVerificationError`` for a received digest) or, for configuration,
a ``ConfigurationError``. The Signature-Input and Signature fields themselves
are fuzzed in test_signing_httpsig_hostile.
"""

from __future__ import annotations

import base64
import hashlib

from fuzzing import mostly
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aiohttp_auth.errors import ConfigurationError, SignatureVerificationError, SigningError
from aiohttp_auth.signing.content_digest import (
    DIGEST_ALGORITHMS,
    content_digest,
    verify_content_digest,
)
from aiohttp_auth.signing.httpsig_components import Component, parse_identifier
from aiohttp_auth.signing.httpsig_fields import STRUCTURED_FIELDS
from aiohttp_auth.signing.httpsig_params import covered_components

FUZZ = settings(max_examples=300, deadline=None)
BODY = b'{"hello": "world"}'
ACCEPTED = st.lists(st.sampled_from(sorted(DIGEST_ALGORITHMS)), min_size=1, unique=True)


def verified(field_value: str | list[str], body: bytes, algorithms: list[str]) -> tuple[str, ...]:
    """Verify, turning the one documented failure into an empty result."""
    try:
        return verify_content_digest(field_value, body, algorithms=algorithms)
    except SignatureVerificationError:
        return ()


# --- Content-Digest ------------------------------------------------------------


def _byte_sequence(digest: bytes) -> str:
    return f":{base64.b64encode(digest).decode()}:"


# Member values that break it: another body's digest, the wrong length, other types.
BAD_DIGEST_VALUES = st.sampled_from(
    [
        *("other-body", ":AAAA:", ":not base64:", ":" + "A" * 88 + ":", '"a string"'),
        *("1", "?1", "(:AAAA:)", "token", "", ":=:", "-1.5"),
    ]
)
OTHER_ALGORITHMS = st.sampled_from(["md5", "sha", "SHA-256", "unixsum", "*x"])
BAD_PARAMETERS = st.sampled_from([";a=1", ';b="x"', ";c", ";=", ";%"])


@st.composite
def content_digest_fields(draw: st.DrawFn) -> list[str]:
    """Draw Content-Digest field lines close to a valid dictionary of digests of BODY."""
    members = []
    for _ in range(draw(st.integers(0, 3))):
        name = mostly(draw, st.sampled_from(sorted(DIGEST_ALGORITHMS)), OTHER_ALGORITHMS)
        hash_function = DIGEST_ALGORITHMS.get(name, hashlib.sha256)
        value = mostly(draw, st.just("right"), BAD_DIGEST_VALUES)
        if value in ("right", "other-body"):
            value = _byte_sequence(hash_function(BODY if value == "right" else b"x").digest())
        parameters = mostly(draw, st.just(""), BAD_PARAMETERS)
        members.append(f"{name}={value}{parameters}" if value else name)
    separator = mostly(draw, st.sampled_from([", ", ",", " ,\t"]), st.sampled_from([";", " "]))
    text = separator.join(members)
    cuts = mostly(draw, st.just([]), st.lists(st.integers(0, len(text)), max_size=2))
    # Split over several field lines, as a message with the field repeated.
    bounds = sorted(cuts)
    return [text[a:b] for a, b in zip([0, *bounds], [*bounds, len(text)], strict=True)]


@FUZZ
@given(content_digest_fields(), ACCEPTED)
@example(["sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"], ["sha-256"])
def test_near_valid_content_digests_verify_or_raise_a_verification_error(
    lines: list[str], algorithms: list[str]
) -> None:
    matched = verified(lines, BODY, algorithms)
    assert len(set(matched)) == len(matched)
    assert set(matched) <= set(algorithms)
    for name in matched:
        assert _byte_sequence(DIGEST_ALGORITHMS[name](BODY).digest()) in "".join(lines)


HEADERISH = st.text(alphabet=st.sampled_from(list('sha-256=:AZaz09+/,;()"?*%. \t\x7f\u00e9')))


@FUZZ
@given(st.one_of(st.text(max_size=60), HEADERISH) | st.lists(HEADERISH, max_size=3), ACCEPTED)
def test_any_text_as_content_digest_is_refused_with_a_verification_error(
    field_value: str | list[str], algorithms: list[str]
) -> None:
    # No text of this alphabet holds a 32- or 64-byte digest of BODY.
    assert verified(field_value, BODY, algorithms) == ()


@FUZZ
@given(st.binary(max_size=200), ACCEPTED, st.binary(max_size=20))
def test_written_content_digests_verify_their_body_and_no_other(
    body: bytes, algorithms: list[str], other: bytes
) -> None:
    field_value = content_digest(body, algorithms)
    assert verify_content_digest(field_value, body, algorithms=algorithms) == tuple(algorithms)
    if other != body:
        assert verified(field_value, other, algorithms) == ()


# --- component identifiers -------------------------------------------------------

NAMES = st.sampled_from(
    [
        *("@method", "@path", "@query", "@authority", "@target-uri", "@status"),
        *("@query-param", "Content-Type", "content-digest", "example-dict", "date"),
    ]
)
BAD_NAMES = st.sampled_from(
    [
        "@Method",
        "@nope",
        "@signature-params",
        "",
        " ",
        "\u00e9",
        '"date',
        "1",
        ":AA==:",
        "(",
        "a b",
    ]
)
PARAMETERS = st.sampled_from(["", ";sf", ";bs", ";req", ';key="a"', ';name="Pet"'])
BAD_PARAMETERS = st.sampled_from(
    [";tr", ";sf;bs", ";name=1", ";key", ";=", ";", ";x", ';key="\u00e9"', ";bs=?0", ";req;req"]
)


@st.composite
def identifiers(draw: st.DrawFn) -> str:
    """Draw a component identifier as users write it, or in its serialized form."""
    name = mostly(draw, NAMES, BAD_NAMES)
    if draw(st.booleans()):
        name = f'"{name}"' if name.startswith("@") else f'"{name.lower()}"'
    parameters = "".join(
        mostly(draw, PARAMETERS, BAD_PARAMETERS) for _ in range(draw(st.integers(0, 2)))
    )
    return name + parameters


IDENTIFIERS = identifiers() | st.text(max_size=20)


@FUZZ
@given(IDENTIFIERS)
@example('"@query-param";name="Pet"')
@example('Example-Dict;key="a";sf')
def test_any_identifier_parses_to_a_component_or_raises_a_signing_error(text: str) -> None:
    try:
        component = Component(parse_identifier(text), STRUCTURED_FIELDS)
    except SigningError:
        return
    # The serialized form a signature names it by reads back as the same component.
    again = Component(parse_identifier(component.identifier), STRUCTURED_FIELDS)
    assert (again.identifier, again.identity) == (component.identifier, component.identity)
    assert component.name == component.name.lower() or component.name.startswith("@")


@FUZZ
@given(st.lists(IDENTIFIERS, max_size=4))
def test_any_components_argument_is_accepted_or_a_configuration_error(texts: list[str]) -> None:
    try:
        components = covered_components(texts, STRUCTURED_FIELDS)
    except ConfigurationError as error:
        message = str(error)
    else:
        assert len({component.identity for component in components}) == len(texts)
        return
    assert message.startswith("components: ")
