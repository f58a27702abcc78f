"""Client instructions per warm Digest request, counted by callgrind rather than timed.

Wall-clock timings on a shared 2-CPU machine move by several per cent from run
to run; the instructions the client executes do not. This driver sends N
sequential requests through a real ``aiohttp.ClientSession`` (keep-alive, one
``TCPConnector``) to the benchmark server (``server.py``), which runs in a
process of its own and outside valgrind, so callgrind counts only the client.

Variants, all on the server's Digest route for the same algorithm (the bare
session requests ``/``, which answers the same 2-byte body):

* ``bare``: no middleware;
* ``precomputed``: ``digest_references.PrecomputedDigest``, a header computed
  once and resent;
* ``header-only``: ``digest_references.HeaderOnlyDigest``, the header computed
  per request with no middleware logic around it;
* ``ours``: ``aiohttp_auth.DigestAuthMiddleware``;
* ``aiohttp``: ``aiohttp.DigestAuthMiddleware(preemptive=True)``.

Each session first sends ``--warmup`` requests (the first draws the one 401
that sets up the protection space), untimed and uncounted. The counted
requests then run inside one call of the C function ``_operator.call``, so
``valgrind --tool=callgrind --collect-atstart=no --toggle-collect=_operator_call``
counts exactly them.

``--inclusive QUALNAME`` instead counts only the calls of one synchronous
function during the counted requests (its inclusive cost): during the counted
requests it is replaced by a wrapper that calls it through ``_operator.call``.
QUALNAME is ``module:attribute`` with a dotted attribute, e.g.
``aiohttp_auth.digest.middleware:DigestAuthMiddleware._answered``. The count
includes the C-to-Python call itself (some hundred instructions), and a
coroutine function counts only the creation of its coroutine.

The counts repeat exactly within one ``--measure`` run (one server), but move
by about half a per cent between runs, as the scheduler lets the client find
the response ready or not: compare variants measured in the same run.

Usage::

    # every variant under callgrind, a table of instructions per request
    python benchmarks/digest_warm_profile.py --measure [--requests 2000]
    # only the inclusive cost of some of our functions
    python benchmarks/digest_warm_profile.py --measure --variants \\
        --inclusive aiohttp_auth.digest.middleware:DigestAuthMiddleware._answered
    # the package as it is at a revision (PYTHONPATH comes before the editable install)
    mkdir /tmp/at-head && git archive HEAD aiohttp_auth | tar -x -C /tmp/at-head
    PYTHONPATH=/tmp/at-head python benchmarks/digest_warm_profile.py --measure
    # one variant by hand, to read with callgrind_annotate
    valgrind --tool=callgrind --collect-atstart=no --toggle-collect=_operator_call \\
        --callgrind-out-file=/tmp/ours.cg python benchmarks/digest_warm_profile.py --variant ours

Without ``--base`` a driver run starts its own server (and stops it by PID).
Nothing here is a test: it reports numbers and never fails on them.
"""

from __future__ import annotations

import _operator
import argparse
import asyncio
import contextlib
import functools
import gc
import importlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
from digest_references import HeaderOnlyDigest, PrecomputedDigest
from harness import aiohttp_get, sequential
from server import DIGEST_LOGIN, DIGEST_PASSWORD, running_server
from subprocess_server import KEEPALIVE_TIMEOUT, stop_server_on_sigterm

import aiohttp_auth as aa

VARIANTS: dict[str, Callable[[str], tuple[Any, ...]]] = {
    "bare": lambda algorithm: (),
    "precomputed": lambda algorithm: (PrecomputedDigest(algorithm),),
    "header-only": lambda algorithm: (HeaderOnlyDigest(algorithm),),
    "ours": lambda algorithm: (aa.DigestAuthMiddleware(DIGEST_LOGIN, DIGEST_PASSWORD),),
    "aiohttp": lambda algorithm: (
        aiohttp.DigestAuthMiddleware(DIGEST_LOGIN, DIGEST_PASSWORD, preemptive=True),
    ),
}
# The C function the counted requests run inside: nothing else on the path calls it.
MARKER = "_operator_call"
_TOTALS = re.compile(r"^(?:summary|totals):\s+(\d+)", re.MULTILINE)


def _path(variant: str, algorithm: str) -> str:
    # Paths of one length (the tag is the variant's index): the request line and
    # the header's uri cost every variant the same.
    return "/" if variant == "bare" else f"/digest/{algorithm}/p{list(VARIANTS).index(variant)}"


def _resolve(qualname: str) -> tuple[Any, str, Any]:
    """Return (owner, attribute name, current value) for ``module:dotted.attribute``."""
    module_name, _, dotted = qualname.partition(":")
    owner: Any = importlib.import_module(module_name)
    *parents, name = dotted.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    return owner, name, owner.__dict__[name]


@contextlib.contextmanager
def counted_through_marker(qualname: str) -> Iterator[None]:
    """Route every call of *qualname* through ``_operator.call`` while the block runs."""
    owner, name, original = _resolve(qualname)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return _operator.call(original, *args, **kwargs)

    setattr(owner, name, wrapper)
    try:
        yield
    finally:
        setattr(owner, name, original)


