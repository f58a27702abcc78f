"""Origins and URL prefixes that credentials may be sent to (RFC 6454), sans-IO.

A credential must reach only the servers it was meant for. aiohttp runs client
middlewares again on every redirect hop, so every middleware asks an
[`OriginScope`][] before it adds anything to a request.

An origin is the triple (scheme, host, port) of RFC 6454 §4: the scheme and
host lower-cased, the host in its ASCII (IDNA) form, the port explicit or the
scheme's default. A *URL prefix* also restricts the path, segment-wise:
``https://api.example.com/v1`` admits ``/v1`` and ``/v1/users`` but not ``/v10``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Final, NamedTuple, TypeAlias

from yarl import URL

from .errors import ConfigurationError

__all__ = ["Origin", "OriginScope", "OriginsArg", "is_loopback_host", "is_secure_transport"]

OriginsArg: TypeAlias = str | URL | Iterable[str | URL] | None
"""What ``origins=`` accepts: ``None`` (bind to the first request's origin), one
origin or URL prefix, or an iterable of them.
"""

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_SECURE_SCHEMES = frozenset({"https", "wss"})
# A host name as yarl normalises it (lower case, IDNA): dot-separated labels of
# letters, digits, "-" and "_" (which real hosts use despite RFC 1123), with an
# optional trailing dot. It rejects what yarl lets through but no server can be
# named: spaces, commas ("https://a, https://b" in one string), "*" wildcards.
_HOST_NAME_RE: Final = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?")


class Origin(NamedTuple):
    """A web origin (RFC 6454 §4): scheme, ASCII host and port, all normalised."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: URL) -> Origin:
        """Return the origin of the absolute *url*."""
        return cls(url.scheme, url.raw_host or "", url.port or 0)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if _DEFAULT_PORTS.get(self.scheme) == self.port:
            return f"{self.scheme}://{host}"
        return f"{self.scheme}://{host}:{self.port}"


def is_loopback_host(host: str | None) -> bool:
    """Tell whether *host* names this machine: ``localhost`` or a loopback address.

    RFC 6761 §6.3 reserves ``localhost``; any 127.0.0.0/8 address and ``::1`` are
    loopback (RFC 1122 §3.2.1.3, RFC 4291 §2.5.3).
    """
    if not host:
        return False
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_secure_transport(url: URL) -> bool:
    """Tell whether a secret may travel to *url*: TLS, or a loopback host."""
    return url.scheme in _SECURE_SCHEMES or is_loopback_host(url.raw_host)


def _shown(value: object) -> str:
    # User info, a query or a fragment may hold a password or a key: then show
    # only where the value points, never the value itself.
    if not isinstance(value, (str, URL)):
        return repr(value)
    text = str(value)
    if not any(mark in text for mark in "@?#"):
        return repr(text)
    try:
        url = URL(text)
        where = f"{url.scheme}://{url.raw_host}" if url.scheme and url.raw_host else None
    except Exception:  # unparsable: see parse_origin
        where = None
    if where is None:
        return f"a value of {len(text)} chars (hidden: it may hold user info or a query)"
    return f"a URL to {where} (the rest hidden)"


def _bad(value: object, why: str) -> ConfigurationError:
    return ConfigurationError(
        f"origins: {_shown(value)} is not an origin or URL prefix ({why}); "
        "expected e.g. 'https://api.example.com' or 'https://api.example.com/v1/'"
    )


def _host_problem(host: str) -> str | None:
    """Say what is wrong with the normalised *host* of an origin, or None."""
    if ":" in host:  # yarl gives IPv6 literals without their brackets
        return None  # yarl has already checked the literal
    if _HOST_NAME_RE.fullmatch(host):
        return None
    if "*" in host:
        return "wildcards are not supported; list every origin"
    return f"{host!r} is not a host name; pass several origins as a list, not one string"


def parse_origin(value: str | URL) -> tuple[Origin, str | None]:
    """Parse one entry of ``origins=`` into an origin and an optional path prefix.

    Raises:
        ConfigurationError: *value* is not an absolute http(s)/ws(s) URL with a
            host and no user info, query or fragment.
    """
    if not isinstance(value, (str, URL)):
        raise _bad(value, f"got {type(value).__name__}, expected a string or a URL")
    try:
        url = URL(value) if isinstance(value, str) else value
        host = url.raw_host
        port = url.port
    except Exception as exc:
        # yarl signals malformed URLs with ValueError, but some inputs reach an
        # IndexError inside its parser (yarl 1.25, "https://u:[::1]x@"): any
        # failure to parse is a configuration error, never a crash.
        reason = str(exc) if isinstance(exc, ValueError) else type(exc).__name__
        raise _bad(value, f"it cannot be parsed: {reason}") from None
    if url.scheme not in _DEFAULT_PORTS:
        raise _bad(value, "the scheme must be http, https, ws or wss")
    if not host:
        raise _bad(value, "it has no host")
    if problem := _host_problem(host):
        raise _bad(value, problem)
    if port == 0:
        raise _bad(value, "port 0 is not a port a server listens on")
    if url.raw_user is not None or url.raw_password is not None:
        raise _bad(value, "it must not contain user info")
    if url.raw_query_string or url.raw_fragment:
        raise _bad(value, "it must not contain a query or fragment")
    prefix = url.raw_path.rstrip("/")
    return Origin(url.scheme, host, port or 0), prefix or None


def _path_under(path: str, prefix: str) -> bool:
    # Segment-wise, so that "/v1" does not admit "/v10".
    return path == prefix or (path.startswith(prefix) and path[len(prefix)] == "/")


class OriginScope:
    """Decides which requests may carry a middleware's credentials.

    Args:
        origins: ``None`` to bind to the origin of the first request that is
            authenticated (see [`bind`][]), or one or more origins or URL prefixes.
    """

    __slots__ = ("_bind_first", "_origins", "_prefixes")

    def __init__(self, origins: OriginsArg = None) -> None:
        self._origins: set[Origin] = set()
        self._prefixes: list[tuple[Origin, str]] = []
        self._bind_first = origins is None
        if origins is None:
            return
        entries = [origins] if isinstance(origins, (str, URL)) else origins
        if not isinstance(entries, Iterable):
            raise _bad(origins, "expected a string, a URL or a list of them")
        for entry in entries:
            origin, prefix = parse_origin(entry)
            if prefix is None:
                self._origins.add(origin)
            else:
                self._prefixes.append((origin, prefix))
        if not self._origins and not self._prefixes:
            raise _bad(origins, "the list is empty; pass None to bind to the first request")

    @property
    def unbound(self) -> bool:
        """True until the first authenticated request binds an ``origins=None`` scope."""
        return self._bind_first

    def admits(self, url: URL) -> bool:
        """Tell whether a request to *url* may carry the credentials.

        An unbound scope admits anything; the middleware then calls [`bind`][].
        """
        origin = Origin(url.scheme, url.raw_host or "", url.port or 0)
        if origin in self._origins or self._bind_first:
            return True
        return any(o == origin and _path_under(url.raw_path, p) for o, p in self._prefixes)

    def admits_whole_origin(self, url: URL) -> bool:
        """Tell whether every URL of *url*'s origin is admitted, whatever its path."""
        return Origin(url.scheme, url.raw_host or "", url.port or 0) in self._origins

    def bind(self, url: URL) -> Origin:
        """Bind an ``origins=None`` scope to the origin of *url* and return it."""
        origin = Origin.of(url)
        self._origins.add(origin)
        self._bind_first = False
        return origin

    def describe(self) -> str:
        """Render the scope for reprs and messages."""
        if self._bind_first:
            return "None"
        entries = sorted(str(o) for o in self._origins)
        entries += [f"{o}{p}" for o, p in self._prefixes]
        return repr(entries)
