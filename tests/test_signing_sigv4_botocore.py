"""SigV4Signer against botocore, the reference Python implementation.

Two kinds of test: fixed vectors for already percent-encoded wire paths
(``tests/vectors/sigv4-encoded-paths.json``, whose expected values were
produced by botocore and are stored, so they hold even if botocore changes),
and a differential test that signs seeded random requests with both
implementations and compares the results. The botocore ``AWSRequest`` is
built from the very wire URL our signer gets, so both see the same bytes.

Random wire queries are AWS-encoded (what botocore itself puts on the wire):
botocore signs the query's raw bytes while ours decodes and re-encodes them,
and the two agree exactly on that form; other spellings are pinned in
``tests/test_signing_canonical.py``.
"""

from __future__ import annotations

import calendar
import datetime
import hashlib
import json
import random
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from botocore import auth as botocore_auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from aiohttp_auth.signing.canonical import canonical_request
from aiohttp_auth.signing.sigv4 import EMPTY_SHA256, SigV4Signer

VECTORS = json.loads(
    (Path(__file__).parent / "vectors" / "sigv4-encoded-paths.json").read_text(encoding="utf-8")
)
# botocore's SIGNED_HEADERS_BLACKLIST; ours skips a few more (connection,
# upgrade, sec-websocket-*), which the random headers below never use.
BOTOCORE_UNSIGNED = ("expect", "transfer-encoding", "user-agent", "x-amzn-trace-id")


def freeze_botocore(monkeypatch: pytest.MonkeyPatch, timestamp: float) -> None:
    moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)
    monkeypatch.setattr(botocore_auth, "get_current_datetime", lambda: moment)


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda case: case["description"])
def test_encoded_wire_paths_match_botocore_vectors(case: dict[str, Any]) -> None:
    timestamp = calendar.timegm(time.strptime(VECTORS["timestamp"], "%Y-%m-%dT%H:%M:%SZ"))
    signer = SigV4Signer(VECTORS["region"], case["service"])
    headers = [tuple(pair) for pair in case["headers"]]
    added = signer.sign_headers(
        case["method"],
        case["raw_path"],
        case["raw_query"],
        headers,
        access_key_id=VECTORS["access_key_id"],
        secret_access_key=VECTORS["secret_access_key"],
        payload_hash=EMPTY_SHA256,
        timestamp=timestamp,
    )
    assert sorted([name.lower(), value] for name, value in added) == case["expected_headers"]

    s3 = case["service"] == "s3"
    signed_added = [(name, value) for name, value in added if name != "Authorization"]
    canonical, _ = canonical_request(
        case["method"],
        case["raw_path"],
        case["raw_query"],
        headers + signed_added,
        EMPTY_SHA256,
        normalize_path=not s3,
        double_encode=not s3,
    )
    assert canonical == case["expected_canonical_request"]


# Characters a path segment or query component is drawn from: unreserved,
# reserved and sub-delimiters, space, percent, and non-ASCII of 2, 3 and 4
# UTF-8 bytes.
ALPHABET = "abcXYZ019-_.~!$&'()*+,;=:@/?# %é€ሴ😀"
HEADER_NAMES = ("Content-Type", "X-Amz-Meta-Key", "x-custom", "X-Mixed-Case", "Accept", "Range")
SERVICES = ("s3", "execute-api", "dynamodb", "sqs", "es")
REGIONS = ("us-east-1", "eu-west-3", "ap-southeast-2", "us-gov-west-1")


def random_text(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(low, high)))


def random_path(rng: random.Random) -> str:
    segments = []
    for _ in range(rng.randint(0, 4)):
        roll = rng.random()
        if roll < 0.1:
            segments.append(rng.choice(["", ".", ".."]))
        elif roll < 0.5:
            # yarl's spelling: sub-delimiters, ':' and '@' stay raw.
            segments.append(quote(random_text(rng, 1, 8), safe="!$&'()*+,;=:@"))
        else:
            segments.append(quote(random_text(rng, 1, 8), safe="-_.~"))
    return "/" + "/".join(segments) + rng.choice(["", "/"])


def random_query(rng: random.Random, *, unique_keys: bool = False) -> str:
    keys = ["prefix", "list-type", "a", random_text(rng, 1, 5)]
    parameters = []
    for _ in range(rng.randint(0, 5)):
        key = quote(rng.choice(keys) if not unique_keys else random_text(rng, 1, 6), safe="-_.~")
        roll = rng.random()
        if roll < 0.1:
            parameters.append(key)
        elif roll < 0.2:
            parameters.append(f"{key}=")
        else:
            parameters.append(f"{key}={quote(random_text(rng, 0, 8), safe='-_.~')}")
    if unique_keys:
        # Presigning through botocore parses the query into a dict.
        parameters = list({p.partition("=")[0]: p for p in parameters}.values())
    return "&".join(parameters)


