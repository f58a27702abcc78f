"""The RFC 9421-verifying test server: what it accepts, and why it refuses the rest.

Requests are signed by the package's HTTPSignatureMiddleware; a second
middleware after it changes the body in transit where a test needs a
tampered request. Every test talks to a real server on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import hdrs
from cryptography.hazmat.primitives.asymmetric import ed25519

from aiohttp_auth.errors import ConfigurationError
from aiohttp_auth.signing import HTTPSignatureMiddleware
from aiohttp_auth.testing import LocalServer, ResourceConfig, resource_app
from aiohttp_auth.testing.signing import HTTPSIG_CONFIG, HTTPSigConfig, httpsig_app

PRIVATE_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
HMAC_SECRET = b"a shared secret of 32 bytes ...."
NOW = 1_700_000_000
TIMEOUT = aiohttp.ClientTimeout(total=10)


def at(when: float) -> Callable[[], float]:
    return lambda: when


def ed25519_signing(**kwargs: Any) -> HTTPSignatureMiddleware:
    return HTTPSignatureMiddleware(
        "ed-key", PRIVATE_KEY, algorithm="ed25519", clock=at(NOW), **kwargs
    )


async def tamper(request: aiohttp.ClientRequest, handler: Any) -> aiohttp.ClientResponse:
    """A middleware after the signer: the body changes in transit."""
    request.body = body = b'{"amount": 1000000}'
    # aiohttp 3.12.0 keeps the old Content-Length, and would send the new body cut.
    request.headers[hdrs.CONTENT_LENGTH] = str(len(body))
    return await handler(request)  # type: ignore[no-any-return]


@dataclass
class Reply:
    status: int
    json: dict[str, Any]


@dataclass
class Site:
    server: LocalServer
    config: HTTPSigConfig

    async def send(
        self, method: str, path: str, *middlewares: aiohttp.ClientMiddlewareType, **kwargs: Any
    ) -> Reply:
        async with (
            aiohttp.ClientSession(middlewares=middlewares, timeout=TIMEOUT) as session,
            session.request(method, self.server.make_url(path), **kwargs) as response,
        ):
            return Reply(response.status, json.loads(await response.read()))


SiteFactory = Callable[..., Awaitable[Site]]


@pytest.fixture
async def serve() -> AsyncIterator[SiteFactory]:
    """Return ``await serve(**settings)``: a server knowing ed-key and hmac-key, at NOW."""
    async with AsyncExitStack() as stack:

        async def make(**settings: Any) -> Site:
            keys = {"ed-key": PRIVATE_KEY.public_key(), "hmac-key": HMAC_SECRET}
            config = HTTPSigConfig(**({"keys": keys, "clock": at(NOW)} | settings))
            server = await stack.enter_async_context(LocalServer(httpsig_app(config)))
            return Site(server, config)

        yield make


@pytest.fixture
async def site(serve: SiteFactory) -> Site:
    return await serve()


async def test_an_ed25519_signed_post_with_content_digest_is_verified(site: Site) -> None:
    reply = await site.send("POST", "/hooks/orders?v=2", ed25519_signing(), json={"id": 7})

    assert reply.status == 200
    assert reply.json["key_id"] == "ed-key"
    assert reply.json["algorithm"] == "ed25519"
    assert reply.json["components"] == ["@method", "@authority", "@path", "content-digest"]
    assert reply.json["body_verified"] is True
    assert reply.json["query"] == {"v": "2"}
    assert site.config.accepted == 1
    assert site.config.verified[0].created == NOW


async def test_an_hmac_signed_get_without_a_body_need_not_cover_the_digest(site: Site) -> None:
    signing = HTTPSignatureMiddleware(
        "hmac-key",
        HMAC_SECRET,
        algorithm="hmac-sha256",
        components=("@method", "@authority", "@path", "@query"),
        clock=at(NOW),
    )

    reply = await site.send("GET", "/status?verbose=1", signing)

    assert reply.status == 200
    assert (reply.json["algorithm"], reply.json["body_verified"]) == ("hmac-sha256", False)


async def test_an_unsigned_request_is_401(site: Site) -> None:
    reply = await site.send("POST", "/hooks", data=b"{}")

    assert reply.status == 401
    assert reply.json == {"error": "unsigned", "reason": "the request has no Signature-Input"}
    assert site.config.rejected == {"unsigned": 1}


async def test_a_body_changed_in_transit_is_refused(site: Site) -> None:
    reply = await site.send("POST", "/hooks", ed25519_signing(), tamper, json={"amount": 1})

    assert reply.status == 403
    assert reply.json["error"] == "invalid_signature"
    assert "does not match the body" in reply.json["reason"]
    assert site.config.accepted == 0
    assert site.config.statuses == [403]


@pytest.mark.parametrize(
    ("settings", "signing", "reason"),
    [
        ({"keys": {}}, {}, "unknown keyid"),
        ({"algorithm": "ecdsa-p256-sha256"}, {}, "ed25519"),
        ({"clock": at(NOW + 306)}, {}, "more than max_age"),
        ({"tag": "orders"}, {}, "tag='orders'"),
        ({}, {"components": ("@method", "@authority", "@path")}, "does not cover content-digest"),
        ({"required_components": ("@method", "@target-uri")}, {}, "@target-uri"),
    ],
    ids=["unknown key", "pinned algorithm", "too old", "tag", "body not covered", "required"],
)
async def test_signatures_the_policy_does_not_accept_are_refused(
    serve: SiteFactory, settings: dict[str, Any], signing: dict[str, Any], reason: str
) -> None:
    site = await serve(**settings)

    reply = await site.send("POST", "/hooks", ed25519_signing(**signing), data=b"{}")

    assert reply.status == 403
    assert reason in reply.json["reason"]
    assert site.config.rejected == {"invalid_signature": 1}
    assert site.config.rejections == [reply.json["reason"]]


async def test_without_requiring_the_digest_an_uncovered_body_is_accepted(
    serve: SiteFactory,
) -> None:
    site = await serve(require_content_digest=False)
    signing = ed25519_signing(components=("@method", "@authority", "@path"))

    reply = await site.send("POST", "/hooks", signing, data=b"{}")

    assert (reply.status, reply.json["body_verified"]) == (200, False)


async def test_without_requiring_the_digest_a_covered_one_is_still_checked(
    serve: SiteFactory,
) -> None:
    site = await serve(require_content_digest=False)

    intact = await site.send("POST", "/hooks", ed25519_signing(), data=b"{}")
    tampered = await site.send("POST", "/hooks", ed25519_signing(), tamper, data=b"{}")

    assert (intact.status, intact.json["body_verified"]) == (200, True)
    assert tampered.status == 403
    assert "does not match the body" in tampered.json["reason"]


async def test_a_redirect_to_another_origin_carries_no_signature(site: Site) -> None:
    other = ResourceConfig()
    async with LocalServer(resource_app(other)) as other_server:
        target = str(other_server.make_url("/echo/landing"))
        reply = await site.send("GET", f"/redirect?to={target}", ed25519_signing())

    assert reply.status == 200
    assert site.config.statuses == [302]
    (landed,) = other.requests
    assert {"signature", "signature-input", "content-digest"}.isdisjoint(
        name.lower() for name in landed.headers
    )


async def test_a_redirect_without_a_target_is_a_bad_request(site: Site) -> None:
    async with (
        aiohttp.ClientSession(middlewares=(ed25519_signing(),), timeout=TIMEOUT) as session,
        session.get(site.server.make_url("/redirect")) as response,
    ):
        assert response.status == 400

    assert (site.config.accepted, site.config.statuses) == (1, [400])


@pytest.mark.parametrize(
    "settings",
    [{"algorithm": "md5"}, {"required_components": ("@nonsense",)}, {"max_age": -1}],
    ids=["algorithm", "component", "max_age"],
)
def test_invalid_settings_are_refused(settings: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        HTTPSigConfig(**settings)
    config = HTTPSigConfig()
    for name, value in settings.items():
        setattr(config, name, value)
    with pytest.raises(ConfigurationError):
        httpsig_app(config)


async def test_reset_clears_the_records_and_repr_hides_the_keys(site: Site) -> None:
    await site.send("POST", "/hooks", ed25519_signing(), data=b"{}")
    await site.send("POST", "/hooks", data=b"{}")

    site.config.reset()

    assert (site.config.accepted, site.config.rejected, site.config.rejections) == (0, {}, [])
    assert (site.config.verified, site.config.requests, site.config.statuses) == ([], [], [])
    assert "hmac-key" in site.config.keys
    assert "shared secret" not in repr(site.config)


def test_the_app_holds_its_config_under_httpsig_config() -> None:
    config = HTTPSigConfig()

    assert httpsig_app(config)[HTTPSIG_CONFIG] is config


async def test_a_default_app_knows_no_key() -> None:
    async with LocalServer(httpsig_app()) as server:
        signing = HTTPSignatureMiddleware("ed-key", PRIVATE_KEY, algorithm="ed25519")
        reply = await Site(server, HTTPSigConfig()).send("GET", "/", signing)

    assert reply.status == 403
    assert "unknown keyid" in reply.json["reason"]


async def test_the_plugin_fixtures_serve_a_fresh_config(
    httpsig_config: HTTPSigConfig,
    httpsig_server: LocalServer,
) -> None:
    httpsig_config.keys["ed-key"] = PRIVATE_KEY.public_key()
    signing = HTTPSignatureMiddleware("ed-key", PRIVATE_KEY, algorithm="ed25519")

    reply = await Site(httpsig_server, httpsig_config).send("PUT", "/doc", signing, data=b"x")

    assert reply.status == 200
    assert httpsig_config.accepted == 1
