"""AWS's shared credentials and config files, with named profiles.

The files the AWS CLI and every SDK read (``~/.aws/credentials`` and
``~/.aws/config``; see "Configuration and credential file settings" in the AWS
CLI user guide). [`parse_profiles`][] is sans-IO (file texts in, profiles out);
[`load_profile`][] reads the files where the environment says they are, and
[`profile_credentials`][] turns a profile into a provider: static keys, a role
to assume with another profile's keys (``role_arn`` + ``source_profile``), or
a ``credential_process``.
"""

from __future__ import annotations

import configparser
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, final

from ..errors import CredentialError
from .credentials import AwsCredentials, CredentialsProvider, StaticCredentials

__all__ = ["AwsProfile", "load_profile", "parse_profiles", "profile_credentials"]

_SECONDS: Final = re.compile(r"[0-9]{1,5}")
MAX_SOURCE_PROFILES: Final = 8
"""How long a chain of ``source_profile`` references may be."""


@final
@dataclass(frozen=True, slots=True)
class AwsProfile:
    """One named profile, merged from the credentials and the config file.

    Attributes:
        name: the profile's name (``default`` unless chosen).
        credentials: its static keys, if it has any.
        region: its ``region``.
        role_arn: a role to assume (with ``source_profile``'s credentials).
        source_profile: the profile whose credentials assume ``role_arn``.
        external_id: the ``external_id`` AssumeRole sends.
        role_session_name: the ``role_session_name`` AssumeRole sends.
        duration_seconds: the lifetime asked of AssumeRole.
        credential_process: a command printing credentials as JSON.
    """

    name: str
    credentials: AwsCredentials | None = field(default=None, repr=False)
    region: str | None = None
    role_arn: str | None = None
    source_profile: str | None = None
    external_id: str | None = None
    role_session_name: str | None = None
    duration_seconds: int | None = None
    credential_process: str | None = None


def parse_profiles(credentials_text: str = "", config_text: str = "") -> dict[str, AwsProfile]:
    """Parse the two files' texts into profiles by name.

    In the config file, profiles other than ``default`` are written
    ``[profile NAME]``; in the credentials file, ``[NAME]``. Keys in the
    credentials file win over the same keys in the config file.

    Raises:
        CredentialError: a file is not valid INI, or a value is malformed.
    """
    merged: dict[str, dict[str, str]] = {}
    for name, values in _sections(config_text, "config").items():
        if name.startswith("profile "):
            name = name[len("profile ") :].strip()
        elif name != "default":
            continue  # sso-session, services, ...: not profiles
        merged.setdefault(name, {}).update(values)
    for name, values in _sections(credentials_text, "credentials").items():
        merged.setdefault(name, {}).update(values)
    return {name: _profile(name, values) for name, values in merged.items()}


