"""The ``aiohttp-auth`` command.

Usage: ``aiohttp-auth [--version] COMMAND ...``. Each subcommand lives in its own
module (see [`aiohttp_auth.cli._command`][]) and is listed in [`SUBCOMMANDS`][].

Exit codes: 0 success; 1 a step failed, or an [`AuthError`][aiohttp_auth.errors.AuthError]
was raised (its message goes to stderr, without a traceback); 2 a usage error;
130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Final

import aiohttp

from .. import __version__
from ..errors import AuthError
from . import demo as demo
from ._command import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, Subcommand

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

SUBCOMMANDS: Final[tuple[Subcommand, ...]] = (demo,)
"""The subcommands, in the order ``--help`` lists them."""

_PROG: Final = "aiohttp-auth"


def build_parser() -> argparse.ArgumentParser:
    """Build the ``aiohttp-auth`` parser with every subcommand of [`SUBCOMMANDS`][]."""
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Authentication middlewares for the aiohttp client, from the command line.",
        epilog="Run 'aiohttp-auth COMMAND --help' for the options of a command.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=(
            f"%(prog)s {__version__} (aiohttp {aiohttp.__version__}, "
            f"Python {platform.python_version()})"
        ),
    )
    subparsers = parser.add_subparsers(
        title="commands", dest="command", metavar="COMMAND", required=True
    )
    for subcommand in SUBCOMMANDS:
        subcommand.add_parser(subparsers).set_defaults(run=subcommand.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line *argv* (``sys.argv[1:]`` by default) and return the exit code.

    Args:
        argv: the arguments after the program name.

    Returns:
        0 on success, 1 when a step failed or an AuthError was raised, 2 on a usage
        error, 130 when interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        # argparse exits by itself: 0 after --help and --version, 2 on a usage error.
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    run: Callable[[argparse.Namespace], Coroutine[Any, Any, int]] = args.run
    try:
        return asyncio.run(run(args))
    except AuthError as exc:
        # AuthError messages are written to be shown: they name what to fix and
        # never hold a secret. A traceback would only bury that.
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{_PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
