"""What the demo's scenarios run against: two local servers, their records, the credentials.

The servers are [`aiohttp_auth.testing`][] resource servers on 127.0.0.1 in
this event loop: ``resource`` accepts the demo credentials below, ``other`` is a
second origin (another port) that must never receive any of them. Both record
every request, so each scenario verifies what really arrived.

The Digest scenarios serve their own [`aiohttp_auth.testing.digest`][] servers,
one per scenario, from [`demo_digest_config`][]; the OAuth 2 scenarios their own
[`aiohttp_auth.testing.oauth2`][] authorization servers, from [`demo_oauth2_config`][].

The credentials are throwaway demo values, shown in the output on purpose.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import ClientSession, ClientTimeout, TraceConfig
from aiohttp.client_middlewares import ClientMiddlewareType

from ..testing import (
    AuthorizationServerConfig,
    DigestConfig,
    LocalServer,
    RecordedRequest,
    ResourceConfig,
    resource_app,
)
from ._console import Outcome

__all__ = [
    "API_KEY",
    "BASIC_LOGIN",
    "BASIC_PASSWORD",
    "BEARER_TOKEN",
    "DIGEST_LOGIN",
    "DIGEST_PASSWORD",
    "OAUTH2_CLIENT_ID",
    "OAUTH2_CLIENT_SECRET",
    "OAUTH2_PASSWORD",
    "OAUTH2_USERNAME",
    "ROTATIONS",
    "DemoEnv",
    "Scenario",
    "Watch",
    "demo_digest_config",
    "demo_env",
    "demo_oauth2_config",
    "demo_resource_config",
    "rotating_token",
    "session_with",
]

# Throwaway values the demo shows on purpose, not secrets.
BEARER_TOKEN: Final = "demo-bearer-token"  # noqa: S105
BASIC_LOGIN: Final = "jürgen"
"""A non-ASCII login: RFC 7617 §2.1 has clients send it as UTF-8."""
BASIC_PASSWORD: Final = "demo-password"  # noqa: S105
API_KEY: Final = "demo-api-key"
DIGEST_LOGIN: Final = "Mufasa"
"""The Digest demo login and password: the user of RFC 7616 §3.9.1's examples."""
DIGEST_PASSWORD: Final = "Circle of Life"  # noqa: S105
OAUTH2_CLIENT_ID: Final = "demo-service"
"""The OAuth 2 demo client, registered with a secret (client_secret_basic)."""
OAUTH2_CLIENT_SECRET: Final = "demo-client-secret"  # noqa: S105
OAUTH2_USERNAME: Final = "ada"
"""The OAuth 2 demo user, for the password grant."""
OAUTH2_PASSWORD: Final = "demo-user-password"  # noqa: S105
ROTATIONS: Final = 3
"""How many tokens the rotating token source hands out (one per request)."""

# Scenarios talk to local servers only: anything slower than this is a failure.
_TIMEOUT: Final = ClientTimeout(total=10)


def rotating_token(call: int) -> str:
    """Return the token the rotating source hands out on its *call*-th call (from 1)."""
    return f"demo-rotating-token-{call}"


def demo_resource_config() -> ResourceConfig:
    """Return what the demo's resource server accepts: exactly the demo credentials."""
    return ResourceConfig(
        bearer_tokens=frozenset({BEARER_TOKEN, *map(rotating_token, range(1, ROTATIONS + 1))}),
        basic_users={BASIC_LOGIN: BASIC_PASSWORD},
        api_keys=frozenset({API_KEY}),
    )


def demo_digest_config(**settings: Any) -> DigestConfig:
    """Return a Digest server configuration (*settings* as for ``DigestConfig``).

    It accepts exactly the demo login; each Digest scenario serves its own.
    """
    return DigestConfig(users={DIGEST_LOGIN: DIGEST_PASSWORD}, **settings)


def demo_oauth2_config(**settings: Any) -> AuthorizationServerConfig:
    """Return an authorization server configuration (*settings* as for the class).

    It knows exactly the demo client and the demo user; each OAuth 2 scenario
    serves its own.
    """
    config = AuthorizationServerConfig(users={OAUTH2_USERNAME: OAUTH2_PASSWORD}, **settings)
    config.register(OAUTH2_CLIENT_ID, OAUTH2_CLIENT_SECRET)
    return config


class Watch:
    """The requests both servers received since the watch began."""

    def __init__(self, resource: list[RecordedRequest], other: list[RecordedRequest]) -> None:
        self._resource = resource
        self._other = other
        self._resource_start = len(resource)
        self._other_start = len(other)

    @property
    def resource(self) -> list[RecordedRequest]:
        """What the resource server received since the watch began."""
        return self._resource[self._resource_start :]

    @property
    def other(self) -> list[RecordedRequest]:
        """What the other origin received since the watch began."""
        return self._other[self._other_start :]


@dataclass(frozen=True)
class DemoEnv:
    """The servers a scenario talks to and what they recorded."""

    resource: LocalServer
    resource_config: ResourceConfig
    other: LocalServer
    other_config: ResourceConfig

    def watch(self) -> Watch:
        """Start watching what the servers receive from now on."""
        return Watch(self.resource_config.requests, self.other_config.requests)


@dataclass(frozen=True)
class Scenario:
    """One demo step: a title and a coroutine function that runs and checks it.

    ``run(env, outcome)`` describes what it sends with ``outcome.say()`` and
    verifies the servers' records with ``outcome.check()``.
    """

    title: str
    run: Callable[[DemoEnv, Outcome], Awaitable[None]]


@asynccontextmanager
async def demo_env() -> AsyncIterator[DemoEnv]:
    """Serve the resource server and the other origin for the length of the block."""
    resource_config = demo_resource_config()
    # The other origin accepts nothing: it is where credentials must not go.
    other_config = ResourceConfig()
    async with (
        LocalServer(resource_app(resource_config)) as resource,
        LocalServer(resource_app(other_config)) as other,
    ):
        yield DemoEnv(resource, resource_config, other, other_config)


def session_with(
    *middlewares: ClientMiddlewareType, trace_configs: list[TraceConfig] | None = None
) -> ClientSession:
    """Open a session with *middlewares* and a short timeout (the servers are local)."""
    return ClientSession(middlewares=middlewares, timeout=_TIMEOUT, trace_configs=trace_configs)
