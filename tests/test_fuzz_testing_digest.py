"""Fuzzing what the Digest test server reads from clients: an answer or a refusal.

The Digest server of ``aiohttp_auth.testing`` answers whatever a client sends.
Its handler turns a ``Refusal`` into a 400 or a new challenge; any other
exception would escape as a 500, so the reading functions must raise only
that. Answers written by the package's own client are accepted; tampered ones
are refused. The SigV4 and OAuth 2 servers are fuzzed in
test_fuzz_testing_sigv4 and test_fuzz_testing_oauth2.
"""

from __future__ import annotations

from fuzzing import mostly, outcome
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aiohttp_auth.challenges import parse_challenges
from aiohttp_auth.digest import DigestCredentials, parse_authentication_info, select_challenge
from aiohttp_auth.errors import ChallengeError
from aiohttp_auth.testing.digest import DigestConfig
from aiohttp_auth.testing.digest_verify import (
    Accepted,
    NonceBook,
    Refusal,
    authenticate,
    authentication_info,
    challenge_fields,
    check_uri,
    parse_authorization,
    use_nonce,
)

FUZZ = settings(max_examples=300, deadline=None)

# --- the Digest server ------------------------------------------------------------------

PRINTABLE = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.sampled_from("\t\u00e9")
)
LOGINS = st.text(min_size=1, max_size=12)


@st.composite
def digest_servers(draw: st.DrawFn) -> tuple[DigestConfig, NonceBook, list[str]]:
    """Draw a Digest server's configuration, its nonce book and the challenges it sent."""
    qop = draw(st.sampled_from([("auth",), ("auth-int",), ("auth", "auth-int"), ()]))
    # RFC 7616 §3.4.2: a -sess algorithm needs a qop.
    offered = ["SHA-256", "MD5", "SHA-512-256"] + (["SHA-256-sess", "MD5-sess"] if qop else [])
    algorithms = draw(st.lists(st.sampled_from(offered), min_size=1, max_size=3, unique=True))
    # An empty realm reads as a missing one (the server requires it non-empty).
    config = DigestConfig(
        users={draw(LOGINS): draw(PRINTABLE)},
        realm=draw(PRINTABLE.filter(bool)),
        algorithms=algorithms,
        qop=qop,
        userhash=draw(st.booleans()),
        charset_utf8=draw(st.booleans()),
        opaque=draw(st.none() | PRINTABLE),
        clock=lambda: 0.0,
    )
    book = NonceBook()
    return config, book, challenge_fields(config, book, stale=False)


def answer(
    config: DigestConfig, challenges: list[str], *, uri: str, cnonce: str, nc: int, body: bytes
) -> str:
    """Answer the strongest challenge as the package's client does (RFC 7616 §3.4)."""
    challenge = select_challenge(parse_challenges(challenges))
    assert challenge is not None
    [(login, password)] = config.users.items()
    return DigestCredentials(challenge, login, password).authorization(
        "POST", uri, nc=nc, cnonce=cnonce, body=body
    )


def serve(config: DigestConfig, book: NonceBook, value: str, target: str, body: bytes) -> Accepted:
    """Decide on *value* as the Digest server's handler does, raising Refusal to refuse."""
    params = parse_authorization(value)
    check_uri(params["uri"], target)
    accepted = authenticate(config, params, "POST", body)
    use_nonce(config, book, params["nonce"], accepted)
    return accepted


URIS = st.text(alphabet="abz09-._~%/?=&", max_size=12).map(lambda path: "/digest/" + path)
CNONCES = PRINTABLE.filter(bool)
NONCE_COUNTS = st.integers(1, 0xFFFFFFFF)


@FUZZ
@given(digest_servers(), URIS, CNONCES, NONCE_COUNTS, st.binary(max_size=20))
def test_answers_the_client_writes_are_accepted_and_confirmed(
    server: tuple[DigestConfig, NonceBook, list[str]],
    uri: str,
    cnonce: str,
    nc: int,
    body: bytes,
) -> None:
    config, book, challenges = server
    value = answer(config, challenges, uri=uri, cnonce=cnonce, nc=nc, body=body)
    accepted = serve(config, book, value, uri, body)
    assert accepted.login in config.users
    # RFC 7616 §3.5: the client checks the server's rspauth, and it matches.
    info = parse_authentication_info(authentication_info(config, book, accepted, b"{}"))
    assert accepted.credentials.verify_rspauth(info, uri, nc=nc, cnonce=cnonce, body=b"{}") is (
        accepted.nc is not None
    )


