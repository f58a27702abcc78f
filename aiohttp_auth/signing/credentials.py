"""AWS-style credentials and the providers that supply them to a signer.

A signing middleware asks its provider for [`AwsCredentials`][] on every
request; providers make that cheap:

- [`StaticCredentials`][]: a fixed key pair (and session token);
- [`EnvironmentCredentials`][]: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``
  and ``AWS_SESSION_TOKEN``, read once;
- [`RefreshableCredentials`][]: temporary credentials from any callable
  (a vault, an internal token service, an SSO cache), fetched again before
  they expire, one fetch at a time however many requests wait for it;
- the shared credentials and config files, and AssumeRole through STS, in
  [`aiohttp_auth.signing.aws_config`][] and [`aiohttp_auth.signing.sts`][].
"""

from __future__ import annotations

import abc
import inspect
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, final

from aiohttp import ClientSession

from .._redact import logger, redacted
from .._single_flight import SingleFlight
from ..errors import ConfigurationError, CredentialError

__all__ = [
    "AwsCredentials",
    "CredentialsProvider",
    "EnvironmentCredentials",
    "RefreshableCredentials",
    "StaticCredentials",
]

REFRESH_BEFORE: Final = 300.0
"""Seconds before expiry at which temporary credentials are fetched again.

Five minutes, as botocore's advisory refresh: AWS rejects a signature made
with credentials that expire while the request is in flight.
"""


