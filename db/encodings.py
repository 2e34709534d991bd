"""Face encodings of enrollment photos (table face_encodings). Functions take a cursor, never commit.

An encoding is stored as 128 little-endian float64 (1024 bytes), or NULL for a photo in which no
usable face was found (so that the photo is not encoded again at every start). A row comes from
the server's knowns/ folder (``source`` knowns) or from an enrolment (``enrolled``, see
:func:`insert_enrolled`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pymysql

ENCODING_SIZE = 128
_DTYPE = np.dtype("<f8")
ENCODING_BYTES = ENCODING_SIZE * _DTYPE.itemsize  # 1024


@dataclass(frozen=True)
class EncodingRow:
    student_id: str
    photo_path: str  # relative to the knowns folder, '/'-separated
    photo_sha256: str  # hex
    face_count: int  # faces found in the photo
    encoding: np.ndarray | None  # (128,) float64, None when no face was found


def encoding_to_bytes(encoding) -> bytes:
    """(128,) numbers -> the 1024 bytes stored in the database."""
    array = np.asarray(encoding, dtype=_DTYPE)
    if array.shape != (ENCODING_SIZE,) or not np.isfinite(array).all():
        raise ValueError(f"an encoding is {ENCODING_SIZE} finite numbers, got shape {array.shape}")
    return array.tobytes()


def encoding_from_bytes(data: bytes) -> np.ndarray:
    """The 1024 stored bytes -> (128,) float64."""
    if len(data) != ENCODING_BYTES:
        raise ValueError(f"a stored encoding is {ENCODING_BYTES} bytes, got {len(data)}")
    return np.frombuffer(data, dtype=_DTYPE).astype(np.float64)


def load_encodings(cur, model: str, source: str | None = None) -> list[EncodingRow]:
    """Every row of this model (with or without a face), ordered by photo path; only those of
    ``source`` (knowns or enrolled) when given."""
    cur.execute(
        "SELECT student_id, photo_path, photo_sha256, face_count, encoding"
        " FROM face_encodings WHERE model = %s AND (%s IS NULL OR source = %s) ORDER BY photo_path",
        (model, source, source),
    )
    return [
        EncodingRow(
            student_id,
            photo_path,
            sha256,
            face_count,
            None if blob is None else _decode(blob, photo_path),
        )
        for student_id, photo_path, sha256, face_count, blob in cur.fetchall()
    ]


def load_photo_hashes(cur, model: str) -> dict[str, str]:
    """photo path -> SHA-256 (hex) of every knowns/ row of this model: what enrollment compares
    the photos with, without reading the encodings. Enrolled rows (``enroll``) are not included,
    so the knowns sync never deletes them."""
    cur.execute(
        "SELECT photo_path, photo_sha256 FROM face_encodings WHERE model = %s AND source = 'knowns'",
        (model,),
    )
    return dict(cur.fetchall())


def enrolled_photo_path(student_id: str, photo_sha256: str) -> str:
    """The photo_path of an enrolled (not knowns/) photo: one row per student and photo content."""
    return f"enrolled:{student_id}:{photo_sha256}"


def insert_enrolled(cur, student_id: str, photos, model: str) -> int:
    """Store enrolled photos of one student: ``photos`` is (SHA-256 hex, encoding, photo bytes or
    None) per photo. The same photo enrolled again replaces its row. Returns the rows written."""
    values = [
        (student_id, enrolled_photo_path(student_id, sha256), sha256, model, 1, encoding_to_bytes(encoding), photo)
        for sha256, encoding, photo in photos
    ]
    if values:
        cur.executemany(
            "INSERT INTO face_encodings"
            " (student_id, photo_path, photo_sha256, model, face_count, encoding, source, photo)"
            " VALUES (%s, %s, %s, %s, %s, %s, 'enrolled', %s)"
            " ON DUPLICATE KEY UPDATE encoding = VALUES(encoding), photo = VALUES(photo),"
            " created_at = CURRENT_TIMESTAMP",
            values,
        )
    return len(values)


def count_encodings(cur, student_id: str, model: str) -> int:
    """The student's stored encodings of this model (knowns/ and enrolled, with a face)."""
    cur.execute(
        "SELECT COUNT(*) FROM face_encodings WHERE student_id = %s AND model = %s AND encoding IS NOT NULL",
        (student_id, model),
    )
    return int(cur.fetchone()[0])


