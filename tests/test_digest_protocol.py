"""HTTP Digest, sans-IO: RFC vectors, a by-hand reference, aiohttp as a second opinion.

No event loop, no mocks. Every expected digest is computed twice: by the RFC
(the vector files) and by ``reference_response`` below, written from the RFC
formulas with nothing but hashlib.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import pickle
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp import DigestAuthMiddleware
from hypothesis import given, settings
from hypothesis import strategies as st
from yarl import URL

from aiohttp_auth.challenges import Challenge, parse_challenges
from aiohttp_auth.digest import (
    SUPPORTED_ALGORITHMS,
    AuthenticationInfo,
    DigestChallenge,
    DigestCredentials,
    algorithm_for,
    authorization,
    expected_rspauth,
    make_cnonce,
    parse_authentication_info,
    select_challenge,
    verify_rspauth,
)
from aiohttp_auth.digest.algorithms import AlgorithmTable
from aiohttp_auth.errors import ChallengeError, ConfigurationError

VECTORS = Path(__file__).parent / "vectors" / "digest"
HASHLIB_NAMES = {
    "MD5": "md5",
    "SHA": "sha1",
    "SHA-256": "sha256",
    "SHA-512": "sha512",
    "SHA-512-256": "sha512_256",
}
CNONCE = "0a4f113b"


def load_vectors(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((VECTORS / f"{name}.json").read_text("utf-8"))[
        "cases"
    ]
    return cases


ALL_VECTORS = [case for name in ("rfc7616", "rfc2617", "rfc2069") for case in load_vectors(name)]


def reference_hash(algorithm: str, data: str | bytes) -> str:
    base = algorithm.upper().removesuffix("-SESS")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.new(HASHLIB_NAMES[base], raw).hexdigest()


def md5_hex(data: bytes) -> str:
    return reference_hash("MD5", data)


def reference_response(
    *,
    algorithm: str,
    login: str,
    realm: str,
    password: str,
    nonce: str,
    method: str,
    uri: str,
    qop: str | None,
    nc: int,
    cnonce: str,
    body: bytes = b"",
    encoding: str = "utf-8",
) -> str:
    """RFC 7616 §3.4.1-§3.4.3 (and RFC 2069 without qop), written out by hand."""

    def h(data: str | bytes) -> str:
        return reference_hash(algorithm, data)

    ha1 = h(f"{login}:{realm}:{password}".encode(encoding))
    if algorithm.upper().endswith("-SESS"):
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    a2 = f"{method}:{uri}" + (f":{h(body)}" if qop == "auth-int" else "")
    if qop is None:
        return h(f"{ha1}:{nonce}:{h(a2)}")
    return h(f"{ha1}:{nonce}:{nc:08x}:{cnonce}:{qop}:{h(a2)}")


def header_params(value: str) -> dict[str, str]:
    (challenge,) = parse_challenges(value)
    assert challenge.scheme == "Digest"
    return dict(challenge.params)


_QUOTING = re.compile(r'(?:^Digest |, )([A-Za-z*]+)=(")?')


def quoting(value: str) -> dict[str, bool]:
    """Which parameters of a header value are quoted (for values without ", x=")."""
    return {match.group(1): match.group(2) is not None for match in _QUOTING.finditer(value)}


def digest_challenge(header: str) -> DigestChallenge:
    return DigestChallenge.from_challenge(parse_challenges(header)[0])


# --- RFC vectors -------------------------------------------------------------


@pytest.mark.parametrize("case", ALL_VECTORS, ids=lambda case: case["name"])
def test_rfc_examples(case: dict[str, Any]):
    challenges = parse_challenges(case["challenges"])
    chosen = select_challenge(challenges)
    assert chosen == DigestChallenge.from_challenge(challenges[case["answer"]])
    header = authorization(chosen, **case["input"])
    expected = case["expected"]["authorization"]
    assert header_params(header) == header_params(expected)
    assert quoting(header) == quoting(expected)
    assert header_params(header)["response"] == case["expected"]["response"]


@pytest.mark.parametrize("case", ALL_VECTORS, ids=lambda case: case["name"])
def test_rfc_example_responses_follow_from_their_inputs(case: dict[str, Any]):
    chosen = DigestChallenge.from_challenge(parse_challenges(case["challenges"])[case["answer"]])
    inputs = case["input"]
    assert (
        reference_response(
            algorithm=chosen.algorithm,
            realm=chosen.realm,
            nonce=chosen.nonce,
            qop=chosen.preferred_qop,
            **inputs,
        )
        == case["expected"]["response"]
    )
    if chosen.userhash:
        userhash = reference_hash(chosen.algorithm, f"{inputs['login']}:{chosen.realm}")
        assert header_params(case["expected"]["authorization"])["username"] == userhash


def test_rfc7616_sha256_header_is_rendered_exactly_as_printed():
    (case,) = (case for case in ALL_VECTORS if case["name"] == "rfc7616-3.9.1-sha-256")
    chosen = select_challenge(parse_challenges(case["challenges"]))
    assert chosen is not None
    assert authorization(chosen, **case["input"]) == case["expected"]["authorization"]


# --- a second opinion: aiohttp's own DigestAuthMiddleware --------------------


def aiohttp_header(challenge: dict[str, str], method: str, url: URL, body: bytes) -> str:
    middleware = DigestAuthMiddleware("Mufasa", "Circle of Life")
    middleware._challenge = challenge  # type: ignore[assignment]
    result = middleware._encode(method, url, body)  # type: ignore[arg-type]
    if not inspect.iscoroutine(result):
        return str(result)
    # _encode awaits nothing for bytes bodies: drive it to completion without a loop.
    try:
        result.send(None)
    except StopIteration as done:
        return str(done.value)
    raise AssertionError("aiohttp's _encode suspended")  # pragma: no cover


# -sess without qop is left out: aiohttp answers it without sending the cnonce
# the server would need, where we refuse the challenge.
AIOHTTP_CASES = [
    (algorithm, qop)
    for algorithm in ("MD5", "SHA-256", "SHA-512", "SHA", "MD5-sess", "SHA-256-sess")
    for qop in ("auth", "auth-int", None)
    if qop is not None or not algorithm.endswith("-sess")
]


@pytest.mark.parametrize(("algorithm", "qop"), AIOHTTP_CASES)
def test_same_header_as_aiohttp_for_its_algorithms(algorithm: str, qop: str | None):
    fields = {
        "realm": 'me@example.com "x"',
        "nonce": "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        "algorithm": algorithm,
        "opaque": "5ccc069c403ebaf9f0171e9517f40e41",
    }
    if qop is not None:
        fields["qop"] = qop
    url = URL("http://example.com/dir/index.html?q=a%2Fb")
    theirs = aiohttp_header(fields, "POST", url, b'{"a": 1}')
    their_params = header_params(theirs)
    header = ", ".join(
        f'{name}="{value.replace(chr(34), chr(92) + chr(34))}"' for name, value in fields.items()
    )
    ours = authorization(
        digest_challenge(f"Digest {header}"),
        method="POST",
        uri=url.raw_path_qs,
        login="Mufasa",
        password="Circle of Life",
        nc=int(their_params.get("nc", "1"), 16),
        cnonce=their_params.get("cnonce", CNONCE),
        body=b'{"a": 1}',
    )
    # The algorithm token is case-insensitive (RFC 7616 §3.3); aiohttp 3.12.0
    # echoes "MD5-SESS" where later versions echo the challenge's spelling.
    ours_params = header_params(ours)
    ours_params["algorithm"] = ours_params["algorithm"].upper()
    their_params["algorithm"] = their_params["algorithm"].upper()
    assert ours_params == their_params


# --- by-hand reference over every algorithm and qop --------------------------


@pytest.mark.parametrize("algorithm", SUPPORTED_ALGORITHMS)
@pytest.mark.parametrize("qop", ["auth", "auth-int", None])
def test_every_algorithm_and_qop_matches_the_reference(algorithm: str, qop: str | None):
    qop_param = "" if qop is None else f', qop="{qop}"'
    challenge = digest_challenge(
        f'Digest realm="r", nonce="n0nce", algorithm={algorithm}{qop_param}'
    )
    if qop is None and algorithm.endswith("-sess"):
        with pytest.raises(ChallengeError, match="needs a qop but the challenge offers none"):
            DigestCredentials(challenge, "user", "pass")
        return
    credentials = DigestCredentials(challenge, "user", "pass")
    assert credentials.needs_body is (qop == "auth-int")
    for nc, cnonce, body in ((1, "c1", b""), (2, "c2", b"body"), (0xFFFFFFFF, "c3", b"\x00\xff")):
        header = credentials.authorization("PUT", "/a?b=c", nc=nc, cnonce=cnonce, body=body)
        expected = reference_response(
            algorithm=algorithm, login="user", realm="r", password="pass", nonce="n0nce",
            method="PUT", uri="/a?b=c", qop=qop, nc=nc, cnonce=cnonce, body=body,
        )  # fmt: skip
        params = header_params(header)
        assert params["response"] == expected
        assert params["algorithm"] == algorithm
        if qop is None:
            assert "nc" not in params
            assert "cnonce" not in params
            assert "qop" not in params
        else:
            assert (params["nc"], params["cnonce"], params["qop"]) == (f"{nc:08x}", cnonce, qop)


def test_credentials_and_one_off_function_agree():
    challenge = digest_challenge('Digest realm="r", nonce="n", qop="auth", algorithm=SHA-256')
    credentials = DigestCredentials(challenge, "u", "p")
    for nc in (1, 2, 3):
        assert credentials.authorization("GET", "/", nc=nc, cnonce="c") == authorization(
            challenge, method="GET", uri="/", login="u", password="p", nc=nc, cnonce="c"
        )


def test_auth_int_covers_the_body():
    challenge = digest_challenge('Digest realm="r", nonce="n", qop="auth-int"')
    credentials = DigestCredentials(challenge, "u", "p")
    answers = {
        header_params(credentials.authorization("POST", "/", nc=1, cnonce="c", body=body))[
            "response"
        ]
        for body in (b"", b"a", b"b")
    }
    assert len(answers) == 3


def test_qop_auth_ignores_the_body():
    challenge = digest_challenge('Digest realm="r", nonce="n", qop="auth"')
    credentials = DigestCredentials(challenge, "u", "p")
    assert credentials.authorization("POST", "/", nc=1, cnonce="c", body=b"x") == (
        credentials.authorization("POST", "/", nc=1, cnonce="c")
    )


# --- DigestChallenge ----------------------------------------------------------

CHALLENGE_FIELDS = [
    pytest.param(
        'Digest realm="r", nonce="n"',
        {"algorithm": "MD5", "echo_algorithm": False, "qop": (), "opaque": None, "domain": ()},
        id="defaults",
    ),
    pytest.param(
        'digest REALM="r", NONCE="n", algorithm=sha-256-SESS, qop="AUTH , auth-int,,x"',
        {"algorithm": "sha-256-SESS", "echo_algorithm": True, "qop": ("auth", "auth-int", "x")},
        id="case-insensitive",
    ),
    pytest.param(
        'Digest realm="", nonce="n", opaque="", domain="/a  http://b.example/c\t/d"',
        {"realm": "", "opaque": "", "domain": ("/a", "http://b.example/c", "/d")},
        id="empty-values-and-domain-list",
    ),
    pytest.param("Digest realm=r, nonce=n, stale=true", {"stale": True}, id="stale-true"),
    pytest.param("Digest realm=r, nonce=n, stale=TRUE", {"stale": True}, id="stale-TRUE"),
    pytest.param('Digest realm=r, nonce=n, stale="True"', {"stale": True}, id="stale-True"),
    pytest.param("Digest realm=r, nonce=n, stale=false", {"stale": False}, id="stale-false"),
    pytest.param("Digest realm=r, nonce=n, stale=yes", {"stale": False}, id="stale-other"),
    pytest.param(
        'Digest realm=r, nonce=n, userhash=TRUE, charset="utf-8"',
        {"userhash": True, "charset": "utf-8"},
        id="userhash-charset",
    ),
]


@pytest.mark.parametrize(("header", "fields"), CHALLENGE_FIELDS)
def test_digest_challenge_fields(header: str, fields: dict[str, object]):
    challenge = digest_challenge(header)
    assert {name: getattr(challenge, name) for name in fields} == fields


@pytest.mark.parametrize(
    ("charset", "utf8"), [(None, False), ("UTF-8", True), ("utf-8", True), ("latin1", False)]
)
def test_only_charset_utf8_means_utf8(charset: str | None, utf8: bool):
    assert DigestChallenge("r", "n", charset=charset).utf8 is utf8


@pytest.mark.parametrize(
    ("challenge", "fragment"),
    [
        pytest.param(
            Challenge("Basic", {"realm": "r"}), "Expected a Digest challenge", id="basic"
        ),
        pytest.param(Challenge("Digest", token68="abc=="), "token68", id="token68"),
        pytest.param(
            Challenge("Digest", {"nonce": "n"}), "realm parameter is missing", id="realm"
        ),
        pytest.param(
            Challenge("Digest", {"realm": "r"}), "nonce parameter is missing", id="nonce"
        ),
        pytest.param(
            Challenge("Digest", {"realm": "r", "nonce": ""}),
            "nonce parameter is empty",
            id="empty",
        ),
    ],
)
def test_malformed_digest_challenge_raises_challenge_error(challenge: Challenge, fragment: str):
    with pytest.raises(ChallengeError, match=fragment):
        DigestChallenge.from_challenge(challenge)


@pytest.mark.parametrize(
    ("qop", "preferred"),
    [((), None), (("auth",), "auth"), (("auth-int",), "auth-int"), (("auth-int", "auth"), "auth")],
)
def test_preferred_qop_is_auth_when_offered(qop: tuple[str, ...], preferred: str | None):
    assert DigestChallenge("r", "n", qop=qop).preferred_qop == preferred


@pytest.mark.parametrize(
    ("challenge", "fragment"),
    [
        pytest.param(
            DigestChallenge("r", "n", algorithm="SHA3-256"),
            "'SHA3-256' is not supported",
            id="alg",
        ),
        pytest.param(
            DigestChallenge("r", "n", qop=("auth-conf",)), "offers neither auth nor", id="qop"
        ),
        pytest.param(
            DigestChallenge("r", "n", algorithm="MD5-sess"), "needs a qop", id="sess-without-qop"
        ),
    ],
)
def test_unsupported_challenge_says_why(challenge: DigestChallenge, fragment: str):
    assert challenge.unsupported_reason is not None
    assert fragment in challenge.unsupported_reason
    with pytest.raises(ChallengeError, match=fragment):
        DigestCredentials(challenge, "u", "p")


def test_supported_challenge_has_no_unsupported_reason():
    assert DigestChallenge("r", "n", algorithm="sha-512-256").unsupported_reason is None


# --- algorithms ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("md5", "MD5"),
        ("SHA", "SHA"),
        ("sha-256-sess", "SHA-256-sess"),
        ("SHA256", "SHA-256"),
        ("sha512-SESS", "SHA-512-sess"),
        ("SHA-512-256", "SHA-512-256"),
    ],
)
def test_algorithm_names_are_case_insensitive_with_aliases(name: str, canonical: str):
    algorithm = algorithm_for(name)
    assert algorithm is not None
    assert algorithm.name == canonical
    assert algorithm.new(b"abc").hexdigest() == reference_hash(canonical, b"abc")


def test_algorithm_a_python_lacks_is_reported_as_not_available():
    table = AlgorithmTable([("MD5", "md5", 1), ("NEW", "no-such-hash", 9)], {"N3W": "NEW"})
    assert table.names == ("MD5", "MD5-sess")
    assert table.get("new") is None
    assert table.get("N3W-sess") is None
    assert "not available in this Python's hashlib" in table.unavailable_reason("NEW-sess")
    assert "not available" in table.unavailable_reason("n3w")
    assert "not supported (supported: MD5, MD5-sess)" in table.unavailable_reason("X")


# --- select_challenge ---------------------------------------------------------


def offered(*algorithms: str, qop: str = "auth") -> list[Challenge]:
    return parse_challenges(
        [f'Digest realm="{a}", nonce="n", qop="{qop}", algorithm={a}' for a in algorithms]
    )


@pytest.mark.parametrize(
    ("algorithms", "chosen"),
    [
        (("MD5", "SHA-256"), "SHA-256"),
        (("SHA-256", "SHA-512-256-sess", "MD5"), "SHA-512-256-sess"),
        (("SHA-512", "SHA-256"), "SHA-256"),
        (("SHA", "SHA-512"), "SHA-512"),
        (("MD5", "SHA"), "SHA"),
        (("MD5-sess", "MD5"), "MD5-sess"),
        (("SHA3-512", "MD5"), "MD5"),
        (("UNKNOWN", "SHA-256", "ALSO-UNKNOWN"), "SHA-256"),
    ],
)
def test_select_challenge_prefers_the_strongest_supported(
    algorithms: tuple[str, ...], chosen: str
):
    challenge = select_challenge(offered(*algorithms))
    assert challenge is not None
    assert challenge.algorithm == chosen


def test_select_challenge_ignores_other_schemes():
    challenges = parse_challenges('Basic realm="x", Digest realm="d", nonce="n", Bearer')
    chosen = select_challenge(challenges)
    assert chosen is not None
    assert chosen.realm == "d"


@pytest.mark.parametrize(
    "challenges",
    [
        pytest.param([], id="none"),
        pytest.param(parse_challenges('Basic realm="x"'), id="no-digest"),
        pytest.param(offered("SHA3-256"), id="unknown-algorithm-only"),
        pytest.param(offered("MD5", qop="auth-conf"), id="unsupported-qop-only"),
        pytest.param(
            [*offered("SHA3-256"), Challenge("Digest", {"realm": "r"})],
            id="unsupported-and-malformed",
        ),
    ],
)
def test_select_challenge_returns_none_when_nothing_can_be_answered(challenges: list[Challenge]):
    assert select_challenge(challenges) is None


def test_select_challenge_skips_a_malformed_challenge_for_a_good_one():
    challenges = [Challenge("Digest", {"realm": "r"}), *offered("MD5")]
    chosen = select_challenge(challenges)
    assert chosen is not None
    assert chosen.algorithm == "MD5"


def test_select_challenge_raises_when_the_only_digest_challenge_is_malformed():
    with pytest.raises(ChallengeError, match=r"^Malformed Digest challenge: the nonce"):
        select_challenge([Challenge("Digest", {"realm": "r"})])


def test_select_challenge_names_every_problem_when_all_are_malformed():
    with pytest.raises(ChallengeError, match="All 2 Digest challenges are malformed") as caught:
        select_challenge([Challenge("Digest", {"realm": "r"}), Challenge("Digest", token68="x")])
    assert "nonce parameter is missing" in str(caught.value)
    assert "token68" in str(caught.value)


# --- username forms and encodings ---------------------------------------------


def test_userhash_sends_hashed_username_and_flag():
    challenge = digest_challenge('Digest realm="r", nonce="n", qop=auth, userhash=true')
    header = authorization(
        challenge, method="GET", uri="/", login="Mufasa", password="p", nc=1, cnonce="c"
    )
    params = header_params(header)
    assert params["username"] == md5_hex(b"Mufasa:r")
    assert params["userhash"] == "true"
    assert quoting(header)["userhash"] is False
    assert "Mufasa" not in header


@pytest.mark.parametrize(
    ("login", "rendered"),
    [
        pytest.param("plain user", 'username="plain user"', id="ascii"),
        pytest.param('a"b\\c', 'username="a\\"b\\\\c"', id="escaped"),
        pytest.param("J\u00e4s\u00f8n", "username*=UTF-8''J%C3%A4s%C3%B8n", id="non-ascii"),
        pytest.param("tab\there", 'username="tab\there"', id="tab-is-quotable"),
        pytest.param("new\nline", "username*=UTF-8''new%0Aline", id="control-char"),
        pytest.param(
            "\u00e9!#$&+^`|~*'b", "username*=UTF-8''%C3%A9!#$&+^`|~%2A%27b", id="attr-chars"
        ),
    ],
)
def test_username_form(login: str, rendered: str):
    header = authorization(
        digest_challenge('Digest realm="r", nonce="n"'),
        method="GET", uri="/", login=login, password="p", nc=1, cnonce="c",
    )  # fmt: skip
    assert header.startswith(f"Digest {rendered}, ")
    assert header_params(header)["username"] == login


@pytest.mark.parametrize(
    ("charset", "login", "password", "encoding"),
    [
        pytest.param(None, "J\u00fcrgen", "p\u00e4ss", "latin-1", id="latin1-when-it-fits"),
        pytest.param(None, "\u03a9mega", "p\u00e4ss", "utf-8", id="utf8-when-latin1-cannot"),
        pytest.param("UTF-8", "J\u00fcrgen", "p\u00e4ss", "utf-8", id="utf8-when-asked"),
    ],
)
def test_credential_encoding_rule(charset: str | None, login: str, password: str, encoding: str):
    charset_param = "" if charset is None else f", charset={charset}"
    challenge = digest_challenge(f'Digest realm="r", nonce="n", qop=auth{charset_param}')
    header = authorization(
        challenge, method="GET", uri="/", login=login, password=password, nc=1, cnonce="c"
    )
    expected = reference_response(
        algorithm="MD5", login=login, realm="r", password=password, nonce="n", method="GET",
        uri="/", qop="auth", nc=1, cnonce="c", encoding=encoding,
    )  # fmt: skip
    assert header_params(header)["response"] == expected


def test_charset_utf8_normalizes_to_nfc_and_maps_password_spaces():
    challenge = digest_challenge('Digest realm="r", nonce="n", qop=auth, charset=UTF-8')
    decomposed = authorization(
        challenge, method="GET", uri="/", login="Jose\u0301", password="a\u00a0b\u0301",
        nc=1, cnonce="c",
    )  # fmt: skip
    composed = authorization(
        challenge, method="GET", uri="/", login="Jos\u00e9", password="a b\u0301",
        nc=1, cnonce="c",
    )  # fmt: skip
    assert decomposed == composed
    assert header_params(decomposed)["username"] == "Jos\u00e9"


@pytest.mark.parametrize(
    ("charset", "login", "password", "what"),
    [
        pytest.param("UTF-8", "u", "bad\ud800pw", "password", id="utf8-password"),
        pytest.param(None, "bad\udfffuser", "p", "login", id="latin1-fallback-login"),
    ],
)
def test_unencodable_credentials_raise_configuration_error_without_the_secret(
    charset: str | None, login: str, password: str, what: str
):
    challenge = DigestChallenge("r", "n", charset=charset)
    with pytest.raises(ConfigurationError, match=f"The Digest {what} cannot be encoded") as caught:
        DigestCredentials(challenge, login, password)
    assert "bad" not in str(caught.value)


def test_header_bytes_are_hashed_as_the_server_sent_them():
    # aiohttp decodes a non-UTF-8 header byte 0xE9 as the surrogate U+DCE9.
    challenge = digest_challenge('Digest realm="caf\udce9", nonce="n\ud800"')
    params = header_params(
        authorization(challenge, method="GET", uri="/", login="u", password="p", nc=1, cnonce="c")
    )
    ha1 = md5_hex(b"u:caf\xe9:p")
    ha2 = md5_hex(b"GET:/")
    nonce = "n\ud800".encode("utf-8", "surrogatepass")
    assert params["response"] == md5_hex(ha1.encode() + b":" + nonce + b":" + ha2.encode())


# --- header rendering ---------------------------------------------------------


def test_quoted_values_are_escaped_and_tokens_are_not_quoted():
    challenge = digest_challenge(
        'Digest realm="r\\"1\\\\", nonce="n\\"", opaque="o\\"", qop="auth", algorithm=SHA-256'
    )
    header = authorization(
        challenge, method="GET", uri='/a"b\\', login="u", password="p", nc=10, cnonce='c"\\'
    )
    assert 'realm="r\\"1\\\\"' in header
    assert 'uri="/a\\"b\\\\"' in header
    assert 'cnonce="c\\"\\\\"' in header
    params = header_params(header)
    assert (params["realm"], params["nonce"], params["opaque"]) == ('r"1\\', 'n"', 'o"')
    assert (params["uri"], params["cnonce"], params["nc"]) == ('/a"b\\', 'c"\\', "0000000a")
    assert quoting(header) == {
        "username": True, "realm": True, "uri": True, "algorithm": False, "nonce": True,
        "nc": False, "cnonce": True, "qop": False, "response": True, "opaque": True,
    }  # fmt: skip


def test_algorithm_is_echoed_as_sent_and_only_when_sent():
    with_algorithm = digest_challenge('Digest realm="r", nonce="n", algorithm=md5')
    without = digest_challenge('Digest realm="r", nonce="n"')
    kwargs: dict[str, Any] = {
        "method": "GET", "uri": "/", "login": "u", "password": "p", "nc": 1, "cnonce": "c"
    }  # fmt: skip
    assert header_params(authorization(with_algorithm, **kwargs))["algorithm"] == "md5"
    assert "algorithm" not in header_params(authorization(without, **kwargs))


def test_opaque_is_echoed_even_when_empty_and_omitted_when_absent():
    kwargs: dict[str, Any] = {
        "method": "GET", "uri": "/", "login": "u", "password": "p", "nc": 1, "cnonce": "c"
    }  # fmt: skip
    empty = authorization(digest_challenge('Digest realm="r", nonce="n", opaque=""'), **kwargs)
    absent = authorization(digest_challenge('Digest realm="r", nonce="n"'), **kwargs)
    assert header_params(empty)["opaque"] == ""
    assert "opaque" not in header_params(absent)


def test_explicit_qop_must_be_offered():
    challenge = digest_challenge('Digest realm="r", nonce="n", qop="auth,auth-int"')
    assert DigestCredentials(challenge, "u", "p", qop="auth-int").needs_body
    with pytest.raises(ConfigurationError, match="qop 'auth-int' is not offered"):
        DigestCredentials(
            digest_challenge('Digest realm="r", nonce="n"'), "u", "p", qop="auth-int"
        )


@pytest.mark.parametrize("nc", [0, -1, 0x100000000])
@pytest.mark.parametrize(
    "challenge",
    [
        "Digest realm=r, nonce=n, qop=auth",
        "Digest realm=r, nonce=n, qop=auth-int",
        "Digest realm=r, nonce=n, qop=auth, algorithm=MD5-sess",
    ],
    ids=["auth", "auth-int", "sess"],
)
def test_nonce_count_outside_eight_hex_digits_is_refused(nc: int, challenge: str):
    credentials = DigestCredentials(digest_challenge(challenge), "u", "p")
    with pytest.raises(ConfigurationError, match="nc must be between 1 and 4294967295"):
        credentials.authorization("GET", "/", nc=nc, cnonce="c")
    with pytest.raises(ConfigurationError, match="nc must be between"):
        credentials.rspauth("/", nc=nc, cnonce="c")


def test_rfc2069_answers_ignore_nonce_count_and_cnonce():
    credentials = DigestCredentials(digest_challenge("Digest realm=r, nonce=n"), "u", "p")
    assert credentials.qop is None
    assert credentials.authorization("GET", "/", nc=0, cnonce="a") == credentials.authorization(
        "GET", "/", nc=7, cnonce="b"
    )


def test_credentials_repr_and_pickle_never_reveal_the_password():
    credentials = DigestCredentials(
        digest_challenge('Digest realm="r", nonce="n", qop=auth'), "Mufasa", "Circle of Life"
    )
    ha1 = md5_hex(b"Mufasa:r:Circle of Life")
    text = repr(credentials)
    assert text == (
        "DigestCredentials(realm='r', algorithm='MD5', qop='auth', login='Mufasa', "
        "password=<redacted 14 chars>)"
    )
    assert ha1 not in text
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(credentials)


def test_with_nonce_answers_like_fresh_credentials_for_the_new_nonce():
    challenge = digest_challenge(
        'Digest realm="r", nonce="old", qop=auth, algorithm=SHA-256-sess, opaque="o", stale=true'
    )
    credentials = DigestCredentials(challenge, "u", "p")
    renewed = credentials.with_nonce('new"nonce')
    fresh = DigestCredentials(
        dataclasses.replace(challenge, nonce='new"nonce', stale=False), "u", "p"
    )
    assert renewed.challenge == fresh.challenge
    assert not renewed.challenge.stale
    assert renewed.authorization("GET", "/", nc=1, cnonce="c") == fresh.authorization(
        "GET", "/", nc=1, cnonce="c"
    )
    assert header_params(credentials.authorization("GET", "/", nc=1, cnonce="c"))["nonce"] == "old"


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256-sess"], ids=["auth", "auth-sess"])
def test_answers_reusing_h_a2_equal_answers_from_fresh_credentials(algorithm: str):
    challenge = digest_challenge(
        f'Digest realm="r", nonce="n", qop=auth, algorithm={algorithm}, opaque="o"'
    )
    credentials = DigestCredentials(challenge, "u", "p")
    renewed = credentials.with_nonce("n2")  # shares what the first one keeps
    targets = [("GET", "/a"), ("GET", "/a"), ("POST", "/a"), ("GET", '/q?x="y"\\'), ("GET", "/a")]
    for nc, (method, uri) in enumerate(targets, start=1):
        for answering, nonce in ((credentials, "n"), (renewed, "n2")):
            fresh = DigestCredentials(dataclasses.replace(challenge, nonce=nonce), "u", "p")
            expected = fresh.authorization(method, uri, nc=nc, cnonce=CNONCE)
            assert answering.authorization(method, uri, nc=nc, cnonce=CNONCE) == expected


def test_h_a2_is_kept_for_at_most_64_targets_and_never_for_long_uris():
    credentials = DigestCredentials(
        digest_challenge("Digest realm=r, nonce=n, qop=auth"), "u", "p"
    )
    fresh = DigestCredentials(credentials.challenge, "u", "p")
    for index in range(100):
        uri = f"/{index}"
        assert credentials.authorization("GET", uri, nc=1, cnonce="c") == fresh.authorization(
            "GET", uri, nc=1, cnonce="c"
        )
        assert 0 < len(credentials._targets) <= 64
    long_uri = "/" + "x" * 2048
    header = credentials.authorization("GET", long_uri, nc=1, cnonce="c")
    assert header_params(header)["uri"] == long_uri
    assert ("GET", long_uri) not in credentials._targets


def test_with_nonce_refuses_an_empty_nonce():
    credentials = DigestCredentials(digest_challenge("Digest realm=r, nonce=n"), "u", "p")
    with pytest.raises(ChallengeError, match="empty nonce for realm 'r'"):
        credentials.with_nonce("")


@pytest.mark.parametrize("size", [8, 16, 32])
def test_make_cnonce_is_hex_of_the_random_bytes(size: int):
    random_bytes = bytes(range(size))
    assert make_cnonce(random_bytes) == random_bytes.hex()


def test_make_cnonce_refuses_too_little_randomness():
    with pytest.raises(ConfigurationError, match="at least 8 random bytes, got 7"):
        make_cnonce(b"1234567")


# --- Authentication-Info and rspauth ------------------------------------------

AUTHENTICATION_INFO = [
    pytest.param("", AuthenticationInfo(), id="empty"),
    pytest.param(
        'nextnonce="abc", qop=AUTH, rspauth="d3ad", cnonce="c\\"1", nc=0000000A',
        AuthenticationInfo(nextnonce="abc", qop="auth", rspauth="d3ad", cnonce='c"1', nc=10),
        id="all-fields",
    ),
    pytest.param(
        ['nextnonce="abc"', "qop=auth-int"],
        AuthenticationInfo(nextnonce="abc", qop="auth-int"),
        id="several-field-lines",
    ),
]


@pytest.mark.parametrize(("value", "expected"), AUTHENTICATION_INFO)
def test_parse_authentication_info(value: str | list[str], expected: AuthenticationInfo):
    assert parse_authentication_info(value) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param("nc=1", "nc '1' is not 8 hexadecimal digits", id="short-nc"),
        pytest.param("nc=0000000g", "is not 8 hexadecimal digits", id="non-hex-nc"),
        pytest.param('nextnonce="abc', "unterminated quoted-string", id="unterminated"),
        pytest.param("Digest nextnonce=x", "expected '='", id="scheme-prefix"),
    ],
)
def test_malformed_authentication_info_raises_challenge_error(value: str, fragment: str):
    with pytest.raises(ChallengeError, match=re.escape(fragment)) as caught:
        parse_authentication_info(value)
    assert str(caught.value).startswith("Malformed Authentication-Info")


RSPAUTH_CHALLENGE = 'Digest realm="r", nonce="n", qop="{qop}", algorithm={algorithm}'


def reference_rspauth(
    algorithm: str, qop: str, uri: str, nc: int, cnonce: str, body: bytes
) -> str:
    """RFC 7616 §3.5: the response digest with A2 = ":" uri [":" H(body)]."""

    def h(data: str | bytes) -> str:
        return reference_hash(algorithm, data)

    ha1 = h("u:r:p")
    if algorithm.upper().endswith("-SESS"):
        ha1 = h(f"{ha1}:n:{cnonce}")
    a2 = f":{uri}" + (f":{h(body)}" if qop == "auth-int" else "")
    return h(f"{ha1}:n:{nc:08x}:{cnonce}:{qop}:{h(a2)}")


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256", "SHA-512-256-sess"])
@pytest.mark.parametrize("qop", ["auth", "auth-int"])
def test_rspauth_matches_the_reference_and_verifies(algorithm: str, qop: str):
    challenge = digest_challenge(RSPAUTH_CHALLENGE.format(qop=qop, algorithm=algorithm))
    expected = reference_rspauth(algorithm, qop, "/x?y", 3, "cn", b"response body")
    kwargs: dict[str, Any] = {
        "uri": "/x?y",
        "login": "u",
        "password": "p",
        "nc": 3,
        "cnonce": "cn",
    }
    assert expected_rspauth(challenge, body=b"response body", **kwargs) == expected
    info = parse_authentication_info(
        f'rspauth="{expected.upper()}", qop={qop}, nc=00000003, cnonce="cn"'
    )
    assert verify_rspauth(challenge, info, body=b"response body", **kwargs)


def test_rspauth_without_qop_uses_the_rfc2069_form():
    credentials = DigestCredentials(digest_challenge('Digest realm="r", nonce="n"'), "u", "p")
    ha1 = md5_hex(b"u:r:p")
    expected = md5_hex(f"{ha1}:n:{md5_hex(b':/')}".encode())
    assert credentials.rspauth("/", nc=0, cnonce="") == expected


@pytest.mark.parametrize(
    ("info", "verified"),
    [
        pytest.param(AuthenticationInfo(), False, id="no-rspauth"),
        pytest.param(AuthenticationInfo(rspauth="0" * 32), False, id="wrong-rspauth"),
        pytest.param(AuthenticationInfo(rspauth="\u00e9\ud800"), False, id="non-ascii-rspauth"),
        pytest.param(AuthenticationInfo(rspauth="RIGHT", qop="auth-int"), False, id="other-qop"),
        pytest.param(
            AuthenticationInfo(rspauth="RIGHT", cnonce="other"), False, id="other-cnonce"
        ),
        pytest.param(AuthenticationInfo(rspauth="RIGHT", nc=2), False, id="other-nc"),
        pytest.param(AuthenticationInfo(rspauth="RIGHT"), True, id="right-bare"),
        pytest.param(
            AuthenticationInfo(rspauth="RIGHT", qop="auth", cnonce="c", nc=1),
            True,
            id="right-full",
        ),
    ],
)
def test_verify_rspauth(info: AuthenticationInfo, verified: bool):
    credentials = DigestCredentials(
        digest_challenge("Digest realm=r, nonce=n, qop=auth"), "u", "p"
    )
    if info.rspauth == "RIGHT":
        info = dataclasses.replace(info, rspauth=credentials.rspauth("/", nc=1, cnonce="c"))
    assert credentials.verify_rspauth(info, "/", nc=1, cnonce="c") is verified


# --- fuzzing ------------------------------------------------------------------

DIGEST_PARAM_NAMES = st.sampled_from(
    ["realm", "nonce", "algorithm", "qop", "opaque", "domain", "stale", "userhash", "charset", "x"]
)
ALGORITHM_VALUES = st.sampled_from([*SUPPORTED_ALGORITHMS, "sha256", "SHA3-256", ""])
RANDOM_CHALLENGES = st.builds(
    Challenge,
    scheme=st.sampled_from(["Digest", "digest", "DIGEST", "Basic", "Digestive"]),
    params=st.dictionaries(DIGEST_PARAM_NAMES, st.one_of(st.text(), ALGORITHM_VALUES)),
    token68=st.one_of(st.none(), st.text(min_size=1)),
)


@settings(max_examples=300)
@given(RANDOM_CHALLENGES)
def test_from_challenge_raises_only_challenge_error(challenge: Challenge):
    try:
        digest = DigestChallenge.from_challenge(challenge)
    except ChallengeError:
        return
    assert digest.nonce
    assert digest.unsupported_reason is None or "Unsupported" in digest.unsupported_reason


@settings(max_examples=300)
@given(st.lists(RANDOM_CHALLENGES, max_size=4))
def test_select_challenge_raises_only_challenge_error(challenges: list[Challenge]):
    try:
        chosen = select_challenge(challenges)
    except ChallengeError:
        return
    assert chosen is None or chosen.unsupported_reason is None


@settings(max_examples=300)
@given(st.one_of(st.text(), st.lists(st.text(), max_size=3)))
def test_parse_authentication_info_raises_only_challenge_error(value: str | list[str]):
    try:
        info = parse_authentication_info(value)
    except ChallengeError:
        return
    assert info.nc is None or 0 <= info.nc <= 0xFFFFFFFF


HEADER_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E), st.sampled_from(["\t", "\u00e9"])
    )
)


@settings(max_examples=300)
@given(
    realm=HEADER_TEXT,
    nonce=HEADER_TEXT.filter(bool),
    opaque=st.one_of(st.none(), HEADER_TEXT),
    algorithm=st.sampled_from(SUPPORTED_ALGORITHMS),
    login=st.text(alphabet=st.characters(exclude_categories=["Cs"])),
    uri=HEADER_TEXT,
    cnonce=HEADER_TEXT,
)
def test_answers_parse_back_to_what_was_answered(
    realm: str, nonce: str, opaque: str | None, algorithm: str, login: str, uri: str, cnonce: str
):
    challenge = DigestChallenge(
        realm, nonce, algorithm=algorithm, echo_algorithm=True, qop=("auth",), opaque=opaque
    )
    header = authorization(
        challenge, method="GET", uri=uri, login=login, password="p", nc=1, cnonce=cnonce
    )
    params = header_params(header)
    assert (params["realm"], params["nonce"], params["uri"], params["cnonce"]) == (
        realm, nonce, uri, cnonce,
    )  # fmt: skip
    assert params.get("opaque") == opaque
    assert params["username"] == login
