"""The variants of ``run.py``'s throughput benchmark, and where each sends its requests.

A variant is one entry in :data:`VARIANTS`: a name and a factory that returns
the session's middlewares (or, for a reference that uses no middleware, a
mapping of other ``ClientSession`` keyword arguments). A variant that needs
another server route also gets an entry in :data:`ROUTES`; the Digest pairs
are added by :func:`add_digest_pair`, which registers ours and aiohttp's with
a route each and records them in :data:`DIGEST_PAIRS` for the direct
comparison. :data:`CATALOGUE` holds the four tables together: it is what
``run.py`` measures, and ``digest_before_after.py`` hands it another one.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import aiohttp
from aiohttp.client_middlewares import ClientHandlerType, ClientMiddlewareType
from digest_references import HeaderOnlyDigest, PrecomputedDigest
from server import DIGEST_LOGIN, DIGEST_PASSWORD

import aiohttp_auth as aa

TOKEN = "bench-token-0123456789abcdef0123456789abcdef"
API_KEY = "bench-key-0123456789abcdef"

#: What a variant's factory returns: the session's middlewares, or, for a
#: reference that uses none, other ``ClientSession`` keyword arguments.
SessionSetup = tuple[ClientMiddlewareType, ...] | Mapping[str, Any]
VariantFactory = Callable[[], SessionSetup]


async def _noop_middleware(
    request: aiohttp.ClientRequest, handler: ClientHandlerType
) -> aiohttp.ClientResponse:
    # The cheapest middleware aiohttp allows: the floor any middleware pays.
    return await handler(request)


def _token() -> str:
    return TOKEN


BASELINE = "bare aiohttp"

#: name -> factory of the session's middlewares. Adding a variant is adding an
#: entry; a factory is called once per measurement, so state is never shared.
VARIANTS: dict[str, VariantFactory] = {
    BASELINE: lambda: (),
    # Measured like any variant: how far apart two identical sessions land is
    # the noise floor of the run.
    "bare aiohttp (A/A)": lambda: (),
    # The floor any middleware pays in aiohttp (a chain is built per request).
    "no-op middleware": lambda: (_noop_middleware,),
    # The same credential with no middleware: what sending it costs by itself.
    "header, no middleware": lambda: {"headers": {"Authorization": f"Bearer {TOKEN}"}},
    "Bearer (static)": lambda: (aa.BearerAuthMiddleware(TOKEN),),
    "Bearer (callable)": lambda: (aa.BearerAuthMiddleware(_token),),
    "Basic": lambda: (aa.BasicAuthMiddleware("bench-user", "bench-password"),),
    "API key (header)": lambda: (aa.ApiKeyMiddleware(API_KEY),),
    "API key (query)": lambda: (aa.ApiKeyMiddleware(API_KEY, query_param="api_key"),),
}


class DigestRoute(NamedTuple):
    """Where a Digest variant sends its requests on the benchmark server."""

    algorithm: str
    tag: str  # the server counts 401s per tag: one per variant
    verified: bool = False

    def path(self, *, verified: bool | None = None, suffix: str = "") -> str:
        kind = "verified-digest" if (self.verified if verified is None else verified) else "digest"
        return f"/{kind}/{self.algorithm}/{self.tag}{suffix}"


#: name -> the server route of a variant that does not request ``/``.
ROUTES: dict[str, DigestRoute] = {}
#: label -> (ours, aiohttp's): the Digest variants compared with each other.
DIGEST_PAIRS: dict[str, tuple[str, str]] = {}
DIGEST_OURS = "aiohttp_auth"
DIGEST_THEIRS = "aiohttp"


def add_digest_pair(algorithm: str, *, verified: bool = False) -> None:
    """Add ours and aiohttp's Digest middleware, on the same route, as a compared pair."""
    label = f"{algorithm}, verifying server" if verified else algorithm
    factories: dict[str, VariantFactory] = {
        DIGEST_OURS: lambda: (aa.DigestAuthMiddleware(DIGEST_LOGIN, DIGEST_PASSWORD),),
        DIGEST_THEIRS: lambda: (
            aiohttp.DigestAuthMiddleware(DIGEST_LOGIN, DIGEST_PASSWORD, preemptive=True),
        ),
    }
    names = []
    for library, factory in factories.items():
        name = f"Digest {label} ({library})"
        tag = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        VARIANTS[name] = factory
        ROUTES[name] = DigestRoute(algorithm, tag, verified)
        names.append(name)
    DIGEST_PAIRS[label] = (names[0], names[1])


