"""What every subcommand of ``aiohttp-auth`` provides, and the exit codes they share.

A subcommand is a module with two functions:

- ``add_parser(subparsers)`` adds its `argparse.ArgumentParser` to the
  ``aiohttp-auth`` parser and returns it;
- ``async run(args)`` does the work and returns the exit code.

[`aiohttp_auth.cli`][] lists the modules in ``SUBCOMMANDS``; adding a command
(``login``, ``token``, ``request``, ``logout``) is one module and one entry there.
"""

from __future__ import annotations

import argparse
from collections.abc import Coroutine
from typing import Any, Final, Protocol, TypeAlias

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "Subcommand",
    "Subparsers",
]

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What ``ArgumentParser.add_subparsers()`` returns; each subcommand adds its parser to it."""

EXIT_OK: Final = 0
"""Everything worked."""
EXIT_FAILED: Final = 1
"""A step failed (a demo check, a rejected request) or an AuthError was raised."""
EXIT_USAGE: Final = 2
"""The command line was wrong; argparse uses the same code."""
EXIT_INTERRUPTED: Final = 130
"""Interrupted with Ctrl-C: 128 + SIGINT, as shells report it."""


class Subcommand(Protocol):
    """A module implementing one ``aiohttp-auth`` subcommand."""

    def add_parser(self, subparsers: Subparsers) -> argparse.ArgumentParser:
        """Add the subcommand's parser to *subparsers* and return it."""
        ...

    def run(self, args: argparse.Namespace) -> Coroutine[Any, Any, int]:
        """Run the subcommand with the parsed *args*; return the exit code."""
        ...