@final
@dataclass(frozen=True, slots=True)
class AwsCredentials:
    """One set of AWS-style credentials (also used for GCS HMAC keys).

    The secret key and session token never appear in ``repr``.

    Attributes:
        access_key_id: the access key id (``AKIA...``, ``ASIA...``, ``GOOG...``).
        secret_access_key: the secret that keys the signature.
        session_token: the token of temporary credentials, sent as
            ``X-Amz-Security-Token``.
        expires_at: when temporary credentials expire (epoch seconds), or None.
    """

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None

    def __post_init__(self) -> None:
        for name in ("access_key_id", "secret_access_key"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ConfigurationError(f"AwsCredentials: {name} must be a non-empty string")
        if self.session_token is not None and not isinstance(self.session_token, str):
            raise ConfigurationError("AwsCredentials: session_token must be a string or None")

    def __repr__(self) -> str:
        token = "None" if self.session_token is None else redacted(self.session_token)
        return (
            f"AwsCredentials(access_key_id={self.access_key_id!r}, "
            f"secret_access_key={redacted(self.secret_access_key)}, "
            f"session_token={token}, expires_at={self.expires_at!r})"
        )


class CredentialsProvider(abc.ABC):
    """Where a signing middleware gets its credentials, once per request."""

    @abc.abstractmethod
    async def resolve(self, session: ClientSession) -> AwsCredentials:
        """Return credentials valid for a request sent now.

        Args:
            session: the session of the request being signed; providers that
                fetch credentials over HTTP (STS) send through it, with no
                middleware.

        Raises:
            CredentialError: the credentials cannot be obtained.
        """


@final
class StaticCredentials(CredentialsProvider):
    """A fixed access key (and optional session token)."""

    __slots__ = ("_credentials",)

    def __init__(
        self, access_key_id: str, secret_access_key: str, session_token: str | None = None
    ) -> None:
        self._credentials = AwsCredentials(access_key_id, secret_access_key, session_token)

    async def resolve(self, session: ClientSession) -> AwsCredentials:
        """Return the fixed credentials."""
        return self._credentials

    def __repr__(self) -> str:
        return f"StaticCredentials(access_key_id={self._credentials.access_key_id!r})"


def environment_credentials(environ: Mapping[str, str]) -> AwsCredentials | None:
    """Read credentials from AWS's standard environment variables.

    ``AWS_SESSION_TOKEN`` (or the older ``AWS_SECURITY_TOKEN``) is optional.
    Returns None when neither key variable is set.

    Raises:
        CredentialError: only one of the two key variables is set.
    """
    access_key_id = environ.get("AWS_ACCESS_KEY_ID", "")
    secret = environ.get("AWS_SECRET_ACCESS_KEY", "")
    if not access_key_id and not secret:
        return None
    if not access_key_id or not secret:
        missing = "AWS_ACCESS_KEY_ID" if not access_key_id else "AWS_SECRET_ACCESS_KEY"
        raise CredentialError(
            f"{missing} is not set, but its partner is: set both, or neither "
            "to use another credential source"
        )
    token = environ.get("AWS_SESSION_TOKEN") or environ.get("AWS_SECURITY_TOKEN") or None
    return AwsCredentials(access_key_id, secret, token)


@final
class EnvironmentCredentials(CredentialsProvider):
    """Credentials from ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``.

    The variables are read once, at construction, as botocore does.

    Args:
        environ: the environment to read (default ``os.environ``).

    Raises:
        CredentialError: the variables are missing or only half set.
    """

    __slots__ = ("_credentials",)

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        credentials = environment_credentials(os.environ if environ is None else environ)
        if credentials is None:
            raise CredentialError(
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set: export them, "
                "or use another credentials provider"
            )
        self._credentials = credentials

    async def resolve(self, session: ClientSession) -> AwsCredentials:
        """Return the credentials read from the environment."""
        return self._credentials

    def __repr__(self) -> str:
        return f"EnvironmentCredentials(access_key_id={self._credentials.access_key_id!r})"


FetchCredentials = Callable[[], "AwsCredentials | Awaitable[AwsCredentials]"]
"""A sync or async callable returning fresh [`AwsCredentials`][]."""


class RefreshableCredentials(CredentialsProvider):
    """Temporary credentials, fetched again shortly before they expire.

    Concurrent requests that find the credentials due share one fetch (single
    flight); a request cancelled while waiting does not cancel the fetch. When
    a fetch fails and the current credentials have not expired yet, they are
    used and the fetch is retried on a later request; once they have expired,
    the error is raised.

    Args:
        fetch: a sync or async callable returning [`AwsCredentials`][] with
            ``expires_at`` set (credentials without it are used for ever).
        refresh_before: seconds before expiry at which to fetch again.
        clock: the clock, in epoch seconds.

    Example:
        ```python
        async def from_vault() -> AwsCredentials:
            lease = await vault.read("aws/creds/deploy")
            return AwsCredentials(lease["access_key"], lease["secret_key"],
                                  lease["security_token"], time.time() + lease["ttl"])

        aa.SigV4Middleware(credentials=RefreshableCredentials(from_vault),
                           region="eu-west-1", service="s3")
        ```
    """

    def __init__(
        self,
        fetch: FetchCredentials | None = None,
        *,
        refresh_before: float = REFRESH_BEFORE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if fetch is None and type(self).fetch is RefreshableCredentials.fetch:
            raise ConfigurationError("RefreshableCredentials needs a fetch callable")
        if fetch is not None and not callable(fetch):
            raise ConfigurationError(f"fetch: expected a callable, got {type(fetch).__name__}")
        if not refresh_before >= 0:
            raise ConfigurationError(f"refresh_before must be >= 0 seconds, got {refresh_before}")
        self._fetch_callable = fetch
        self._refresh_before = float(refresh_before)
        self._clock = clock
        self._current: AwsCredentials | None = None
        self._refresh_at = 0.0
        self._flights: SingleFlight[None, AwsCredentials] = SingleFlight()

    async def resolve(self, session: ClientSession) -> AwsCredentials:
        """Return current credentials, fetching new ones when they are due."""
        current = self._current
        now = self._clock()
        if current is not None and now < self._refresh_at:
            return current
        try:
            return await self._flights.run(None, lambda: self._refresh(session))
        except CredentialError:
            if current is not None and (current.expires_at is None or now < current.expires_at):
                logger.warning("credential refresh failed; using credentials until they expire")
                return current
            raise

    async def fetch(self, session: ClientSession) -> AwsCredentials:
        """Fetch new credentials (subclasses that fetch over HTTP override this).

        Raises:
            CredentialError: the callable failed or returned something else.
        """
        assert self._fetch_callable is not None  # checked in __init__
        try:
            result = self._fetch_callable()
            if inspect.isawaitable(result):
                result = await result
        except CredentialError:
            raise
        except Exception as exc:
            raise CredentialError(
                f"the credentials callable {_name_of(self._fetch_callable)} failed: "
                f"{type(exc).__name__}"
            ) from exc
        if not isinstance(result, AwsCredentials):
            raise CredentialError(
                f"the credentials callable {_name_of(self._fetch_callable)} returned "
                f"{type(result).__name__}, not AwsCredentials"
            )
        return result

    async def _refresh(self, session: ClientSession) -> AwsCredentials:
        credentials = await self.fetch(session)
        now = self._clock()
        if credentials.expires_at is not None and credentials.expires_at <= now:
            raise CredentialError(
                f"the credentials fetched for {credentials.access_key_id!r} have already "
                "expired: check the source's clock and lifetime"
            )
        self._current = credentials
        self._refresh_at = _refresh_time(credentials.expires_at, now, self._refresh_before)
        return credentials

    def __repr__(self) -> str:
        who = "None" if self._current is None else repr(self._current.access_key_id)
        return f"{type(self).__name__}(access_key_id={who})"


def _refresh_time(expires_at: float | None, now: float, refresh_before: float) -> float:
    """When to fetch again: *refresh_before* early, at most half the lifetime early.

    Capping at half the lifetime keeps short-lived credentials (15 minutes
    is STS's minimum) from being fetched on every request; a little jitter
    keeps many processes started together from refreshing in lockstep.
    """
    if expires_at is None:
        return float("inf")
    lifetime = expires_at - now
    early = min(refresh_before, lifetime / 2)
    return expires_at - early * (1.0 - 0.1 * random.random())  # noqa: S311 - jitter only


def _name_of(fetch: object) -> str:
    return getattr(fetch, "__qualname__", None) or type(fetch).__name__
