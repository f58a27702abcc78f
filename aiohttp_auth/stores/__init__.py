"""Token stores: where the OAuth 2 middleware keeps tokens between requests.

[`TokenStore`][aiohttp_auth.stores.base.TokenStore] is the protocol every store
follows (``get``, ``set``, ``delete`` and a per-key ``lock``);
[`MemoryTokenStore`][aiohttp_auth.stores.memory.MemoryTokenStore] keeps tokens
in the process. Stores that need a third-party backend (keyring, an encrypted
file, Redis) import it only when they are used, so importing this package stays
cheap.
"""

from .base import TokenStore as TokenStore
from .base import validate_key as validate_key
from .base import validate_token as validate_token
from .memory import MemoryTokenStore as MemoryTokenStore

__all__ = ["MemoryTokenStore", "TokenStore", "validate_key", "validate_token"]
