"""Static middlewares against httpbin, an independent server, and the peer machinery itself.

httpbin runs under gunicorn as a real process on 127.0.0.1 (see ``/work/shared/PEERS.md``):
``/bearer`` accepts any bearer token and echoes it, ``/basic-auth/u/p`` answers 401 to a
wrong password, ``/hidden-basic-auth/u/p`` answers 404, ``/redirect-to?url=`` redirects
anywhere. Without httpbin the tests skip, or fail with ``AIOHTTP_AUTH_REQUIRE_PEERS=1``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from peers import (
    REQUIRE_PEERS_ENV,
    AuthCase,
    Credentials,
    Site,
    free_port,
    require_ipv6_loopback,
    require_peer,
    running_process,
    wait_for_port,
)
from yarl import URL

from aiohttp_auth import AuthMiddleware, BasicAuthMiddleware, BearerAuthMiddleware


@pytest.fixture(scope="session")
def httpbin_peer() -> Iterator[URL]:
    """Run httpbin under gunicorn for the session and return its root URL."""
    require_peer("httpbin", module="httpbin")
    require_peer("gunicorn", module="gunicorn")
    with tempfile.TemporaryDirectory(prefix="aiohttp-auth-httpbin-") as tmp:
        port = free_port()
        argv = [
            *(sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"),
            *("--workers", "1", "--graceful-timeout", "1", "--log-level", "warning"),
            "httpbin:app",
        ]
        # gunicorn >= 27 keeps a control socket under $HOME/.gunicorn.
        env = {**os.environ, "HOME": tmp}
        with running_process(argv, port=port, cwd=tmp, env=env):
            yield URL.build(scheme="http", host="127.0.0.1", port=port)


async def get(url: URL, middleware: AuthMiddleware) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession(middlewares=(middleware,)) as session,
        session.get(url) as response,
    ):
        return response.status, await response.read()


@pytest.mark.peer("httpbin")
async def test_bearer_token_reaches_httpbin(httpbin_peer: URL, credentials: Credentials) -> None:
    status, body = await get(httpbin_peer / "bearer", BearerAuthMiddleware(credentials.bearer))
    assert status == 200
    assert b'"authenticated": true' in body
    assert credentials.bearer.encode() in body


@pytest.mark.peer("httpbin")
async def test_httpbin_challenges_a_request_without_token(httpbin_peer: URL) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(httpbin_peer / "bearer") as response,
    ):
        assert response.status == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.peer("httpbin")
@pytest.mark.parametrize("route", ["basic-auth", "hidden-basic-auth"])
async def test_basic_credentials_accepted_by_httpbin(httpbin_peer: URL, route: str) -> None:
    status, body = await get(httpbin_peer / route / "u" / "p", BasicAuthMiddleware("u", "p"))
    assert status == 200
    assert b'"user": "u"' in body


@pytest.mark.peer("httpbin")
@pytest.mark.parametrize(("route", "status"), [("basic-auth", 401), ("hidden-basic-auth", 404)])
async def test_wrong_password_answer_is_returned_to_the_caller(
    httpbin_peer: URL, route: str, status: int
) -> None:
    # Static middlewares never retry: the server's answer is the caller's to see.
    answered, _ = await get(httpbin_peer / route / "u" / "p", BasicAuthMiddleware("u", "wrong"))
    assert answered == status


@pytest.mark.peer("httpbin")
@pytest.mark.parametrize("status", [302, 307])
async def test_httpbin_redirect_to_other_origin_carries_nothing(
    httpbin_peer: URL,
    site: Site,
    credentials: Credentials,
    auth_case: AuthCase,
    status: int,
) -> None:
    target = site.url("/echo")
    source = (httpbin_peer / "redirect-to").with_query(url=str(target), status_code=status)
    async with (
        aiohttp.ClientSession(middlewares=(auth_case.build(credentials),)) as session,
        session.get(source) as response,
    ):
        assert response.status == 200
        assert response.url == target
        assert response.history[0].url.port == httpbin_peer.port
    assert len(site.requests_to("/echo")) == 1
    assert credentials.leaked_in(site.received()) == []


# --- the peer machinery ---------------------------------------------------------------


def test_require_peer_returns_when_everything_is_there() -> None:
    require_peer("python", binary=Path(sys.executable).name, module="json")


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        (
            {"binary": "no-such-binary-for-aiohttp-auth"},
            "widget not available: install widget (no 'no-such-binary-for-aiohttp-auth'",
        ),
        ({"module": "no_such_module_for_aiohttp_auth"}, "no importable"),
        ({"module": "no_such_package_for_aiohttp_auth.sub"}, "no importable"),
        ({"module": ".relative"}, "no importable"),
    ],
)
@pytest.mark.parametrize("env_value", [None, "0", ""])
def test_require_peer_skips_a_missing_peer(
    monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, str], reason: str, env_value: str | None
) -> None:
    if env_value is None:
        monkeypatch.delenv(REQUIRE_PEERS_ENV, raising=False)
    else:
        monkeypatch.setenv(REQUIRE_PEERS_ENV, env_value)
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_peer("widget", **kwargs)
    assert reason in str(skipped.value)


def test_require_peer_fails_instead_when_peers_are_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(REQUIRE_PEERS_ENV, "1")
    with pytest.raises(pytest.fail.Exception) as failed:
        require_peer("lighttpd", binary="no-such-binary-for-aiohttp-auth")
    message = str(failed.value)
    assert message.startswith("lighttpd not available: apt-get install lighttpd")
    assert f"{REQUIRE_PEERS_ENV}=1" in message


def test_require_peer_names_every_missing_part(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_PEERS_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_peer("httpbin", binary="no-such-binary-x", module="no_such_module_x")
    assert str(skipped.value) == (
        "httpbin not available: pip install httpbin (no 'no-such-binary-x' executable on "
        "PATH; no importable 'no_such_module_x' module)"
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_free_port_can_be_bound(host: str) -> None:
    if host == "::1":
        require_ipv6_loopback()
    port = free_port(host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, port))
    assert 0 < port < 65536


def test_wait_for_port_returns_once_listening_and_times_out_otherwise() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        wait_for_port("127.0.0.1", listener.getsockname()[1], timeout=2)
    silent = free_port()
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=f"127.0.0.1:{silent}"):
        wait_for_port("127.0.0.1", silent, timeout=0.3)
    assert time.monotonic() - started < 2


def test_running_process_serves_then_stops(tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("hello")
    port = free_port()
    argv = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]
    with running_process(argv, port=port, cwd=tmp_path) as process:
        url = f"http://127.0.0.1:{port}/hello.txt"
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.read() == b"hello"
        assert process.poll() is None
    assert process.returncode is not None


def test_running_process_reports_an_early_exit_with_its_output() -> None:
    argv = [sys.executable, "-c", "import sys; print('config error'); sys.exit(3)"]
    with (
        pytest.raises(RuntimeError, match="exited with status 3") as failed,
        running_process(argv, port=free_port()),
    ):
        pass
    assert "config error" in str(failed.value)


def test_running_process_gives_up_on_a_silent_process_and_stops_it(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    script = (
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    )
    with (
        pytest.raises(RuntimeError, match="did not listen"),
        running_process([sys.executable, "-c", script], port=free_port(), start_timeout=1.0),
    ):
        pass
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):  # stopped and reaped, not left running
        os.kill(pid, 0)


STUBBORN_SERVER = textwrap.dedent(
    """
    import signal, socket, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    listener = socket.socket()
    listener.bind(("127.0.0.1", int(sys.argv[1])))
    listener.listen()
    time.sleep(60)
    """
)


def test_running_process_kills_a_process_that_ignores_terminate() -> None:
    port = free_port()
    argv = [sys.executable, "-c", STUBBORN_SERVER, str(port)]
    started = time.monotonic()
    with running_process(argv, port=port, stop_timeout=0.5) as process:
        pass
    assert process.returncode == -9
    assert time.monotonic() - started < 10


def test_running_process_propagates_errors_and_still_stops_the_process() -> None:
    port = free_port()
    argv = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]
    started: list[subprocess.Popen[bytes]] = []

    def fail_while_running() -> None:
        with running_process(argv, port=port) as process:
            started.append(process)
            raise KeyError("a test failure inside the block")

    with pytest.raises(KeyError):
        fail_while_running()
    assert [process.returncode is not None for process in started] == [True]
