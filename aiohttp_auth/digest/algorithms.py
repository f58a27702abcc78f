"""The hash algorithms of HTTP Digest (RFC 7616 §3.2, §6.1) and their ranking.

RFC 7616 registers MD5, SHA-256 and SHA-512-256, each with a ``-sess``
variant. Servers in the wild (httpbin, and aiohttp's own client) also use
the unregistered ``SHA`` (SHA-1) and ``SHA-512``, and sometimes spell
SHA-256 and SHA-512 without the dash; those are accepted too.

An algorithm this Python's hashlib cannot compute (SHA-512-256 needs
OpenSSL 1.1.1 or later; MD5 is refused in FIPS mode) is known but not
available: a challenge naming it is skipped in favour of another one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Final, Protocol

__all__ = [
    "SUPPORTED_ALGORITHMS",
    "AlgorithmTable",
    "DigestAlgorithm",
    "HashConstructor",
    "HashObject",
    "algorithm_for",
    "unavailable_reason",
]


class HashObject(Protocol):
    """The part of a `hashlib` hash object that Digest uses."""

    def hexdigest(self) -> str:
        """Return the digest as lower-case hexadecimal."""
        ...

    def update(self, data: bytes, /) -> None:
        """Hash *data* after what was hashed so far."""
        ...

    def copy(self) -> HashObject:
        """Return a hash object in the same state, to go on with separately."""
        ...


HashConstructor = Callable[[bytes], HashObject]
"""A hash constructor: ``new(data).hexdigest()`` is H(data) of RFC 7616 §3.2."""


@dataclass(frozen=True)
class DigestAlgorithm:
    """A Digest algorithm this Python can compute.

    Attributes:
        name: the canonical name, e.g. ``"SHA-256-sess"``.
        hash_name: the `hashlib` name, e.g. ``"sha256"``.
        strength: rank for choosing among challenges; higher is stronger.
            A ``-sess`` variant ranks with its base algorithm.
        session: True for ``-sess`` variants (RFC 7616 §3.4.2).
        new: the hash constructor.
    """

    name: str
    hash_name: str
    strength: int
    session: bool
    new: HashConstructor


# (name, hashlib name, strength), weakest first. SHA-512 ranks below SHA-256
# because RFC 7616 registers SHA-256 and SHA-512-256, not plain SHA-512, so a
# server offering both expects SHA-256; SHA (SHA-1) ranks above MD5 only because
# it is less broken.
_SPECS: Final = (
    ("MD5", "md5", 1),
    ("SHA", "sha1", 2),
    ("SHA-512", "sha512", 3),
    ("SHA-256", "sha256", 4),
    ("SHA-512-256", "sha512_256", 5),
)
# Spellings seen in the wild (aiohttp's client accepts them) for the same algorithms.
_ALIASES: Final = {"SHA256": "SHA-256", "SHA512": "SHA-512"}


def _hash_constructor(hash_name: str) -> HashConstructor | None:
    """Return the fastest constructor for *hash_name*, or None if hashlib lacks it."""
    try:
        hashlib.new(hash_name, b"")
    except ValueError:
        return None
    # The named constructors (hashlib.sha256) skip hashlib.new's name lookup;
    # SHA-512/256 only exists through hashlib.new.
    constructor: HashConstructor | None = getattr(hashlib, hash_name, None)
    if constructor is None:
        constructor = partial(hashlib.new, hash_name)
    return constructor


class AlgorithmTable:
    """The Digest algorithms by name, as far as this Python's hashlib can compute them.

    Args:
        specs: ``(name, hashlib name, strength)`` rows; each also gets a
            ``-sess`` variant.
        aliases: other spellings, mapped to names in *specs*.
    """

    def __init__(self, specs: Iterable[tuple[str, str, int]], aliases: Mapping[str, str]) -> None:
        self._available: dict[str, DigestAlgorithm] = {}
        missing: set[str] = set()
        for name, hash_name, strength in specs:
            constructor = _hash_constructor(hash_name)
            for session, suffix in ((False, ""), (True, "-sess")):
                key = (name + suffix).upper()
                if constructor is None:
                    missing.add(key)
                else:
                    self._available[key] = DigestAlgorithm(
                        name + suffix, hash_name, strength, session, constructor
                    )
        for alias, name in aliases.items():
            for suffix in ("", "-SESS"):
                target = self._available.get(name.upper() + suffix)
                if target is None:
                    missing.add(alias + suffix)
                else:
                    self._available[alias + suffix] = target
        self._missing = frozenset(missing)
        canonical = {algorithm.name: algorithm for algorithm in self._available.values()}
        self.names: tuple[str, ...] = tuple(
            algorithm.name
            for algorithm in sorted(
                canonical.values(), key=lambda algorithm: (-algorithm.strength, algorithm.session)
            )
        )
        """Canonical names of the available algorithms, strongest first."""

    def get(self, name: str) -> DigestAlgorithm | None:
        """Return the algorithm called *name* (case-insensitive), or None if unavailable."""
        return self._available.get(name.upper())

    def unavailable_reason(self, name: str) -> str:
        """Say why the algorithm called *name* cannot be used."""
        if name.upper() in self._missing:
            return (
                f"algorithm {name!r} is not available in this Python's hashlib "
                "(SHA-512-256 needs OpenSSL 1.1.1 or later; MD5 is disabled in FIPS mode)"
            )
        return f"algorithm {name!r} is not supported (supported: {', '.join(self.names)})"


_TABLE: Final = AlgorithmTable(_SPECS, _ALIASES)

SUPPORTED_ALGORITHMS: Final[tuple[str, ...]] = _TABLE.names
"""Canonical names of the algorithms this Python can answer, strongest first."""


def algorithm_for(name: str) -> DigestAlgorithm | None:
    """Return the algorithm called *name* (case-insensitive), or None if unavailable."""
    return _TABLE.get(name)


def unavailable_reason(name: str) -> str:
    """Say why the algorithm called *name* cannot be used."""
    return _TABLE.unavailable_reason(name)
