"""Attendance reports: the domain (domain.py), its renderings (render.py: table, CSV, XLSX,
Markdown, the chart), the ``report`` reply of the framed protocol (wire.py) and the
``attendance-report`` command (cli.py).

domain.py, render.py and wire.py import no database code, so the desktop client uses them
without db/ or pymysql; db/reports.py has the report's SQL and returns domain.py's types, and
only cli.py imports db/.
"""
