"""``python -m reports``: the ``attendance-report`` command (see reports/cli.py)."""

import sys

from reports.cli import main

sys.exit(main())
