"""Shared Key signatures against azure-storage-blob's own policy, and fuzzing.

azure-storage-blob's ``SharedKeyCredentialPolicy`` is Microsoft's Python
implementation of "Authorize with Shared Key". Seeded random requests are
signed by both, with the same ``x-ms-date``, and the ``Authorization`` headers
must be equal. The generator stays inside what the policy itself handles as
the service does (its known gaps are documented where they are excluded):

- it never trims header values (the service does: azure-storage-python#628),
  so generated values have no surrounding whitespace;
- it signs ``Range`` as empty (it only sends ``x-ms-range``), so no ``Range``;
- it keeps one value per query name and does not decode ``+``, so names are
  not repeated and values are percent-encoded with ``%20``;
- it picks ``x-ms-*`` headers by a case-sensitive prefix, so names go to it
  in lower case.
"""

from __future__ import annotations

import base64
import random
import string
from urllib.parse import quote

import pytest
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.pipeline.transport import HttpRequest
from azure.storage.blob._shared.authentication import (
    SharedKeyCredentialPolicy,
    _storage_header_sort,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from aiohttp_auth.errors import SigningError
from aiohttp_auth.signing.azure import SharedKeySigner
from aiohttp_auth.signing.azure_canonical import header_sort_key

ACCOUNT = "myaccount"
KEY = base64.b64encode(bytes(range(64))).decode()
SEEDS = range(300)

_QUERY_NAMES = [
    "restype", "comp", "timeout", "prefix", "marker", "maxresults", "include",
    "blockid", "snapshot", "versionid", "delimiter", "popreceipt", "x_custom",
]  # fmt: skip
_STANDARD = [
    "content-encoding", "content-language", "content-length", "content-md5",
    "content-type", "date", "if-modified-since", "if-match", "if-none-match",
    "if-unmodified-since",
]  # fmt: skip
_NAME_CHARS = string.ascii_lowercase + string.digits + "-_.!#$%&'*+^`|~"
_VALUE_CHARS = string.ascii_letters + string.digits + " \t-_.:;,=/\"'()[]{}<>?@!#$%&*+^`|~"
_TEXT = string.ascii_letters + string.digits + " +/&=?#%é中-_.~"


def _sdk_authorization(method: str, url: str, headers: list[tuple[str, str]]) -> str:
    request = HttpRequest(method, url, headers=dict(headers))
    SharedKeyCredentialPolicy(ACCOUNT, KEY).on_request(
        PipelineRequest(request, PipelineContext(None))
    )
    return str(request.headers["Authorization"])


def _value(rng: random.Random) -> str:
    inner = "".join(rng.choice(_VALUE_CHARS) for _ in range(rng.randint(0, 12)))
    return inner.strip(" \t")


def _random_request(rng: random.Random) -> tuple[str, str, str, list[tuple[str, str]]]:
    method = rng.choice(["GET", "PUT", "POST", "DELETE", "HEAD", "MERGE", "OPTIONS"])
    segments = ["".join(rng.choice(_TEXT) for _ in range(rng.randint(1, 8)))]
    segments += ["".join(rng.choice(_TEXT) for _ in range(rng.randint(0, 8)))][: rng.randint(0, 1)]
    path = "/" + "/".join(quote(segment, safe="") for segment in segments)
    names = rng.sample(_QUERY_NAMES, rng.randint(0, 5))
    query = "&".join(
        f"{name}={quote(''.join(rng.choice(_TEXT) for _ in range(rng.randint(0, 6))), safe='')}"
        for name in names
    )
    headers = [(name, _value(rng)) for name in rng.sample(_STANDARD, rng.randint(0, 6))]
    headers += [("content-length", str(rng.choice([0, 1, 11, 1 << 20])))][: rng.randint(0, 1)]
    headers = list(dict(headers).items())  # one value per name, as on the wire
    for _ in range(rng.randint(0, 6)):
        name = "x-ms-" + "".join(rng.choice(_NAME_CHARS) for _ in range(rng.randint(1, 10)))
        if name not in dict(headers):
            headers.append((name, _value(rng)))
    rng.shuffle(headers)
    return method, path, query, headers


@pytest.mark.parametrize("seed", SEEDS)
def test_authorization_matches_azure_storage_blob(seed: int) -> None:
    rng = random.Random(seed)
    method, path, query, headers = _random_request(rng)
    signer = SharedKeySigner(ACCOUNT, KEY, version=rng.choice(["2021-08-06", "2025-11-05"]))
    added = signer.sign(method, path, query, headers, timestamp=rng.uniform(0, 4e9))
    sent = headers + added[:-1]
    url = f"https://{ACCOUNT}.blob.core.windows.net{path}" + (f"?{query}" if query else "")
    assert added[-1] == ("Authorization", _sdk_authorization(method, url, sent))


_HEADER_NAMES = st.text(alphabet=_NAME_CHARS, min_size=0, max_size=6).map(lambda n: "x-ms-" + n)


@settings(max_examples=300, deadline=None)
@given(st.lists(_HEADER_NAMES, min_size=2, max_size=8, unique=True))
def test_x_ms_names_sort_as_azure_storage_blob_emulates_the_service(names: list[str]) -> None:
    sdk_order = [name for name, _ in _storage_header_sort([(name, "") for name in names])]
    assert sorted(names, key=header_sort_key) == sdk_order


_ANY_TEXT = st.text(max_size=24)
_HEADER = st.tuples(
    st.one_of(st.sampled_from(["x-ms-meta-a", "Content-Type", "Range", "X-MS-Date"]), _ANY_TEXT),
    _ANY_TEXT,
)


@settings(max_examples=400, deadline=None)
@given(
    method=st.one_of(st.sampled_from(["GET", "PUT"]), _ANY_TEXT),
    path=st.one_of(st.just("/c/b%20x"), _ANY_TEXT),
    query=st.one_of(st.just("comp=list&prefix=a+b"), _ANY_TEXT),
    headers=st.lists(_HEADER, max_size=6),
    service=st.sampled_from(["blob", "queue", "file", "table"]),
)
def test_any_request_gets_a_signature_or_a_signing_error(
    method: str, path: str, query: str, headers: list[tuple[str, str]], service: str
) -> None:
    signer = SharedKeySigner(ACCOUNT, KEY, service=service)  # type: ignore[arg-type]
    try:
        added = signer.sign(method, path, query, headers, timestamp=1_700_000_000)
    except SigningError as error:
        message = str(error)
    else:
        assert added[-1][0] == "Authorization"
        assert added[-1][1].startswith(f"SharedKey {ACCOUNT}:")
        return
    assert KEY not in message
