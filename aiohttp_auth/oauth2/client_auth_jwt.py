"""JWT client assertions at the token endpoint (RFC 7523 §2.2, §3; OIDC Core §9), sans-IO.

The two JWT methods of [`client_auth`][aiohttp_auth.oauth2.client_auth]:
``client_secret_jwt`` signs the assertion with HMAC keyed by the client
secret, ``private_key_jwt`` with the client's private key. Both send it as
``client_assertion`` with [`CLIENT_ASSERTION_TYPE`][]. Build them with
[`make_client_auth`][aiohttp_auth.oauth2.client_auth.make_client_auth] (or a
grant's ``client_auth=``), which checks the arguments first.
"""

from __future__ import annotations

from typing import Final

from .._redact import redacted_repr
from .client_auth import ClientAuth
from .jwt import JWTSigner, PrivateKey, assertion_claims

__all__ = ["CLIENT_ASSERTION_TYPE", "ClientSecretJWT", "PrivateKeyJWT"]

CLIENT_ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
"""``client_assertion_type`` of a JWT client assertion (RFC 7523 §2.2)."""


class _JWTClientAuth(ClientAuth):
    """A JWT client assertion (RFC 7523 §2.2, §3; OIDC Core §9)."""

    __slots__ = ("audience", "signer")

    def __init__(
        self, client_id: str, method: str, signer: JWTSigner, audience: str | None
    ) -> None:
        super().__init__(client_id, method)
        self.signer = signer
        self.audience = audience

    def apply(
        self,
        form: dict[str, str],
        headers: dict[str, str],
        *,
        token_url: str,
        now: float,
        jti: str,
    ) -> None:
        """Put ``client_assertion`` and ``client_assertion_type`` (and ``client_id``) in the form.

        The assertion's ``iss`` and ``sub`` are the client id, ``aud`` the
        token endpoint (or ``audience``), and it expires 60 s after *now*.
        """
        claims = assertion_claims(
            issuer=self.client_id,
            subject=self.client_id,
            audience=self.audience or token_url,
            now=now,
            jti=jti,
        )
        # client_id is optional with an assertion (RFC 7521 §4.2), but some
        # servers look the client up by it before reading the assertion.
        form["client_id"] = self.client_id
        form["client_assertion_type"] = CLIENT_ASSERTION_TYPE
        form["client_assertion"] = self.signer.sign(claims)

    def __repr__(self) -> str:
        return redacted_repr(
            self,
            client_id=repr(self.client_id),
            signing_alg=repr(self.signer.algorithm),
            key_id=repr(self.signer.key_id),
            audience=repr(self.audience),
        )


class ClientSecretJWT(_JWTClientAuth):
    """``client_secret_jwt``: an assertion signed with HMAC keyed by the client secret."""

    __slots__ = ()

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        signing_alg: str | None = None,
        key_id: str | None = None,
        audience: str | None = None,
    ) -> None:
        signer = JWTSigner.from_secret(client_secret, algorithm=signing_alg, key_id=key_id)
        super().__init__(client_id, "client_secret_jwt", signer, audience)


class PrivateKeyJWT(_JWTClientAuth):
    """``private_key_jwt``: an assertion signed with the client's private key."""

    __slots__ = ()

    def __init__(
        self,
        client_id: str,
        private_key: PrivateKey,
        *,
        signing_alg: str | None = None,
        key_id: str | None = None,
        audience: str | None = None,
    ) -> None:
        signer = JWTSigner.from_private_key(private_key, algorithm=signing_alg, key_id=key_id)
        super().__init__(client_id, "private_key_jwt", signer, audience)
