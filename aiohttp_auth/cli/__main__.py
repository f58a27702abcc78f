"""Run the ``aiohttp-auth`` command as ``python -m aiohttp_auth.cli``."""

import sys

from . import main

sys.exit(main())
