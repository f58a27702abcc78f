"""The contract every TokenStore meets: one suite, run against each implementation.

Use it by subclassing [`TokenStoreContract`][] in a ``test_stores_*.py`` module
and providing the ``store_factory`` fixture::

    class TestMemoryTokenStore(TokenStoreContract):
        @pytest.fixture
        def store_factory(self) -> StoreFactory:
            return MemoryTokenStore

The factory is called as ``store_factory(lock_timeout=seconds)``, possibly
several times in one test. Every store it returns within a test must start
from an empty backend (a fresh directory, a fresh Redis prefix, ...): tests
use fixed keys. Stores over a shared backend (a file, Redis) set
``shares_backend = True``: stores made in one test then share tokens and locks,
as separate processes would; in-memory stores leave it False and must be
isolated from each other.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar, Protocol

import pytest

from aiohttp_auth.errors import ConfigurationError, StoreError
from aiohttp_auth.oauth2.token import Token
from aiohttp_auth.stores import TokenStore

#: Lock timeout of the stores used by most tests: long enough never to expire
#: in a correct run, short enough that a lock bug fails the test instead of
#: hanging it.
LOCK_TIMEOUT = 5.0
#: Lock timeout of the stores whose timeout is the subject of the test.
SHORT_LOCK_TIMEOUT = 0.2
#: Upper bound on any single wait in these tests.
BOUND = 10.0

#: Marks every secret written by these tests, so that leaks are easy to find.
SECRET_MARK = "s3cr3t-"

KEY = "oauth2:client-a@https://idp.example/token"
OTHER_KEY = "oauth2:client-b@https://idp.example/token"

#: Valid keys that are awkward for some backend: file names, keyring entries, Redis.
UNUSUAL_KEYS = [
    "k",
    "with space",
    "ünïcode ✓ 鍵",
    "../../../etc/passwd",
    "C:\\Windows\\system32",
    "a/b/c?d=e#f",
    "*",
    "x" * 200,
]

BAD_KEYS: list[Any] = ["", None, 42, b"bytes-key", "line\nbreak", "tab\tkey", "nul\x00key"]

NOT_TOKENS: list[Any] = [
    None,
    f"{SECRET_MARK}a-bare-access-token",
    {"access_token": f"{SECRET_MARK}in-a-dict"},
]


class StoreFactory(Protocol):
    """Make a store of the implementation under test, over this test's backend."""

    def __call__(self, *, lock_timeout: float) -> TokenStore: ...


def make_token(number: int) -> Token:
    """Return a token with every field set, each derived from *number*."""
    return Token(
        access_token=f"{SECRET_MARK}access-{number}",
        token_type="Bearer",
        expires_at=1_700_000_000.25 + number,
        refresh_token=f"{SECRET_MARK}refresh-{number}",
        scope=f"read write scope-{number}",
        id_token=f"{SECRET_MARK}id-{number}",
        extra={
            "number": number,
            "nested": {"list": [1, 2.5, "three", None, True]},
            "text": "ünïcode ✓",
        },
        issued_at=1_699_999_000.5 + number,
    )


def token_number(token: Token) -> int:
    """Return the number *token* was made from by [`make_token`][]."""
    number = token.extra["number"]
    assert isinstance(number, int)
    return number


async def hold_lock(
    store: TokenStore, key: str, holding: asyncio.Event, release: asyncio.Event
) -> None:
    """Hold the lock of *key*, set *holding* once held, and wait for *release*."""
    async with store.lock(key):
        holding.set()
        await release.wait()


