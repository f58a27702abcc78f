"""Origins, URL prefixes and the transport policy (RFC 6454), sans-IO: tables, no event loop."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from yarl import URL

from aiohttp_auth import ConfigurationError, Origin, OriginScope
from aiohttp_auth._origins import is_loopback_host, is_secure_transport, parse_origin

PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


# --- Origin -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.example.com/x?y=1", Origin("https", "api.example.com", 443)),
        ("HTTPS://API.Example.COM", Origin("https", "api.example.com", 443)),
        ("http://api.example.com", Origin("http", "api.example.com", 80)),
        ("https://api.example.com:8443/", Origin("https", "api.example.com", 8443)),
        ("ws://h", Origin("ws", "h", 80)),
        ("wss://h", Origin("wss", "h", 443)),
        ("http://[::1]:8080/a", Origin("http", "::1", 8080)),
        ("https://bücher.example", Origin("https", "xn--bcher-kva.example", 443)),
    ],
)
def test_origin_of_url_is_normalised(url: str, expected: Origin) -> None:
    assert Origin.of(URL(url)) == expected


@pytest.mark.parametrize(
    ("origin", "text"),
    [
        (Origin("https", "x.example", 443), "https://x.example"),
        (Origin("https", "x.example", 8443), "https://x.example:8443"),
        (Origin("http", "x.example", 80), "http://x.example"),
        (Origin("http", "x.example", 443), "http://x.example:443"),
        (Origin("http", "::1", 80), "http://[::1]"),
        (Origin("http", "::1", 8080), "http://[::1]:8080"),
    ],
)
def test_origin_renders_like_a_browser_without_default_port(origin: Origin, text: str) -> None:
    assert str(origin) == text


# --- parse_origin -----------------------------------------------------------

HTTPS_X = Origin("https", "x.example", 443)


@pytest.mark.parametrize(
    ("value", "origin", "prefix"),
    [
        ("https://x.example", HTTPS_X, None),
        ("https://x.example/", HTTPS_X, None),
        ("https://x.example:443", HTTPS_X, None),
        ("HTTPS://X.Example", HTTPS_X, None),
        (URL("https://x.example"), HTTPS_X, None),
        ("https://x.example/v1", HTTPS_X, "/v1"),
        ("https://x.example/v1/", HTTPS_X, "/v1"),
        ("https://x.example/v1//", HTTPS_X, "/v1"),
        ("https://x.example/a/b/", HTTPS_X, "/a/b"),
        ("http://127.0.0.1:8080", Origin("http", "127.0.0.1", 8080), None),
        ("http://[::1]:8080/api", Origin("http", "::1", 8080), "/api"),
        ("https://bücher.example", Origin("https", "xn--bcher-kva.example", 443), None),
        ("https://xn--bcher-kva.example", Origin("https", "xn--bcher-kva.example", 443), None),
        ("wss://stream.example", Origin("wss", "stream.example", 443), None),
        ("ws://stream.example:81", Origin("ws", "stream.example", 81), None),
        ("http://under_score.example", Origin("http", "under_score.example", 80), None),
    ],
)
def test_parse_origin_accepts_origins_and_prefixes(
    value: str | URL, origin: Origin, prefix: str | None
) -> None:
    assert parse_origin(value) == (origin, prefix)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "the scheme must be"),
        ("api.example.com", "the scheme must be"),
        ("/v1", "the scheme must be"),
        ("ftp://x.example", "the scheme must be"),
        ("file:///etc/passwd", "the scheme must be"),
        ("https://", "no host"),
        ("https:///path", "no host"),
        ("https://user@x.example", "user info"),
        ("https://user:pw@x.example", "user info"),
        ("https://:pw@x.example", "user info"),
        ("https://x.example/?a=1", "query or fragment"),
        ("https://x.example/#top", "query or fragment"),
        ("https://x.example:99999", "cannot be parsed"),
        ("https://x.example:0", "port 0"),
        ("https://[::1", "cannot be parsed"),
        ("https://u:[::1]x@", "cannot be parsed"),
        ("https://a.example, https://b.example", "as a list"),
        ("https://a.example https://b.example", "as a list"),
        ("https://a..example", "not a host name"),
        ("https://*.example.com", "wildcards"),
        (b"https://x.example", "bytes"),
        (443, "int"),
        (None, "NoneType"),
    ],
)
def test_parse_origin_rejects_what_is_not_an_origin(value: object, reason: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^origins: ") as caught:
        parse_origin(value)  # type: ignore[arg-type]
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    "value",
    [
        "https://user:s3cr3t-pw@x.example",
        "https://x.example/?api_key=s3cr3t-pw",
        "https://x.example/#access_token=s3cr3t-pw",
        "https://u:[::1]s3cr3t-pw@",
        "s3cr3t-pw@?",
    ],
)
def test_rejected_origin_message_hides_user_info_and_query(value: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_origin(value)
    assert "s3cr3t-pw" not in str(caught.value)


def test_rejected_origin_message_names_where_it_points() -> None:
    with pytest.raises(ConfigurationError, match=r"https://x\.example"):
        parse_origin("https://user:pw@x.example")


# --- OriginScope ------------------------------------------------------------

ADMITS_ROWS = [
    # origins, request URL, admitted
    ("https://x.example", "https://x.example/anything?q=1", True),
    ("https://x.example", "https://x.example:443/", True),
    ("https://x.example:443", "https://x.example/", True),
    ("http://x.example", "http://x.example:80/", True),
    ("https://X.Example", "https://x.example/", True),
    ("https://x.example", "HTTPS://X.EXAMPLE/", True),
    ("https://x.example", "http://x.example/", False),
    ("https://x.example", "https://x.example:8443/", False),
    ("https://x.example", "https://y.example/", False),
    ("https://x.example", "https://sub.x.example/", False),
    ("https://x.example", "https://x.example.evil/", False),
    ("https://x.example", "wss://x.example/", False),
    ("wss://x.example", "wss://x.example:443/stream", True),
    ("https://bücher.example", "https://xn--bcher-kva.example/", True),
    ("https://xn--bcher-kva.example", "https://bücher.example/", True),
    ("https://bücher.example", "https://bucher.example/", False),
    ("http://[::1]:8080", "http://[::1]:8080/a", True),
    ("http://[::1]:8080", "http://[0:0:0:0:0:0:0:1]:8080/a", True),
    ("http://[::1]:8080", "http://127.0.0.1:8080/a", False),
    ("http://127.0.0.1:8080", "http://localhost:8080/", False),
    # URL prefixes match whole segments
    ("https://x.example/v1", "https://x.example/v1", True),
    ("https://x.example/v1", "https://x.example/v1/", True),
    ("https://x.example/v1", "https://x.example/v1/users?page=2", True),
    ("https://x.example/v1", "https://x.example/v10", False),
    ("https://x.example/v1", "https://x.example/v1x/users", False),
    ("https://x.example/v1", "https://x.example/", False),
    ("https://x.example/v1", "https://x.example/v2/v1", False),
    ("https://x.example/v1/", "https://x.example/v1", True),
    ("https://x.example/v1/", "https://x.example/v10", False),
    ("https://x.example/v1", "https://y.example/v1", False),
    ("https://x.example/v1", "http://x.example/v1", False),
    ("https://x.example/a/b", "https://x.example/a/b/c", True),
    ("https://x.example/a/b", "https://x.example/a", False),
    # one string, a URL, a list, a tuple; origins and prefixes mixed
    (URL("https://x.example"), "https://x.example/", True),
    (["https://x.example", "https://y.example"], "https://y.example/", True),
    (("https://x.example", URL("https://y.example")), "https://y.example/", True),
    (["https://x.example", "https://y.example"], "https://z.example/", False),
    (["https://x.example", "https://y.example/api"], "https://y.example/api/x", True),
    (["https://x.example", "https://y.example/api"], "https://y.example/other", False),
    (["https://x.example", "https://y.example/api"], "https://x.example/other", True),
]


@pytest.mark.parametrize(("origins", "url", "admitted"), ADMITS_ROWS)
def test_scope_admits_exactly_its_origins(origins: object, url: str, admitted: bool) -> None:
    scope = OriginScope(origins)  # type: ignore[arg-type]
    assert scope.admits(URL(url)) is admitted
    assert not scope.unbound


@pytest.mark.parametrize(
    ("origins", "reason"),
    [
        ([], "the list is empty"),
        ((), "the list is empty"),
        (iter(()), "the list is empty"),
        (42, "expected a string, a URL or a list"),
        (object(), "expected a string, a URL or a list"),
        ([b"https://x.example"], "bytes"),
        (["https://x.example", None], "NoneType"),
        (["https://x.example", "ftp://y.example"], "scheme"),
        ("", "the scheme must be"),
    ],
)
def test_scope_rejects_bad_origins_naming_the_argument(origins: object, reason: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^origins: ") as caught:
        OriginScope(origins)  # type: ignore[arg-type]
    assert reason in str(caught.value)


def test_unbound_scope_admits_anything_until_bound() -> None:
    scope = OriginScope()
    assert scope.unbound
    assert scope.describe() == "None"
    assert scope.admits(URL("https://x.example/"))
    assert scope.admits(URL("http://y.example:8080/"))

    bound = scope.bind(URL("https://X.example:443/first/request?q=1"))

    assert bound == Origin("https", "x.example", 443)
    assert not scope.unbound
    assert scope.admits(URL("https://x.example/other/path"))
    assert not scope.admits(URL("http://y.example:8080/"))
    assert not scope.admits(URL("http://x.example/"))
    assert scope.describe() == "['https://x.example']"


def test_describe_lists_origins_then_prefixes() -> None:
    scope = OriginScope(["https://b.example", "http://a.example:81", "https://c.example/v1/"])
    assert (
        scope.describe() == "['http://a.example:81', 'https://b.example', 'https://c.example/v1']"
    )


# --- loopback and transport ---------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("localhost.", True),
        ("api.localhost", True),
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("0:0:0:0:0:0:0:1", True),
        (None, False),
        ("", False),
        ("0.0.0.0", False),  # noqa: S104 - a host to classify, not a bind
        ("10.0.0.1", False),
        ("::", False),
        ("example.com", False),
        ("localhost.example.com", False),
        ("notlocalhost", False),
        ("128.0.0.1", False),
    ],
)
def test_is_loopback_host(host: str | None, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(
    ("url", "secure"),
    [
        ("https://api.example.com/", True),
        ("wss://api.example.com/", True),
        ("https://127.0.0.1/", True),
        ("http://127.0.0.1:8080/", True),
        ("http://[::1]:8080/", True),
        ("http://localhost/", True),
        ("ws://localhost:8080/", True),
        ("http://api.example.com/", False),
        ("ws://api.example.com/", False),
        ("http://10.0.0.1/", False),
        ("http://192.168.1.10:8080/", False),
    ],
)
def test_secrets_travel_only_over_tls_or_to_loopback(url: str, secure: bool) -> None:
    assert is_secure_transport(URL(url)) is secure


# --- properties ---------------------------------------------------------------

_LABEL = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=10)
_HOSTS = st.one_of(
    st.lists(_LABEL, min_size=1, max_size=3).map(".".join),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
)
_SCHEMES = st.sampled_from(["http", "https", "ws", "wss"])
_PORTS = st.one_of(st.none(), st.integers(1, 65535))
_SEGMENT = st.text(string.ascii_letters + string.digits + "-_~", min_size=1, max_size=8)
_PATHS = st.lists(_SEGMENT, max_size=4).map(lambda segments: "/" + "/".join(segments))
_DEFAULT_PORT = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _origin_text(scheme: str, host: str, port: int | None) -> str:
    return f"{scheme}://{host}" + ("" if port is None else f":{port}")


@PROPERTY_SETTINGS
@given(st.text())
def test_any_text_parses_or_raises_configuration_error(text: str) -> None:
    try:
        origin, prefix = parse_origin(text)
    except ConfigurationError as exc:
        message = str(exc)
    else:
        assert origin.scheme in _DEFAULT_PORT
        assert 0 < origin.port < 65536
        assert prefix is None or prefix.startswith("/")
        return
    assert message.startswith("origins: ")


@PROPERTY_SETTINGS
@given(
    st.lists(
        st.sampled_from(["https://", "http://", "[", "]", "::1", ":", "@", "/", "?", "#", "%"])
        | st.text(max_size=3),
        max_size=8,
    ).map("".join)
)
def test_url_like_text_parses_or_raises_configuration_error(text: str) -> None:
    try:
        parse_origin(text)
    except ConfigurationError as exc:
        message = str(exc)
    else:
        return
    assert message.startswith("origins: ")


@PROPERTY_SETTINGS
@given(_SCHEMES, _HOSTS, _PORTS, _PATHS)
def test_scope_admits_every_path_of_its_origin(
    scheme: str, host: str, port: int | None, path: str
) -> None:
    origin = _origin_text(scheme, host, port)
    scope = OriginScope(origin)
    assert scope.admits(URL(origin + path))
    assert scope.admits(URL(_origin_text(scheme, host.upper(), port) + path))
    effective = _DEFAULT_PORT[scheme] if port is None else port
    assert scope.admits(URL(_origin_text(scheme, host, effective) + path))


@PROPERTY_SETTINGS
@given(_SCHEMES, _HOSTS, _PORTS, _PATHS, st.data())
def test_scope_refuses_another_host_port_or_scheme(
    scheme: str, host: str, port: int | None, path: str, data: st.DataObject
) -> None:
    scope = OriginScope(_origin_text(scheme, host, port))
    effective = _DEFAULT_PORT[scheme] if port is None else port

    other_port = data.draw(st.integers(1, 65535).filter(lambda p: p != effective))
    assert not scope.admits(URL(_origin_text(scheme, host, other_port) + path))

    other_scheme = data.draw(_SCHEMES.filter(lambda s: s != scheme))
    assert not scope.admits(URL(_origin_text(other_scheme, host, effective) + path))

    other_host = data.draw(_HOSTS)
    assume(URL(f"http://{other_host}").raw_host != URL(f"http://{host}").raw_host)
    assert not scope.admits(URL(_origin_text(scheme, other_host, port) + path))


@PROPERTY_SETTINGS
@given(
    st.lists(_SEGMENT, min_size=1, max_size=3),
    st.lists(_SEGMENT, max_size=3),
    _SEGMENT,
    st.booleans(),
)
def test_prefix_admits_whole_segments_only(
    prefix_segments: list[str], below: list[str], suffix: str, trailing_slash: bool
) -> None:
    prefix = "/" + "/".join(prefix_segments)
    scope = OriginScope("https://x.example" + prefix + ("/" if trailing_slash else ""))

    assert scope.admits(URL("https://x.example" + prefix))
    assert scope.admits(URL("https://x.example" + "/".join([prefix, *below])))
    # The same characters continuing the last segment name another resource.
    assert not scope.admits(URL("https://x.example" + prefix + suffix))
    assert not scope.admits(URL("https://y.example" + prefix))
    if len(prefix_segments) > 1:
        parent = "/" + "/".join(prefix_segments[:-1])
        assert not scope.admits(URL("https://x.example" + parent))
