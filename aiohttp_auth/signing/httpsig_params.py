"""What a signer's ``@signature-params`` hold, checked and serialized (RFC 9421 §2.3).

The ``@signature-params`` component is the inner list of covered component
identifiers followed by the signature parameters (``created``, ``expires``,
``nonce``, ``keyid``, ``alg``, ``tag``), serialized as a structured field
(RFC 8941). An [`HTTPSigner`][aiohttp_auth.signing.httpsig.HTTPSigner] checks
its covered components once, at construction, with [`covered_components`][];
[`sf_string`][] and [`sf_integer`][] serialize its string and integer
parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from http_sfv.integer import MAX_INT
from http_sfv.string import ser_string

from ..errors import ConfigurationError, SigningError
from .httpsig_components import Component, parse_identifier
from .httpsig_fields import StructuredType

__all__ = ["covered_components", "sf_integer", "sf_string"]


def covered_components(
    identifiers: Iterable[str], structured_fields: Mapping[str, StructuredType]
) -> tuple[Component, ...]:
    """Parse and check the covered components of a signer, in order (RFC 9421 §2.3).

    Raises:
        ConfigurationError: *identifiers* is not a sequence of identifiers, one
            is invalid, or one is listed twice; the message starts ``components:``.
    """
    if isinstance(identifiers, str) or not isinstance(identifiers, Iterable):
        raise ConfigurationError(
            "components: expected a sequence of component identifiers such as "
            f'("@method", "@path"), got {identifiers!r}'
        )
    components: list[Component] = []
    seen: set[object] = set()
    for identifier in identifiers:
        try:
            component = Component(parse_identifier(identifier), structured_fields)
        except SigningError as exc:
            raise ConfigurationError(f"components: {exc}") from None
        if component.identity in seen:
            raise ConfigurationError(f"components: {component.display} is listed twice")
        seen.add(component.identity)
        components.append(component)
    return tuple(components)


def sf_string(value: object, argument: str) -> str:
    """Serialize *value* as a structured-field string (RFC 8941 §4.1.6), quotes included.

    Raises:
        ConfigurationError: *value* is not a string of printable ASCII; the
            message names *argument*.
    """
    try:
        if not isinstance(value, str):
            raise TypeError
        return ser_string(value)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"{argument}: expected a string of printable ASCII, got {value!r}"
        ) from None


def sf_integer(value: object, name: str) -> str:
    """Serialize *value*, epoch seconds, as a structured-field integer (RFC 8941 §4.1.4).

    Raises:
        SigningError: *value* is not a whole number from 0 to 999,999,999,999,999;
            the message names *name*.
    """
    # An sf-integer is its decimal digits (RFC 8941 §4.1.4): no serializer needed.
    if type(value) is not int or not 0 <= value <= MAX_INT:
        raise SigningError(
            f"{name}: expected a whole number of seconds since the epoch, got {value!r}"
        )
    return str(value)
