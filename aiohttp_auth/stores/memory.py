"""[`MemoryTokenStore`][]: tokens in a dictionary, for the tasks of one process."""

from __future__ import annotations

import asyncio
import math
from collections import deque
from contextlib import AbstractAsyncContextManager, suppress
from typing import TYPE_CHECKING, Final

from .._redact import redacted_repr
from ..errors import ConfigurationError, StoreError
from .base import validate_key, validate_token

if TYPE_CHECKING:
    from types import TracebackType

    from ..oauth2.token import Token

__all__ = ["MemoryTokenStore"]

#: Default bound, in seconds, on waiting for the lock of a key.
DEFAULT_LOCK_TIMEOUT: Final = 30.0


class MemoryTokenStore:
    """Keep tokens in memory, in a dictionary of this instance.

    Tokens live as long as the store: nothing is written anywhere, and two
    stores never share a token (there is no global state). Tokens are kept as
    the very objects given to ``set``; [`Token`][aiohttp_auth.oauth2.token.Token]
    is immutable, so ``get`` returns them as is.

    [`lock`][aiohttp_auth.stores.memory.MemoryTokenStore.lock] excludes the other
    tasks of the event loop using the store. Waiters are served first come,
    first served: a released lock passes directly to the longest waiting task.
    The state of a key's lock exists only while the lock is held; the last
    release forgets it, so a store used with many keys (one per user, say)
    keeps no lock state for keys nobody is locking.

    Use a store from one event loop at a time, like the ``ClientSession`` it
    serves: it is not thread-safe. It satisfies the
    [`TokenStore`][aiohttp_auth.stores.base.TokenStore] protocol.

    Args:
        lock_timeout: how long, in seconds, entering ``lock(key)`` waits for
            another holder before raising
            [`StoreError`][aiohttp_auth.errors.StoreError].

    Raises:
        ConfigurationError: *lock_timeout* is not a positive, finite number.
    """

    __slots__ = ("_lock_timeout", "_locks", "_tokens")

    def __init__(self, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        if (
            isinstance(lock_timeout, bool)
            or not isinstance(lock_timeout, (int, float))
            or not math.isfinite(lock_timeout)
            or lock_timeout <= 0
        ):
            raise ConfigurationError(
                f"lock_timeout: expected a positive, finite number of seconds, "
                f"got {lock_timeout!r}"
            )
        self._lock_timeout = float(lock_timeout)
        self._tokens: dict[str, Token] = {}
        # A key is here exactly while its lock is held; the deque holds the
        # tasks waiting for it (futures resolved True when handed the lock,
        # False when their wait timed out).
        self._locks: dict[str, deque[asyncio.Future[bool]]] = {}

    @property
    def lock_timeout(self) -> float:
        """Seconds that entering ``lock(key)`` waits before raising ``StoreError``."""
        return self._lock_timeout

    async def get(self, key: str) -> Token | None:
        """Return the token stored under *key*, or ``None``.

        Raises:
            ConfigurationError: *key* is not a valid key.
        """
        return self._tokens.get(validate_key(key))

    async def set(self, key: str, token: Token) -> None:
        """Store *token* under *key*, replacing any previous token.

        Raises:
            ConfigurationError: *key* is not a valid key, or *token* is not a ``Token``.
        """
        # Both checks come before the write, so a bad call keeps the previous token.
        validate_key(key)
        self._tokens[key] = validate_token(token)

    async def delete(self, key: str) -> None:
        """Forget the token stored under *key*, if any.

        Raises:
            ConfigurationError: *key* is not a valid key.
        """
        self._tokens.pop(validate_key(key), None)

    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        """Return an async context manager holding the lock of *key* in its block.

        Raises:
            ConfigurationError: *key* is not a valid key (raised here, at the call).
            StoreError: (on entering) another task held the lock for longer than
                [`lock_timeout`][aiohttp_auth.stores.memory.MemoryTokenStore.lock_timeout].
        """
        return _KeyLock(self, validate_key(key))

    def __repr__(self) -> str:
        return redacted_repr(self, keys=len(self._tokens), lock_timeout=self._lock_timeout)

    async def _acquire(self, key: str) -> None:
        waiters = self._locks.get(key)
        if waiters is None:
            self._locks[key] = deque()
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        waiters.append(waiter)
        timer = loop.call_later(self._lock_timeout, _give_up, waiter)
        try:
            granted = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.result():
                # The lock was handed over just as this task was cancelled:
                # pass it on, or the next waiter would wait for nobody.
                self._release(key)
            else:
                _discard(waiters, waiter)
            raise
        finally:
            timer.cancel()
        if not granted:
            _discard(waiters, waiter)
            raise StoreError(
                f"Gave up after {self._lock_timeout:g} s waiting for the lock on token key "
                f"{key!r} in a MemoryTokenStore: another task still holds it. Check that "
                "token requests have a timeout (a hung token endpoint keeps the lock), that "
                "no task takes the lock of a key it already holds (it is not reentrant), "
                f"or raise lock_timeout (now {self._lock_timeout:g} s)."
            )

    def _release(self, key: str) -> None:
        waiters = self._locks[key]
        while waiters:
            waiter = waiters.popleft()
            # Skip waiters that timed out or were cancelled but have not yet
            # run to remove themselves.
            if not waiter.done():
                waiter.set_result(True)
                return
        del self._locks[key]


class _KeyLock:
    """The context manager returned by ``MemoryTokenStore.lock(key)``.

    It keeps no state of its own: each entry acquires, each exit releases, so
    even one object entered by several tasks pairs every exit with its entry.
    """

    __slots__ = ("_key", "_store")

    def __init__(self, store: MemoryTokenStore, key: str) -> None:
        self._store = store
        self._key = key

    async def __aenter__(self) -> None:
        await self._store._acquire(self._key)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._store._release(self._key)


def _give_up(waiter: asyncio.Future[bool]) -> None:
    # Called by the loop when the wait times out; the waiter may have been
    # handed the lock or cancelled in the meantime.
    if not waiter.done():
        waiter.set_result(False)


def _discard(waiters: deque[asyncio.Future[bool]], waiter: asyncio.Future[bool]) -> None:
    # ``_release`` may already have dropped a waiter that timed out.
    with suppress(ValueError):
        waiters.remove(waiter)
