"""Every script in examples/ runs, against given servers and standalone, and says what it did.

Conventions the examples follow (and this file checks):

- ``AIOHTTP_AUTH_EXAMPLE_URL`` (and ``AIOHTTP_AUTH_EXAMPLE_OTHER_URL``, a second
  origin) name the servers to use; unset, the example serves its own on 127.0.0.1;
- ``demo_server_config()`` returns what a server must accept for the example: its
  documented demo credentials, the one place they are defined;
- ``demo_server_app``, if the example defines it, is the application factory that
  config is for (``digest_app`` for Digest, ``authorization_server_app`` for
  OAuth 2); without it, ``resource_app``;
- the docstring ends with an ``Expected output::`` block, printed exactly;
- the exit code is 0 only if the server accepted the example's credentials.

New files in examples/ are picked up by the glob.
"""

from __future__ import annotations

import base64
import importlib.util
import inspect
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aiohttp import web

from aiohttp_auth.testing import (
    AuthorizationServerConfig,
    DigestConfig,
    LocalServer,
    ResourceConfig,
    resource_app,
    serve_in_thread,
)
from aiohttp_auth.testing.signing import HTTPSigConfig, SigV4Config

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))
OUTPUT_MARKER = "Expected output::"
# Generous: a cold interpreter importing aiohttp on a busy 2-core machine.
TIMEOUT = 60


#: What a demo server accepts: static credentials, Digest users, OAuth 2 clients, or signing keys.
ServerConfig = (
    ResourceConfig | DigestConfig | AuthorizationServerConfig | SigV4Config | HTTPSigConfig
)


@dataclass
class Servers:
    resource: LocalServer
    resource_config: ServerConfig
    other: LocalServer
    other_config: ResourceConfig

    def env(self) -> dict[str, str]:
        return {
            "AIOHTTP_AUTH_EXAMPLE_URL": str(self.resource.url),
            "AIOHTTP_AUTH_EXAMPLE_OTHER_URL": str(self.other.url),
        }


def load_example(path: Path) -> ModuleType:
    """Import the example as a module; its ``__main__`` guard keeps it from running."""
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def expected_output(example: ModuleType) -> list[str]:
    doc = inspect.getdoc(example) or ""
    assert OUTPUT_MARKER in doc, f"{example.__file__}: the docstring needs '{OUTPUT_MARKER}'"
    block = textwrap.dedent(doc.split(OUTPUT_MARKER, 1)[1])
    return [line for line in block.strip().splitlines() if line.strip()]


def app_factory(example: ModuleType) -> Callable[[Any], web.Application]:
    """The application factory the example's ``demo_server_config()`` is for."""
    factory: Callable[[Any], web.Application] = getattr(example, "demo_server_app", resource_app)
    return factory


def secrets_of(config: ServerConfig) -> set[str]:
    """Every credential *config* accepts, as it would appear on the wire or in output."""
    if isinstance(config, DigestConfig):
        return set(config.users.values())
    if isinstance(config, SigV4Config):
        # Secret keys never travel; session tokens go to the server that issued them only.
        return {*config.credentials.values(), *config.session_tokens.values()}
    if isinstance(config, HTTPSigConfig):
        # Public keys are no secret; HMAC keys are.
        return {
            key.decode("latin-1")
            for key in config.keys.values()
            if isinstance(key, bytes) and not key.lstrip().startswith(b"-----BEGIN")
        }
    if isinstance(config, AuthorizationServerConfig):
        # Client secrets, user passwords, and every token the server issued or holds.
        client_secrets = {client.secret for client in config.clients.values() if client.secret}
        return {*client_secrets, *config.users.values(), *config.tokens}
    basic = {
        base64.b64encode(f"{login}:{password}".encode()).decode()
        for login, password in config.basic_users.items()
    }
    return {*config.bearer_tokens, *config.api_keys, *config.basic_users.values(), *basic}


def run_example(path: Path, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AIOHTTP_AUTH_EXAMPLE_")}
    clean.update(env, PYTHONIOENCODING="utf-8")
    return subprocess.run(  # noqa: S603 - our own interpreter and file
        [sys.executable, "-W", "error", str(path)],
        env=clean,
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        check=False,
    )


def assert_ran_as_documented(
    result: subprocess.CompletedProcess[str], example: ModuleType
) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == expected_output(example)
    config = example.demo_server_config()
    assert not [s for s in secrets_of(config) if s in result.stdout], "a secret was printed"


@pytest.fixture(params=EXAMPLES, ids=lambda path: path.name)
def example_path(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path


@pytest.fixture
def example(example_path: Path) -> ModuleType:
    return load_example(example_path)


def credentials_accepted(config: ServerConfig) -> bool:
    """Whether the server received and accepted the example's credentials."""
    if isinstance(config, DigestConfig):
        # Digest never sends the password: the server's own count says it verified one.
        return config.successes > 0
    if isinstance(config, SigV4Config | HTTPSigConfig):
        # A signature holds no secret either: the server counts the ones it verified.
        return config.accepted > 0
    if isinstance(config, AuthorizationServerConfig):
        # A token request answered with a token, and the API received an access token.
        access_tokens = {token.value for token in config.issued if token.kind == "access_token"}
        return any(call.status == 200 for call in config.token_requests) and any(
            config.resource_requests[token] for token in access_tokens
        )
    secrets = secrets_of(config)
    return any(secret in request.raw() for request in config.requests for secret in secrets)


def serve(
    make_app: Callable[[Any], web.Application],
    config: ServerConfig,
    other_config: ResourceConfig,
) -> Iterator[Servers]:
    with (
        serve_in_thread(make_app(config)) as resource,
        serve_in_thread(resource_app(other_config)) as other,
    ):
        yield Servers(resource, config, other, other_config)


@pytest.fixture
def example_servers(example: ModuleType) -> Iterator[Servers]:
    """A resource server accepting the example's demo credentials, and another origin."""
    yield from serve(app_factory(example), example.demo_server_config(), ResourceConfig())


@pytest.fixture
def rejecting_servers(example: ModuleType) -> Iterator[Servers]:
    """Servers of the example's kind that accept no credential at all."""
    rejecting = type(example.demo_server_config())()
    yield from serve(app_factory(example), rejecting, ResourceConfig())


def test_examples_are_found() -> None:
    assert len(EXAMPLES) >= 3


def test_example_against_given_servers_prints_what_it_did(
    example_path: Path, example: ModuleType, example_servers: Servers, tmp_path: Path
) -> None:
    result = run_example(example_path, example_servers.env(), tmp_path)

    assert_ran_as_documented(result, example)
    # The credentials reached the server named by the environment...
    assert credentials_accepted(example_servers.resource_config)
    secrets = secrets_of(example_servers.resource_config)
    # ...and none of them reached the other origin, if the example went there.
    for request in example_servers.other_config.requests:
        assert not [secret for secret in secrets if secret in request.raw()]
        assert "authorization" not in {name.lower() for name in request.headers}


def test_example_runs_standalone(example_path: Path, example: ModuleType, tmp_path: Path) -> None:
    result = run_example(example_path, {}, tmp_path)

    assert_ran_as_documented(result, example)


def test_example_exits_non_zero_when_the_server_rejects_it(
    example_path: Path, rejecting_servers: Servers, tmp_path: Path
) -> None:
    result = run_example(example_path, rejecting_servers.env(), tmp_path)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert rejecting_servers.resource_config.requests
