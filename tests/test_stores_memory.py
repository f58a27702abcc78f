"""MemoryTokenStore: the store contract, and what only an in-memory store promises."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from typing import Any

import pytest
from store_contract import (
    BOUND,
    KEY,
    OTHER_KEY,
    SECRET_MARK,
    StoreFactory,
    TokenStoreContract,
    hold_lock,
    make_token,
)

from aiohttp_auth.errors import ConfigurationError, StoreError
from aiohttp_auth.stores import MemoryTokenStore, validate_key, validate_token


class TestMemoryTokenStoreContract(TokenStoreContract):
    shares_backend = False

    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        return MemoryTokenStore


# --- construction and repr ---------------------------------------------------------


def test_lock_timeout_defaults_to_thirty_seconds() -> None:
    assert MemoryTokenStore().lock_timeout == 30.0


def test_integer_lock_timeout_is_accepted_as_seconds() -> None:
    store = MemoryTokenStore(lock_timeout=2)

    assert store.lock_timeout == 2.0
    assert isinstance(store.lock_timeout, float)


@pytest.mark.parametrize(
    "lock_timeout", [0, -1.0, float("nan"), float("inf"), "5", None, True], ids=repr
)
def test_lock_timeout_must_be_a_positive_finite_number(lock_timeout: Any) -> None:
    with pytest.raises(ConfigurationError, match="lock_timeout: expected a positive, finite"):
        MemoryTokenStore(lock_timeout=lock_timeout)


async def test_repr_counts_keys_and_shows_neither_keys_nor_tokens() -> None:
    store = MemoryTokenStore()
    await store.set(KEY, make_token(1))
    await store.set(OTHER_KEY, make_token(2))

    assert repr(store) == "MemoryTokenStore(keys=2, lock_timeout=30.0)"
    assert "client-a" not in repr(store)


# --- objects and isolation ---------------------------------------------------------


async def test_get_returns_the_very_token_object_that_was_set() -> None:
    store = MemoryTokenStore()
    token = make_token(1)

    await store.set(KEY, token)

    assert await store.get(KEY) is token


async def test_stores_share_no_global_state() -> None:
    first, second = MemoryTokenStore(), MemoryTokenStore()

    await first.set(KEY, make_token(1))

    assert await second.get(KEY) is None
    assert repr(second) == "MemoryTokenStore(keys=0, lock_timeout=30.0)"


# Imports aiohttp_auth.stores without running aiohttp_auth/__init__.py, so that
# only the stores package's own imports are measured, and lists what it loaded.
_IMPORT_STORES = """
import importlib.util, sys, types
spec = importlib.util.find_spec("aiohttp_auth")
package = types.ModuleType("aiohttp_auth")
package.__path__ = list(spec.submodule_search_locations)
sys.modules["aiohttp_auth"] = package
import aiohttp_auth.stores
print(" ".join(sorted(name.partition(".")[0] for name in sys.modules)))
"""


def test_importing_stores_loads_no_backend_or_crypto_library() -> None:
    # Stores that need keyring, redis or cryptography import them when used.
    result = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", _IMPORT_STORES],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = set(result.stdout.split())

    assert "aiohttp_auth" in loaded
    assert loaded.isdisjoint({"keyring", "redis", "cryptography", "authlib", "joserfc"})


# --- lock: order, hand-over and forgetting ----------------------------------------


async def test_lock_is_handed_to_waiters_first_come_first_served() -> None:
    store = MemoryTokenStore(lock_timeout=BOUND)
    order: list[int] = []
    holding, release = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(hold_lock(store, KEY, holding, release))
    await holding.wait()

    async def enter(number: int) -> None:
        async with store.lock(KEY):
            order.append(number)
            await asyncio.sleep(0)

    waiters = []
    for number in range(5):
        waiters.append(asyncio.create_task(enter(number)))
        await asyncio.sleep(0)  # queue them in this order
    release.set()
    await asyncio.wait_for(asyncio.gather(holder, *waiters), BOUND)

    assert order == [0, 1, 2, 3, 4]


async def test_waiter_cancelled_as_the_lock_is_handed_to_it_passes_it_on() -> None:
    store = MemoryTokenStore(lock_timeout=BOUND)
    entered: list[str] = []

    async def enter(name: str) -> None:
        async with store.lock(KEY):
            entered.append(name)

    async with store.lock(KEY):
        first = asyncio.create_task(enter("first"))
        second = asyncio.create_task(enter("second"))
        await asyncio.sleep(0)  # both wait now, first in front
    # The block's exit handed the lock to ``first``, which has not run since:
    # cancel it now, before it can enter.
    first.cancel()

    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, BOUND)
    assert entered == ["second"]
    async with store.lock(KEY):
        pass


async def test_release_skips_waiters_cancelled_in_the_same_step() -> None:
    store = MemoryTokenStore(lock_timeout=BOUND)
    entered: list[str] = []

    async def enter(name: str) -> None:
        async with store.lock(KEY):
            entered.append(name)

    async with store.lock(KEY):
        first = asyncio.create_task(enter("first"))
        second = asyncio.create_task(enter("second"))
        await asyncio.sleep(0)
        # Cancelled, but not yet run to leave the queue when the lock is released.
        first.cancel()

    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, BOUND)
    assert entered == ["second"]


def block_the_event_loop(seconds: float) -> None:
    """Keep the event loop from running anything for *seconds* (timers become overdue)."""
    time.sleep(seconds)


async def test_lock_handed_over_as_the_wait_times_out_is_still_granted() -> None:
    # The release and the waiter's timeout fall due in the same loop iteration,
    # release first: the waiter got the lock, and the late timeout changes nothing.
    store = MemoryTokenStore(lock_timeout=0.05)
    entered = asyncio.Event()

    async def enter() -> None:
        async with store.lock(KEY):
            entered.set()

    async with store.lock(KEY):
        waiter = asyncio.create_task(enter())
        await asyncio.sleep(0)
        block_the_event_loop(0.1)
        # Schedules this task's next step before the overdue timer runs.
        await asyncio.sleep(0)

    await asyncio.wait_for(waiter, BOUND)
    assert entered.is_set()
    assert store._locks == {}


async def test_lock_state_is_forgotten_once_no_one_holds_or_waits() -> None:
    store = MemoryTokenStore(lock_timeout=0.05)

    for number in range(100):
        async with store.lock(f"user-{number}"):
            pass
    # A waiter that timed out and one that was cancelled leave nothing either.
    async with store.lock(KEY):
        with pytest.raises(StoreError):
            async with store.lock(KEY):
                pass
        cancelled = asyncio.create_task(hold_lock(store, KEY, asyncio.Event(), asyncio.Event()))
        await asyncio.sleep(0)
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
    async with store.lock(KEY):
        first = asyncio.create_task(hold_lock(store, KEY, asyncio.Event(), asyncio.Event()))
        await asyncio.sleep(0)
        first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first

    assert store._locks == {}


async def test_lock_timeout_message_says_what_to_check() -> None:
    store = MemoryTokenStore(lock_timeout=0.05)

    async with store.lock(KEY):
        with pytest.raises(StoreError) as raised:
            async with store.lock(KEY):
                pass

    message = str(raised.value)
    assert repr(KEY) in message
    assert "0.05 s" in message
    assert "timeout" in message
    assert "not reentrant" in message
    assert "lock_timeout" in message


async def test_one_lock_object_entered_by_two_tasks_pairs_each_exit_with_its_entry() -> None:
    store = MemoryTokenStore(lock_timeout=BOUND)
    shared = store.lock(KEY)
    inside = 0
    most_inside = 0

    async def enter() -> None:
        nonlocal inside, most_inside
        async with shared:
            inside += 1
            most_inside = max(most_inside, inside)
            await asyncio.sleep(0.001)
            inside -= 1

    await asyncio.wait_for(asyncio.gather(enter(), enter()), BOUND)

    assert most_inside == 1
    assert store._locks == {}


# --- helpers for implementations --------------------------------------------------


@pytest.mark.parametrize("key", ["k", "with space", "ünïcode ✓", "a:b/c@d"], ids=repr)
def test_validate_key_returns_valid_keys_unchanged(key: str) -> None:
    assert validate_key(key) is key


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "non-empty string, got NoneType"),
        (b"key", "non-empty string, got bytes"),
        ("", "non-empty string, got ''"),
        ("line\nbreak", r"non-printable character at position 4 \(code point U\+000A\)"),
        ("\u200b", r"position 0 \(code point U\+200B\)"),
    ],
    ids=repr,
)
def test_validate_key_names_the_problem(key: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        validate_key(key)


def test_validate_token_returns_tokens_and_names_only_the_type_of_anything_else() -> None:
    token = make_token(1)
    assert validate_token(token) is token

    with pytest.raises(ConfigurationError, match="got str") as raised:
        validate_token(f"{SECRET_MARK}bare")
    assert SECRET_MARK not in str(raised.value)
