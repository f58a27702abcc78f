"""What the Digest test server decides, from plain values and no IO (RFC 7616).

The [`aiohttp_auth.testing.digest`][] server hands each request's
``Authorization`` value, method, request-target and body to these functions
and turns what they decide into a response:

- the nonces it issued and what it remembers of each: [`NonceBook`][], and
  [`use_nonce`][] to count a correct answer against its nonce (its lifetime
  and its nonce counts, RFC 7616 §3.3, §3.4, §5.5);
- reading and checking an answer: [`parse_authorization`][],
  [`check_uri`][] and [`authenticate`][], which recomputes the answer of
  each known user; a refused answer raises [`Refusal`][];
- what the server sends back: [`challenge_fields`][] (§3.3, §3.7) and
  [`authentication_info`][] (§3.5).

The digest arithmetic is the package's own
([`DigestCredentials`][aiohttp_auth.digest.DigestCredentials]): this module
adds the server's side, not an independent check of the hashing.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from yarl import URL

from ..challenges import parse_challenges
from ..digest import SUPPORTED_ALGORITHMS, DigestChallenge, DigestCredentials, algorithm_for
from ..digest.algorithms import DigestAlgorithm
from ..errors import ChallengeError, ConfigurationError

if TYPE_CHECKING:
    from .digest import DigestConfig, NcCheck

__all__ = [
    "Accepted",
    "NonceBook",
    "Refusal",
    "authenticate",
    "authentication_info",
    "challenge_fields",
    "check_uri",
    "parse_authorization",
    "resolve_algorithm",
    "use_nonce",
]

# How far an nc may lag behind the highest seen under nc_check="unique".
_NC_WINDOW: Final = 64
# Nonces remembered; the oldest are forgotten first (then answered stale=true).
_MAX_NONCES: Final = 4096
_NC: Final = re.compile(r"[0-9A-Fa-f]{8}")
_HEX: Final = re.compile(r"[0-9A-Fa-f]+")


def resolve_algorithm(name: str) -> DigestAlgorithm:
    """Return the algorithm a ``DigestConfig.algorithms`` entry names.

    Raises:
        ConfigurationError: this Python cannot compute *name*.
    """
    algorithm = algorithm_for(name)
    if algorithm is None:
        raise ConfigurationError(
            f"DigestConfig.algorithms: {name!r} is not available "
            f"(available: {', '.join(SUPPORTED_ALGORITHMS)})"
        )
    return algorithm


@dataclass
class _Nonce:
    """What the server remembers of a nonce it issued."""

    algorithm: str
    issued_at: float
    uses: int = 0
    highest_nc: int = 0
    seen_nc: set[int] = field(default_factory=set)

    def expired(self, config: DigestConfig) -> bool:
        return (config.nonce_uses is not None and self.uses >= config.nonce_uses) or (
            config.nonce_seconds is not None
            and config.clock() - self.issued_at >= config.nonce_seconds
        )

    def count_problem(self, nc: int, check: NcCheck) -> str | None:
        """Say why *nc* is refused for this nonce, or record it and return None."""
        if check == "increasing" and nc <= self.highest_nc:
            return f"nc {nc} does not increase (last {self.highest_nc})"
        if check == "unique" and (nc in self.seen_nc or nc <= self.highest_nc - _NC_WINDOW):
            return f"nc {nc} was already used, or is too old"
        self.highest_nc = max(self.highest_nc, nc)
        if check == "unique":
            floor = self.highest_nc - _NC_WINDOW
            self.seen_nc = {seen for seen in self.seen_nc if seen > floor} | {nc}
        return None


class NonceBook:
    """The nonces issued, newest last, at most ``_MAX_NONCES``."""

    def __init__(self) -> None:
        self._nonces: OrderedDict[str, _Nonce] = OrderedDict()

    def issue(self, algorithm: DigestAlgorithm, now: float) -> str:
        """Issue a nonce for *algorithm* at *now*, forgetting the oldest beyond the limit."""
        # 128 random bits: unguessable, so no answer can be prepared in advance.
        nonce = secrets.token_hex(16)
        self._nonces[nonce] = _Nonce(algorithm.name, now)
        if len(self._nonces) > _MAX_NONCES:
            self._nonces.popitem(last=False)
        return nonce

    def get(self, nonce: str) -> _Nonce | None:
        """Return what is remembered of *nonce*, or None if never issued or forgotten."""
        return self._nonces.get(nonce)


class Refusal(Exception):
    """An ``Authorization`` the server refuses: 400, or a new challenge."""

    def __init__(self, reason: str, *, bad_request: bool = False, stale: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.bad_request = bad_request
        self.stale = stale


@dataclass(frozen=True)
class Accepted:
    """A correct answer: the login it authenticated and what ``rspauth`` is computed from."""

    login: str
    credentials: DigestCredentials
    uri: str
    nc: int | None
    cnonce: str


def _quote(value: str) -> str:
    """Escape *value* for a quoted-string (RFC 9110 §5.6.4)."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _challenge(config: DigestConfig, name: str, nonce: str, *, stale: bool) -> str:
    """Build one challenge, parameters in RFC 7616 §3.9.1's order (§3.3)."""
    parts = [f'realm="{_quote(config.realm)}"']
    if config.qop:
        parts.append(f'qop="{", ".join(config.qop)}"')
    parts += [f"algorithm={name}", f'nonce="{nonce}"']
    if config.opaque is not None:
        parts.append(f'opaque="{_quote(config.opaque)}"')
    if config.domain:
        parts.append(f'domain="{_quote(" ".join(config.domain))}"')
    if config.charset_utf8:
        parts.append("charset=UTF-8")
    if config.userhash:
        parts.append("userhash=true")
    if stale:
        parts.append("stale=true")
    return "Digest " + ", ".join(parts)


