"""Client nonces for Digest answers, many from one system call (RFC 7616 §3.4 ``cnonce``).

Every answered request needs a fresh client nonce. Drawing each from its own
``os.urandom`` call is a system call per request; [`ClientNonces`][] draws
the randomness of [`CNONCE_BATCH`][] nonces at once and hands them out one by
one. [`client_nonces`][] is the process's shared source, like the operating
system's random pool it draws from: a forked child forgets the batch its
parent also holds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Final

__all__ = ["CNONCE_BATCH", "CNONCE_BYTES", "ClientNonces", "client_nonces"]

CNONCE_BYTES: Final = 16
"""Random bytes in one client nonce (RFC 7616 §3.4 ``cnonce``)."""
CNONCE_BATCH: Final = 256
"""Client nonces drawn from one ``os.urandom`` call."""


class ClientNonces:
    """Client nonces from ``os.urandom``, drawn in batches (RFC 7616 §3.4 ``cnonce``).

    Each is ``make_cnonce(os.urandom(CNONCE_BYTES))`` in distribution, but one
    system call serves [`CNONCE_BATCH`][] requests. Handing out from a list
    iterator is one step under the GIL, so threads sharing a source never get
    the same nonce.
    """

    __slots__ = ("_batch",)

    def __init__(self) -> None:
        self._batch: Iterator[str] = iter(())

    def draw(self) -> str:
        """Return a new client nonce: ``2 * CNONCE_BYTES`` hexadecimal digits."""
        cnonce = next(self._batch, None)
        if cnonce is None:
            # Hexadecimal with a space after every CNONCE_BYTES bytes, split: all in C.
            drawn = os.urandom(CNONCE_BYTES * CNONCE_BATCH).hex(" ", CNONCE_BYTES)
            self._batch = batch = iter(drawn.split(" "))
            cnonce = next(batch)
        return cnonce

    def forget(self) -> None:
        """Drop the current batch (after a fork, the parent has it too)."""
        self._batch = iter(())


client_nonces: Final = ClientNonces()
"""The process's shared source of client nonces."""
if hasattr(os, "register_at_fork"):  # pragma: no branch - not on Windows, which cannot fork
    os.register_at_fork(after_in_child=client_nonces.forget)
