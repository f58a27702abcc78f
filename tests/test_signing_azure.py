"""Azure Storage Shared Key, sans-IO: the string to sign, the signature and bad input.

The rows follow Microsoft's "Authorize with Shared Key" (Blob, Queue and File
services, version 2009-09-19 and later; Table service). Signatures are checked
against azure-storage-blob's own Shared Key policy in
tests/test_signing_azure_differential.py and against Azurite in
tests/test_signing_azure_azurite.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from aiohttp_auth.errors import ConfigurationError, SigningError
from aiohttp_auth.signing.azure import DEFAULT_VERSION, SharedKeySigner
from aiohttp_auth.signing.azure_canonical import (
    canonicalized_headers,
    canonicalized_resource,
    comp_resource,
    format_date,
    header_sort_key,
    signed_fields,
)

KEY = base64.b64encode(b"k" * 64).decode()
DATE = "Sun, 11 Oct 2009 21:49:13 GMT"
BASE = [("x-ms-date", DATE), ("x-ms-version", "2009-09-19")]
TWELVE_EMPTY = "\n" * 11  # the eleven standard header lines after the verb


def _signer(**kwargs) -> SharedKeySigner:
    return SharedKeySigner("myaccount", KEY, **kwargs)


# (name, query string, expected CanonicalizedResource): the spec's examples
# for Get Container Metadata, List Blobs and Get Messages, and edge cases.
RESOURCE_ROWS = [
    (
        "container-metadata",
        "/mycontainer",
        "restype=container&comp=metadata",
        "/myaccount/mycontainer\ncomp:metadata\nrestype:container",
    ),
    (
        "list-blobs-repeated-include",
        "/mycontainer",
        "restype=container&comp=list&include=snapshots&include=metadata&include=uncommittedblobs",
        "/myaccount/mycontainer\ncomp:list\ninclude:metadata,snapshots,uncommittedblobs"
        "\nrestype:container",
    ),
    (
        "queue-get-messages",
        "/myqueue/messages",
        "numofmessages=32&visibilitytimeout=10",
        "/myaccount/myqueue/messages\nnumofmessages:32\nvisibilitytimeout:10",
    ),
    ("no-query", "/c/b", "", "/myaccount/c/b"),
    ("empty-path-is-root", "", "comp=list", "/myaccount/\ncomp:list"),
    ("path-stays-encoded", "/c/a%20b%C3%A9", "", "/myaccount/c/a%20b%C3%A9"),
    ("values-decoded", "/c", "prefix=a%20b%2Fc%C3%A9", "/myaccount/c\nprefix:a b/cé"),
    ("plus-is-a-space", "/c", "prefix=a+b%2Bc", "/myaccount/c\nprefix:a b+c"),
    ("names-lower-cased-and-merged", "/c", "Comp=list&COMP=x", "/myaccount/c\ncomp:list,x"),
    ("name-without-value", "/c", "restype&comp=", "/myaccount/c\ncomp:\nrestype:"),
    ("empty-pairs-skipped", "/c", "&&comp=list&", "/myaccount/c\ncomp:list"),
    ("names-sorted-by-code-point", "/c", "b=2&a_b=3&a=1", "/myaccount/c\na:1\na_b:3\nb:2"),
    ("value-with-equals", "/c", "blockid=QUJD%3D%3D", "/myaccount/c\nblockid:QUJD=="),
]


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [row[1:] for row in RESOURCE_ROWS],
    ids=[row[0] for row in RESOURCE_ROWS],
)
def test_canonicalized_resource_follows_the_spec(path: str, query: str, expected: str) -> None:
    assert canonicalized_resource("myaccount", path, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", "/myaccount/mytable"),
        ("comp=acl&timeout=30", "/myaccount/mytable?comp=acl"),
        ("timeout=30", "/myaccount/mytable"),
    ],
)
def test_table_resource_keeps_only_comp(query: str, expected: str) -> None:
    assert comp_resource("myaccount", "/mytable", query) == expected


def test_string_to_sign_for_a_get_has_every_standard_line_empty() -> None:
    expected = (
        "GET" + TWELVE_EMPTY + "\n"
        f"x-ms-date:{DATE}\nx-ms-version:2009-09-19\n"
        "/myaccount/mycontainer\ncomp:metadata\nrestype:container"
    )
    got = _signer().string_to_sign("GET", "/mycontainer", "restype=container&comp=metadata", BASE)
    assert got == expected


def test_standard_headers_go_in_their_order_whatever_the_input_order() -> None:
    headers = [
        ("Range", "bytes=0-9"),
        ("If-Unmodified-Since", "u"),
        ("If-None-Match", "n"),
        ("If-Match", "m"),
        ("If-Modified-Since", "s"),
        ("Date", "d"),
        ("Content-Type", "text/plain"),
        ("Content-MD5", "md5"),
        ("Content-Length", "11"),
        ("Content-Language", "en"),
        ("Content-Encoding", "gzip"),
        ("User-Agent", "not signed"),
        *BASE,
    ]
    lines = _signer().string_to_sign("PUT", "/c/b", "", headers).split("\n")
    expected = ["PUT", "gzip", "en", "11", "md5", "text/plain", "d", "s", "m", "n", "u"]
    assert lines[:12] == [*expected, "bytes=0-9"]
    assert "not signed" not in "\n".join(lines)


@pytest.mark.parametrize(
    ("version", "length_line"),
    [(DEFAULT_VERSION, ""), ("2015-02-21", ""), ("2015-02-20", "0"), ("2014-02-14", "0")],
)
def test_zero_content_length_is_empty_from_version_2015_02_21(
    version: str, length_line: str
) -> None:
    string = _signer(version=version).string_to_sign(
        "PUT", "/c", "", [("Content-Length", "0"), *BASE]
    )
    assert string.split("\n")[3] == length_line


def test_header_values_are_trimmed_and_inner_whitespace_kept() -> None:
    fields = signed_fields([("X-MS-Meta-A", " \t one  two\t "), ("Content-Type", "  a/b ")])
    assert fields == {"x-ms-meta-a": "one  two", "content-type": "a/b"}


def test_canonicalized_headers_are_lower_case_sorted_lines() -> None:
    fields = signed_fields([("X-Ms-Version", "v"), ("x-ms-date", "d"), ("X-MS-Blob-Type", "b")])
    assert canonicalized_headers(fields) == "x-ms-blob-type:b\nx-ms-date:d\nx-ms-version:v\n"


@pytest.mark.parametrize(
    "ordered",
    [
        # Hyphens only break ties, and an earlier hyphen sorts later.
        ["x-ms-meta-a_b", "x-ms-meta-ab", "x-ms-meta-a-b"],
        ["x-ms-meta-a", "x-ms-meta-a-", "x-ms-meta-a--"],
        ["x-ms-meta-ab-", "x-ms-meta-a-b"],
        ["x-ms-meta-a'b", "x-ms-meta-a-b"],
        # Punctuation < digits < letters, unlike code points ('|' > 'z').
        ["x-ms-meta-|", "x-ms-meta-0", "x-ms-meta-z"],
        ["x-ms-meta-a", "x-ms-meta-aa", "x-ms-meta-b"],
    ],
    ids=lambda names: " < ".join(names),
)
def test_x_ms_names_sort_as_the_service_sorts_them(ordered: list[str]) -> None:
    for shuffled in (ordered[::-1], ordered[1:] + ordered[:1]):
        assert sorted(shuffled, key=header_sort_key) == ordered


def test_signature_is_base64_hmac_sha256_of_the_string_with_the_decoded_key() -> None:
    signer = _signer()
    expected = base64.b64encode(
        hmac.new(b"k" * 64, b"string\nto sign", hashlib.sha256).digest()
    ).decode()
    assert signer.signature("string\nto sign") == expected
    assert signer.authorization("string\nto sign") == f"SharedKey myaccount:{expected}"


def test_sign_adds_date_and_version_when_missing_then_authorization() -> None:
    signer = _signer()
    added = signer.sign("GET", "/c", "comp=list", [], timestamp=1_255_297_753)
    assert [name for name, _ in added] == ["x-ms-date", "x-ms-version", "Authorization"]
    assert added[0][1] == DATE
    assert added[1][1] == DEFAULT_VERSION
    headers = added[:2]
    assert added[2][1] == signer.authorization(
        signer.string_to_sign("GET", "/c", "comp=list", headers)
    )


def test_sign_keeps_a_date_and_version_already_set() -> None:
    signer = _signer()
    added = signer.sign("GET", "/c", "", BASE, timestamp=0)
    assert [name for name, _ in added] == ["Authorization"]
    assert added[0][1] == signer.authorization(signer.string_to_sign("GET", "/c", "", BASE))


def test_format_date_is_rfc_1123_in_gmt() -> None:
    assert format_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"


@pytest.mark.parametrize(
    ("lite", "headers", "expected"),
    [
        (
            False,
            [("Content-Type", "application/json"), ("Content-MD5", "m"), *BASE],
            f"POST\nm\napplication/json\n{DATE}\n/myaccount/Tables?comp=x",
        ),
        (True, BASE, f"{DATE}\n/myaccount/Tables?comp=x"),
        # Without x-ms-date, the Date header is signed.
        (True, [("Date", "d")], "d\n/myaccount/Tables?comp=x"),
        # With both, x-ms-date takes precedence.
        (True, [("Date", "d"), *BASE], f"{DATE}\n/myaccount/Tables?comp=x"),
    ],
    ids=["shared-key", "shared-key-lite", "lite-date", "lite-x-ms-date-wins"],
)
def test_table_string_to_sign(lite: bool, headers: list[tuple[str, str]], expected: str) -> None:
    signer = _signer(service="table", lite=lite)
    assert signer.string_to_sign("POST", "/Tables", "comp=x&timeout=3", headers) == expected
    scheme = "SharedKeyLite" if lite else "SharedKey"
    assert signer.authorization(expected).startswith(f"{scheme} myaccount:")


def test_queue_and_file_use_the_blob_string_to_sign() -> None:
    strings = {
        service: _signer(service=service).string_to_sign("GET", "/q", "", BASE)
        for service in ("blob", "queue", "file")
    }
    assert len(set(strings.values())) == 1


def test_properties_describe_the_signer() -> None:
    signer = _signer(service="table", lite=True, version="2019-02-02")
    assert (signer.account_name, signer.version, signer.service, signer.scheme) == (
        "myaccount",
        "2019-02-02",
        "table",
        "SharedKeyLite",
    )


def test_repr_shows_no_key() -> None:
    text = repr(_signer())
    assert KEY not in text
    assert f"account_key=<redacted {len(KEY)} chars>" in text
    assert "account_name='myaccount'" in text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"account_key": "not base64!"}, "not valid base64"),
        ({"account_key": "QUJ"}, "not valid base64"),  # bad padding
        ({"account_key": "é"}, "not valid base64"),
        ({"account_key": ""}, "got an empty str"),
        ({"account_key": b"QUJD"}, "got bytes"),
        ({"account_key": None}, "got NoneType"),
        ({"account_name": ""}, "account_name"),
        ({"account_name": "my account"}, "account_name"),
        ({"account_name": 7}, "account_name"),
        ({"version": "latest"}, "version"),
        ({"version": None}, "version"),
        ({"service": "dfs"}, "service"),
        ({"lite": True}, "Table service only"),
    ],
)
def test_bad_arguments_raise_configuration_error(kwargs: dict, message: str) -> None:
    arguments = {"account_name": "myaccount", "account_key": KEY, **kwargs}
    with pytest.raises(ConfigurationError, match=message) as caught:
        SharedKeySigner(**arguments)
    key = arguments["account_key"]
    if isinstance(key, str) and key:
        assert key not in str(caught.value)


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "message"),
    [
        ("GET", "/c", "", [("x-ms-meta-a", "1"), ("X-MS-META-A", "2")], "more than once"),
        ("GET", "/c", "", [("Content-Type", "a"), ("content-type", "b")], "more than once"),
        ("GET", "/c", "", [("x-ms-meta-a", "caf\u00e9")], "non-ASCII or control"),
        ("GET", "/c", "", [("x-ms-meta-a", "a\r\nx-ms-meta-b: 1")], "non-ASCII or control"),
        ("GET", "/c", "", [("Content-MD5", "a\x00")], "non-ASCII or control"),
        ("GET", "/c", "", [("x-ms-meta-\u212a", "1")], "not allow in a name"),
        ("GET", "/c", "", [("x-ms-meta a", "1")], "not allow in a name"),
        ("GET\n", "/c", "", [], "not an HTTP token"),
        ("", "/c", "", [], "not an HTTP token"),
        ("GET", "/c d", "", [], "not percent-encoded"),
        ("GET", "/c\u00e9", "", [], "not percent-encoded"),
        ("GET", "/c", "prefix=%FF", [], "not valid percent-encoded UTF-8"),
        ("GET", "/c", "%FF=1", [], "not valid percent-encoded UTF-8"),
        ("GET", "/c", "prefix=a%0Ab", [], "newline"),
        ("GET", "/c", "p%0A=1", [], "newline"),
        ("GET", "/c", "%C3%A9=1", [], "not ASCII"),
    ],
)
def test_requests_that_cannot_be_signed_unambiguously_raise_signing_error(
    method: str, path: str, query: str, headers: list[tuple[str, str]], message: str
) -> None:
    with pytest.raises(SigningError, match=message):
        _signer().sign(method, path, query, headers, timestamp=0)


def test_header_sort_key_rejects_a_name_that_is_not_a_token() -> None:
    with pytest.raises(SigningError, match="not allow in a name"):
        header_sort_key("x-ms-meta-é")


def test_unsigned_headers_are_not_checked() -> None:
    # A repeated or non-ASCII header outside the signed set does not matter.
    headers = [("Accept", "a"), ("Accept", "b"), ("User-Agent", "caf\u00e9"), *BASE]
    assert _signer().string_to_sign("GET", "/c", "", headers).startswith("GET\n")
