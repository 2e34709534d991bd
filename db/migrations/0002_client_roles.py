"""Migration 2: client roles, and batch IDs scoped to their client and lecture.

- ``clients.role`` (kiosk, camera, professor, admin): every client that exists already becomes
  ``admin``, so that nothing it did before the upgrade is refused after it (docs/maintenance.md:
  give each one its real role with ``attendance-db set-role``). The column then loses its
  default: a new client is always given its role.
- ``client_lectures``: the lectures a client serves (none: every lecture).
- ``applied_batches``: the key becomes (client_name, lecture_id, batch_id), so that a batch_id
  another client (or another lecture) used before is a batch of its own instead of a "replay"
  that writes nothing; ``lecture_id`` is filled from each batch's session, and
  ``request_sha256`` (the batch's content) stays NULL for the batches applied before.

Python rather than SQL because each step looks first (MySQL 8 has no ``ADD COLUMN IF NOT
EXISTS``), so that running it again after a failure halfway finishes the job.
"""

from __future__ import annotations

CLIENT_LECTURES = """
CREATE TABLE IF NOT EXISTS client_lectures (
    client_id   INT  NOT NULL,
    lecture_id  INT  NOT NULL,
    PRIMARY KEY (client_id, lecture_id),
    KEY ix_client_lectures_lecture (lecture_id),
    CONSTRAINT fk_client_lectures_client FOREIGN KEY (client_id) REFERENCES clients (client_id),
    CONSTRAINT fk_client_lectures_lecture FOREIGN KEY (lecture_id) REFERENCES lectures (lecture_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
"""

BATCH_KEY = ("client_name", "lecture_id", "batch_id")


def _has_column(cursor, table: str, column: str) -> bool:
    cursor.execute(
        "SELECT COUNT(*) FROM information_schema.COLUMNS"
        " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND COLUMN_NAME = %s",
        (table, column),
    )
    return cursor.fetchone()[0] > 0


def _has_constraint(cursor, table: str, name: str) -> bool:
    cursor.execute(
        "SELECT COUNT(*) FROM information_schema.TABLE_CONSTRAINTS"
        " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND CONSTRAINT_NAME = %s",
        (table, name),
    )
    return cursor.fetchone()[0] > 0


def _primary_key(cursor, table: str) -> tuple[str, ...]:
    cursor.execute(
        "SELECT COLUMN_NAME FROM information_schema.STATISTICS"
        " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX",
        (table,),
    )
    return tuple(name for (name,) in cursor.fetchall())


def apply(cursor) -> None:
    # Every table and column name below is this module's own text.
    if not _has_column(cursor, "clients", "role"):
        cursor.execute(
            "ALTER TABLE clients ADD COLUMN role ENUM('kiosk', 'camera', 'professor', 'admin') NOT NULL DEFAULT 'admin'"
        )
    cursor.execute("ALTER TABLE clients ALTER COLUMN role DROP DEFAULT")
    cursor.execute(CLIENT_LECTURES)

    if not _has_column(cursor, "applied_batches", "lecture_id"):
        cursor.execute("ALTER TABLE applied_batches ADD COLUMN lecture_id INT NULL")
    cursor.execute(
        "UPDATE applied_batches b JOIN class_sessions s ON s.session_id = b.session_id"
        " SET b.lecture_id = s.lecture_id WHERE b.lecture_id IS NULL"
    )
    cursor.execute("ALTER TABLE applied_batches MODIFY lecture_id INT NOT NULL")
    if not _has_column(cursor, "applied_batches", "request_sha256"):
        cursor.execute("ALTER TABLE applied_batches ADD COLUMN request_sha256 CHAR(64) NULL")
    if _primary_key(cursor, "applied_batches") != BATCH_KEY:
        cursor.execute(
            "ALTER TABLE applied_batches DROP PRIMARY KEY, ADD PRIMARY KEY (client_name, lecture_id, batch_id)"
        )
    if not _has_constraint(cursor, "applied_batches", "fk_batches_lecture"):
        cursor.execute(
            "ALTER TABLE applied_batches ADD CONSTRAINT fk_batches_lecture"
            " FOREIGN KEY (lecture_id) REFERENCES lectures (lecture_id)"
        )
