"""SingleFlight: one shared, shielded task per key (the middleware's refresh primitive)."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import pytest

from aiohttp_auth._single_flight import SingleFlight

#: Upper bound for any wait in these tests: a bug shows as a failure, not a hang.
BOUND = 5.0


class Value:
    """A result object that can be weakly referenced, to prove nothing keeps it."""


def collect_loop_errors(loop: asyncio.AbstractEventLoop) -> list[dict[str, Any]]:
    """Route the loop's error reports ("exception was never retrieved", ...) into a list."""
    reports: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reports.append(context))
    return reports


async def test_ten_thousand_concurrent_callers_share_one_execution() -> None:
    flights: SingleFlight[str, Value] = SingleFlight()
    calls = 0

    async def fetch() -> Value:
        nonlocal calls
        calls += 1
        # Yield a few times so that every caller arrives while the flight runs.
        for _ in range(3):
            await asyncio.sleep(0)
        return Value()

    results = await asyncio.wait_for(
        asyncio.gather(*(flights.run("token", fetch) for _ in range(10_000))), BOUND
    )

    assert calls == 1
    assert len(results) == 10_000
    assert all(result is results[0] for result in results)
    assert len(flights) == 0


async def test_cancelled_first_caller_does_not_cancel_the_flight_for_others() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    release = asyncio.Event()
    finished = asyncio.Event()

    async def fetch() -> str:
        await release.wait()
        finished.set()
        return "fresh"

    first = asyncio.create_task(flights.run("token", fetch))
    await asyncio.sleep(0)
    second = asyncio.create_task(flights.run("token", fetch))
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert flights.running("token")

    release.set()
    assert await asyncio.wait_for(second, BOUND) == "fresh"
    assert finished.is_set()


async def test_exception_reaches_every_caller_as_the_same_object() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    calls = 0

    async def fetch() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        raise LookupError("token endpoint said no")

    outcomes = await asyncio.wait_for(
        asyncio.gather(*(flights.run("token", fetch) for _ in range(100)), return_exceptions=True),
        BOUND,
    )

    assert calls == 1
    assert isinstance(outcomes[0], LookupError)
    assert all(outcome is outcomes[0] for outcome in outcomes)
    assert not flights.running("token")


async def test_next_flight_after_completion_calls_the_factory_again() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    calls = 0

    async def fetch() -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise LookupError("second flight fails")
        return calls

    assert await flights.run("token", fetch) == 1
    with pytest.raises(LookupError):
        await flights.run("token", fetch)
    # A failed flight does not stick either: the third call flies again.
    assert await flights.run("token", fetch) == 3
    assert calls == 3


async def test_caller_arriving_as_a_flight_lands_starts_a_new_flight() -> None:
    # The flight's bookkeeping runs in a callback after the task finishes; a
    # caller that runs in between must not be handed the finished result.
    flights: SingleFlight[str, str] = SingleFlight()
    gate = asyncio.get_running_loop().create_future()
    calls: list[str] = []

    async def first_fetch() -> str:
        calls.append("first")
        await asyncio.sleep(0)
        # Wakes ``late`` in the loop iteration right after this flight's task
        # finishes, before the flight's done callbacks run.
        gate.set_result(None)
        return "first"

    async def second_fetch() -> str:
        calls.append("second")
        return "second"

    async def late() -> str:
        await gate
        return await flights.run("token", second_fetch)

    late_caller = asyncio.create_task(late())
    assert await flights.run("token", first_fetch) == "first"
    assert await asyncio.wait_for(late_caller, BOUND) == "second"
    assert calls == ["first", "second"]
    assert len(flights) == 0


async def test_flight_with_every_caller_cancelled_finishes_without_error_report() -> None:
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    reports = collect_loop_errors(loop)
    flights: SingleFlight[str, str] = SingleFlight()
    release = asyncio.Event()
    finished = asyncio.Event()

    async def fetch() -> str:
        try:
            await release.wait()
            raise LookupError("nobody is listening")
        finally:
            finished.set()

    callers = [asyncio.create_task(flights.run("token", fetch)) for _ in range(3)]
    await asyncio.sleep(0)
    for caller in callers:
        caller.cancel()
    outcomes = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(outcome, asyncio.CancelledError) for outcome in outcomes)

    release.set()
    await asyncio.wait_for(finished.wait(), BOUND)
    for _ in range(3):  # let the flight's done callbacks run
        await asyncio.sleep(0)
    del callers, outcomes
    gc.collect()

    assert reports == []
    assert len(flights) == 0


async def test_finished_flight_keeps_no_reference_to_its_result() -> None:
    flights: SingleFlight[str, Value] = SingleFlight()
    release = asyncio.Event()
    finished = asyncio.Event()
    made: list[weakref.ref[Value]] = []

    async def fetch() -> Value:
        await release.wait()
        value = Value()
        made.append(weakref.ref(value))
        finished.set()
        return value

    caller = asyncio.create_task(flights.run("token", fetch))
    await asyncio.sleep(0)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    release.set()
    await asyncio.wait_for(finished.wait(), BOUND)
    for _ in range(3):
        await asyncio.sleep(0)
    del caller
    gc.collect()

    assert len(made) == 1
    assert made[0]() is None, "the result of a finished flight is still referenced"


async def test_different_keys_fly_independently() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    release_a = asyncio.Event()
    calls: list[str] = []

    async def fetch_a() -> str:
        calls.append("a")
        await release_a.wait()
        return "a"

    async def fetch_b() -> str:
        calls.append("b")
        return "b"

    flight_a = asyncio.create_task(flights.run("a", fetch_a))
    await asyncio.sleep(0)
    # Key "b" completes while "a" is still in the air.
    assert await asyncio.wait_for(flights.run("b", fetch_b), BOUND) == "b"
    assert flights.running("a")
    assert not flights.running("b")
    assert len(flights) == 1

    release_a.set()
    assert await asyncio.wait_for(flight_a, BOUND) == "a"
    assert calls == ["a", "b"]


async def test_cancelled_flight_cancels_its_callers_and_frees_the_key() -> None:
    # The flight itself is cancelled only from outside, e.g. when its event
    # loop shuts down; its callers then see CancelledError.
    flights: SingleFlight[str, str] = SingleFlight()
    flight_tasks: list[asyncio.Task[Any]] = []

    async def fetch() -> str:
        task = asyncio.current_task()
        assert task is not None
        flight_tasks.append(task)
        await asyncio.Event().wait()
        raise AssertionError("unreachable: the flight is cancelled")

    caller = asyncio.create_task(flights.run("token", fetch))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    flight_tasks[0].cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(caller, BOUND)
    assert not flights.running("token")

    async def fetch_again() -> str:
        return "again"

    assert await flights.run("token", fetch_again) == "again"


async def test_factory_failing_to_start_leaves_no_flight() -> None:
    flights: SingleFlight[str, str] = SingleFlight()

    def broken_factory() -> Any:
        raise TypeError("not a coroutine function")

    with pytest.raises(TypeError, match="not a coroutine function"):
        await flights.run("token", broken_factory)
    assert len(flights) == 0
    assert not flights.running("token")


async def test_repr_counts_running_flights_without_showing_keys() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    release = asyncio.Event()

    async def fetch() -> str:
        await release.wait()
        return "done"

    assert repr(flights) == "SingleFlight(running=0)"
    caller = asyncio.create_task(flights.run("client:secret-looking-key", fetch))
    await asyncio.sleep(0)
    assert repr(flights) == "SingleFlight(running=1)"
    release.set()
    await asyncio.wait_for(caller, BOUND)
    assert repr(flights) == "SingleFlight(running=0)"
