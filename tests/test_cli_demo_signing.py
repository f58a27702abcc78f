"""The demo's request-signing scenarios: they pass, show the servers' records, and fail
when what they check does not hold."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import ClientRequest, ClientResponse
from aiohttp.client_middlewares import ClientHandlerType

from aiohttp_auth.cli import _signing_report, demo, demo_signing, main
from aiohttp_auth.cli._console import Outcome
from aiohttp_auth.testing.signing import HTTPSigConfig, SigV4Config


@pytest.fixture
def signing_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run only the signing scenarios in the demo."""
    monkeypatch.setattr(demo, "SCENARIOS", list(demo_signing.SCENARIOS))


@pytest.mark.usefixtures("signing_only")
@pytest.mark.skipif(
    not hasattr(aiohttp.payload.Payload, "as_bytes"),
    reason="aiohttp 3.12.0 cannot sign streams: its demo has no streaming scenario",
)
def test_signing_scenarios_pass_and_show_what_the_servers_verified(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--no-color"]) == 0

    out = capsys.readouterr().out
    count = len(demo_signing.SCENARIOS)
    assert out.endswith(f"✓ {count} of {count} scenarios passed\n")
    for scenario in demo_signing.SCENARIOS:
        assert f"✓ {scenario.title}\n" in out
    assert "received  PUT /demo-bucket/reports/2026.csv  -> 200\n" in out
    assert "Credential=AKIDEXAMPLE/" in out
    assert "answer    403 <Error><Code>SignatureDoesNotMatch</Code>..." in out
    assert "X-Amz-Content-SHA256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD\n" in out
    assert "Content-Encoding: aws-chunked\n" in out
    assert "4 chunk signatures verified" in out
    assert "?X-Amz-Algorithm&X-Amz-Credential&X-Amz-Date" in out
    assert "refused   Content-Digest: the sha-256 digest does not match the body\n" in out
    assert "hop 2     GET /echo/landing\n" in out
    # The session token appears once: on hop 1, never on hop 2.
    assert out.count("X-Amz-Security-Token: demo-session-token") == 1


@pytest.mark.skipif(
    not hasattr(aiohttp.payload.Payload, "as_bytes"),
    reason="aiohttp 3.12.0 cannot sign streams: its demo has no streaming scenario",
)
@pytest.mark.usefixtures("signing_only")
def test_signing_scenarios_fail_when_the_servers_know_no_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo_signing, "demo_sigv4_config", lambda **kw: SigV4Config(**kw))
    monkeypatch.setattr(demo_signing, "demo_httpsig_config", lambda key: HTTPSigConfig())

    assert main(["demo", "--no-color"]) == 1

    out = capsys.readouterr().out
    assert "✗ the PUT and the GET got 200 (got [403, 403])" in out
    assert (
        "✗ refused: 403 SignatureDoesNotMatch (expected) (got (403, 'InvalidAccessKeyId'))" in out
    )
    assert "✗ the seed and 4 chained chunk signatures" in out
    assert "✗ a session without credentials got the object" in out
    assert "✗ the webhook got 200, the tampered one 403" in out
    assert "✗ each signing server verified hop 1 before redirecting" in out
    # Refused requests still show what arrived; the redirect never left hop 1.
    assert "hop 2     (nothing arrived)" in out
    assert "0 of 6 scenarios passed" in out


@pytest.mark.usefixtures("signing_only")
def test_the_webhook_scenario_fails_if_a_changed_body_is_accepted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def passes_through(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        return await handler(request)

    monkeypatch.setattr(demo_signing, "_tamper", passes_through)
    # By function, not position: aiohttp 3.12.0's demo has no streaming scenario.
    (webhook,) = [s for s in demo_signing.SCENARIOS if s.run is demo_signing.httpsig_webhook]
    monkeypatch.setattr(demo, "SCENARIOS", [webhook])

    assert main(["demo", "--no-color"]) == 1

    out = capsys.readouterr().out
    assert "✗ the webhook got 200, the tampered one 403" in out
    assert (
        "✗ the changed body was refused: its digest no longer matched (expected) (got [])" in out
    )


def test_a_server_that_received_nothing_says_so() -> None:
    outcome = Outcome("redirect")

    _signing_report.show(outcome, [], label="hop 2")

    assert outcome.lines == [("hop 2", "(nothing arrived)")]


def test_an_answer_that_is_not_xml_has_no_error_code() -> None:
    assert _signing_report.error_code(b"<html>not closed") is None


def test_the_demo_config_accepts_exactly_the_demo_key() -> None:
    config = demo_signing.demo_sigv4_config()

    assert config.credentials == {demo_signing.ACCESS_KEY_ID: demo_signing.SECRET_ACCESS_KEY}
    assert demo_signing.SECRET_ACCESS_KEY not in repr(config)
