"""Verifying HTTP Message Signatures (RFC 9421 §3.2), sans-IO: webhooks, signed responses.

[`verify_request`][] and [`verify_response`][] take a received message as
plain values, find its signature in ``Signature-Input`` and ``Signature``,
rebuild the signature base from the message as received, and check it. What
the verifier decides is never taken from the message:

- the algorithm: when the verifier pins one (``algorithm=``), a signature
  announcing another is refused; otherwise the key's kind decides, and the
  announced ``alg`` may only pick between the two RSA algorithms;
- the key: one key, or a mapping from ``keyid`` to keys;
- freshness: ``created`` no older than ``max_age`` and not in the future,
  ``expires`` not passed, give or take ``clock_skew``;
- coverage: the signature must cover ``required_components``, and, when the
  body is given, ``content-digest``, which must match the body.

Any failure raises
[`SignatureVerificationError`][aiohttp_auth.errors.SignatureVerificationError]
with a message saying what failed; a bad verifier argument raises
[`ConfigurationError`][aiohttp_auth.errors.ConfigurationError].
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from http_sfv.dictionary import Dictionary
from http_sfv.item import InnerList, Item
from yarl import URL

from ..errors import ConfigurationError, SignatureVerificationError, SigningError
from .httpsig_algorithms import choose_algorithm, load_verifying_key
from .httpsig_components import build_signature_base
from .httpsig_fields import StructuredType
from .httpsig_message import Headers, Message, RequestMessage, TargetURI
from .httpsig_policy import KeysArg, VerificationPolicy

__all__ = ["KeysArg", "VerifiedSignature", "verify_request", "verify_response"]


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature that verified, and what it vouches for.

    Attributes:
        label: the signature's label (not itself signed).
        algorithm: the algorithm it was verified with.
        key_id: its ``keyid`` parameter, or None.
        components: the covered components, as identifiers such as ``@method``.
        created: its ``created`` parameter (epoch seconds), or None.
        expires: its ``expires`` parameter, or None.
        nonce: its ``nonce`` parameter, or None; detecting replays is yours to do.
        tag: its ``tag`` parameter, or None.
        parameters: every signature parameter, as received.
        body_verified: whether the body was checked against a signed ``Content-Digest``.
    """

    label: str
    algorithm: str
    key_id: str | None
    components: tuple[str, ...]
    created: int | None
    expires: int | None
    nonce: str | None
    tag: str | None
    parameters: Mapping[str, object]
    body_verified: bool


def verify_request(
    method: str,
    url: str | URL | TargetURI,
    headers: Headers,
    *,
    key: KeysArg,
    algorithm: str | None = None,
    label: str | None = None,
    tag: str | None = None,
    required_components: Iterable[str] = ("@method", "@authority", "@path"),
    body: bytes | None = None,
    max_age: float | None = 300.0,
    clock_skew: float = 5.0,
    now: float | None = None,
    structured_fields: Mapping[str, StructuredType] | None = None,
) -> VerifiedSignature:
    """Verify the signature of a received request (RFC 9421 §3.2).

    Args:
        method: the request method.
        url: the absolute URL the client sent the request to (behind a proxy,
            the public one), or its [`TargetURI`][aiohttp_auth.signing.httpsig_message.TargetURI].
        headers: the header fields as received.
        key: the verification key, or a mapping from ``keyid`` to keys.
        algorithm: the one algorithm to accept; None lets the key decide.
        label: the label of the signature to check; None tries each one (with
            *tag*, if given) and returns the first that verifies.
        tag: accept only signatures with this ``tag`` parameter.
        required_components: what the signature must cover; ``@target-uri``
            counts as covering the parts it is made of.
        body: the body as received: when given, the signature must cover
            ``content-digest`` and the digest must match it.
        max_age: the oldest ``created`` accepted, in seconds; None accepts any
            age and signatures without ``created``.
        clock_skew: the seconds of disagreement allowed between clocks.
        now: the current time in epoch seconds; None reads the clock.
        structured_fields: field name -> structured type, for ``;sf``.

    Returns:
        The signature that verified.

    Raises:
        SignatureVerificationError: the request carries no signature that passes every check.
        ConfigurationError: an invalid argument, or a key unusable with the algorithm.
    """
    if not isinstance(method, str) or not method:
        raise ConfigurationError(f"method: expected a method name such as 'POST', got {method!r}")
    message = Message(method=method, url=url, headers=headers)
    policy = VerificationPolicy.build(
        key=key,
        algorithm=algorithm,
        tag=tag,
        required_components=required_components,
        body=body,
        max_age=max_age,
        clock_skew=clock_skew,
        now=now,
        structured_fields=structured_fields,
    )
    return _verify(message, label, policy)


