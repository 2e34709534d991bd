"""``--config FILE`` and SIGHUP with real processes: attendance-server started from a config file
alone (its relative paths read from the file's folder), reloading knowns/ on SIGHUP while it
serves; --print-config; bad files refused in one line; attendance-db and attendance-report
taking the database URL from the file."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import pytest

from client.connection import FramedClient
from db.config_file import mask_password
from testkit.paths import REPO
from testkit.servers import LECTURE, TEST_CLIENT, add_client, seed_roster

OBAMA, BIDEN, ALEX = "201911001_obama.jpg", "201911002_biden.jpg", "201911003_alex_lacamoire.jpg"


def run(module: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=REPO, capture_output=True, text=True, timeout=120, env=env
    )


def without_db_env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "ATTENDANCE_DB_URL"}


class ServerLog:
    """The server's stderr, read by a thread, so a test can wait for a line."""

    def __init__(self, proc: subprocess.Popen):
        self.lines: list[str] = []
        self._new: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(proc.stderr,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line)
            self._new.put(line)

    def wait_for(self, pattern: str, timeout: float = 120) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._new.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            found = re.search(pattern, line)
            if found:
                return found
        pytest.fail(f"no line matching {pattern!r} in the server log:\n" + "".join(self.lines))


def recognized(port: int, token: str, photo: Path) -> set[str]:
    with FramedClient("127.0.0.1", port, token=token) as client:
        return {face.student_id for face in client.recognize(photo.read_bytes()).faces}


def test_server_runs_from_its_config_file_and_reloads_knowns_on_sighup(db_url, faces_dir, tmp_path):
    photos = faces_dir / "knowns"
    folder = tmp_path / "etc"
    (folder / "knowns").mkdir(parents=True)
    for name in (OBAMA, BIDEN):
        shutil.copy(photos / name, folder / "knowns" / name)
    config = folder / "server.toml"
    config.write_text(
        f'[server]\nhost = "127.0.0.1"\nport = 0\nworkers = 1\nknowns = "knowns"\n'
        f'[database]\nurl = "{db_url.to_url()}"\n',
        encoding="utf-8",
    )
    token = add_client(db_url, TEST_CLIENT)
    # From another folder, without $ATTENDANCE_DB_URL: everything comes from the file.
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "--config", str(config)],
        cwd=REPO,
        env={**without_db_env(), "PYTHONPATH": str(REPO)},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        log = ServerLog(proc)
        port = int(log.wait_for(r"listening on [\d.]+:(\d+)").group(1))
        assert recognized(port, token, photos / BIDEN) == {"201911002"}
        assert "201911003" not in recognized(port, token, photos / ALEX)

        # A new student's photo arrives, another student's photo goes: SIGHUP.
        shutil.copy(photos / ALEX, folder / "knowns" / ALEX)
        (folder / "knowns" / BIDEN).unlink()
        proc.send_signal(signal.SIGHUP)
        line = log.wait_for(r"reloaded: .*").group(0)
        assert "added=1" in line and "removed=1" in line
        assert "students added: 201911003; removed: 201911002" in line
        assert recognized(port, token, photos / ALEX) == {"201911003"}
        assert "201911002" not in recognized(port, token, photos / BIDEN)

        # A reload that fails (knowns/ gone) is logged; the gallery in use stays.
        (folder / "knowns").rename(folder / "knowns.moved")
        proc.send_signal(signal.SIGHUP)
        log.wait_for(r"reload failed; the gallery in use stays \(2 encodings\): .*knowns")
        assert recognized(port, token, photos / ALEX) == {"201911003"}
        assert proc.poll() is None

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not any("Traceback" in line for line in log.lines)


def test_print_config_shows_the_merged_settings_as_a_config_file_with_the_password_masked(tmp_path):
    config = tmp_path / "server.toml"
    config.write_text(
        '[server]\nport = 9100\nknowns = "photos"\n[database]\n'
        'url = "mysql://attendance_server:s3cret@db.example:3306/attendance"\n',
        encoding="utf-8",
    )
    result = run("server", "--config", str(config), "--print-config", "--port", "9200", env=without_db_env())
    assert result.returncode == 0, result.stderr
    assert "s3cret" not in result.stdout
    printed = tomllib.loads(result.stdout)
    assert printed["server"]["port"] == 9200  # the flag wins over the file
    assert printed["server"]["knowns"] == str(tmp_path / "photos")  # relative to the file's folder
    assert printed["database"]["url"] == mask_password("mysql://attendance_server:s3cret@db.example:3306/attendance")
    assert printed["limits"]["max-connections"] == 64


