"""Covered components (RFC 9421 §2): derived components, fields, identifiers, URLs.

Each table row is an example of RFC 9421 §2 where there is one: a message, a
component identifier, and the line it gives in the signature base.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from multidict import CIMultiDict
from yarl import URL

from aiohttp_auth.errors import ConfigurationError, SigningError
from aiohttp_auth.signing.httpsig_components import (
    DERIVED_COMPONENTS,
    Component,
    build_signature_base,
    parse_identifier,
)
from aiohttp_auth.signing.httpsig_fields import (
    STRUCTURED_FIELDS,
    StructuredType,
    check_structured_fields,
)
from aiohttp_auth.signing.httpsig_message import (
    Message,
    RequestMessage,
    TargetURI,
    normalise_authority,
)

# RFC 9421 §2.1: the fields of its examples, as (name, value) lines.
FIELDS = [
    ("Host", "www.example.com"),
    ("Date", "Tue, 20 Apr 2021 02:07:56 GMT"),
    ("X-OWS-Header", "   Leading and trailing whitespace.   "),
    ("X-Obs-Fold-Header", "Obsolete\r\n    line folding."),
    ("Cache-Control", "max-age=60"),
    ("Cache-Control", "   must-revalidate"),
    ("Example-Dict", " a=1,    b=2;x=1;y=2,   c=(a   b   c)"),
    ("X-Empty-Header", ""),
    ("Example-Header", "value, with, lots"),
    ("Example-Header", "of, commas"),
    ("Example-Dict-2", "  a=1, b=2;x=1;y=2, c=(a   b    c), d"),
    ("Signature-Input", 'sig1=("@method");created=1'),
]
REQUEST = Message(method="POST", url="https://www.example.com/path?param=value", headers=FIELDS)


def line(identifier: str, message: Message, **sf_types: StructuredType) -> str:
    """Return the signature-base line of *identifier* in *message*."""
    component = Component(
        parse_identifier(identifier), {k.replace("_", "-"): v for k, v in sf_types.items()}
    )
    return component.line_prefix + component.value(message)


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        # RFC 9421 §2.1
        ("host", '"host": www.example.com'),
        ("date", '"date": Tue, 20 Apr 2021 02:07:56 GMT'),
        ("x-ows-header", '"x-ows-header": Leading and trailing whitespace.'),
        ("x-obs-fold-header", '"x-obs-fold-header": Obsolete line folding.'),
        ("cache-control", '"cache-control": max-age=60, must-revalidate'),
        ("example-dict", '"example-dict": a=1,    b=2;x=1;y=2,   c=(a   b   c)'),
        ("x-empty-header", '"x-empty-header": '),
        # §2.1.1: re-serialised as a structured field
        ("example-dict;sf", '"example-dict";sf: a=1, b=2;x=1;y=2, c=(a b c)'),
        # §2.1.2: one dictionary member, with its parameters
        ('example-dict-2;key="a"', '"example-dict-2";key="a": 1'),
        ('example-dict-2;key="d"', '"example-dict-2";key="d": ?1'),
        ('example-dict-2;key="b"', '"example-dict-2";key="b": 2;x=1;y=2'),
        ('example-dict-2;key="c"', '"example-dict-2";key="c": (a b c)'),
        # §2.1.3: each line as a byte sequence
        ("example-header", '"example-header": value, with, lots, of, commas'),
        (
            "example-header;bs",
            '"example-header";bs: :dmFsdWUsIHdpdGgsIGxvdHM=:, :b2YsIGNvbW1hcw==:',
        ),
        # Field names are case-insensitive; identifiers are lower case.
        ("Cache-Control", '"cache-control": max-age=60, must-revalidate'),
        # A field this package knows the structured type of.
        ("signature-input;sf", '"signature-input";sf: sig1=("@method");created=1'),
    ],
)
def test_field_components_of_rfc9421_section_2_1(identifier: str, expected: str) -> None:
    assert line(identifier, REQUEST, example_dict="dictionary") == expected


def test_one_line_field_as_byte_sequence() -> None:
    message = Message(
        method="GET",
        url="https://e.x/",
        headers=[("Example-Header", "value, with, lots, of, commas")],
    )
    assert line("example-header;bs", message) == (
        '"example-header";bs: :dmFsdWUsIHdpdGgsIGxvdHMsIG9mLCBjb21tYXM=:'
    )


def test_byte_sequence_signs_a_value_that_is_not_ascii() -> None:
    message = Message(method="GET", url="https://e.x/", headers=[("X-Name", "Zoë")])
    assert line("x-name;bs", message) == '"x-name";bs: :Wm/Dqw==:'


def test_field_that_is_not_ascii_asks_for_bs() -> None:
    message = Message(method="GET", url="https://e.x/", headers=[("X-Name", "Zoë")])
    with pytest.raises(SigningError, match="non-ASCII character; cover it as 'x-name;bs'"):
        line("x-name", message)


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\x00b", "a\x7fb"])
def test_field_with_a_control_character_is_refused(value: str) -> None:
    message = Message(method="GET", url="https://e.x/", headers=[("X-Bad", value)])
    with pytest.raises(SigningError, match="control or non-ASCII character"):
        line("x-bad", message)


def test_field_with_a_tab_inside_is_signed() -> None:
    message = Message(method="GET", url="https://e.x/", headers=[("X-Tab", "a\tb")])
    assert line("x-tab", message) == '"x-tab": a\tb'


def test_headers_may_be_a_multidict_with_repeated_lines() -> None:
    headers = CIMultiDict([("Cache-Control", "max-age=60"), ("cache-control", "must-revalidate")])
    message = Message(method="GET", url="https://e.x/", headers=headers)
    assert line("cache-control", message) == '"cache-control": max-age=60, must-revalidate'


def test_headers_may_be_a_plain_mapping() -> None:
    message = Message(method="GET", url="https://e.x/", headers={"X-One": "1"})
    assert line("x-one", message) == '"x-one": 1'


@pytest.mark.parametrize(
    ("url", "identifier", "expected"),
    [
        # RFC 9421 §2.2.1 to §2.2.7
        ("https://www.example.com/path?param=value", "@method", '"@method": POST'),
        (
            "https://www.example.com/path?param=value",
            "@target-uri",
            '"@target-uri": https://www.example.com/path?param=value',
        ),
        (
            "https://www.example.com/path?param=value",
            "@authority",
            '"@authority": www.example.com',
        ),
        ("http://www.example.com/path?param=value", "@scheme", '"@scheme": http'),
        (
            "https://www.example.com/path?param=value",
            "@request-target",
            '"@request-target": /path?param=value',
        ),
        ("https://www.example.com/path?param=value", "@path", '"@path": /path'),
        ("https://www.example.com/path?param=value", "@query", '"@query": ?param=value'),
        (
            "https://www.example.com/path?param=value&foo=bar&baz=bat%2Dman",
            "@query",
            '"@query": ?param=value&foo=bar&baz=bat%2Dman',
        ),
        ("https://www.example.com/path?queryString", "@query", '"@query": ?queryString'),
        ("https://www.example.com/path", "@query", '"@query": ?'),
        # The normalisations of HTTP (RFC 9110 §4.2.3): case, default port, empty path.
        ("HTTPS://WWW.Example.COM:443", "@authority", '"@authority": www.example.com'),
        ("https://www.example.com:8443/", "@authority", '"@authority": www.example.com:8443'),
        ("http://www.example.com:80/", "@authority", '"@authority": www.example.com'),
        ("https://www.example.com", "@path", '"@path": /'),
        ("https://www.example.com", "@target-uri", '"@target-uri": https://www.example.com/'),
        ("https://www.example.com", "@request-target", '"@request-target": /'),
        ("https://user:pw@www.example.com/", "@authority", '"@authority": www.example.com'),
        ("https://[::1]:8443/x", "@authority", '"@authority": [::1]:8443'),
        ("https://www.example.com/a%20b/c", "@path", '"@path": /a%20b/c'),
        (
            "https://www.example.com/p#frag",
            "@target-uri",
            '"@target-uri": https://www.example.com/p',
        ),
    ],
)
def test_derived_components_of_rfc9421_section_2_2(
    url: str, identifier: str, expected: str
) -> None:
    assert line(identifier, Message(method="POST", url=url, headers=())) == expected


def test_request_target_of_connect_is_the_authority() -> None:
    message = Message(method="CONNECT", url="https://www.example.com:443/", headers=())
    assert line("@request-target", message) == '"@request-target": www.example.com'


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # RFC 9421 §2.2.8
        ("baz", "batman"),
        ("qux", ""),
        ("param", "value"),
    ],
)
def test_query_params_of_rfc9421_section_2_2_8(name: str, expected: str) -> None:
    message = Message(
        method="GET",
        url="https://www.example.com/path?param=value&foo=bar&baz=batman&qux=",
        headers=(),
    )
    assert (
        line(f'@query-param;name="{name}"', message) == f'"@query-param";name="{name}": {expected}'
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # RFC 9421 §2.2.8: decoded, then percent-encoded again with %20 for spaces
        ("var", "this%20is%20a%20big%0Amultiline%20value"),
        ("bar", "with%20plus%20whitespace"),
        ("fa%C3%A7ade%22%3A%20", "something"),
    ],
)
def test_query_params_are_form_decoded_and_reencoded(name: str, expected: str) -> None:
    url = (
        "https://www.example.com/parameters?var=this%20is%20a%20big%0Amultiline%20value"
        "&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something"
    )
    message = Message(method="GET", url=url, headers=())
    assert line(f'@query-param;name="{name}"', message).endswith(f": {expected}")


def test_query_param_without_equals_sign_has_an_empty_value() -> None:
    message = Message(method="GET", url="https://e.x/?flag&a=~1", headers=())
    assert line('@query-param;name="flag"', message).endswith(": ")
    assert line('@query-param;name="a"', message).endswith(": %7E1")


def test_query_param_that_is_missing_is_refused() -> None:
    message = Message(method="GET", url="https://e.x/?a=1", headers=())
    with pytest.raises(SigningError, match="'b' is not in the query"):
        line('@query-param;name="b"', message)


def test_query_param_that_repeats_is_refused() -> None:
    # RFC 9421 §2.2.8: a repeated name cannot be covered alone.
    message = Message(method="GET", url="https://e.x/?a=1&a=2", headers=())
    with pytest.raises(SigningError, match="occurs more than once; cover @query instead"):
        line('@query-param;name="a"', message)


def test_status_of_a_response() -> None:
    response = Message(method=None, url=None, headers=(), status=200)
    assert line("@status", response) == '"@status": 200'


def test_status_of_a_request_is_refused() -> None:
    with pytest.raises(SigningError, match="a request has no @status"):
        line("@status", REQUEST)


@pytest.mark.parametrize("identifier", ["@method", "@path", "@authority", "@target-uri"])
def test_request_components_of_a_response_need_req(identifier: str) -> None:
    response = Message(method=None, url=None, headers=(), status=200)
    with pytest.raises(
        SigningError, match=f"a response has no {identifier}: cover '{identifier};req'"
    ):
        line(identifier, response)


def test_req_takes_components_from_the_request_a_response_answers() -> None:
    # RFC 9421 §2.4
    request = RequestMessage(
        "POST",
        "https://example.com/foo?param=Value&Pet=dog",
        [("Content-Type", "application/json")],
    )
    response = Message(
        method=None,
        url=None,
        headers=[("Content-Type", "text/plain")],
        status=503,
        request=request,
    )
    assert line("@authority;req", response) == '"@authority";req: example.com'
    assert line("@method;req", response) == '"@method";req: POST'
    assert line("@path;req", response) == '"@path";req: /foo'
    assert line("@query;req", response) == '"@query";req: ?param=Value&Pet=dog'
    assert line("content-type;req", response) == '"content-type";req: application/json'
    assert line("content-type", response) == '"content-type": text/plain'


def test_req_needs_the_request() -> None:
    response = Message(method=None, url=None, headers=(), status=200)
    with pytest.raises(SigningError, match="@method;req covers the request: pass request="):
        line("@method;req", response)


def test_req_in_a_request_is_refused() -> None:
    with pytest.raises(SigningError, match="the req parameter applies only to responses"):
        line("@method;req", REQUEST)


def test_missing_field_is_refused() -> None:
    with pytest.raises(SigningError, match="the request has no 'x-missing' header field"):
        line("x-missing", REQUEST)


def test_missing_content_digest_says_how_to_set_it() -> None:
    with pytest.raises(SigningError, match=r"set it to content_digest\(body\)"):
        line("content-digest", REQUEST)


def test_missing_field_of_a_response_says_response() -> None:
    with pytest.raises(SigningError, match="the response has no 'x-missing' header field"):
        line("x-missing;bs", Message(method=None, url=None, headers=(), status=200))


def test_sf_on_a_field_that_is_not_structured_is_refused() -> None:
    message = Message(
        method="GET", url="https://e.x/", headers=[("Content-Digest", "sha-256=abc def")]
    )
    with pytest.raises(SigningError, match="not a valid structured dictionary"):
        line("content-digest;sf", message)


def test_key_of_a_member_that_is_missing_is_refused() -> None:
    with pytest.raises(SigningError, match="has no member 'z'"):
        line('example-dict;key="z"', REQUEST)


@pytest.mark.parametrize(
    ("identifier", "problem"),
    [
        ("@signature-params", "not a derived component"),
        ("@unknown", "not a derived component"),
        ("@Method", "not a derived component"),
        ("@method;sf", "parameter 'sf' does not apply"),
        ('@path;name="x"', "parameter 'name' does not apply"),
        ("@query-param", 'needs a name="..." string parameter'),
        ("@query-param;name=1", 'needs a name="..." string parameter'),
        ("@method;req=1", "its req parameter must be a bare flag"),
        ("date;sf=?0", "its sf parameter must be a bare flag"),
        ("date;bs=1", "its bs parameter must be a bare flag"),
        ("date;key=1", "its key parameter must be a string"),
        ("date;tr", "trailer fields (;tr) are not supported"),
        ("date;foo", "parameter 'foo' is not for it"),
        ("date;bs;sf", "bs cannot be combined with sf or key"),
        ('example-dict;bs;key="a"', "bs cannot be combined with sf or key"),
        ("x-unknown;sf", "the structured type of 'x-unknown' is not known"),
        ('"bad name"', "not a lower-case header field name"),
    ],
)
def test_invalid_identifiers_are_refused(identifier: str, problem: str) -> None:
    with pytest.raises(SigningError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        Component(parse_identifier(identifier), {})


def test_uppercase_field_name_from_a_message_is_refused() -> None:
    # What users write is lower-cased; what a message sends is taken as it is.
    item = parse_identifier('"date"')
    item.value = "Date"
    with pytest.raises(SigningError, match="not a lower-case header field name"):
        Component(item, {})


def test_identifier_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(SigningError, match="not a structured-field string"):
        Component(parse_identifier('"x";a=1').__class__(1), {})


@pytest.mark.parametrize("text", ["", "   ", None, 7])
def test_parse_identifier_refuses_what_is_not_a_string(text: Any) -> None:
    with pytest.raises(SigningError, match="expected a non-empty string"):
        parse_identifier(text)


@pytest.mark.parametrize("text", ['"@method', "date;=1", "date;key=", 'x;key="é"'])
def test_parse_identifier_refuses_malformed_identifiers(text: str) -> None:
    with pytest.raises(SigningError, match="not a valid identifier"):
        parse_identifier(text)


def test_parse_identifier_refuses_a_name_that_is_not_printable_ascii() -> None:
    with pytest.raises(SigningError, match="not printable ASCII"):
        parse_identifier("dåte")


@pytest.mark.parametrize(
    ("text", "serialized", "display"),
    [
        ("@method", '"@method"', "@method"),
        ("  Content-Type ", '"content-type"', "content-type"),
        ('"@query-param";name="Pet"', '"@query-param";name="Pet"', '@query-param;name="Pet"'),
        ('@query-param;name="Pet"', '"@query-param";name="Pet"', '@query-param;name="Pet"'),
        ('Example-Dict;key="a";sf', '"example-dict";key="a";sf', 'example-dict;key="a";sf'),
        ('"Content-Type";req', '"content-type";req', "content-type;req"),
    ],
)
def test_identifiers_are_written_as_users_write_them(
    text: str, serialized: str, display: str
) -> None:
    component = Component(parse_identifier(text), {})
    assert (component.identifier, component.display) == (serialized, display)
    assert repr(component) == f"Component({display!r})"


def test_parameter_order_does_not_make_another_component() -> None:
    first = Component(parse_identifier('example-dict;key="a";sf'), {})
    second = Component(parse_identifier('example-dict;sf;key="a"'), {})
    assert first.identity == second.identity
    assert first.identifier != second.identifier


def test_every_derived_component_has_a_resolver() -> None:
    for name in DERIVED_COMPONENTS - {"@query-param"}:
        assert Component(parse_identifier(name), {}).name == name


def test_signature_base_is_the_lines_then_the_signature_params() -> None:
    components = [Component(parse_identifier(c), {}) for c in ("@method", "host")]
    base = build_signature_base(components, REQUEST, '("@method" "host");created=1')
    assert base.splitlines() == [
        '"@method": POST',
        '"host": www.example.com',
        '"@signature-params": ("@method" "host");created=1',
    ]
    assert not base.endswith("\n")


def test_structured_fields_can_be_declared() -> None:
    assert check_structured_fields({"Example-List": "list"}) == {"example-list": "list"}
    message = Message(method="GET", url="https://e.x/", headers=[("Example-List", "a,  b ,c")])
    assert line("example-list;sf", message, example_list="list") == '"example-list";sf: a, b, c'
    message = Message(method="GET", url="https://e.x/", headers=[("Example-Item", " 12;  a=1 ")])
    assert line("example-item;sf", message, example_item="item") == '"example-item";sf: 12;a=1'


@pytest.mark.parametrize(
    "structured_fields",
    [{"x": "map"}, {1: "list"}, ["x"], "dictionary"],
)
def test_structured_fields_of_the_wrong_shape_are_refused(structured_fields: Any) -> None:
    with pytest.raises(ConfigurationError, match="structured_fields"):
        check_structured_fields(structured_fields)


def test_known_structured_fields_include_the_signature_fields() -> None:
    known: Mapping[str, str] = STRUCTURED_FIELDS
    assert known["signature-input"] == known["content-digest"] == "dictionary"
    assert check_structured_fields(None) == {}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.example.com/a/b?x=1", TargetURI("https", "api.example.com", "/a/b", "x=1")),
        ("HTTP://API.example.com:80", TargetURI("http", "api.example.com", "", "")),
        ("wss://h:443/", TargetURI("wss", "h", "/", "")),
        ("https://h:0443/", TargetURI("https", "h", "/", "")),
        ("https://[2001:DB8::1]/", TargetURI("https", "[2001:db8::1]", "/", "")),
        ("ftp://h:21/f", TargetURI("ftp", "h:21", "/f", "")),
        (
            URL("https://Example.com:8443/p%2Fq?a=b"),
            TargetURI("https", "example.com:8443", "/p%2Fq", "a=b"),
        ),
    ],
)
def test_target_uri_parse(url: Any, expected: TargetURI) -> None:
    assert TargetURI.parse(url) == expected


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("/relative/path", "must be absolute"),
        ("https:///nohost", "must be absolute"),
        ("https://h:99999/", "not a valid URL"),
        ("https://[::1/", "not a valid URL"),
        ("https://h/a b", "whitespace, control or non-ASCII"),
        ("https://h/\n", "whitespace, control or non-ASCII"),
        ("https://hé/", "whitespace, control or non-ASCII"),
        (b"https://h/", "expected a string"),
        (None, "expected a string"),
    ],
)
def test_target_uri_parse_refuses(url: Any, problem: str) -> None:
    with pytest.raises(SigningError, match=problem):
        TargetURI.parse(url)


def test_target_uri_from_a_yarl_url_takes_the_host_header() -> None:
    target = TargetURI.from_url(URL("https://10.0.0.1/p"), "API.example.com:443")
    assert target == TargetURI("https", "api.example.com", "/p", "")


def test_target_uri_from_a_relative_yarl_url_is_refused() -> None:
    with pytest.raises(SigningError, match="must be absolute"):
        TargetURI.from_url(URL("/p"))


@pytest.mark.parametrize(
    ("authority", "scheme", "expected"),
    [
        ("Example.COM", "https", "example.com"),
        ("example.com:443", "https", "example.com"),
        ("example.com:443", "http", "example.com:443"),
        ("example.com:80", "http", "example.com"),
        ("[::1]:443", "https", "[::1]"),
        ("example.com:8080", "unknown", "example.com:8080"),
    ],
)
def test_normalise_authority(authority: str, scheme: str, expected: str) -> None:
    assert normalise_authority(authority, scheme) == expected


def test_message_target_may_be_given_parsed() -> None:
    target = TargetURI("https", "h", "/x", "")
    assert Message(method="GET", url=target, headers=()).target("@path") is target


@pytest.mark.parametrize("headers", [[(b"X", "1")], [("X", 1)], [("X", None)]])
def test_message_refuses_headers_that_are_not_string_pairs(headers: Any) -> None:
    message = Message(method="GET", url="https://e.x/", headers=headers)
    with pytest.raises(SigningError, match=r"expected \(name, value\) pairs of strings"):
        message.field_lines("x")


def test_message_indexes_only_the_field_names_it_is_given() -> None:
    message = Message(
        method="GET", url="https://e.x/", headers=FIELDS, field_names=frozenset({"date"})
    )
    assert message.field_lines("date") == ["Tue, 20 Apr 2021 02:07:56 GMT"]
    assert message.field_lines("host") == []
    assert message.kind == "request"
