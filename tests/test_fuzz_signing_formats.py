"""Fuzzing the documents temporary AWS credentials arrive in: a result or a CredentialError.

STS answers ``AssumeRole`` in XML, a ``credential_process`` prints JSON and
users write the shared credentials and config files; whatever arrives, the
parsers of ``aiohttp_auth.signing.credential_formats`` and ``aws_config``
return credentials or raise ``CredentialError``, never another exception, and
never quote the secret. Arbitrary bytes are fuzzed in test_signing_aws_config;
here the documents are near-valid, built from pieces that reach every check.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone
from xml.sax.saxutils import escape

import pytest
from fuzzing import JSON_VALUES, mostly, outcome
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aiohttp_auth.errors import CredentialError
from aiohttp_auth.signing.aws_config import parse_profiles
from aiohttp_auth.signing.credential_formats import (
    parse_assume_role_response,
    parse_iso8601,
    parse_process_output,
)
from aiohttp_auth.signing.credentials import AwsCredentials

FUZZ = settings(max_examples=300, deadline=None)
# A secret no message may quote, and no drawn piece can spell by chance.
SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCY"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"

ISO_TEXT = st.text(
    alphabet=st.sampled_from(list("0123456789-T:Z+.,W tz\u0662\u00b2")), max_size=40
)
EXPIRATIONS = st.sampled_from(
    [
        "2026-11-24T10:00:00Z",
        "2026-11-24T10:00:00.123456Z",
        " 2026-11-24T10:00:00+01:00 ",
        "2026-11-24",
        "2026-13-01T00:00:00Z",
        "0001-01-01T00:00:00+23:59",
        "9999-12-31T23:59:59-23:59",
        "+002026-01-01",
        "yesterday",
        "",
    ]
)
OFFSETS = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
# Away from the ends of datetime's range, where the offset would leave it.
DATETIMES = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))


# --- parse_iso8601 ------------------------------------------------------------


@FUZZ
@given(st.one_of(st.text(max_size=40), ISO_TEXT))
@example("2020-01-01T00:00:00\ud800")
@example("\u0662\u0660\u0662\u0660-01-01")
def test_any_text_is_a_timestamp_or_a_credential_error_naming_it(value: str) -> None:
    seconds = outcome(CredentialError, parse_iso8601, value, what="Expiration")
    if isinstance(seconds, CredentialError):
        assert str(seconds).startswith("Expiration is not an ISO 8601 timestamp")
    else:
        assert math.isfinite(seconds)


@FUZZ
@given(DATETIMES, st.none() | OFFSETS, st.booleans())
def test_written_timestamps_read_back_to_the_same_instant(
    moment: datetime, offset: timezone | None, zulu: bool
) -> None:
    # A timestamp without a zone is UTC, as AWS writes them.
    aware = moment.replace(tzinfo=offset or timezone.utc)
    written = moment.replace(tzinfo=offset).isoformat()
    if zulu and offset is not None:
        written = aware.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    assert parse_iso8601(written, what="Expiration") == aware.timestamp()


# --- parse_assume_role_response ------------------------------------------------


# Values of a Credentials member that break it: blank, escaped, entities, CDATA, a child.
MEMBER_TEXT = st.one_of(
    st.sampled_from(
        [
            *("", "   ", " spaced ", "caf\u00e9", "&amp;", "&#65;", "&e;", "&undefined;"),
            *("<![CDATA[a<b]]>", "<Inner>x</Inner>", "&#0;", "a<b"),
        ]
    ),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x2FF), max_size=10).map(
        escape
    ),
)
# What an XML declaration may say, and the codec the bytes are really in.
DECLARED = st.sampled_from(
    [
        *("UTF-8", "utf-16", "ISO-8859-1", "us-ascii", "utf-32", "cp932", "big5"),
        *("utf-7", "nope", "hex", "rot13", "idna"),
    ]
)
CODECS = st.sampled_from(["utf-8", "utf-16", "latin-1", "utf-32"])
DOCTYPES = st.sampled_from(
    [
        '<!DOCTYPE r [<!ENTITY e "entity">]>',
        '<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE r [<!ENTITY e "&e;">]>',
        '<!DOCTYPE r SYSTEM "http://127.0.0.1:9/dtd">',
    ]
)
STS_ERROR = "<Error><Code>AccessDenied</Code><Message>not &lt;allowed&gt;</Message></Error>"


@st.composite
def sts_documents(draw: st.DrawFn) -> bytes:
    """Draw an STS answer: a Credentials element, an Error, both or neither, namespaced or not."""
    prefix = draw(st.sampled_from(["", "", "sts:", "other:"]))
    valid = {
        "AccessKeyId": st.just("ASIAEXAMPLE"),
        "SecretAccessKey": st.just(SECRET),
        "SessionToken": st.just("token"),
        "Expiration": EXPIRATIONS,
    }
    members = [
        f"<{prefix}{name}>{mostly(draw, text, MEMBER_TEXT)}</{prefix}{name}>"
        for name, text in valid.items()
        if draw(st.integers(0, 5))  # else absent
    ]
    credentials = f"<{prefix}Credentials>{''.join(members)}</{prefix}Credentials>"
    body = mostly(
        draw, st.just(credentials), st.sampled_from([STS_ERROR, credentials + STS_ERROR, ""])
    )
    namespaces = f'xmlns:sts="{STS_NS}" xmlns:other="urn:other"'
    default = draw(st.sampled_from([f' xmlns="{STS_NS}"', "", ' xmlns="urn:other"']))
    root = f"<R {namespaces}{default}><AssumeRoleResult>{body}</AssumeRoleResult></R>"
    declared = mostly(draw, st.none(), DECLARED)
    head = "" if declared is None else f'<?xml version="1.0" encoding="{declared}"?>'
    document = head + mostly(draw, st.just(""), DOCTYPES) + root
    raw = document.encode(mostly(draw, st.just("utf-8"), CODECS), "xmlcharrefreplace")
    # Sometimes cut short, as a body cut by a proxy would be.
    return raw[: mostly(draw, st.none(), st.integers(0, len(raw)))]


def _quotes_the_secret(error: CredentialError) -> bool:
    return SECRET in str(error) or SECRET in repr(error.args)


@FUZZ
@given(sts_documents(), st.sampled_from([200, 200, 400, 403, 500]))
@example(b"<?xml version='1.0' encoding='utf-32'?><r/>", 200)
@example(b"<?xml version='1.0' encoding='nope'?><r/>", 200)
@example(b"<?xml version='1.0' encoding='idna'?><r/>", 200)
def test_near_valid_sts_answers_give_credentials_or_a_credential_error(
    body: bytes, status: int
) -> None:
    credentials = outcome(CredentialError, parse_assume_role_response, body, status)
    if isinstance(credentials, CredentialError):
        assert not _quotes_the_secret(credentials)
        return
    assert status == 200
    assert credentials.access_key_id
    assert credentials.secret_access_key
    assert credentials.access_key_id == credentials.access_key_id.strip()
    assert credentials.expires_at is None or math.isfinite(credentials.expires_at)


PLAIN_TEXT = st.text(
    alphabet=st.characters(
        min_codepoint=0x21, max_codepoint=0xFFFD, exclude_categories=["Cs", "Cc", "Zs", "Zl", "Zp"]
    ),
    min_size=1,
    max_size=20,
)


@FUZZ
@given(
    access_key_id=PLAIN_TEXT,
    secret=PLAIN_TEXT,
    token=st.none() | PLAIN_TEXT,
    expiration=st.none() | DATETIMES.map(lambda moment: moment.isoformat() + "Z"),
    namespaced=st.booleans(),
)
def test_sts_answers_read_back_to_the_credentials_written(
    access_key_id: str, secret: str, token: str | None, expiration: str | None, namespaced: bool
) -> None:
    fields = {"AccessKeyId": access_key_id, "SecretAccessKey": secret}
    fields |= {"SessionToken": token} if token is not None else {}
    fields |= {"Expiration": expiration} if expiration is not None else {}
    members = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in fields.items())
    xmlns = f' xmlns="{STS_NS}"' if namespaced else ""
    body = (
        f"<AssumeRoleResponse{xmlns}><AssumeRoleResult><Credentials>{members}"
        "</Credentials></AssumeRoleResult></AssumeRoleResponse>"
    ).encode()
    expires_at = None if expiration is None else parse_iso8601(expiration, what="Expiration")
    assert parse_assume_role_response(body) == AwsCredentials(
        access_key_id, secret, token, expires_at
    )


# --- parse_process_output ------------------------------------------------------

PROCESS_MEMBERS = {
    "Version": (st.just(1), st.sampled_from([1.0, True, 2, "1", None, 0])),
    "AccessKeyId": (st.just("AKIDEXAMPLE"), st.sampled_from(["", None]) | JSON_VALUES),
    "SecretAccessKey": (st.just(SECRET), st.sampled_from(["", None]) | JSON_VALUES),
    "SessionToken": (st.sampled_from(["token", "", None]), JSON_VALUES),
    "Expiration": (EXPIRATIONS, JSON_VALUES),
}


@st.composite
def process_outputs(draw: st.DrawFn) -> bytes:
    """Draw what a credential_process may print: a document close to ``Version: 1``."""
    document = {
        name: mostly(draw, valid, other)
        for name, (valid, other) in PROCESS_MEMBERS.items()
        if draw(st.integers(0, 5))  # else absent
    }
    document |= draw(st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=2))
    printed = mostly(draw, st.just(document), st.sampled_from([[document], "text", None]))
    # json.loads detects UTF-16 and UTF-32 from the first bytes (RFC 8259 §8.1).
    codec = mostly(draw, st.just("utf-8"), st.sampled_from(["utf-16", "utf-32"]))
    return json.dumps(printed).encode(codec)


@FUZZ
@given(
    process_outputs()
    | st.text(alphabet="[]{}\"':,0123456789.eE-+ \\u", max_size=60).map(str.encode)
)
@example(b"[" * 100_000)
@example(b'{"Version": 1, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
@example(b"1" * 5000)
def test_near_valid_process_output_gives_credentials_or_a_credential_error(
    output: bytes,
) -> None:
    credentials = outcome(CredentialError, parse_process_output, output)
    if isinstance(credentials, CredentialError):
        assert not _quotes_the_secret(credentials)
        return
    document = json.loads(output)
    assert document["Version"] == 1
    assert credentials.access_key_id == document["AccessKeyId"]
    assert credentials.secret_access_key == document["SecretAccessKey"]
    assert credentials.session_token == (document.get("SessionToken") or None)
    assert credentials.expires_at is None or math.isfinite(credentials.expires_at)


# --- the shared credentials and config files -------------------------------------

INI_LINES = st.sampled_from(
    [
        *("[default]", "[profile dev]", "[dev]", "[ profile  x ]", "[sso-session x]", "[]"),
        *("[", "[DEFAULT]", "aws_access_key_id = AKID", f"aws_secret_access_key = {SECRET}"),
        *("aws_session_token=t", "duration_seconds = 900", "duration_seconds = 12", "# c"),
        *("duration_seconds=abc", "region = eu-west-1", " continued", "key", "=v", "a = b = c"),
        *("role_arn = arn:aws:iam::1:role/r", "source_profile = dev", "%(x)s", "\x00", "; c"),
    ]
)
INI_FILES = st.lists(INI_LINES | st.text(max_size=10), max_size=8).map("\n".join)


@FUZZ
@given(INI_FILES, INI_FILES)
def test_any_shared_files_give_profiles_or_a_credential_error(
    credentials_text: str, config_text: str
) -> None:
    profiles = outcome(CredentialError, parse_profiles, credentials_text, config_text)
    if isinstance(profiles, CredentialError):
        assert not _quotes_the_secret(profiles)
        return
    for profile in profiles.values():
        assert profile.duration_seconds is None or 900 <= profile.duration_seconds <= 43200


@pytest.mark.parametrize(
    "duration", ["\u00b2", "1" * 5000], ids=["superscript-two", "5000-digits"]
)
def test_a_duration_in_other_digits_is_a_credential_error(duration: str) -> None:
    config_text = f"[profile x]\nrole_arn = r\nsource_profile = x\nduration_seconds = {duration}"
    with pytest.raises(CredentialError, match="duration_seconds must be a whole number"):
        parse_profiles("", config_text)
