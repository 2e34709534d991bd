"""deploy/: the example config file gives the defaults and names every setting; the systemd unit
passes ``systemd-analyze verify``.

What cannot be checked here: this sandbox has no systemd as PID 1, so the unit is never started
(the user, StateDirectory, the hardening and ExecReload are not exercised; SIGHUP itself is tested
on a real server process in tests/server/test_cli_config.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from db.config_file import read_config
from server import settings
from testkit.paths import REPO

EXAMPLE = REPO / "deploy" / "server.toml.example"
UNIT = REPO / "deploy" / "attendance-server.service"
INSTALLED_BINARY = "/opt/attendance/bin/attendance-server"


def test_the_example_config_gives_the_defaults():
    tables = read_config(EXAMPLE, settings.FILE_KINDS)
    values = settings.resolve({}, tables, EXAMPLE, {})
    for setting in settings.SETTINGS:
        value = values[setting.name].value
        expected = EXAMPLE.parent / setting.default if setting.kind is Path and setting.default else setting.default
        assert value == expected, setting.file_key


def test_the_example_config_names_every_setting_under_its_table():
    text = EXAMPLE.read_text(encoding="utf-8")
    sections = dict(re.findall(r"^\[(\w+)\]\n(.*?)(?=^\[|\Z)", text, flags=re.M | re.S))
    assert list(sections) == list(settings.TABLES)
    for setting in settings.SETTINGS:  # set, or commented out for those unset by default
        assert re.search(rf"^(# )?{re.escape(setting.key)} = ", sections[setting.table], flags=re.M), setting.file_key


def test_the_unit_runs_the_server_from_its_config_file_as_its_own_user():
    unit = UNIT.read_text(encoding="utf-8")
    for line in (
        "User=attendance",
        f"ExecStart={INSTALLED_BINARY} --config /etc/attendance/server.toml",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "Restart=on-failure",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/attendance",
        "PrivateTmp=yes",
    ):
        assert f"\n{line}\n" in unit, line


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path):
    """systemd-analyze refuses a unit whose ExecStart binary does not exist, and the installed path
    (/opt/attendance) does not exist here: it verifies a copy whose ExecStart is this venv's
    attendance-server, the only line changed. Unknown keys and bad values are only warnings
    to it (exit status 0), so the test also requires it to print nothing."""
    binary = Path(sys.executable).parent / "attendance-server"
    assert binary.exists(), f"{binary}: install the package in the venv (make venv)"
    unit = UNIT.read_text(encoding="utf-8")
    assert unit.count(INSTALLED_BINARY) == 1
    copy = tmp_path / UNIT.name
    copy.write_text(unit.replace(INSTALLED_BINARY, str(binary)), encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == "", result.stdout + result.stderr
