"""Content-Digest (RFC 9530): creation and verification, sans-IO."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from aiohttp_auth.errors import ConfigurationError, SigningError
from aiohttp_auth.signing.content_digest import (
    DIGEST_ALGORITHMS,
    content_digest,
    verify_content_digest,
)

HELLO = b'{"hello": "world"}'
# RFC 9530 §2 (and RFC 9421 Appendix B.2's request): the digests of HELLO.
HELLO_SHA256 = "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
HELLO_SHA512 = (
    "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyea"
    "ldVLvRwEmTHWXvJwew==:"
)
RFC9421 = json.loads(
    (Path(__file__).parent / "vectors" / "rfc9421" / "rfc9421_appendix_b2.json").read_text()
)


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [("sha-256", HELLO_SHA256), ("sha-512", HELLO_SHA512)],
)
def test_rfc9530_examples(algorithm: str, expected: str) -> None:
    assert content_digest(HELLO, algorithm) == expected


def test_default_algorithm_is_sha_256() -> None:
    assert content_digest(HELLO) == HELLO_SHA256


def test_several_algorithms_give_one_member_each_in_order() -> None:
    assert content_digest(HELLO, ("sha-512", "sha-256")) == f"{HELLO_SHA512}, {HELLO_SHA256}"


def test_empty_body_has_the_digest_of_no_bytes() -> None:
    assert content_digest(b"") == "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"


def test_rfc9421_request_digest_matches_its_body() -> None:
    request = RFC9421["request"]
    field = dict(request["headers"])["Content-Digest"]
    assert verify_content_digest(field, request["body"].encode()) == ("sha-512",)


def test_verify_returns_every_matching_algorithm() -> None:
    field = content_digest(HELLO, ("sha-256", "sha-512"))
    assert verify_content_digest(field, HELLO) == ("sha-256", "sha-512")


def test_verify_accepts_the_field_split_over_several_lines() -> None:
    assert verify_content_digest([HELLO_SHA256, HELLO_SHA512], HELLO) == ("sha-256", "sha-512")


def test_verify_ignores_deprecated_algorithms_next_to_a_supported_one() -> None:
    field = f"md5=:XrY7u+Ae7tCTyyK7j1rNww==:, crc32c=:AAAAAA==:, {HELLO_SHA256}"
    assert verify_content_digest(field, HELLO) == ("sha-256",)


def test_verify_checks_only_the_algorithms_asked_for() -> None:
    field = f"{HELLO_SHA256}, sha-512=:AAAA:"  # the sha-512 member is wrong
    assert verify_content_digest(field, HELLO, algorithms="sha-256") == ("sha-256",)


def test_verify_refuses_a_digest_of_other_content() -> None:
    with pytest.raises(SigningError, match="sha-256 digest does not match the body"):
        verify_content_digest(HELLO_SHA256, b'{"hello": "World"}')


def test_verify_refuses_when_one_of_two_digests_does_not_match() -> None:
    wrong_512 = content_digest(b"other", "sha-512")
    with pytest.raises(SigningError, match="sha-512 digest does not match"):
        verify_content_digest(f"{HELLO_SHA256}, {wrong_512}", HELLO)


def test_verify_refuses_a_digest_of_the_wrong_length() -> None:
    with pytest.raises(SigningError, match="does not match"):
        verify_content_digest("sha-256=:AAAA:", HELLO)


@pytest.mark.parametrize(
    "field",
    ["sha-256=:X48E9q", "sha-256=:not base64!:", "SHA-256=:AAAA:", "sha-256=:AAAA:,", "é"],
)
def test_verify_refuses_a_value_that_is_not_a_dictionary(field: str) -> None:
    with pytest.raises(SigningError, match="not a structured dictionary"):
        verify_content_digest(field, HELLO)


@pytest.mark.parametrize("member", ['"X48E9q"', "1", "(:AAAA:)", "?1"])
def test_verify_refuses_a_member_that_is_not_a_byte_sequence(member: str) -> None:
    with pytest.raises(SigningError, match="sha-256 digest is not a byte sequence"):
        verify_content_digest(f"sha-256={member}", HELLO)


def test_verify_refuses_a_field_without_a_supported_algorithm() -> None:
    with pytest.raises(SigningError, match="no digest in sha-256 or sha-512: it has md5, sha"):
        verify_content_digest("md5=:XrY7u+Ae7tCTyyK7j1rNww==:, sha=:AAAA:", HELLO)


def test_verify_refuses_a_missing_field() -> None:
    with pytest.raises(SigningError, match="no Content-Digest header"):
        verify_content_digest([], HELLO)


@pytest.mark.parametrize("algorithm", ["md5", "SHA-256", "sha256", ""])
def test_unknown_algorithm_is_a_configuration_error(algorithm: str) -> None:
    with pytest.raises(ConfigurationError, match="expected 'sha-256' or 'sha-512'"):
        content_digest(HELLO, algorithm)
    with pytest.raises(ConfigurationError, match="algorithms: expected"):
        verify_content_digest(HELLO_SHA256, HELLO, algorithms=[algorithm])


def test_no_algorithm_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="at least one"):
        content_digest(HELLO, ())


def test_registry_holds_the_active_algorithms_of_rfc9530() -> None:
    assert {name: fn().name for name, fn in DIGEST_ALGORITHMS.items()} == {
        "sha-256": hashlib.sha256().name,
        "sha-512": hashlib.sha512().name,
    }
