"""LocalStack's S3 on 127.0.0.1: a real verifier of SigV4 presigned URLs (query auth).

moto's server cannot play this part (with IAM auth on it answers 500 to a presigned
URL: it reads only the ``Authorization`` header). LocalStack's S3 checks every
request that carries ``X-Amz-Algorithm``, ``X-Amz-Credential``, ``X-Amz-Date``,
``X-Amz-Expires``, ``X-Amz-SignedHeaders`` and ``X-Amz-Signature``: it recomputes the
signature (botocore's ``S3SigV4QueryAuth``, from the query it received, with
``X-Amz-Security-Token`` inside the signed query) with the secret of the key id
named in ``X-Amz-Credential``, then checks ``X-Amz-Date + X-Amz-Expires`` against
its clock. With ``S3_SKIP_SIGNATURE_VALIDATION=0``:

- a tampered signature, path, token or extra query parameter, or a wrong secret,
  gets 403 ``SignatureDoesNotMatch``;
- an expired URL gets 403 ``AccessDenied`` ("Request has expired").

Where the secret comes from: LocalStack looks the key id up in its IAM store, so the
fixture creates an IAM user and an access key (a random secret) and every presigned
URL signed with that pair must match. A key id LocalStack never issued is checked
against its fixed default secret ``test``: that is how the fixture offers
temporary-style credentials with a session token.

What it does *not* check: the signature of an ``Authorization`` header (LocalStack
community accepts any header-signed request), so header signing is tested against
moto (:mod:`moto_peer`), and it does not check that a session token was issued.

The peer runs from its own virtualenv, ``.peers/localstack`` (``make peers``), whose
pinned dependencies (botocore among them) stay out of the project's ``.venv``. It is
LocalStack's own runtime (``localstack.runtime.main``, no docker) in the foreground;
the tiny runner below only makes its Twisted gateway bind 127.0.0.1 instead of every
interface, which LocalStack 4.13 does whatever ``GATEWAY_LISTEN`` says.
"""

from __future__ import annotations

import os
import secrets
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pytest
from botocore.config import Config
from botocore.session import Session
from peers import free_port, require_peer, running_process

__all__ = ["LOCALSTACK_VENV", "PresignServer", "presign_server"]

#: The peer's own virtualenv, made by ``make peers`` (and by ``.ci/run``).
LOCALSTACK_VENV: Final = Path(__file__).resolve().parent.parent / ".peers" / "localstack"

# LocalStack's Twisted gateway calls TCP4ServerEndpoint(reactor, port) without an
# interface, i.e. 0.0.0.0; give it 127.0.0.1 so the peer is reachable only from
# this machine. Everything else is LocalStack's unchanged entry point.
_RUNNER: Final = """
from twisted.internet import endpoints

_tcp4 = endpoints.TCP4ServerEndpoint


def _loopback(reactor, port, backlog=50, interface="127.0.0.1"):
    return _tcp4(reactor, port, backlog, interface or "127.0.0.1")


endpoints.TCP4ServerEndpoint = _loopback

from localstack.runtime.main import main

main()
"""

#: LocalStack's secret for a key id it never issued (``DEFAULT_PRE_SIGNED_SECRET_ACCESS_KEY``).
_UNKNOWN_KEY_SECRET: Final = "test"
_REGION: Final = "us-east-1"


def _random_upper(length: int) -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass(frozen=True)
class PresignServer:
    """A running LocalStack S3 that verifies presigned URLs, and its credentials.

    ``access_key_id`` / ``secret_access_key`` were issued by the server's IAM, so a
    URL signed with any other secret is refused. ``temporary_*`` and ``session_token``
    stand for STS credentials: the server verifies the signature (token included)
    with its default secret but does not check where the token came from.
    """

    endpoint: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    #: A bucket created at start-up, for tests that need somewhere to put objects.
    bucket: str
    temporary_access_key_id: str
    temporary_secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    region: str = _REGION

    def client(
        self,
        service: str = "s3",
        *,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
    ) -> Any:
        """Return a botocore client for *service* on this server (SigV4, path-style S3).

        Without arguments it signs with the IAM-issued key pair. The client never
        reads the developer's ``~/.aws`` files, so nothing there changes a test.
        """
        return _client(
            self.endpoint,
            service,
            access_key_id=self.access_key_id if access_key_id is None else access_key_id,
            secret_access_key=(
                self.secret_access_key if secret_access_key is None else secret_access_key
            ),
            session_token=session_token,
            region=self.region,
        )


def _client(
    endpoint: str,
    service: str,
    *,
    access_key_id: str,
    secret_access_key: str,
    session_token: str | None,
    region: str,
) -> Any:
    session = Session()
    # An empty file for each: the developer's profile must not set a region,
    # an endpoint or an addressing style behind the test's back.
    session.set_config_variable("config_file", os.devnull)
    session.set_config_variable("credentials_file", os.devnull)
    return session.create_client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        aws_session_token=session_token,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def _issue_access_key(endpoint: str) -> tuple[str, str]:
    # LocalStack community does not authenticate IAM calls, so any key id sets up.
    iam = _client(
        endpoint,
        "iam",
        access_key_id="setup",
        secret_access_key="setup",
        session_token=None,
        region=_REGION,
    )
    iam.create_user(UserName="presigner")
    key = iam.create_access_key(UserName="presigner")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _environment(root: Path, port: int) -> dict[str, str]:
    home = root / "home"
    tmp = root / "tmp"
    home.mkdir()
    tmp.mkdir()
    # Built from scratch, not from os.environ: LocalStack reads hundreds of
    # variables (DEBUG, SERVICES, PERSISTENCE, AWS_*), and a developer's shell
    # must not change what the peer verifies.
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "TMPDIR": str(tmp),
        # Host mode: every directory under root, never /var/lib/localstack (this
        # machine looks like a container to LocalStack's docker detection).
        "OVERRIDE_IN_DOCKER": "0",
        "FILESYSTEM_ROOT": str(root / "fs"),
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "LOCALSTACK_HOST": f"127.0.0.1:{port}",
        # No DNS server on port 53, no analytics, no certificate download.
        "DNS_ADDRESS": "0",
        "DISABLE_EVENTS": "1",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "SERVICES": "s3,iam",
        # Load S3 and IAM before the port opens, so "listening" means "ready".
        "EAGER_SERVICE_LOADING": "1",
        "S3_SKIP_SIGNATURE_VALIDATION": "0",
    }


@pytest.fixture(scope="session")
def presign_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PresignServer]:
    """Start LocalStack's S3 with presigned-URL verification on; stop it by PID."""
    python = LOCALSTACK_VENV / "bin" / "python"
    # The console script exists only once localstack-core is installed in the venv.
    require_peer("localstack", binary=str(LOCALSTACK_VENV / "bin" / "localstack"))
    port = free_port()
    env = _environment(tmp_path_factory.mktemp("localstack"), port)
    # Shutting down waits for LocalStack's thread pool (about 5 s).
    with running_process(
        [str(python), "-c", _RUNNER], port=port, env=env, start_timeout=90.0, stop_timeout=20.0
    ):
        endpoint = f"http://127.0.0.1:{port}"
        key_id, secret = _issue_access_key(endpoint)
        server = PresignServer(
            endpoint=endpoint,
            access_key_id=key_id,
            secret_access_key=secret,
            bucket="presign-peer",
            temporary_access_key_id="ASIA" + _random_upper(16),
            temporary_secret_access_key=_UNKNOWN_KEY_SECRET,
            session_token="session-" + secrets.token_urlsafe(24),
        )
        server.client().create_bucket(Bucket=server.bucket)
        yield server
