"""HMACSigner against published examples, and HMACHeadersMiddleware against a verifier.

Published examples:

- RFC 4231 §4.3 (test case 2), HMAC-SHA-256 and HMAC-SHA-512, hex;
- Kraken's Spot REST authentication example
  (https://docs.kraken.com/api/docs/guides/spot-rest-auth): HMAC-SHA-512 with
  a base64 key over the URI path and SHA-256(nonce + POST data), base64;
- Binance's SIGNED endpoint example (HMAC)
  (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security):
  HMAC-SHA-256 of the query string with the key as text, hex.

The middleware is checked with the docs' recipe, Coinbase Prime's REST
authentication (https://docs.cdp.coinbase.com/prime/rest-api/authentication),
against a local server that verifies the signature as that page describes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import logging
from collections.abc import AsyncIterator, Mapping

import aiohttp
import pytest
from aiohttp import web
from peers import NameResolver

from aiohttp_auth.errors import ConfigurationError, InsecureTransportError, SigningError
from aiohttp_auth.signing.hmac_fields import HMACSigner
from aiohttp_auth.signing.hmac_middleware import HMACHeadersMiddleware, SignableRequest
from aiohttp_auth.testing import LocalServer, ResourceConfig, resource_app

# RFC 4231 §4.3: Key = "Jefe", Data = "what do ya want for nothing?".
RFC4231_SHA256 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
RFC4231_SHA512 = (
    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
)
KRAKEN_KEY = (
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
)
KRAKEN_NONCE = "1616492376594"
KRAKEN_PAYLOAD = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
KRAKEN_API_SIGN = (
    "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
)
BINANCE_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
BINANCE_QUERY = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
    "&recvWindow=5000&timestamp=1499827319559"
)
BINANCE_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
#: aiohttp 3.12.0 cannot give a file or streaming body to sign; 3.12.1 added Payload.as_bytes().
HAS_AS_BYTES = hasattr(aiohttp.payload.Payload, "as_bytes")
needs_as_bytes = pytest.mark.skipif(
    not HAS_AS_BYTES, reason="aiohttp < 3.12.1 cannot read a file or stream body to sign"
)


@pytest.mark.parametrize(
    ("digest", "expected"), [("sha256", RFC4231_SHA256), ("sha512", RFC4231_SHA512)]
)
def test_rfc4231_test_case_2_with_the_data_as_fields(digest: str, expected: str) -> None:
    signer = HMACSigner("Jefe", digest=digest)
    assert signer.sign("what do ya", "want for nothing?", sep=" ") == expected
    assert signer.sign(b"what do ya want", b" for nothing?") == expected
    assert signer.digest("what do ya", b"want for nothing?", sep=b" ").hex() == expected


def test_kraken_published_example() -> None:
    signer = HMACSigner.from_base64(KRAKEN_KEY, digest="sha512", encoding="base64")
    inner = hashlib.sha256((KRAKEN_NONCE + KRAKEN_PAYLOAD).encode()).digest()
    assert signer.sign("/0/private/AddOrder", inner) == KRAKEN_API_SIGN


def test_binance_published_example() -> None:
    assert HMACSigner(BINANCE_SECRET).sign(BINANCE_QUERY) == BINANCE_SIGNATURE


def test_int_fields_are_signed_in_decimal() -> None:
    signer = HMACSigner(b"key")
    assert signer.sign(1700000000, "GET", -5) == signer.sign("1700000000", "GET", "-5")


@pytest.mark.parametrize("bad", [1.5, True, None, ["a"]], ids=repr)
def test_a_field_that_is_not_str_bytes_or_int_raises_signing_error(bad: object) -> None:
    with pytest.raises(SigningError, match="field 1 is a"):
        HMACSigner(b"key").sign("ok", bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((b"",), {}, "key is empty"),
        (("",), {}, "key is empty"),
        ((None,), {}, "key must be bytes or str"),
        ((b"k",), {"digest": "sha-999"}, "not a hash this Python provides"),
        ((b"k",), {"digest": 256}, "not a hash this Python provides"),
        ((b"k",), {"encoding": "base32"}, "encoding must be"),
    ],
)
def test_bad_signer_arguments_raise_configuration_error(
    args: tuple, kwargs: dict, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        HMACSigner(*args, **kwargs)


@pytest.mark.parametrize("bad", ["not base64!", "QUJ", "é", 42])
def test_from_base64_rejects_what_is_not_base64_without_showing_it(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="not valid base64") as caught:
        HMACSigner.from_base64(bad)  # type: ignore[arg-type]
    if isinstance(bad, str):
        assert bad not in str(caught.value)


def test_repr_shows_no_key() -> None:
    signer = HMACSigner("s3cr3t-value", digest="sha512", encoding="base64")
    assert (
        repr(signer) == "HMACSigner(key=<redacted 12 chars>, digest='sha512', encoding='base64')"
    )
    assert "32 bytes" in repr(HMACSigner(bytes(32)))
    assert (signer.digest_name, signer.encoding) == ("sha512", "base64")


def test_signable_request_path_qs() -> None:
    assert SignableRequest("GET", "/a", "b=1").path_qs == "/a?b=1"
    assert SignableRequest("GET", "/a").path_qs == "/a"


# The docs' recipe: Coinbase Prime's REST authentication.
ACCESS_KEY = "prime-access-key"
PASSPHRASE = "prime-passphrase"
SECRET = "prime-secret-used-as-text"


def coinbase_prime(secret: str = SECRET) -> HMACHeadersMiddleware:
    signer = HMACSigner(secret, encoding="base64")

    def headers_for(request: SignableRequest) -> dict[str, str]:
        timestamp = str(int(request.timestamp))
        return {
            "X-CB-ACCESS-KEY": ACCESS_KEY,
            "X-CB-ACCESS-PASSPHRASE": PASSPHRASE,
            "X-CB-ACCESS-TIMESTAMP": timestamp,
            "X-CB-ACCESS-SIGNATURE": signer.sign(
                timestamp, request.method, request.path, request.body
            ),
        }

    return HMACHeadersMiddleware(headers_for)


async def _prime_verifier(request: web.Request) -> web.Response:
    """Check a request as Coinbase Prime's authentication page describes (stdlib only)."""
    body = await request.read()
    headers = request.headers
    timestamp = headers.get("X-CB-ACCESS-TIMESTAMP", "")
    message = f"{timestamp}{request.method}{request.path}".encode() + body
    expected = base64.b64encode(hmac.new(SECRET.encode(), message, hashlib.sha256).digest())
    ok = (
        headers.get("X-CB-ACCESS-KEY") == ACCESS_KEY
        and headers.get("X-CB-ACCESS-PASSPHRASE") == PASSPHRASE
        and timestamp.isdigit()
        and hmac.compare_digest(headers.get("X-CB-ACCESS-SIGNATURE", "").encode(), expected)
    )
    status = 200 if ok else 401
    return web.json_response({"body": body.decode(errors="replace")}, status=status)