def challenge_fields(config: DigestConfig, book: NonceBook, *, stale: bool) -> list[str]:
    """Issue a nonce per offered algorithm; return the challenge header field values.

    One challenge per algorithm of *config*, in its order, each with its own
    nonce (RFC 7616 §3.7), one field each or all in one field as
    ``join_challenges`` says (RFC 9110 §11.6.1).
    """
    now = config.clock()
    challenges = [
        _challenge(config, name, book.issue(resolve_algorithm(name), now), stale=stale)
        for name in config.algorithms
    ]
    return [", ".join(challenges)] if config.join_challenges else challenges


def parse_authorization(value: str) -> Mapping[str, str]:
    """Read the directives of a Digest ``Authorization`` (RFC 7616 §3.4)."""
    try:
        credentials = parse_challenges(value)
    except ChallengeError as error:
        raise Refusal(f"malformed Authorization: {error}", bad_request=True) from None
    if len(credentials) != 1:
        raise Refusal("Authorization must hold exactly one credentials", bad_request=True)
    if credentials[0].scheme_lower != "digest":
        raise Refusal(f"scheme {credentials[0].scheme!r} is not Digest")
    params = credentials[0].params
    required = ["username", "realm", "nonce", "uri", "response"]
    if "qop" in params:
        required += ["nc", "cnonce"]
    missing = [name for name in required if not params.get(name)]
    if missing:
        raise Refusal(f"directives missing: {', '.join(missing)}", bad_request=True)
    if _HEX.fullmatch(params["response"]) is None:
        raise Refusal("response is not hexadecimal", bad_request=True)
    if "qop" in params and (_NC.fullmatch(params["nc"]) is None or int(params["nc"], 16) == 0):
        raise Refusal(f"nc {params['nc']!r} is not 8 hexadecimal digits above 0", bad_request=True)
    return params


def check_uri(uri: str, target: str) -> None:
    """Require the ``uri`` directive to name the request-target (RFC 2617 §3.2.2.5)."""
    # Through a proxy the target is absolute-form; a client may name it either way.
    absolute = target.startswith(("http://", "https://"))
    if uri != target and not (absolute and uri == URL(target).raw_path_qs):
        raise Refusal(f"uri {uri!r} is not the request-target {target!r}", bad_request=True)


