"""Throughput of the Digest middleware against its own version at a git revision.

Loads ``aiohttp_auth/digest/middleware.py`` and ``spaces.py`` as they are at
``--rev`` (default ``HEAD``: the last commit) next to the working tree's, and
runs ``run.py``'s harness on the SHA-256 pair (ours and aiohttp's), the two
Digest reference rows and a variant "Digest SHA-256 (aiohttp_auth, REV)",
compared with aiohttp's like ours. Every other module (``answers.py``,
``credentials.py``, the base middleware) is the working tree's, so the
comparison isolates changes to those two files: use it to check that a
performance change to them pays in real requests, not only in ``per_call.py``.

Usage: ``python benchmarks/digest_before_after.py [--rev REV] [run.py options]``,
e.g. ``--rev HEAD --rounds 20 --output-json /tmp/before-after.json``. Only the
throughput part runs (run.py's per-call, header and import parts are skipped).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import run
from server import DIGEST_LOGIN, DIGEST_PASSWORD
from throughput_variants import (
    BASELINE,
    CATALOGUE,
    DIGEST_FLOOR,
    DIGEST_HEADER_ONLY,
    Catalogue,
    DigestRoute,
)

REPOSITORY = Path(__file__).resolve().parent.parent
KEPT = (
    BASELINE,
    "bare aiohttp (A/A)",
    "Digest SHA-256 (aiohttp_auth)",
    "Digest SHA-256 (aiohttp)",
    DIGEST_HEADER_ONLY,
    DIGEST_FLOOR,
)
#: The pairs kept: ours and the two references, each against aiohttp's.
KEPT_PAIRS = ("SHA-256", "SHA-256, header only", "SHA-256, precomputed header")


def _load(module: str, source: str, directory: Path) -> ModuleType:
    """Import *source* as ``aiohttp_auth.digest.<module>`` (relative imports resolve there)."""
    path = directory / f"{module}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"aiohttp_auth.digest.{module}", path)
    assert spec is not None
    assert spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = loaded
    spec.loader.exec_module(loaded)
    return loaded


def _git_show(rev: str, path: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPOSITORY), "show", f"{rev}:{path}"],  # noqa: S607 - git on PATH
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], add_help=False)
    parser.add_argument("--rev", default="HEAD", help="the git revision to compare with")
    args, rest = parser.parse_known_args()
    with tempfile.TemporaryDirectory() as directory:
        spaces = _load(
            "_spaces_at_rev",
            _git_show(args.rev, "aiohttp_auth/digest/spaces.py"),
            Path(directory),
        )
        middleware = _load(
            "_middleware_at_rev",
            _git_show(args.rev, "aiohttp_auth/digest/middleware.py"),
            Path(directory),
        )
    # Its `from .spaces import ...` found the working tree's spaces: use the revision's.
    middleware.ProtectionSpaces = spaces.ProtectionSpaces  # type: ignore[attr-defined]
    middleware.space_prefixes = spaces.space_prefixes  # type: ignore[attr-defined]

    name = f"Digest SHA-256 (aiohttp_auth, {args.rev})"
    variants = {kept: CATALOGUE.variants[kept] for kept in KEPT}
    variants[name] = lambda: (middleware.DigestAuthMiddleware(DIGEST_LOGIN, DIGEST_PASSWORD),)
    pairs = {label: pair for label, pair in CATALOGUE.digest_pairs.items() if label in KEPT_PAIRS}
    pairs[f"SHA-256, at {args.rev}"] = (name, CATALOGUE.digest_pairs["SHA-256"][1])
    catalogue = Catalogue(
        variants,
        {**CATALOGUE.routes, name: DigestRoute("SHA-256", "at-rev")},
        pairs,
        # Not held to the target: it is the comparison point.
        CATALOGUE.references | {name},
    )
    run.main([*rest, "--skip-per-call", "--skip-digest-header", "--skip-import-time"], catalogue)


if __name__ == "__main__":
    main()
