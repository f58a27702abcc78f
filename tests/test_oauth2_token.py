"""The OAuth 2 Token, sans-IO: response fields, lifetimes, refresh timing, JSON round trip.

No event loop, no mocks: tables of (input, expected) rows and Hypothesis
properties. The clock is a parameter everywhere.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import pickle
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiohttp_auth.errors import ConfigurationError, TokenError
from aiohttp_auth.oauth2 import Token

NOW = 1_000_000_000.0


def token_from(**fields: Any) -> Token:
    return Token.from_response(fields, now=NOW)


# (name, response fields, expected Token attributes)
FROM_RESPONSE_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "minimal",
        {"access_token": "at"},
        {"token_type": "Bearer", "expires_at": None, "refresh_token": None, "extra": {}},
    ),
    ("expires_in_int", {"access_token": "at", "expires_in": 3600}, {"expires_at": NOW + 3600}),
    ("expires_in_float", {"access_token": "at", "expires_in": 59.5}, {"expires_at": NOW + 59.5}),
    (
        "expires_in_numeric_string",
        {"access_token": "at", "expires_in": "3600"},
        {"expires_at": NOW + 3600},
    ),
    (
        "expires_in_decimal_string_with_spaces",
        {"access_token": "at", "expires_in": " 3600.25 "},
        {"expires_at": NOW + 3600.25},
    ),
    (
        "expires_in_null_is_unknown",
        {"access_token": "at", "expires_in": None},
        {"expires_at": None},
    ),
    ("expires_in_zero_is_unknown", {"access_token": "at", "expires_in": 0}, {"expires_at": None}),
    ("expires_in_zero_string", {"access_token": "at", "expires_in": "0"}, {"expires_at": None}),
    ("token_type_lower", {"access_token": "at", "token_type": "bearer"}, {"token_type": "Bearer"}),
    ("token_type_upper", {"access_token": "at", "token_type": "BEARER"}, {"token_type": "Bearer"}),
    ("token_type_dpop", {"access_token": "at", "token_type": "dpop"}, {"token_type": "DPoP"}),
    (
        "token_type_unknown_kept",
        {"access_token": "at", "token_type": "mAcX"},
        {"token_type": "mAcX"},
    ),
    ("token_type_null", {"access_token": "at", "token_type": None}, {"token_type": "Bearer"}),
    ("token_type_empty", {"access_token": "at", "token_type": ""}, {"token_type": "Bearer"}),
    ("refresh_token", {"access_token": "at", "refresh_token": "rt"}, {"refresh_token": "rt"}),
    ("refresh_token_empty", {"access_token": "at", "refresh_token": ""}, {"refresh_token": None}),
    ("scope_string", {"access_token": "at", "scope": "read write"}, {"scope": "read write"}),
    ("scope_array", {"access_token": "at", "scope": ["read", "write"]}, {"scope": "read write"}),
    ("scope_empty_array", {"access_token": "at", "scope": []}, {"scope": None}),
    ("id_token", {"access_token": "at", "id_token": "eyJ.x.y"}, {"id_token": "eyJ.x.y"}),
    (
        "every_other_field_in_extra",
        {"access_token": "at", "issued_token_type": "urn:x", "ext_expires_in": 3599, "n": None},
        {"extra": {"issued_token_type": "urn:x", "ext_expires_in": 3599, "n": None}},
    ),
]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [case[1:] for case in FROM_RESPONSE_CASES],
    ids=[case[0] for case in FROM_RESPONSE_CASES],
)
def test_from_response_reads_fields_and_tolerates_quirks(
    fields: dict[str, Any], expected: dict[str, Any]
) -> None:
    token = Token.from_response(fields, now=NOW)
    assert token.access_token == fields["access_token"]
    assert token.issued_at == NOW
    for name, value in expected.items():
        assert getattr(token, name) == value, name


# (name, response fields, words the message must contain)
GARBAGE_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("no_access_token", {"token_type": "Bearer"}, "no access_token"),
    ("access_token_number", {"access_token": 12345}, "access_token must be a string, got int"),
    ("access_token_object", {"access_token": {"v": "x"}}, "got dict"),
    ("access_token_empty", {"access_token": ""}, "access_token is empty"),
    ("expires_in_negative", {"access_token": "at", "expires_in": -1}, "at least 0"),
    ("expires_in_negative_string", {"access_token": "at", "expires_in": "-1"}, "not a number"),
    ("expires_in_words", {"access_token": "at", "expires_in": "one hour"}, "not a number"),
    ("expires_in_nan_string", {"access_token": "at", "expires_in": "NaN"}, "not a number"),
    ("expires_in_empty_string", {"access_token": "at", "expires_in": ""}, "not a number"),
    ("expires_in_bool", {"access_token": "at", "expires_in": True}, "got bool"),
    ("expires_in_list", {"access_token": "at", "expires_in": [3600]}, "got list"),
    ("expires_in_nan", {"access_token": "at", "expires_in": math.nan}, "finite"),
    ("expires_in_infinite", {"access_token": "at", "expires_in": math.inf}, "finite"),
    ("token_type_number", {"access_token": "at", "token_type": 1}, "token_type must be a string"),
    ("refresh_token_number", {"access_token": "at", "refresh_token": 1}, "refresh_token must"),
    ("id_token_object", {"access_token": "at", "id_token": {}}, "id_token must be a string"),
    ("scope_object", {"access_token": "at", "scope": {"read": True}}, "scope must be a string"),
    ("scope_array_of_numbers", {"access_token": "at", "scope": [1, 2]}, "scope must be a string"),
]


@pytest.mark.parametrize(
    ("fields", "words"),
    [case[1:] for case in GARBAGE_CASES],
    ids=[case[0] for case in GARBAGE_CASES],
)
def test_from_response_refuses_garbage_naming_the_field(
    fields: dict[str, Any], words: str
) -> None:
    with pytest.raises(TokenError, match=re.escape(words)):
        Token.from_response(fields, now=NOW)


def test_from_response_message_never_quotes_a_value() -> None:
    with pytest.raises(TokenError) as caught:
        token_from(access_token="at", expires_in="leaked-secret-value")
    assert "leaked-secret-value" not in str(caught.value)
    assert "19 chars" in str(caught.value)


# (name, token lifetime s, leeway s, seconds after issue, expected)
REFRESH_CASES: list[tuple[str, float, float, float, bool]] = [
    ("fresh_hour_token", 3600, 30, 0, False),
    ("hour_token_before_leeway", 3600, 30, 3569.9, False),
    ("hour_token_at_leeway", 3600, 30, 3570, True),
    ("expired", 3600, 30, 3600, True),
    ("long_expired", 3600, 30, 10_000, True),
    ("short_token_capped_at_half_life", 10, 30, 4.9, False),
    ("short_token_refreshed_at_half_life", 10, 30, 5, True),
    ("zero_leeway_waits_for_expiry", 60, 0, 59.9, False),
    ("zero_leeway_at_expiry", 60, 0, 60, True),
    ("negative_leeway_is_zero", 60, -30, 59.9, False),
]


@pytest.mark.parametrize(
    ("lifetime", "leeway", "elapsed", "expected"),
    [case[1:] for case in REFRESH_CASES],
    ids=[case[0] for case in REFRESH_CASES],
)
def test_needs_refresh_uses_leeway_capped_at_half_the_lifetime(
    lifetime: float, leeway: float, elapsed: float, expected: bool
) -> None:
    token = token_from(access_token="at", expires_in=lifetime)
    assert token.needs_refresh(now=NOW + elapsed, leeway=leeway) is expected


def test_short_token_is_not_refreshed_on_every_request() -> None:
    # A 10 s token with a 30 s leeway: usable for the first 5 s, not 0 s.
    token = token_from(access_token="at", expires_in=10)
    uses = [token.needs_refresh(now=NOW + 0.5 * step, leeway=30) for step in range(12)]
    assert uses == [False] * 10 + [True] * 2


def test_token_of_unknown_lifetime_never_needs_refresh() -> None:
    token = token_from(access_token="at")
    assert token.needs_refresh(now=NOW + 10**9, leeway=30) is False


def test_token_without_issue_time_uses_the_full_leeway() -> None:
    token = Token("at", expires_at=NOW + 10)
    assert token.needs_refresh(now=NOW - 21, leeway=30) is False
    assert token.needs_refresh(now=NOW - 20, leeway=30) is True


def test_token_issued_after_its_expiry_needs_refresh_at_expiry() -> None:
    # A clock step backwards could record issued_at > expires_at: no margin.
    token = Token("at", expires_at=NOW, issued_at=NOW + 5)
    assert token.needs_refresh(now=NOW - 0.1, leeway=30) is False
    assert token.needs_refresh(now=NOW, leeway=30) is True


# (name, expires_at, issued_at, leeway, expected refresh_at)
REFRESH_AT_CASES: list[tuple[str, float | None, float | None, float, float | None]] = [
    ("hour_token_full_leeway", NOW + 3600, NOW, 30, NOW + 3570),
    ("short_token_capped_at_half_life", NOW + 10, NOW, 30, NOW + 5),
    ("leeway_equal_to_half_life", NOW + 60, NOW, 30, NOW + 30),
    ("zero_leeway_is_expiry", NOW + 60, NOW, 0, NOW + 60),
    ("negative_leeway_is_zero", NOW + 60, NOW, -30, NOW + 60),
    ("no_issue_time_full_leeway", NOW + 10, None, 30, NOW - 20),
    ("issued_after_expiry_no_margin", NOW, NOW + 5, 30, NOW),
    ("unknown_lifetime", None, NOW, 30, None),
    ("unknown_lifetime_without_issue_time", None, None, 30, None),
]


@pytest.mark.parametrize(
    ("expires_at", "issued_at", "leeway", "expected"),
    [case[1:] for case in REFRESH_AT_CASES],
    ids=[case[0] for case in REFRESH_AT_CASES],
)
def test_refresh_at_is_leeway_before_expiry_capped_at_half_the_lifetime(
    expires_at: float | None, issued_at: float | None, leeway: float, expected: float | None
) -> None:
    token = Token("at", expires_at=expires_at, issued_at=issued_at)
    assert token.refresh_at(leeway) == expected


# Whole seconds keep the arithmetic exact, so the bounds hold without a tolerance.
@given(lifetime=st.integers(0, 10**6), leeway=st.integers(0, 10**4))
def test_refresh_at_falls_between_half_life_and_expiry(lifetime: int, leeway: int) -> None:
    token = Token("at", expires_at=NOW + lifetime, issued_at=NOW)
    refresh_at = token.refresh_at(leeway)
    assert refresh_at is not None
    assert NOW + lifetime / 2 <= refresh_at <= NOW + lifetime
    assert refresh_at >= NOW + lifetime - leeway
    assert token.needs_refresh(now=refresh_at, leeway=leeway)


PREVIOUS = Token("old-at", refresh_token="old-rt", scope="read write", id_token="old-id")

# (name, refreshed token, previous, expected refresh_token, expected scope)
PREVIOUS_CASES: list[tuple[str, Token, Token | None, str | None, str | None]] = [
    ("keeps_previous_refresh_token", Token("new-at"), PREVIOUS, "old-rt", "read write"),
    (
        "rotated_refresh_token_wins",
        Token("new-at", refresh_token="new-rt"),
        PREVIOUS,
        "new-rt",
        "read write",
    ),
    ("narrowed_scope_wins", Token("new-at", scope="read"), PREVIOUS, "old-rt", "read"),
    ("no_previous", Token("new-at"), None, None, None),
    ("previous_without_refresh_token", Token("new-at"), Token("old-at"), None, None),
]


@pytest.mark.parametrize(
    ("refreshed", "previous", "refresh_token", "scope"),
    [case[1:] for case in PREVIOUS_CASES],
    ids=[case[0] for case in PREVIOUS_CASES],
)
def test_with_previous_keeps_what_a_refresh_response_omits(
    refreshed: Token, previous: Token | None, refresh_token: str | None, scope: str | None
) -> None:
    merged = refreshed.with_previous(previous)
    assert merged.access_token == "new-at"
    assert merged.refresh_token == refresh_token
    assert merged.scope == scope
    assert merged.id_token is None  # an ID token describes one authentication; not carried


def test_with_previous_returns_the_same_token_when_nothing_is_missing() -> None:
    refreshed = Token("new-at", refresh_token="new-rt", scope="read")
    assert refreshed.with_previous(PREVIOUS) is refreshed


def test_repr_and_str_show_no_secret() -> None:
    token = Token(
        "access-SECRET",
        refresh_token="refresh-SECRET",
        id_token="id-SECRET",
        extra={"authed_user": {"access_token": "nested-SECRET"}},
        scope="read",
        expires_at=NOW,
    )
    for text in (repr(token), str(token), f"{token}", f"{token!r}"):
        assert "SECRET" not in text
        assert "<redacted 13 chars>" in text
        assert "'read'" in text
        assert "authed_user" in text


def test_constructor_normalises_token_type_and_freezes_extra() -> None:
    extra = {"a": 1}
    token = Token("at", token_type="bEaReR", extra=extra)
    extra["a"] = 2
    assert token.token_type == "Bearer"
    assert token.extra == {"a": 1}
    with pytest.raises(TypeError):
        token.extra["a"] = 3  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        token.access_token = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"access_token": ""}, "access_token"),
        ({"access_token": None}, "access_token"),
        ({"access_token": "at", "token_type": ""}, "token_type"),
        ({"access_token": "at", "token_type": 3}, "token_type"),
    ],
    ids=["empty_access_token", "no_access_token", "empty_token_type", "token_type_number"],
)
def test_constructor_refuses_missing_values(arguments: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(words)):
        Token(**arguments)


def test_json_round_trip_keeps_every_field() -> None:
    token = token_from(
        access_token="at",
        token_type="bearer",
        expires_in=3600,
        refresh_token="rt",
        scope="a b",
        id_token="id",
        issued_token_type="urn:ietf:params:oauth:token-type:access_token",
        nested={"list": [1, 2.5, None, True]},
    )
    text = token.to_json()
    assert json.loads(text)["version"] == 1
    assert Token.from_json(text) == token
    assert Token.from_json(text.encode()) == token


def test_token_survives_pickle_and_deepcopy() -> None:
    token = token_from(access_token="at", expires_in=60, refresh_token="rt", nested={"a": [1]})
    assert pickle.loads(pickle.dumps(token)) == token  # noqa: S301 - our own bytes
    copied = copy.deepcopy(token)
    assert copied == token
    assert copied.extra["nested"] is not token.extra["nested"]


def test_from_json_reads_a_minimal_document() -> None:
    assert Token.from_json('{"access_token": "at"}') == Token("at")


def test_to_json_refuses_extra_json_cannot_hold() -> None:
    for extra in ({"when": object()}, {"ratio": math.nan}):
        with pytest.raises(TokenError, match="keep only JSON values in extra"):
            Token("at", extra=extra).to_json()


# (name, stored text, words the message must contain)
STORED_GARBAGE: list[tuple[str, str | bytes, str]] = [
    ("not_json", "access_token=at", "not valid JSON"),
    ("empty", "", "not valid JSON"),
    ("invalid_utf8", b'{"access_token": "\xff"}', "not valid JSON"),
    ("nan_literal", '{"access_token": "at", "expires_at": NaN}', "not valid JSON"),
    ("deep_nesting", "[" * 100_000 + "]" * 100_000, "not valid JSON"),
    ("array", '["at"]', "expected a JSON object, got list"),
    ("string", '"at"', "expected a JSON object, got str"),
    ("future_version", '{"version": 2, "access_token": "at"}', "unknown format version 2"),
    ("no_access_token", '{"token_type": "Bearer"}', "access_token is missing"),
    ("empty_access_token", '{"access_token": ""}', "access_token is missing"),
    ("token_type_number", '{"access_token": "at", "token_type": 1}', "token_type is not"),
    ("extra_list", '{"access_token": "at", "extra": []}', "extra must be an object"),
    ("expires_at_string", '{"access_token": "at", "expires_at": "soon"}', "expires_at must be"),
    ("expires_at_bool", '{"access_token": "at", "expires_at": true}', "expires_at must be"),
    ("issued_at_string", '{"access_token": "at", "issued_at": "x"}', "issued_at must be"),
    ("refresh_token_number", '{"access_token": "at", "refresh_token": 5}', "refresh_token must"),
]


@pytest.mark.parametrize(
    ("text", "words"),
    [case[1:] for case in STORED_GARBAGE],
    ids=[case[0] for case in STORED_GARBAGE],
)
def test_from_json_refuses_garbage_naming_the_problem(text: str | bytes, words: str) -> None:
    with pytest.raises(TokenError, match=re.escape(words)) as caught:
        Token.from_json(text)
    assert "delete it from the store" in str(caught.value)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
times = st.none() | st.floats(min_value=0, max_value=1e12, allow_nan=False)
tokens = st.builds(
    Token,
    access_token=st.text(min_size=1),
    token_type=st.sampled_from(["Bearer", "bearer", "DPoP", "N_A", "custom"]),
    expires_at=times,
    refresh_token=st.none() | st.text(),
    scope=st.none() | st.text(),
    id_token=st.none() | st.text(),
    extra=st.dictionaries(st.text(max_size=10), json_values, max_size=4),
    issued_at=times,
)


@given(tokens)
def test_json_round_trip_of_any_token(token: Token) -> None:
    assert Token.from_json(token.to_json()) == token


@given(st.text() | st.binary())
def test_from_json_of_any_text_gives_a_token_or_token_error(text: str | bytes) -> None:
    try:
        token = Token.from_json(text)
    except TokenError:
        return
    assert isinstance(token, Token)


@given(
    st.dictionaries(
        st.sampled_from(["access_token", "token_type", "expires_in", "refresh_token", "scope"])
        | st.text(max_size=5),
        json_values,
    )
)
def test_from_response_of_any_fields_gives_a_token_or_token_error(fields: dict[str, Any]) -> None:
    try:
        token = Token.from_response(fields, now=NOW)
    except TokenError:
        return
    assert token.access_token == fields["access_token"]