class TokenStoreContract:
    """The behaviour of the TokenStore protocol (see ``aiohttp_auth/stores/base.py``)."""

    #: True when stores from one ``store_factory`` share a backend (file, Redis).
    shares_backend: ClassVar[bool] = False

    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        """Return the factory of the store under test; subclasses override this."""
        raise NotImplementedError("subclasses of TokenStoreContract provide store_factory")

    @pytest.fixture
    def store(self, store_factory: StoreFactory) -> TokenStore:
        """Return a store of the implementation under test."""
        return store_factory(lock_timeout=LOCK_TIMEOUT)

    # --- get / set / delete ----------------------------------------------------------

    def test_store_satisfies_the_protocol(self, store: TokenStore) -> None:
        assert isinstance(store, TokenStore)

    async def test_get_of_a_missing_key_returns_none(self, store: TokenStore) -> None:
        assert await store.get(KEY) is None

    @pytest.mark.parametrize(
        "token",
        [make_token(1), Token(f"{SECRET_MARK}only-access")],
        ids=["every-field", "access-token-only"],
    )
    async def test_set_then_get_returns_an_equal_token(
        self, store: TokenStore, token: Token
    ) -> None:
        await store.set(KEY, token)

        stored = await store.get(KEY)

        assert type(stored) is Token
        assert stored == token
        assert dict(stored.extra) == dict(token.extra)

    async def test_set_replaces_the_previous_token(self, store: TokenStore) -> None:
        await store.set(KEY, make_token(1))
        await store.set(KEY, make_token(2))

        assert await store.get(KEY) == make_token(2)

    async def test_delete_forgets_the_token(self, store: TokenStore) -> None:
        await store.set(KEY, make_token(1))

        await store.delete(KEY)

        assert await store.get(KEY) is None

    async def test_delete_of_a_missing_key_is_not_an_error(self, store: TokenStore) -> None:
        await store.delete(KEY)
        await store.delete(KEY)

        assert await store.get(KEY) is None

    async def test_keys_hold_separate_tokens(self, store: TokenStore) -> None:
        await store.set(KEY, make_token(1))
        await store.set(OTHER_KEY, make_token(2))

        await store.delete(KEY)

        assert await store.get(KEY) is None
        assert await store.get(OTHER_KEY) == make_token(2)

    @pytest.mark.parametrize("key", UNUSUAL_KEYS, ids=repr)
    async def test_unusual_valid_keys_round_trip_separately(
        self, store: TokenStore, key: str
    ) -> None:
        await store.set(key, make_token(1))
        await store.set(KEY, make_token(2))

        assert await store.get(key) == make_token(1)
        await store.delete(key)
        assert await store.get(key) is None
        assert await store.get(KEY) == make_token(2)

    @pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
    async def test_invalid_keys_raise_configuration_error(
        self, store: TokenStore, key: Any
    ) -> None:
        with pytest.raises(ConfigurationError, match="key"):
            await store.get(key)
        with pytest.raises(ConfigurationError, match="key"):
            await store.set(key, make_token(1))
        with pytest.raises(ConfigurationError, match="key"):
            await store.delete(key)
        # Raised either when lock() is called or when it is entered.
        with pytest.raises(ConfigurationError, match="key"):
            async with store.lock(key):
                pass

    @pytest.mark.parametrize("value", NOT_TOKENS, ids=lambda value: type(value).__name__)
    async def test_setting_a_non_token_fails_and_keeps_the_previous_token(
        self, store: TokenStore, value: Any
    ) -> None:
        await store.set(KEY, make_token(1))

        with pytest.raises(ConfigurationError, match="token") as raised:
            await store.set(KEY, value)

        assert SECRET_MARK not in str(raised.value)
        assert await store.get(KEY) == make_token(1)

    async def test_concurrent_readers_see_only_complete_tokens(self, store: TokenStore) -> None:
        writes = 100
        done = asyncio.Event()
        seen: set[int] = set()

        async def write() -> None:
            for number in range(writes):
                await store.set(KEY, make_token(number))
                await asyncio.sleep(0)
            done.set()

        async def read() -> None:
            while not done.is_set():
                token = await store.get(KEY)
                if token is not None:
                    # Every field must come from the same write.
                    assert token == make_token(token_number(token))
                    seen.add(token_number(token))
                await asyncio.sleep(0)

        await asyncio.wait_for(asyncio.gather(write(), read(), read(), read()), BOUND)

        assert seen
        assert await store.get(KEY) == make_token(writes - 1)

    async def test_repr_shows_no_secret(self, store: TokenStore) -> None:
        await store.set(KEY, make_token(1))

        assert SECRET_MARK not in repr(store)
        assert SECRET_MARK not in str(store)
        assert SECRET_MARK not in repr(store.lock(KEY))

    async def test_stores_share_state_only_through_a_shared_backend(
        self, store_factory: StoreFactory
    ) -> None:
        first = store_factory(lock_timeout=SHORT_LOCK_TIMEOUT)
        second = store_factory(lock_timeout=SHORT_LOCK_TIMEOUT)

        await first.set(KEY, make_token(1))
        async with first.lock(KEY):
            if self.shares_backend:
                assert await second.get(KEY) == make_token(1)
                with pytest.raises(StoreError):
                    async with second.lock(KEY):
                        pass
            else:
                assert await second.get(KEY) is None
                async with second.lock(KEY):
                    pass

    # --- lock ------------------------------------------------------------------------

    async def test_lock_admits_one_holder_at_a_time(self, store: TokenStore) -> None:
        inside = 0
        most_inside = 0
        entries = 0

        async def critical_section() -> None:
            nonlocal inside, most_inside, entries
            for _ in range(3):
                async with store.lock(KEY):
                    inside += 1
                    entries += 1
                    most_inside = max(most_inside, inside)
                    # Yield inside the section so that others get to try to enter.
                    await asyncio.sleep(0.001)
                    await asyncio.sleep(0)
                    inside -= 1

        await asyncio.wait_for(asyncio.gather(*(critical_section() for _ in range(8))), BOUND)

        assert most_inside == 1
        assert entries == 24

    async def test_locks_of_different_keys_are_independent(
        self, store_factory: StoreFactory
    ) -> None:
        store = store_factory(lock_timeout=SHORT_LOCK_TIMEOUT)

        async with store.lock(KEY), store.lock(OTHER_KEY):
            pass

    async def test_lock_wait_times_out_with_store_error_naming_the_key(
        self, store_factory: StoreFactory
    ) -> None:
        store = store_factory(lock_timeout=SHORT_LOCK_TIMEOUT)
        holding, release = asyncio.Event(), asyncio.Event()
        holder = asyncio.create_task(hold_lock(store, KEY, holding, release))
        await asyncio.wait_for(holding.wait(), BOUND)

        started = time.monotonic()
        with pytest.raises(StoreError) as raised:
            async with store.lock(KEY):
                pytest.fail("entered a lock another task holds")
        waited = time.monotonic() - started

        assert KEY in str(raised.value)
        assert "lock" in str(raised.value)
        assert SHORT_LOCK_TIMEOUT * 0.9 <= waited < BOUND
        release.set()
        await asyncio.wait_for(holder, BOUND)
        # The timed-out wait left nothing behind: the lock is free again.
        async with store.lock(KEY):
            pass

    async def test_lock_is_not_reentrant_and_says_so_by_timing_out(
        self, store_factory: StoreFactory
    ) -> None:
        store = store_factory(lock_timeout=SHORT_LOCK_TIMEOUT)

        async with store.lock(KEY):
            with pytest.raises(StoreError):
                async with store.lock(KEY):
                    pytest.fail("entered a lock this task already holds")

        async with store.lock(KEY):
            pass

    async def test_lock_is_released_when_its_block_raises(
        self, store_factory: StoreFactory
    ) -> None:
        store = store_factory(lock_timeout=SHORT_LOCK_TIMEOUT)

        with pytest.raises(LookupError):
            async with store.lock(KEY):
                raise LookupError("the token request failed")

        async with store.lock(KEY):
            pass

    async def test_lock_is_released_when_its_holder_is_cancelled(
        self, store_factory: StoreFactory
    ) -> None:
        store = store_factory(lock_timeout=SHORT_LOCK_TIMEOUT)
        holding, never = asyncio.Event(), asyncio.Event()
        holder = asyncio.create_task(hold_lock(store, KEY, holding, never))
        await asyncio.wait_for(holding.wait(), BOUND)

        holder.cancel()
        with pytest.raises(asyncio.CancelledError):
            await holder

        async with store.lock(KEY):
            pass

    async def test_waiter_cancelled_while_waiting_never_takes_the_lock(
        self, store_factory: StoreFactory
    ) -> None:
        # Long enough for the waiter to be waiting when it is cancelled, short
        # enough that a lock leaked to it fails the last ``async with`` quickly.
        store = store_factory(lock_timeout=1.0)
        holding, release = asyncio.Event(), asyncio.Event()
        holder = asyncio.create_task(hold_lock(store, KEY, holding, release))
        await asyncio.wait_for(holding.wait(), BOUND)
        entered = False

        async def wait_for_lock() -> None:
            nonlocal entered
            async with store.lock(KEY):
                entered = True

        waiter = asyncio.create_task(wait_for_lock())
        await asyncio.sleep(0.01)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        release.set()
        await asyncio.wait_for(holder, BOUND)

        async with store.lock(KEY):
            pass
        assert not entered

    async def test_lock_does_not_block_get_set_and_delete(self, store: TokenStore) -> None:
        async with store.lock(KEY):
            await asyncio.wait_for(store.set(KEY, make_token(1)), BOUND)
            assert await asyncio.wait_for(store.get(KEY), BOUND) == make_token(1)
            await asyncio.wait_for(store.delete(KEY), BOUND)
            assert await store.get(KEY) is None
