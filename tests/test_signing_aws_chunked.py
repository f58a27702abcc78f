"""Signed streaming uploads (aws-chunked) against the S3 documentation's example."""

from __future__ import annotations

import calendar
import json
import random
import time
from pathlib import Path
from typing import Any

import pytest

from aiohttp_auth.errors import ConfigurationError, SigningError
from aiohttp_auth.signing.aws_chunked import (
    DEFAULT_CHUNK_SIZE,
    MIN_CHUNK_SIZE,
    ChunkSigner,
    encoded_length,
    streaming_headers,
)
from aiohttp_auth.signing.canonical import canonical_request
from aiohttp_auth.signing.sigv4 import STREAMING_PAYLOAD, SigV4Signer
from aiohttp_auth.signing.sigv4_scheme import string_to_sign

EXAMPLE: dict[str, Any] = json.loads(
    (
        Path(__file__).parent / "vectors" / "aws-signing-test-suite" / "chunked_s3_example.json"
    ).read_text(encoding="utf-8")
)
DECODED_LENGTH = 66560
BODY = b"a" * DECODED_LENGTH  # the example's body: "66560 x 'a'"


def example_signing() -> tuple[list[tuple[str, str]], ChunkSigner]:
    signer = SigV4Signer(EXAMPLE["region"], EXAMPLE["service"])
    user_headers = [
        (name, value)
        for name, value in EXAMPLE["headers"]
        if name in ("host", "x-amz-storage-class")
    ]
    return signer.sign_streaming(
        EXAMPLE["method"],
        EXAMPLE["path"],
        "",
        user_headers,
        access_key_id=EXAMPLE["access_key"],
        secret_access_key=EXAMPLE["secret_key"],
        timestamp=calendar.timegm(time.strptime(EXAMPLE["x_amz_date"], "%Y%m%dT%H%M%SZ")),
        decoded_length=DECODED_LENGTH,
        chunk_size=EXAMPLE["chunk_sizes"][0],
    )


def expected_body() -> bytes:
    # The documented frame, filled with the example's chunk sizes and signatures.
    frames = []
    offset = 0
    for size, signature in zip(EXAMPLE["chunk_sizes"], EXAMPLE["chunk_signatures"], strict=True):
        data = BODY[offset : offset + size]
        offset += size
        frames.append(f"{size:x};chunk-signature={signature}\r\n".encode() + data + b"\r\n")
    return b"".join(frames)


def test_example_headers_canonical_request_and_seed_signature() -> None:
    added, chunk_signer = example_signing()
    user_headers = [(n, v) for n, v in EXAMPLE["headers"] if n in ("host", "x-amz-storage-class")]
    signed = [(name, value) for name, value in added if name != "Authorization"]
    assert sorted((name.lower(), value) for name, value in signed) == sorted(
        (name, value)
        for name, value in EXAMPLE["headers"]
        if name not in ("host", "x-amz-storage-class")
    )
    canonical, _ = canonical_request(
        EXAMPLE["method"],
        EXAMPLE["path"],
        "",
        user_headers + signed,
        STREAMING_PAYLOAD,
        normalize_path=False,
        double_encode=False,
    )
    assert canonical == EXAMPLE["canonical_request"]
    scope = f"{EXAMPLE['x_amz_date'][:8]}/us-east-1/s3/aws4_request"
    assert (
        string_to_sign("AWS4-HMAC-SHA256", EXAMPLE["x_amz_date"], scope, canonical)
        == (EXAMPLE["string_to_sign"])
    )
    assert dict(added)["Authorization"].endswith("Signature=" + EXAMPLE["seed_signature"])
    assert chunk_signer.signature == EXAMPLE["seed_signature"]


def test_example_body_is_framed_byte_for_byte() -> None:
    _, chunk_signer = example_signing()
    body = chunk_signer.feed(BODY) + chunk_signer.finish()
    assert body == expected_body()
    assert len(body) == encoded_length(DECODED_LENGTH, EXAMPLE["chunk_sizes"][0]) == 66824
    assert chunk_signer.content_length == 66824
    assert chunk_signer.signature == EXAMPLE["chunk_signatures"][-1]


@pytest.mark.parametrize("seed", range(5))
def test_body_pieces_of_any_size_give_the_same_frames(seed: int) -> None:
    rng = random.Random(seed)
    _, chunk_signer = example_signing()
    out = []
    offset = 0
    while offset < DECODED_LENGTH:
        size = rng.choice([0, 1, 7, 4096, 65535, 65536, 70000])
        out.append(chunk_signer.feed(BODY[offset : offset + size]))
        offset += size
    out.append(chunk_signer.finish())
    assert b"".join(out) == expected_body()


