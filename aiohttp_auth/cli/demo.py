"""``aiohttp-auth demo``: every middleware at work against local servers, verified.

The demo serves two [`aiohttp_auth.testing`][] resource servers in this
process on 127.0.0.1 (nothing leaves the machine), and each Digest and OAuth 2
scenario its own Digest or authorization server there too; it runs each
scenario of [`SCENARIOS`][] against them, and prints one block per scenario: what was
sent, what the server answered, and whether the server's records confirm it.
It exits 1 if any scenario fails.

Scenarios are [`Scenario`][aiohttp_auth.cli._demo_env.Scenario] entries; a new
middleware adds its own module of scenarios and appends them here.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Final

import aiohttp

from ..errors import AuthError
from . import demo_digest, demo_oauth2, demo_signing, demo_static
from ._command import EXIT_FAILED, EXIT_OK, Subparsers
from ._console import Console, Outcome, wants_color
from ._demo_env import DemoEnv, Scenario, demo_env

__all__ = ["SCENARIOS", "add_parser", "run"]

SCENARIOS: Final[list[Scenario]] = [
    *demo_static.SCENARIOS,
    *demo_digest.SCENARIOS,
    *demo_oauth2.SCENARIOS,
    *demo_signing.SCENARIOS,
]
"""The demo's scenarios, in the order they run."""


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Add the ``demo`` subcommand to *subparsers*."""
    parser = subparsers.add_parser(
        "demo",
        help="show every middleware at work against local servers",
        description=(
            "Start two local servers in this process (127.0.0.1 only) and show each "
            "middleware at work: what is sent, what the server answers, and a check "
            "of the server's records. Exits 1 if any check fails."
        ),
    )
    parser.add_argument(
        "--no-color", action="store_true", help="no colours (also: NO_COLOR set, not a terminal)"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print only failed scenarios and the summary"
    )
    return parser


async def play(scenario: Scenario, env: DemoEnv) -> Outcome:
    """Run one *scenario* and return its outcome; a client error fails it."""
    outcome = Outcome(scenario.title)
    try:
        await scenario.run(env, outcome)
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        # One broken scenario must not hide the others. AuthError messages are
        # safe to show; other errors may quote a URL holding a key, so only
        # their type is shown.
        detail = (
            f"{type(exc).__name__}: {exc}" if isinstance(exc, AuthError) else type(exc).__name__
        )
        outcome.check(False, "the scenario runs to its end", got=detail)
    return outcome


async def run(args: argparse.Namespace) -> int:
    """Run every scenario, print the outcomes, return 0 if all passed, else 1."""
    console = Console(sys.stdout, color=wants_color(sys.stdout, no_color=args.no_color))
    outcomes = []
    async with demo_env() as env:
        if not args.quiet:
            console.write(
                f"aiohttp-auth demo: resource server {env.resource.url}, another origin "
                f"{env.other.url} (in this process; throwaway demo credentials)"
            )
            console.write()
        for scenario in SCENARIOS:
            outcome = await play(scenario, env)
            outcomes.append(outcome)
            if not (args.quiet and outcome.passed):
                console.outcome(outcome)
    failed = [outcome.title for outcome in outcomes if not outcome.passed]
    summary = f"{len(outcomes) - len(failed)} of {len(outcomes)} scenarios passed"
    if failed:
        console.write(f"{console.mark(False)} {summary}; failed: {', '.join(failed)}")
        return EXIT_FAILED
    console.write(f"{console.mark(True)} {summary}")
    return EXIT_OK
