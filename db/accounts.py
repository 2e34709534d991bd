"""The database account the server runs as: only the privileges it needs (docs/deploy.md).

``attendance-db create-server-account`` runs :func:`create_server_account` as an administrator.
The server reads every table, writes sessions, marks, batches, presence samples and face
encodings (the enrollment photos it encodes at start, which may also add students), and changes
no table's structure. Functions take a cursor and never commit.
"""

from __future__ import annotations

import re

#: Table -> the privileges the server needs on it (nothing else: no DDL, no other database).
SERVER_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "students": ("SELECT", "INSERT", "UPDATE"),  # enrollment photos may add students
    "lectures": ("SELECT",),
    "enrollments": ("SELECT",),
    "class_sessions": ("SELECT", "INSERT", "UPDATE"),
    "attendance": ("SELECT", "INSERT", "UPDATE"),
    "mark_history": ("SELECT", "INSERT"),  # every change of a mark; never changed afterwards
    "applied_batches": ("SELECT", "INSERT"),
    "face_encodings": ("SELECT", "INSERT", "UPDATE", "DELETE"),  # removed photos lose their rows
    "clients": ("SELECT",),
    "client_lectures": ("SELECT",),  # the lectures each client serves (server/authorization.py)
    # classroom camera (docs/camera.md)
    "presence_samples": ("SELECT", "INSERT", "UPDATE"),
    "presence_sightings": ("SELECT", "INSERT", "UPDATE"),
    # uncertain check-ins waiting for the professor (docs/recognition.md)
    "pending_checkins": ("SELECT", "INSERT", "UPDATE"),
    "pending_candidates": ("SELECT", "INSERT"),
    "schema_migrations": ("SELECT",),  # the server checks the schema version at start
}

_USER = re.compile(r"[A-Za-z0-9_]{1,32}\Z")
_HOST = re.compile(r"[A-Za-z0-9.%_:-]{1,60}\Z")
_DATABASE = re.compile(r"[A-Za-z0-9_]{1,64}\Z")


def check_account(user: str, host: str) -> None:
    """Raise ValueError unless ``user`` and ``host`` are plain names we accept."""
    if not _USER.match(user):
        raise ValueError(f"account name must be 1-32 letters, digits or '_': {user!r}")
    if not _HOST.match(host):
        raise ValueError(f"account host must be a host name, an IP address or '%': {host!r}")


def account_exists(cur, user: str, host: str) -> bool:
    cur.execute("SELECT 1 FROM mysql.user WHERE User = %s AND Host = %s", (user, host))
    return cur.fetchone() is not None


def create_server_account(cur, *, database: str, user: str, host: str, password: str) -> bool:
    """Create ``'user'@'host'`` with ``password`` when missing, then grant it SERVER_PRIVILEGES
    on ``database``'s tables (which must exist: run ``attendance-db init`` first).

    An existing account keeps its password and gets the grants again. True when created.
    Works on MySQL 8 and MariaDB 10.11.
    """
    check_account(user, host)
    if not _DATABASE.match(database):
        raise ValueError(f"database name must be letters, digits and '_': {database!r}")
    created = not account_exists(cur, user, host)
    if created:
        # Account names and the password are ordinary string literals here: parameters.
        cur.execute("CREATE USER %s@%s IDENTIFIED BY %s", (user, host, password))
    for table, privileges in SERVER_PRIVILEGES.items():
        # Identifiers cannot be parameters: the database name is checked above, table names
        # come from the dict.
        cur.execute(f"GRANT {', '.join(privileges)} ON `{database}`.`{table}` TO %s@%s", (user, host))
    return created


def account_grants(cur, user: str, host: str) -> list[str]:
    """SHOW GRANTS for the account, one statement per line (the password hash left out)."""
    check_account(user, host)
    cur.execute("SHOW GRANTS FOR %s@%s", (user, host))
    return [re.sub(r" IDENTIFIED BY PASSWORD '[^']*'", "", grant) for (grant,) in cur.fetchall()]


def drop_account(cur, user: str, host: str) -> None:
    """DROP USER IF EXISTS (for tests)."""
    check_account(user, host)
    cur.execute("DROP USER IF EXISTS %s@%s", (user, host))
