"""Real processes for the trust benchmarks and their short test versions: a private MariaDB, the
server as a subprocess, a seeded database, and the memory of a process.

    with PrivateMariaDB(tmp_dir) as mariadb:          # our own mariadbd on a free port
        url = seed_database(mariadb.server_url, "attendance_load", knowns_dir, extra_students=300)
        with ServerProcess(url.url, knowns_dir, "--rate", "0") as server:
            ... server.port, server.kill(), server.rss_kib() ...

Nothing here stops or changes a database server it did not start.
"""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from db.connection import DatabaseUrl, connect, run_in_transaction
from db.roster_import import RosterRow, import_roster
from db.schema import recreate_database
from server.recognition.enrollment import scan_knowns
from testkit.paths import REPO
from testkit.servers import add_client

#: Server flags for a test or benchmark whose many clients all connect from 127.0.0.1 (a load
#: test, clients behind HAProxy): one address, many machines' worth of connections.
LOOPBACK_CROWD = ("--max-connections-per-address", "1000")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise RuntimeError(f"{name} not found: install mariadb-server (apt-get install mariadb-server)")
    return found


class PrivateMariaDB:
    """A MariaDB server of our own: data in ``directory``, listening on 127.0.0.1:``port`` (a
    free one by default), user root without password. stop()/start() restart it; kill() is a
    SIGKILL. Used to stop a database in the middle of a test without touching anyone else's.
    ``options``: more mariadbd options, such as ``--ssl-cert=...``."""

    def __init__(self, directory: Path, port: int | None = None, options: Sequence[str] = ()):
        self.directory = Path(directory)
        self.port = port or free_port()
        self.options = tuple(options)
        self.process: subprocess.Popen | None = None

    @property
    def server_url(self) -> DatabaseUrl:
        return DatabaseUrl("root", "", "127.0.0.1", self.port, "mysql")

    @property
    def tmpdir(self) -> Path:
        """Its own: a MariaDB starting (or installing) deletes every ``#sql*`` file in its tmpdir,
        which with the default /tmp are the temporary tables of the shared test server's queries."""
        return self.directory / "tmp"

    def install(self) -> None:
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        if (self.directory / "data" / "mysql").is_dir():
            return
        subprocess.run(
            [
                _binary("mariadb-install-db"),
                "--no-defaults",
                f"--datadir={self.directory / 'data'}",
                f"--tmpdir={self.tmpdir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                f"--user={_user()}",
            ],
            check=True,
            capture_output=True,
        )

    def start(self, timeout: float = 60.0) -> PrivateMariaDB:
        self.install()
        self.process = subprocess.Popen(
            [
                _binary("mariadbd"),
                "--no-defaults",
                f"--datadir={self.directory / 'data'}",
                f"--tmpdir={self.tmpdir}",
                f"--socket={self.directory / 'mysqld.sock'}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--user={_user()}",
                "--innodb-buffer-pool-size=64M",
                f"--log-error={self.directory / 'error.log'}",
                "--skip-name-resolve",
                *self.options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mariadbd exited; see {self.directory / 'error.log'}")
            try:
                connect(self.server_url, database=False, timeout=1).close()
                return self
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.1)
        raise RuntimeError(f"mariadbd did not start within {timeout:g} s")

    def stop(self, timeout: float = 60.0) -> None:
        """A clean shutdown (SIGTERM), waiting for the process to end."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout)
        self.process = None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
        self.process = None

    def __enter__(self) -> PrivateMariaDB:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


@dataclass(frozen=True)
class SeededDatabase:
    url: DatabaseUrl
    lectures: dict[str, list[str]]  # lecture code -> enrolled student IDs
    sample_ids: list[str]  # the students of the knowns photos (enrolled everywhere)


def seed_database(
    server_url: DatabaseUrl,
    name: str,
    knowns_dir: Path,
    *,
    lectures: int = 4,
    extra_students: int = 200,
) -> SeededDatabase:
    """A new database ``name`` (dropped first if it exists) with ``lectures`` lectures
    (``ld0001_1``...), each enrolling the sample students and ``extra_students`` made-up ones
    with Korean names."""
    url = recreate_database(server_url, name)
    photos = scan_knowns(knowns_dir)
    names = {photo.student_id: photo.name for photo in photos}
    for i in range(extra_students):
        names[str(202000000 + i)] = f"학생 {i:04d}"
    ids = sorted(names)
    codes = [f"ld{n:04d}_1" for n in range(1, lectures + 1)]
    rows = [RosterRow(code, sid, names[sid], n) for code in codes for n, sid in enumerate(ids, 2)]
    run_in_transaction(url, lambda cur: import_roster(cur, rows))
    return SeededDatabase(url, {code: list(ids) for code in codes}, sorted({p.student_id for p in photos}))


def query(url: DatabaseUrl, sql: str, args=()) -> list[tuple]:
    def fetch(cur):
        cur.execute(sql, args)
        return list(cur.fetchall())

    return run_in_transaction(url, fetch)


class ServerProcess:
    """``python -m server`` on 127.0.0.1 and a free port, its stderr kept (last 500 lines).
    start() returns once the port accepts connections."""

    def __init__(
        self,
        db_url: DatabaseUrl,
        knowns_dir: Path,
        *args: str,
        workers: int = 1,
        log_level: str = "WARNING",
        cwd: Path = REPO,
        env: dict | None = None,
    ):
        self.port = free_port()
        self.command = [
            sys.executable,
            "-m",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            "--db-url",
            db_url.to_url(),
            "--knowns",
            str(knowns_dir),
            "--log-level",
            log_level,
            *args,
        ]
        self.cwd = cwd
        self.env = env
        self.process: subprocess.Popen | None = None
        self.lines: collections.deque[str] = collections.deque(maxlen=500)

    def start(self, timeout: float = 180.0) -> ServerProcess:
        env = {**os.environ, **(self.env or {})}
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        self.process = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
        threading.Thread(target=lambda: self.lines.extend(self.process.stderr), daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.kill()
        time.sleep(0.2)
        raise RuntimeError("the server did not start:\n" + "".join(self.lines))

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no clean-up at all. Its workers end by themselves when it is gone (the pool
        watches its server); they are killed here too, so that none still holds a core when the
        test goes on."""
        if self.process is not None and self.process.poll() is None:
            children = descendants(self.process.pid)
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)
            for pid in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def stop(self, timeout: float = 60.0) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_kib(self) -> tuple[int, int]:
        """(resident memory of the server process, of its worker processes together), KiB."""
        return _rss_kib(self.process.pid), sum(_rss_kib(pid) for pid in recognition_workers(self.process.pid))

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (none when it is gone)."""
    found = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        with contextlib.suppress(OSError):
            found.extend(int(c) for c in (task / "children").read_text().split())
    return found


def descendants(pid: int) -> list[int]:
    found = []
    for child in children(pid):
        found.append(child)
        found.extend(descendants(child))
    return found


def recognition_workers(pid: int) -> list[int]:
    """The recognition pool's worker processes of process ``pid`` (a server, or a test that starts
    a pool): the children of its multiprocessing fork server (server.recognition.pool), or its
    spawned children where there is none. Not the fork server, nor the resource tracker."""
    workers = []
    for child in children(pid):
        cmdline = _cmdline(child)
        if b"multiprocessing.forkserver" in cmdline:
            workers.extend(children(child))
        elif b"multiprocessing.spawn" in cmdline:
            workers.append(child)
    return workers


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time process ``pid`` has used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def new_client(url: DatabaseUrl, name: str) -> str:
    """A token for client ``name`` (see testkit.servers.add_client)."""
    return add_client(url, name)