@pytest.fixture
async def prime() -> AsyncIterator[LocalServer]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _prime_verifier)
    async with LocalServer(app) as server:
        yield server


async def _stream() -> AsyncIterator[bytes]:
    for chunk in (b'{"side":', b'"buy"}'):
        yield chunk


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("GET", {}),
        ("GET", {"params": {"order_type": "LIMIT"}}),
        ("POST", {"json": {"product_id": "BTC-USD", "side": "BUY"}}),
        ("POST", {"data": "h\u00e9llo"}),
        pytest.param("PUT", {"data": io.BytesIO(b"file body")}, marks=needs_as_bytes),
        pytest.param("POST", {"data": "stream"}, marks=needs_as_bytes),
        ("DELETE", {}),
    ],
    ids=["get", "get-query", "post-json", "post-str", "put-file", "post-stream", "delete"],
)
async def test_coinbase_prime_recipe_is_accepted(
    prime: LocalServer, method: str, kwargs: dict
) -> None:
    if kwargs.get("data") == "stream":
        kwargs = {"data": _stream()}
    async with (
        aiohttp.ClientSession(middlewares=(coinbase_prime(),)) as session,
        session.request(method, prime.make_url("/v1/portfolios/p-1/orders"), **kwargs) as resp,
    ):
        assert resp.status == 200, await resp.text()


async def test_coinbase_prime_recipe_with_a_wrong_secret_is_refused(prime: LocalServer) -> None:
    async with (
        aiohttp.ClientSession(middlewares=(coinbase_prime("wrong"),)) as session,
        session.post(prime.make_url("/v1/orders"), json={"a": 1}) as response,
    ):
        assert response.status == 401


@needs_as_bytes
async def test_streaming_body_is_sent_as_signed(prime: LocalServer) -> None:
    async with (
        aiohttp.ClientSession(middlewares=(coinbase_prime(),)) as session,
        session.post(prime.make_url("/v1/orders"), data=_stream()) as response,
    ):
        assert response.status == 200
        assert (await response.json())["body"] == '{"side":"buy"}'