def load_profile(
    name: str | None = None,
    *,
    credentials_file: str | os.PathLike[str] | None = None,
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> AwsProfile:
    """Read one profile from the shared files.

    Args:
        name: the profile; default ``AWS_PROFILE``, else ``default``.
        credentials_file: default ``AWS_SHARED_CREDENTIALS_FILE``, else
            ``~/.aws/credentials``.
        config_file: default ``AWS_CONFIG_FILE``, else ``~/.aws/config``.
        environ: the environment to read (default ``os.environ``).

    Raises:
        CredentialError: the profile is in neither file, or a file is malformed.
    """
    return _profiles_and_name(name, credentials_file, config_file, environ)[1]


def profile_credentials(
    name: str | None = None,
    *,
    credentials_file: str | os.PathLike[str] | None = None,
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> CredentialsProvider:
    """Return a credentials provider for a profile of the shared files.

    A profile with ``role_arn`` assumes that role (through STS) with the
    credentials of its ``source_profile``, itself resolved the same way; one
    with ``credential_process`` runs that command; otherwise its static keys
    are used. Arguments as for [`load_profile`][].

    Raises:
        CredentialError: the profile has no usable credentials, or its
            ``source_profile`` chain is missing, circular or too long.
    """
    profiles, profile = _profiles_and_name(name, credentials_file, config_file, environ)
    return _provider(profiles, profile, ())


def _provider(
    profiles: Mapping[str, AwsProfile], profile: AwsProfile, seen: tuple[str, ...]
) -> CredentialsProvider:
    if profile.name in seen or len(seen) >= MAX_SOURCE_PROFILES:
        chain = " -> ".join((*seen, profile.name))
        raise CredentialError(f"source_profile chain is circular or too long: {chain}")
    if profile.role_arn is not None:
        return _assume_role(profiles, profile, (*seen, profile.name))
    if profile.credential_process is not None:
        from .process import ProcessCredentials

        return ProcessCredentials(profile.credential_process)
    if profile.credentials is not None:
        creds = profile.credentials
        return StaticCredentials(creds.access_key_id, creds.secret_access_key, creds.session_token)
    raise CredentialError(
        f"profile {profile.name!r} has no aws_access_key_id/aws_secret_access_key, "
        "role_arn or credential_process"
    )


def _assume_role(
    profiles: Mapping[str, AwsProfile], profile: AwsProfile, seen: tuple[str, ...]
) -> CredentialsProvider:
    from .sts import AssumeRoleCredentials

    source_name = profile.source_profile
    if source_name is None:
        raise CredentialError(
            f"profile {profile.name!r} has role_arn but no source_profile: add the profile "
            "whose credentials assume the role"
        )
    source = profiles.get(source_name)
    if source is None:
        raise CredentialError(
            f"profile {profile.name!r} names source_profile {source_name!r}, which does not exist"
        )
    # A source profile's own role_arn is assumed first (role chaining), except
    # when it names itself: then its static keys assume its role (AWS CLI rule).
    if source_name == profile.name:
        source_provider: CredentialsProvider = _provider(
            profiles, _without_role(source), seen[:-1]
        )
    else:
        source_provider = _provider(profiles, source, seen)
    assert profile.role_arn is not None
    return AssumeRoleCredentials(
        profile.role_arn,
        source=source_provider,
        session_name=profile.role_session_name or "aiohttp-auth",
        duration=profile.duration_seconds or 3600,
        external_id=profile.external_id,
        region=profile.region or "us-east-1",
    )


def _without_role(profile: AwsProfile) -> AwsProfile:
    return AwsProfile(profile.name, profile.credentials, profile.region)


def _profiles_and_name(
    name: str | None,
    credentials_file: str | os.PathLike[str] | None,
    config_file: str | os.PathLike[str] | None,
    environ: Mapping[str, str] | None,
) -> tuple[dict[str, AwsProfile], AwsProfile]:
    env = os.environ if environ is None else environ
    name = name or env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE") or "default"
    cred_path = _path(credentials_file, env, "AWS_SHARED_CREDENTIALS_FILE", "credentials")
    config_path = _path(config_file, env, "AWS_CONFIG_FILE", "config")
    profiles = parse_profiles(_read(cred_path), _read(config_path))
    profile = profiles.get(name)
    if profile is None:
        raise CredentialError(
            f"profile {name!r} is in neither {cred_path} nor {config_path}: "
            "check AWS_PROFILE or the profile name"
        )
    return profiles, profile


def _path(
    given: str | os.PathLike[str] | None, env: Mapping[str, str], variable: str, default: str
) -> Path:
    if given is not None:
        return Path(given)
    if env.get(variable):
        return Path(env[variable]).expanduser()
    home = env.get("HOME") or str(Path.home())
    return Path(home) / ".aws" / default


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialError(f"cannot read {path}: {type(exc).__name__}") from exc


def _sections(text: str, which: str) -> dict[str, dict[str, str]]:
    parser = configparser.ConfigParser(interpolation=None, default_section="\0none")
    try:
        parser.read_string(text, source=which)
    except configparser.Error as exc:
        # The parser's message can quote a line, and a line can hold a secret.
        line = getattr(exc, "lineno", None)
        where = f" near line {line}" if line else ""
        raise CredentialError(
            f"the shared {which} file is not valid INI{where}: {type(exc).__name__}"
        ) from None
    return {name.strip(): dict(parser.items(name)) for name in parser.sections()}


def _profile(name: str, values: Mapping[str, str]) -> AwsProfile:
    key_id = values.get("aws_access_key_id", "").strip()
    secret = values.get("aws_secret_access_key", "").strip()
    credentials = None
    if key_id and secret:
        token = values.get("aws_session_token", "").strip() or None
        credentials = AwsCredentials(key_id, secret, token)
    elif key_id or secret:
        raise CredentialError(
            f"profile {name!r} sets only one of aws_access_key_id and aws_secret_access_key"
        )
    return AwsProfile(
        name=name,
        credentials=credentials,
        region=_get(values, "region"),
        role_arn=_get(values, "role_arn"),
        source_profile=_get(values, "source_profile"),
        external_id=_get(values, "external_id"),
        role_session_name=_get(values, "role_session_name"),
        duration_seconds=_duration(name, values),
        credential_process=_get(values, "credential_process"),
    )


def _get(values: Mapping[str, str], key: str) -> str | None:
    return values.get(key, "").strip() or None


def _duration(name: str, values: Mapping[str, str]) -> int | None:
    raw = _get(values, "duration_seconds")
    if raw is None:
        return None
    # isdigit() also takes "²" and other digits int() refuses.
    if not _SECONDS.fullmatch(raw) or not 900 <= int(raw) <= 43200:
        raise CredentialError(
            f"profile {name!r}: duration_seconds must be a whole number from 900 to 43200, "
            f"got {raw!r}"
        )
    return int(raw)
