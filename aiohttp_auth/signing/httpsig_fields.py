"""HTTP fields as covered components (RFC 9421 §2.1), sans-IO.

A header field is covered by its lower-case name, and its value is every line
of the field, trimmed and joined with ``", "``. Parameters change how the
value is serialised:

- ``;sf``: parsed as a structured field of its known type and re-serialised
  (§2.1.1), so that whitespace changes by intermediaries do not matter;
- ``;key="member"``: one member of a dictionary field, with its parameters
  (§2.1.2);
- ``;bs``: each line's bytes as a byte sequence (§2.1.3), for values that are
  not ASCII or that an intermediary might recombine.

Structured fields are parsed and serialised with ``http_sfv``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final, Literal, TypeAlias

from http_sfv.dictionary import Dictionary
from http_sfv.item import Item
from http_sfv.list import List

from ..errors import ConfigurationError, SigningError
from .httpsig_message import Message

__all__ = [
    "STRUCTURED_FIELDS",
    "Resolver",
    "StructuredType",
    "check_structured_fields",
    "field_resolver",
    "flag",
]

StructuredType: TypeAlias = Literal["dictionary", "list", "item"]
"""The top-level type of a structured field (RFC 8941 §3)."""

Resolver: TypeAlias = Callable[[Message], str]
"""Computes one component's value from a message."""

STRUCTURED_FIELDS: Final[Mapping[str, StructuredType]] = MappingProxyType(
    {
        "accept-ch": "list",  # RFC 8942
        "accept-signature": "dictionary",  # RFC 9421
        "cache-status": "list",  # RFC 9211
        "cdn-cache-control": "dictionary",  # RFC 9213
        "client-cert": "item",  # RFC 9440
        "client-cert-chain": "list",  # RFC 9440
        "content-digest": "dictionary",  # RFC 9530
        "priority": "dictionary",  # RFC 9218
        "proxy-status": "list",  # RFC 9209
        "repr-digest": "dictionary",  # RFC 9530
        "signature": "dictionary",  # RFC 9421
        "signature-input": "dictionary",  # RFC 9421
        "want-content-digest": "dictionary",  # RFC 9530
        "want-repr-digest": "dictionary",  # RFC 9530
    }
)
"""Fields whose structured type is known, for ``;sf``. Declare others with
``structured_fields={"example-dict": "dictionary"}``."""

_SF_TYPES: Final = {"dictionary": Dictionary, "list": List, "item": Item}
# RFC 9110 §5.1 field-name, already lower-cased (RFC 9421 §2.1).
_FIELD_NAME: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+")
# Obsolete line folding (RFC 9112 §5.2), replaced by one space (RFC 9421 §2.1).
_OBS_FOLD: Final = re.compile(r"[ \t]*\r?\n[ \t]+")


def check_structured_fields(
    structured_fields: Mapping[str, StructuredType] | None,
) -> Mapping[str, StructuredType]:
    """Validate ``structured_fields``: field name -> ``"dictionary"``, ``"list"`` or ``"item"``.

    Raises:
        ConfigurationError: not a mapping, or a type that is not one of the three.
    """
    if structured_fields is None:
        return {}
    if not isinstance(structured_fields, Mapping):
        raise ConfigurationError(
            'structured_fields: expected a mapping such as {"example-dict": "dictionary"}, '
            f"got {type(structured_fields).__name__}"
        )
    checked: dict[str, StructuredType] = {}
    for name, sf_type in structured_fields.items():
        if sf_type not in _SF_TYPES or not isinstance(name, str):
            raise ConfigurationError(
                f"structured_fields: {name!r} -> {sf_type!r}: expected a field name and "
                "'dictionary', 'list' or 'item'"
            )
        checked[name.lower()] = sf_type
    return checked


