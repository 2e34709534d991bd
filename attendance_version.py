"""The release's version, for every command's ``--version``; its one source is setup.cfg.

A top-level module rather than part of ``server``, ``client``, ``db`` or ``protocol``: every
command imports it, and none of those packages should import another just to learn the version
(``db`` and ``client`` never import ``server``; ``protocol`` holds wire formats only).
"""

from __future__ import annotations

import argparse
import configparser
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "classroom-attendance"
#: Next to this module in a checkout; absent from an installed wheel, which has its metadata.
SETUP_CFG = Path(__file__).resolve().parent / "setup.cfg"


def version() -> str:
    """The installed distribution's version, else setup.cfg's (a checkout run without installing)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        pass
    config = configparser.ConfigParser()
    config.read(SETUP_CFG, encoding="utf-8")
    return config.get("metadata", "version", fallback="unknown")


def add_version_option(parser: argparse.ArgumentParser) -> None:
    """``--version``: print ``<prog> <version>`` (e.g. ``attendance-db 0.2.0``) and exit 0."""
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
