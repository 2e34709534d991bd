"""``python -m client``: the desktop app (``attendance-desktop``).

The headless client is ``attendance-client`` (or ``python -m client.cli``).
"""

import sys

from client.desktop.app import main

sys.exit(main())
