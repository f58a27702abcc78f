"""Single flight for the first requests to an origin (RFC 7616 §3.3).

Before an origin has challenged, a client cannot answer preemptively: the
first request goes out without credentials and draws the 401 that sets up the
protection space. [`OriginProbes`][] lets only one such request (the probe)
go out per origin; concurrent ones wait for its challenge, at most
[`PROBE_TIMEOUT`][] seconds, so a burst costs one 401 rather than one each.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable
from typing import Final, TypeVar

__all__ = ["PROBE_TIMEOUT", "OriginProbes"]

PROBE_TIMEOUT: Final = 1.0
"""Seconds that concurrent first requests to an origin wait for the first
one's challenge before going out without credentials.
"""

_T = TypeVar("_T")


class OriginProbes:
    """The probes in flight, and the origins probed already.

    Args:
        timeout: how long waiters wait for a probe, in seconds.

    Attributes:
        timeout: how long waiters wait for a probe, in seconds.
        pending: origin -> the event set when its probe ends. Read on every
            response, so it is a plain dict: empty (false) once probes are over.
    """

    __slots__ = ("_probed", "pending", "timeout")

    def __init__(self, timeout: float = PROBE_TIMEOUT) -> None:
        self.timeout = timeout
        self.pending: dict[Hashable, asyncio.Event] = {}
        self._probed: set[Hashable] = set()

    def probed(self, origin: Hashable) -> bool:
        """Whether a request to *origin* has already gone out as its probe."""
        return origin in self._probed

    async def run(self, origin: Hashable, send: Callable[[], Awaitable[_T]]) -> _T:
        """Send the probe to *origin*, or wait for the one in flight, then send.

        Args:
            origin: the origin the request goes to.
            send: sends the request (called once, after any wait).
        """
        probe = self.pending.get(origin)
        if probe is None:
            self.pending[origin] = asyncio.Event()
            try:
                return await send()
            finally:
                self.end(origin)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(probe.wait(), self.timeout)
        return await send()

    def end(self, origin: Hashable) -> None:
        """Mark *origin* probed and release the requests waiting for it."""
        self._probed.add(origin)
        probe = self.pending.pop(origin, None)
        if probe is not None:
            probe.set()
