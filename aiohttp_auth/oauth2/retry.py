"""When and how long to retry a token request (RFC 9110 §10.2.3, §15.5.9, §15.6), sans-IO.

[`RetryPolicy`][] bounds the attempts and the waits between them;
[`RETRY_STATUSES`][] are the answers worth another attempt and
[`retry_after_seconds`][] reads a ``Retry-After``. The loop that sends the
request and waits is [`request_token`][aiohttp_auth.oauth2.endpoint.request_token].
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timezone
from typing import Final

from ..errors import ConfigurationError

__all__ = ["RETRY_STATUSES", "RetryPolicy", "retry_after_seconds"]

RETRY_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})
"""Statuses that say "not now" rather than "no" (RFC 9110 §15.5.9, §15.6; RFC 6585 §4)."""

# Retry-After as delay-seconds (RFC 9110 §10.2.3); the other form is an HTTP-date.
_DELAY_SECONDS: Final = re.compile(r"[0-9]{1,9}")


def _check_number(name: str, value: object, *, low: float, positive: bool = False) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < low
        or (positive and value <= 0)
    ):
        what = "a positive, finite number" if positive else f"a finite number >= {low:g}"
        raise ConfigurationError(f"RetryPolicy.{name}: expected {what}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class RetryPolicy:
    """How a token request is retried, and how long it may take in all.

    One attempt lasts at most *timeout* seconds (connecting, sending and
    reading the whole answer). After a failed attempt the next waits
    ``min(backoff * 2**(n-1), max_delay)`` seconds, shortened by up to
    *jitter* of itself at random, so that clients failing together do not
    retry together; a ``Retry-After`` of at most *max_delay* seconds is
    waited instead when longer, and a longer one ends the retries at once.
    So a token request never takes more than
    [`max_total`][aiohttp_auth.oauth2.retry.RetryPolicy.max_total] seconds:
    keep that below a token store's lock timeout (30 s for
    [`MemoryTokenStore`][aiohttp_auth.stores.memory.MemoryTokenStore]).

    Attributes:
        attempts: how many times to send the request, at least 1.
        timeout: seconds one attempt may take.
        backoff: seconds to wait after the first failed attempt; doubled after each.
        max_delay: the longest wait between two attempts, in seconds.
        jitter: the largest fraction (0 to 1) a wait is shortened by at random.
        sleep: the coroutine function that waits; tests pass a fake.
        random: returns a float in [0, 1) for the jitter; tests pass a fixed one.

    Raises:
        ConfigurationError: a setting out of range.
    """

    attempts: int = 3
    timeout: float = 6.0
    backoff: float = 0.5
    max_delay: float = 5.0
    jitter: float = 0.5
    sleep: Callable[[float], Awaitable[object]] = field(
        default=asyncio.sleep, repr=False, compare=False
    )
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise ConfigurationError(
                f"RetryPolicy.attempts: expected an int >= 1, got {self.attempts!r}"
            )
        if self.attempts < 1:
            raise ConfigurationError(f"RetryPolicy.attempts: expected >= 1, got {self.attempts}")
        _check_number("timeout", self.timeout, low=0.0, positive=True)
        _check_number("backoff", self.backoff, low=0.0)
        _check_number("max_delay", self.max_delay, low=0.0)
        if _check_number("jitter", self.jitter, low=0.0) > 1:
            raise ConfigurationError(f"RetryPolicy.jitter: expected 0 to 1, got {self.jitter!r}")

    @property
    def max_total(self) -> float:
        """The longest a token request can take, in seconds, all attempts and waits included."""
        return self.attempts * self.timeout + (self.attempts - 1) * self.max_delay

    def delay(self, failures: int, retry_after: float | None = None) -> float | None:
        """Return how long to wait after the *failures*-th failed attempt.

        Args:
            failures: how many attempts failed so far (1 after the first).
            retry_after: the server's ``Retry-After``, in seconds, if any.

        Returns:
            Seconds to wait, or None when the server asked for a longer wait
            than *max_delay*: then retrying now would only be refused again.
        """
        if retry_after is not None and retry_after > self.max_delay:
            return None
        # The exponent is capped: 2.0 ** 1024 would overflow a float.
        backoff = min(self.backoff * 2.0 ** min(failures - 1, 64), self.max_delay)
        backoff *= 1.0 - self.jitter * self.random()
        return max(backoff, retry_after or 0.0)


def retry_after_seconds(value: str | None, *, now: float) -> float | None:
    """Read a ``Retry-After`` field (RFC 9110 §10.2.3) as seconds from *now*.

    Returns:
        The delay (0 for a date in the past), or None when the field is
        absent or malformed.
    """
    if value is None:
        return None
    value = value.strip()
    if _DELAY_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # An HTTP-date is always GMT; parsedate gives a naive datetime for "-0000".
        when = when.replace(tzinfo=timezone.utc)
    return max(when.timestamp() - now, 0.0)
