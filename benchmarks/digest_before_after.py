"""Throughput of the Digest middleware against its own version at a git revision.

Loads the package ``aiohttp_auth/digest/`` as it is at ``--rev`` (default
``HEAD``: the last commit) next to the working tree's, as
``aiohttp_auth._digest_at_rev``, and runs ``run.py``'s harness on the SHA-256
pair (ours and aiohttp's), the two Digest reference rows and a variant
"Digest SHA-256 (aiohttp_auth, REV)", compared with aiohttp's like ours. The
revision's Digest modules import each other; what they import from the rest
of the package (the base middleware, the errors, the challenge parser) is the
working tree's, so the comparison isolates changes to ``aiohttp_auth/digest/``:
use it to check that a performance change there pays in real requests, not
only in ``per_call.py``.

Usage: ``python benchmarks/digest_before_after.py [--rev REV] [run.py options]``,
e.g. ``--rev HEAD --rounds 20 --output-json /tmp/before-after.json``. Only the
throughput part runs (run.py's per-call, header and import parts are skipped).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import io
import subprocess
import sys
import tarfile
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


def _load_digest_at(rev: str, directory: Path) -> ModuleType:
    """Import ``aiohttp_auth/digest/`` at *rev* as the package ``aiohttp_auth._digest_at_rev``."""
    archive = subprocess.run(
        ["git", "-C", str(REPOSITORY), "archive", rev, "aiohttp_auth/digest"],  # noqa: S607
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(directory, filter="data")
    package = directory / "aiohttp_auth" / "digest"
    spec = importlib.util.spec_from_file_location(
        "aiohttp_auth._digest_at_rev",
        package / "__init__.py",
        submodule_search_locations=[str(package)],
    )
    assert spec is not None
    assert spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = loaded
    spec.loader.exec_module(loaded)
    return loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], add_help=False)
    parser.add_argument("--rev", default="HEAD", help="the git revision to compare with")
    args, rest = parser.parse_known_args()
    with tempfile.TemporaryDirectory() as directory:
        digest = _load_digest_at(args.rev, Path(directory))
    middleware = importlib.import_module(f"{digest.__name__}.middleware")

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
