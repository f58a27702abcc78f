"""The shared credentials/config files, and the STS and credential_process documents."""

from __future__ import annotations

import contextlib
import json

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiohttp_auth.errors import CredentialError
from aiohttp_auth.signing.aws_config import (
    AwsProfile,
    load_profile,
    parse_profiles,
    profile_credentials,
)
from aiohttp_auth.signing.credential_formats import (
    parse_assume_role_response,
    parse_iso8601,
    parse_process_output,
)
from aiohttp_auth.signing.credentials import AwsCredentials, StaticCredentials
from aiohttp_auth.signing.process import ProcessCredentials
from aiohttp_auth.signing.sts import AssumeRoleCredentials

CREDENTIALS = """
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = default-secret

[dev]
aws_access_key_id=AKIDDEV
aws_secret_access_key=dev-secret
aws_session_token=dev-token
"""

CONFIG = """
[default]
region = eu-west-1

[profile dev]
region = us-west-2
aws_access_key_id = AKIDIGNORED

[profile deploy]
role_arn = arn:aws:iam::123456789012:role/deployer
source_profile = dev
external_id = ext-1
role_session_name = ci
duration_seconds = 900

[profile self-role]
role_arn = arn:aws:iam::123456789012:role/self
source_profile = self-role
aws_access_key_id = AKIDSELF
aws_secret_access_key = self-secret

[profile tool]
credential_process = /usr/local/bin/get-creds --profile tool

[sso-session corp]
sso_region = us-east-1

[profile empty]
region = ap-south-1
"""


def test_profiles_merge_both_files_with_the_credentials_file_winning():
    profiles = parse_profiles(CREDENTIALS, CONFIG)
    assert profiles["default"].region == "eu-west-1"
    assert profiles["default"].credentials == AwsCredentials("AKIDDEFAULT", "default-secret")
    dev = profiles["dev"]
    assert dev.credentials == AwsCredentials("AKIDDEV", "dev-secret", "dev-token")
    assert dev.region == "us-west-2"
    assert "corp" not in profiles
    assert "sso-session corp" not in profiles
    deploy = profiles["deploy"]
    assert (deploy.role_arn, deploy.source_profile, deploy.external_id) == (
        "arn:aws:iam::123456789012:role/deployer",
        "dev",
        "ext-1",
    )
    assert (deploy.role_session_name, deploy.duration_seconds) == ("ci", 900)
    assert "dev-secret" not in repr(dev)


def _files(tmp_path, credentials=CREDENTIALS, config=CONFIG):
    (tmp_path / "credentials").write_text(credentials)
    (tmp_path / "config").write_text(config)
    return {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
    }


def test_load_profile_follows_aws_profile_and_file_variables(tmp_path):
    env = {**_files(tmp_path), "AWS_PROFILE": "dev"}
    assert load_profile(environ=env).name == "dev"
    assert load_profile("default", environ=env).region == "eu-west-1"


def test_load_profile_defaults_to_home_dot_aws(tmp_path):
    (tmp_path / ".aws").mkdir()
    _files(tmp_path / ".aws")
    assert load_profile(environ={"HOME": str(tmp_path)}).name == "default"


def test_explicit_paths_win_and_missing_files_read_as_empty(tmp_path):
    _files(tmp_path)
    profile = load_profile(
        "dev", credentials_file=tmp_path / "credentials", config_file=tmp_path / "nope", environ={}
    )
    assert profile.region is None
    assert profile.credentials is not None


def test_missing_profile_names_both_files(tmp_path):
    env = _files(tmp_path)
    with pytest.raises(CredentialError, match=r"'nobody' is in neither .*credentials.*config"):
        load_profile("nobody", environ=env)


def test_unreadable_file_is_a_credential_error(tmp_path):
    (tmp_path / "credentials").write_bytes(b"\xff\xfe[default]")
    with pytest.raises(CredentialError, match=r"cannot read .*UnicodeDecodeError"):
        load_profile(credentials_file=tmp_path / "credentials", config_file=tmp_path / "x")


def test_invalid_ini_never_quotes_the_line(tmp_path):
    bad = "[default]\naws_secret_access_key = s3cr3t-value\n[default]\n"
    with pytest.raises(CredentialError, match="not valid INI near line") as caught:
        parse_profiles(bad)
    assert "s3cr3t" not in str(caught.value)
    with pytest.raises(CredentialError, match="not valid INI: ParsingError") as caught:
        parse_profiles("[default]\naws_secret_access_key s3cr3t-value\n")
    assert "s3cr3t" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[p]\naws_access_key_id = AKID\n", "only one of"),
        ("[p]\naws_secret_access_key = s\n", "only one of"),
    ],
)
def test_half_a_key_pair_is_an_error(text, match):
    with pytest.raises(CredentialError, match=match):
        parse_profiles(text)


@pytest.mark.parametrize("value", ["60", "50000", "1h", "-900"])
def test_duration_seconds_must_be_in_sts_range(value):
    with pytest.raises(CredentialError, match="duration_seconds"):
        parse_profiles(config_text=f"[profile p]\nduration_seconds = {value}\n")


