"""SigV4a (AWS4-ECDSA-P256-SHA256): key derivation and signing, against aws-c-auth's v4a suite.

ECDSA signatures are randomised, so the suite's signatures cannot be compared byte for
byte. What is compared instead: the derived public key with ``public-key.json``; the
canonical request and string to sign with the suite's files, byte for byte; the suite's
own signature verifies with the suite's public key over the suite's string to sign (so
the inputs are the right ones); and our signature verifies with our derived key.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from aiohttp_auth.errors import ConfigurationError, SigningError
from aiohttp_auth.signing.canonical import canonical_request
from aiohttp_auth.signing.sigv4_scheme import EMPTY_SHA256, UNSIGNED_PAYLOAD, string_to_sign
from aiohttp_auth.signing.sigv4a import AWS4A, SigV4aSigner
from aiohttp_auth.signing.sigv4a_key import (
    P256_ORDER,
    SigV4aKeyCache,
    derive_private_key,
    kdf_candidates,
    private_scalar,
)
from aiohttp_auth.signing.sigv4a_scheme import has_region_set, region_set_value

SUITE = Path(__file__).parent / "vectors" / "aws-signing-test-suite" / "v4a"
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def _public_numbers(case: Path) -> tuple[int, int]:
    document = json.loads((case / "public-key.json").read_text())
    return int(document["X"], 16), int(document["Y"], 16)


def _credentials(case: Path) -> dict[str, str]:
    credentials: dict[str, str] = json.loads((case / "context.json").read_text())["credentials"]
    return credentials


KEY_CASES = sorted(path for path in SUITE.iterdir() if (path / "public-key.json").exists())


# --- key derivation -------------------------------------------------------------------


@pytest.mark.parametrize("case", KEY_CASES, ids=lambda path: path.name)
def test_derived_public_key_matches_suite(case):
    credentials = _credentials(case)
    private_key = derive_private_key(
        credentials["access_key_id"], credentials["secret_access_key"]
    )
    numbers = private_key.public_key().public_numbers()
    assert isinstance(numbers.curve, ec.SECP256R1)
    assert (numbers.x, numbers.y) == _public_numbers(case)


def test_suite_has_key_cases():
    # The parametrisation above must not silently shrink to nothing.
    assert len(KEY_CASES) >= 38


def test_kdf_candidates_change_with_counter_and_inputs():
    first, second = itertools.islice(kdf_candidates(AKID, SECRET), 2)
    assert len(first) == len(second) == 32
    assert first != second
    other_key_id = next(kdf_candidates("AKIDOTHER", SECRET))
    other_secret = next(kdf_candidates(AKID, SECRET + "x"))
    assert len({first, other_key_id, other_secret}) == 3


def test_kdf_candidates_are_bounded_to_254():
    assert sum(1 for _ in kdf_candidates(AKID, SECRET)) == 254


def test_private_scalar_accepts_largest_candidate_n_minus_2():
    largest = (P256_ORDER - 2).to_bytes(32, "big")
    assert private_scalar([largest]) == P256_ORDER - 1


def test_private_scalar_rejects_candidate_n_minus_1_and_tries_next():
    too_large = (P256_ORDER - 1).to_bytes(32, "big")
    zero = bytes(32)
    assert private_scalar([too_large, zero]) == 1


def test_private_scalar_gives_up_when_every_candidate_is_out_of_range():
    with pytest.raises(SigningError, match="every KDF candidate"):
        private_scalar([b"\xff" * 32] * 254)


@pytest.mark.parametrize(("key_id", "secret"), [("", SECRET), (AKID, "")])
def test_derive_private_key_refuses_empty_credentials(key_id, secret):
    with pytest.raises(SigningError, match="is empty") as excinfo:
        derive_private_key(key_id, secret)
    assert SECRET not in str(excinfo.value)


# --- the per-signer key cache ---------------------------------------------------------


def test_key_cache_returns_the_same_key_without_deriving_again():
    cache = SigV4aKeyCache()
    first = cache.get(AKID, SECRET)
    assert cache.get(AKID, SECRET) is first
    assert len(cache) == 1


def test_key_cache_is_bounded_and_evicts_least_recently_used():
    cache = SigV4aKeyCache(maxsize=2)
    first = cache.get("AKID1", SECRET)
    cache.get("AKID2", SECRET)
    assert cache.get("AKID1", SECRET) is first  # AKID1 is now the most recent
    cache.get("AKID3", SECRET)  # evicts AKID2
    assert len(cache) == 2
    assert cache.get("AKID1", SECRET) is first
    # AKID2 was evicted: a new key object, equal in value to the first derivation.
    second_again = cache.get("AKID2", SECRET)
    assert len(cache) == 2
    assert second_again.private_numbers() == derive_private_key("AKID2", SECRET).private_numbers()


def test_key_cache_keys_by_secret_too():
    cache = SigV4aKeyCache()
    assert (
        cache.get(AKID, SECRET).private_numbers()
        != cache.get(AKID, SECRET[::-1]).private_numbers()
    )
    assert len(cache) == 2


@pytest.mark.parametrize("size", [0, -1, 1.5, True, "8"])
def test_key_cache_rejects_bad_size(size):
    with pytest.raises(ConfigurationError, match="positive integer"):
        SigV4aKeyCache(size)


def test_key_cache_repr_shows_size_not_secrets():
    cache = SigV4aKeyCache(maxsize=3)
    cache.get(AKID, SECRET)
    assert repr(cache) == "SigV4aKeyCache(maxsize=3, size=1)"


def test_key_cache_is_safe_across_threads():
    cache = SigV4aKeyCache(maxsize=2)
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            for round_ in range(20):
                cache.get(f"AKID{(index + round_) % 4}", SECRET)
        except BaseException as error:  # pragma: no cover - only on failure
            errors.append(error)

    threads = [threading.Thread(target=work, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert len(cache) == 2


# --- the signer against the suite ----------------------------------------------------


@dataclass(frozen=True)
class SuiteRequest:
    """One case of the suite: its request.txt parsed, and its context.json."""

    case: Path
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    context: dict[str, Any]

    @property
    def payload_hash(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @property
    def timestamp(self) -> float:
        moment = datetime.strptime(self.context["timestamp"], "%Y-%m-%dT%H:%M:%SZ")
        return moment.replace(tzinfo=timezone.utc).timestamp()

    def file(self, name: str) -> str:
        return (self.case / name).read_text(encoding="utf-8")


def _parse_request(case: Path) -> SuiteRequest:
    text = (case / "request.txt").read_text(encoding="utf-8")
    head, _, body = text.partition("\n\n")
    request_line, *lines = head.rstrip("\n").split("\n")
    # The suite's "wire" is raw: paths may hold spaces and UTF-8, which aws-c-auth encodes
    # once for the canonical request, as canonical_path's second encoding does.
    method, _, rest = request_line.partition(" ")
    target = rest.rpartition(" ")[0]
    path, _, query = target.partition("?")
    headers: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            # An obs-fold continuation line: RFC 9112 §5.2 lets a recipient replace it,
            # with the whitespace before it, by a space.
            name, value = headers.pop()
            headers.append((name, f"{value} {line}"))
        else:
            name, _, value = line.partition(":")
            headers.append((name, value))
    context = json.loads((case / "context.json").read_text())
    return SuiteRequest(case, method, path, query, headers, body.encode(), context)


SIGN_CASES = sorted(
    path for path in SUITE.iterdir() if (path / "header-canonical-request.txt").exists()
)


def _suite_signer(request: SuiteRequest) -> SigV4aSigner:
    return SigV4aSigner(
        request.context["region"],
        request.context["service"],
        normalize_path=request.context["normalize"],
        omit_session_token=request.context.get("omit_session_token", False),
    )


def _suite_public_key(case: Path) -> ec.EllipticCurvePublicKey:
    x, y = _public_numbers(case)
    return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()


def _verify(public_key: ec.EllipticCurvePublicKey, signature_hex: str, text: str) -> None:
    public_key.verify(bytes.fromhex(signature_hex), text.encode(), ec.ECDSA(hashes.SHA256()))


def _credential_parts(credential: str) -> tuple[str, str]:
    # "AKIDEXAMPLE/20150830/service/aws4_request" -> (key id, scope)
    access_key_id, _, scope = credential.partition("/")
    return access_key_id, scope


def _parse_authorization(value: str) -> dict[str, str]:
    scheme, _, parameters = value.partition(" ")
    assert scheme == AWS4A.algorithm
    return dict(part.split("=", 1) for part in parameters.split(", "))


def _server_view_of_headers(
    request: SuiteRequest, returned: list[tuple[str, str]], *, double_encode: bool = True
) -> tuple[str, str, str]:
    """Rebuild, as a verifying server would, the canonical request and string to sign.

    Returns ``(canonical request, string to sign, signature hex)``.
    """
    sent_names = {name.lower() for name, _ in returned}
    sent = [(n, v) for n, v in request.headers if n.lower() not in sent_names]
    sent += [(n, v) for n, v in returned if n != "Authorization"]
    authorization = _parse_authorization(dict(returned)["Authorization"])
    signed = authorization["SignedHeaders"]
    unsigned = {name.lower() for name, _ in sent} - set(signed.split(";"))
    canonical, signed_again = canonical_request(
        request.method,
        request.path,
        request.query,
        sent,
        {n.lower(): v for n, v in sent}.get("x-amz-content-sha256", request.payload_hash),
        normalize_path=request.context.get("normalize", True),
        double_encode=double_encode,
        unsigned_headers=unsigned,
    )
    assert signed_again == signed
    date = {n.lower(): v for n, v in returned}["x-amz-date"]
    _, scope = _credential_parts(authorization["Credential"])
    text = string_to_sign(AWS4A.algorithm, date, scope, canonical)
    return canonical, text, authorization["Signature"]


def _split_signature(query: str) -> tuple[str, str]:
    unsigned, _, signature = query.rpartition("&X-Amz-Signature=")
    return unsigned, signature


def _server_view_of_query(
    request: SuiteRequest, query: str, *, payload_hash: str, double_encode: bool = True
) -> tuple[str, str, str]:
    """Rebuild, as a verifying server would, the canonical request of a presigned URL."""
    unsigned_query, signature = _split_signature(query)
    parameters = {
        unquote(name): unquote(value)
        for name, _, value in (part.partition("=") for part in unsigned_query.split("&"))
    }
    signed = parameters["X-Amz-SignedHeaders"]
    if request.context.get("omit_session_token"):
        # The token was appended after signing: the server leaves it out too.
        unsigned_query = "&".join(
            part
            for part in unsigned_query.split("&")
            if not part.startswith("X-Amz-Security-Token=")
        )
    unsigned = {name.lower() for name, _ in request.headers} - set(signed.split(";"))
    canonical, _ = canonical_request(
        request.method,
        request.path,
        unsigned_query,
        request.headers,
        payload_hash,
        normalize_path=request.context.get("normalize", True),
        double_encode=double_encode,
        unsigned_headers=unsigned,
    )
    _, scope = _credential_parts(parameters["X-Amz-Credential"])
    text = string_to_sign(AWS4A.algorithm, parameters["X-Amz-Date"], scope, canonical)
    return canonical, text, signature


def _sign_suite_headers(request: SuiteRequest) -> list[tuple[str, str]]:
    credentials = request.context["credentials"]
    return _suite_signer(request).sign_headers(
        request.method,
        request.path,
        request.query,
        request.headers,
        access_key_id=credentials["access_key_id"],
        secret_access_key=credentials["secret_access_key"],
        session_token=credentials.get("token"),
        payload_hash=request.payload_hash,
        timestamp=request.timestamp,
        content_sha256_header=request.context["sign_body"],
    )


def _presign_suite(request: SuiteRequest) -> str:
    credentials = request.context["credentials"]
    return _suite_signer(request).presign(
        request.method,
        request.path,
        request.query,
        request.headers,
        access_key_id=credentials["access_key_id"],
        secret_access_key=credentials["secret_access_key"],
        session_token=credentials.get("token"),
        timestamp=request.timestamp,
        expires=request.context["expiration_in_seconds"],
        payload_hash=request.payload_hash,
    )


def test_suite_has_signing_cases():
    assert len(SIGN_CASES) >= 38


@pytest.mark.parametrize("case", SIGN_CASES, ids=lambda path: path.name)
def test_suite_signatures_verify_over_suite_strings_to_sign(case):
    # Proves the suite's files belong together: its strings to sign are what its
    # signatures (in *-signature.txt and in the signed requests) were made over.
    request = _parse_request(case)
    public_key = _suite_public_key(case)
    for variant in ("header", "query"):
        text = request.file(f"{variant}-string-to-sign.txt")
        _verify(public_key, request.file(f"{variant}-signature.txt").strip(), text)
        digest = hashlib.sha256(request.file(f"{variant}-canonical-request.txt").encode())
        assert text.rsplit("\n", 1)[1] == digest.hexdigest()
    signed_header_request = request.file("header-signed-request.txt")
    _verify(
        public_key,
        signed_header_request.split("Signature=", 1)[1].split("\n", 1)[0],
        request.file("header-string-to-sign.txt"),
    )
    target = request.file("query-signed-request.txt").split("\n", 1)[0].split(" ")[-2]
    _verify(public_key, _split_signature(target)[1], request.file("query-string-to-sign.txt"))


@pytest.mark.parametrize("case", SIGN_CASES, ids=lambda path: path.name)
def test_sign_headers_matches_suite(case):
    request = _parse_request(case)
    returned = _sign_suite_headers(request)
    canonical, text, signature = _server_view_of_headers(request, returned)
    assert canonical == request.file("header-canonical-request.txt")
    assert text == request.file("header-string-to-sign.txt")
    # Our randomised signature verifies with AWS's public key over the suite's string
    # to sign: so the string we signed was that one, byte for byte.
    _verify(_suite_public_key(case), signature, request.file("header-string-to-sign.txt"))


@pytest.mark.parametrize("case", SIGN_CASES, ids=lambda path: path.name)
def test_sign_headers_sends_the_suite_headers(case):
    request = _parse_request(case)
    returned = _sign_suite_headers(request)
    request_lines = set(request.file("request.txt").split("\n"))
    expected = [
        line
        for line in request.file("header-signed-request.txt").split("\n\n", 1)[0].split("\n")[1:]
        if line not in request_lines and line[:1] not in (" ", "\t")
    ]
    without_signature = [line.rsplit(", Signature=", 1)[0] for line in expected]
    ours = [f"{name}:{value}".rsplit(", Signature=", 1)[0] for name, value in returned]
    assert sorted(line.lower() for line in ours) == sorted(
        line.lower() for line in without_signature
    )


@pytest.mark.parametrize("case", SIGN_CASES, ids=lambda path: path.name)
def test_presign_matches_suite(case):
    request = _parse_request(case)
    query = _presign_suite(request)
    canonical, text, signature = _server_view_of_query(
        request, query, payload_hash=request.payload_hash
    )
    assert canonical == request.file("query-canonical-request.txt")
    assert text == request.file("query-string-to-sign.txt")
    _verify(_suite_public_key(case), signature, request.file("query-string-to-sign.txt"))
    # The URL itself: the suite's, parameter for parameter and in the same order.
    suite_target = request.file("query-signed-request.txt").split("\n", 1)[0]
    suite_query = suite_target.split(" ")[-2].partition("?")[2]
    assert _split_signature(query)[0] == _split_signature(suite_query)[0]


@pytest.mark.parametrize("case", SIGN_CASES, ids=lambda path: path.name)
def test_signer_derives_the_suite_public_key(case):
    request = _parse_request(case)
    credentials = request.context["credentials"]
    private_key = _suite_signer(request).private_key(
        credentials["access_key_id"], credentials["secret_access_key"]
    )
    numbers = private_key.public_key().public_numbers()
    assert (numbers.x, numbers.y) == _public_numbers(case)


# --- the signer beyond the suite -----------------------------------------------------

NOW = 1440938160.0  # 2015-08-30T12:36:00Z, the suite's time
HOST = ("Host", "mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com")


def _request(method="GET", path="/", query="", headers=(HOST,), body=b"", *, normalize=True):
    return SuiteRequest(SUITE, method, path, query, list(headers), body, {"normalize": normalize})


def _derived_public_key(access_key_id=AKID, secret=SECRET) -> ec.EllipticCurvePublicKey:
    return derive_private_key(access_key_id, secret).public_key()


def test_region_set_of_several_regions_is_signed_in_header():
    signer = SigV4aSigner(["us-east-1", "us-west-2"], "service")
    request = _request(query="list-type=2")
    returned = signer.sign_headers(
        "GET",
        "/",
        "list-type=2",
        request.headers,
        access_key_id=AKID,
        secret_access_key=SECRET,
        payload_hash=request.payload_hash,
        timestamp=NOW,
    )
    assert ("X-Amz-Region-Set", "us-east-1,us-west-2") in returned
    canonical, text, signature = _server_view_of_headers(request, returned)
    assert "\nx-amz-region-set:us-east-1,us-west-2\n" in canonical
    _verify(_derived_public_key(), signature, text)


def test_region_set_of_several_regions_is_encoded_in_presigned_query():
    signer = SigV4aSigner("us-east-1, us-west-2", "service")
    request = _request()
    query = signer.presign(
        "GET",
        "/",
        "",
        request.headers,
        access_key_id=AKID,
        secret_access_key=SECRET,
        timestamp=NOW,
        expires=60,
    )
    assert "&X-Amz-Region-Set=us-east-1%2Cus-west-2&X-Amz-Signature=" in query
    _, text, signature = _server_view_of_query(request, query, payload_hash=EMPTY_SHA256)
    _verify(_derived_public_key(), signature, text)


def test_s3_signs_wire_path_and_content_sha256_header_by_default():
    signer = SigV4aSigner("*", "s3")
    assert signer.s3
    assert not signer.normalize_path
    request = _request("PUT", "/photos/my%20cat/../a.jpg", body=b"meow", normalize=False)
    returned = signer.sign_headers(
        request.method,
        request.path,
        "",
        request.headers,
        access_key_id=AKID,
        secret_access_key=SECRET,
        payload_hash=request.payload_hash,
        timestamp=NOW,
    )
    assert ("X-Amz-Content-SHA256", request.payload_hash) in returned
    canonical, text, signature = _server_view_of_headers(request, returned, double_encode=False)
    assert canonical.split("\n")[1] == "/photos/my%20cat/../a.jpg"
    assert "x-amz-content-sha256" in _parse_authorization(dict(returned)["Authorization"])[
        "SignedHeaders"
    ].split(";")
    _verify(_derived_public_key(), signature, text)


def test_s3_presign_defaults_to_unsigned_payload():
    signer = SigV4aSigner("*", "s3")
    request = _request(path="/key")
    query = signer.presign(
        "GET",
        "/key",
        "",
        request.headers,
        access_key_id=AKID,
        secret_access_key=SECRET,
        timestamp=NOW,
        expires=604800,
    )
    assert "X-Amz-Region-Set=%2A" in query
    canonical, text, signature = _server_view_of_query(
        request, query, payload_hash=UNSIGNED_PAYLOAD, double_encode=False
    )
    assert canonical.endswith("\nUNSIGNED-PAYLOAD")
    _verify(_derived_public_key(), signature, text)


def test_presign_keeps_caller_query_first_and_encodes_session_token():
    signer = SigV4aSigner("us-east-1", "service")
    request = _request(query="a=1&b=%20")
    query = signer.presign(
        "GET",
        "/",
        request.query,
        request.headers,
        access_key_id=AKID,
        secret_access_key=SECRET,
        session_token="tok/+=",
        timestamp=NOW,
        expires=3600,
    )
    assert query.startswith("a=1&b=%20&X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&")
    assert "&X-Amz-Security-Token=tok%2F%2B%3D&X-Amz-Region-Set=us-east-1&" in query
    _, text, signature = _server_view_of_query(request, query, payload_hash=EMPTY_SHA256)
    _verify(_derived_public_key(), signature, text)


def test_sign_headers_replaces_caller_copies_of_its_own_headers():
    signer = SigV4aSigner("us-east-1", "service")
    stale = [
        HOST,
        ("X-Amz-Date", "20000101T000000Z"),
        ("x-amz-region-set", "eu-west-1"),
        ("X-Amz-Security-Token", "old"),
        ("Authorization", "AWS4-ECDSA-P256-SHA256 old"),
    ]
    returned = signer.sign_headers(
        "GET",
        "/",
        "",
        stale,
        access_key_id=AKID,
        secret_access_key=SECRET,
        session_token="new",
        payload_hash=EMPTY_SHA256,
        timestamp=NOW,
    )
    request = _request(headers=stale)
    canonical, text, signature = _server_view_of_headers(request, returned)
    assert "20000101T000000Z" not in canonical
    assert "eu-west-1" not in canonical
    assert "x-amz-security-token:new\n" in canonical
    _verify(_derived_public_key(), signature, text)


def test_signatures_are_randomised_and_each_verifies():
    signer = SigV4aSigner("us-east-1", "service")
    signatures = set()
    for _ in range(3):
        returned = signer.sign_headers(
            "GET",
            "/",
            "",
            [HOST],
            access_key_id=AKID,
            secret_access_key=SECRET,
            payload_hash=EMPTY_SHA256,
            timestamp=NOW,
        )
        _, text, signature = _server_view_of_headers(_request(), returned)
        _verify(_derived_public_key(), signature, text)
        signatures.add(signature)
    assert len(signatures) == 3


def test_signer_caches_keys_per_instance_and_bounds_the_cache():
    signer = SigV4aSigner("us-east-1", "service", key_cache_size=1)
    first = signer.private_key(AKID, SECRET)
    assert signer.private_key(AKID, SECRET) is first
    assert SigV4aSigner("us-east-1", "service").private_key(AKID, SECRET) is not first
    signer.private_key("AKIDOTHER", SECRET)  # evicts AKID's key: the cache holds one
    again = signer.private_key(AKID, SECRET)
    assert again is not first
    assert again.private_numbers() == first.private_numbers()


def test_signer_repr_shows_region_set_and_service_not_secrets():
    signer = SigV4aSigner(["us-east-1", "us-west-2"], "s3")
    signer.sign_headers(
        "GET",
        "/",
        "",
        [HOST],
        access_key_id=AKID,
        secret_access_key=SECRET,
        session_token="token-secret",
        payload_hash=EMPTY_SHA256,
        timestamp=NOW,
    )
    text = repr(signer)
    assert text == (
        "SigV4aSigner(region_set='us-east-1,us-west-2', service='s3', "
        "scheme=AWS4-ECDSA-P256-SHA256)"
    )
    assert SECRET not in text
    assert "token-secret" not in text


@pytest.mark.parametrize(
    "region_set",
    ["", ",", [], ["us-east-1", ""], "us east-1", "us-east-1/a", ["a,b"], 5, b"us-east-1", "é"],
)
def test_signer_rejects_bad_region_set(region_set):
    with pytest.raises(ConfigurationError, match="region"):
        SigV4aSigner(region_set, "service")


@pytest.mark.parametrize("service", ["", None, "s 3", "s3/x"])
def test_signer_rejects_bad_service(service):
    with pytest.raises(ConfigurationError, match="service"):
        SigV4aSigner("us-east-1", service)


def test_signer_rejects_bad_key_cache_size():
    with pytest.raises(ConfigurationError, match="cache size"):
        SigV4aSigner("us-east-1", "service", key_cache_size=0)


def test_region_set_value_joins_and_strips():
    assert region_set_value(" us-east-1 ,us-west-2") == "us-east-1,us-west-2"
    assert region_set_value(("*",)) == "*"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", False),
        ("a=1", False),
        ("x-amz-region-set=us-east-1", True),
        ("a=1&X-Amz-Region-Set", True),
        ("my-region-set=1&xx-amz-region-set=2", False),
    ],
)
def test_has_region_set_finds_only_the_parameter(query, expected):
    assert has_region_set(query) is expected


def _sign(signer: SigV4aSigner, headers, **overrides):
    arguments: dict[str, Any] = {
        "access_key_id": AKID,
        "secret_access_key": SECRET,
        "payload_hash": EMPTY_SHA256,
        "timestamp": NOW,
    }
    arguments.update(overrides)
    return signer.sign_headers("GET", "/", "", headers, **arguments)


def _presign(signer: SigV4aSigner, query="", headers=(HOST,), **overrides):
    arguments: dict[str, Any] = {
        "access_key_id": AKID,
        "secret_access_key": SECRET,
        "timestamp": NOW,
        "expires": 3600,
    }
    arguments.update(overrides)
    return signer.presign("GET", "/", query, list(headers), **arguments)


def test_sign_headers_without_host_is_refused():
    with pytest.raises(SigningError, match="Host"):
        _sign(SigV4aSigner("us-east-1", "service"), [("Accept", "*/*")])


def test_presign_without_host_is_refused():
    with pytest.raises(SigningError, match="Host"):
        _presign(SigV4aSigner("us-east-1", "service"), headers=[])


def test_sign_headers_refuses_non_ascii_header_value():
    with pytest.raises(SigningError, match="X-Name"):
        _sign(SigV4aSigner("us-east-1", "service"), [HOST, ("X-Name", "café")])


@pytest.mark.parametrize(("key_id", "secret"), [("", SECRET), (AKID, "")])
def test_sign_headers_refuses_empty_credentials_without_leaking(key_id, secret):
    with pytest.raises(SigningError, match="is empty") as excinfo:
        _sign(
            SigV4aSigner("us-east-1", "service"),
            [HOST],
            access_key_id=key_id,
            secret_access_key=secret,
        )
    assert SECRET not in str(excinfo.value)


@pytest.mark.parametrize("expires", [0, -1, 604801, 1.5, True])
def test_presign_refuses_expiry_outside_seven_days(expires):
    with pytest.raises(SigningError, match="expires"):
        _presign(SigV4aSigner("us-east-1", "service"), expires=expires)


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("a=1&X-Amz-Signature=abc", "x-amz-signature"),
        ("X-Amz-Region-Set=us-east-1", "X-Amz-Region-Set"),
    ],
)
def test_presign_refuses_already_presigned_query(query, name):
    with pytest.raises(SigningError, match=name):
        _presign(SigV4aSigner("us-east-1", "service"), query=query)


def test_request_date_follows_the_clock():
    signer = SigV4aSigner("us-east-1", "service")
    first = dict(_sign(signer, [HOST]))
    same_second = dict(_sign(signer, [HOST], timestamp=NOW + 0.9))
    next_day = dict(_sign(signer, [HOST], timestamp=NOW + 86400))
    assert first["X-Amz-Date"] == same_second["X-Amz-Date"] == "20150830T123600Z"
    assert next_day["X-Amz-Date"] == "20150831T123600Z"
    assert "Credential=AKIDEXAMPLE/20150831/service/aws4_request," in next_day["Authorization"]
