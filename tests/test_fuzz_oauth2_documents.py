"""Fuzzing what OAuth 2 code reads from outside: a result or a TokenError, never a crash.

An authorization server's metadata document (RFC 8414 §2), a token read back
from a store, and a ``Retry-After`` field arrive from elsewhere; whatever they
hold, reading them gives a value or a ``TokenError`` naming the problem, and
never quotes a secret. Arbitrary text as a stored token is fuzzed in
test_oauth2_token; here the documents are near-valid, built from pieces that
reach every check.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

from fuzzing import JSON_VALUES, mostly, outcome
from hypothesis import example, given, settings
from hypothesis import strategies as st
from yarl import URL

from aiohttp_auth._origins import is_secure_transport
from aiohttp_auth.errors import ConfigurationError, TokenError
from aiohttp_auth.oauth2 import Token
from aiohttp_auth.oauth2.metadata import ServerMetadata, metadata_urls
from aiohttp_auth.oauth2.retry import retry_after_seconds

FUZZ = settings(max_examples=300, deadline=None)
NOW = 1_700_000_000.0

# --- ServerMetadata.from_json ----------------------------------------------------------

ISSUERS = st.sampled_from(
    ["https://as.example", "https://as.example/tenant", "http://127.0.0.1:9"]
)
BAD_ISSUERS = st.sampled_from(["http://as.example", "as.example", "https://as.example?x=1", ""])
# ServerMetadata's fields by kind, as RFC 8414 §2 names the members.
FIELDS = [field.name for field in dataclasses.fields(ServerMetadata)]
ENDPOINTS = tuple(name for name in FIELDS if name.endswith(("_endpoint", "_uri")))
LISTS = tuple(name for name in FIELDS if name.endswith("_supported"))
BAD_URLS = st.sampled_from(
    [
        *("http://as.example/t", "http://localhost:1/t", "/token", "https://", "token"),
        *("https://as.example/t#f", "https://u:p@as.example/t", "https://[::1/t", "mailto:a@b"),
        *("https://as.example:99999/t", "https://ex ample/t", "https://\u00e9.example/t", "\x00"),
        *("https://as.example/\ud800", "https://%zz/t", "HTTPS://AS.EXAMPLE/T", "https:t"),
    ]
)
NAMES = st.lists(st.sampled_from(["client_credentials", "S256", "read", "none", ""]), max_size=3)


@st.composite
def metadata_documents(draw: st.DrawFn, issuer: str) -> Any:
    """Draw a metadata document close to a valid one for *issuer*, or another JSON value."""
    named = mostly(
        draw, st.just(issuer), st.sampled_from([issuer + "/", issuer.upper(), "", 5, None])
    )
    document: dict[str, Any] = {} if named is None else {"issuer": named}
    for name in ENDPOINTS:
        if name == "token_endpoint" or draw(st.booleans()):
            valid = st.just(issuer.rstrip("/") + "/" + name.partition("_")[0])
            document[name] = mostly(draw, valid, BAD_URLS | JSON_VALUES)
    for name in LISTS:
        if draw(st.booleans()):
            document[name] = mostly(draw, NAMES, st.lists(JSON_VALUES, min_size=1) | JSON_VALUES)
    document |= draw(st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=3))
    return mostly(draw, st.just(document), JSON_VALUES | st.just([document]))


@st.composite
def metadata_bodies(draw: st.DrawFn) -> tuple[str, bytes | str]:
    """Draw the issuer asked for and the body its server answered."""
    issuer = mostly(draw, ISSUERS, BAD_ISSUERS)
    text = json.dumps(draw(metadata_documents(issuer)), ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):
        return issuer, text
    body = text.encode("utf-8", "surrogatepass")
    body = mostly(draw, st.just(body), st.sampled_from([b"\xef\xbb\xbf" + body, body[:-1]]))
    return issuer, body


def _check_metadata(metadata: ServerMetadata, issuer: str, body: bytes | str) -> None:
    text = body.decode("utf-8", "surrogatepass") if isinstance(body, bytes) else body
    document = json.loads(text.removeprefix("\ufeff"))
    assert metadata.issuer == issuer == document["issuer"]
    assert metadata.token_endpoint is not None
    for name in ENDPOINTS:
        assert getattr(metadata, name) == document.get(name)
    for name in LISTS:
        listed = document.get(name)
        assert getattr(metadata, name) == (None if listed is None else tuple(listed))
    assert set(metadata.extra) == set(document) - {"issuer", *ENDPOINTS, *LISTS}


@FUZZ
@given(metadata_bodies(), st.booleans())
@example(("https://as.example", b"[" * 100_000), False)
@example(("https://as.example", '{"issuer": "https://as.example", "x": "\ud800"}'), False)
@example(("https://as.example", '{"issuer": "https://as.example", "token_endpoint": 1}'), False)
def test_near_valid_metadata_gives_server_metadata_or_a_token_error(
    issuer_and_body: tuple[str, bytes | str], allow_http: bool
) -> None:
    issuer, body = issuer_and_body
    try:
        metadata = ServerMetadata.from_json(body, issuer=issuer, allow_http=allow_http)
    except ConfigurationError as error:
        # Only the issuer asked for is the caller's to fix; the document's faults are TokenErrors.
        message = str(error)
    except TokenError:
        return
    else:
        _check_metadata(metadata, issuer, body)
        endpoints = (getattr(metadata, name) for name in ENDPOINTS)
        assert allow_http or all(
            is_secure_transport(URL(url)) for url in endpoints if url is not None
        )
        return
    assert message.startswith("issuer: ")
    # The same issuers metadata_urls refuses: discovery never fetches a document for one.
    assert isinstance(
        outcome(ConfigurationError, metadata_urls, issuer, allow_http=allow_http),
        ConfigurationError,
    )


# --- Token.from_json -----------------------------------------------------------------------

# Secrets no message may quote, and no drawn piece can spell by chance.
SECRETS = {
    "access_token": "at-Zq8v3Nw7Lk2Yd",
    "refresh_token": "rt-Pm4Xc9Jf6Hs1B",
    "id_token": "eyJ-Vt5Rb0Gn8Wq3",
}
STORED_FIELDS = {
    "version": (st.just(1), st.sampled_from([2, "1", 1.5, None, True])),
    "access_token": (st.just(SECRETS["access_token"]), st.sampled_from(["", None]) | JSON_VALUES),
    "token_type": (st.sampled_from(["Bearer", "bearer", "DPoP", "x"]), JSON_VALUES),
    "expires_at": (st.floats(0, 1e12) | st.none(), JSON_VALUES | st.just(float("inf"))),
    "refresh_token": (st.just(SECRETS["refresh_token"]) | st.none(), JSON_VALUES),
    "scope": (st.sampled_from(["read", "", None]), JSON_VALUES),
    "id_token": (st.just(SECRETS["id_token"]), JSON_VALUES),
    "issued_at": (st.integers(0, 2**40) | st.none(), JSON_VALUES | st.just(float("nan"))),
    "extra": (st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=3), JSON_VALUES),
}


@st.composite
def stored_tokens(draw: st.DrawFn) -> str | bytes:
    """Draw a stored token close to what Token.to_json writes."""
    document = {
        name: mostly(draw, valid, other)
        for name, (valid, other) in STORED_FIELDS.items()
        if draw(st.integers(0, 4))  # else absent
    }
    # json.dumps writes NaN and Infinity, which are not JSON: the reader must refuse them.
    text = json.dumps(mostly(draw, st.just(document), JSON_VALUES))
    return draw(st.sampled_from([text, text.encode(), text.encode("utf-16")]))


@FUZZ
@given(stored_tokens())
@example(b'{"extra": ' + b"[" * 100_000 + b"}")
def test_near_valid_stored_token_reads_back_or_raises_a_token_error(text: str | bytes) -> None:
    token = outcome(TokenError, Token.from_json, text)
    if isinstance(token, TokenError):
        message = str(token)
        assert "delete it from the store and obtain a new token" in message
        assert not any(secret in message for secret in SECRETS.values())
        return
    assert token.access_token == SECRETS["access_token"]
    assert Token.from_json(token.to_json()) == token


# --- Retry-After ----------------------------------------------------------------------------

HTTP_DATES = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.just(timezone.utc),
).map(lambda moment: format_datetime(moment, usegmt=True))
RETRY_AFTER = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from(list("0123456789 ,:-+GMTSunMonDec\t\u0663")), max_size=35),
    HTTP_DATES,
    HTTP_DATES.map(lambda date: date.replace("GMT", "-0000").replace(" 1", " 99")),
)


@FUZZ
@given(st.none() | RETRY_AFTER)
@example("Sun, 06 Nov 1994 08:49:37 +9999")
@example("\u0663")
def test_any_retry_after_gives_a_delay_or_none(value: str | None) -> None:
    delay = retry_after_seconds(value, now=NOW)
    assert delay is None or 0.0 <= delay < float("inf")


@FUZZ
@given(st.integers(0, 999_999_999) | HTTP_DATES)
def test_written_retry_after_reads_back_as_its_delay(value: int | str) -> None:
    if isinstance(value, int):
        assert retry_after_seconds(str(value), now=NOW) == value
        return
    moment = datetime.strptime(value, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=timezone.utc)
    assert retry_after_seconds(value, now=NOW) == max(moment.timestamp() - NOW, 0.0)
