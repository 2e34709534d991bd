"""Face encodings of enrollment photos (table face_encodings). Functions take a cursor, never commit.

An encoding is stored as 128 little-endian float64 (1024 bytes), or NULL for a photo in which no
usable face was found (so that the photo is not encoded again at every start).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

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


def load_encodings(cur, model: str) -> list[EncodingRow]:
    """Every row of this model (with or without a face), ordered by photo path."""
    cur.execute(
        "SELECT student_id, photo_path, photo_sha256, face_count, encoding"
        " FROM face_encodings WHERE model = %s ORDER BY photo_path",
        (model,),
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
    blob = None if encoding is None else encoding_to_bytes(encoding)
    cur.execute(
        "INSERT INTO face_encodings (student_id, photo_path, photo_sha256, model, face_count, encoding)"
        " VALUES (%s, %s, %s, %s, %s, %s)"
        " ON DUPLICATE KEY UPDATE student_id = VALUES(student_id), photo_sha256 = VALUES(photo_sha256),"
        " face_count = VALUES(face_count), encoding = VALUES(encoding), created_at = CURRENT_TIMESTAMP",
        (student_id, photo_path, photo_sha256, model, face_count, blob),
    )


def delete_encodings(cur, photo_paths: Iterable[str], model: str) -> int:
    """Delete the rows of these photos for this model. Returns the number of rows deleted."""
    deleted = 0
    for photo_path in photo_paths:
        cur.execute(
            "DELETE FROM face_encodings WHERE photo_path = %s AND model = %s", (photo_path, model)
        )
        deleted += cur.rowcount
    return deleted


def load_gallery_rows(cur, model: str) -> tuple[list[str], np.ndarray, dict[str, str]]:
    """The encodings to match against, with the students' names.

    :return: (student ID of each encoding, (n, 128) float64 matrix, {student ID: name}); only rows
        that have an encoding.
    """
    cur.execute(
        "SELECT e.student_id, s.name, e.photo_path, e.encoding"
        " FROM face_encodings AS e JOIN students AS s ON s.student_id = e.student_id"
        " WHERE e.model = %s AND e.encoding IS NOT NULL ORDER BY e.student_id, e.photo_path",
        (model,),
    )
    student_ids, names, blobs = [], {}, []
    for student_id, name, photo_path, blob in cur.fetchall():
        if len(blob) != ENCODING_BYTES:
            _decode(blob, photo_path)  # raises, naming the photo
        student_ids.append(student_id)
        names[student_id] = name
        blobs.append(blob)
    matrix = np.frombuffer(b"".join(blobs), dtype=_DTYPE).reshape(len(blobs), ENCODING_SIZE)
    return student_ids, matrix.astype(np.float64), names


def _decode(blob: bytes, photo_path: str) -> np.ndarray:
    try:
        return encoding_from_bytes(bytes(blob))
    except ValueError as exc:
        raise ValueError(f"face_encodings row of {photo_path!r}: {exc}") from exc
