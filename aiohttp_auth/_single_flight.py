"""One shared, shielded task per key: concurrent callers share one execution.

The OAuth 2 middleware runs each token request through a [`SingleFlight`][],
so that any number of requests needing a token at the same moment cause one
token request, and a request cancelled by its caller (a timeout, a closed
connection) does not cancel the token request the others are waiting for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Hashable
from typing import Any, Generic, TypeVar, final

__all__ = ["SingleFlight"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@final
class SingleFlight(Generic[K, V]):
    """Run at most one *flight* (a task) per key; concurrent callers share it.

    ``await flight.run(key, factory)`` starts ``factory()`` in a task of its
    own if no flight for *key* is running, and otherwise joins the running one.
    Every caller of a flight gets its result, or the same exception. Once the
    flight has finished, the key is free: the next ``run`` starts a new one.

    Cancelling a caller cancels only its wait (as with ``asyncio.shield``): the
    flight runs on for the other callers, and runs to its end even when every
    caller is gone. Its result is then dropped, and its exception is retrieved,
    so asyncio logs no "exception was never retrieved".

    The factory bounds its own run time: a caller waits for the flight as long
    as the flight takes, so a factory that may hang (a network call) must have
    a timeout. The flight runs in a copy of the context (``contextvars``) of
    the caller that started it.

    Only running flights are referenced; a finished flight is forgotten, so
    neither its task nor its result is kept. Use an instance from one event
    loop at a time.

    Example:
        ```python
        flights: SingleFlight[str, Token] = SingleFlight()
        token = await flights.run(key, lambda: fetch_token(session))
        ```
    """

    __slots__ = ("_flights",)

    def __init__(self) -> None:
        self._flights: dict[K, asyncio.Task[V]] = {}

    async def run(self, key: K, factory: Callable[[], Coroutine[Any, Any, V]]) -> V:
        """Return the result of the flight for *key*, starting ``factory()`` if none runs.

        Args:
            key: what the flight is for; callers with equal keys share a flight.
            factory: a zero-argument coroutine function, called only when this
                call starts the flight.

        Returns:
            The flight's result, the same object for every caller of the flight.

        Raises:
            BaseException: whatever the flight raised (the same exception object
                for every caller); ``CancelledError`` if this caller is
                cancelled, or if the flight itself was cancelled (when its event
                loop shuts down).
        """
        flight = self._flights.get(key)
        # A flight that has finished but whose done callback has not run yet
        # is over: its key is free, so a late caller starts a fresh flight
        # rather than receiving a stale result.
        if flight is None or flight.done():
            flight = asyncio.get_running_loop().create_task(factory())
            self._flights[key] = flight
            flight.add_done_callback(lambda done: self._land(key, done))
        # shield: cancelling this caller cancels its wait, not the flight.
        return await asyncio.shield(flight)

    def running(self, key: K) -> bool:
        """Return whether a flight for *key* is running now."""
        flight = self._flights.get(key)
        return flight is not None and not flight.done()

    def __len__(self) -> int:
        """Return the number of flights running now."""
        return sum(not flight.done() for flight in self._flights.values())

    def __repr__(self) -> str:
        # Keys are not shown: they are the caller's values, of any size.
        return f"SingleFlight(running={len(self)})"

    def _land(self, key: K, flight: asyncio.Task[V]) -> None:
        # A new flight may already have replaced this one (see ``run``).
        if self._flights.get(key) is flight:
            del self._flights[key]
        # Mark the exception as retrieved: when every caller was cancelled,
        # none of them does, and asyncio would log "Task exception was never
        # retrieved" at garbage collection. (asyncio.shield retrieves it too,
        # today; this does not rely on that detail.)
        if not flight.cancelled():
            flight.exception()
