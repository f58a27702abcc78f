"""AssumeRoleCredentials: what it sends to STS, and every way STS can fail.

The happy path against a real STS verifier is in test_signing_sigv4_moto.py;
here a small local STS stand-in records requests and misbehaves on purpose.
"""

from __future__ import annotations

import asyncio
import urllib.parse

import aiohttp
import pytest
from aiohttp import web

import aiohttp_auth.signing as signing
from aiohttp_auth.errors import ConfigurationError, CredentialError, InsecureTransportError
from aiohttp_auth.signing.credentials import StaticCredentials
from aiohttp_auth.signing.sts import MAX_RESPONSE, AssumeRoleCredentials
from aiohttp_auth.testing import LocalServer

ROLE = "arn:aws:iam::123456789012:role/deployer"
SOURCE = StaticCredentials("AKIDSOURCE", "source-secret")
OK = b"""<AssumeRoleResponse><AssumeRoleResult><Credentials>
<AccessKeyId>ASIATEMP</AccessKeyId><SecretAccessKey>temp-secret</SecretAccessKey>
<SessionToken>temp-token</SessionToken><Expiration>2999-01-01T00:00:00Z</Expiration>
</Credentials></AssumeRoleResult></AssumeRoleResponse>"""


@pytest.fixture
async def sts():
    received: list[tuple[dict[str, str], dict[str, str]]] = []
    behaviour = {"mode": "ok"}

    async def handle(request: web.Request) -> web.StreamResponse:
        form = dict(urllib.parse.parse_qsl((await request.read()).decode()))
        received.append((dict(request.headers), form))
        if behaviour["mode"] == "huge":
            return web.Response(body=b"x" * (MAX_RESPONSE + 10))
        if behaviour["mode"] == "slow":
            await asyncio.sleep(2)
        return web.Response(body=OK, content_type="text/xml")

    app = web.Application()
    app.router.add_post("/", handle)
    async with LocalServer(app) as server:
        yield server, received, behaviour


async def test_assume_role_sends_a_signed_form(sts):
    server, received, _ = sts
    role = AssumeRoleCredentials(
        ROLE,
        source=SOURCE,
        endpoint=server.make_url("/"),
        external_id="ext",
        session_name="ci-run",
        duration=900,
        region="eu-west-1",
    )
    async with aiohttp.ClientSession() as session:
        creds = await role.resolve(session)
    assert (creds.access_key_id, creds.session_token) == ("ASIATEMP", "temp-token")
    ((headers, form),) = received
    assert form == {
        "Action": "AssumeRole",
        "Version": "2011-06-15",
        "RoleArn": ROLE,
        "RoleSessionName": "ci-run",
        "DurationSeconds": "900",
        "ExternalId": "ext",
    }
    assert "/eu-west-1/sts/aws4_request" in headers["Authorization"]
    assert "AKIDSOURCE" in repr(role)
    assert "source-secret" not in repr(role)


async def test_oversized_answer_is_refused(sts):
    server, _, behaviour = sts
    behaviour["mode"] = "huge"
    role = AssumeRoleCredentials(ROLE, source=SOURCE, endpoint=server.make_url("/"))
    async with aiohttp.ClientSession() as session:
        with pytest.raises(CredentialError, match="more than"):
            await role.resolve(session)


async def test_slow_sts_times_out(sts):
    server, _, behaviour = sts
    behaviour["mode"] = "slow"
    role = AssumeRoleCredentials(ROLE, source=SOURCE, endpoint=server.make_url("/"), timeout=0.2)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(CredentialError, match="cannot be reached: TimeoutError"):
            await role.resolve(session)


async def test_unreachable_sts_is_a_credential_error():
    from peers import free_port

    endpoint = f"http://127.0.0.1:{free_port()}/"
    role = AssumeRoleCredentials(ROLE, source=SOURCE, endpoint=endpoint)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(CredentialError, match="cannot be reached"):
            await role.resolve(session)


def test_default_endpoint_is_regional_https():
    role = AssumeRoleCredentials(ROLE, source=SOURCE, region="ap-south-1")
    assert str(role._url) == "https://sts.ap-south-1.amazonaws.com/"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"role_arn": "deployer"}, ConfigurationError, "ARN"),
        ({"source": "keys"}, ConfigurationError, "CredentialsProvider"),
        ({"session_name": "x"}, ConfigurationError, "2 to 64"),
        ({"duration": 60}, ConfigurationError, "900 to 43200"),
        ({"endpoint": "ftp://sts.example"}, ConfigurationError, "http"),
        ({"endpoint": "http://sts.example.com/"}, InsecureTransportError, "plain http"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, match):
    arguments = {"role_arn": ROLE, "source": SOURCE, **kwargs}
    role_arn = arguments.pop("role_arn")
    with pytest.raises(error, match=match):
        AssumeRoleCredentials(role_arn, **arguments)


def test_signing_package_names_load_on_first_use():
    assert signing.SigV4Signer.__name__ == "SigV4Signer"
    assert "SigV4Signer" in signing.__all__
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        signing.Nope  # noqa: B018
