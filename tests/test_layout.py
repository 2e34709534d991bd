"""The import rules of the layout (docs/architecture.md), read from the source with ast.

db/ holds queries: it imports, of the project, only db/, protocol/ and reports/domain.py (the
types its report query returns), never server/, client/ or admin/ (admin/cli.py, the
``attendance-db`` command, is what runs server code). The report modules the desktop uses
(reports/domain.py, render.py, wire.py) import no database code, so the desktop app loads
neither db/ nor pymysql.

tests/ and bench/ share testkit/ and import each other never; no test imports tests.conftest
(pytest gives the fixtures); no benchmark edits sys.path (each runs as ``python -m bench.NAME``).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from testkit.paths import REPO

PROJECT_PACKAGES = {
    "admin",
    "attendance_version",
    "bench",
    "client",
    "db",
    "protocol",
    "reports",
    "scripts",
    "server",
    "testkit",
    "tests",
}


def imported_modules(source: str, package: str) -> set[str]:
    """Every module an import statement names (also inside functions), made absolute.

    ``from db import cli`` names both ``db`` and ``db.cli`` (cli may be a module).
    """
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from .x import y
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def imports_of(path: Path) -> set[str]:
    package = ".".join(path.relative_to(REPO).parts[:-1])
    return imported_modules(path.read_text(encoding="utf-8"), package)


def project_imports(path: Path) -> set[str]:
    return {name for name in imports_of(path) if name.split(".")[0] in PROJECT_PACKAGES}


def top_level(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def modules_of(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def test_imported_modules_reads_absolute_relative_and_nested_imports():
    source = (
        "import os\nfrom db.connection import connect\n"
        "def f():\n    from server import presence\nfrom . import schema\n"
    )
    assert imported_modules(source, "db") == {
        "os",
        "db.connection",
        "db.connection.connect",
        "server",
        "server.presence",
        "db",
        "db.schema",
    }


def test_db_imports_only_db_protocol_and_the_report_domain():
    allowed = ("db", "protocol", "reports.domain")
    found = {}
    for path in modules_of("db"):
        outside = {
            name
            for name in project_imports(path)
            if not any(name == top or name.startswith(top + ".") for top in allowed)
        }
        if outside:
            found[path.relative_to(REPO).as_posix()] = sorted(outside)
    assert found == {}
    assert project_imports(REPO / "db" / "reports.py") >= {"reports.domain"}  # the rule's one exception is used


def test_no_module_of_db_imports_server_or_client():
    for path in modules_of("db"):
        assert not top_level(imports_of(path)) & {"server", "client", "admin"}, path


def test_the_report_modules_the_desktop_uses_import_no_database_code():
    for name in ("domain", "render", "wire"):
        path = REPO / "reports" / f"{name}.py"
        assert not top_level(imports_of(path)) & {"db", "pymysql", "server", "client", "admin"}, path
        assert "reports.cli" not in imports_of(path), path  # the one report module that uses db/


def test_the_desktop_report_screen_loads_neither_db_nor_pymysql():
    check = (
        "import sys, client.desktop.report_view, client.desktop.report_model\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('db', 'pymysql', 'server'))\n"
        "print(' '.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", check], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == []


def imports_across(package: str, other: str) -> dict[str, list[str]]:
    """The modules of ``package`` that import ``other`` (or a module of it), and what they import."""
    found = {}
    for path in modules_of(package):
        hits = sorted(name for name in imports_of(path) if name == other or name.startswith(other + "."))
        if hits:
            found[path.relative_to(REPO).as_posix()] = hits
    return found


def test_tests_and_benchmarks_never_import_each_other():
    assert imports_across("tests", "bench") == {}
    assert imports_across("bench", "tests") == {}
    assert imports_across("testkit", "tests") == {}
    assert imports_across("testkit", "bench") == {}


def test_no_test_imports_conftest():
    assert {
        path: names
        for path, names in imports_across("tests", "tests").items()
        if any(name.startswith("tests.conftest") for name in names)
    } == {}


def edits_sys_path(source: str) -> bool:
    """Whether ``source`` changes sys.path: ``sys.path.insert/append/extend(...)`` or assigns it."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value
            if (
                node.func.attr in {"insert", "append", "extend"}
                and isinstance(target, ast.Attribute)
                and target.attr == "path"
                and isinstance(target.value, ast.Name)
                and target.value.id == "sys"
            ):
                return True
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(
                isinstance(x, ast.Attribute)
                and x.attr == "path"
                and isinstance(x.value, ast.Name)
                and x.value.id == "sys"
                for x in targets
            ):
                return True
    return False


def test_edits_sys_path_sees_insert_append_and_assignment():
    assert edits_sys_path("import sys\nsys.path.insert(0, 'x')\n")
    assert edits_sys_path("import sys\ndef f():\n    sys.path.append('x')\n")
    assert edits_sys_path("import sys\nsys.path = ['x']\n")
    assert not edits_sys_path("import sys\nprint(sys.path)\nsys.argv.append('x')\n")


def test_no_benchmark_edits_sys_path():
    assert [path.name for path in modules_of("bench") if edits_sys_path(path.read_text(encoding="utf-8"))] == []
    assert (REPO / "bench" / "__init__.py").is_file()  # a package: python -m bench.NAME
