"""The token endpoint protocol, sans-IO: requests, response parsing, Bearer challenges.

RFC examples come from ``tests/vectors/oauth2``; provider quirks and garbage
are rows in tables. No event loop, no mocks.
"""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiohttp_auth.errors import OAuth2Error, TokenError
from aiohttp_auth.oauth2 import Token, TokenRequest, bearer_challenge_error, parse_token_response

VECTORS = Path(__file__).parent / "vectors" / "oauth2"
NOW = 1_000_000_000.0
ENDPOINT = "https://as.example.com/oauth2/token?tenant=SECRETQUERY"
SHOWN_ENDPOINT = "https://as.example.com/oauth2/token"
JSON = "application/json"


def load_cases(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((VECTORS / name).read_text("utf-8"))["cases"]
    return cases


def parse(status: int, content_type: str | None, body: bytes | str) -> Token:
    if isinstance(body, str):
        body = body.encode()
    return parse_token_response(status, content_type, body, now=NOW, endpoint=ENDPOINT)


@pytest.mark.parametrize("case", load_cases("token_responses.json"), ids=lambda c: c["name"])
def test_rfc_token_responses(case: dict[str, Any]) -> None:
    if "token" in case:
        token = parse(case["status"], case["content_type"], case["body"])
        assert token == Token(**case["token"])
        return
    with pytest.raises(OAuth2Error) as caught:
        parse(case["status"], case["content_type"], case["body"])
    error = caught.value
    assert (error.error, error.description, error.uri) == tuple(case["error"].values())


# (name, status, content type, body, expected Token attributes)
QUIRK_CASES: list[tuple[str, int, str | None, bytes | str, dict[str, Any]]] = [
    ("charset_parameter", 200, "application/json; charset=utf-8", '{"access_token":"at"}', {}),
    ("upper_case_media_type", 200, "Application/JSON", '{"access_token":"at"}', {}),
    (
        "json_as_text_plain",
        200,
        "text/plain",
        '{"access_token":"at","expires_in":60}',
        {"expires_at": NOW + 60},
    ),
    ("json_as_javascript", 200, "text/javascript", '{"access_token":"at"}', {}),
    ("no_content_type", 200, None, '{"access_token":"at"}', {}),
    ("surrounding_whitespace", 200, JSON, ' \r\n\t{"access_token":"at"}\n\n ', {}),
    ("utf8_bom", 200, JSON, b'\xef\xbb\xbf{"access_token":"at"}', {}),
    ("utf16_json", 200, JSON, '{"access_token":"at"}'.encode("utf-16"), {}),
    (
        "numeric_string_expires_in",
        200,
        JSON,
        '{"access_token":"at","expires_in":"3600"}',
        {"expires_at": NOW + 3600},
    ),
    (
        "missing_expires_in",
        200,
        JSON,
        '{"access_token":"at","token_type":"Bearer"}',
        {"expires_at": None},
    ),
    (
        "lower_case_bearer",
        200,
        JSON,
        '{"access_token":"at","token_type":"bearer"}',
        {"token_type": "Bearer"},
    ),
    ("status_201", 201, JSON, '{"access_token":"at"}', {}),
    (
        "form_encoded_github",
        200,
        "application/x-www-form-urlencoded",
        "access_token=at&scope=repo%2Cgist&token_type=bearer",
        {"scope": "repo,gist", "token_type": "Bearer"},
    ),
    (
        "error_member_beside_token_ignored",
        200,
        JSON,
        '{"access_token":"at","error":"none"}',
        {"extra": {"error": "none"}},
    ),
]


@pytest.mark.parametrize(
    ("status", "content_type", "body", "expected"),
    [case[1:] for case in QUIRK_CASES],
    ids=[case[0] for case in QUIRK_CASES],
)
def test_provider_quirks_are_tolerated(
    status: int, content_type: str | None, body: bytes | str, expected: dict[str, Any]
) -> None:
    token = parse(status, content_type, body)
    assert token.access_token == "at"
    assert token.issued_at == NOW
    for name, value in expected.items():
        assert getattr(token, name) == value, name


# (name, status, content type, body, error code, words of the advice)
OAUTH_ERROR_CASES: list[tuple[str, int, str | None, bytes | str, str, str]] = [
    (
        "invalid_client_401",
        401,
        JSON,
        '{"error":"invalid_client"}',
        "invalid_client",
        "check client_id and client_secret",
    ),
    ("invalid_grant", 400, JSON, '{"error":"invalid_grant"}', "invalid_grant", "re-authenticate"),
    ("invalid_scope", 400, JSON, '{"error":"invalid_scope"}', "invalid_scope", "check scope="),
    (
        "unauthorized_client",
        400,
        JSON,
        '{"error":"unauthorized_client"}',
        "unauthorized_client",
        "allow the grant",
    ),
    (
        "unsupported_grant_type",
        400,
        JSON,
        '{"error":"unsupported_grant_type"}',
        "unsupported_grant_type",
        "grant_types_supported",
    ),
    (
        "invalid_request",
        400,
        JSON,
        '{"error":"invalid_request"}',
        "invalid_request",
        "extra_params",
    ),
    (
        "unknown_code",
        403,
        JSON,
        '{"error":"access_denied"}',
        "access_denied",
        "see the server's documentation",
    ),
    (
        "error_as_text_plain",
        400,
        "text/plain",
        '{"error":"invalid_grant"}',
        "invalid_grant",
        "re-authenticate",
    ),
    (
        "github_error_with_200",
        200,
        "application/x-www-form-urlencoded",
        "error=bad_verification_code&error_description=The+code+passed+is+incorrect",
        "bad_verification_code",
        "documentation",
    ),
    (
        "json_error_with_200",
        200,
        JSON,
        '{"error":"authorization_pending"}',
        "authorization_pending",
        "documentation",
    ),
    (
        "error_beside_token_on_400",
        400,
        JSON,
        '{"error":"invalid_grant","access_token":"x"}',
        "invalid_grant",
        "re-authenticate",
    ),
]


@pytest.mark.parametrize(
    ("status", "content_type", "body", "code", "advice"),
    [case[1:] for case in OAUTH_ERROR_CASES],
    ids=[case[0] for case in OAUTH_ERROR_CASES],
)
def test_oauth_error_responses_raise_oauth2_error_with_advice(
    status: int, content_type: str | None, body: bytes | str, code: str, advice: str
) -> None:
    with pytest.raises(OAuth2Error) as caught:
        parse(status, content_type, body)
    error = caught.value
    message = str(error)
    assert error.error == code
    assert advice in message
    assert f"The token endpoint {SHOWN_ENDPOINT} answered HTTP {status}" in message
    assert "SECRETQUERY" not in message


def test_oauth_error_shows_description_and_uri() -> None:
    body = {
        "error": "invalid_grant",
        "error_description": "Token is expired",
        "error_uri": "https://as.example.com/errors#grant",
    }
    with pytest.raises(OAuth2Error) as caught:
        parse(400, JSON, json.dumps(body))
    assert caught.value.description == "Token is expired"
    assert caught.value.uri == "https://as.example.com/errors#grant"
    assert "The server says: 'Token is expired'." in str(caught.value)
    assert "See https://as.example.com/errors#grant." in str(caught.value)


def test_oauth_error_hides_description_outside_the_rfc_character_set() -> None:
    # RFC 6749 §5.2 allows printable ASCII without '"' and '\': anything else
    # (here a newline that could forge a log line) stays out of the message.
    body = {"error": "invalid_grant", "error_description": 'bad\nFAKE LOG "LINE"', "error_uri": 7}
    with pytest.raises(OAuth2Error) as caught:
        parse(400, JSON, json.dumps(body))
    assert caught.value.description == 'bad\nFAKE LOG "LINE"'
    assert caught.value.uri is None
    assert "FAKE" not in str(caught.value)


def test_oauth_error_with_a_strange_code_names_only_its_length() -> None:
    with pytest.raises(OAuth2Error) as caught:
        parse(400, JSON, json.dumps({"error": "client secret is s3cr3t\n"}))
    assert caught.value.error == "client secret is s3cr3t\n"
    assert "s3cr3t" not in str(caught.value)
    assert "<an error code of 24 chars>" in str(caught.value)


# (name, status, content type, body, words the message must contain)
GARBAGE_CASES: list[tuple[str, int, str | None, bytes | str, str]] = [
    (
        "server_error_500",
        500,
        "text/html",
        "<h1>Internal Server Error</h1>",
        "HTTP 500, a server error",
    ),
    (
        "unavailable_503_with_oauth_error",
        503,
        JSON,
        '{"error":"temporarily_unavailable"}',
        "HTTP 503, a server error",
    ),
    ("redirect_302", 302, "text/html", "", "a redirect"),
    (
        "not_found_html",
        404,
        "text/html",
        "<html>Not Found</html>",
        "an HTML or XML page (text/html, 22 bytes)",
    ),
    ("not_found_hint", 404, None, "", "check token_url"),
    ("method_not_allowed", 405, "text/plain", "nope", "POST is not allowed"),
    (
        "unauthorized_without_json",
        401,
        "text/plain",
        "Unauthorized",
        "client authentication was refused",
    ),
    (
        "bad_request_json_without_error",
        400,
        JSON,
        '{"message":"bad"}',
        "a JSON object but no OAuth error code",
    ),
    ("bad_request_error_object", 400, JSON, '{"error":{"code":400}}', "no OAuth error code"),
    ("bad_request_empty_error", 400, JSON, '{"error":""}', "no OAuth error code"),
    ("informational_status", 101, JSON, '{"access_token":"at"}', "HTTP 101"),
    (
        "login_page_200",
        200,
        "text/html; charset=utf-8",
        "<!DOCTYPE html><form>Sign in</form>",
        "an HTML or XML page",
    ),
    ("xml_200", 200, "application/xml", "<token>at</token>", "an HTML or XML page"),
    ("not_json_200", 200, JSON, "access_token: at", "a body that is not a JSON object"),
    ("json_array_200", 200, JSON, '[{"access_token":"at"}]', "JSON that is not an object"),
    ("json_string_200", 200, JSON, '"at"', "JSON that is not an object"),
    ("json_number_200", 200, JSON, "42", "JSON that is not an object"),
    ("empty_body_204", 204, None, "", "an empty body (no content type)"),
    ("invalid_utf8_200", 200, JSON, b"\xff\xfe\x00garbage", "not a JSON object"),
    (
        "form_not_utf8",
        200,
        "application/x-www-form-urlencoded",
        b"access_token=\xff",
        "not a JSON object",
    ),
    ("form_empty", 200, "application/x-www-form-urlencoded", "", "an empty body"),
    (
        "missing_access_token",
        200,
        JSON,
        '{"token_type":"Bearer"}',
        "but the response has no access_token",
    ),
    ("empty_access_token", 200, JSON, '{"access_token":""}', "access_token is empty"),
    ("numeric_access_token", 200, JSON, '{"access_token":12345}', "access_token must be a string"),
    ("negative_expires_in", 200, JSON, '{"access_token":"at","expires_in":-5}', "expires_in"),
    ("deeply_nested", 200, JSON, "[" * 50_000 + "]" * 50_000, "not an object"),
]


@pytest.mark.parametrize(
    ("status", "content_type", "body", "words"),
    [case[1:] for case in GARBAGE_CASES],
    ids=[case[0] for case in GARBAGE_CASES],
)
def test_garbage_responses_raise_token_error_naming_endpoint_and_status(
    status: int, content_type: str | None, body: bytes | str, words: str
) -> None:
    with pytest.raises(TokenError) as caught:
        parse(status, content_type, body)
    message = str(caught.value)
    assert type(caught.value) is TokenError
    assert words in message
    assert f"The token endpoint {SHOWN_ENDPOINT} answered HTTP {status}" in message
    assert "SECRETQUERY" not in message


@pytest.mark.parametrize(
    ("status", "content_type", "body"),
    [
        (200, "text/html", b"<html>client_secret=CLIENT-SECRET-ECHO</html>"),
        (200, JSON, b"debug: client_secret=CLIENT-SECRET-ECHO"),
        (400, "text/plain", b"invalid client_secret CLIENT-SECRET-ECHO"),
        (200, JSON, b'{"access_token": 5, "echo": "CLIENT-SECRET-ECHO"}'),
        (200, JSON, b'{"expires_in": "CLIENT-SECRET-ECHO", "access_token": "x"}'),
        (500, JSON, b'{"error": "server_error", "secret": "CLIENT-SECRET-ECHO"}'),
    ],
    ids=["html", "text", "plain_400", "json_bad_token", "json_bad_expiry", "json_500"],
)
def test_messages_never_quote_the_body(status: int, content_type: str, body: bytes) -> None:
    with pytest.raises(TokenError) as caught:
        parse(status, content_type, body)
    assert "CLIENT-SECRET-ECHO" not in str(caught.value)


@pytest.mark.parametrize(
    ("endpoint", "shown"),
    [
        ("https://user:pw@as.example.com/token?x=1#f", "https://as.example.com/token"),
        ("/relative/token?x=1", "/relative/token"),
        ("https://[::1/token", "<an unparsable URL>"),
    ],
    ids=["user_info_query_fragment", "relative", "unparsable"],
)
def test_messages_show_the_endpoint_without_secrets(endpoint: str, shown: str) -> None:
    with pytest.raises(TokenError) as caught:
        parse_token_response(500, None, b"", now=NOW, endpoint=endpoint)
    assert f"The token endpoint {shown} answered HTTP 500" in str(caught.value)


@given(
    status=st.integers(min_value=100, max_value=599),
    content_type=st.none()
    | st.sampled_from([JSON, "text/plain", "text/html", "application/x-www-form-urlencoded"])
    | st.text(max_size=30),
    body=st.binary(max_size=200)
    | st.builds(lambda text: text.encode(), st.text(max_size=100))
    | st.builds(
        lambda fields: json.dumps(fields).encode(),
        st.dictionaries(
            st.sampled_from(["access_token", "error", "expires_in", "token_type", "scope", "x"]),
            st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        ),
    ),
)
def test_any_response_gives_a_token_or_a_token_error(
    status: int, content_type: str | None, body: bytes
) -> None:
    try:
        token = parse_token_response(status, content_type, body, now=NOW, endpoint=ENDPOINT)
    except TokenError as error:  # OAuth2Error included
        message = str(error)
    else:
        assert 200 <= status < 300
        assert isinstance(token.access_token, str)
        assert token.access_token
        return
    assert SHOWN_ENDPOINT in message


def test_token_request_encodes_form_as_rfc6749_appendix_b() -> None:
    request = TokenRequest(
        "https://as.example.com/token",
        {"grant_type": "password", "username": "jöhn doe", "password": "p&ss=w+rd%"},
        {"Accept": JSON},
    )
    assert request.body == (
        b"grant_type=password&username=j%C3%B6hn+doe&password=p%26ss%3Dw%2Brd%25"
    )
    assert request.grant_type == "password"


def test_token_request_is_immutable_and_copies_its_input() -> None:
    form = {"grant_type": "client_credentials"}
    request = TokenRequest("https://as.example.com/token", form, {})
    form["scope"] = "x"
    assert dict(request.form) == {"grant_type": "client_credentials"}
    with pytest.raises(TypeError):
        request.form["scope"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        request.headers["Authorization"] = "x"  # type: ignore[index]


def test_token_request_survives_pickle_and_deepcopy() -> None:
    request = TokenRequest("https://as.example.com/token", {"grant_type": "x"}, {"Accept": JSON})
    assert pickle.loads(pickle.dumps(request)) == request  # noqa: S301 - our own bytes
    assert copy.deepcopy(request) == request


def test_token_request_repr_shows_no_values() -> None:
    request = TokenRequest(
        "https://as.example.com/token?api_key=QUERY-SECRET",
        {"grant_type": "password", "username": "u", "password": "FORM-SECRET"},
        {"Authorization": "Basic HEADER-SECRET"},
    )
    text = repr(request)
    assert "SECRET" not in text
    assert text == (
        "TokenRequest(url='https://as.example.com/token', grant_type='password', "
        "form=['grant_type', 'username', 'password'], headers=['Authorization'])"
    )


# (name, WWW-Authenticate field values, expected error)
CHALLENGE_CASES: list[tuple[str, str | list[str], str | None]] = [
    ("rfc6750-3-no-error", 'Bearer realm="example"', None),
    (
        "rfc6750-3-expired",
        'Bearer realm="example", error="invalid_token", '
        'error_description="The access token expired"',
        "invalid_token",
    ),
    (
        "insufficient_scope",
        'Bearer error="insufficient_scope", scope="read write"',
        "insufficient_scope",
    ),
    ("token_error_value", "Bearer error=invalid_token", "invalid_token"),
    ("scheme_case_insensitive", 'bEARER error="invalid_token"', "invalid_token"),
    ("bearer_after_basic", 'Basic realm="x", Bearer error="invalid_request"', "invalid_request"),
    ("several_field_lines", ['Basic realm="x"', 'Bearer error="invalid_token"'], "invalid_token"),
    (
        "malformed_line_skipped",
        ['Bearer error="unterminated', 'Bearer error="invalid_token"'],
        "invalid_token",
    ),
    ("malformed_only", 'Bearer error="unterminated', None),
    ("garbage", "@@@ ,,, ===", None),
    ("empty_error", 'Bearer error=""', None),
    ("other_scheme_error", 'Digest realm="x", error="invalid_token"', None),
    ("dpop_not_bearer", 'DPoP error="invalid_token", algs="ES256"', None),
    ("no_values", [], None),
    ("too_long", "Bearer " + "a" * 20_000, None),
]


@pytest.mark.parametrize(
    ("values", "expected"),
    [case[1:] for case in CHALLENGE_CASES],
    ids=[case[0] for case in CHALLENGE_CASES],
)
def test_bearer_challenge_error(values: str | list[str], expected: str | None) -> None:
    assert bearer_challenge_error(values) == expected


def test_bearer_challenge_error_of_another_scheme() -> None:
    # RFC 9449 §7.1: DPoP-bound tokens are challenged with the DPoP scheme.
    value = 'Bearer realm="x", DPoP error="use_dpop_nonce", algs="ES256"'
    assert bearer_challenge_error([value], scheme="DPoP") == "use_dpop_nonce"
    assert bearer_challenge_error([value]) is None


@given(st.lists(st.text(max_size=60), max_size=3) | st.text(max_size=60))
def test_bearer_challenge_error_never_raises(values: str | list[str]) -> None:
    result = bearer_challenge_error(values)
    assert result is None or isinstance(result, str)