@pytest.mark.parametrize(
    "text, message",
    [
        ("[server]\nprot = 9009\n", "unknown key server.prot"),
        ("[limits]\nburst = 'many'\n", "limits.burst: must be a whole number"),
        ("[server]\nthreshold = 5\n", "server.threshold: must be in (0, 2], not 5"),
        ("[clock]\ntimezone = 'Asia/Busan'\n", "clock.timezone: not a known IANA time zone such as Asia/Seoul"),
        ("[clock]\nmax-clock-skew = -1\n", "clock.max-clock-skew: must be 0-1440, not -1"),
        ("[identifiers]\nstudent-id-pattern = '[0-9'\n", "identifiers.student-id-pattern: the student ID pattern"),
    ],
)
def test_a_bad_config_file_is_one_line_naming_the_file_and_the_key(tmp_path, text, message):
    config = tmp_path / "server.toml"
    config.write_text(text, encoding="utf-8")
    result = run("server", "--config", str(config))
    assert result.returncode == 2
    assert f"{config}: {message}" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_attendance_db_and_report_refuse_an_unknown_time_zone_in_one_line(tmp_path):
    config = tmp_path / "server.toml"
    config.write_text("[clock]\ntimezone = 'Seoul'\n", encoding="utf-8")
    for command in (
        ["admin", "--config", str(config), "list-clients"],
        ["reports", "--timezone", "KST", "--lecture", "ea0017_1"],
    ):
        result = run(*command)
        assert result.returncode == 2, result.stderr
        assert "not a known IANA time zone" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_missing_config_file_is_refused():
    result = run("server", "--config", "/nonexistent/server.toml", "--print-config")
    assert result.returncode == 2 and "cannot read the config file /nonexistent/server.toml" in result.stderr


def test_attendance_db_and_report_take_the_database_url_from_the_config_file(db_url, faces_dir, tmp_path):
    config = tmp_path / "server.toml"
    config.write_text(f'[server]\nport = 9009\n[database]\nurl = "{db_url.to_url()}"\n', encoding="utf-8")
    env = {**without_db_env(), "ATTENDANCE_DB_URL": "mysql://nobody@127.0.0.1:1/none"}  # the file wins
    added = run("admin", "--config", str(config), "add-client", "room-e203", "--role", "kiosk", env=env)
    assert added.returncode == 0, added.stderr
    listed = run("admin", "--config", str(config), "list-clients", env=env)
    assert "room-e203" in listed.stdout

    seed_roster(db_url, faces_dir / "knowns")
    report = run("reports", "--config", str(config), "--lecture", LECTURE, env=env)
    assert report.returncode == 0, report.stderr
    assert "no sessions" in report.stdout + report.stderr

    bad = tmp_path / "bad.toml"
    bad.write_text('[database]\nuri = "mysql://root@127.0.0.1/x"\n', encoding="utf-8")
    for module in ("admin", "reports"):
        extra = ["list-clients"] if module == "admin" else ["--lecture", LECTURE]
        result = run(module, "--config", str(bad), *extra, env=env)
        assert result.returncode == 2 and f"{bad}: unknown key database.uri" in result.stderr
        assert "Traceback" not in result.stderr


def test_the_identifier_patterns_come_from_flags_or_the_config_file_for_the_server_and_attendance_db(db_url, tmp_path):
    config = tmp_path / "server.toml"
    config.write_text(
        f'[database]\nurl = "{db_url.to_url()}"\n'
        "[identifiers]\nstudent-id-pattern = '20[0-9]{8}'\nlecture-code-pattern = '[A-Z]{4}[0-9]{3}-[0-9]{2}'\n",
        encoding="utf-8",
    )
    result = run("server", "--config", str(config), "--print-config", "--student-id-pattern", "[0-9]{10}")
    assert result.returncode == 0, result.stderr
    printed = tomllib.loads(result.stdout)["identifiers"]
    assert printed == {"student-id-pattern": "[0-9]{10}", "lecture-code-pattern": "[A-Z]{4}[0-9]{3}-[0-9]{2}"}
    assert tomllib.loads(run("server", "--print-config").stdout)["identifiers"] == {
        "student-id-pattern": "2[0-9]{8}",  # the default: the 2019 formats
        "lecture-code-pattern": "[A-Za-z]{2}[0-9]{4}_[0-9]",
    }

    roster = tmp_path / "roster.csv"
    roster.write_text("학번,이름,과목코드\n2020123490,김민수,COSE101-02\n", encoding="utf-8")
    imported = run("admin", "--config", str(config), "import-roster", str(roster), env=without_db_env())
    assert imported.returncode == 0, imported.stderr
    assert "enrollments created: 1" in imported.stdout and "2019 clients cannot reach them" in imported.stderr
    refused = run("admin", "--db-url", db_url.to_url(), "import-roster", str(roster))  # the default patterns
    assert refused.returncode == 2 and f"{roster}:2: column A (학번): not a student ID of the pattern" in refused.stderr
    bad = run("admin", "--db-url", db_url.to_url(), "--lecture-code-pattern", "(", "list-clients")
    assert bad.returncode == 2 and "the lecture code pattern '(' is not a regular expression" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
