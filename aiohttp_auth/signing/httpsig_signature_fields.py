"""The header fields that carry an RFC 9421 signature, as a signer returns them.

An [`HTTPSigner`][aiohttp_auth.signing.httpsig.HTTPSigner] returns one
[`SignatureFields`][] per message: the ``Signature-Input`` and ``Signature``
dictionary members of its label (RFC 9421 §4.1, §4.2), and the signature base
it signed. [`SignatureFields.merged`][] puts them next to the signatures a
message already carries (§4.3).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from http_sfv.dictionary import Dictionary

from ..errors import SigningError

__all__ = ["SignatureFields"]


class SignatureFields(NamedTuple):
    """The two header fields that carry one signature (RFC 9421 §4), and what was signed.

    Attributes:
        label: the signature's label, such as ``"sig1"``.
        signature_input: the ``Signature-Input`` value, one dictionary member:
            ``sig1=("@method" "@authority");created=1618884473;keyid="k"``.
        signature: the ``Signature`` value: ``sig1=:<base64>:``.
        base: the signature base that was signed (RFC 9421 §2.5), for debugging.
    """

    label: str
    signature_input: str
    signature: str
    base: str

    def merged(
        self, signature_input: Sequence[str] = (), signature: Sequence[str] = ()
    ) -> tuple[str, str]:
        """Return ``Signature-Input`` and ``Signature`` values keeping the signatures there.

        A message may carry several signatures (RFC 9421 §4.3). Pass the values
        of the header fields the message already has; members with another
        label are kept, one with this label is replaced.

        Raises:
            SigningError: an existing value is not a structured dictionary.
        """
        return (
            _merge(signature_input, self.label, self.signature_input, "Signature-Input"),
            _merge(signature, self.label, self.signature, "Signature"),
        )


def _merge(existing: Sequence[str], label: str, member: str, field: str) -> str:
    if isinstance(existing, str):
        existing = [existing]
    if not existing:
        return member
    dictionary = Dictionary()
    try:
        dictionary.parse(", ".join(existing).encode("ascii"))
    except ValueError:
        raise SigningError(
            f"the message already has a {field} header that is not a structured "
            "dictionary (RFC 8941); remove it before signing"
        ) from None
    dictionary.pop(label, None)
    return f"{dictionary}, {member}" if dictionary else member