def random_headers(rng: random.Random, host: str) -> list[tuple[str, str]]:
    headers = [("Host", host)]
    for _ in range(rng.randint(0, 5)):
        value = "".join(rng.choice("ab c\t") for _ in range(rng.randint(0, 10)))
        headers.append((rng.choice(HEADER_NAMES), value))
    if rng.random() < 0.3:
        headers.append((rng.choice(("User-Agent", "Expect", "X-Amzn-Trace-Id")), "unsigned"))
    return headers


def random_request(rng: random.Random) -> dict[str, Any]:
    service = rng.choice(SERVICES)
    host = f"{'bucket.' if service == 's3' else ''}{service}.{rng.choice(REGIONS)}.amazonaws.com"
    method = rng.choice(("GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"))
    body = rng.randbytes(rng.randint(0, 64)) if method in ("PUT", "POST", "PATCH") else b""
    return {
        "service": service,
        "region": rng.choice(REGIONS),
        "host": host,
        "method": method,
        "path": random_path(rng),
        "query": random_query(rng),
        "headers": random_headers(rng, host),
        "body": body,
        # Session tokens are base64: '/', '+' and '=' need encoding in a query.
        "token": rng.choice([None, "FQoGZXIvYXdzE//" + rng.randbytes(12).hex() + "+/=="]),
        "timestamp": rng.randint(1262304000, 1893456000),
    }


def botocore_request(case: dict[str, Any]) -> AWSRequest:
    url = f"https://{case['host']}{case['path']}" + (f"?{case['query']}" if case["query"] else "")
    request = AWSRequest(method=case["method"], url=url, data=case["body"])
    for name, value in case["headers"]:
        request.headers[name] = value  # appends: repeated headers stay repeated
    return request


def credentials_of(case: dict[str, Any]) -> Credentials:
    return Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", case["token"])


@pytest.mark.parametrize("seed", range(400))
def test_header_signature_equals_botocore(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    case = random_request(random.Random(seed))
    freeze_botocore(monkeypatch, case["timestamp"])
    request = botocore_request(case)
    auth_class = botocore_auth.S3SigV4Auth if case["service"] == "s3" else botocore_auth.SigV4Auth
    auth_class(credentials_of(case), case["service"], case["region"]).add_auth(request)

    signer = SigV4Signer(case["region"], case["service"])
    payload = hashlib.sha256(case["body"]).hexdigest() if case["body"] else EMPTY_SHA256
    added = signer.sign_headers(
        case["method"],
        case["path"],
        case["query"],
        case["headers"],
        access_key_id="AKIDEXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        session_token=case["token"],
        payload_hash=payload,
        timestamp=case["timestamp"],
    )
    for name, value in added:
        assert request.headers.get_all(name) == [value], name
    expected_names = {"authorization", "x-amz-date"}
    if case["token"]:
        expected_names.add("x-amz-security-token")
    if case["service"] == "s3":
        expected_names.add("x-amz-content-sha256")
    assert {name.lower() for name, _ in added} == expected_names


@pytest.mark.parametrize("seed", range(200))
def test_presigned_signature_equals_botocore(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(10_000 + seed)
    case = random_request(rng)
    case["query"] = random_query(rng, unique_keys=True)
    case["body"] = b""
    # Presigned URLs sign only what the user of the URL will send: the host,
    # and here sometimes one more header.
    case["headers"] = case["headers"][: rng.randint(1, 2)]
    expires = rng.randint(1, 604800)
    freeze_botocore(monkeypatch, case["timestamp"])
    request = botocore_request(case)
    auth_class = (
        botocore_auth.S3SigV4QueryAuth if case["service"] == "s3" else botocore_auth.SigV4QueryAuth
    )
    auth_class(credentials_of(case), case["service"], case["region"], expires=expires).add_auth(
        request
    )
    botocore_signature = dict(parse_qsl(urlsplit(request.url).query))["X-Amz-Signature"]

    query = SigV4Signer(case["region"], case["service"]).presign(
        case["method"],
        case["path"],
        case["query"],
        case["headers"],
        access_key_id="AKIDEXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        session_token=case["token"],
        timestamp=case["timestamp"],
        expires=expires,
    )
    assert query.rpartition("&X-Amz-Signature=")[2] == botocore_signature
    ours = dict(parse_qsl(query, keep_blank_values=True))
    theirs = dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))
    assert ours == theirs
