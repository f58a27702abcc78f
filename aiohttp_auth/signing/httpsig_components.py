"""Covered components of RFC 9421 §2: identifiers, derived components, the base, sans-IO.

A signature covers an ordered list of *components*, each named by a
*component identifier*: a structured-field string with parameters, such as
``"@method"``, ``"content-type"`` or ``"@query-param";name="Pet"``. This
module turns identifiers into [`Component`][] objects (validated once) and
computes each one's value from a
[`Message`][aiohttp_auth.signing.httpsig_message.Message], the way a signer
and a verifier must agree on byte for byte.

Identifiers are written here as users write them: ``@method``,
``content-digest``, ``example-dict;key="a"``, ``@query-param;name="Pet"``, or
in their serialized form with the name quoted. Field names are lower-cased.
How header fields are serialised (``;sf``, ``;key``, ``;bs``) is in
[`aiohttp_auth.signing.httpsig_fields`][].
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

from http_sfv.item import Item
from http_sfv.string import ser_string

from ..errors import SigningError
from .httpsig_fields import Resolver, StructuredType, field_resolver, flag
from .httpsig_message import Message

__all__ = ["DERIVED_COMPONENTS", "Component", "build_signature_base", "parse_identifier"]

DERIVED_COMPONENTS: Final = frozenset(
    {
        "@method",
        "@target-uri",
        "@authority",
        "@scheme",
        "@request-target",
        "@path",
        "@query",
        "@query-param",
        "@status",
    }
)
"""The derived components of RFC 9421 §2.2."""

# A signature base is printable ASCII plus HTAB, one component per line
# (RFC 9421 §2.5): anything else would change or forge its lines.
_UNSAFE_VALUE: Final = re.compile(r"[^\t\x20-\x7e]")


def _method(message: Message) -> str:
    if message.method is None:
        raise SigningError("a response has no @method: cover '@method;req' and pass the request")
    return message.method


def _target_uri(message: Message) -> str:
    target = message.target("@target-uri")
    query = "?" + target.query if target.query else ""
    return f"{target.scheme}://{target.authority}{target.path or '/'}{query}"


def _request_target(message: Message) -> str:
    target = message.target("@request-target")
    if message.method == "CONNECT":
        return target.authority
    return (target.path or "/") + ("?" + target.query if target.query else "")


def _status(message: Message) -> str:
    status = message.status
    if status is None:
        raise SigningError("a request has no @status: it covers responses only")
    return str(status)


_DERIVED: Final[Mapping[str, Resolver]] = {
    "@method": _method,
    "@target-uri": _target_uri,
    "@authority": lambda message: message.target("@authority").authority,
    "@scheme": lambda message: message.target("@scheme").scheme,
    "@request-target": _request_target,
    "@path": lambda message: message.target("@path").path or "/",
    "@query": lambda message: "?" + message.target("@query").query,
    "@status": _status,
}


def _query_param(name: str) -> Resolver:
    def resolve(message: Message) -> str:
        values = [value for key, value in message.query_params() if key == name]
        if len(values) != 1:
            problem = "is not in the query" if not values else "occurs more than once"
            # RFC 9421 §2.2.8: a repeated name cannot be covered; sign @query instead.
            raise SigningError(f"@query-param {name!r} {problem}; cover @query instead")
        return values[0]

    return resolve


class Component:
    """One covered component: its identifier, serialized once, and how to get its value.

    Build it with [`parse_identifier`][] (what users write) or from an
    ``http_sfv.Item`` parsed from a received ``Signature-Input``.

    Args:
        item: the component identifier as a structured-field item.
        structured_fields: field name -> structured type, for ``;sf``.

    Raises:
        SigningError: the identifier is invalid (RFC 9421 §2.5): not a string, an
            unknown derived component, a field name not in lower case, a parameter
            that does not apply or an incompatible pair (``sf`` with ``bs``),
            ``@signature-params``, ``;tr`` (trailers are not supported), or
            ``;sf`` on a field of unknown type.
    """

    __slots__ = (
        "display",
        "identifier",
        "identity",
        "item",
        "line_prefix",
        "name",
        "req",
        "resolve",
    )

    display: str
    identifier: str
    identity: tuple[str, frozenset[tuple[str, object]]]
    item: Item
    line_prefix: str
    name: str
    req: bool
    resolve: Resolver

    def __init__(self, item: Item, structured_fields: Mapping[str, StructuredType]) -> None:
        name = item.value
        if type(name) is not str:
            raise SigningError(f"component identifier {item}: not a structured-field string")
        params = dict(item.params)
        self.item = item
        self.name = name
        self.req = flag(params.pop("req", None), name, "req")
        if name.startswith("@"):
            resolve = self._derived(name, params)
        else:
            resolve = field_resolver(name, params, structured_fields)
        self.identifier = str(item)
        self.line_prefix = self.identifier + ": "
        self.display = name + str(item.params)
        # RFC 9421 §2.5: a component may be covered once; the order of its
        # parameters does not make it another one.
        self.identity = (name, frozenset(item.params.items()))
        if self.req:
            self.resolve = lambda message: resolve(message.for_request(self.display))
        else:
            self.resolve = resolve

    @staticmethod
    def _derived(name: str, params: dict[str, object]) -> Resolver:
        if name == "@query-param":
            query_name = params.pop("name", None)
            if type(query_name) is not str:
                raise SigningError('@query-param needs a name="..." string parameter')
            resolve = _query_param(query_name)
        elif name in _DERIVED:
            resolve = _DERIVED[name]
        else:
            raise SigningError(
                f"component {name!r}: not a derived component of RFC 9421 §2.2 "
                f"({', '.join(sorted(DERIVED_COMPONENTS))})"
            )
        if params:
            raise SigningError(
                f"component {name!r}: parameter {next(iter(params))!r} does not apply"
            )
        return resolve

    def value(self, message: Message) -> str:
        """Return this component's value in *message*, checked for the signature base.

        Raises:
            SigningError: the message lacks the component, or its value holds a
                character a signature base cannot (RFC 9421 §2.5).
        """
        value = self.resolve(message)
        if _UNSAFE_VALUE.search(value):
            hint = "" if self.name.startswith("@") else f"; cover it as '{self.name};bs'"
            raise SigningError(
                f"the value of {self.display} holds a control or non-ASCII character{hint}"
            )
        return value

    def __repr__(self) -> str:
        return f"Component({self.display!r})"


def parse_identifier(text: str) -> Item:
    """Parse a component identifier as users write it into an ``http_sfv.Item``.

    ``@method``, ``Content-Type`` (field names are lower-cased),
    ``example-dict;key="a"``, ``@query-param;name="Pet"``, or the serialized
    form ``"@query-param";name="Pet"``.

    Raises:
        SigningError: *text* is not a string or not a valid identifier.
    """
    if not isinstance(text, str) or not text.strip():
        raise SigningError(f"component identifier: expected a non-empty string, got {text!r}")
    text = text.strip()
    if not text.startswith('"'):
        name, separator, params = text.partition(";")
        try:
            text = ser_string(name.strip()) + separator + params
        except ValueError:
            raise SigningError(f"component identifier {text!r}: not printable ASCII") from None
    item = Item()
    try:
        item.parse(text.encode("ascii"))
    except ValueError:
        raise SigningError(f"component identifier {text!r}: not a valid identifier") from None
    if type(item.value) is str and not item.value.startswith("@"):
        item.value = item.value.lower()
    return item


def build_signature_base(
    components: Iterable[Component], message: Message, signature_params: str
) -> str:
    """Build the signature base of RFC 9421 §2.5: one line per component, then the parameters.

    Raises:
        SigningError: a component's value is missing or cannot be signed.
    """
    lines = [component.line_prefix + component.value(message) + "\n" for component in components]
    lines.append('"@signature-params": ')
    lines.append(signature_params)
    return "".join(lines)