def test_chunk_sized_pieces_are_framed_as_they_come() -> None:
    _, chunk_signer = example_signing()
    first = chunk_signer.feed(BODY[:65536])
    assert first.startswith(f"10000;chunk-signature={EXAMPLE['chunk_signatures'][0]}\r\n".encode())
    assert chunk_signer.feed(BODY[65536:]) == b""  # 1024 bytes wait for finish()
    assert chunk_signer.finish().startswith(b"400;chunk-signature=")


def test_empty_body_is_only_the_final_chunk() -> None:
    signer = SigV4Signer("us-east-1", "s3")
    added, chunk_signer = signer.sign_streaming(
        "PUT",
        "/b/k",
        "",
        [("Host", "b.s3.amazonaws.com")],
        access_key_id="AKID",
        secret_access_key="secret",
        timestamp=0,
        decoded_length=0,
    )
    final = chunk_signer.finish()
    assert final.startswith(b"0;chunk-signature=")
    assert final.endswith(b"\r\n\r\n")
    assert len(final) == encoded_length(0) == int(dict(added)["Content-Length"]) == 86


@pytest.mark.parametrize("length", [0, 1, 8191, 8192, 8193, 65536, 65537, 200_000])
def test_encoded_length_is_the_length_sent(length: int) -> None:
    chunk_signer = ChunkSigner(
        signing_key=b"k" * 32,
        request_date="20130524T000000Z",
        scope="20130524/us-east-1/s3/aws4_request",
        seed_signature="0" * 64,
        decoded_length=length,
        chunk_size=MIN_CHUNK_SIZE,
    )
    body = chunk_signer.feed(b"x" * length) + chunk_signer.finish()
    assert len(body) == encoded_length(length, MIN_CHUNK_SIZE)


def test_streaming_headers_declare_both_lengths() -> None:
    assert streaming_headers([], 66560, 65536) == [
        ("Content-Encoding", "aws-chunked"),
        ("Content-Length", "66824"),
        ("X-Amz-Decoded-Content-Length", "66560"),
    ]


@pytest.mark.parametrize("chunk_size", [0, MIN_CHUNK_SIZE - 1])
def test_chunks_below_eight_kib_are_refused(chunk_size: int) -> None:
    with pytest.raises(ConfigurationError, match="8192"):
        encoded_length(100, chunk_size)


def test_negative_length_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="decoded_length"):
        encoded_length(-1)
    with pytest.raises(ConfigurationError, match="decoded_length"):
        make_signer(-1)


def make_signer(length: int) -> ChunkSigner:
    return ChunkSigner(
        signing_key=b"k" * 32,
        request_date="20130524T000000Z",
        scope="20130524/us-east-1/s3/aws4_request",
        seed_signature="0" * 64,
        decoded_length=length,
    )


def test_body_longer_than_declared_is_refused_and_ends_the_stream() -> None:
    chunk_signer = make_signer(10)
    with pytest.raises(SigningError, match="longer than its declared length of 10"):
        chunk_signer.feed(b"x" * 11)
    with pytest.raises(SigningError, match="already finished"):
        chunk_signer.feed(b"")


def test_body_shorter_than_declared_is_refused_at_the_end() -> None:
    chunk_signer = make_signer(10)
    chunk_signer.feed(b"x" * 9)
    with pytest.raises(SigningError, match="after 9 of its declared 10 bytes"):
        chunk_signer.finish()
    with pytest.raises(SigningError, match="already finished"):
        chunk_signer.finish()


def test_a_finished_signer_takes_no_more_data() -> None:
    chunk_signer = make_signer(0)
    chunk_signer.finish()
    with pytest.raises(SigningError, match="already finished"):
        chunk_signer.feed(b"x")


def test_repr_hides_the_signing_key() -> None:
    chunk_signer = make_signer(10)
    assert repr(chunk_signer) == (
        f"ChunkSigner(signing_key=<redacted 32 bytes>, decoded_length=10, "
        f"chunk_size={DEFAULT_CHUNK_SIZE}, received=0)"
    )


def test_sign_chunk_is_the_joined_frame_of_the_next_link():
    from aiohttp_auth.signing.aws_chunked import ChunkSigner

    def signer() -> ChunkSigner:
        return ChunkSigner(
            signing_key=b"k" * 32,
            request_date="20130524T000000Z",
            scope="20130524/us-east-1/s3/aws4_request",
            seed_signature="0" * 64,
            decoded_length=8192,
            chunk_size=8192,
        )

    one, two = signer(), signer()
    assert one.sign_chunk(b"a" * 8192) == two.feed(b"a" * 8192)
    assert one.signature == two.signature
