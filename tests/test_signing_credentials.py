"""Credentials and providers: static, environment, refreshable (single flight), process."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from pathlib import Path

import aiohttp
import pytest

from aiohttp_auth.errors import ConfigurationError, CredentialError
from aiohttp_auth.signing.credentials import (
    AwsCredentials,
    EnvironmentCredentials,
    RefreshableCredentials,
    StaticCredentials,
    environment_credentials,
)
from aiohttp_auth.signing.process import ProcessCredentials

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as session:
        yield session


def test_credentials_repr_hides_secret_and_token():
    creds = AwsCredentials("AKIDEXAMPLE", SECRET, "token-value-123", 5.0)
    text = repr(creds)
    assert "AKIDEXAMPLE" in text
    assert SECRET not in text
    assert "token-value-123" not in text
    assert "session_token=None" in repr(AwsCredentials("AKIDEXAMPLE", SECRET))


@pytest.mark.parametrize(
    ("key_id", "secret", "token"),
    [("", SECRET, None), ("AKID", "", None), (None, SECRET, None), ("AKID", SECRET, 5)],
)
def test_credentials_reject_bad_values(key_id, secret, token):
    with pytest.raises(ConfigurationError):
        AwsCredentials(key_id, secret, token)


async def test_static_credentials_resolve_to_themselves(session):
    provider = StaticCredentials("AKID", SECRET, "tok")
    creds = await provider.resolve(session)
    assert (creds.access_key_id, creds.secret_access_key, creds.session_token) == (
        "AKID",
        SECRET,
        "tok",
    )
    assert SECRET not in repr(provider)


async def test_environment_credentials_read_standard_variables(session):
    env = {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": "t"}
    creds = await EnvironmentCredentials(env).resolve(session)
    assert creds == AwsCredentials("AKID", SECRET, "t")
    assert SECRET not in repr(EnvironmentCredentials(env))


def test_environment_credentials_accept_legacy_security_token():
    env = {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SECURITY_TOKEN": "x"}
    creds = environment_credentials(env)
    assert creds is not None
    assert creds.session_token == "x"


def test_environment_without_keys_gives_none_or_a_clear_error():
    assert environment_credentials({}) is None
    with pytest.raises(CredentialError, match="AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"):
        EnvironmentCredentials({})


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"AWS_ACCESS_KEY_ID": "AKID"}, "AWS_SECRET_ACCESS_KEY"),
        ({"AWS_SECRET_ACCESS_KEY": SECRET}, "AWS_ACCESS_KEY_ID"),
    ],
)
def test_half_set_environment_names_the_missing_variable(env, missing):
    with pytest.raises(CredentialError, match=missing) as caught:
        environment_credentials(env)
    assert SECRET not in str(caught.value)


def test_environment_credentials_default_to_os_environ(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_SECURITY_TOKEN", raising=False)
    assert "AKIDENV" in repr(EnvironmentCredentials())


def _temporary(n: int, expires_at: float | None) -> AwsCredentials:
    return AwsCredentials(f"ASIA{n}", f"secret{n}", f"token{n}", expires_at)


async def test_refreshable_fetches_once_then_again_before_expiry(session):
    clock = Clock()
    calls = []

    def fetch() -> AwsCredentials:
        calls.append(clock.now)
        return _temporary(len(calls), clock.now + 3600)

    provider = RefreshableCredentials(fetch, clock=clock)
    assert repr(provider) == "RefreshableCredentials(access_key_id=None)"
    first = await provider.resolve(session)
    assert (await provider.resolve(session)) is first
    clock.now += 3600 - 330  # not yet due: refresh_before is 300 s, less <= 10 % jitter
    assert (await provider.resolve(session)) is first
    clock.now += 70  # inside the last 270 s (300 s less at most 10 % jitter)
    second = await provider.resolve(session)
    assert second.access_key_id == "ASIA2"
    assert len(calls) == 2
    assert "ASIA2" in repr(provider)


async def test_refreshable_short_lifetime_refreshes_at_half_not_every_request(session):
    clock = Clock()
    count = 0

    async def fetch() -> AwsCredentials:
        nonlocal count
        count += 1
        return _temporary(count, clock.now + 120)  # shorter than refresh_before

    provider = RefreshableCredentials(fetch, clock=clock)
    await provider.resolve(session)
    clock.now += 50
    await provider.resolve(session)
    assert count == 1
    clock.now += 20  # past half the lifetime
    await provider.resolve(session)
    assert count == 2


async def test_concurrent_resolves_share_one_fetch(session):
    started = asyncio.Event()
    release = asyncio.Event()
    count = 0

    async def fetch() -> AwsCredentials:
        nonlocal count
        count += 1
        started.set()
        await release.wait()
        return _temporary(count, None)

    provider = RefreshableCredentials(fetch)
    waiters = [asyncio.ensure_future(provider.resolve(session)) for _ in range(50)]
    await started.wait()
    release.set()
    results = await asyncio.gather(*waiters)
    assert count == 1
    assert all(result is results[0] for result in results)


async def test_failed_refresh_keeps_unexpired_credentials_then_raises(session):
    clock = Clock()
    fail = False

    def fetch() -> AwsCredentials:
        if fail:
            raise OSError("vault down")
        return _temporary(1, clock.now + 1000)

    provider = RefreshableCredentials(fetch, refresh_before=300, clock=clock)
    first = await provider.resolve(session)
    fail = True
    clock.now += 900  # due, not expired
    assert (await provider.resolve(session)) is first
    clock.now += 200  # expired
    with pytest.raises(CredentialError, match="failed: OSError"):
        await provider.resolve(session)


@pytest.mark.parametrize(
    ("result", "match"),
    [("not credentials", "returned str"), (None, "returned NoneType")],
)
async def test_refreshable_rejects_what_is_not_credentials(session, result, match):
    provider = RefreshableCredentials(lambda: result)
    with pytest.raises(CredentialError, match=match):
        await provider.resolve(session)


async def test_refreshable_rejects_already_expired_credentials(session):
    clock = Clock()
    provider = RefreshableCredentials(lambda: _temporary(1, clock.now - 1), clock=clock)
    with pytest.raises(CredentialError, match="already expired"):
        await provider.resolve(session)


async def test_credential_error_from_fetch_passes_through(session):
    def fetch() -> AwsCredentials:
        raise CredentialError("vault sealed")

    with pytest.raises(CredentialError, match="vault sealed"):
        await RefreshableCredentials(fetch).resolve(session)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "needs a fetch callable"),
        ({"fetch": "not callable"}, "expected a callable"),
        ({"fetch": lambda: None, "refresh_before": -1}, "refresh_before"),
        ({"fetch": lambda: None, "refresh_before": float("nan")}, "refresh_before"),
    ],
)
def test_refreshable_validates_arguments(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        RefreshableCredentials(**kwargs)


def _script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "creds.py"
    path.write_text(textwrap.dedent(body))
    return f"{sys.executable} {path}"


async def test_process_credentials_run_the_command_and_parse_its_json(session, tmp_path):
    command = _script(
        tmp_path,
        """
        import json
        print(json.dumps({"Version": 1, "AccessKeyId": "ASIAPROC", "SecretAccessKey": "s",
                          "SessionToken": "t", "Expiration": "2999-01-01T00:00:00Z"}))
        """,
    )
    provider = ProcessCredentials(command)
    creds = await provider.resolve(session)
    assert (creds.access_key_id, creds.session_token) == ("ASIAPROC", "t")
    assert creds.expires_at is not None
    assert creds.expires_at > 3e10
    assert repr(provider) == f"ProcessCredentials(command={sys.executable!r}, ...)"


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("import sys; sys.exit(3)", "exited with status 3"),
        ("print('x' * 70000)", "more than 65536 bytes"),
        ("import time; time.sleep(5)", "did not finish"),
        ("print('{')", "not JSON"),
    ],
)
async def test_process_credentials_failures_are_credential_errors(session, tmp_path, body, match):
    provider = ProcessCredentials(_script(tmp_path, body), timeout=1.0)
    with pytest.raises(CredentialError, match=match):
        await provider.resolve(session)


async def test_process_that_cannot_start_is_a_credential_error(session, tmp_path):
    provider = ProcessCredentials(str(tmp_path / "no-such-program"))
    with pytest.raises(CredentialError, match="cannot be started"):
        await provider.resolve(session)


@pytest.mark.parametrize(("command", "match"), [("", "empty"), ("'unclosed", "quotation")])
def test_process_command_must_be_a_command_line(command, match):
    with pytest.raises(ConfigurationError, match=match):
        ProcessCredentials(command)