async def test_profile_credentials_pick_the_right_provider(tmp_path):
    env = _files(tmp_path)
    async with aiohttp.ClientSession() as session:
        static = profile_credentials("dev", environ=env)
        assert isinstance(static, StaticCredentials)
        assert (await static.resolve(session)).session_token == "dev-token"
    assert isinstance(profile_credentials("tool", environ=env), ProcessCredentials)
    deploy = profile_credentials("deploy", environ=env)
    assert isinstance(deploy, AssumeRoleCredentials)
    assert deploy.role_arn == "arn:aws:iam::123456789012:role/deployer"
    assert isinstance(deploy.source, StaticCredentials)
    self_role = profile_credentials("self-role", environ=env)
    assert isinstance(self_role, AssumeRoleCredentials)
    assert isinstance(self_role.source, StaticCredentials)


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ("[profile a]\nregion = x\n", "has no aws_access_key_id"),
        ("[profile a]\nrole_arn = arn:r\n", "no source_profile"),
        ("[profile a]\nrole_arn = arn:r\nsource_profile = ghost\n", "'ghost', which does not"),
        (
            "[profile a]\nrole_arn = arn:r\nsource_profile = b\n"
            "[profile b]\nrole_arn = arn:r\nsource_profile = a\n",
            "circular or too long: a -> b -> a",
        ),
    ],
)
def test_unusable_profiles_say_why(tmp_path, config, match):
    env = _files(tmp_path, credentials="", config=config)
    with pytest.raises(CredentialError, match=match):
        profile_credentials("a", environ=env)


def test_long_source_profile_chains_are_cut():
    config = "".join(
        f"[profile p{i}]\nrole_arn = arn:r{i}\nsource_profile = p{i + 1}\n" for i in range(12)
    )
    profiles = parse_profiles(config_text=config)
    assert profiles["p0"].source_profile == "p1"
    from aiohttp_auth.signing.aws_config import _provider

    with pytest.raises(CredentialError, match="too long"):
        _provider(profiles, profiles["p0"], ())


def test_profile_dataclass_defaults():
    assert AwsProfile("x").credentials is None


STS_OK = b"""<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>
      <SecretAccessKey>sts-secret</SecretAccessKey>
      <SessionToken>sts-token</SessionToken>
      <Expiration>2026-11-24T12:00:00Z</Expiration>
    </Credentials>
  </AssumeRoleResult>
</AssumeRoleResponse>"""


def test_assume_role_response_parses_credentials():
    creds = parse_assume_role_response(STS_OK)
    assert creds.access_key_id == "ASIAEXAMPLE"
    assert creds.session_token == "sts-token"
    assert creds.expires_at == parse_iso8601("2026-11-24T12:00:00+00:00", what="x")


def test_assume_role_response_without_namespace_parses_too():
    body = STS_OK.replace(b' xmlns="https://sts.amazonaws.com/doc/2011-06-15/"', b"")
    assert parse_assume_role_response(body).access_key_id == "ASIAEXAMPLE"


@pytest.mark.parametrize(
    ("body", "status", "match"),
    [
        (
            b"<ErrorResponse><Error><Code>AccessDenied</Code><Message>not allowed</Message>"
            b"</Error></ErrorResponse>",
            403,
            r"HTTP 403, AccessDenied\): not allowed",
        ),
        (b"<ErrorResponse/>", 500, "no error code.*no message"),
        (b"<html>oops", 502, "not XML"),
        (b"<AssumeRoleResponse/>", 200, "no Credentials"),
        (
            b"<R><Credentials><AccessKeyId>A</AccessKeyId></Credentials></R>",
            200,
            "no SecretAccessKey",
        ),
        (
            b"<R><Credentials><AccessKeyId/><SecretAccessKey>s</SecretAccessKey></Credentials></R>",
            200,
            "no AccessKeyId",
        ),
        (
            b"<R><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>s</SecretAccessKey>"
            b"<Expiration>soon</Expiration></Credentials></R>",
            200,
            "Expiration is not an ISO 8601",
        ),
    ],
)
def test_bad_sts_answers_are_credential_errors(body, status, match):
    with pytest.raises(CredentialError, match=match):
        parse_assume_role_response(body, status)


def test_naive_timestamps_are_utc():
    assert parse_iso8601("1970-01-01T00:01:00", what="x") == 60.0


def _process(**fields):
    return json.dumps({"Version": 1, **fields}).encode()


def test_process_output_without_expiration_never_expires():
    creds = parse_process_output(_process(AccessKeyId="A", SecretAccessKey="s"))
    assert creds.expires_at is None
    assert creds.session_token is None


@pytest.mark.parametrize(
    ("output", "match"),
    [
        (b"[]", "not an object"),
        (b"\xff", "not JSON"),
        (json.dumps({"Version": 2}).encode(), "Version 2"),
        (_process(AccessKeyId=5, SecretAccessKey="s"), "not a string"),
        (_process(SecretAccessKey="s"), "no AccessKeyId"),
    ],
)
def test_bad_process_output_is_a_credential_error(output, match):
    with pytest.raises(CredentialError, match=match):
        parse_process_output(output)


@given(st.binary(max_size=300), st.integers(100, 599))
def test_sts_parser_never_raises_anything_else(body, status):
    with contextlib.suppress(CredentialError):
        parse_assume_role_response(body, status)


@given(st.binary(max_size=300))
def test_process_parser_never_raises_anything_else(output):
    with contextlib.suppress(CredentialError):
        parse_process_output(output)
