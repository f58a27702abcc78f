"""Real HTTP Digest servers on 127.0.0.1 for the integration tests: lighttpd, apache2, httpbin.

Each server is started in the foreground at a free port from a configuration written
to a temporary directory, and stopped by PID (see ``peers.running_process``). Each
fixture first calls ``peers.require_peer``, so a laptop without the server skips with a
reason and CI (``AIOHTTP_AUTH_REQUIRE_PEERS=1``) fails instead.

What each server offers (checked against lighttpd 1.4.69, Apache 2.4, httpbin 0.10.4):

* lighttpd ``mod_auth`` + ``mod_authn_file`` (RFC 7616): MD5, SHA-256, SHA-512-256 and
  several challenges in one 401 (one ``WWW-Authenticate`` field each), qop ``auth`` only
  (``auth-int`` is answered 400), ``-sess`` variants accepted, ``userhash`` (RFC 7616
  §3.4.4), ``username*`` (RFC 8187) and raw UTF-8 user names. Every protected directory
  has a static file (GET and POST answer it; PUT is 501; a GET with a body is 400) and
  ``echo.sh``, a CGI script that answers any method with ``METHOD REMOTE_USER
  sha256(body)``. Bad credentials are answered at once (its 1 s delay is disabled).
* apache2 ``mod_auth_digest``: MD5, qop ``auth``, ``domain`` in the challenge,
  ``Authentication-Info`` with ``rspauth`` and ``nextnonce``, and real ``stale=true``
  once a nonce is older than ``AuthDigestNonceLifetime``. Nonce counts are not checked.
* httpbin ``/digest-auth/{qop}/{user}/{passwd}/{algorithm}/{stale_after}``: MD5, SHA-256
  and plain SHA-512 with qop ``auth`` or ``auth-int``; GET only; ``stale=True`` is driven
  by cookies, so the client needs ``aiohttp.CookieJar(unsafe=True)`` on an IP address.

Register the fixtures with ``pytest_plugins = ["digest_peers"]`` in ``tests/conftest.py``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from peers import free_port, require_peer, running_process
from yarl import URL

__all__ = [
    "ALICE",
    "HASHLIB_NAMES",
    "JURGEN",
    "ApacheDigest",
    "DigestUser",
    "HttpbinServer",
    "LighttpdDigest",
    "ProtectedPath",
    "apache_digest",
    "apache_digest_server",
    "echo_line",
    "httpbin_process",
    "httpbin_server",
    "lighttpd_digest",
    "lighttpd_digest_server",
]

HOST = "127.0.0.1"
# RFC 7616 §3.2 algorithm names (without "-sess") -> hashlib names.
HASHLIB_NAMES = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}
CONFIG_CHECK_TIMEOUT = 10.0


@dataclass(frozen=True)
class DigestUser:
    """A login the Digest servers accept; ``password`` is a test-only secret."""

    login: str
    password: str


ALICE = DigestUser("alice", "wonderland-7")
# A non-ASCII login and password: raw UTF-8, ``username*`` (RFC 8187) and userhash.
JURGEN = DigestUser("jürgen", "grüße-42")


@dataclass(frozen=True)
class ProtectedPath:
    """A directory protected by one lighttpd ``auth.require`` entry.

    Attributes:
        prefix: the protected URL path, e.g. ``"/md5/"``.
        algorithms: the challenges' algorithms, in the order of the ``WWW-Authenticate``
            fields of the 401.
        realm: the realm of every challenge.
        userhash: whether the challenges say ``userhash=true`` (RFC 7616 §3.4.4).
    """

    prefix: str
    algorithms: tuple[str, ...]
    realm: str
    userhash: bool = False

    @property
    def file(self) -> str:
        """The path of the static file (GET and POST answer its content)."""
        return self.prefix + "index.txt"

    @property
    def file_content(self) -> bytes:
        """The static file's content."""
        return f"protected {self.prefix}\n".encode()

    @property
    def echo(self) -> str:
        """The path of the CGI script that answers ``METHOD REMOTE_USER sha256(body)``."""
        return self.prefix + "echo.sh"


def echo_line(method: str, login: str, body: bytes = b"") -> str:
    """Return what lighttpd's ``echo.sh`` answers for *login*'s *method* with *body*."""
    return f"{method} {login} {hashlib.sha256(body).hexdigest()}\n"


