"""The RFC 9110 §11 challenge parser: tables of (header, parsed) and (header, error) rows."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiohttp_auth.challenges import (
    MAX_CHALLENGE_LENGTH,
    Challenge,
    parse_auth_params,
    parse_challenges,
)
from aiohttp_auth.errors import ChallengeError

# (field value, [(scheme, params, token68), ...])
PARSED = [
    pytest.param("", [], id="empty-value"),
    pytest.param(" , ,, ", [], id="only-empty-list-elements"),
    pytest.param('Basic realm="simple"', [("Basic", {"realm": "simple"}, None)], id="basic"),
    pytest.param(
        'Digest realm="a b", nonce="x\\"y\\\\z", qop="auth, auth-int", algorithm=SHA-256',
        [
            (
                "Digest",
                {
                    "realm": "a b",
                    "nonce": 'x"y\\z',
                    "qop": "auth, auth-int",
                    "algorithm": "SHA-256",
                },
                None,
            )
        ],
        id="quoted-pair-escapes",
    ),
    pytest.param(
        'Digest realm="a", Basic realm="b", Bearer',
        [("Digest", {"realm": "a"}, None), ("Basic", {"realm": "b"}, None), ("Bearer", {}, None)],
        id="several-challenges-in-one-value",
    ),
    pytest.param(
        'Basic, Bearer error="invalid_token", error_description="The token expired"',
        [
            ("Basic", {}, None),
            (
                "Bearer",
                {"error": "invalid_token", "error_description": "The token expired"},
                None,
            ),
        ],
        id="rfc6750-bearer-error-after-bare-scheme",
    ),
    pytest.param(
        "Newauth abc/+.-_~==, Basic realm=x",
        [("Newauth", {}, "abc/+.-_~=="), ("Basic", {"realm": "x"}, None)],
        id="token68-then-challenge",
    ),
    pytest.param("Negotiate a87421", [("Negotiate", {}, "a87421")], id="token68-plain-token"),
    pytest.param("Basic a=", [("Basic", {}, "a=")], id="token68-ending-in-equals"),
    pytest.param(
        "DIGEST REALM=x, NoNcE = y",
        [("DIGEST", {"realm": "x", "nonce": "y"}, None)],
        id="case-insensitive-names-and-bws",
    ),
    pytest.param(
        ',, Basic realm="x" ,,, Digest opaque=""  ,',
        [("Basic", {"realm": "x"}, None), ("Digest", {"opaque": ""}, None)],
        id="empty-elements-and-empty-quoted-value",
    ),
    pytest.param(
        "Basic \t realm=x\t,\tfoo=bar",
        [("Basic", {"realm": "x", "foo": "bar"}, None)],
        id="tabs-as-whitespace",
    ),
    pytest.param("Basic ,", [("Basic", {}, None)], id="space-then-comma-after-scheme"),
    pytest.param("Basic  ", [("Basic", {}, None)], id="trailing-space-after-scheme"),
    pytest.param(
        "Basic *=star, ab*c=d",
        [("Basic", {"*": "star", "ab*c": "d"}, None)],
        id="star-in-names-is-not-rfc8187",
    ),
    pytest.param(
        "Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm=x",
        [
            (
                "Digest",
                {
                    "username*": "UTF-8''J%C3%A4s%C3%B8n%20Doe",
                    "realm": "x",
                    "username": "J\u00e4s\u00f8n Doe",
                },
                None,
            )
        ],
        id="rfc8187-utf8",
    ),
    pytest.param(
        "Basic title=plain, Title*=iso-8859-1'en'%A3%20rates",
        [("Basic", {"title": "\u00a3 rates", "title*": "iso-8859-1'en'%A3%20rates"}, None)],
        id="rfc8187-latin1-wins-over-plain",
    ),
    pytest.param(
        'Digest realm="caf\u00e9 \udcff"',
        [("Digest", {"realm": "caf\u00e9 \udcff"}, None)],
        id="obs-text-and-surrogateescaped-bytes",
    ),
]


@pytest.mark.parametrize(("value", "expected"), PARSED)
def test_parse_challenges_table(
    value: str, expected: list[tuple[str, dict[str, str], str | None]]
):
    parsed = parse_challenges(value)
    assert [(c.scheme, dict(c.params), c.token68) for c in parsed] == expected


# (field value, message fragment, position or None)
MALFORMED = [
    pytest.param('Digest realm="abc', "unterminated quoted-string", 13, id="unterminated-quote"),
    pytest.param('Digest realm="abc\\', "unterminated quoted-string", 13, id="backslash-at-end"),
    pytest.param('Digest realm="a\x01b"', "character '\\x01'", 15, id="control-char-in-quote"),
    pytest.param('Digest realm="a\\\nb"', "character '\\n'", 16, id="escaped-newline"),
    pytest.param('realm="x"', "comes before any auth-scheme", 0, id="param-without-scheme"),
    pytest.param("Digest realm=x, REALM=y", "duplicate parameter 'REALM'", 16, id="duplicate"),
    pytest.param("Digest realm=x nonce=y", "expected ','", 15, id="missing-comma"),
    pytest.param("Digest a=b, realm=", "found the end of the value", 18, id="missing-value"),
    pytest.param('Digest realm=@"', "found '@'", 13, id="bad-token-value"),
    pytest.param("Basic abc==, realm=x", "follows a token68", 13, id="param-after-token68"),
    pytest.param('Basic"x"', "expected a space after auth-scheme 'Basic'", 5, id="no-space"),
    pytest.param("Basic @", "expected a token68 or a parameter", 6, id="junk-after-scheme"),
    pytest.param("Basic a b", "expected '=' after parameter name 'a'", 8, id="two-tokens"),
    pytest.param("@", "expected an auth-scheme or a parameter", 0, id="junk-at-start"),
    pytest.param("Digest x*=plain", "is not an RFC 8187 ext-value", 10, id="ext-not-ext"),
    pytest.param("Digest x*=KOI8-R''abc", "uses charset 'KOI8-R'", 10, id="ext-charset"),
    pytest.param("Digest x*=UTF-8''%FF", "is not valid UTF-8", 10, id="ext-bad-utf8"),
    pytest.param("Digest x*=UTF-8''%G1", "is not an RFC 8187 ext-value", 10, id="ext-bad-pct"),
]


@pytest.mark.parametrize(("value", "fragment", "position"), MALFORMED)
def test_malformed_challenge_raises_challenge_error_naming_problem_and_position(
    value: str, fragment: str, position: int
):
    with pytest.raises(ChallengeError) as caught:
        parse_challenges(value)
    message = str(caught.value)
    assert message.startswith("Malformed authentication challenge: ")
    assert fragment in message
    assert message.endswith(f"at position {position}")


def test_several_field_lines_parse_as_one_list():
    values = ['Digest realm="a", algorithm=MD5', "", 'Digest realm="a", algorithm=SHA-256, Basic']
    parsed = parse_challenges(values)
    assert [(c.scheme, dict(c.params)) for c in parsed] == [
        ("Digest", {"realm": "a", "algorithm": "MD5"}),
        ("Digest", {"realm": "a", "algorithm": "SHA-256"}),
        ("Basic", {}),
    ]


def test_challenge_does_not_continue_into_the_next_field_line():
    with pytest.raises(ChallengeError, match=r"\(field line 2\): parameter 'nonce' comes before"):
        parse_challenges(['Digest realm="a"', 'nonce="b"'])


def test_header_over_the_length_limit_is_refused_before_parsing():
    hostile = 'Digest realm="' + "\\" * (64 * 1024)  # would be unterminated, too
    with pytest.raises(ChallengeError, match="longer than 16384 characters"):
        parse_challenges(hostile)


def test_many_field_lines_count_towards_the_length_limit():
    # 10,000 empty lines joined by ", " are 20 KB of separators.
    with pytest.raises(ChallengeError, match="longer than"):
        parse_challenges([""] * 10_000)


def test_length_limit_is_configurable():
    assert parse_challenges("Basic", max_length=5) == [Challenge("Basic")]
    with pytest.raises(ChallengeError, match="longer than 4 characters"):
        parse_challenges("Basic", max_length=4)


@pytest.mark.parametrize(
    "value",
    [
        # Each is just under the limit and made of the pieces a backtracking
        # parser chokes on: escapes, separators, parameters, challenges.
        pytest.param('Digest realm="' + '\\"\\\\' * 3800 + '"', id="escapes"),
        pytest.param("Basic " + "," * 15_000 + " realm=x", id="empty-elements"),
        pytest.param("Digest " + ", ".join(f"p{i}=v" for i in range(1900)), id="parameters"),
        pytest.param(", ".join(["Basic"] * 2200), id="challenges"),
        pytest.param("Newauth " + "a" * 15_000 + "==", id="long-token68"),
    ],
)
def test_pathological_but_valid_15k_header_parses(value: str):
    assert 15_000 <= len(value) <= MAX_CHALLENGE_LENGTH
    assert parse_challenges(value)


def test_challenge_keeps_scheme_as_sent_and_compares_lower_case():
    challenge = parse_challenges("DiGeSt realm=x")[0]
    assert challenge.scheme == "DiGeSt"
    assert challenge.scheme_lower == "digest"
    assert challenge == Challenge("DiGeSt", {"realm": "x"})
    assert challenge in {challenge}


AUTH_PARAMS = [
    pytest.param("", {}, id="empty"),
    pytest.param(
        'nextnonce="abc", qop=auth, rspauth="d3adb33f", cnonce="x\\"y", nc=00000001',
        {
            "nextnonce": "abc",
            "qop": "auth",
            "rspauth": "d3adb33f",
            "cnonce": 'x"y',
            "nc": "00000001",
        },
        id="authentication-info",
    ),
    pytest.param(', a=b ,, C = "d" ,', {"a": "b", "c": "d"}, id="empty-elements-and-bws"),
]


@pytest.mark.parametrize(("value", "expected"), AUTH_PARAMS)
def test_parse_auth_params_table(value: str, expected: dict[str, str]):
    assert parse_auth_params(value) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param("Digest realm=x", "expected '=' after parameter name 'Digest'", id="scheme"),
        pytest.param("a=b, @", "expected a parameter name, found '@'", id="junk"),
        pytest.param("a", "found the end of the value", id="bare-name"),
        pytest.param("a=b, a=c", "duplicate parameter 'a'", id="duplicate"),
        pytest.param("a=" + "b" * 20_000, "longer than", id="too-long"),
    ],
)
def test_malformed_auth_params_raise_challenge_error(value: str, fragment: str):
    with pytest.raises(ChallengeError, match=re.escape(fragment)) as caught:
        parse_auth_params(value, what="Authentication-Info")
    assert str(caught.value).startswith("Malformed Authentication-Info: ")


# --- fuzzing ---------------------------------------------------------------

# Characters that steer the scanner into every state, mixed into arbitrary text.
HEADERISH = st.text(alphabet=st.sampled_from(list(" \t,=\"\\*'%=/+aBdZ09-._~\x00\x7f\u00e9")))
ANY_TEXT = st.one_of(st.text(), HEADERISH)


@settings(max_examples=300)
@given(ANY_TEXT)
def test_any_text_parses_or_raises_challenge_error(value: str):
    try:
        parsed = parse_challenges(value)
    except ChallengeError:
        return
    assert all(isinstance(challenge, Challenge) for challenge in parsed)


@settings(max_examples=300)
@given(st.lists(ANY_TEXT, max_size=5))
def test_any_list_of_texts_parses_or_raises_challenge_error(values: list[str]):
    try:
        parsed = parse_challenges(values)
    except ChallengeError:
        return
    assert all(isinstance(challenge, Challenge) for challenge in parsed)


@settings(max_examples=300)
@given(ANY_TEXT)
def test_any_text_as_auth_params_parses_or_raises_challenge_error(value: str):
    try:
        params = parse_auth_params(value)
    except ChallengeError:
        return
    assert all(name == name.lower() for name in params)


TOKEN = st.text(alphabet="!#$%&'+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCXYZ", min_size=1)
PARAM_NAME = TOKEN.map(str.lower)
# qdtext and quoted-pair material: printable ASCII (quotes and backslashes
# included), space, tab, and non-ASCII text.
QUOTED_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.sampled_from(["\t", "\u00e4", "\u20ac"]),
    )
)


def render(scheme: str, params: dict[str, str]) -> str:
    quoted = (
        f'{name}="{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for name, value in params.items()
    )
    return f"{scheme} {', '.join(quoted)}" if params else scheme


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(
            TOKEN,
            st.dictionaries(
                PARAM_NAME.filter(lambda name: not name.endswith("*")), QUOTED_TEXT, max_size=6
            ),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_rendered_challenges_parse_back_to_the_same_params(
    challenges: list[tuple[str, dict[str, str]]],
):
    header = ", ".join(render(scheme, params) for scheme, params in challenges)
    parsed = parse_challenges(header)
    assert [(c.scheme, dict(c.params), c.token68) for c in parsed] == [
        (scheme, params, None) for scheme, params in challenges
    ]
