"""The SigV4a signing key: a P-256 key pair derived from an AWS secret access key.

SigV4a signs with ECDSA P-256 instead of HMAC, so that a signature made once can be
verified in every region of a region set. AWS derives the private key from the access key
pair itself (AWS IAM User Guide, "Create a signed AWS API request", section "Deriving a
signing key for SigV4a"):

1. the input key is ``"AWS4A" + secret_access_key``;
2. a candidate is one block of the NIST SP 800-108r1 §4.1 KDF in counter mode with
   HMAC-SHA256: ``HMAC(input_key, [1]_32 || label || 0x00 || context || [256]_32)``, where
   the label is ``"AWS4-ECDSA-P256-SHA256"`` and the context is the access key id followed
   by one *external* counter byte, starting at 1;
3. read as a big-endian integer ``c``, the candidate is accepted when ``c <= n - 2`` (n is
   the order of P-256) and the private key is ``d = c + 1`` (FIPS 186-5 §A.2.2, key pair
   generation by rejection sampling); otherwise the external counter is incremented and a
   new candidate computed, at most 254 times.

A candidate is rejected with probability about 2**-32, so the loop almost never runs
twice; the bound keeps it finite whatever the input. Derivation costs a point
multiplication, so every signer keeps its own small [`SigV4aKeyCache`][].
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Final

from cryptography.hazmat.primitives.asymmetric import ec

from ..errors import ConfigurationError, SigningError

__all__ = [
    "P256_ORDER",
    "SigV4aKeyCache",
    "derive_private_key",
    "kdf_candidates",
    "private_scalar",
]

P256_ORDER: Final = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
"""The order n of the P-256 base point (NIST SP 800-186 §3.2.1.3)."""

_LABEL: Final = b"AWS4-ECDSA-P256-SHA256"
# SP 800-108 fixed input around the label and context: the KDF's own block counter i = 1
# (one HMAC-SHA256 block gives all 256 bits), the 0x00 separator, and L = 256 bits.
_BLOCK_COUNTER: Final = (1).to_bytes(4, "big")
_OUTPUT_BITS: Final = (256).to_bytes(4, "big")
# The external counter is one byte of the context; 0 and 255 are never used.
_MAX_ATTEMPTS: Final = 254


def kdf_candidates(access_key_id: str, secret_access_key: str) -> Iterator[bytes]:
    """Yield the successive 32-byte KDF candidates for a SigV4a private key.

    Lazily, so that only the candidates actually examined are computed.

    Args:
        access_key_id: the AWS access key id (the KDF context).
        secret_access_key: the AWS secret access key (the KDF input key after "AWS4A").

    Yields:
        ``HMAC-SHA256("AWS4A" + secret, [1]_32 || label || 0x00 || akid || counter ||
        [256]_32)`` for the external counter 1, 2, ... 254.
    """
    input_key = b"AWS4A" + secret_access_key.encode()
    prefix = _BLOCK_COUNTER + _LABEL + b"\x00" + access_key_id.encode()
    for counter in range(1, _MAX_ATTEMPTS + 1):
        fixed_input = prefix + bytes((counter,)) + _OUTPUT_BITS
        yield hmac.digest(input_key, fixed_input, hashlib.sha256)


def private_scalar(candidates: Iterable[bytes]) -> int:
    """Pick the first acceptable candidate and turn it into a P-256 private scalar.

    FIPS 186-5 §A.2.2: a candidate ``c`` is acceptable when ``c <= n - 2``; the private
    key is then ``c + 1``, which lies in ``[1, n - 1]``.

    Args:
        candidates: 32-byte big-endian candidates, as [`kdf_candidates`][] yields them.

    Returns:
        The private scalar d.

    Raises:
        SigningError: no candidate was acceptable (about 2**-8128 likely for 254 honest
            candidates: in practice, never).
    """
    for candidate in candidates:
        scalar = int.from_bytes(candidate, "big")
        if scalar <= P256_ORDER - 2:
            return scalar + 1
    raise SigningError(
        "Could not derive a SigV4a key from this access key pair: every KDF candidate "
        "was out of range. Check the credentials, or use SigV4 instead."
    )


def derive_private_key(access_key_id: str, secret_access_key: str) -> ec.EllipticCurvePrivateKey:
    """Derive the SigV4a ECDSA P-256 private key of an AWS access key pair.

    The same key pair always gives the same key, whatever the date, region or service:
    AWS stores the matching public key and verifies signatures with it.

    Args:
        access_key_id: the AWS access key id, e.g. ``"AKIDEXAMPLE"``.
        secret_access_key: the AWS secret access key.

    Returns:
        The private key, on the curve SECP256R1 (P-256).

    Raises:
        SigningError: the access key id or the secret is empty, or no candidate was
            acceptable.
    """
    if not access_key_id or not secret_access_key:
        missing = "access_key_id" if not access_key_id else "secret_access_key"
        raise SigningError(f"Cannot derive a SigV4a key: {missing} is empty.")
    scalar = private_scalar(kdf_candidates(access_key_id, secret_access_key))
    return ec.derive_private_key(scalar, ec.SECP256R1())


class SigV4aKeyCache:
    """A bounded, least-recently-used cache of derived SigV4a private keys.

    Each signer owns one (never a module-global cache), so that keys die with the signer
    and one signer's credentials never serve another's. Rotated credentials push old keys
    out once ``maxsize`` newer pairs have been used. Safe to share between threads.
    """

    __slots__ = ("_keys", "_lock", "maxsize")

    def __init__(self, maxsize: int = 8) -> None:
        """Create an empty cache holding at most *maxsize* keys.

        Raises:
            ConfigurationError: *maxsize* is not a positive integer.
        """
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
            raise ConfigurationError(
                f"The SigV4a key cache size must be a positive integer, not {maxsize!r}."
            )
        self.maxsize: Final = maxsize
        self._keys: OrderedDict[tuple[str, str], ec.EllipticCurvePrivateKey] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, access_key_id: str, secret_access_key: str) -> ec.EllipticCurvePrivateKey:
        """Return the private key of an access key pair, deriving it on first use.

        Raises:
            SigningError: as [`derive_private_key`][].
        """
        cache_key = (access_key_id, secret_access_key)
        with self._lock:
            private_key = self._keys.get(cache_key)
            if private_key is not None:
                self._keys.move_to_end(cache_key)
                return private_key
        # Derive outside the lock: two threads may derive the same key once each, which is
        # cheaper than making every other signature wait for a point multiplication.
        private_key = derive_private_key(access_key_id, secret_access_key)
        with self._lock:
            self._keys[cache_key] = private_key
            self._keys.move_to_end(cache_key)
            while len(self._keys) > self.maxsize:
                self._keys.popitem(last=False)
        return private_key

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"SigV4aKeyCache(maxsize={self.maxsize}, size={len(self._keys)})"
