"""The token store protocol: where the OAuth 2 middleware keeps its tokens.

A [`TokenStore`][] maps a *key* (a name such as ``"client:api@https://idp/token"``)
to a [`Token`][aiohttp_auth.oauth2.token.Token], and offers a lock per key so
that concurrent refreshes of one token collapse into one token request: in one
process for [`MemoryTokenStore`][aiohttp_auth.stores.memory.MemoryTokenStore],
across processes and hosts for stores whose backend is shared (a file, Redis).

The middleware uses a store like this (the lock is advisory: ``get`` and ``set``
never take it, so reading a valid token costs no lock)::

    token = await store.get(key)
    if token is None or token.needs_refresh(now=now, leeway=leeway):
        async with store.lock(key):
            token = await store.get(key)  # another holder may have refreshed it
            if token is None or token.needs_refresh(now=now, leeway=leeway):
                token = await obtain_token()
                await store.set(key, token)

Implementations check their arguments with [`validate_key`][] and
[`validate_token`][], and run the shared contract suite
(``tests/store_contract.py``) in the test suite.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..errors import ConfigurationError

if TYPE_CHECKING:
    # Only for annotations: importing the oauth2 package here would make every
    # ``import aiohttp_auth.stores`` pay for the grants and their JWT libraries.
    from ..oauth2.token import Token

__all__ = ["TokenStore", "validate_key", "validate_token"]


@runtime_checkable
class TokenStore(Protocol):
    """Keep tokens by key, and lock a key while its token is being replaced.

    Keys are non-empty strings of printable characters (see [`validate_key`][]);
    any other key raises [`ConfigurationError`][aiohttp_auth.errors.ConfigurationError]
    from every method. A failure of the backend (unreachable, locked, corrupt,
    misconfigured) raises [`StoreError`][aiohttp_auth.errors.StoreError] with a
    message that says what to check; no message, log line or repr of a store
    ever contains a token.

    A class satisfies the protocol structurally; ``isinstance(obj, TokenStore)``
    checks that the four methods exist, not their signatures.
    """

    async def get(self, key: str) -> Token | None:
        """Return the token stored under *key*, or ``None`` if there is none.

        Args:
            key: the token's name.

        Returns:
            The token last stored with `set`, equal in every field to the
            one given (the same object, for stores that keep objects in memory).

        Raises:
            ConfigurationError: *key* is not a valid key.
            StoreError: the backend failed, or what it holds is not a token
                (corrupt, or written with another key or passphrase).
        """
        ...

    async def set(self, key: str, token: Token) -> None:
        """Store *token* under *key*, replacing any previous token atomically.

        A concurrent `get` (in this process or, for shared stores, in
        another) sees either the previous token or *token*, never a mixture or
        a partly written one. If ``set`` fails, the previous token is kept.

        Args:
            key: the token's name.
            token: the complete token to keep.

        Raises:
            ConfigurationError: *key* is not a valid key, or *token* is not a
                [`Token`][aiohttp_auth.oauth2.token.Token].
            StoreError: the backend failed; the previous token is still stored.
        """
        ...

    async def delete(self, key: str) -> None:
        """Forget the token stored under *key*; a missing key is not an error.

        Args:
            key: the token's name.

        Raises:
            ConfigurationError: *key* is not a valid key.
            StoreError: the backend failed.
        """
        ...

    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        """Return a context manager holding the lock of *key* while its block runs.

        Among all users of the store, at most one block holds the lock of a key
        at a time: all tasks of one event loop for an in-memory store, all
        processes and hosts sharing the backend for a file or Redis store. Locks
        of different keys are independent. The lock is released when the block
        exits, by return, exception or cancellation; a task cancelled while
        waiting does not take it.

        The lock is advisory (`get`, `set` and `delete` do not
        take it) and not reentrant: a block that asks for the lock it already
        holds waits until the timeout.

        Waiting is bounded: each store has a lock timeout, after which entering
        the block raises [`StoreError`][aiohttp_auth.errors.StoreError] naming
        the key and what to check (usually a token request without a timeout,
        holding the lock). Stores that lock across processes also bound how long
        a lock outlives a crashed holder.

        Args:
            key: the token's name.

        Returns:
            An async context manager; entering it waits for the lock.

        Raises:
            ConfigurationError: *key* is not a valid key (when called or when
                entered, depending on the store).
            StoreError: (on entering) the lock was not obtained within the
                store's lock timeout, or the backend failed.
        """
        ...


def validate_key(key: object) -> str:
    """Return *key* if it is a valid token store key, else raise.

    A key is a non-empty string of printable characters (``str.isprintable``:
    letters, digits, punctuation, symbols and the space). Keys become keyring
    entry names, file names and Redis keys, and appear in error messages and
    log lines, where control characters and line breaks would do harm.

    Args:
        key: the value given as a key.

    Returns:
        The key, unchanged.

    Raises:
        ConfigurationError: *key* is not a string, is empty, or contains a
            non-printable character.
    """
    if not isinstance(key, str):
        raise ConfigurationError(
            f"key: a token store key is a non-empty string, got {type(key).__name__}"
        )
    if not key:
        raise ConfigurationError("key: a token store key is a non-empty string, got ''")
    if not key.isprintable():
        position = next(index for index, char in enumerate(key) if not char.isprintable())
        raise ConfigurationError(
            f"key: a token store key contains a non-printable character at position "
            f"{position} (code point U+{ord(key[position]):04X}); use printable characters"
        )
    return key


def validate_token(token: object) -> Token:
    """Return *token* if it is a [`Token`][aiohttp_auth.oauth2.token.Token], else raise.

    Stores call this in ``set`` so that nothing but a complete token ever
    replaces a stored one.

    Args:
        token: the value given as a token.

    Returns:
        The token, unchanged.

    Raises:
        ConfigurationError: *token* is not a ``Token`` (the message names only
            its type, never its value).
    """
    # Imported here, not at module level: see the TYPE_CHECKING import above.
    # Whoever passes a Token has imported the module already, so this costs a
    # dictionary lookup.
    from ..oauth2.token import Token

    if not isinstance(token, Token):
        raise ConfigurationError(
            f"token: a token store keeps aiohttp_auth.Token objects, got "
            f"{type(token).__name__}; build one with Token(access_token, ...)"
        )
    return token