def verify_response(
    status: int,
    headers: Headers,
    *,
    key: KeysArg,
    request: RequestMessage | None = None,
    algorithm: str | None = None,
    label: str | None = None,
    tag: str | None = None,
    required_components: Iterable[str] = ("@status",),
    body: bytes | None = None,
    max_age: float | None = 300.0,
    clock_skew: float = 5.0,
    now: float | None = None,
    structured_fields: Mapping[str, StructuredType] | None = None,
) -> VerifiedSignature:
    """Verify the signature of a received response (RFC 9421 §3.2).

    Takes the arguments of [`verify_request`][], with *status* in place of the
    method and URL, and *request*, the request it answers, for components
    covered with ``;req`` (RFC 9421 §2.4).

    Raises:
        SignatureVerificationError: the response carries no signature that passes every check.
        ConfigurationError: an invalid argument, or a key unusable with the algorithm.
    """
    if type(status) is not int or not 100 <= status <= 999:
        raise ConfigurationError(f"status: expected a three-digit status code, got {status!r}")
    message = Message(method=None, url=None, headers=headers, status=status, request=request)
    policy = VerificationPolicy.build(
        key=key,
        algorithm=algorithm,
        tag=tag,
        required_components=required_components,
        body=body,
        max_age=max_age,
        clock_skew=clock_skew,
        now=now,
        structured_fields=structured_fields,
    )
    return _verify(message, label, policy)


def _dictionary(message: Message, field: str) -> Dictionary:
    lines = message.field_lines(field.lower())
    if not lines:
        raise SignatureVerificationError(
            f"the {message.kind} has no {field} header: it is not signed"
        )
    dictionary = Dictionary()
    try:
        dictionary.parse(", ".join(lines).encode("ascii"))
    except ValueError:
        raise SignatureVerificationError(
            f"{field} is not a structured dictionary (RFC 8941)"
        ) from None
    return dictionary


def _verify(message: Message, label: str | None, policy: VerificationPolicy) -> VerifiedSignature:
    if label is not None and not isinstance(label, str):
        raise ConfigurationError(f"label: expected a string or None, got {label!r}")
    inputs = _dictionary(message, "Signature-Input")
    signatures = _dictionary(message, "Signature")
    if label is not None:
        if label not in inputs:
            raise SignatureVerificationError(
                f"no signature labelled {label!r}; the {message.kind} has "
                + ", ".join(map(repr, inputs))
            )
        candidates = [label]
    else:
        candidates = list(inputs)
    errors: list[SigningError] = []
    for candidate in candidates:
        member = inputs[candidate]
        if policy.tag is not None and member.params.get("tag") != policy.tag:
            errors.append(
                SignatureVerificationError(
                    f"signature {candidate!r} does not have tag={policy.tag!r}"
                )
            )
            continue
        try:
            return _verify_one(candidate, member, signatures.get(candidate), message, policy)
        except SigningError as exc:
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    raise SignatureVerificationError(
        f"none of the {len(errors)} signatures verified: " + "; ".join(map(str, errors))
    )


def _verify_one(
    label: str, member: object, signature: object, message: Message, policy: VerificationPolicy
) -> VerifiedSignature:
    if not isinstance(member, InnerList):
        raise SignatureVerificationError(
            f"signature {label!r}: its Signature-Input member is not an inner list"
        )
    if not isinstance(signature, Item) or type(signature.value) is not bytes:
        raise SignatureVerificationError(
            f"signature {label!r}: no byte sequence labelled so in Signature"
        )
    params = dict(member.params)
    policy.check_parameters(label, params)
    components = policy.covered(label, member)
    key = policy.key_for(label, params.get("keyid"))
    try:
        algorithm = choose_algorithm(
            key, pinned=policy.algorithm, announced=params.get("alg"), label=label
        )
        verify = load_verifying_key(algorithm, key)
    except ConfigurationError as exc:
        if not isinstance(policy.keys, Mapping):
            raise  # the verifier's one key: a mistake in its configuration
        # The message chose this key by its keyid: a key of another kind is
        # a signature that cannot verify, not an error of the verifier.
        raise SignatureVerificationError(f"signature {label!r}: {exc}") from None
    except SigningError as exc:
        # The message announces an algorithm the verifier or the key refuses.
        raise SignatureVerificationError(str(exc)) from None
    try:
        # The parsed member serialized again: the same text in canonical form.
        base = build_signature_base(components, message, str(member))
    except SigningError as exc:
        raise SignatureVerificationError(f"signature {label!r}: {exc}") from None
    if not verify(signature.value, base.encode("ascii")):
        raise SignatureVerificationError(
            f"signature {label!r} ({algorithm}, keyid={params.get('keyid')!r}) does not match "
            f"the {message.kind}: it was changed, or signed with another key or other components"
        )
    body_verified = policy.check_body(label, components, message)
    return VerifiedSignature(
        label=label,
        algorithm=algorithm,
        key_id=params.get("keyid"),
        components=tuple(c.display for c in components),
        created=params.get("created"),
        expires=params.get("expires"),
        nonce=params.get("nonce"),
        tag=params.get("tag"),
        parameters=MappingProxyType(params),
        body_verified=body_verified,
    )
