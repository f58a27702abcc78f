"""Digest protection spaces and their nonce counts, sans-IO (RFC 7616 §3.3, §3.4).

A protection space is what one set of Digest credentials covers: the URIs of
the challenge's ``domain`` parameter, or the whole origin when it has none
(RFC 7616 §3.3); for a proxy, the whole proxy. The middleware keeps one
[`ProtectionSpace`][] per space it was challenged for and answers later
requests in it preemptively, so N requests cost one 401, not N.

Nonce counts (RFC 7616 §3.4 ``nc``) are kept per nonce: [`ProtectionSpace.take`][]
hands out the credentials and the next count together, synchronously, so two
concurrent requests never send the same count for the same nonce, and a nonce
seen again (a server that reissues nonces) continues where it left off.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Final, NoReturn, TypeAlias

from yarl import URL

from .._origins import Origin
from .challenge import DigestChallenge
from .credentials import DigestCredentials

__all__ = [
    "MAX_DOMAIN_URIS",
    "MAX_NONCE_COUNT",
    "MAX_SPACES",
    "Prefix",
    "ProtectionSpace",
    "ProtectionSpaces",
    "space_prefixes",
]

MAX_NONCE_COUNT: Final = 0xFFFFFFFF
"""The largest nonce count: ``nc`` is 8 hexadecimal digits (RFC 7616 §3.4)."""
MAX_SPACES: Final = 64
"""Protection spaces one middleware remembers; the least recently challenged go first."""
MAX_DOMAIN_URIS: Final = 32
"""``domain`` URIs read from one challenge; a hostile server cannot make every
request scan thousands of them.
"""
# Nonces whose counts a space remembers after moving to another nonce.
_REMEMBERED_NONCES: Final = 16

Prefix: TypeAlias = tuple[Origin, str]
"""A URI prefix of a protection space: an origin and a path without its
trailing slash (``""`` is the whole origin), matched segment-wise.
"""
_HTTP_SCHEMES: Final = frozenset({"http", "https"})


def _prefix_length(prefix: str, path: str) -> int:
    """Length of *prefix* if it covers *path* segment-wise, else -1."""
    if not prefix or path == prefix or path.startswith(prefix + "/"):
        return len(prefix)
    return -1


def space_prefixes(
    domain: Iterable[str], url: URL, admits: Callable[[URL], bool]
) -> tuple[Prefix, ...]:
    """Return the URI prefixes of the protection space a challenge to *url* defines.

    RFC 7616 §3.3: the ``domain`` URIs, each the prefix of the URIs in the
    space, relative ones resolved against the challenged URL; without
    ``domain``, every URI of the challenged origin. A URI at an origin that
    *admits* refuses is dropped, so a challenge never sends credentials
    anywhere the middleware's scope does not allow. If the ``domain`` leaves
    out *url* itself, *url*'s path is added: it was challenged, so it belongs.

    Args:
        domain: the challenge's ``domain`` URIs, as sent.
        url: the URL of the request that was challenged.
        admits: the middleware's scope check.
    """
    origin = Origin.of(url)
    prefixes: dict[Prefix, None] = {}
    for entry in list(domain)[:MAX_DOMAIN_URIS]:
        try:
            target = url.join(URL(entry))
            host = target.raw_host
        except Exception:  # noqa: S112 - yarl signals bad URIs with several types
            continue
        if target.scheme in _HTTP_SCHEMES and host and admits(target):
            prefixes[Origin.of(target), target.raw_path.rstrip("/")] = None
    if not prefixes:
        return ((origin, ""),)
    path = url.raw_path
    if all(o != origin or _prefix_length(p, path) < 0 for o, p in prefixes):
        prefixes[origin, path.rstrip("/")] = None
    return tuple(prefixes)


class ProtectionSpace:
    """One protection space: its URI prefixes, current credentials and nonce count.

    Args:
        realm: the realm of the challenge that defined it.
        prefixes: its URI prefixes (see [`space_prefixes`][]).
        credentials: the answers for the current nonce.
    """

    __slots__ = ("_counts", "_nc", "credentials", "prefixes", "realm")

    def __init__(
        self, realm: str, prefixes: tuple[Prefix, ...], credentials: DigestCredentials
    ) -> None:
        self.realm = realm
        self.prefixes = prefixes
        self.credentials = credentials
        """The credentials for the current nonce."""
        self._nc = 0
        # Last count sent with earlier nonces, oldest first.
        self._counts: dict[str, int] = {}

    @property
    def nonce(self) -> str:
        """The current server nonce."""
        return self.credentials.challenge.nonce

    def covers(self, origin: tuple[str, str, int], path: str) -> int:
        """Return how specifically this space covers *origin* and *path*, or -1.

        The length of the longest matching prefix: a space for ``/a/b/`` is
        more specific than one for the whole origin.
        """
        best = -1
        for prefix_origin, prefix in self.prefixes:
            if prefix_origin == origin:
                best = max(best, _prefix_length(prefix, path))
        return best

    def take(self) -> tuple[DigestCredentials, int] | None:
        """Reserve the next nonce count and return it with the credentials it goes with.

        Synchronous, so concurrent requests each get their own count.

        Returns:
            The credentials and the count, or None when the nonce has used
            every count (then the request goes without, and the server's
            challenge brings a new nonce).
        """
        nc = self._nc + 1
        if nc > MAX_NONCE_COUNT:
            return None
        self._nc = nc
        return self.credentials, nc

    def use(self, credentials: DigestCredentials) -> None:
        """Switch to *credentials* (a new nonce, or a new challenge for this space).

        The count restarts at 1 for a nonce not seen before (RFC 7616 §3.4,
        §3.5 ``nextnonce``) and continues for one seen recently, so a count is
        never sent twice with one nonce.
        """
        old, new = self.nonce, credentials.challenge.nonce
        if new != old:
            counts = self._counts
            counts[old] = self._nc
            self._nc = counts.pop(new, 0)
            if len(counts) > _REMEMBERED_NONCES:
                del counts[next(iter(counts))]
        self.credentials = credentials

    def renew(self, nextnonce: str) -> None:
        """Use the server's ``nextnonce`` (RFC 7616 §3.5) from now on, with the same H(A1)."""
        if nextnonce and nextnonce != self.nonce:
            self.use(self.credentials.with_nonce(nextnonce))


