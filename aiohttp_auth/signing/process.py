"""Credentials from an external command (the ``credential_process`` setting).

The command prints a JSON document ("Sourcing credentials with an external
process", AWS CLI user guide); it runs again shortly before the credentials it
printed expire.
"""

from __future__ import annotations

import asyncio
import shlex
import time
from collections.abc import Callable
from typing import Final, final

from aiohttp import ClientSession

from ..errors import ConfigurationError, CredentialError
from .credential_formats import parse_process_output
from .credentials import REFRESH_BEFORE, AwsCredentials, RefreshableCredentials

__all__ = ["ProcessCredentials"]

MAX_OUTPUT: Final = 64 * 1024
"""The most a credential process may print, in bytes."""


@final
class ProcessCredentials(RefreshableCredentials):
    """Run a command that prints credentials, again before they expire.

    Args:
        command: the command line (split like a POSIX shell would, but not run
            through one).
        timeout: seconds the command may take.
        refresh_before: seconds before expiry at which to run it again.
        clock: the clock, in epoch seconds.

    Raises:
        ConfigurationError: *command* is empty or cannot be split.
    """

    def __init__(
        self,
        command: str,
        *,
        timeout: float = 60.0,
        refresh_before: float = REFRESH_BEFORE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        try:
            self._argv = shlex.split(command)
        except ValueError as exc:
            raise ConfigurationError(f"credential_process: {exc}") from None
        if not self._argv:
            raise ConfigurationError("credential_process: the command is empty")
        self._timeout = timeout
        super().__init__(refresh_before=refresh_before, clock=clock)

    async def fetch(self, session: ClientSession) -> AwsCredentials:
        """Run the command and parse what it prints.

        Raises:
            CredentialError: it cannot be started, fails, times out, or prints
                something other than a credentials document.
        """
        program = self._argv[0]
        try:
            process = await asyncio.create_subprocess_exec(
                *self._argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
        except OSError as exc:
            raise CredentialError(
                f"credential_process {program!r} cannot be started: {exc.strerror}"
            ) from None
        try:
            output, _ = await asyncio.wait_for(process.communicate(), self._timeout)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
            raise CredentialError(
                f"credential_process {program!r} did not finish within {self._timeout} s"
            ) from None
        if process.returncode != 0:
            raise CredentialError(
                f"credential_process {program!r} exited with status {process.returncode}"
            )
        if len(output) > MAX_OUTPUT:
            raise CredentialError(
                f"credential_process {program!r} printed more than {MAX_OUTPUT} bytes"
            )
        return parse_process_output(output)

    def __repr__(self) -> str:
        return f"ProcessCredentials(command={self._argv[0]!r}, ...)"