def flag(value: object, name: str, param: str) -> bool:
    """Read a flag parameter (``;sf``, ``;bs``, ``;req``): absent or ``True``.

    Raises:
        SigningError: the parameter has a value other than ``True``.
    """
    if value is None:
        return False
    if value is not True:
        raise SigningError(f"component {name!r}: its {param} parameter must be a bare flag")
    return True


def field_resolver(
    name: str, params: dict[str, object], structured_fields: Mapping[str, StructuredType]
) -> Resolver:
    """Return what computes the value of field *name* with *params* (RFC 9421 §2.1).

    *params* is emptied of the parameters read; ``req`` must be gone already.

    Raises:
        SigningError: *name* is not a lower-case field name, a parameter does not
            apply or has the wrong type, ``bs`` is combined with ``sf`` or ``key``
            (§2.1.3), ``tr`` (trailers are not supported), or ``sf`` on a field
            of unknown structured type.
    """
    if not _FIELD_NAME.fullmatch(name):
        raise SigningError(f"component {name!r}: not a lower-case header field name")
    key = params.pop("key", None)
    if key is not None and type(key) is not str:
        raise SigningError(f"component {name!r}: its key parameter must be a string")
    sf = flag(params.pop("sf", None), name, "sf")
    bs = flag(params.pop("bs", None), name, "bs")
    if flag(params.pop("tr", None), name, "tr"):
        raise SigningError(f"component {name!r}: trailer fields (;tr) are not supported")
    if params:
        raise SigningError(f"component {name!r}: parameter {next(iter(params))!r} is not for it")
    if bs and (sf or key is not None):
        raise SigningError(f"component {name!r}: bs cannot be combined with sf or key")
    if bs:
        return _byte_sequences(name)
    if key is not None:
        return _structured(name, "dictionary", key)
    if sf:
        sf_type = structured_fields.get(name) or STRUCTURED_FIELDS.get(name)
        if sf_type is None:
            raise SigningError(
                f"component {name!r};sf: the structured type of {name!r} is not known; "
                'declare it, e.g. structured_fields={"' + name + '": "dictionary"}'
            )
        return _structured(name, sf_type, None)
    return _plain(name)


def _lines(message: Message, name: str) -> list[str]:
    lines = message.field_lines(name)
    if not lines:
        hint = (
            ": set it to content_digest(body) (aiohttp_auth.signing.content_digest)"
            if name == "content-digest"
            else ""
        )
        raise SigningError(
            f"the {message.kind} has no {name!r} header field, which the signature covers{hint}"
        )
    return lines


def _plain(name: str) -> Resolver:
    def resolve(message: Message) -> str:
        # RFC 9421 §2.1: trim each line, unfold obs-fold, join with ", ".
        return ", ".join(
            (_OBS_FOLD.sub(" ", line) if "\n" in line else line).strip(" \t")
            for line in _lines(message, name)
        )

    return resolve


def _structured(name: str, sf_type: StructuredType, key: str | None) -> Resolver:
    plain = _plain(name)

    def resolve(message: Message) -> str:
        parsed = _SF_TYPES[sf_type]()
        try:
            parsed.parse(plain(message).encode("ascii"))
        except ValueError:
            raise SigningError(
                f"the {name!r} header field is not a valid structured {sf_type} (RFC 8941)"
            ) from None
        if key is None:
            return str(parsed)
        member = parsed.get(key)
        if member is None:
            raise SigningError(f"the {name!r} header field has no member {key!r}")
        # RFC 9421 §2.1.2: the member's value with its parameters, re-serialised.
        return str(member)

    return resolve


def _byte_sequences(name: str) -> Resolver:
    def resolve(message: Message) -> str:
        # RFC 9421 §2.1.3: each line's bytes as a byte sequence, so values that
        # are not ASCII (aiohttp sends str headers as UTF-8) can be signed.
        lines = _lines(message, name)
        return str(
            List([Item(line.strip(" \t").encode("utf-8", "surrogateescape")) for line in lines])
        )

    return resolve
