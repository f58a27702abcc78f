"""HTTP Message Signatures (RFC 9421): signing, sans-IO.

An [`HTTPSigner`][] holds one key, one algorithm and one list of covered
components. Everything that does not change between messages is prepared
once, at construction: the key is parsed, the component identifiers are
validated and serialized as structured fields (with ``http_sfv``), and so are
the constant signature parameters (``keyid``, ``alg``, ``tag``). Signing a
message then costs the component values, string joins and one signature:

```python
signer = HTTPSigner("my-key", private_key, algorithm="ed25519")
fields = signer.sign_request(
    "POST", "https://api.example.com/orders?id=7", headers, created=int(time.time())
)
headers["Signature-Input"] = fields.signature_input
headers["Signature"] = fields.signature
```

This module is the one import point of the sans-IO API: it re-exports
verification ([`aiohttp_auth.signing.httpsig_verify`][]), the ``Content-Digest``
field of RFC 9530 ([`aiohttp_auth.signing.content_digest`][]), the message
types and the
[`SignatureFields`][aiohttp_auth.signing.httpsig_signature_fields.SignatureFields]
a signer returns. The middleware is
[`aiohttp_auth.signing.httpsig_middleware`][].
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from http_sfv.byteseq import ser_byteseq
from http_sfv.item import InnerList, Parameters
from http_sfv.util import ser_key
from yarl import URL

from .._redact import redacted, redacted_repr
from ..errors import ConfigurationError, SigningError
from .content_digest import content_digest as content_digest
from .content_digest import verify_content_digest as verify_content_digest
from .httpsig_algorithms import load_signing_key
from .httpsig_components import build_signature_base
from .httpsig_fields import StructuredType, check_structured_fields
from .httpsig_keys import SigningKeyArg, describe_key
from .httpsig_message import Headers, Message
from .httpsig_message import RequestMessage as RequestMessage
from .httpsig_message import TargetURI as TargetURI
from .httpsig_params import covered_components, sf_integer, sf_string
from .httpsig_signature_fields import SignatureFields as SignatureFields
from .httpsig_verify import VerifiedSignature as VerifiedSignature
from .httpsig_verify import verify_request as verify_request
from .httpsig_verify import verify_response as verify_response

__all__ = [
    "DEFAULT_COMPONENTS",
    "HTTPSigner",
    "RequestMessage",
    "SignatureFields",
    "TargetURI",
    "VerifiedSignature",
    "content_digest",
    "verify_content_digest",
    "verify_request",
    "verify_response",
]

DEFAULT_COMPONENTS: Final = ("@method", "@authority", "@path", "content-digest")
"""What a signature covers unless told otherwise: the method, the host, the path
and, through ``Content-Digest``, the body."""


class HTTPSigner:
    """Sign requests and responses with one key (RFC 9421 §3.1).

    Args:
        key_id: the ``keyid`` parameter, which tells the verifier which key to
            use; None leaves it out.
        key: HMAC secret ``bytes``, a ``cryptography`` private key, or a
            private key in PEM (``bytes`` or ``str``).
        algorithm: one of [`ALGORITHMS`][aiohttp_auth.signing.httpsig_algorithms.ALGORITHMS].
        components: the covered components, in order (see
            [`parse_identifier`][aiohttp_auth.signing.httpsig_components.parse_identifier]).
        label: the signature's label in the dictionaries of ``Signature-Input``
            and ``Signature``.
        tag: the ``tag`` parameter, naming the application or profile, or None.
        include_alg: send the ``alg`` parameter.
        structured_fields: field name -> structured type, for ``;sf`` on fields
            this package does not know.

    Raises:
        ConfigurationError: an invalid argument, including a key of the wrong kind
            for *algorithm* (the message names both).
    """

    __slots__ = (
        "_algorithm",
        "_components",
        "_field_names",
        "_inner",
        "_key",
        "_key_id",
        "_label",
        "_sign",
        "_static",
        "_tag",
    )

    def __init__(
        self,
        key_id: str | None,
        key: SigningKeyArg,
        *,
        algorithm: str,
        components: Iterable[str] = DEFAULT_COMPONENTS,
        label: str = "sig1",
        tag: str | None = None,
        include_alg: bool = True,
        structured_fields: Mapping[str, StructuredType] | None = None,
    ) -> None:
        self._sign = load_signing_key(algorithm, key)
        self._algorithm = algorithm
        self._key = (
            redacted(key)
            if isinstance(key, bytes) and algorithm == "hmac-sha256"
            else (f"<{describe_key(key)}>")
        )
        self._components = covered_components(
            components, check_structured_fields(structured_fields)
        )
        try:
            self._label = ser_key(label)
        except (TypeError, ValueError, IndexError):
            raise ConfigurationError(
                f"label: expected a structured-field key such as 'sig1' (lower-case letters, "
                f"digits, '_-.*', starting with a letter), got {label!r}"
            ) from None
        if not isinstance(include_alg, bool):
            raise ConfigurationError(f"include_alg: expected True or False, got {include_alg!r}")
        self._key_id = key_id
        # The parts of @signature-params that never change, serialized once
        # (RFC 9421 §2.3); per message only integers and the nonce are added.
        self._inner = str(InnerList([c.item for c in self._components]))
        static = Parameters()
        if key_id is not None:
            sf_string(key_id, "key_id")
            static["keyid"] = key_id
        if include_alg:
            static["alg"] = algorithm
        self._static = str(static)
        self._tag = "" if tag is None else ";tag=" + sf_string(tag, "tag")
        self._field_names = frozenset(
            c.name for c in self._components if not c.req and not c.name.startswith("@")
        )

    @property
    def key_id(self) -> str | None:
        """The ``keyid`` parameter sent with each signature."""
        return self._key_id

    @property
    def algorithm(self) -> str:
        """The signature algorithm (RFC 9421 §3.3)."""
        return self._algorithm

    @property
    def label(self) -> str:
        """The signature's label."""
        return self._label

    @property
    def components(self) -> tuple[str, ...]:
        """The covered components, as identifiers such as ``@query-param;name="id"``."""
        return tuple(c.display for c in self._components)

    def covers(self, name: str) -> bool:
        """Tell whether the signature covers *name* (a field or derived component) of the message.

        Components of the request a response answers (``;req``) do not count.
        """
        return any(c.name == name and not c.req for c in self._components)

    def signature_params(
        self, *, created: int | None = None, expires: int | None = None, nonce: str | None = None
    ) -> str:
        """Return the ``@signature-params`` value (RFC 9421 §2.3) for these parameters.

        Raises:
            SigningError: *created* or *expires* is not a whole number of seconds,
                or *nonce* is not printable ASCII.
        """
        params = self._inner
        if created is not None:
            params += ";created=" + sf_integer(created, "created")
        if expires is not None:
            params += ";expires=" + sf_integer(expires, "expires")
        params += self._static
        if nonce is not None:
            try:
                params += ";nonce=" + sf_string(nonce, "nonce")
            except ConfigurationError as exc:
                raise SigningError(str(exc)) from None
        return params + self._tag

    def sign_request(
        self,
        method: str,
        url: str | URL | TargetURI,
        headers: Headers = (),
        *,
        created: int | None = None,
        expires: int | None = None,
        nonce: str | None = None,
    ) -> SignatureFields:
        """Sign a request (RFC 9421 §3.1).

        Args:
            method: the request method, as sent.
            url: the absolute URL, as sent (percent-encoded), or its
                [`TargetURI`][aiohttp_auth.signing.httpsig_message.TargetURI].
            headers: the header fields, as sent; every covered field must be there.
            created: the ``created`` parameter, epoch seconds, or None.
            expires: the ``expires`` parameter, epoch seconds, or None.
            nonce: the ``nonce`` parameter, or None.

        Raises:
            SigningError: a covered component is missing or cannot be signed.
        """
        if not isinstance(method, str) or not method:
            raise SigningError(f"method: expected a method name such as 'GET', got {method!r}")
        message = Message(method=method, url=url, headers=headers, field_names=self._field_names)
        return self._signed(message, created, expires, nonce)

    def sign_response(
        self,
        status: int,
        headers: Headers = (),
        *,
        request: RequestMessage | None = None,
        created: int | None = None,
        expires: int | None = None,
        nonce: str | None = None,
    ) -> SignatureFields:
        """Sign a response; *request* is the request it answers, for ``;req`` components (§2.4).

        Raises:
            SigningError: a covered component is missing or cannot be signed.
        """
        if type(status) is not int or not 100 <= status <= 999:
            raise SigningError(f"status: expected a three-digit status code, got {status!r}")
        message = Message(
            method=None,
            url=None,
            headers=headers,
            status=status,
            request=request,
            field_names=self._field_names,
        )
        return self._signed(message, created, expires, nonce)

    def _signed(
        self, message: Message, created: int | None, expires: int | None, nonce: str | None
    ) -> SignatureFields:
        params = self.signature_params(created=created, expires=expires, nonce=nonce)
        base = build_signature_base(self._components, message, params)
        signature = self._sign(base.encode("ascii"))
        label = self._label
        return SignatureFields(
            label, f"{label}={params}", f"{label}={ser_byteseq(signature)}", base
        )

    def __repr__(self) -> str:
        return redacted_repr(
            self,
            key_id=repr(self._key_id),
            key=self._key,
            algorithm=repr(self._algorithm),
            components=repr(self.components),
            label=repr(self._label),
        )