def _same_but_nonce(known: DigestChallenge, challenge: DigestChallenge) -> bool:
    return dataclasses.replace(challenge, nonce=known.nonce, stale=known.stale) == known


class ProtectionSpaces:
    """The protection spaces one login knows, found by URL (RFC 7616 §3.3).

    A space is identified by its realm and URI prefixes; a new challenge for
    the same space replaces its credentials.

    Args:
        login: the username.
        password: the password.
        limit: how many spaces to remember; the least recently challenged is
            forgotten first.
    """

    __slots__ = ("_limit", "_login", "_password", "_spaces", "whole_origins")

    def __init__(self, login: str, password: str, *, limit: int = MAX_SPACES) -> None:
        self._login = login
        self._password = password
        self._limit = limit
        # Least recently challenged first.
        self._spaces: dict[tuple[str, tuple[Prefix, ...]], ProtectionSpace] = {}
        self.whole_origins: Mapping[tuple[str, str, int], ProtectionSpace] = {}
        """Origins that only spaces covering the whole origin cover (a challenge
        without ``domain``: the usual case), each with the space [`find`][] returns
        there: one lookup instead of a scan. Replaced, never changed, on [`learn`][].
        """

    def __len__(self) -> int:
        return len(self._spaces)

    def __iter__(self) -> Iterator[ProtectionSpace]:
        """Iterate over the spaces, least recently challenged first."""
        return iter(list(self._spaces.values()))

    def find(self, url: URL, origin: tuple[str, str, int] | None = None) -> ProtectionSpace | None:
        """Return the space that covers *url* most specifically, or None.

        Among equally specific spaces, the most recently challenged wins.

        Args:
            url: the request's URL.
            origin: ``(scheme, host, port)`` of *url*, equal to ``Origin.of(url)``,
                if the caller has it already.
        """
        if origin is None:
            # Equal to Origin.of(url), but built without the Python code of
            # NamedTuple.__new__.
            origin = (url.scheme, url.raw_host or "", url.port or 0)
        whole = self.whole_origins.get(origin)
        if whole is not None:
            return whole
        path = url.raw_path
        found: ProtectionSpace | None = None
        best = -1
        for space in self._spaces.values():
            length = space.covers(origin, path)
            if length >= best and length >= 0:
                found, best = space, length
        return found

    def learn(self, challenge: DigestChallenge, prefixes: tuple[Prefix, ...]) -> ProtectionSpace:
        """Record *challenge* for the space of its realm and *prefixes*, and return the space.

        A challenge that differs from the space's only in its nonce (``stale=true``,
        RFC 7616 §3.3) reuses H(A1); any other is answered afresh.

        Raises:
            ChallengeError: the challenge cannot be answered (see
                [`DigestCredentials`][.credentials.DigestCredentials]).
        """
        key = (challenge.realm, prefixes)
        space = self._spaces.pop(key, None)
        if space is None:
            space = ProtectionSpace(challenge.realm, prefixes, self._credentials(challenge))
        elif _same_but_nonce(space.credentials.challenge, challenge):
            space.use(space.credentials.with_nonce(challenge.nonce))
        else:
            space.use(self._credentials(challenge))
        self._spaces[key] = space
        if len(self._spaces) > self._limit:
            del self._spaces[next(iter(self._spaces))]
        self._index_whole_origins()
        return space

    def _index_whole_origins(self) -> None:
        """Rebuild the index of origins that only whole-origin spaces cover."""
        whole: dict[Origin, ProtectionSpace] = {}
        with_paths: set[Origin] = set()
        for space in self._spaces.values():  # the most recently challenged last, so it wins
            for origin, prefix in space.prefixes:
                if prefix:
                    with_paths.add(origin)
                else:
                    whole[origin] = space
        self.whole_origins = {o: s for o, s in whole.items() if o not in with_paths}

    def _credentials(self, challenge: DigestChallenge) -> DigestCredentials:
        return DigestCredentials(challenge, self._login, self._password)

    def __reduce__(self) -> NoReturn:
        # It holds the password and H(A1) values.
        raise TypeError("ProtectionSpaces cannot be pickled: they hold credentials")