def drive(
    base: str, variant: str, algorithm: str, warmup: int, requests: int, inclusive: str | None
) -> None:
    """Warm a session up, then send the counted requests (see the module docstring)."""
    loop = asyncio.new_event_loop()
    middlewares = VARIANTS[variant](algorithm)

    async def open_session() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_TIMEOUT)
        return aiohttp.ClientSession(connector=connector, middlewares=middlewares)

    session = loop.run_until_complete(open_session())
    get = aiohttp_get(session)
    url = f"{base}{_path(variant, algorithm)}"
    try:
        loop.run_until_complete(sequential(get, url, warmup, 1))
        gc.collect()
        if inclusive is None:
            _operator.call(loop.run_until_complete, sequential(get, url, requests, 1))
        else:
            with counted_through_marker(inclusive):
                loop.run_until_complete(sequential(get, url, requests, 1))
    finally:
        loop.run_until_complete(session.close())
        loop.close()


def _callgrind(args: list[str], out: Path) -> int:
    """Run this script under callgrind with *args*; return the instructions counted."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--collect-atstart=no",
        f"--toggle-collect={MARKER}",
        f"--callgrind-out-file={out}",
        sys.executable,
        str(Path(__file__).resolve()),
        *args,
    ]
    # A fixed hash seed: the same dict and set layouts, so the same count every run.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    subprocess.run(
        command, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    match = _TOTALS.search(out.read_text(errors="replace"))
    if match is None:
        raise RuntimeError(f"{out}: no totals line")
    return int(match[1])


def measure(args: argparse.Namespace) -> None:
    """Run each variant (and each --inclusive function) under callgrind; print a table."""
    if shutil.which("valgrind") is None:
        raise SystemExit("--measure needs valgrind (apt-get install valgrind)")
    out_dir = Path(args.out_dir or tempfile.mkdtemp(prefix="digest-profile-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    common = ["--algorithm", args.algorithm, "--warmup", str(args.warmup)]
    common += ["--requests", str(args.requests)]
    with running_server() as (host, port, _pid):
        base = f"http://{host}:{port}"
        common += ["--base", base]
        print(f"{args.requests} counted requests per run, {args.algorithm}; files in {out_dir}")
        rows: dict[str, float] = {}
        for variant in args.variants:
            for repeat in range(args.repeats):
                out = out_dir / f"{variant}.{repeat}.cg"
                total = _callgrind(["--variant", variant, *common], out)
                rows.setdefault(variant, total / args.requests)
                rows[variant] = min(rows[variant], total / args.requests)
                print(
                    f"  {variant:<12} run {repeat + 1}: {total / args.requests:10,.0f} Ir/request"
                )
        for qualname in args.inclusive or ():
            out = out_dir / f"inclusive.{qualname.replace(':', '.')}.cg"
            total = _callgrind(["--variant", "ours", "--inclusive", qualname, *common], out)
            print(f"  inclusive {qualname}: {total / args.requests:,.0f} Ir/request")
    if rows:
        print("\nvariant        Ir/request   vs bare   vs precomputed   aiohttp's / this")
        bare, floor, theirs = rows.get("bare"), rows.get("precomputed"), rows.get("aiohttp")
        for variant, value in rows.items():
            extra = f"{value - bare:+9,.0f}" if bare is not None else ""
            over = f"{value - floor:+9,.0f}" if floor is not None else ""
            ratio = f"{theirs / value:.3f}" if theirs is not None else ""
            print(f"{variant:<12} {value:12,.0f} {extra:>9} {over:>16} {ratio:>18}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=VARIANTS, default="ours")
    parser.add_argument("--algorithm", choices=("SHA-256", "MD5"), default="SHA-256")
    parser.add_argument("--requests", type=int, default=2000, help="counted requests (2000)")
    parser.add_argument("--warmup", type=int, default=200, help="uncounted requests first (200)")
    parser.add_argument("--base", help="a running server.py, e.g. http://127.0.0.1:8080")
    parser.add_argument("--inclusive", action="append", metavar="MODULE:QUALNAME")
    parser.add_argument("--measure", action="store_true", help="run variants under callgrind")
    parser.add_argument("--variants", nargs="*", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--repeats", type=int, default=1, help="callgrind runs per variant")
    parser.add_argument("--out-dir", help="where callgrind files go (a temporary directory)")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.warmup < 1 or args.repeats < 1:
        parser.error("--requests, --warmup and --repeats must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    stop_server_on_sigterm()
    args = parse_args(argv)
    if not hasattr(_operator, "call"):
        raise SystemExit("needs Python 3.11 or later: operator.call is what callgrind toggles on")
    if args.measure:
        measure(args)
        return
    if args.inclusive and len(args.inclusive) > 1:
        raise SystemExit("a driver run counts one --inclusive function at a time")
    inclusive = args.inclusive[0] if args.inclusive else None
    if args.base is not None:
        drive(args.base, args.variant, args.algorithm, args.warmup, args.requests, inclusive)
        return
    with running_server() as (host, port, _pid):
        drive(
            f"http://{host}:{port}",
            args.variant,
            args.algorithm,
            args.warmup,
            args.requests,
            inclusive,
        )


if __name__ == "__main__":
    main()
