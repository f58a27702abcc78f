"""The cost of signing one request: ours against botocore and http-message-signatures.

Three comparisons, each the issue's target, all in one run (no network, no event
loop; each call is what a client pays per request once its signer is built):

* **SigV4, GET with 3 headers and 4 query parameters**: our
  ``SigV4Signer.sign_headers`` against botocore's ``SigV4Auth.add_auth`` on an
  ``AWSRequest`` (a fresh request per call, as botocore signs each request
  once). Target: ours at least 3x faster.
* **SigV4, 1 MiB body**: hashing the body and signing, against ``sha256(body)``
  alone. Target: within 1.15x.
* **RFC 9421, ed25519 over @method @authority @path content-digest**: our
  ``HTTPSigner.sign`` (with the RFC 9530 Content-Digest of a small body) against
  http-message-signatures' ``HTTPMessageSigner.sign`` on a ``requests``
  prepared request with the same Content-Digest. Target: ours at least 5x faster.
  The raw ed25519 signature alone is reported as the floor.

Before timing, each output is checked: our SigV4 signature equals botocore's for
the same request and time, and each RFC 9421 signature verifies with the other
library. Blocks of calls are interleaved over the variants, in an order rotated
each repeat; the median microseconds per call is reported, with the ratio.

Usage: ``python benchmarks/signing.py [--calls 5000] [--repeats 15] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from charts import pyplot
from harness import rotated

from aiohttp_auth.signing.sigv4 import SigV4Signer

KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NOW = 1_440_938_160.0
HOST = "example.amazonaws.com"
PATH = "/things/42"
QUERY = "Action=ListThings&Version=2026-01-01&MaxResults=50&NextToken=abc"
HEADERS = [
    ("Host", HOST),
    ("Content-Type", "application/json"),
    ("X-Amz-Target", "Things.List"),
    ("Accept", "application/json"),
]
MIB = bytes(range(256)) * 4096
#: The 1 MiB upload both SigV4 body variants sign: method, path, query, headers.
PUT_MIB = (
    "PUT",
    "/bucket/key",
    "",
    [("Host", HOST), ("Content-Type", "application/octet-stream")],
)
KEYS = {"access_key_id": KEY_ID, "secret_access_key": SECRET}


def _botocore_get() -> Callable[[], Any]:
    credentials = Credentials(KEY_ID, SECRET)
    auth = SigV4Auth(credentials, "service", "us-east-1")
    fixed = datetime.fromtimestamp(NOW, timezone.utc).replace(tzinfo=None)
    url = f"https://{HOST}{PATH}?{QUERY}"
    headers = dict(HEADERS[1:])
    patcher = mock.patch("botocore.auth.get_current_datetime", return_value=fixed)
    patcher.start()

    def sign() -> Any:
        request = AWSRequest(method="GET", url=url, headers=headers)
        auth.add_auth(request)
        return request

    return sign


def _ours_get() -> Callable[[], Any]:
    signer = SigV4Signer("us-east-1", "service")

    def sign() -> Any:
        return signer.sign_headers(
            "GET",
            PATH,
            QUERY,
            HEADERS,
            access_key_id=KEY_ID,
            secret_access_key=SECRET,
            payload_hash="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            timestamp=NOW,
        )

    return sign


def _check_sigv4() -> None:
    ours = dict(_ours_get()())["Authorization"].split("Signature=")[1]
    request = _botocore_get()()
    theirs = request.headers["Authorization"].split("Signature=")[1]
    if ours != theirs:
        raise SystemExit(f"SigV4 signatures differ: ours {ours}, botocore {theirs}")


def _ours_mib() -> Callable[[], Any]:
    signer = SigV4Signer("us-east-1", "s3")

    def sign() -> Any:
        return signer.sign_headers(
            *PUT_MIB, **KEYS, payload_hash=hashlib.sha256(MIB).hexdigest(), timestamp=NOW
        )

    return sign


def _ours_mib_chunked() -> Callable[[], Any]:
    """An aws-chunked upload of 1 MiB fed in 64 KiB pieces: headers, then every frame."""
    signer = SigV4Signer("us-east-1", "s3")
    pieces = [MIB[start : start + 65536] for start in range(0, len(MIB), 65536)]

    def sign() -> Any:
        _, chunks = signer.sign_streaming(*PUT_MIB, **KEYS, timestamp=NOW, decoded_length=len(MIB))
        frames = [chunks.feed_parts(piece) for piece in pieces]
        frames.append(chunks.finish_parts())
        return frames

    return sign


def _sha256_mib() -> Callable[[], Any]:
    return lambda: hashlib.sha256(MIB).hexdigest()


def _measure(variants: dict[str, Callable[[], Any]], calls: int, repeats: int) -> dict[str, float]:
    """Median microseconds per call of each variant, blocks interleaved and rotated."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for repeat in range(repeats):
        for name in rotated(names, repeat):
            call = variants[name]
            gc.collect()
            gc.disable()
            start = time.perf_counter_ns()
            for _ in range(calls):
                call()
            elapsed = time.perf_counter_ns() - start
            gc.enable()
            samples[name].append(elapsed / calls / 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def _report(title: str, results: dict[str, float], ours: str, theirs: str, target: str) -> float:
    print(f"\n{title}")
    for name, micros in results.items():
        print(f"  {name:<46} {micros:9.2f} us")
    ratio = results[theirs] / results[ours]
    print(f"  {theirs} / {ours}: {ratio:.2f}  (target {target})")
    return ratio


def main() -> None:
    """Run the three comparisons and print (and optionally save) the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--plot", help="draw the per-call times to this PNG file")
    args = parser.parse_args()

    _check_sigv4()
    summary: dict[str, Any] = {}
    get = _measure(
        {"aiohttp_auth SigV4Signer": _ours_get(), "botocore SigV4Auth": _botocore_get()},
        args.calls,
        args.repeats,
    )
    summary["sigv4_get"] = get | {
        "ratio": _report(
            "SigV4, GET with 3 headers and 4 query parameters",
            get,
            "aiohttp_auth SigV4Signer",
            "botocore SigV4Auth",
            ">= 3",
        )
    }
    mib = _measure(
        {
            "hash + sign 1 MiB": _ours_mib(),
            "aws-chunked 1 MiB (64 KiB chunks)": _ours_mib_chunked(),
            "sha256(1 MiB) alone": _sha256_mib(),
        },
        max(20, args.calls // 200),
        args.repeats,
    )
    ratio = mib["hash + sign 1 MiB"] / mib["sha256(1 MiB) alone"]
    print("\nSigV4, 1 MiB body")
    for name, micros in mib.items():
        print(f"  {name:<46} {micros:9.2f} us")
    chunked = mib["aws-chunked 1 MiB (64 KiB chunks)"] / mib["sha256(1 MiB) alone"]
    print(f"  hash + sign / sha256 alone: {ratio:.3f}  (target <= 1.15)")
    print(f"  aws-chunked / sha256 alone: {chunked:.3f}")
    summary["sigv4_mib"] = mib | {"ratio": ratio, "chunked_ratio": chunked}
    try:
        from httpsig_bench import compare_httpsig
    except ImportError as exc:  # pragma: no cover - optional libraries
        print(f"\nRFC 9421: skipped ({exc})")
    else:
        summary["httpsig"] = compare_httpsig(_measure, _report, args.calls, args.repeats)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(summary, out, indent=2)
    if args.plot:
        _plot(summary, args.plot)


def _plot(summary: dict[str, Any], path: str) -> None:
    """One panel per comparison: microseconds per call, ours first, the ratio in the title."""
    plt = pyplot()  # matplotlib only when a chart is asked for
    panels = [(key, value) for key, value in summary.items() if isinstance(value, dict)]
    figure, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6))
    titles = {
        "sigv4_get": "SigV4 GET (target >= 3x)",
        "sigv4_mib": "SigV4, 1 MiB body (target <= 1.15x)",
        "httpsig": "RFC 9421 ed25519 (target >= 5x)",
    }
    for axis, (key, results) in zip(axes, panels, strict=True):
        names = [name for name in results if name not in ("ratio", "chunked_ratio")]
        values = [results[name] for name in names]
        axis.barh(names, values, color=["#2b6cb0"] + ["#a0aec0"] * (len(names) - 1))
        axis.invert_yaxis()
        axis.set_xlabel("microseconds per call (median)")
        axis.set_title(f"{titles.get(key, key)}: {results['ratio']:.2f}x", fontsize=10)
        axis.tick_params(axis="y", labelsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