@dataclass(frozen=True)
class LighttpdDigest:
    """A running lighttpd with one protected directory per algorithm choice.

    SHA-256 and SHA-512-256 digests are both 64 hex characters and lighttpd takes the
    first htdigest line whose length fits, so SHA-512-256 lives in a realm of its own.
    Both users are valid in every directory.
    """

    base_url: URL
    md5: ProtectedPath = ProtectedPath("/md5/", ("MD5",), "digest")
    sha256: ProtectedPath = ProtectedPath("/sha256/", ("SHA-256",), "digest")
    sha256_md5: ProtectedPath = ProtectedPath("/sha256-md5/", ("SHA-256", "MD5"), "digest")
    sha512_256: ProtectedPath = ProtectedPath(
        "/sha512-256/", ("SHA-512-256",), "digest-sha512-256"
    )
    userhash: ProtectedPath = ProtectedPath(
        "/userhash/", ("SHA-256", "MD5"), "digest", userhash=True
    )
    users: tuple[DigestUser, ...] = (ALICE, JURGEN)

    @property
    def paths(self) -> tuple[ProtectedPath, ...]:
        """Every protected directory."""
        return (self.md5, self.sha256, self.sha256_md5, self.sha512_256, self.userhash)

    def url(self, path: str) -> URL:
        """Return the absolute URL of *path* on this server."""
        return self.base_url.join(URL(path))


def _htdigest_line(user: DigestUser, realm: str, algorithm: str) -> str:
    """Return ``user:realm:H(user:realm:password):H(user:realm)`` for lighttpd.

    The fourth field is the RFC 7616 §3.4.4 userhash lighttpd looks users up by when a
    client sends ``userhash=true``.
    """
    name = HASHLIB_NAMES[algorithm]
    secret = hashlib.new(name, f"{user.login}:{realm}:{user.password}".encode()).hexdigest()
    userhash = hashlib.new(name, f"{user.login}:{realm}".encode()).hexdigest()
    return f"{user.login}:{realm}:{secret}:{userhash}\n"


def _lighttpd_config(root: Path, port: int, server: LighttpdDigest) -> str:
    requires = []
    for path in server.paths:
        options = {
            "method": "digest",
            "algorithm": "|".join(path.algorithms),
            "realm": path.realm,
            "require": "valid-user",
        }
        if path.userhash:
            options["userhash"] = "enable"
        body = ", ".join(f'"{key}" => "{value}"' for key, value in options.items())
        requires.append(f'  "{path.prefix}" => ({body}),')
    shell = shutil.which("sh") or "/bin/sh"
    return "\n".join(
        [
            'server.modules = ("mod_auth", "mod_authn_file", "mod_cgi")',
            f'server.document-root = "{root / "www"}"',
            f'server.bind = "{HOST}"',
            f"server.port = {port}",
            f'server.errorlog = "{root / "error.log"}"',
            # Request bodies larger than 64 KiB are buffered in files: keep them here.
            f'server.upload-dirs = ("{root / "upload"}")',
            'mimetype.assign = (".txt" => "text/plain")',
            f'cgi.assign = (".sh" => "{shell}")',
            # lighttpd answers bad credentials after a 1 s anti-brute-force pause.
            'server.feature-flags = ("auth.delay-invalid-creds" => "disable")',
            'auth.backend = "htdigest"',
            f'auth.backend.htdigest.userfile = "{root / "htdigest"}"',
            "auth.require = (",
            *requires,
            ")",
            "",
        ]
    )


def _echo_script() -> str:
    sha256sum = shutil.which("sha256sum") or "sha256sum"
    # A CGI script reads the request body on stdin: hashing it shows what arrived.
    return (
        "printf 'Content-Type: text/plain\\r\\n\\r\\n'\n"
        'printf \'%s %s \' "$REQUEST_METHOD" "$REMOTE_USER"\n'
        f"{sha256sum} | cut -d ' ' -f 1\n"
    )


def _system_binary(name: str) -> str | None:
    """Find a server binary; Debian keeps them in /usr/sbin, often not on a user's PATH."""
    return shutil.which(name) or shutil.which(name, path=os.pathsep.join(("/usr/sbin", "/sbin")))


def _check_config(argv: list[str], log: Path | None = None) -> None:
    """Run a server's configuration test so a bad config fails with its own message."""
    result = subprocess.run(  # noqa: S603 - argv is built here from fixed parts
        argv, capture_output=True, text=True, timeout=CONFIG_CHECK_TIMEOUT, check=False
    )
    if result.returncode != 0:
        detail = log.read_text(errors="replace") if log is not None and log.exists() else ""
        pytest.fail(f"{argv[0]} rejected its test config: {result.stderr}{result.stdout}{detail}")


