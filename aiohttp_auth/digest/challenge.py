"""Digest challenges (RFC 7616 §3.3) and choosing the one to answer.

A server may offer several Digest challenges, one per algorithm (RFC 7616
§3.7). [`select_challenge`][] answers the strongest one this Python can
compute and skips those it cannot, falling back rather than failing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..challenges import Challenge
from ..errors import ChallengeError
from .algorithms import DigestAlgorithm, algorithm_for, unavailable_reason

__all__ = ["DigestChallenge", "select_challenge"]

_QOP_SUPPORTED = frozenset({"auth", "auth-int"})


@dataclass(frozen=True)
class DigestChallenge:
    """A parsed ``Digest`` challenge (RFC 7616 §3.3).

    Attributes:
        realm: the protection space's name.
        nonce: the server nonce.
        algorithm: the algorithm as the server spelled it, ``"MD5"`` if absent.
        echo_algorithm: whether the server named the algorithm; the answer
            names it back only then, as RFC 2069 and RFC 2617 clients do.
        qop: the offered qop values, lower-cased; empty for RFC 2069 servers.
        opaque: the opaque string to echo, or None.
        domain: the URIs of the protection space (§3.3 ``domain``), as sent.
        stale: the previous nonce was stale, not the credentials wrong.
        userhash: the server wants the username hashed (§3.4.4).
        charset: the ``charset`` parameter as sent (only ``UTF-8`` is defined).
    """

    realm: str
    nonce: str
    algorithm: str = "MD5"
    echo_algorithm: bool = False
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    domain: tuple[str, ...] = ()
    stale: bool = False
    userhash: bool = False
    charset: str | None = None

    @classmethod
    def from_challenge(cls, challenge: Challenge) -> DigestChallenge:
        """Read the Digest parameters of *challenge* (RFC 7616 §3.3).

        Raises:
            ChallengeError: not a Digest challenge, a token68 instead of
                parameters, or ``realm`` or ``nonce`` missing or ``nonce`` empty.
        """
        if challenge.scheme_lower != "digest":
            raise ChallengeError(f"Expected a Digest challenge, got {challenge.scheme!r}")
        if challenge.token68 is not None:
            raise ChallengeError(
                "Malformed Digest challenge: it carries a token68 instead of parameters "
                "(RFC 7616 §3.3)"
            )
        params = challenge.params
        realm = params.get("realm")
        if realm is None:
            raise ChallengeError(
                "Malformed Digest challenge: the realm parameter is missing (RFC 7616 §3.3)"
            )
        nonce = params.get("nonce")
        if not nonce:
            # An empty nonce would let every answer be replayed.
            raise ChallengeError(
                "Malformed Digest challenge: the nonce parameter is "
                f"{'empty' if nonce == '' else 'missing'} (RFC 7616 §3.3)"
            )
        algorithm = params.get("algorithm")
        qop = (part.strip(" \t").lower() for part in params.get("qop", "").split(","))
        return cls(
            realm=realm,
            nonce=nonce,
            algorithm="MD5" if algorithm is None else algorithm,
            echo_algorithm=algorithm is not None,
            qop=tuple(value for value in qop if value),
            opaque=params.get("opaque"),
            domain=tuple(params.get("domain", "").split()),
            # §3.3: anything but a case-insensitive "true" means false.
            stale=params.get("stale", "").lower() == "true",
            userhash=params.get("userhash", "").lower() == "true",
            charset=params.get("charset"),
        )

    @property
    def utf8(self) -> bool:
        """Whether the server asked for UTF-8 usernames and passwords (§3.3 ``charset``)."""
        return self.charset is not None and self.charset.lower() == "utf-8"

    @property
    def preferred_qop(self) -> str | None:
        """The qop to answer with: ``auth`` when offered, else ``auth-int``, else None.

        ``auth`` is preferred because it does not need the request body, so a
        streaming body can be authenticated preemptively.
        """
        if "auth" in self.qop:
            return "auth"
        if "auth-int" in self.qop:
            return "auth-int"
        return None

    def resolve_algorithm(self) -> DigestAlgorithm:
        """Return the algorithm to answer with.

        Raises:
            ChallengeError: the challenge cannot be answered: its algorithm is
                unknown or not available here, its qop offers neither ``auth``
                nor ``auth-int``, or it asks for a ``-sess`` algorithm without
                qop (the cnonce that needs could not be sent, RFC 7616 §3.4).
        """
        algorithm = algorithm_for(self.algorithm)
        if algorithm is None:
            problem = unavailable_reason(self.algorithm)
        elif self.qop and self.preferred_qop is None:
            problem = f"qop {', '.join(self.qop)!r} offers neither auth nor auth-int"
        elif algorithm.session and not self.qop:
            problem = f"algorithm {self.algorithm!r} needs a qop but the challenge offers none"
        else:
            return algorithm
        raise ChallengeError(f"Unsupported Digest challenge for realm {self.realm!r}: {problem}")

    @property
    def unsupported_reason(self) -> str | None:
        """Why this challenge cannot be answered, or None if it can."""
        try:
            self.resolve_algorithm()
        except ChallengeError as error:
            return str(error)
        return None


def select_challenge(challenges: Iterable[Challenge]) -> DigestChallenge | None:
    """Choose the Digest challenge to answer among *challenges* (RFC 7616 §3.7).

    The strongest supported algorithm wins (SHA-512-256 > SHA-256 > SHA-512 >
    SHA > MD5, each ``-sess`` variant with its base); among equals, the first
    sent. Challenges of other schemes are ignored; unsupported or malformed
    Digest challenges are skipped.

    Args:
        challenges: parsed challenges, e.g. from
            [`parse_challenges`][aiohttp_auth.challenges.parse_challenges].

    Returns:
        The challenge to answer, or None if no Digest challenge can be
        answered (the caller then hands the 401 back untouched).

    Raises:
        ChallengeError: every Digest challenge offered is malformed; the
            message names each problem.
    """
    best: DigestChallenge | None = None
    best_strength = 0
    problems: list[str] = []
    well_formed = False
    for challenge in challenges:
        if challenge.scheme_lower != "digest":
            continue
        try:
            digest = DigestChallenge.from_challenge(challenge)
        except ChallengeError as error:
            problems.append(str(error))
            continue
        well_formed = True
        try:
            strength = digest.resolve_algorithm().strength
        except ChallengeError:
            continue
        if strength > best_strength:
            best, best_strength = digest, strength
    if not well_formed and problems:
        raise ChallengeError(
            problems[0]
            if len(problems) == 1
            else f"All {len(problems)} Digest challenges are malformed: " + "; ".join(problems)
        )
    return best
