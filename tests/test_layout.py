"""The import rules of the layout (docs/architecture.md), read from the source with ast.

db/ holds queries: it imports, of the project, only db/, protocol/ and reports/domain.py (the
types its report query returns), never server/, client/ or admin/ (admin/cli.py, the
``attendance-db`` command, is what runs server code). The report modules the desktop uses
(reports/domain.py, render.py, wire.py) import no database code, so the desktop app loads
neither db/ nor pymysql.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = {"admin", "attendance_version", "bench", "client", "db", "protocol", "reports", "scripts",
                    "server", "tests"}


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
    source = ("import os\nfrom db.connection import connect\n"
              "def f():\n    from server import presence\nfrom . import schema\n")
    assert imported_modules(source, "db") == {"os", "db.connection", "db.connection.connect", "server",
                                              "server.presence", "db", "db.schema"}


def test_db_imports_only_db_protocol_and_the_report_domain():
    allowed = ("db", "protocol", "reports.domain")
    found = {}
    for path in modules_of("db"):
        outside = {name for name in project_imports(path)
                   if not any(name == top or name.startswith(top + ".") for top in allowed)}
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
    check = ("import sys, client.desktop.report_view, client.desktop.report_model\n"
             "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('db', 'pymysql', 'server'))\n"
             "print(' '.join(loaded))\n")
    result = subprocess.run([sys.executable, "-c", check], cwd=REPO, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == []
