"""The Azure Storage Shared Key middleware: sign every request (and every redirect hop).

It adapts aiohttp to the sans-IO [`SharedKeySigner`][aiohttp_auth.signing.azure.SharedKeySigner]:
it sets the ``Content-Type`` aiohttp would add only after middlewares run (so
that what is signed is what is sent), passes the headers as aiohttp will send
them (``Content-Length`` included) and sets ``x-ms-date``, ``x-ms-version``
and ``Authorization``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import ClientRequest, ClientResponse
from aiohttp.client_middlewares import ClientHandlerType

from .._middleware import AuthMiddleware, set_default_content_type
from .._origins import OriginsArg
from .._redact import redacted_repr
from .azure import DEFAULT_VERSION, AzureService, SharedKeySigner

__all__ = ["AzureSharedKeyMiddleware"]

# aiohttp sets this Content-Type in send(), after middlewares, on POST_METHODS.


class AzureSharedKeyMiddleware(AuthMiddleware):
    """Sign Azure Storage requests with the account's Shared Key.

    Every request to an admitted origin is signed, on every hop: a redirect
    to another origin carries no signature, and one within the origin is
    signed again for its new URL. The body is not signed (Shared Key signs
    its length and headers), so nothing is read or buffered.

    A streaming body (an async iterable) without a ``Content-Length`` goes out
    chunked and is signed with an empty length; Azure Storage answers 411
    (``MissingContentLengthHeader``) to such an upload, so pass
    ``headers={"Content-Length": str(size)}`` with a stream.

    Args:
        account_name: the storage account's name (``devstoreaccount1`` for
            the emulator).
        account_key: the account's key (``key1`` or ``key2``), base64.
        version: the ``x-ms-version`` sent when a request has none.
        service: ``"blob"``, ``"queue"`` or ``"file"`` (one string to sign),
            or ``"table"``.
        lite: sign with ``SharedKeyLite`` (Table service only).
        origins: see [`AuthMiddleware`][aiohttp_auth._middleware.AuthMiddleware];
            e.g. ``"https://myaccount.blob.core.windows.net"``.
        clock: the clock, in epoch seconds.

    Raises:
        ConfigurationError: see [`SharedKeySigner`][aiohttp_auth.signing.azure.SharedKeySigner].
    """

    # A signature does not reveal the key, so plain http (Azurite) is allowed.
    sends_secret = False

    def __init__(
        self,
        account_name: str,
        account_key: str,
        *,
        version: str = DEFAULT_VERSION,
        service: AzureService = "blob",
        lite: bool = False,
        origins: OriginsArg = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(origins=origins)
        self._signer = SharedKeySigner(
            account_name, account_key, version=version, service=service, lite=lite
        )
        self._clock = clock
        # The signer checked that the key is a str; only its length is shown.
        self._key_length = len(account_key)

    @property
    def signer(self) -> SharedKeySigner:
        """The sans-IO signer."""
        return self._signer

    def __repr__(self) -> str:
        signer = self._signer
        return redacted_repr(
            self,
            account_name=repr(signer.account_name),
            account_key=f"<redacted {self._key_length} chars>",
            version=repr(signer.version),
            service=repr(signer.service),
            origins=self.scope,
        )

    async def authenticate(
        self, request: ClientRequest, handler: ClientHandlerType
    ) -> ClientResponse:
        """Sign *request* ("Authorize with Shared Key") and send it."""
        headers = request.headers
        set_default_content_type(request)
        url = request.url
        signed = self._signer.sign(
            request.method,
            url.raw_path,
            url.raw_query_string,
            headers.items(),
            timestamp=self._clock(),
        )
        for name, value in signed:
            headers[name] = value
        return await handler(request)
