"""``python -m client``: the desktop app once it exists; the headless client until then."""
import sys

from client.cli import main

sys.exit(main())