# Against a server that never verifies: the clients' cost, SHA-256 and MD5
# (aiohttp's default). Then a sanity pair against a server that verifies.
add_digest_pair("SHA-256")
add_digest_pair("MD5")
add_digest_pair("SHA-256", verified=True)

# Two references that split the cost of a Digest middleware: carrying a
# Digest-sized header (precomputed), and computing it (header only); what ours
# costs beyond the second is its own logic. Against aiohttp's middleware, each
# is a reference pair, not held to the target.
DIGEST_FLOOR = "Digest SHA-256, precomputed header"
DIGEST_HEADER_ONLY = "Digest SHA-256, header only"
VARIANTS[DIGEST_FLOOR] = lambda: (PrecomputedDigest("SHA-256"),)
VARIANTS[DIGEST_HEADER_ONLY] = lambda: (HeaderOnlyDigest("SHA-256"),)
ROUTES[DIGEST_FLOOR] = DigestRoute("SHA-256", "precomputed")
ROUTES[DIGEST_HEADER_ONLY] = DigestRoute("SHA-256", "header-only")
DIGEST_PAIRS["SHA-256, header only"] = (DIGEST_HEADER_ONLY, DIGEST_PAIRS["SHA-256"][1])
DIGEST_PAIRS["SHA-256, precomputed header"] = (DIGEST_FLOOR, DIGEST_PAIRS["SHA-256"][1])

#: Reference rows: not subject to the 3 % target.
REFERENCES = frozenset(
    {
        BASELINE,
        "bare aiohttp (A/A)",
        "no-op middleware",
        "header, no middleware",
        DIGEST_FLOOR,
        DIGEST_HEADER_ONLY,
    }
)
OVERHEAD_TARGET = 0.97
#: Digest: ours must reach this many times aiohttp's throughput.
DIGEST_TARGET = 1.1


@dataclasses.dataclass(frozen=True)
class Catalogue:
    """The variants a run measures, with their routes, Digest pairs and reference rows."""

    variants: Mapping[str, VariantFactory]
    routes: Mapping[str, DigestRoute]
    digest_pairs: Mapping[str, tuple[str, str]]
    references: frozenset[str]

    def url(self, base: str, name: str) -> str:
        """The URL a variant's timed requests go to."""
        route = self.routes.get(name)
        return f"{base}{route.path()}" if route else f"{base}/"

    def check_url(self, base: str, name: str) -> str:
        """The URL that shows what a variant sends: Digest answers are verified there."""
        route = self.routes.get(name)
        return f"{base}{route.path(verified=True)}" if route else f"{base}/check"

    def select(self, only: list[str] | None) -> Catalogue:
        """Keep the variants whose name contains one of *only* (and every reference row).

        The Digest pairs kept are those whose two members both run.
        """
        variants = dict(self.variants)
        if only:
            wanted = [word.lower() for word in only]
            variants = {
                name: factory
                for name, factory in self.variants.items()
                if name in self.references or any(word in name.lower() for word in wanted)
            }
            if len(variants) == len(self.references):
                raise SystemExit(
                    f"--only {' '.join(only)}: no variant matches; have {list(self.variants)}"
                )
        return Catalogue(
            variants,
            {name: route for name, route in self.routes.items() if name in variants},
            {
                label: pair
                for label, pair in self.digest_pairs.items()
                if pair[0] in variants and pair[1] in variants
            },
            self.references,
        )


#: Every variant ``run.py`` knows.
CATALOGUE = Catalogue(VARIANTS, ROUTES, DIGEST_PAIRS, REFERENCES)


def is_chain(factory: VariantFactory) -> bool:
    """Tell whether a variant is a middleware chain (the rest are session options)."""
    return isinstance(factory(), tuple)


def sends_credential(setup: SessionSetup) -> bool:
    """Tell whether a variant's session sends a credential: what the server must see."""
    if isinstance(setup, tuple):
        return any(
            isinstance(
                mw,
                (
                    aa.AuthMiddleware,
                    aiohttp.DigestAuthMiddleware,
                    PrecomputedDigest,
                    HeaderOnlyDigest,
                ),
            )
            for mw in setup
        )
    return bool(setup.get("headers") or setup.get("auth"))
