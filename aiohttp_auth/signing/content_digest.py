"""The ``Content-Digest`` field of RFC 9530: a hash of a message's content, sans-IO.

A signature covers header fields, not the body; covering ``content-digest``
binds the body to the signature (RFC 9421 §7.2.8). The value is a structured
dictionary of algorithm names and byte sequences:

```
Content-Digest: sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:
```

The digest is over the *content*: the bytes sent, after any content coding
such as gzip (RFC 9530 §2). Only the active algorithms of the registry,
``sha-256`` and ``sha-512`` (§5), are computed or checked; digests in the
deprecated ones (``md5``, ``sha``, ``crc32c``...) are ignored.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

from http_sfv.byteseq import ser_byteseq
from http_sfv.dictionary import Dictionary
from http_sfv.item import Item

from ..errors import ConfigurationError, SignatureVerificationError

__all__ = ["DIGEST_ALGORITHMS", "content_digest", "verify_content_digest"]

DIGEST_ALGORITHMS: Final[Mapping[str, Callable[[bytes], Any]]] = MappingProxyType(
    {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
)
"""The hash algorithms this module computes and checks (RFC 9530 §5, status "Active")."""


def _algorithms(algorithm: str | Iterable[str], argument: str) -> tuple[str, ...]:
    names = (algorithm,) if isinstance(algorithm, str) else tuple(algorithm)
    for name in names:
        if name not in DIGEST_ALGORITHMS:
            raise ConfigurationError(
                f"{argument}: expected {' or '.join(map(repr, DIGEST_ALGORITHMS))}, got {name!r}"
            )
    if not names:
        raise ConfigurationError(f"{argument}: name at least one digest algorithm")
    return names


def content_digest(body: bytes, algorithm: str | Iterable[str] = "sha-256") -> str:
    """Return the ``Content-Digest`` value of *body* (RFC 9530 §2).

    Args:
        body: the content, as sent (after any content coding).
        algorithm: ``"sha-256"``, ``"sha-512"``, or several of them for one
            member each.

    Raises:
        ConfigurationError: an algorithm other than ``sha-256`` and ``sha-512``.
    """
    return ", ".join(
        f"{name}={ser_byteseq(DIGEST_ALGORITHMS[name](body).digest())}"
        for name in _algorithms(algorithm, "algorithm")
    )


def verify_content_digest(
    field_value: str | Sequence[str],
    body: bytes,
    *,
    algorithms: Iterable[str] = ("sha-256", "sha-512"),
) -> tuple[str, ...]:
    """Check a ``Content-Digest`` value against *body* (RFC 9530 §2).

    Every digest in one of *algorithms* must match; digests in other algorithms
    are ignored, but at least one must be checkable.

    Args:
        field_value: the field's value, or the values of each of its lines.
        body: the content received, before any content decoding.
        algorithms: the algorithms to check.

    Returns:
        The algorithms whose digests matched, in the field's order.

    Raises:
        SignatureVerificationError: no field, a value that is not a structured dictionary, no
            digest in a checkable algorithm, or a digest that does not match.
        ConfigurationError: *algorithms* names an unsupported algorithm.
    """
    accepted = _algorithms(algorithms, "algorithms")
    lines = [field_value] if isinstance(field_value, str) else list(field_value)
    if not lines:
        raise SignatureVerificationError("the message has no Content-Digest header")
    dictionary = Dictionary()
    try:
        dictionary.parse(", ".join(lines).encode("ascii"))
    except ValueError:
        raise SignatureVerificationError(
            "Content-Digest is not a structured dictionary (RFC 9530 §2)"
        ) from None
    matched: list[str] = []
    for name, member in dictionary.items():
        if name not in accepted:
            continue
        if not isinstance(member, Item) or type(member.value) is not bytes:
            raise SignatureVerificationError(
                f"Content-Digest: the {name} digest is not a byte sequence"
            )
        expected = DIGEST_ALGORITHMS[name](body).digest()
        if not hmac.compare_digest(member.value, expected):
            raise SignatureVerificationError(
                f"Content-Digest: the {name} digest does not match the body"
            )
        matched.append(name)
    if not matched:
        raise SignatureVerificationError(
            f"Content-Digest has no digest in {' or '.join(accepted)}: "
            f"it has {', '.join(dictionary)}"
        )
    return tuple(matched)