# Directive values that break an answer, quoted or as tokens.
BAD_DIRECTIVES = st.sampled_from(
    [
        *('""', "", '"unterminated', "00000000", "0000000g", "ffffffffff", '"\\"', "x y"),
        *("\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668", '"\u00e9"', "MD5", ","),
        *("SHA3-256", "auth-int", "true", "Digest"),
    ]
)
EXTRA_DIRECTIVES = st.sampled_from(["x=1", "qop=auth", "nc", "=", ",,", 'realm="other"'])
SCHEMES = st.sampled_from(["Basic", "digest", "", "Bearer x", "Digest Digest"])


def _quoted(name: str, value: str) -> str:
    # An RFC 8187 ext-value (username*) is a token; the rest may all be quoted (RFC 9110 §11.2).
    if name.endswith("*"):
        return f"{name}={value}"
    return f'{name}="{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'


# What the response is computed from, or checked against: change one and it is refused.
BOUND_DIRECTIVES = frozenset(
    {"username", "realm", "nonce", "uri", "response", "cnonce", "nc", "qop"}
)


def _reads_as(name: str, text: str, value: str) -> bool:
    try:
        [credentials] = parse_challenges(f"Digest {name}={text}")
    except ChallengeError:
        return False
    return credentials.params.get(name) == value


@st.composite
def digest_answers(draw: st.DrawFn, valid: str) -> tuple[str, set[str]]:
    """Draw an Authorization close to *valid*, and the names of the directives tampered with.

    Each directive is kept (quoted), changed or dropped; one may be added and
    the scheme replaced (then "scheme" counts as tampered with).
    """
    [credentials] = parse_challenges(valid)
    directives, tampered = [], set()
    params = credentials.params
    # RFC 8187: username*=UTF-8''... is also decoded into username, which is not sent.
    for name, value in (
        (name, value) for name, value in params.items() if name + "*" not in params
    ):
        fate = draw(st.sampled_from(["keep", "keep", "keep", "keep", "keep", "change", "drop"]))
        if fate == "keep":
            directives.append(_quoted(name, value))
        elif fate == "change":
            text = draw(BAD_DIRECTIVES)
            directives.append(f"{name}={text}")
            tampered |= set() if _reads_as(name, text, value) else {name.rstrip("*")}
        else:
            tampered.add(name.rstrip("*"))
    extra = mostly(draw, st.just([]), st.lists(EXTRA_DIRECTIVES, min_size=1, max_size=2))
    scheme = mostly(draw, st.just("Digest"), SCHEMES)
    tampered |= {"scheme"} if scheme != "Digest" or extra else set()
    return f"{scheme} {', '.join(directives + extra)}", tampered


@FUZZ
@given(digest_servers(), st.data())
def test_near_valid_authorizations_are_accepted_or_refused(
    server: tuple[DigestConfig, NonceBook, list[str]], data: st.DataObject
) -> None:
    config, book, challenges = server
    valid = answer(config, challenges, uri="/digest/x", cnonce="c", nc=1, body=b"")
    value, tampered = data.draw(digest_answers(valid), label="authorization")
    decision = outcome(Refusal, serve, config, book, value, "/digest/x", b"")
    if not tampered:
        assert isinstance(decision, Accepted)
    if tampered & BOUND_DIRECTIVES:
        assert isinstance(decision, Refusal)


@FUZZ
@given(
    st.one_of(
        st.text(max_size=60),
        st.text(alphabet=st.sampled_from(list("Digest =,\"\\*'%8nc0fqop")), max_size=60),
    )
)
@example('Digest username="u", realm="r", nonce="n", uri="/", response="0", qop=auth, nc=1')
@example('Digest username*=UTF-8\'\'%ff, realm="r", nonce="n", uri="/", response="0"')
def test_any_authorization_text_is_refused(value: str) -> None:
    config = DigestConfig(users={"u": "p"}, realm="r", clock=lambda: 0.0)
    book = NonceBook()
    decision = outcome(Refusal, serve, config, book, value, "/", b"")
    # No text of this alphabet answers a nonce, and none was issued.
    assert isinstance(decision, Refusal)
