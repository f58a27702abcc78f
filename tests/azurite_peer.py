"""Azurite, the official Azure Storage emulator, on 127.0.0.1: a real Shared Key verifier.

Azurite (npm package ``azurite``) recomputes the Shared Key signature of every
request from what it received, with the emulator's well-known account
``devstoreaccount1``, and answers 403 ``AuthorizationFailure`` /
``AuthenticationFailed`` when it differs. Its URLs are path-style:
``http://127.0.0.1:PORT/devstoreaccount1/container/blob``, so the account
name is also the first path segment (and appears twice in the canonicalized
resource, as on the real service's emulator endpoints).

It is looked for in ``.peers/azurite`` at the repository's root (``npm install
--prefix .peers/azurite azurite@3.35.0``), then on ``PATH``. One process serves
Blob, Queue and Table, each on a free port, with its data in a temporary
directory; it runs in the foreground and is stopped by PID.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest
from peers import free_port, require_peer, running_process, wait_for_port
from yarl import URL

__all__ = ["AZURITE_ACCOUNT", "AZURITE_KEY", "Azurite", "azurite"]

#: The emulator's one account, and its key as Microsoft publishes it for
#: Azurite and the storage emulator (a well-known development key, no secret).
AZURITE_ACCOUNT: Final = "devstoreaccount1"
AZURITE_KEY: Final = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

_LOCAL_INSTALL: Final = Path(__file__).resolve().parent.parent / ".peers" / "azurite"


def _azurite_binary() -> str:
    local = _LOCAL_INSTALL / "node_modules" / ".bin" / "azurite"
    if local.exists():
        return str(local)
    return shutil.which("azurite") or "azurite"


@dataclass(frozen=True)
class Azurite:
    """A running Azurite and the URLs of its services for ``devstoreaccount1``."""

    blob: URL
    queue: URL
    table: URL
    account: str = AZURITE_ACCOUNT
    key: str = AZURITE_KEY

    @property
    def blob_origin(self) -> str:
        """The Blob service's origin, e.g. ``http://127.0.0.1:41234``."""
        return str(self.blob.origin())


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """Start Azurite (Blob, Queue, Table) in the foreground; stop it by PID."""
    require_peer("node", binary="node")
    binary = _azurite_binary()
    require_peer("azurite", binary=binary)
    ports = {service: free_port() for service in ("blob", "queue", "table")}
    argv = [
        binary,
        "--blobHost", "127.0.0.1", "--blobPort", str(ports["blob"]),
        "--queueHost", "127.0.0.1", "--queuePort", str(ports["queue"]),
        "--tableHost", "127.0.0.1", "--tablePort", str(ports["table"]),
        "--location", str(tmp_path_factory.mktemp("azurite")),
        # An x-ms-version newer than this Azurite knows must not fail a test.
        "--skipApiVersionCheck",
        "--disableTelemetry",
        "--silent",
    ]  # fmt: skip
    with running_process(argv, port=ports["blob"], start_timeout=60.0):
        wait_for_port("127.0.0.1", ports["queue"], timeout=30.0)
        wait_for_port("127.0.0.1", ports["table"], timeout=30.0)
        urls = {s: URL(f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}") for s, port in ports.items()}
        yield Azurite(blob=urls["blob"], queue=urls["queue"], table=urls["table"])