def _offered(config: DigestConfig, params: Mapping[str, str]) -> DigestChallenge:
    """Rebuild the challenge the client answered; refuse what was not offered (§3.4)."""
    if params["realm"] != config.realm:
        raise Refusal(f"realm {params['realm']!r} is not {config.realm!r}")
    named = params.get("algorithm", "MD5")
    algorithm = algorithm_for(named)
    offered = {resolve_algorithm(name) for name in config.algorithms}
    if algorithm is None or algorithm not in offered:
        raise Refusal(f"algorithm {named!r} was not offered")
    qop = params.get("qop")
    if (qop is None and config.qop) or (qop is not None and qop not in config.qop):
        raise Refusal(f"qop {qop!r} was not offered ({', '.join(config.qop) or 'none'})")
    if config.opaque is not None and params.get("opaque") != config.opaque:
        raise Refusal("opaque did not come back unchanged")
    userhash = params.get("userhash", "").lower() == "true"
    if userhash and not config.userhash:
        raise Refusal("userhash was not offered")
    return DigestChallenge(
        realm=config.realm,
        nonce=params["nonce"],
        algorithm=named,
        echo_algorithm="algorithm" in params,
        qop=() if qop is None else (qop,),
        opaque=config.opaque,
        userhash=userhash,
        charset="UTF-8" if config.charset_utf8 else None,
    )


def authenticate(
    config: DigestConfig, params: Mapping[str, str], method: str, body: bytes
) -> Accepted:
    """Find the user whose answer matches *params*, recomputing it (RFC 7616 §3.4.1)."""
    challenge = _offered(config, params)
    uri, cnonce = params["uri"], params.get("cnonce", "")
    nc = int(params["nc"], 16) if "qop" in params else None
    for login, password in config.users.items():
        credentials = DigestCredentials(challenge, login, password)
        header = credentials.authorization(method, uri, nc=nc or 1, cnonce=cnonce, body=body)
        expected = parse_challenges(header)[0].params
        # With userhash the username is H(login:realm) (§3.4.4); comparing the
        # usernames this login would send covers both forms and username*.
        if expected["username"] == params["username"]:
            if not hmac.compare_digest(expected["response"], params["response"].lower()):
                raise Refusal(f"wrong response for user {login!r}")
            return Accepted(login, credentials, uri, nc, cnonce)
    raise Refusal(f"unknown user {params['username']!r}")


def use_nonce(config: DigestConfig, book: NonceBook, nonce: str, answer: Accepted) -> None:
    """Count a correct answer against its nonce, or refuse it (RFC 7616 §3.3, §3.4)."""
    record = book.get(nonce)
    if record is None:
        raise Refusal("unknown nonce", stale=True)
    if record.algorithm != answer.credentials.algorithm.name:
        raise Refusal(
            f"nonce issued for {record.algorithm}, answered with "
            f"{answer.credentials.algorithm.name}"
        )
    if record.expired(config):
        raise Refusal("stale nonce", stale=True)
    if answer.nc is not None and config.nc_check != "off":
        problem = record.count_problem(answer.nc, config.nc_check)
        if problem is not None:
            raise Refusal(problem)
    record.uses += 1


def authentication_info(
    config: DigestConfig, book: NonceBook, answer: Accepted, response_body: bytes
) -> str:
    """Build ``Authentication-Info``: nextnonce, and rspauth with a qop (RFC 7616 §3.5)."""
    nextnonce = book.issue(answer.credentials.algorithm, config.clock())
    parts = [f'nextnonce="{nextnonce}"']
    if answer.nc is not None:
        rspauth = answer.credentials.rspauth(
            answer.uri, nc=answer.nc, cnonce=answer.cnonce, body=response_body
        )
        parts += [
            f"qop={answer.credentials.qop}",
            f'rspauth="{rspauth}"',
            f'cnonce="{_quote(answer.cnonce)}"',
            f"nc={answer.nc:08x}",
        ]
    return ", ".join(parts)
