"""Digest answers for one challenge and one login (RFC 7616 §3.4, §3.5).

How the login and password are encoded, and how the username is sent, is in
``aiohttp_auth.digest.encoding``.
"""

from __future__ import annotations

import dataclasses
import hmac
from typing import Final, NoReturn

from .._redact import redacted_repr
from ..errors import ChallengeError, ConfigurationError
from .authinfo import AuthenticationInfo
from .challenge import DigestChallenge
from .encoding import prepare, quote, username_param, wire

__all__ = ["DigestCredentials"]

_MAX_NC: Final = 0xFFFFFFFF
# Request targets whose H(A2) one set of credentials keeps (see DigestCredentials._target),
# and the longest URI kept: a long query is seldom sent twice.
_MAX_TARGETS: Final = 64
_MAX_TARGET_URI: Final = 2048


def _bad_nc(nc: int) -> NoReturn:
    raise ConfigurationError(
        f"nc must be between 1 and {_MAX_NC} (8 hexadecimal digits, RFC 7616 §3.4), got {nc}; "
        "ask the server for a new nonce instead"
    )


class DigestCredentials:
    """Answers to one Digest challenge for one login (RFC 7616 §3.4).

    Built once per protection space and nonce: it precomputes H(A1) (for
    non ``-sess`` algorithms), the username form and every constant part of
    the header, so [`authorization`][] only hashes A2 and the response. For
    qop ``auth`` and RFC 2069 answers, A2 is ``method:uri`` (RFC 7616
    §3.4.3), so H(A2) is also kept, for up to 64 request targets, and
    shared with the credentials [`with_nonce`][] derives. H(A1) is
    password-equivalent: it never appears in a repr, and the object cannot
    be pickled.

    Args:
        challenge: the challenge to answer.
        login: the username.
        password: the password.
        qop: ``"auth"`` or ``"auth-int"``; by default
            [`DigestChallenge.preferred_qop`][].

    Raises:
        ChallengeError: the challenge cannot be answered (see
            [`DigestChallenge.resolve_algorithm`][]).
        ConfigurationError: *qop* is not offered, or the login or password
            cannot be encoded.
    """

    __slots__ = (
        "_ha1",
        "_head",
        "_kd",
        "_login",
        "_middle",
        "_new",
        "_nonce",
        "_password_length",
        "_plain",
        "_session",
        "_tail",
        "_targets",
        "algorithm",
        "challenge",
        "needs_body",
        "qop",
    )

    def __init__(
        self, challenge: DigestChallenge, login: str, password: str, *, qop: str | None = None
    ) -> None:
        algorithm = challenge.resolve_algorithm()
        if qop is None:
            qop = challenge.preferred_qop
        elif qop not in challenge.qop:
            raise ConfigurationError(
                f"qop {qop!r} is not offered by the challenge for realm {challenge.realm!r} "
                f"(offered: {', '.join(challenge.qop) or 'none'})"
            )
        self.algorithm = algorithm
        self.qop = qop
        """The qop answered with, or None for RFC 2069 answers."""
        self.needs_body = qop == "auth-int"
        """Whether answers cover the request body (qop ``auth-int``)."""
        self._login = login
        self._password_length = len(password)
        self._new = algorithm.new
        self._session = algorithm.session
        # qop auth without -sess: authorization() answers these with less work.
        self._plain = qop == "auth" and not algorithm.session
        login, login_bytes, password_bytes = prepare(login, password, challenge.utf8)
        realm = wire(challenge.realm)
        ha1 = algorithm.new(b":".join((login_bytes, realm, password_bytes))).hexdigest()
        self._ha1 = f"{ha1}:".encode()
        username = username_param(login, login_bytes, realm, challenge, algorithm)
        self._head = f'Digest {username}, realm="{quote(challenge.realm)}", uri="'
        tail = "" if challenge.opaque is None else f', opaque="{quote(challenge.opaque)}"'
        self._tail = tail + (", userhash=true" if challenge.userhash else "")
        # (method, uri) -> (the header up to the quoted uri, H(A2)); see _target.
        self._targets: dict[tuple[str, str], tuple[str, str]] = {}
        self._use_nonce(challenge)

    def _use_nonce(self, challenge: DigestChallenge) -> None:
        self.challenge = challenge
        self._nonce = wire(challenge.nonce)
        # H(A1) ":" nonce ":" starts every response; for -sess (RFC 7616 §3.4.2) it
        # is also the start of A1 = H(user:realm:password):nonce:cnonce. Each
        # answer goes on from a copy of this hash state instead of hashing it again.
        self._kd = self._new(self._ha1 + self._nonce + b":")
        echo = f", algorithm={challenge.algorithm}" if challenge.echo_algorithm else ""
        self._middle = f'"{echo}, nonce="{quote(challenge.nonce)}"'

    def with_nonce(self, nonce: str) -> DigestCredentials:
        """Return the same credentials under a new server nonce.

        For ``nextnonce`` (RFC 7616 §3.5) and ``stale=true`` challenges
        (§3.3): H(A1) is reused, so the password is not needed again. Nonce
        counts start over at 1 with the new nonce.

        Raises:
            ChallengeError: *nonce* is empty.
        """
        if not nonce:
            raise ChallengeError(
                f"The server sent an empty nonce for realm {self.challenge.realm!r} "
                "(RFC 7616 §3.5)"
            )
        renewed = DigestCredentials.__new__(DigestCredentials)
        for name in DigestCredentials.__slots__:
            setattr(renewed, name, getattr(self, name))
        renewed._use_nonce(dataclasses.replace(self.challenge, nonce=nonce, stale=False))
        return renewed

    def _response(self, ha2: str, nc: str, cnonce: str) -> str:
        """KD(H(A1), nonce:nc:cnonce:qop:H(A2)), or KD(H(A1), nonce:H(A2)) without qop."""
        kd = self._kd.copy()
        if self.qop is None:
            kd.update(ha2.encode())
            return kd.hexdigest()
        if self._session:
            kd.update(cnonce.encode())
            kd = self._new(f"{kd.hexdigest()}:".encode() + self._nonce + b":")
        kd.update(f"{nc}:{cnonce}:{self.qop}:{ha2}".encode())
        return kd.hexdigest()

    def _target(self, method: str, uri: str) -> tuple[str, str]:
        """Return the header up to *uri* (quoted) and H(A2) = H(method:uri) (qop ``auth``).

        Kept for up to 64 targets (URIs of at most 2048 characters): a client
        sends the same few again and again, and H(A2) holds nothing secret
        (RFC 7616 §3.4.3).
        """
        target = (self._head + quote(uri), self._new(f"{method}:{uri}".encode()).hexdigest())
        if len(uri) <= _MAX_TARGET_URI:
            targets = self._targets
            if len(targets) >= _MAX_TARGETS:
                targets.clear()
            targets[method, uri] = target
        return target

    def authorization(
        self, method: str, uri: str, *, nc: int, cnonce: str, body: bytes = b""
    ) -> str:
        """Build the ``Authorization`` value for one request (RFC 7616 §3.4).

        Args:
            method: the request method, e.g. ``"GET"``.
            uri: the request-target as sent, e.g. ``"/dir/index.html?x=1"``.
            nc: the nonce count, 1 for the first request with this nonce.
                Ignored without qop (RFC 2069).
            cnonce: the client nonce (see [`make_cnonce`][]). Ignored
                without qop.
            body: the request body; hashed only for qop ``auth-int``.

        Raises:
            ConfigurationError: *nc* is outside 1..0xFFFFFFFF.
        """
        if not self._plain:
            return self._any_authorization(method, uri, nc, cnonce, body)
        # qop auth without -sess, nearly every answer: _any_authorization, unrolled.
        start, ha2 = self._targets.get((method, uri)) or self._target(method, uri)
        if not 0 < nc <= _MAX_NC:
            _bad_nc(nc)
        nc_hex = nc.to_bytes(4, "big").hex()  # f"{nc:08x}", at a third of the cost
        kd = self._kd.copy()
        kd.update(f"{nc_hex}:{cnonce}:auth:{ha2}".encode())
        if '"' in cnonce or "\\" in cnonce:
            cnonce = quote(cnonce)
        return (
            f'{start}{self._middle}, nc={nc_hex}, cnonce="{cnonce}'
            f'", qop=auth, response="{kd.hexdigest()}"{self._tail}'
        )

    def _any_authorization(self, method: str, uri: str, nc: int, cnonce: str, body: bytes) -> str:
        """[`authorization`][] for any qop and algorithm."""
        qop = self.qop
        if qop == "auth-int":
            new = self._new
            a2 = f"{method}:{uri}:{new(body).hexdigest()}".encode()
            start, ha2 = self._head + quote(uri), new(a2).hexdigest()
        else:
            start, ha2 = self._targets.get((method, uri)) or self._target(method, uri)
        if qop is None:
            response = self._response(ha2, "", "")
            return f'{start}{self._middle}, response="{response}"{self._tail}'
        if not 0 < nc <= _MAX_NC:
            _bad_nc(nc)
        response = self._response(ha2, f"{nc:08x}", cnonce)
        if '"' in cnonce or "\\" in cnonce:
            cnonce = quote(cnonce)
        return (
            f'{start}{self._middle}, nc={nc:08x}, cnonce="{cnonce}", '
            f'qop={qop}, response="{response}"{self._tail}'
        )

    def rspauth(self, uri: str, *, nc: int, cnonce: str, body: bytes = b"") -> str:
        """Compute the ``rspauth`` the server should send back (RFC 7616 §3.5).

        It is the response digest with A2 = ``":" uri`` (qop ``auth``) or
        ``":" uri ":" H(body)`` (qop ``auth-int``, *body* being the response
        body).
        """
        if self.qop == "auth-int":
            a2 = f":{uri}:{self._new(body).hexdigest()}".encode()
        else:
            a2 = f":{uri}".encode()
        ha2 = self._new(a2).hexdigest()
        if self.qop is None:
            return self._response(ha2, "", "")
        if not 0 < nc <= _MAX_NC:
            _bad_nc(nc)
        return self._response(ha2, f"{nc:08x}", cnonce)

    def verify_rspauth(
        self, info: AuthenticationInfo, uri: str, *, nc: int, cnonce: str, body: bytes = b""
    ) -> bool:
        """Check the server's ``rspauth`` in constant time (RFC 7616 §3.5).

        Returns:
            True if *info* carries an ``rspauth`` equal to [`rspauth`][], and
            its ``qop``, ``cnonce`` and ``nc``, when present, match the request.
        """
        if info.rspauth is None:
            return False
        if info.qop is not None and info.qop != self.qop:
            return False
        if (info.cnonce is not None and info.cnonce != cnonce) or (
            info.nc is not None and info.nc != nc
        ):
            return False
        expected = self.rspauth(uri, nc=nc, cnonce=cnonce, body=body).encode()
        return hmac.compare_digest(expected, wire(info.rspauth.lower()))

    def __repr__(self) -> str:
        return redacted_repr(
            self,
            realm=repr(self.challenge.realm),
            algorithm=repr(self.algorithm.name),
            qop=repr(self.qop),
            login=repr(self._login),
            password=f"<redacted {self._password_length} chars>",
        )

    def __reduce__(self) -> NoReturn:
        # H(A1) is as good as the password for this realm.
        raise TypeError("DigestCredentials cannot be pickled: they hold a password hash")