_UPSERT = (
    "INSERT INTO face_encodings (student_id, photo_path, photo_sha256, model, face_count, encoding)"
    " VALUES (%s, %s, %s, %s, %s, %s)"
    " ON DUPLICATE KEY UPDATE student_id = VALUES(student_id), photo_sha256 = VALUES(photo_sha256),"
    " face_count = VALUES(face_count), encoding = VALUES(encoding), created_at = CURRENT_TIMESTAMP"
)


def upsert_encoding(
    cur,
    *,
    student_id: str,
    photo_path: str,
    photo_sha256: str,
    model: str,
    face_count: int,
    encoding,
) -> None:
    """Insert or replace the row of (photo_path, model). encoding: (128,) numbers, or None."""
    upsert_encodings(cur, [EncodingRow(student_id, photo_path, photo_sha256, face_count, encoding)], model)


def upsert_encodings(cur, rows: Iterable[EncodingRow], model: str) -> int:
    """:func:`upsert_encoding` for many rows of this model at once (multi-row INSERT statements,
    each under about 1 MB). Returns the number of rows given."""
    values = [
        (
            row.student_id,
            row.photo_path,
            row.photo_sha256,
            model,
            row.face_count,
            None if row.encoding is None else encoding_to_bytes(row.encoding),
        )
        for row in rows
    ]
    if values:
        cur.executemany(_UPSERT, values)  # pymysql sends them as multi-row INSERTs
    return len(values)


def delete_encodings(cur, photo_paths: Iterable[str], model: str) -> int:
    """Delete the rows of these photos for this model. Returns the number of rows deleted."""
    deleted = 0
    for photo_path in photo_paths:
        cur.execute("DELETE FROM face_encodings WHERE photo_path = %s AND model = %s", (photo_path, model))
        deleted += cur.rowcount
    return deleted


def load_gallery_rows(
    cur, model: str, *, dtype=np.float64, chunk_rows: int = 10_000
) -> tuple[list[str], np.ndarray, dict[str, str]]:
    """The encodings to match against, with the students' names.

    The rows are streamed (an unbuffered cursor on the same connection, so in the same
    transaction) and converted ``chunk_rows`` at a time: 100,000 encodings need the result plus
    about 15 MB, not the whole result set as Python objects as well (~135 MB).

    :param dtype: of the returned matrix (the server's gallery asks for float32).
    :return: (student ID of each encoding, (n, 128) matrix, {student ID: name}); only rows that
        have an encoding, in the order they were stored.
    """
    student_ids, names, parts = [], {}, []
    stream = cur.connection.cursor(pymysql.cursors.SSCursor)
    try:
        # In primary-key order: no sort of the (blob) rows on the database server.
        stream.execute(
            "SELECT e.student_id, s.name, e.photo_path, e.encoding"
            " FROM face_encodings AS e JOIN students AS s ON s.student_id = e.student_id"
            " WHERE e.model = %s AND e.encoding IS NOT NULL ORDER BY e.encoding_id",
            (model,),
        )
        while rows := stream.fetchmany(chunk_rows):
            blobs = []
            for student_id, name, photo_path, blob in rows:
                if len(blob) != ENCODING_BYTES:
                    _decode(blob, photo_path)  # raises, naming the photo
                student_ids.append(student_id)
                names[student_id] = name
                blobs.append(blob)
            chunk = np.frombuffer(b"".join(blobs), dtype=_DTYPE).reshape(len(blobs), ENCODING_SIZE)
            parts.append(chunk.astype(dtype))
    finally:
        stream.close()
    matrix = np.concatenate(parts) if parts else np.empty((0, ENCODING_SIZE), dtype=dtype)
    return student_ids, matrix, names


def _decode(blob: bytes, photo_path: str) -> np.ndarray:
    try:
        return encoding_from_bytes(bytes(blob))
    except ValueError as exc:
        raise ValueError(f"face_encodings row of {photo_path!r}: {exc}") from exc
