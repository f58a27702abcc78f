"""An HTTP message as the signature components see it (RFC 9421 §2), sans-IO.

A message is plain values: the method and target URL of a request, or the
status of a response, and header fields as ``(name, value)`` pairs in the order
they are sent. [`TargetURI`][] holds the parts of the URL that the derived
components use; [`Message`][] indexes the header fields on first use and
parses the query for ``@query-param``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final, NamedTuple, TypeAlias
from urllib.parse import parse_qsl, quote, urlsplit

from yarl import URL

from ..errors import SigningError

__all__ = ["Headers", "Message", "RequestMessage", "TargetURI", "normalise_authority"]

Headers: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]]
"""Header fields: a mapping (a ``CIMultiDict`` gives every line) or ``(name, value)``
pairs, in the order they are sent; a name may repeat."""

_DEFAULT_PORTS: Final = {"http": "80", "https": "443", "ws": "80", "wss": "443"}
# A URL as sent is printable ASCII without spaces (RFC 3986 §2); urlsplit
# would silently drop tabs and newlines instead of refusing them.
_UNSAFE_URL: Final = re.compile(r"[^\x21-\x7e]")


class TargetURI(NamedTuple):
    """The parts of a request's target URI that derived components use (RFC 9421 §2.2).

    Attributes:
        scheme: lower-case scheme, ``"https"``.
        authority: normalised ``host[:port]``: lower case, no default port.
        path: the raw (percent-encoded) path, as sent.
        query: the raw query string without ``?``, ``""`` when there is none.
    """

    scheme: str
    authority: str
    path: str
    query: str

    @classmethod
    def parse(cls, url: str | URL) -> TargetURI:
        """Take the parts of an absolute *url*, given as sent (already percent-encoded).

        Raises:
            SigningError: *url* is relative, malformed, or holds whitespace,
                control or non-ASCII characters.
        """
        if isinstance(url, URL):
            return cls.from_url(url)
        if not isinstance(url, str):
            raise SigningError(f"url: expected a string, a yarl URL or a TargetURI, got {url!r}")
        if _UNSAFE_URL.search(url):
            raise SigningError(
                "url: contains whitespace, control or non-ASCII characters; pass it "
                "percent-encoded, as it is sent"
            )
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise SigningError("url: not a valid URL") from None
        host = parts.hostname
        if not parts.scheme or not host:
            raise SigningError("url: must be absolute, such as https://api.example.com/path")
        if ":" in host:
            host = f"[{host}]"
        if port is not None and _DEFAULT_PORTS.get(parts.scheme) != str(port):
            host = f"{host}:{port}"
        return cls(parts.scheme, host, parts.path, parts.query)

    @classmethod
    def from_url(cls, url: URL, host: str | None = None) -> TargetURI:
        """Take the parts of the absolute yarl *url*; *host* is the ``Host`` header, if any.

        Raises:
            SigningError: *url* is relative.
        """
        authority = host or url.host_port_subcomponent
        if not url.absolute or not authority:
            raise SigningError("url: must be absolute, such as https://api.example.com/path")
        return cls(
            url.scheme,
            normalise_authority(authority, url.scheme),
            url.raw_path,
            url.raw_query_string,
        )


def normalise_authority(authority: str, scheme: str) -> str:
    """Normalise a ``Host`` header value for ``@authority``: lower case, no default port.

    RFC 9421 §2.2.3 takes the authority as HTTP normalises it (RFC 9110 §4.2.3).
    """
    authority = authority.strip().lower()
    default = _DEFAULT_PORTS.get(scheme)
    if default is not None and authority.endswith(":" + default):
        return authority[: -len(default) - 1]
    return authority


class RequestMessage(NamedTuple):
    """The request a signed response answers, for components with ``;req`` (RFC 9421 §2.4).

    Attributes:
        method: the request method.
        url: the absolute target URL, as sent, or its [`TargetURI`][].
        headers: the request's header fields.
    """

    method: str
    url: str | URL | TargetURI
    headers: Headers = ()


class Message:
    """One HTTP message as the components see it; field lines indexed on first use.

    Args:
        method: the request method, or None for a response.
        url: the request's target URL, or None for a response.
        headers: the header fields.
        status: the response status code, or None for a request.
        request: the request a response answers, for ``;req`` components.
        field_names: the only field names to index (the covered ones), or None.
    """

    __slots__ = (
        "_fields",
        "_headers",
        "_names",
        "_query",
        "_request",
        "_target",
        "method",
        "request",
        "status",
        "url",
    )

    def __init__(
        self,
        *,
        method: str | None,
        url: str | URL | TargetURI | None,
        headers: Headers,
        status: int | None = None,
        request: RequestMessage | None = None,
        field_names: frozenset[str] | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.request = request
        self._headers = headers
        self._names = field_names
        self._fields: dict[str, list[str]] | None = None
        self._target: TargetURI | None = None
        self._query: list[tuple[str, str]] | None = None
        self._request: Message | None = None

    @property
    def kind(self) -> str:
        """``"request"`` or ``"response"``, for error messages."""
        return "request" if self.status is None else "response"

    def target(self, component: str) -> TargetURI:
        """Return the target URI; *component* names what needs it, for the error."""
        if self._target is None:
            if self.url is None:
                raise SigningError(
                    f"a response has no {component}: cover '{component};req' and pass the request"
                )
            url = self.url
            self._target = url if isinstance(url, TargetURI) else TargetURI.parse(url)
        return self._target

    def field_lines(self, name: str) -> list[str]:
        """Return the values of every line of the header field *name* (lower case), in order."""
        index = self._fields
        if index is None:
            index = self._fields = {}
            headers = self._headers
            pairs = headers.items() if isinstance(headers, Mapping) else headers
            names = self._names
            for field, value in pairs:
                if not isinstance(field, str) or not isinstance(value, str):
                    raise SigningError(
                        f"headers: expected (name, value) pairs of strings, got {field!r}"
                    )
                key = field.lower()
                if names is None or key in names:
                    index.setdefault(key, []).append(value)
        return index.get(name, [])

    def query_params(self) -> list[tuple[str, str]]:
        """Return the query's (name, value) pairs, each form-decoded and re-encoded (§2.2.8)."""
        if self._query is None:
            query = self.target("@query-param").query
            self._query = [
                (_form_encode(name), _form_encode(value))
                for name, value in parse_qsl(query, keep_blank_values=True)
            ]
        return self._query

    def for_request(self, component: str) -> Message:
        """Return the request a response answers, for a component with ``;req``."""
        if self.status is None:
            raise SigningError(f"{component}: the req parameter applies only to responses")
        if self.request is None:
            raise SigningError(f"{component} covers the request: pass request= with the response")
        if self._request is None:
            method, url, headers = self.request
            self._request = Message(method=method, url=url, headers=headers)
        return self._request


def _form_encode(text: str) -> str:
    # RFC 9421 §2.2.8: the WHATWG "percent-encode after encoding" of the
    # application/x-www-form-urlencoded set, so a space is %20, never "+";
    # only ASCII alphanumerics and *-._ stay as they are.
    return quote(text, safe="*").replace("~", "%7E")
