"""The one exception tree of aiohttp_auth.

Every error the package raises is an [`AuthError`][], which is an
`aiohttp.ClientError`, so code that already handles aiohttp's client
errors handles ours too:

    aiohttp.ClientError
     └── AuthError
          ├── ConfigurationError        bad arguments, known at construction
          ├── InsecureTransportError    a secret would travel over plain http
          ├── CredentialError           a credential provider failed or gave garbage
          ├── BodyNotReplayableError    a retry would resend a consumed stream
          ├── ChallengeError            a malformed WWW-Authenticate challenge
          ├── SigningError              a request cannot be signed correctly
          │    └── SignatureVerificationError  a received signature does not verify
          ├── TokenError                a token could not be obtained
          │    └── OAuth2Error          the token endpoint answered an RFC 6749 §5.2 error
          └── StoreError                a token store failed (locked, corrupt, unreachable)

Messages say what went wrong and what to do about it. None of them ever
contains a secret: errors carry names, URLs (without query strings) and
lengths, never the credential itself.
"""

from __future__ import annotations

import functools
from typing import Any

import aiohttp

__all__ = [
    "AuthError",
    "BodyNotReplayableError",
    "ChallengeError",
    "ConfigurationError",
    "CredentialError",
    "InsecureTransportError",
    "OAuth2Error",
    "SignatureVerificationError",
    "SigningError",
    "StoreError",
    "TokenError",
]


class AuthError(aiohttp.ClientError):
    """Root of every error raised by aiohttp_auth."""


class ConfigurationError(AuthError, ValueError):
    """An argument is missing, of the wrong type, or has an invalid value.

    Raised at construction whenever the problem can be known then. It is also a
    `ValueError`, so generic argument validation code catches it.
    """


class InsecureTransportError(AuthError):
    """A secret would be sent over plain ``http://`` to a non-loopback host.

    Attributes:
        url: the request URL (without its query string) that was refused.
    """

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url

    def __reduce__(self) -> tuple[Any, ...]:
        # BaseException pickles only ``args``; ``url`` is keyword-only, so an
        # error sent to another process (multiprocessing, a task queue) would
        # fail to unpickle without this.
        return functools.partial(type(self), url=self.url), self.args, self.__dict__


class CredentialError(AuthError):
    """A credential provider (such as a token callable) failed or returned garbage."""


class BodyNotReplayableError(AuthError):
    """A retry would need to resend a request body that was already consumed.

    Streaming bodies (async generators, unseekable files) can be sent once. Pass
    ``bytes`` or a file, or let the middleware authenticate preemptively, so the
    first attempt already succeeds.
    """


class ChallengeError(AuthError):
    """A ``WWW-Authenticate`` or ``Proxy-Authenticate`` challenge is malformed (RFC 9110 §11)."""


class SigningError(AuthError):
    """A request cannot be signed correctly, so it is not sent at all."""


class SignatureVerificationError(SigningError):
    """A received message's signature or digest does not verify (RFC 9421 §3.2, RFC 9530).

    Raised by the verify functions users call on webhooks and responses; the
    message says which check failed (no signature, wrong key or algorithm,
    expired, a component not covered, a digest that does not match the body).
    """


class TokenError(AuthError):
    """A token could not be obtained from, or understood from, a token endpoint."""


class OAuth2Error(TokenError):
    """The token endpoint answered with an OAuth 2 error response (RFC 6749 §5.2).

    Attributes:
        error: the ``error`` code, e.g. ``"invalid_grant"``.
        description: the server's ``error_description``, if any.
        uri: the server's ``error_uri``, if any.
    """

    def __init__(
        self,
        error: str,
        description: str | None = None,
        uri: str | None = None,
        *,
        message: str | None = None,
    ) -> None:
        self.error = error
        self.description = description
        self.uri = uri
        if message is None:
            message = f"The token endpoint answered {error!r}"
            if description:
                message += f": {description}"
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild from the fields, not from ``args`` (which holds only the
        # message), so that an unpickled error keeps its code and message.
        rebuild = functools.partial(
            type(self), self.error, self.description, self.uri, message=str(self)
        )
        return rebuild, (), self.__dict__


class StoreError(AuthError):
    """A token store failed: locked, corrupt, unreachable or misconfigured."""
