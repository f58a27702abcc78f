"""Authorization server metadata (RFC 8414 §2, §3), sans-IO: no aiohttp here.

[`metadata_urls`][] says where an issuer's document lives;
[`ServerMetadata.from_json`][] validates one, above all that it names the very
issuer it was fetched for (RFC 8414 §3.3); [`ServerMetadata.make_grant`][]
builds a grant from it. [`discover`][aiohttp_auth.oauth2.discovery.discover]
does the fetching; every name here is importable from
[`aiohttp_auth.oauth2.discovery`][aiohttp_auth.oauth2.discovery] too.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, TypeVar

from .._redact import logger, safe_url
from ..errors import ConfigurationError, TokenError
from . import _metadata_validation as validation
from .client_auth import ClientAuthMethod
from .grants_base import Grant

__all__ = ["OAUTH_SUFFIX", "OPENID_SUFFIX", "ServerMetadata", "metadata_urls"]

OAUTH_SUFFIX: Final = "oauth-authorization-server"
"""RFC 8414 §3 well-known URI suffix."""
OPENID_SUFFIX: Final = "openid-configuration"
"""OpenID Connect Discovery 1.0 §4 well-known URI suffix."""

# Metadata name -> the grant argument it fills (see ServerMetadata.make_grant).
_GRANT_ENDPOINTS: Final = {
    "token_url": "token_endpoint",
    "authorization_url": "authorization_endpoint",
    "device_authorization_url": "device_authorization_endpoint",
}
# What each kind of client credential allows, in order of preference: a
# signature proves possession without sending the key; Basic is RFC 6749
# §2.3.1's MUST-support method; a secret in the form is the fallback.
_PREFERRED_WITH_KEY: Final[tuple[ClientAuthMethod, ...]] = ("private_key_jwt",)
_PREFERRED_WITH_SECRET: Final[tuple[ClientAuthMethod, ...]] = (
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
)
_PREFERRED_WITHOUT_CREDENTIALS: Final[tuple[ClientAuthMethod, ...]] = (
    "none",
    "tls_client_auth",
    "self_signed_tls_client_auth",
)

G = TypeVar("G", bound=Grant)


def metadata_urls(
    issuer: str, *, openid: bool | None = None, allow_http: bool = False
) -> list[str]:
    """Return the URLs of *issuer*'s metadata document, in the order to try them.

    RFC 8414 §3.1 inserts the well-known suffix between the host and the
    issuer's path (``https://as.example/tenant`` ->
    ``https://as.example/.well-known/oauth-authorization-server/tenant``);
    OpenID Connect Discovery 1.0 §4 appends it
    (``https://as.example/tenant/.well-known/openid-configuration``). RFC
    8414 §5 says to try the inserted form first and fall back to the other.
    For an issuer without a path both forms are the same URL, listed once.

    Args:
        issuer: the issuer identifier, e.g. ``https://auth.example.com``.
        openid: None (the default) for RFC 8414 first, then OpenID Connect;
            True for OpenID Connect only; False for RFC 8414 only.
        allow_http: allow a plain http issuer that is not a loopback host.

    Raises:
        ConfigurationError: *issuer* is not an https URL, or has a query,
            fragment or user info (RFC 8414 §2).
    """
    url = validation.check_issuer(issuer, allow_http=allow_http)
    if openid is not None and not isinstance(openid, bool):
        raise ConfigurationError(f"openid: expected True, False or None, got {openid!r}")
    # RFC 8414 §3.1 and OIDC Discovery §4: a terminating "/" is removed first.
    path = url.raw_path.rstrip("/")
    origin = str(url.origin())
    urls = []
    if openid is not True:
        urls.append(f"{origin}/.well-known/{OAUTH_SUFFIX}{path}")
    if openid is not False:
        urls.append(f"{origin}/.well-known/{OPENID_SUFFIX}{path}")
        urls.append(f"{origin}{path}/.well-known/{OPENID_SUFFIX}")
    return list(dict.fromkeys(urls))


@dataclass(frozen=True)
class ServerMetadata:
    """What an authorization server says about itself (RFC 8414 §2).

    Build it with [`from_json`][aiohttp_auth.oauth2.discovery.ServerMetadata.from_json]
    (or [`discover`][aiohttp_auth.oauth2.discovery.discover]), which validates
    the document; the constructor trusts its arguments.

    Attributes:
        issuer: the issuer identifier, identical to the one asked for.
        token_endpoint: the token endpoint (RFC 6749 §3.2).
        authorization_endpoint: the authorization endpoint (RFC 6749 §3.1).
        device_authorization_endpoint: RFC 8628 §4.
        revocation_endpoint: RFC 7009 (see [`revoke`][aiohttp_auth.oauth2.revocation.revoke]).
        introspection_endpoint: RFC 7662.
        jwks_uri: the server's JWK Set (RFC 7517).
        grant_types_supported: None when not listed (RFC 8414 §2: then
            ``authorization_code`` and ``implicit``).
        token_endpoint_auth_methods_supported: None when not listed (then
            ``client_secret_basic``).
        code_challenge_methods_supported: PKCE methods (RFC 7636); None when
            not listed, which means the server may not support PKCE.
        scopes_supported: None when not listed.
        extra: every other member of the document, as received (read-only).
    """

    issuer: str
    token_endpoint: str
    authorization_endpoint: str | None = None
    device_authorization_endpoint: str | None = None
    revocation_endpoint: str | None = None
    introspection_endpoint: str | None = None
    jwks_uri: str | None = None
    grant_types_supported: tuple[str, ...] | None = None
    token_endpoint_auth_methods_supported: tuple[str, ...] | None = None
    code_challenge_methods_supported: tuple[str, ...] | None = None
    scopes_supported: tuple[str, ...] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))

    def __reduce__(self) -> tuple[Any, ...]:
        # The read-only mappingproxy cannot be pickled as it is.
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        fields["extra"] = dict(self.extra)
        return _rebuild, (fields,)

    @classmethod
    def from_json(
        cls,
        body: bytes | str,
        *,
        issuer: str,
        url: str | None = None,
        allow_http: bool = False,
    ) -> ServerMetadata:
        """Parse and validate a metadata document (RFC 8414 §3.2, §3.3).

        Args:
            body: the document, a JSON object.
            issuer: the issuer identifier the document was requested for.
            url: where it was fetched from, for messages.
            allow_http: accept plain http endpoints on hosts that are not
                loopback (RFC 8414 §2 requires https).

        Raises:
            ConfigurationError: *issuer* is not a valid issuer identifier.
            TokenError: the body is not a JSON object; its ``issuer`` is
                missing or not identical to *issuer* (a possible mix-up
                attack, RFC 8414 §3.3); ``token_endpoint`` is missing; an
                endpoint is not an https URL; a ``*_supported`` member is not
                an array of strings.
        """
        validation.check_issuer(issuer, allow_http=allow_http)
        where = f"The metadata at {safe_url(url)}" if url else f"The metadata of {issuer}"
        # surrogatepass: a lone surrogate in text reads as it does in bytes (json
        # decodes bytes so), not as a UnicodeEncodeError.
        raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        document = validation.decode_document(raw)
        if document is None:
            raise TokenError(
                f"{where} is not a JSON object ({len(raw)} bytes): check the issuer, which "
                "must be the server's issuer identifier"
            )
        return cls._from_document(document, issuer=issuer, where=where, allow_http=allow_http)

    @classmethod
    def _from_document(
        cls, document: Mapping[str, Any], *, issuer: str, where: str, allow_http: bool
    ) -> ServerMetadata:
        validation.check_named_issuer(document, issuer, where)
        endpoint = validation.endpoint_urls(document, where, allow_http)
        token_endpoint = endpoint["token_endpoint"]
        if token_endpoint is None:
            raise TokenError(
                f"{where} has no token_endpoint: this server offers no token endpoint "
                "(RFC 8414 §2), so no grant of this package can use it"
            )
        names = validation.name_lists(document, where)
        return cls(
            issuer=issuer,
            token_endpoint=token_endpoint,
            authorization_endpoint=endpoint["authorization_endpoint"],
            device_authorization_endpoint=endpoint["device_authorization_endpoint"],
            revocation_endpoint=endpoint["revocation_endpoint"],
            introspection_endpoint=endpoint["introspection_endpoint"],
            jwks_uri=endpoint["jwks_uri"],
            grant_types_supported=names["grant_types_supported"],
            token_endpoint_auth_methods_supported=names["token_endpoint_auth_methods_supported"],
            code_challenge_methods_supported=names["code_challenge_methods_supported"],
            scopes_supported=names["scopes_supported"],
            extra=validation.extra_members(document),
        )

    def client_auth_method(self, *, has_secret: bool, has_private_key: bool) -> ClientAuthMethod:
        """Choose how a client with these credentials authenticates to this server.

        With a private key ``private_key_jwt``; with a secret
        ``client_secret_basic``, else ``client_secret_post``, else
        ``client_secret_jwt``; with neither ``none``, else the mutual TLS
        methods (RFC 8705; the certificate comes from the session's ``ssl``
        context). The first that ``token_endpoint_auth_methods_supported``
        lists wins; when the server lists nothing, the first of each kind.

        Raises:
            ConfigurationError: the server lists none of the methods these
                credentials allow.
        """
        if has_private_key:
            candidates = _PREFERRED_WITH_KEY
        elif has_secret:
            candidates = _PREFERRED_WITH_SECRET
        else:
            candidates = _PREFERRED_WITHOUT_CREDENTIALS
        supported = self.token_endpoint_auth_methods_supported
        if supported is None:
            # Unlisted: RFC 8414 §2 implies client_secret_basic, but servers
            # often omit the member; go by the credentials the caller has.
            return candidates[0]
        for method in candidates:
            if method in supported:
                return method
        given = "a private key" if has_private_key else "a secret" if has_secret else "no secret"
        raise ConfigurationError(
            f"client_auth: the server {self.issuer} accepts {', '.join(supported) or 'nothing'} "
            f"at its token endpoint, none of which works with {given}; pass the credentials "
            "it expects, or client_auth= to use a method it does not list"
        )

    def make_grant(
        self,
        grant_class: type[G],
        client_id: str,
        client_secret: str | None = None,
        **kwargs: Any,
    ) -> G:
        """Build a *grant_class* for this server, sans-IO.

        The endpoints the grant's constructor takes (``token_url``,
        ``authorization_url``, ``device_authorization_url``) are filled from
        the metadata unless given in *kwargs*; ``client_auth``, unless given,
        is chosen with
        [`client_auth_method`][aiohttp_auth.oauth2.discovery.ServerMetadata.client_auth_method].
        A grant type the server does not list is logged as a warning, not
        refused: servers' lists are often incomplete.

        Args:
            grant_class: e.g. ``ClientCredentials`` or ``RefreshToken``.
            client_id: the client identifier.
            client_secret: the client secret, if any.
            **kwargs: the grant's other arguments (``scope=``, ``private_key=``, ...).

        Raises:
            ConfigurationError: the grant needs an endpoint the metadata does
                not have; the server supports no method for the credentials
                given (see ``client_auth_method``); the grant's own checks.
        """
        name = getattr(grant_class, "__name__", repr(grant_class))
        parameters = inspect.signature(grant_class).parameters
        for argument, member in _GRANT_ENDPOINTS.items():
            if argument not in parameters or kwargs.get(argument) is not None:
                continue
            endpoint = getattr(self, member)
            if endpoint is None:
                raise ConfigurationError(
                    f"{name} needs {argument}, but the metadata of {self.issuer} has no "
                    f"{member}: the server does not offer it, or pass {argument}= yourself"
                )
            kwargs[argument] = endpoint
        if "client_auth" in parameters and kwargs.get("client_auth") is None:
            kwargs["client_auth"] = self.client_auth_method(
                has_secret=client_secret is not None,
                has_private_key=kwargs.get("private_key") is not None,
            )
        grant_type = getattr(grant_class, "grant_type", None)
        supported = self.grant_types_supported
        if isinstance(grant_type, str) and supported is not None and grant_type not in supported:
            logger.warning(
                "%s: %s does not list grant type %s in its metadata; trying it anyway",
                name,
                self.issuer,
                grant_type,
            )
        factory: Callable[..., G] = grant_class
        return factory(client_id=client_id, client_secret=client_secret, **kwargs)


def _rebuild(fields: dict[str, Any]) -> ServerMetadata:
    return ServerMetadata(**fields)
