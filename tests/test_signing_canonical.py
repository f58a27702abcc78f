"""The SigV4 canonical request, rule by rule (AWS "Create a canonical request")."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiohttp_auth.errors import SigningError
from aiohttp_auth.signing.canonical import (
    canonical_path,
    canonical_query,
    canonical_request,
    uri_encode,
)
from aiohttp_auth.signing.canonical_headers import UNSIGNED_HEADERS, canonical_headers


@pytest.mark.parametrize(
    ("text", "keep_slash", "expected"),
    [
        ("AZaz09-_.~", False, "AZaz09-_.~"),
        ("a b", False, "a%20b"),
        ("a/b", False, "a%2Fb"),
        ("a/b", True, "a/b"),
        ("a+b=c&d", False, "a%2Bb%3Dc%26d"),
        ("ሴ", False, "%E1%88%B4"),
        ("%", True, "%25"),
        ("", False, ""),
    ],
)
def test_uri_encode_keeps_only_unreserved_characters(
    text: str, keep_slash: bool, expected: str
) -> None:
    assert uri_encode(text, keep_slash=keep_slash) == expected


@pytest.mark.parametrize(
    ("raw_path", "normalize", "double_encode", "expected"),
    [
        ("", True, True, "/"),
        ("", False, False, "/"),
        ("/", True, True, "/"),
        ("/a%20b/", True, True, "/a%2520b/"),
        ("/a%20b/", False, False, "/a%20b/"),
        ("//a//b//", True, True, "/a/b/"),
        ("//a//b//", False, True, "//a//b//"),
        ("/a/./b/../c", True, True, "/a/c"),
        ("/a/b/..", True, True, "/a"),
        ("/a/b/../", True, True, "/a/"),
        ("/..", True, True, "/"),
        ("/../..", True, True, "/"),
        ("/./", True, True, "/"),
        ("/.hidden/x", True, True, "/.hidden/x"),
        ("/a/./b", False, False, "/a/./b"),
        ("/a/./b", True, False, "/a/b"),
        ("/!$'()*", True, True, "/%21%24%27%28%29%2A"),
    ],
)
def test_canonical_path_normalises_and_encodes_for_non_s3(
    raw_path: str, normalize: bool, double_encode: bool, expected: str
) -> None:
    assert canonical_path(raw_path, normalize=normalize, double_encode=double_encode) == expected


@pytest.mark.parametrize(
    ("raw_query", "expected"),
    [
        ("", ""),
        ("b=2&a=1", "a=1&b=2"),
        ("a=2&a=1&a=10", "a=1&a=10&a=2"),
        ("a", "a="),
        ("a=", "a="),
        ("a&a=", "a=&a="),
        ("a=b=c", "a=b%3Dc"),
        ("a&&b", "a=&b="),
        ("%7e=%7E&~=x", "~=x&~=~"),
        ("k=%e1%88%b4", "k=%E1%88%B4"),
        ("k=ሴ", "k=%E1%88%B4"),
        ("k=a/b", "k=a%2Fb"),
        ("k=a+b", "k=a%2Bb"),
        ("k=a%2Bb", "k=a%2Bb"),
        ("k=a%20b", "k=a%20b"),
        ("k=%zz%", "k=%25zz%25"),
        ("k=%FF", "k=%FF"),
        ("Param=a&param=b", "Param=a&param=b"),
        ("X-Amz-Meta=1&-=2", "-=2&X-Amz-Meta=1"),
    ],
)
def test_canonical_query_decodes_reencodes_and_sorts(raw_query: str, expected: str) -> None:
    assert canonical_query(raw_query) == expected


def test_lone_surrogate_is_a_signing_error() -> None:
    with pytest.raises(SigningError, match="lone surrogate"):
        canonical_path("/a\ud800")
    with pytest.raises(SigningError, match="lone surrogate"):
        canonical_query("k=\udfff")


def test_encoded_parameters_are_sorted_in_without_decoding() -> None:
    assert (
        canonical_query(
            "b=1&A=%7e", encoded_parameters=[("X-Amz-Credential", "AK%2F2015"), ("a", "%41")]
        )
        == "A=~&X-Amz-Credential=AK%2F2015&a=%41&b=1"
    )
    assert canonical_query("", encoded_parameters=[("X", "1")]) == "X=1"


def test_plus_in_query_is_a_literal_plus_not_a_space() -> None:
    # yarl spells a space in a query value as '+'; AWS signs the raw bytes,
    # so that '+' is a plus to the signature (smithy-kotlin #654, curl #20543).
    assert canonical_query("q=a+b") == canonical_query("q=a%2Bb") != canonical_query("q=a%20b")


def test_canonical_headers_trim_collapse_sort_and_join() -> None:
    block, signed = canonical_headers(
        [
            ("Host", "example.amazonaws.com"),
            ("X-B", "  two   spaces  "),
            ("x-a", "\tTab\t\tvalue\t"),
            ("X-B", "second"),
            ("X-Empty", ""),
        ]
    )
    assert block == (
        "host:example.amazonaws.com\nx-a:Tab value\nx-b:two spaces,second\nx-empty:\n"
    )
    assert signed == "host;x-a;x-b;x-empty"


@pytest.mark.parametrize("name", sorted(UNSIGNED_HEADERS))
def test_standard_unsigned_headers_are_left_out(name: str) -> None:
    _, signed = canonical_headers([("Host", "h"), (name.title(), "value")])
    assert signed == "host"


def test_unsigned_headers_cover_botocore_and_aws_c_auth_lists() -> None:
    botocore = {"expect", "transfer-encoding", "user-agent", "x-amzn-trace-id"}
    aws_c_auth = {
        "x-amzn-trace-id",
        "user-agent",
        "connection",
        "expect",
        "sec-websocket-key",
        "sec-websocket-protocol",
        "sec-websocket-version",
        "upgrade",
    }
    assert botocore | aws_c_auth | {"authorization"} == UNSIGNED_HEADERS


def test_added_headers_are_signed_and_replace_skipped_copies() -> None:
    block, signed = canonical_headers(
        [("Host", "h"), ("X-Amz-Date", "stale")],
        unsigned_headers=UNSIGNED_HEADERS | {"x-amz-date"},
        added_headers=[("X-Amz-Date", "20150830T123600Z")],
    )
    assert block == "host:h\nx-amz-date:20150830T123600Z\n"
    assert signed == "host;x-amz-date"


def test_custom_unsigned_headers_replace_the_default_set() -> None:
    _, signed = canonical_headers(
        [("Host", "h"), ("User-Agent", "ua"), ("X-Skip", "1")], unsigned_headers={"x-skip"}
    )
    assert signed == "host;user-agent"


@pytest.mark.parametrize("value", ["caf\u00e9", "line\nbreak", "nul\x00", "del\x7f", "cr\r"])
def test_value_that_cannot_be_signed_names_the_header_not_the_value(value: str) -> None:
    with pytest.raises(SigningError, match="'X-Api-Note'") as excinfo:
        canonical_headers([("Host", "h"), ("X-Api-Note", value)])
    assert value not in str(excinfo.value)


@pytest.mark.parametrize("name", ["", "Bad Name", "Bad:Name", "Bad\x01", "Caf\u00e9"])
def test_invalid_header_name_is_refused(name: str) -> None:
    with pytest.raises(SigningError, match="not a valid HTTP field name"):
        canonical_headers([("Host", "h"), (name, "v")])


def test_invalid_added_header_is_refused_too() -> None:
    with pytest.raises(SigningError, match="'X-Amz-Security-Token'"):
        canonical_headers([("Host", "h")], added_headers=[("X-Amz-Security-Token", "t\n")])


def test_canonical_request_joins_the_six_parts() -> None:
    text, signed = canonical_request(
        "get",
        "/a%20b/",
        "b=2&a=1",
        [("Host", "example.amazonaws.com"), ("User-Agent", "aiohttp")],
        "UNSIGNED-PAYLOAD",
    )
    assert text == (
        "GET\n/a%2520b/\na=1&b=2\nhost:example.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD"
    )
    assert signed == "host"


def test_canonical_request_for_s3_keeps_the_wire_path() -> None:
    text, _ = canonical_request(
        "PUT",
        "/bucket//a%20b/./c",
        "",
        [("Host", "bucket.s3.amazonaws.com")],
        "UNSIGNED-PAYLOAD",
        normalize_path=False,
        double_encode=False,
    )
    assert text.split("\n")[1] == "/bucket//a%20b/./c"


header_text = st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=12)
# Any code point, lone surrogates included: a str from a careless caller.
any_text = st.text(alphabet=st.characters(blacklist_categories=()), max_size=30)


@given(
    method=st.sampled_from(["GET", "put", "Delete"]),
    raw_path=any_text,
    raw_query=any_text,
    headers=st.lists(st.tuples(header_text, header_text), max_size=5),
    normalize=st.booleans(),
    double_encode=st.booleans(),
)
def test_canonical_request_raises_only_signing_error_and_is_deterministic(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    normalize: bool,
    double_encode: bool,
) -> None:
    def build() -> tuple[str, str] | str:
        try:
            return canonical_request(
                method,
                raw_path,
                raw_query,
                headers,
                "UNSIGNED-PAYLOAD",
                normalize_path=normalize,
                double_encode=double_encode,
            )
        except SigningError as error:
            return str(error)

    assert build() == build()


@given(st.text(max_size=40))
def test_canonical_query_is_idempotent(raw_query: str) -> None:
    once = canonical_query(raw_query)
    assert canonical_query(once) == once


@given(st.text(max_size=40))
def test_double_encoded_path_holds_only_unreserved_slash_and_escapes(text: str) -> None:
    # A wire path (aiohttp's raw_path) always starts with "/".
    path = canonical_path("/" + text)
    allowed = set(string.ascii_letters + string.digits + "-_.~/%")
    assert set(path) <= allowed
    assert path.startswith("/")
