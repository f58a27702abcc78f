"""What a verifier accepts (RFC 9421 §3.2, §7): keys, algorithm, freshness, coverage, body.

A [`VerificationPolicy`][] is built from the verifier's arguments once per
call and applied to each signature in the message. Nothing in it comes from
the message: the message's parameters are only checked against it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, TypeAlias

from http_sfv.item import InnerList

from ..errors import ConfigurationError, SignatureVerificationError, SigningError
from .content_digest import verify_content_digest
from .httpsig_algorithms import ALGORITHMS
from .httpsig_components import Component, parse_identifier
from .httpsig_fields import StructuredType, check_structured_fields
from .httpsig_keys import VerifyingKeyArg
from .httpsig_message import Message

__all__ = ["KeysArg", "VerificationPolicy"]

KeysArg: TypeAlias = VerifyingKeyArg | Mapping[str, VerifyingKeyArg]
"""One verification key, or a mapping from ``keyid`` to keys (for key rotation)."""

_Identity: TypeAlias = tuple[str, frozenset[tuple[str, object]]]

# Covering these covers the others: the target URI is made of them.
_IMPLIED: Final[Mapping[str, tuple[str, ...]]] = {
    "@target-uri": ("@scheme", "@authority", "@path", "@query", "@request-target"),
    "@request-target": ("@path", "@query"),
}
_INTEGERS: Final = ("created", "expires")
_STRINGS: Final = ("keyid", "alg", "nonce", "tag")


@dataclass(frozen=True)
class VerificationPolicy:
    """The checks every signature must pass, fixed by the verifier.

    Attributes:
        keys: one key, or keys by ``keyid``.
        algorithm: the one algorithm accepted, or None to let the key decide.
        tag: the ``tag`` a signature must have, or None.
        required: the components a signature must cover.
        body: the body received, to check against ``Content-Digest``, or None.
        max_age: the oldest ``created`` accepted, in seconds, or None.
        clock_skew: the seconds of disagreement allowed between clocks.
        now: the time of verification, in epoch seconds.
        structured_fields: field name -> structured type, for ``;sf``.
    """

    keys: KeysArg
    algorithm: str | None
    tag: str | None
    required: tuple[Component, ...]
    body: bytes | None
    max_age: float | None
    clock_skew: float
    now: float
    structured_fields: Mapping[str, StructuredType]

    @classmethod
    def build(
        cls,
        *,
        key: KeysArg,
        algorithm: str | None,
        tag: str | None,
        required_components: Iterable[str],
        body: bytes | None,
        max_age: float | None,
        clock_skew: float,
        now: float | None,
        structured_fields: Mapping[str, StructuredType] | None,
    ) -> VerificationPolicy:
        """Validate the verifier's arguments; *now* None reads the clock.

        Raises:
            ConfigurationError: an argument of the wrong type or value.
        """
        sf_types = check_structured_fields(structured_fields)
        if isinstance(required_components, str):
            raise ConfigurationError(
                "required_components: expected a sequence such as ('@method',), "
                f"got {required_components!r}"
            )
        try:
            required = tuple(Component(parse_identifier(c), sf_types) for c in required_components)
        except SigningError as exc:
            raise ConfigurationError(f"required_components: {exc}") from None
        if algorithm is not None and algorithm not in ALGORITHMS:
            raise ConfigurationError(
                f"algorithm: expected one of {', '.join(ALGORITHMS)} or None, got {algorithm!r}"
            )
        for name, value in (("max_age", max_age), ("clock_skew", clock_skew)):
            if value is not None and (
                not isinstance(value, int | float) or isinstance(value, bool) or value < 0
            ):
                raise ConfigurationError(
                    f"{name}: expected a number of seconds >= 0, got {value!r}"
                )
        if tag is not None and not isinstance(tag, str):
            raise ConfigurationError(f"tag: expected a string or None, got {tag!r}")
        if body is not None and not isinstance(body, bytes | bytearray | memoryview):
            raise ConfigurationError(f"body: expected bytes, got {type(body).__name__}")
        return cls(
            keys=key,
            algorithm=algorithm,
            tag=tag,
            required=required,
            body=body,
            max_age=max_age,
            clock_skew=clock_skew,
            now=time.time() if now is None else now,
            structured_fields=sf_types,
        )

    def check_parameters(self, label: str, params: Mapping[str, object]) -> None:
        """Check the types (§2.3) and times of signature *label*'s parameters.

        ``created`` may not be in the future, ``expires`` may not have passed,
        and with a ``max_age``, ``created`` must be there and recent enough;
        each give or take ``clock_skew``.

        Raises:
            SignatureVerificationError: a parameter of the wrong type, or a signature too old,
                expired or from the future.
        """
        for name in _INTEGERS:
            if name in params and type(params[name]) is not int:
                raise SignatureVerificationError(
                    f"signature {label!r}: its {name} parameter is not an integer"
                )
        for name in _STRINGS:
            if name in params and type(params[name]) is not str:
                raise SignatureVerificationError(
                    f"signature {label!r}: its {name} parameter is not a string"
                )
        now, skew = self.now, self.clock_skew
        created = params.get("created")
        expires = params.get("expires")
        if isinstance(created, int) and created > now + skew:
            raise SignatureVerificationError(
                f"signature {label!r} was created in the future ({created})"
            )
        if isinstance(expires, int) and now > expires + skew:
            raise SignatureVerificationError(f"signature {label!r} expired at {expires}")
        if self.max_age is None:
            return
        if not isinstance(created, int):
            raise SignatureVerificationError(
                f"signature {label!r} has no created parameter, so its age cannot be "
                "checked; pass max_age=None to accept such signatures"
            )
        if now - created > self.max_age + skew:
            raise SignatureVerificationError(
                f"signature {label!r} is {int(now - created)} s old, more than max_age "
                f"({self.max_age:g} s)"
            )

    def covered(self, label: str, member: InnerList) -> tuple[Component, ...]:
        """Return the components signature *label* covers, checked against ``required``.

        Raises:
            SignatureVerificationError: an invalid or repeated component identifier (§2.5), or
                a required component not covered.
        """
        components: list[Component] = []
        covered: set[_Identity] = set()
        for item in member:
            try:
                component = Component(item, self.structured_fields)
            except SigningError as exc:
                raise SignatureVerificationError(f"signature {label!r}: {exc}") from None
            if component.identity in covered:
                raise SignatureVerificationError(
                    f"signature {label!r} covers {component.display} twice"
                )
            covered.add(component.identity)
            components.append(component)
        for name, parts in _IMPLIED.items():
            if (name, frozenset()) in covered:
                covered.update((part, frozenset()) for part in parts)
        for required in self.required:
            if required.identity not in covered:
                raise SignatureVerificationError(
                    f"signature {label!r} does not cover {required.display}, which the "
                    "verifier requires"
                )
        return tuple(components)

    def key_for(self, label: str, key_id: object) -> VerifyingKeyArg:
        """Return the key for signature *label*, by its *key_id* when keys are a mapping.

        Raises:
            SignatureVerificationError: no ``keyid``, or one the mapping does not have.
        """
        keys = self.keys
        if not isinstance(keys, Mapping):
            return keys
        if key_id is None:
            raise SignatureVerificationError(
                f"signature {label!r} has no keyid, so no key can be chosen for it"
            )
        key = keys.get(key_id)  # type: ignore[call-overload]
        if key is None:
            raise SignatureVerificationError(f"signature {label!r}: unknown keyid {key_id!r}")
        return key  # type: ignore[no-any-return]

    def check_body(self, label: str, components: Iterable[Component], message: Message) -> bool:
        """Check the body against a covered ``Content-Digest``; tell whether it was checked.

        RFC 9421 §7.2.8: a body is authenticated only through a covered digest,
        so with a body to check, the signature must cover ``content-digest``.

        Raises:
            SignatureVerificationError: ``content-digest`` not covered, or not matching the body.
        """
        if self.body is None:
            return False
        if not any(
            c.name == "content-digest" and not c.req and ("bs", True) not in c.identity[1]
            for c in components
        ):
            raise SignatureVerificationError(
                f"signature {label!r} does not cover content-digest, so the body is not "
                "authenticated"
            )
        verify_content_digest(message.field_lines("content-digest"), self.body)
        return True