@contextmanager
def lighttpd_digest_server() -> Iterator[LighttpdDigest]:
    """Run lighttpd with Digest-protected directories; see :class:`LighttpdDigest`."""
    binary = _system_binary("lighttpd")
    require_peer("lighttpd", binary=binary or "lighttpd")
    assert binary is not None
    with tempfile.TemporaryDirectory(prefix="aiohttp-auth-lighttpd-") as tmp:
        root = Path(tmp)
        port = free_port()
        server = LighttpdDigest(base_url=URL.build(scheme="http", host=HOST, port=port))
        (root / "upload").mkdir()
        lines = []
        for path in server.paths:
            directory = root / "www" / path.prefix.strip("/")
            directory.mkdir(parents=True)
            (directory / "index.txt").write_bytes(path.file_content)
            (directory / "echo.sh").write_text(_echo_script())
            lines += [
                _htdigest_line(user, path.realm, algorithm)
                for user in server.users
                for algorithm in path.algorithms
            ]
        # One line per (user, realm, algorithm); a directory sharing a realm repeats them.
        (root / "htdigest").write_text("".join(dict.fromkeys(lines)), encoding="utf-8")
        config = root / "lighttpd.conf"
        config.write_text(_lighttpd_config(root, port, server), encoding="utf-8")
        _check_config([binary, "-tt", "-f", str(config)])
        with running_process([binary, "-D", "-f", str(config)], port=port, cwd=root):
            yield server


@dataclass(frozen=True)
class ApacheDigest:
    """A running apache2 with ``mod_auth_digest`` (MD5, qop ``auth``) on ``/digest/``.

    Attributes:
        base_url: the server's root URL.
        nonce_lifetime: seconds after which a nonce draws ``stale=true``.
        realm: the realm of the challenge.
        prefix: the protected directory, also the challenge's ``domain``.
        users: the logins it accepts.
    """

    base_url: URL
    nonce_lifetime: int
    realm: str = "apache-digest"
    prefix: str = "/digest/"
    users: tuple[DigestUser, ...] = (ALICE, JURGEN)

    @property
    def file(self) -> str:
        """The protected static file (GET and POST answer it)."""
        return self.prefix + "index.txt"

    @property
    def file_content(self) -> bytes:
        """The protected static file's content."""
        return b"apache protected\n"

    @property
    def public_file(self) -> str:
        """A file outside the protection space, served without authentication."""
        return "/public/index.txt"

    def url(self, path: str) -> URL:
        """Return the absolute URL of *path* on this server."""
        return self.base_url.join(URL(path))


APACHE_MODULES = (
    ("mpm_event_module", "mod_mpm_event.so"),
    ("authz_core_module", "mod_authz_core.so"),
    ("authn_core_module", "mod_authn_core.so"),
    ("authn_file_module", "mod_authn_file.so"),
    ("auth_digest_module", "mod_auth_digest.so"),
    ("authz_user_module", "mod_authz_user.so"),
    ("mime_module", "mod_mime.so"),
)
APACHE_MODULE_DIR = Path("/usr/lib/apache2/modules")  # Debian's layout (CI is Debian)


def _apache_config(root: Path, port: int, server: ApacheDigest) -> str:
    modules = [f"LoadModule {name} {APACHE_MODULE_DIR / so}" for name, so in APACHE_MODULES]
    www = root / "www"
    return "\n".join(
        [
            f"ServerRoot {root}",
            f"ServerName {HOST}",
            f"Listen {HOST}:{port}",
            *modules,
            # Only honoured when started as root; otherwise apache keeps the caller's uid.
            "User nobody",
            "Group nogroup",
            f"PidFile {root / 'run' / 'httpd.pid'}",
            f"Mutex file:{root / 'run'} default",
            f"ErrorLog {root / 'error.log'}",
            "LogLevel warn auth_digest:info",
            "StartServers 1",
            "ServerLimit 1",
            "ThreadsPerChild 32",
            "MaxRequestWorkers 32",
            "MinSpareThreads 1",
            "MaxSpareThreads 32",
            "TypesConfig /dev/null",
            "AddType text/plain .txt",
            f"DocumentRoot {www}",
            f"<Directory {www}>",
            "  Require all granted",
            "</Directory>",
            f"<Directory {www / server.prefix.strip('/')}>",
            "  AuthType Digest",
            f'  AuthName "{server.realm}"',
            "  AuthDigestProvider file",
            f"  AuthUserFile {root / 'htdigest'}",
            f"  AuthDigestDomain {server.prefix}",
            f"  AuthDigestNonceLifetime {server.nonce_lifetime}",
            "  Require valid-user",
            "</Directory>",
            "",
        ]
    )


