"""moto's server on 127.0.0.1 with IAM authentication on: a real SigV4 verifier.

With ``INITIAL_NO_AUTH_ACTION_COUNT=N``, moto serves its first N requests
without checking them, then verifies every signature (recomputing it with
botocore from what it received) and the caller's IAM permissions. The fixture
spends exactly those N requests, through boto3, on setting up a user with an
access key and an allow-all policy, and a role that user may assume, so every
later request must be signed correctly:

- a wrong secret gets 403 ``SignatureDoesNotMatch``;
- an unknown key id gets 403 ``InvalidAccessKeyId`` / ``InvalidClientTokenId``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from peers import free_port, require_peer, running_process

__all__ = ["MotoServer", "moto_server"]

_ALLOW_ALL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


def _trust(principal_arn: str) -> str:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": principal_arn},
        "Action": "sts:AssumeRole",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


# create_user, create_policy, attach_user_policy, create_access_key,
# create_role, attach_role_policy: the requests served without auth.
_SETUP_ACTIONS = 6


@dataclass(frozen=True)
class MotoServer:
    """A running moto server and the IAM identities set up on it."""

    endpoint: str
    access_key_id: str
    secret_access_key: str
    role_arn: str
    region: str = "us-east-1"


def _set_up_identities(endpoint: str) -> tuple[str, str, str]:
    import boto3

    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="setup",
        aws_secret_access_key="setup",
    )
    user_arn = iam.create_user(UserName="signer")["User"]["Arn"]
    policy = iam.create_policy(PolicyName="allow-all", PolicyDocument=_ALLOW_ALL)
    arn = policy["Policy"]["Arn"]
    iam.attach_user_policy(UserName="signer", PolicyArn=arn)
    key = iam.create_access_key(UserName="signer")["AccessKey"]
    role = iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=_trust(user_arn))
    iam.attach_role_policy(RoleName="deployer", PolicyArn=arn)
    return key["AccessKeyId"], key["SecretAccessKey"], role["Role"]["Arn"]


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """Start ``moto_server`` with IAM auth on, in the foreground; stop it by PID."""
    require_peer("moto", module="moto.server")
    port = free_port()
    home = tmp_path_factory.mktemp("moto-home")
    env = {
        **os.environ,
        "INITIAL_NO_AUTH_ACTION_COUNT": str(_SETUP_ACTIONS),
        "HOME": str(home),
        # boto3 inside moto must never read the developer's own credentials.
        "AWS_SHARED_CREDENTIALS_FILE": str(Path(home) / "none"),
        "AWS_CONFIG_FILE": str(Path(home) / "none"),
    }
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with running_process(argv, port=port, env=env, start_timeout=60.0):
        endpoint = f"http://127.0.0.1:{port}"
        key_id, secret, role_arn = _set_up_identities(endpoint)
        yield MotoServer(endpoint, key_id, secret, role_arn)
