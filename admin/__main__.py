"""``python -m admin``: the ``attendance-db`` command (see admin/cli.py)."""

import sys

from admin.cli import main

sys.exit(main())
