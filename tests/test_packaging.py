"""The package as pip sees it: ``python -m build`` makes an sdist and a wheel from it, and the
wheel holds every module and data file, declares the runtime dependencies (not
face_recognition), and its commands work when installed, run from outside the checkout.

The installed wheel goes into a new venv with ``--no-deps``; a .pth file there puts the dev
venv's site-packages on its path for the dependencies (downloading them takes minutes; see
docs/install.md for the real fresh install). That .pth adds a folder without running the .pth
files inside it, so the dev venv's editable install (the checkout) stays off the path: what the
commands import, and the SQL files they read, come from the wheel.
"""

from __future__ import annotations

import configparser
import email.parser
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from db.connection import connect, transaction
from testkit.paths import REPO

PACKAGES = ("protocol", "server", "client", "db", "reports", "admin")
#: Every command the issue names; each must answer --version.
COMMANDS = (
    "attendance-db",
    "attendance-server",
    "attendance-client",
    "attendance-report",
    "attendance-desktop",
    "attendance-watch",
    "attendance-eval",
)


def setup_cfg() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg", encoding="utf-8")
    return config


def declared_version() -> str:
    return setup_cfg()["metadata"]["version"]


def install_requires() -> list[Requirement]:
    lines = setup_cfg()["options"]["install_requires"].splitlines()
    return [Requirement(line.strip()) for line in lines if line.strip()]


def requirement_pins() -> dict[str, str]:
    """requirements.txt as {canonical name: pinned version}; every line must be a pin."""
    pins = {}
    for line in (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and version, f"requirements.txt: not a name==version pin: {line!r}"
            pins[canonicalize_name(name)] = version
    return pins


def runtime_closure(roots: list[Requirement]) -> set[str]:
    """The canonical names of the roots and of everything they need, from installed metadata."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        requirement = todo.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            todo.extend(Requirement(text) for text in metadata.requires(requirement.name) or ())
        except metadata.PackageNotFoundError:
            pass  # dlib-bin after `make fast-dlib`, which replaces it with dlib built from source
    return seen


# -- the sdist and the wheel ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """``python -m build``: the sdist, then the wheel built from that sdist (as pip would).

    It builds a copy of the checkout: setuptools writes an .egg-info folder into the source tree,
    which would shadow the installed metadata (and its version) for ``python -m`` in the checkout.
    """
    source = tmp_path_factory.mktemp("source") / "checkout"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", ".run", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis"
        ),
    )
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(source)], capture_output=True, text=True, timeout=600
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def wheel(dist) -> Path:
    (path,) = dist.glob("*.whl")
    return path


def test_build_makes_one_sdist_and_one_pure_python_wheel_of_the_declared_version(dist, wheel):
    version = declared_version()
    assert [p.name for p in dist.glob("*.tar.gz")] == [f"classroom_attendance-{version}.tar.gz"]
    assert wheel.name == f"classroom_attendance-{version}-py3-none-any.whl"


def test_wheel_holds_every_module_the_translations_and_the_sql_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(REPO).as_posix() for top in PACKAGES for p in (REPO / top).rglob("*.py")}
    modules.add("attendance_version.py")
    assert modules - names == set()

    i18n = REPO / "client" / "desktop" / "i18n"
    translations = {p.relative_to(REPO).as_posix() for p in [*i18n.glob("*.qm"), *i18n.glob("*.ts")]}
    assert "client/desktop/i18n/attendance_ko.qm" in translations
    assert translations - names == set()

    # db/schema.sql and db/migrations/ come with the migrations work (issue 16).
    assert (REPO / "db" / "schema.sql").is_file(), "db/schema.sql missing from the checkout"
    sql = {
        p.relative_to(REPO).as_posix()
        for p in [REPO / "db" / "schema.sql", *(REPO / "db" / "migrations").glob("*.sql")]
    }
    assert sql - names == set()

    dist_info = f"classroom_attendance-{declared_version()}.dist-info"
    assert {name.split("/", 1)[0] for name in names} == {*PACKAGES, "attendance_version.py", dist_info}


def test_wheel_metadata_declares_the_runtime_dependencies_and_not_face_recognition(wheel):
    dist_info = f"classroom_attendance-{declared_version()}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        meta = email.parser.Parser().parsestr(archive.read(f"{dist_info}/METADATA").decode())
        entry_points = configparser.ConfigParser()
        entry_points.read_string(archive.read(f"{dist_info}/entry_points.txt").decode())

    assert meta["Version"] == declared_version()
    requires = {canonicalize_name(Requirement(text).name): Requirement(text) for text in meta.get_all("Requires-Dist")}
    expected = {
        "numpy",
        "scipy",
        "pillow",
        "pillow-heif",
        "dlib-bin",
        "face-recognition-models",
        "setuptools",
        "pymysql",
        "opencv-python-headless",
        "pyqt5",
        "matplotlib",
        "openpyxl",
    }
    assert set(requires) == expected
    assert "face-recognition" not in requires and "dlib" not in requires
    assert requires["setuptools"].specifier.contains("80.10.2")
    assert not requires["setuptools"].specifier.contains("81.0.0")  # pkg_resources is gone in 81
    assert not requires["opencv-python-headless"].specifier.contains("5.0.0")
    assert set(entry_points["console_scripts"]) == set(COMMANDS)


def test_requirements_txt_pins_exactly_the_runtime_dependencies_inside_their_ranges():
    pins = requirement_pins()
    declared = install_requires()
    for requirement in declared:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} has no pin in requirements.txt"
        assert requirement.specifier.contains(pins[name]), (
            f"requirements.txt pins {name}=={pins[name]}, outside {requirement}"
        )
    assert set(pins) == runtime_closure(declared), "requirements.txt must pin the runtime dependencies only"
    assert "face-recognition" not in pins
    # `make venv` installed through these pins.
    for name, version in pins.items():
        try:
            assert metadata.version(name) == version, f"{name}: run make venv"
        except metadata.PackageNotFoundError:
            assert name == "dlib-bin", name  # only `make fast-dlib` replaces one


# -- the wheel, installed ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A venv with the wheel installed (--no-deps) and the dev venv's packages for dependencies."""
    venv = tmp_path_factory.mktemp("installed") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # Installed before the .pth exists: pip must not find the dev venv's (editable) install.
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert pip.returncode == 0, pip.stderr
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert (Path(site) / "attendance_version.py").is_file()
    dev_paths = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (Path(site) / "dev_venv.pth").write_text("".join(f"{path}\n" for path in dev_paths))
    return venv


def clean_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}