@contextmanager
def apache_digest_server(*, nonce_lifetime: int = 3) -> Iterator[ApacheDigest]:
    """Run apache2 ``mod_auth_digest``; nonces go stale after *nonce_lifetime* seconds."""
    binary = _system_binary("apache2")
    require_peer("apache2", binary=binary or "apache2")
    assert binary is not None
    missing = [so for _, so in APACHE_MODULES if not (APACHE_MODULE_DIR / so).exists()]
    if missing:
        pytest.fail(f"apache2 is installed but {APACHE_MODULE_DIR} lacks {missing}")
    # Children run as nobody and read the files per request: pytest's own tmp dirs are
    # 0700 below /tmp/pytest-of-USER, so use a world-traversable directory of our own.
    with tempfile.TemporaryDirectory(prefix="aiohttp-auth-apache-") as tmp:
        root = Path(tmp)
        port = free_port()
        server = ApacheDigest(
            base_url=URL.build(scheme="http", host=HOST, port=port),
            nonce_lifetime=nonce_lifetime,
        )
        for sub in ("run", "www/public", f"www/{server.prefix.strip('/')}"):
            (root / sub).mkdir(parents=True)
        (root / "www" / server.file.lstrip("/")).write_bytes(server.file_content)
        (root / "www" / server.public_file.lstrip("/")).write_bytes(b"public\n")
        (root / "htdigest").write_text(
            "".join(
                f"{user.login}:{server.realm}:"
                + hashlib.md5(  # noqa: S324 - the htdigest format is MD5 by definition
                    f"{user.login}:{server.realm}:{user.password}".encode()
                ).hexdigest()
                + "\n"
                for user in server.users
            ),
            encoding="utf-8",
        )
        config = root / "httpd.conf"
        config.write_text(_apache_config(root, port, server), encoding="utf-8")
        for path in [root, *root.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        _check_config([binary, "-t", "-f", str(config)], log=root / "error.log")
        with running_process([binary, "-f", str(config), "-DFOREGROUND"], port=port, cwd=root):
            yield server


@dataclass(frozen=True)
class HttpbinServer:
    """A running httpbin (under gunicorn) on 127.0.0.1."""

    base_url: URL

    def url(self, path: str) -> URL:
        """Return the absolute URL of *path* on this server."""
        return self.base_url.join(URL(path))

    def digest_url(
        self,
        user: DigestUser,
        *,
        qop: str = "auth",
        algorithm: str = "MD5",
        stale_after: str = "never",
    ) -> URL:
        """Return ``/digest-auth/{qop}/{user}/{passwd}/{algorithm}/{stale_after}``.

        httpbin accepts exactly *user* there. *algorithm* is ``MD5``, ``SHA-256`` or
        ``SHA-512`` (anything else silently becomes MD5); *qop* ``auth`` or ``auth-int``;
        *stale_after* ``never`` or a count of successes before ``stale=True`` (tracked in
        cookies). Use ASCII logins: the login travels in the path.
        """
        segments = ("digest-auth", qop, user.login, user.password, algorithm, stale_after)
        return self.base_url.with_path("/" + "/".join(segments))


@contextmanager
def httpbin_process() -> Iterator[HttpbinServer]:
    """Run httpbin under gunicorn (threaded worker) on a free loopback port."""
    require_peer("httpbin", module="httpbin")
    require_peer("gunicorn", module="gunicorn")
    with tempfile.TemporaryDirectory(prefix="aiohttp-auth-httpbin-") as tmp:
        port = free_port()
        argv = [
            *(sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{port}"),
            *("--worker-class", "gthread", "--workers", "1", "--threads", "8"),
            *("--graceful-timeout", "1", "--log-level", "warning", "httpbin:app"),
        ]
        # gunicorn >= 27 creates a control socket under $HOME/.gunicorn: keep it in tmp.
        env = {**os.environ, "HOME": tmp}
        with running_process(argv, port=port, cwd=Path(tmp), env=env):
            yield HttpbinServer(base_url=URL.build(scheme="http", host=HOST, port=port))


@pytest.fixture(scope="session")
def lighttpd_digest() -> Iterator[LighttpdDigest]:
    """Serve lighttpd Digest directories (MD5, SHA-256, both, SHA-512-256, userhash)."""
    with lighttpd_digest_server() as server:
        yield server


@pytest.fixture(scope="session")
def apache_digest() -> Iterator[ApacheDigest]:
    """Serve apache2 mod_auth_digest with a 3-second nonce lifetime."""
    with apache_digest_server(nonce_lifetime=3) as server:
        yield server


@pytest.fixture(scope="session")
def httpbin_server() -> Iterator[HttpbinServer]:
    """Serve httpbin (``/digest-auth/...``) under gunicorn."""
    with httpbin_process() as server:
        yield server
