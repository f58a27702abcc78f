"""SigV4Signer behaviour: configuration, header signing, presigning, GCS HMAC, key cache.

The AWS signing test suite and botocore check the signatures themselves
(``test_signing_sigv4_vectors.py``, ``test_signing_sigv4_botocore.py``); this
file pins what the signer decides: which headers it sets, what it refuses,
what it caches and what it never shows.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from aiohttp_auth.errors import ConfigurationError, SigningError
from aiohttp_auth.signing import sigv4_scope
from aiohttp_auth.signing.canonical import canonical_request
from aiohttp_auth.signing.sigv4 import (
    EMPTY_SHA256,
    MAX_PRESIGN_EXPIRES,
    STREAMING_PAYLOAD,
    UNSIGNED_PAYLOAD,
    SigV4Signer,
)
from aiohttp_auth.signing.sigv4_query import (
    auth_parameter_pairs,
    auth_parameters,
    check_expires,
    check_unsigned_query,
)
from aiohttp_auth.signing.sigv4_scheme import (
    AWS4,
    GOOG4,
    amz_date,
    check_scope_part,
    credential_scope,
    derive_signing_key,
    string_to_sign,
)

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
KEYS = {"access_key_id": "AKIDEXAMPLE", "secret_access_key": SECRET}
# 2015-08-30T12:36:00Z, the AWS test suite's time.
NOW = 1440938160
HOST = [("Host", "example.amazonaws.com")]


def test_constants_are_the_protocol_strings() -> None:
    assert UNSIGNED_PAYLOAD == "UNSIGNED-PAYLOAD"
    assert STREAMING_PAYLOAD == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    assert hashlib.sha256(b"").hexdigest() == EMPTY_SHA256
    assert MAX_PRESIGN_EXPIRES == 7 * 24 * 3600


def test_signing_key_matches_aws_documentation_example() -> None:
    # AWS General Reference, "Examples of how to derive a signing key".
    key = derive_signing_key(SECRET, "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


def test_scheme_names() -> None:
    assert (AWS4.date_header, AWS4.security_token_header, AWS4.content_sha256_header) == (
        "X-Amz-Date",
        "X-Amz-Security-Token",
        "X-Amz-Content-SHA256",
    )
    assert (GOOG4.algorithm, GOOG4.terminator, GOOG4.date_header) == (
        "GOOG4-HMAC-SHA256",
        "goog4_request",
        "X-Goog-Date",
    )
    assert credential_scope("20190201", "auto", "storage", GOOG4) == (
        "20190201/auto/storage/goog4_request"
    )
    assert amz_date(NOW + 0.9) == "20150830T123600Z"


@pytest.mark.parametrize(
    ("region", "service", "named"),
    [
        ("", "s3", "region"),
        (None, "s3", "region"),
        ("us-east-1", "", "service"),
        ("us-east-1", None, "service"),
        ("us/east", "s3", "region"),
        ("us-east-1", "my service", "service"),
        ("eu-wést-1", "s3", "region"),
    ],
)
def test_missing_or_invalid_region_or_service_is_a_configuration_error(
    region: Any, service: Any, named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named):
        SigV4Signer(region, service)


def test_check_scope_part_returns_valid_value() -> None:
    assert check_scope_part("region", "us-east-1") == "us-east-1"


@pytest.mark.parametrize(
    ("service", "scheme", "s3", "normalize"),
    [
        ("s3", AWS4, True, False),
        ("execute-api", AWS4, False, True),
        ("storage", GOOG4, True, False),
    ],
)
def test_s3_style_path_handling_defaults_by_service_and_scheme(
    service: str, scheme: Any, s3: bool, normalize: bool
) -> None:
    signer = SigV4Signer("us-east-1", service, scheme=scheme)
    assert (signer.s3, signer.normalize_path) == (s3, normalize)


def test_s3_flag_can_be_forced_for_s3_compatible_services() -> None:
    signer = SigV4Signer("us-east-1", "minio", s3=True)
    added = signer.sign_headers(
        "GET", "/b/a%20b", "", HOST, **KEYS, payload_hash=UNSIGNED_PAYLOAD, timestamp=NOW
    )
    assert ("X-Amz-Content-SHA256", UNSIGNED_PAYLOAD) in added


def test_sign_headers_returns_token_date_content_hash_and_authorization() -> None:
    signer = SigV4Signer("us-east-1", "s3")
    added = signer.sign_headers(
        "PUT",
        "/bucket/key",
        "",
        [("Host", "bucket.s3.amazonaws.com"), ("Content-Length", "0")],
        **KEYS,
        session_token="token/+=",
        payload_hash=EMPTY_SHA256,
        timestamp=NOW,
    )
    assert [name for name, _ in added] == [
        "X-Amz-Security-Token",
        "X-Amz-Date",
        "X-Amz-Content-SHA256",
        "Authorization",
    ]
    authorization = dict(added)["Authorization"]
    assert authorization.startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request, "
        "SignedHeaders=content-length;host;x-amz-content-sha256;x-amz-date;"
        "x-amz-security-token, Signature="
    )


def test_content_hash_header_only_when_asked_outside_s3() -> None:
    signer = SigV4Signer("us-east-1", "execute-api")
    plain = signer.sign_headers(
        "GET", "/", "", HOST, **KEYS, payload_hash=EMPTY_SHA256, timestamp=NOW
    )
    asked = signer.sign_headers(
        "GET",
        "/",
        "",
        HOST,
        **KEYS,
        payload_hash=EMPTY_SHA256,
        timestamp=NOW,
        content_sha256_header=True,
    )
    assert "X-Amz-Content-SHA256" not in dict(plain)
    assert dict(asked)["X-Amz-Content-SHA256"] == EMPTY_SHA256


def test_callers_copies_of_signer_headers_are_replaced_not_signed_twice() -> None:
    signer = SigV4Signer("us-east-1", "service")
    stale = [
        ("X-Amz-Date", "19990101T000000Z"),
        ("x-amz-security-token", "old"),
        ("Authorization", "AWS4-HMAC-SHA256 old"),
    ]
    fresh = signer.sign_headers(
        "GET", "/", "", HOST, **KEYS, payload_hash=EMPTY_SHA256, timestamp=NOW
    )
    replaced = signer.sign_headers(
        "GET", "/", "", HOST + stale, **KEYS, payload_hash=EMPTY_SHA256, timestamp=NOW
    )
    assert replaced == fresh


@pytest.mark.parametrize("headers", [[], [("X-Host", "example.amazonaws.com")]])
def test_request_without_host_cannot_be_signed(headers: list[tuple[str, str]]) -> None:
    signer = SigV4Signer("us-east-1", "service")
    with pytest.raises(SigningError, match="Host"):
        signer.sign_headers(
            "GET", "/", "", headers, **KEYS, payload_hash=EMPTY_SHA256, timestamp=NOW
        )
    with pytest.raises(SigningError, match="Host"):
        signer.presign("GET", "/", "", headers, **KEYS, timestamp=NOW, expires=60)


@pytest.mark.parametrize(
    "keys",
    [
        {"access_key_id": "", "secret_access_key": SECRET},
        {"access_key_id": "AKID", "secret_access_key": ""},
        {"access_key_id": "AKID\r\nX-Injected: 1", "secret_access_key": SECRET},
        {"access_key_id": "ÄKID", "secret_access_key": SECRET},
    ],
)
def test_empty_or_unprintable_keys_are_refused_without_echoing_the_secret(
    keys: dict[str, str],
) -> None:
    signer = SigV4Signer("us-east-1", "service")
    with pytest.raises(SigningError, match="access key id") as excinfo:
        signer.sign_headers("GET", "/", "", HOST, **keys, payload_hash=EMPTY_SHA256, timestamp=NOW)
    assert SECRET not in str(excinfo.value)
    with pytest.raises(SigningError, match="access key id"):
        signer.presign("GET", "/", "", HOST, **keys, timestamp=NOW, expires=60)


def test_empty_session_token_counts_as_none() -> None:
    signer = SigV4Signer("us-east-1", "service")
    with_empty = signer.sign_headers(
        "GET", "/", "", HOST, **KEYS, session_token="", payload_hash=EMPTY_SHA256, timestamp=NOW
    )
    without = signer.sign_headers(
        "GET", "/", "", HOST, **KEYS, payload_hash=EMPTY_SHA256, timestamp=NOW
    )
    assert with_empty == without


def test_omitted_session_token_is_sent_but_not_signed() -> None:
    signer = SigV4Signer("us-east-1", "iotdevicegateway", omit_session_token=True)
    added = signer.sign_headers(
        "GET",
        "/mqtt",
        "",
        HOST,
        **KEYS,
        session_token="tok",
        payload_hash=EMPTY_SHA256,
        timestamp=NOW,
    )
    assert ("X-Amz-Security-Token", "tok") in added
    assert "SignedHeaders=host;x-amz-date," in dict(added)["Authorization"]
    query = signer.presign(
        "GET", "/mqtt", "", HOST, **KEYS, session_token="tok", timestamp=NOW, expires=60
    )
    assert "&X-Amz-Security-Token=tok&X-Amz-Signature=" in query


def test_request_date_follows_the_clock() -> None:
    signer = SigV4Signer("us-east-1", "service")
    first, second = (
        dict(
            signer.sign_headers(
                "GET", "/", "", HOST, **KEYS, payload_hash=EMPTY_SHA256, timestamp=timestamp
            )
        )["X-Amz-Date"]
        for timestamp in (NOW, NOW + 86400 + 1)
    )
    assert (first, second) == ("20150830T123600Z", "20150831T123601Z")


def test_signing_key_is_derived_once_per_secret_and_day(monkeypatch: pytest.MonkeyPatch) -> None:
    derived: list[tuple[str, str]] = []
    real = sigv4_scope.derive_signing_key

    def counting(secret: str, date: str, *args: Any) -> bytes:
        derived.append((secret, date))
        return real(secret, date, *args)

    monkeypatch.setattr(sigv4_scope, "derive_signing_key", counting)
    signer = SigV4Signer("us-east-1", "service")
    for _ in range(3):
        signer.sign_headers("GET", "/", "", HOST, **KEYS, payload_hash=EMPTY_SHA256, timestamp=NOW)
    assert derived == [(SECRET, "20150830")]
    assert signer.signing_key(SECRET, "20150830") == real(
        SECRET, "20150830", "us-east-1", "service"
    )


def test_signing_key_cache_is_bounded_and_per_signer(monkeypatch: pytest.MonkeyPatch) -> None:
    derived: list[str] = []
    real = sigv4_scope.derive_signing_key

    def counting(secret: str, *args: Any) -> bytes:
        derived.append(secret)
        return real(secret, *args)

    monkeypatch.setattr(sigv4_scope, "derive_signing_key", counting)
    signer = SigV4Signer("us-east-1", "service")
    secrets = [f"secret-{index}" for index in range(10)]
    for secret in secrets:
        signer.signing_key(secret, "20150830")
    signer.signing_key(secrets[-1], "20150830")  # still cached
    signer.signing_key(secrets[0], "20150830")  # evicted: derived again
    assert derived == [*secrets, secrets[0]]
    SigV4Signer("us-east-1", "service").signing_key(secrets[-1], "20150830")
    assert derived[-1] == secrets[-1]  # another signer has its own cache


def test_repr_shows_scope_never_secrets() -> None:
    signer = SigV4Signer("us-east-1", "s3")
    signer.sign_headers(
        "GET",
        "/",
        "",
        HOST,
        **KEYS,
        session_token="tok-123",
        payload_hash=EMPTY_SHA256,
        timestamp=NOW,
    )
    text = repr(signer)
    assert text == "SigV4Signer(region='us-east-1', service='s3', scheme=AWS4-HMAC-SHA256)"
    assert SECRET not in text
    assert signer.signing_key(SECRET, "20150830").hex() not in text


@pytest.mark.parametrize("expires", [0, -1, MAX_PRESIGN_EXPIRES + 1])
def test_presign_refuses_expiry_outside_one_second_to_seven_days(expires: int) -> None:
    with pytest.raises(SigningError, match="604800"):
        SigV4Signer("us-east-1", "s3").presign(
            "GET", "/", "", HOST, **KEYS, timestamp=NOW, expires=expires
        )


@pytest.mark.parametrize("expires", [True, 3600.0, "3600"])
def test_presign_refuses_expiry_that_is_not_whole_seconds(expires: Any) -> None:
    with pytest.raises(SigningError, match="int number of seconds"):
        check_expires(expires)


@pytest.mark.parametrize("expires", [1, MAX_PRESIGN_EXPIRES])
def test_presign_accepts_the_limits(expires: int) -> None:
    query = SigV4Signer("us-east-1", "s3").presign(
        "GET", "/", "", HOST, **KEYS, timestamp=NOW, expires=expires
    )
    assert f"&X-Amz-Expires={expires}&" in query


@pytest.mark.parametrize(
    "raw_query", ["X-Amz-Signature=abc", "a=1&x-amz-credential=x", "X-Amz-Security-Token"]
)
def test_presign_refuses_an_already_presigned_query(raw_query: str) -> None:
    with pytest.raises(SigningError, match="already"):
        SigV4Signer("us-east-1", "s3").presign(
            "GET", "/", raw_query, HOST, **KEYS, timestamp=NOW, expires=60
        )


def test_presign_keeps_other_x_amz_parameters_first() -> None:
    check_unsigned_query("X-Amz-Meta-Color=red&plain=1", AWS4)
    query = SigV4Signer("us-east-1", "s3").presign(
        "GET", "/", "X-Amz-Meta-Color=red", HOST, **KEYS, timestamp=NOW, expires=60
    )
    assert query.startswith("X-Amz-Meta-Color=red&X-Amz-Algorithm=AWS4-HMAC-SHA256&")


def test_presign_payload_defaults_follow_botocore() -> None:
    for service, payload in (("s3", UNSIGNED_PAYLOAD), ("rds-db", EMPTY_SHA256)):
        signer = SigV4Signer("us-east-1", service)
        default = signer.presign("GET", "/", "", HOST, **KEYS, timestamp=NOW, expires=900)
        explicit = signer.presign(
            "GET", "/", "", HOST, **KEYS, timestamp=NOW, expires=900, payload_hash=payload
        )
        assert default == explicit


def test_auth_parameters_encode_credential_and_signed_headers() -> None:
    pairs = auth_parameter_pairs(
        GOOG4,
        access_key_id="svc@project.iam",
        encoded_scope="20190201%2Fauto%2Fstorage%2Fgoog4_request",
        request_date="20190201T090000Z",
        signed_headers="host;x-goog-resumable",
        expires=10,
    )
    assert pairs == [
        ("X-Goog-Algorithm", "GOOG4-HMAC-SHA256"),
        ("X-Goog-Credential", "svc%40project.iam%2F20190201%2Fauto%2Fstorage%2Fgoog4_request"),
        ("X-Goog-Date", "20190201T090000Z"),
        ("X-Goog-SignedHeaders", "host%3Bx-goog-resumable"),
        ("X-Goog-Expires", "10"),
    ]
    joined = auth_parameters(
        GOOG4,
        access_key_id="svc@project.iam",
        scope="20190201/auto/storage/goog4_request",
        request_date="20190201T090000Z",
        signed_headers="host;x-goog-resumable",
        expires=10,
    )
    assert joined == "&".join(f"{name}={value}" for name, value in pairs)


def test_gcs_header_signing_uses_goog4_names() -> None:
    signer = SigV4Signer("auto", "storage", scheme=GOOG4)
    added = signer.sign_headers(
        "GET",
        "/bucket/object",
        "",
        [("Host", "storage.googleapis.com")],
        access_key_id="GOOG1EXAMPLE",
        secret_access_key="gcs-secret",
        payload_hash=UNSIGNED_PAYLOAD,
        timestamp=NOW,
    )
    assert [name for name, _ in added] == ["X-Goog-Date", "Authorization"]
    assert dict(added)["Authorization"].startswith(
        "GOOG4-HMAC-SHA256 Credential=GOOG1EXAMPLE/20150830/auto/storage/goog4_request, "
        "SignedHeaders=host;x-goog-date, Signature="
    )


def test_gcs_has_no_session_token_and_no_aws_chunked() -> None:
    signer = SigV4Signer("auto", "storage", scheme=GOOG4)
    with pytest.raises(SigningError, match="session token"):
        signer.sign_headers(
            "GET",
            "/",
            "",
            HOST,
            **KEYS,
            session_token="t",
            payload_hash=UNSIGNED_PAYLOAD,
            timestamp=NOW,
        )
    with pytest.raises(SigningError, match="session token"):
        signer.presign("GET", "/", "", HOST, **KEYS, session_token="t", timestamp=NOW, expires=9)
    with pytest.raises(SigningError, match="aws-chunked"):
        signer.sign_streaming("PUT", "/", "", HOST, **KEYS, timestamp=NOW, decoded_length=1)


GCS = json.loads(
    (Path(__file__).parent / "vectors" / "gcs-conformance" / "v4_signatures.json").read_text(
        encoding="utf-8"
    )
)
GCS_AUTH_NAMES = {f"X-Goog-{name}" for name in ("Algorithm", "Credential", "Date", "Expires")}


def gcs_request(case: dict[str, Any]) -> tuple[str, str, str, list[tuple[str, str]], str]:
    url = urlsplit(case["expectedUrlWithoutSignature"])
    headers = [("host", url.netloc), *case.get("headers", {}).items()]
    payload = case.get("headers", {}).get("X-Goog-Content-SHA256", UNSIGNED_PAYLOAD)
    return url.path, url.query, url.netloc, headers, payload


@pytest.mark.parametrize("case", GCS["signingV4Tests"], ids=lambda case: case["description"])
def test_gcs_conformance_canonical_request_and_string_to_sign(case: dict[str, Any]) -> None:
    raw_path, raw_query, _, headers, payload = gcs_request(case)
    canonical, _ = canonical_request(
        case["method"],
        raw_path,
        raw_query,
        headers,
        payload,
        normalize_path=False,
        double_encode=False,
    )
    assert canonical == case["expectedCanonicalRequest"]
    request_date = case["timestamp"].replace("-", "").replace(":", "")
    scope = credential_scope(request_date[:8], "auto", "storage", GOOG4)
    assert (
        string_to_sign("GOOG4-RSA-SHA256", request_date, scope, canonical)
        == case["expectedStringToSign"]
    )


@pytest.mark.parametrize("case", GCS["signingV4Tests"], ids=lambda case: case["description"])
def test_gcs_hmac_presigned_url_canonicalises_like_google(case: dict[str, Any]) -> None:
    raw_path, raw_query, _, headers, payload = gcs_request(case)
    user_query = "&".join(
        parameter
        for parameter in raw_query.split("&")
        if parameter.partition("=")[0] not in GCS_AUTH_NAMES | {"X-Goog-SignedHeaders"}
    )
    timestamp = calendar.timegm(time.strptime(case["timestamp"], "%Y-%m-%dT%H:%M:%SZ"))
    query = SigV4Signer("auto", "storage", scheme=GOOG4).presign(
        case["method"],
        raw_path,
        user_query,
        headers,
        access_key_id="test-iam-credentials@dummy-project-id.iam.gserviceaccount.com",
        secret_access_key="gcs-hmac-secret",
        timestamp=timestamp,
        expires=case["expiration"],
        payload_hash=payload,
    )
    unsigned, _, signature = query.rpartition("&X-Goog-Signature=")
    assert len(signature) == 64
    canonical, _ = canonical_request(
        case["method"],
        raw_path,
        unsigned,
        headers,
        payload,
        normalize_path=False,
        double_encode=False,
    )
    assert canonical == case["expectedCanonicalRequest"].replace(
        "GOOG4-RSA-SHA256", "GOOG4-HMAC-SHA256"
    )


def test_streaming_merges_an_existing_content_encoding() -> None:
    signer = SigV4Signer("us-east-1", "s3")
    for existing, expected in (
        ([("Content-Encoding", "gzip")], "aws-chunked,gzip"),
        ([("content-encoding", "aws-chunked")], "aws-chunked"),
        ([], "aws-chunked"),
    ):
        added, _ = signer.sign_streaming(
            "PUT", "/b/k", "", HOST + existing, **KEYS, timestamp=NOW, decoded_length=10
        )
        assert dict(added)["Content-Encoding"] == expected
        assert dict(added)["X-Amz-Content-SHA256"] == STREAMING_PAYLOAD
