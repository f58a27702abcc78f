"""[`HTTPSignatureMiddleware`][]: sign every request with HTTP Message Signatures (RFC 9421).

The middleware adapts aiohttp to the sans-IO
[`HTTPSigner`][aiohttp_auth.signing.httpsig.HTTPSigner]: on every hop to an
admitted origin (redirects included) it sets what it signs itself, then
``Content-Digest``, ``Signature-Input`` and ``Signature``. A redirect to
another origin carries no signature.

Two things aiohttp would otherwise do behind a signer's back are done first:
the body is read with ``await request.body.as_bytes()`` (which also keeps a
streaming body replayable) to compute ``Content-Digest``, and the
``Content-Type: application/octet-stream`` that aiohttp adds to a POST, PUT or
PATCH without a type *after* middlewares run is set before signing when
``content-type`` is covered.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Final

from aiohttp import ClientRequest, ClientResponse, hdrs
from aiohttp.client_middlewares import ClientHandlerType

from .._middleware import AuthMiddleware, set_default_content_type
from .._origins import OriginsArg
from .._redact import redacted_repr
from ..errors import ConfigurationError
from ._body import body_to_sign
from .content_digest import DIGEST_ALGORITHMS
from .content_digest import content_digest as digest_of
from .httpsig import DEFAULT_COMPONENTS, HTTPSigner
from .httpsig_fields import StructuredType
from .httpsig_keys import SigningKeyArg
from .httpsig_message import TargetURI

__all__ = ["HTTPSignatureMiddleware"]

_CONTENT_DIGEST: Final = "Content-Digest"
_SIGNATURE_INPUT: Final = "Signature-Input"
_SIGNATURE: Final = "Signature"
# aiohttp's default type for a body sent without one (ClientRequest.send).


class HTTPSignatureMiddleware(AuthMiddleware):
    """Sign each request to the allowed origins with HTTP Message Signatures (RFC 9421).

    Args:
        key_id: the ``keyid`` parameter the server looks the key up by; None
            leaves it out.
        key: HMAC secret ``bytes`` (for ``hmac-sha256``), a ``cryptography``
            private key, or a private key in PEM (``bytes`` or ``str``).
        algorithm: ``"ed25519"``, ``"ecdsa-p256-sha256"``, ``"ecdsa-p384-sha384"``,
            ``"rsa-pss-sha512"``, ``"rsa-v1_5-sha256"`` or ``"hmac-sha256"``.
        components: the covered components, in order: derived components
            (``@method``, ``@target-uri``, ``@authority``, ``@scheme``,
            ``@request-target``, ``@path``, ``@query``, ``@query-param;name="id"``)
            and header fields, with ``;sf``, ``;key="member"`` or ``;bs``.
        label: the signature's label in ``Signature-Input`` and ``Signature``.
        content_digest: the ``Content-Digest`` algorithm (``"sha-256"`` or
            ``"sha-512"``), computed from the body when ``content-digest`` is
            covered; None to set the header yourself.
        created: send the ``created`` parameter (the time of signing).
        expires_in: send ``expires``, this many seconds after signing; None omits it.
        nonce: a callable returning a fresh ``nonce`` for each request, such as
            ``lambda: secrets.token_urlsafe(16)``; None omits it.
        tag: the ``tag`` parameter, naming the application or profile.
        include_alg: send the ``alg`` parameter.
        structured_fields: field name -> ``"dictionary"``, ``"list"`` or
            ``"item"``, for ``;sf`` on fields this package does not know.
        origins: see [`AuthMiddleware`][aiohttp_auth._middleware.AuthMiddleware].
        clock: returns the current time in epoch seconds.

    Raises:
        ConfigurationError: an invalid argument, including a key of the wrong
            kind for *algorithm* (the message names both).
    """

    sends_secret = False  # a signature does not reveal the key

    def __init__(
        self,
        key_id: str | None,
        key: SigningKeyArg,
        *,
        algorithm: str,
        components: Iterable[str] = DEFAULT_COMPONENTS,
        label: str = "sig1",
        content_digest: str | None = "sha-256",
        created: bool = True,
        expires_in: float | None = None,
        nonce: Callable[[], str] | None = None,
        tag: str | None = None,
        include_alg: bool = True,
        structured_fields: Mapping[str, StructuredType] | None = None,
        origins: OriginsArg = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(origins=origins)
        self._signer = HTTPSigner(
            key_id,
            key,
            algorithm=algorithm,
            components=components,
            label=label,
            tag=tag,
            include_alg=include_alg,
            structured_fields=structured_fields,
        )
        if content_digest is not None and content_digest not in DIGEST_ALGORITHMS:
            raise ConfigurationError(
                f"content_digest: expected 'sha-256', 'sha-512' or None, got {content_digest!r}"
            )
        if not isinstance(created, bool):
            raise ConfigurationError(f"created: expected True or False, got {created!r}")
        if expires_in is not None and (
            not isinstance(expires_in, int | float)
            or isinstance(expires_in, bool)
            or expires_in <= 0
        ):
            raise ConfigurationError(
                f"expires_in: expected seconds > 0 or None, got {expires_in!r}"
            )
        for name, function in (("nonce", nonce), ("clock", clock)):
            if function is not None and not callable(function):
                raise ConfigurationError(f"{name}: expected a callable, got {function!r}")
        self._digest = content_digest if self._signer.covers("content-digest") else None
        self._sets_content_type = self._signer.covers("content-type")
        self._created = created
        self._expires_in = expires_in
        self._nonce = nonce
        self._clock = clock

    @property
    def signer(self) -> HTTPSigner:
        """The sans-IO signer this middleware drives."""
        return self._signer

    async def authenticate(
        self, request: ClientRequest, handler: ClientHandlerType
    ) -> ClientResponse:
        """Set ``Content-Digest``, ``Signature-Input`` and ``Signature``, then send the request.

        Raises:
            SigningError: ``Content-Digest`` is covered and cannot match the
                bytes sent: aiohttp compresses the body after middlewares run,
                or the body disagrees with its ``Content-Length`` (on aiohttp
                3.12.0, a middleware before this one replaced ``request.body``
                without setting it); the message says what to change.
        """
        headers = request.headers
        if self._digest is not None:
            headers[_CONTENT_DIGEST] = digest_of(await body_to_sign(request), self._digest)
        if self._sets_content_type:
            set_default_content_type(request)
        now = self._clock()
        fields = self._signer.sign_request(
            request.method,
            TargetURI.from_url(request.url, headers.get(hdrs.HOST)),
            headers,
            created=int(now) if self._created else None,
            expires=None if self._expires_in is None else int(now + self._expires_in),
            nonce=None if self._nonce is None else self._nonce(),
        )
        signature_input, signature = fields.signature_input, fields.signature
        if _SIGNATURE_INPUT in headers or _SIGNATURE in headers:
            # Another signature is there already (another signer, or this one
            # on a hop sent again): keep the others, replace this label.
            signature_input, signature = fields.merged(
                headers.getall(_SIGNATURE_INPUT, ()), headers.getall(_SIGNATURE, ())
            )
        headers[_SIGNATURE_INPUT] = signature_input
        headers[_SIGNATURE] = signature
        return await handler(request)

    def __repr__(self) -> str:
        signer = self._signer
        return redacted_repr(
            self,
            key_id=repr(signer.key_id),
            algorithm=repr(signer.algorithm),
            components=repr(signer.components),
            label=repr(signer.label),
            origins=self.scope.describe(),
        )