def run_installed(venv: Path, command: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(venv / "bin" / command), *args], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=120
    )


def test_installed_commands_import_the_wheel_not_the_checkout(installed, tmp_path):
    shown = run_installed(
        installed,
        "python",
        "-c",
        "import attendance_version, client.desktop, db.schema, protocol, server.cli\n"
        "for m in (attendance_version, client.desktop, db.schema, protocol, server.cli):"
        " print(m.__file__)",
        cwd=tmp_path,
    )
    assert shown.returncode == 0, shown.stderr
    files = shown.stdout.split()
    assert len(files) == 5 and all(f.startswith(str(installed)) for f in files), files


def test_every_installed_command_prints_its_version(installed, tmp_path):
    version = declared_version()
    for command in COMMANDS:
        shown = run_installed(installed, command, "--version", cwd=tmp_path)
        assert (shown.returncode, shown.stdout, shown.stderr) == (0, f"{command} {version}\n", ""), command
    module = run_installed(installed, "python", "-m", "server", "--version", cwd=tmp_path)
    assert (module.returncode, module.stdout) == (0, f"attendance-server {version}\n")


def test_checkout_commands_print_the_same_version():
    """``python -m admin`` in the checkout (the editable install) says what setup.cfg says."""
    shown = subprocess.run(
        [sys.executable, "-m", "admin", "--version"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert (shown.returncode, shown.stdout) == (0, f"attendance-db {declared_version()}\n")


@pytest.fixture
def new_database(server_db_url):
    """A database name that does not exist yet; dropped afterwards."""
    url = server_db_url.with_database(f"attendance_pkg{os.getpid()}")
    admin = connect(server_db_url, database=False)
    try:
        with transaction(admin) as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{url.database}`")
        yield url
    finally:
        with transaction(admin) as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{url.database}`")
        admin.close()


def tables(url) -> set[tuple[str, str]]:
    with connect(url) as conn, transaction(conn) as cur:
        cur.execute("SHOW FULL TABLES")
        return {(name, kind) for name, kind in cur.fetchall()}


def test_installed_attendance_db_init_creates_the_schema_from_the_package_data(
    installed, new_database, db_url, tmp_path
):
    done = run_installed(installed, "attendance-db", "--db-url", new_database.to_url(), "init", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"created database {new_database.database}" in done.stdout
    assert tables(new_database) == tables(db_url)  # db_url: the checkout's schema (conftest.py)


def test_version_falls_back_to_setup_cfg_when_the_package_is_not_installed(tmp_path):
    """A checkout run without installing: no metadata (``-S``: no site-packages), setup.cfg beside."""
    (tmp_path / "attendance_version.py").write_bytes((REPO / "attendance_version.py").read_bytes())
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = classroom-attendance\nversion = 9.8.7\n")
    shown = subprocess.run(
        [sys.executable, "-S", "-c", "import attendance_version; print(attendance_version.version())"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (shown.returncode, shown.stdout, shown.stderr) == (0, "9.8.7\n", "")