async def test_headers_function_sees_every_part_of_the_request() -> None:
    seen: list[SignableRequest] = []

    def headers_for(request: SignableRequest) -> Mapping[str, str]:
        seen.append(request)
        return {}

    config = ResourceConfig()
    middleware = HMACHeadersMiddleware(headers_for, clock=lambda: 1234.5)
    async with LocalServer(resource_app(config)) as server:
        url = server.make_url("/echo/a%20b").with_query(q="x y")
        async with (
            aiohttp.ClientSession(middlewares=(middleware,)) as session,
            session.put(url, data=b"payload", headers={"X-Trace": "t"}) as response,
        ):
            assert response.status == 200
    (request,) = seen
    assert (request.method, request.path, request.query) == ("PUT", "/echo/a%20b", "q=x+y")
    assert (request.body, request.timestamp, request.path_qs) == (
        b"payload",
        1234.5,
        "/echo/a%20b?q=x+y",
    )
    assert request.headers["x-trace"] == "t"


async def test_redirect_to_other_origin_carries_no_signed_headers() -> None:
    first, second = ResourceConfig(), ResourceConfig()

    def headers_for(request: SignableRequest) -> dict[str, str]:
        return {"X-Api-Key": ACCESS_KEY, "X-Signature": HMACSigner(SECRET).sign(request.path)}

    async with LocalServer(resource_app(first)) as a, LocalServer(resource_app(second)) as b:
        middleware = HMACHeadersMiddleware(headers_for, origins=str(a.make_url("/").origin()))
        params = {"to": str(b.make_url("/echo")), "status": "307"}
        async with (
            aiohttp.ClientSession(middlewares=(middleware,)) as session,
            session.post(a.make_url("/redirect"), params=params, data=b"x") as response,
        ):
            assert response.status == 200
    assert first.requests[0].headers["X-Api-Key"] == ACCESS_KEY
    (redirected,) = second.requests
    assert ACCESS_KEY not in redirected.raw()
    assert "X-Signature" not in redirected.headers


async def test_plain_http_to_a_remote_host_is_refused_unless_allowed() -> None:
    config = ResourceConfig()
    async with LocalServer(resource_app(config)) as server:
        url = server.make_url("/echo").with_host("api.test")
        for allow_http in (False, True):
            middleware = HMACHeadersMiddleware(lambda r: {"X-Key": "k"}, allow_http=allow_http)
            connector = aiohttp.TCPConnector(resolver=NameResolver())
            async with aiohttp.ClientSession(
                middlewares=(middleware,), connector=connector
            ) as session:
                if not allow_http:
                    with pytest.raises(InsecureTransportError):
                        await session.get(url)
                    continue
                async with session.get(url) as response:
                    assert response.status == 200
    (received,) = config.requests
    assert received.headers["X-Key"] == "k"


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ([("X-Key", "v")], "returned a list"),
        ({"X Key": "v"}, "invalid header name"),
        ({1: "v"}, "invalid header name"),
        ({"X-Key": 5}, "returned a int for X-Key"),
        ({"X-Key": "a\r\nInjected: 1"}, "without line breaks"),
    ],
)
async def test_bad_headers_function_results_raise_signing_error(
    returned: object, message: str
) -> None:
    config = ResourceConfig()
    middleware = HMACHeadersMiddleware(lambda request: returned)  # type: ignore[arg-type,return-value]
    async with (
        LocalServer(resource_app(config)) as server,
        aiohttp.ClientSession(middlewares=(middleware,)) as session,
    ):
        with pytest.raises(SigningError, match=message) as caught:
            await session.get(server.make_url("/echo"))
    assert "Injected" not in str(caught.value)
    assert config.requests == []


async def test_compressed_body_cannot_be_signed() -> None:
    middleware = HMACHeadersMiddleware(lambda request: {})
    async with (
        LocalServer(resource_app()) as server,
        aiohttp.ClientSession(middlewares=(middleware,)) as session,
    ):
        with pytest.raises(SigningError, match="compress"):
            await session.post(server.make_url("/echo"), data=b"x" * 64, compress="deflate")


@pytest.mark.usefixtures("without_as_bytes")
async def test_streaming_body_on_aiohttp_3_12_0_is_refused_not_sent_unsigned(
    prime: LocalServer,
) -> None:
    async with aiohttp.ClientSession(middlewares=(coinbase_prime(),)) as session:
        with pytest.raises(SigningError, match=r"3\.12\.1"):
            await session.post(prime.make_url("/v1/orders"), data=_stream())


def test_headers_for_must_be_callable() -> None:
    with pytest.raises(ConfigurationError, match="headers_for"):
        HMACHeadersMiddleware("not a function")  # type: ignore[arg-type]


async def test_repr_and_logs_never_show_what_the_function_returns(
    prime: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    middleware = coinbase_prime()
    async with (
        aiohttp.ClientSession(middlewares=(middleware,)) as session,
        session.get(prime.make_url("/v1/portfolios")) as response,
    ):
        assert response.status == 200
    text = repr(middleware) + caplog.text
    assert "headers_for=coinbase_prime.<locals>.headers_for" in repr(middleware)
    for secret in (SECRET, PASSPHRASE, json.dumps(SECRET)):
        assert secret not in text
