"""The aiohttp-auth command: exit codes, error handling and the demo's verified scenarios."""

from __future__ import annotations

import importlib
import io
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from aiohttp_auth import __version__
from aiohttp_auth.cli import (
    _demo_env,
    _oauth2_log,
    demo,
    demo_digest,
    demo_oauth2,
    demo_oauth2_refresh,
    demo_static,
    main,
)
from aiohttp_auth.cli._console import Console, Outcome, wants_color
from aiohttp_auth.cli._demo_env import DemoEnv, Scenario
from aiohttp_auth.errors import ConfigurationError, CredentialError
from aiohttp_auth.testing import (
    AuthorizationServerConfig,
    DigestConfig,
    ResourceConfig,
    resource_app,
    serve_in_thread,
)

# What each static-middleware scenario must show; a scenario dropped from the
# list, or a title that no longer says what it shows, fails the first test.
STATIC_TOPICS = [
    "Bearer token, static",
    "async callable",
    "UTF-8 login",
    "API key in a header",
    "API key in the query string",
    "Redirect to another origin carries no credential",
    "Plain http to a remote host is refused",
    "Reprs never show a secret",
]


class TerminalStream(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_demo_runs_every_scenario_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--no-color"]) == 0

    out = capsys.readouterr().out
    for topic in STATIC_TOPICS:
        assert topic in out
    for scenario in demo.SCENARIOS:
        assert f"✓ {scenario.title}\n" in out
    assert "✗" not in out
    assert "\x1b[" not in out
    count = len(demo.SCENARIOS)
    assert out.endswith(f"✓ {count} of {count} scenarios passed\n")


def test_demo_shows_what_was_sent_and_what_the_other_origin_got(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--no-color"]) == 0

    out = capsys.readouterr().out
    assert "Authorization: Bearer demo-bearer-token" in out
    for call in (1, 2, 3):
        assert f"Authorization: Bearer demo-rotating-token-{call}" in out
    assert "'jürgen:demo-password'" in out
    assert "X-API-Key: demo-api-key" in out
    assert "GET /api-key?page=2&api_key=demo-api-key" in out
    assert "hop 2     GET /echo\n                (no Authorization, no X-API-Key)" in out
    assert "InsecureTransportError: BearerAuthMiddleware refuses" in out
    assert "BearerAuthMiddleware(token=<redacted 17 chars>" in out


def test_demo_digest_scenarios_show_the_digest_servers_records(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--no-color"]) == 0

    out = capsys.readouterr().out
    assert "received  GET /digest/report/1  no Authorization  -> 401\n" in out
    assert "GET /digest/report/4  SHA-256 qop=auth nc=00000004 nonce=" in out
    assert "counters  1 x 401 (0 stale), 4 authenticated, refused: none" in out
    assert "compare   aiohttp.DigestAuthMiddleware raised ClientError: " in out
    assert "GET /digest/vault  SHA-512-256 qop=auth nc=00000001" in out
    assert "counters  2 x 401 (1 stale), 3 authenticated, refused: stale nonce" in out
    assert "refused: wrong response for user 'Mufasa'" in out


def test_digest_scenarios_fail_when_the_server_accepts_nobody(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo_digest, "demo_digest_config", lambda **kw: DigestConfig(**kw))
    monkeypatch.setattr(demo, "SCENARIOS", list(demo_digest.SCENARIOS))

    assert main(["demo", "--no-color"]) == 1

    out = capsys.readouterr().out
    assert "✗ 4 requests cost one 401 (got 8)" in out
    assert "✗ the server answers 200 (got 401)" in out
    assert "✗ all 3 requests got 200 (got [401, 401, 401])" in out
    assert '✗ the server refused the answer as a wrong response (got ["unknown user' in out
    assert "0 of 4 scenarios passed" in out


def test_sha512_256_scenario_fails_when_the_server_offers_only_sha256(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def sha256_only(**settings: object) -> DigestConfig:
        return _demo_env.demo_digest_config(algorithms=["SHA-256"])

    monkeypatch.setattr(demo_digest, "demo_digest_config", sha256_only)
    monkeypatch.setattr(demo, "SCENARIOS", [demo_digest.SCENARIOS[1]])

    assert main(["demo", "--no-color"]) == 1

    out = capsys.readouterr().out
    assert "compare   aiohttp.DigestAuthMiddleware got 200" in out
    assert "✗ it authenticated the login with SHA-512-256 (got SHA-256)" in out


def test_demo_oauth2_scenarios_show_the_authorization_servers_records(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo, "SCENARIOS", list(demo_oauth2.SCENARIOS))

    assert main(["demo", "--no-color"]) == 0

    out = capsys.readouterr().out
    assert "server    POST /token  client_credentials  -> 200: access token #1\n" in out
    assert "GET /resource/reports/5  access token #1  -> 200\n" in out
    # The refresh: token #1 at t=0, refreshed at t=271 s, the old refresh token refused.
    assert (
        "server    t=0s    POST /token  password  -> 200: access token #1, refresh token #1" in out
    )
    assert (
        "t=271s  POST /token  refresh_token  refresh token #1  -> 200: "
        "access token #2, refresh token #2\n"
    ) in out
    assert "t=271s  GET /resource/reports  access token #2  -> 200\n" in out
    assert "store     access token #2, refresh token #2\n" in out
    assert (
        "replay    t=271s  POST /token  refresh_token  refresh token #1  -> 400 invalid_grant"
        in out
    )
    assert "resource  100 requests answered: 100 x 200\n" in out
    assert "POST /revoke  access token #1  -> 200\n" in out
    assert "GET /resource/reports  access token #1  -> 401 invalid_token\n" in out
    assert "hop 1     GET /redirect  Bearer access token #1\n" in out
    assert "hop 2     GET /echo  no Authorization\n" in out
    assert out.endswith("✓ 5 of 5 scenarios passed\n")


def test_oauth2_scenarios_fail_when_the_server_refuses_the_client(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A server that knows no client: every token request is refused.
    for module in (demo_oauth2, demo_oauth2_refresh):
        monkeypatch.setattr(
            module, "demo_oauth2_config", lambda **kw: AuthorizationServerConfig(**kw)
        )
    monkeypatch.setattr(demo, "SCENARIOS", list(demo_oauth2.SCENARIOS))

    assert main(["demo", "--no-color"]) == 1

    out = capsys.readouterr().out
    refused = (
        "✗ the scenario runs to its end (got OAuth2Error: The token endpoint http://127.0.0.1:"
    )
    assert out.count(refused) == 5
    assert out.count("OAuth error 'invalid_client'") == 5
    assert "0 of 5 scenarios passed" in out


def test_refresh_scenario_fails_when_the_server_does_not_rotate_refresh_tokens(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def without_rotation(**settings: object) -> AuthorizationServerConfig:
        return _demo_env.demo_oauth2_config(**{**settings, "rotate_refresh_tokens": False})

    monkeypatch.setattr(demo_oauth2_refresh, "demo_oauth2_config", without_rotation)
    monkeypatch.setattr(demo, "SCENARIOS", [demo_oauth2.SCENARIOS[1]])

    assert main(["demo", "--no-color"]) == 1

    out = capsys.readouterr().out
    assert "✓ both requests got 200" in out
    assert "✗ the server rotated refresh token #1 out and issued #2 (got rotated: [False])" in out
    assert (
        "✗ the store holds access token #2 and the newest refresh token, #2 "
        "(got ['access token #2', 'refresh token #1'])"
    ) in out
    assert (
        "✗ the server refuses refresh token #1 when it is replayed (invalid_grant) (got accepted)"
        in out
    )


def test_tokens_the_server_never_issued_are_named_as_such() -> None:
    config = AuthorizationServerConfig()

    assert _oauth2_log.token_name(config, "forged") == "a token it never issued"
    assert _oauth2_log.token_name(config, None) == "no token"


@pytest.mark.parametrize(
    ("authorization", "summary"),
    [
        (None, "no Authorization"),
        ('Digest username="unterminated', "no Authorization"),
        ("", "no Authorization"),
        ('Digest username="a", nonce="0123456789"', "MD5 nonce=01234567..."),
    ],
)
def test_digest_answers_are_summarised_by_what_varies(
    authorization: str | None, summary: str
) -> None:
    assert demo_digest._summary(demo_digest._directives(authorization)) == summary


def test_quiet_demo_prints_only_the_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--quiet", "--no-color"]) == 0

    count = len(demo.SCENARIOS)
    assert capsys.readouterr().out == f"✓ {count} of {count} scenarios passed\n"


def test_demo_exits_1_and_shows_the_failures_when_the_server_rejects_the_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_demo_env, "demo_resource_config", ResourceConfig)

    assert main(["demo", "--quiet", "--no-color"]) == 1

    out = capsys.readouterr().out
    assert "✗ Bearer token, static\n" in out
    assert "✗ the server answers 200 (got 401)" in out
    # --quiet leaves out the scenarios that still pass.
    assert "Reprs never show a secret\n" not in out
    assert "failed: Bearer token, static, Bearer token from an async callable" in out


def test_demo_fails_the_transport_step_if_the_request_was_sent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Pointed at a loopback server, the request is (rightly) allowed: the step
    # must notice both that nothing was raised and that a connection was made.
    with serve_in_thread(resource_app()) as server:
        monkeypatch.setattr(demo_static, "_INSECURE_URL", server.make_url("/echo"))
        monkeypatch.setattr(demo, "SCENARIOS", [demo_static.SCENARIOS[6]])

        assert main(["demo", "--no-color"]) == 1

    out = capsys.readouterr().out
    assert "status    200 OK" in out
    assert "✗ InsecureTransportError is raised" in out
    assert "✗ no DNS lookup and no connection was attempted (got [" in out
    assert "TraceConnectionCreateStartParams" in out
    assert "raised    " not in out


async def _raise_credential_error(env: DemoEnv, out: Outcome) -> None:
    raise CredentialError("BearerAuthMiddleware: the token callable f raised OSError")


async def _raise_client_error(env: DemoEnv, out: Outcome) -> None:
    raise aiohttp.ClientConnectionError("http://127.0.0.1:1/?api_key=SECRET-IN-URL")


@pytest.mark.parametrize(
    ("broken", "shown"),
    [
        (
            _raise_credential_error,
            "(got CredentialError: BearerAuthMiddleware: the token callable f raised OSError)",
        ),
        (_raise_client_error, "(got ClientConnectionError)"),
    ],
)
def test_scenario_raising_a_client_error_fails_that_step_and_the_rest_still_run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    broken: object,
    shown: str,
) -> None:
    scenarios = [Scenario("broken", broken), demo_static.SCENARIOS[0]]  # type: ignore[arg-type]
    monkeypatch.setattr(demo, "SCENARIOS", scenarios)

    assert main(["demo", "--no-color"]) == 1

    out = capsys.readouterr().out
    assert f"✗ the scenario runs to its end {shown}" in out
    assert "SECRET-IN-URL" not in out
    assert "✓ Bearer token, static" in out
    assert "1 of 2 scenarios passed; failed: broken" in out


def test_scenario_that_checks_nothing_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def says_only(env: DemoEnv, out: Outcome) -> None:
        out.say("did something")

    monkeypatch.setattr(demo, "SCENARIOS", [Scenario("unchecked", says_only)])

    assert main(["demo", "--no-color"]) == 1

    out = capsys.readouterr().out
    assert "✗ unchecked\n" in out
    assert "✗ the step verified nothing" in out


def test_demo_colours_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    terminal = TerminalStream()
    monkeypatch.setattr(sys, "stdout", terminal)

    assert main(["demo", "--quiet"]) == 0

    assert terminal.getvalue().startswith("\x1b[32;1m✓\x1b[0m ")


@pytest.mark.parametrize(
    ("no_color_flag", "environment", "colour"),
    [
        (False, {}, True),
        (True, {}, False),
        (False, {"NO_COLOR": "1"}, False),
        (False, {"NO_COLOR": ""}, True),
        (False, {"TERM": "dumb"}, False),
    ],
)
def test_colour_only_on_a_terminal_nobody_asked_to_keep_plain(
    monkeypatch: pytest.MonkeyPatch,
    no_color_flag: bool,
    environment: dict[str, str],
    colour: bool,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    assert wants_color(TerminalStream(), no_color=no_color_flag) is colour
    assert wants_color(io.StringIO(), no_color=no_color_flag) is False


def test_output_falls_back_to_ascii_when_the_stream_cannot_encode_it() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    console = Console(stream, color=False)

    console.write(f"{console.mark(True)} {console.mark(False)} jürgen")

    stream.flush()
    assert raw.getvalue() == b"OK FAIL j\\xfcrgen\n"


def test_decoding_a_malformed_basic_header_gives_none() -> None:
    assert demo_static._decode_basic("Basic not*base64") is None
    assert demo_static._decode_basic(None) is None


def test_a_server_that_received_nothing_is_shown_as_such() -> None:
    outcome = Outcome("t")

    demo_static._show_received(outcome, [], label="hop 2")

    assert outcome.lines == [("hop 2", "(nothing arrived)")]


def test_version_names_the_package_and_aiohttp(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0

    out = capsys.readouterr().out
    assert out.startswith(f"aiohttp-auth {__version__} (aiohttp {aiohttp.__version__}, Python ")


def test_help_lists_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0

    assert "demo" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [[], ["frobnicate"], ["demo", "--colour"], ["--verbose", "demo"]],
    ids=["no-command", "unknown-command", "unknown-demo-option", "unknown-global-option"],
)
def test_usage_error_exits_2_with_usage_on_stderr(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2

    captured = capsys.readouterr()
    assert "usage: aiohttp-auth" in captured.err
    assert captured.out == ""


def test_auth_error_is_a_one_line_message_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "s3cr3t-value"

    async def refuses(args: object) -> int:
        # What a later command does with bad input: the library's error, no secret.
        raise ConfigurationError(f"token: the token contains whitespace at position {len(secret)}")

    monkeypatch.setattr(demo, "run", refuses)

    assert main(["demo"]) == 1

    captured = capsys.readouterr()
    assert captured.err == (
        "aiohttp-auth: error: token: the token contains whitespace at position 12\n"
    )
    assert "Traceback" not in captured.err
    assert secret not in captured.err + captured.out


def test_interrupt_exits_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "run", interrupted)

    assert main(["demo"]) == 130
    assert capsys.readouterr().err == "aiohttp-auth: interrupted\n"


def test_main_module_exits_with_the_code_of_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["aiohttp-auth", "--version"])
    monkeypatch.delitem(sys.modules, "aiohttp_auth.cli.__main__", raising=False)

    with pytest.raises(SystemExit) as exit_info:
        importlib.import_module("aiohttp_auth.cli.__main__")

    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith(f"aiohttp-auth {__version__}")
    sys.modules.pop("aiohttp_auth.cli.__main__", None)


def test_python_dash_m_runs_the_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aiohttp_auth.cli", "frobnicate"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "invalid choice: 'frobnicate'" in result.stderr


def test_installed_console_script_runs_the_demo(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "aiohttp-auth"
    assert script.exists(), f"install the package (pip install -e .): {script} is missing"

    result = subprocess.run(  # noqa: S603 - the installed script, fixed arguments
        [str(script), "demo", "--no-color"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={"PATH": "", "PYTHONIOENCODING": "utf-8"},
        cwd=tmp_path,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    count = len(demo.SCENARIOS)
    assert f"✓ {count} of {count} scenarios passed" in result.stdout
    assert result.stderr == ""
