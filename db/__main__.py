"""``python -m db``: the ``attendance-db`` command (see db/cli.py)."""

import sys

from db.cli import main

sys.exit(main())
