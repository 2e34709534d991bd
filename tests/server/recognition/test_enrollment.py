"""Enrollment: knowns/ -> face_encodings (real MariaDB) -> Gallery; and db.encodings itself.

Each test has an emptied database (one per test process), and the photos are encoded once per
module: ``pool`` wraps one RecognitionPool, remembers the result for each distinct photo content
and records which photos sync_knowns asked it to encode.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from db import encodings as db_encodings
from db.connection import transaction
from server.recognition.enrollment import EncodingProgress, load_gallery, scan_knowns, sync_knowns
from server.recognition.faces import ENROLMENT_MODEL, MODEL_NAME
from server.recognition.pool import PhotoEncoding, RecognitionPool

OBAMA, BIDEN = "201911001", "201911002"


class CachingPool:
    """encode_photos() of a real pool, computed once per photo content; ``asked`` lists file names."""

    def __init__(self, pool: RecognitionPool, cache: dict[str, PhotoEncoding]):
        self.pool = pool
        self.cache = cache  # SHA-256 of the file -> result
        self.asked: list[str] = []

    def encode_photos(self, paths, progress=None) -> list[PhotoEncoding]:  # progress: not reported
        paths = [Path(p) for p in paths]
        self.asked = [p.name for p in paths]
        keys = [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]
        missing = {key: path for key, path in zip(keys, paths) if key not in self.cache}
        self.cache.update(zip(missing, self.pool.encode_photos(list(missing.values()))))
        return [self.cache[key] for key in keys]


@pytest.fixture
def db_url(cleared_db_url):
    """These tests only write rows: one database for the module, emptied before each test."""
    return cleared_db_url


@pytest.fixture(scope="module")
def real_pool():
    with RecognitionPool(2) as pool:
        yield pool


@pytest.fixture(scope="module")
def encoded_photos() -> dict[str, PhotoEncoding]:
    return {}


@pytest.fixture
def pool(real_pool, encoded_photos) -> CachingPool:
    return CachingPool(real_pool, encoded_photos)


@pytest.fixture
def knowns(faces_dir, tmp_path) -> Path:
    """A writable copy of the six sample enrollment photos."""
    return Path(shutil.copytree(faces_dir / "knowns", tmp_path / "knowns"))


def _rows(conn) -> dict[str, db_encodings.EncodingRow]:
    with transaction(conn) as cur:
        return {row.photo_path: row for row in db_encodings.load_encodings(cur, ENROLMENT_MODEL)}


def test_first_run_adds_every_photo_and_second_run_encodes_nothing(db_conn, faces_dir, pool):
    report = sync_knowns(db_conn, faces_dir / "knowns", pool)
    assert (report.added, report.updated, report.unchanged, report.removed) == (6, 0, 0, 0)
    assert report.no_face == [] and report.multi_face == []
    assert len(pool.asked) == 6

    again = sync_knowns(db_conn, faces_dir / "knowns", pool)
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 6, 0)
    assert pool.asked == []

    gallery = load_gallery(db_conn)
    assert len(gallery) == 6
    assert gallery.student_ids == tuple(f"20191100{i}" for i in range(1, 7))
    assert gallery.name_of("201911006") == "lin manuel miranda"
    rows = _rows(db_conn)
    assert sorted(rows) == sorted(p.name for p in (faces_dir / "knowns").iterdir())
    row = rows["201911001_obama.jpg"]
    assert row.face_count == 1 and row.encoding.shape == (128,)
    assert row.photo_sha256 == hashlib.sha256((faces_dir / "knowns" / "201911001_obama.jpg").read_bytes()).hexdigest()


def test_changed_photo_is_encoded_again_and_removed_photo_is_dropped(db_conn, faces_dir, knowns, pool):
    sync_knowns(db_conn, knowns, pool)
    before = _rows(db_conn)["201911001_obama.jpg"]

    shutil.copyfile(faces_dir / "probes" / "obama_2.jpg", knowns / "201911001_obama.jpg")
    (knowns / "201911002_biden.jpg").unlink()
    report = sync_knowns(db_conn, knowns, pool)
    assert (report.added, report.updated, report.unchanged, report.removed) == (0, 1, 4, 1)
    assert pool.asked == ["201911001_obama.jpg"]

    rows = _rows(db_conn)
    assert "201911002_biden.jpg" not in rows
    after = rows["201911001_obama.jpg"]
    assert after.photo_sha256 != before.photo_sha256
    assert not np.array_equal(after.encoding, before.encoding)
    gallery = load_gallery(db_conn)
    assert BIDEN not in gallery.student_ids and OBAMA in gallery.student_ids
    with transaction(db_conn) as cur:  # the student stays (attendance may refer to them)
        cur.execute("SELECT name FROM students WHERE student_id = %s", (BIDEN,))
        assert cur.fetchone() == ("biden",)


def test_photo_without_a_face_is_stored_without_encoding_and_not_encoded_again(
    db_conn, faces_dir, knowns, pool, caplog
):
    shutil.copyfile(faces_dir / "negatives" / "dogs.jpg", knowns / "201911099_nobody.jpg")
    with caplog.at_level(logging.WARNING):
        report = sync_knowns(db_conn, knowns, pool)
    assert report.added == 7 and report.no_face == ["201911099_nobody.jpg"]
    assert any("201911099_nobody.jpg" in r.getMessage() and "no face" in r.getMessage() for r in caplog.records)
    row = _rows(db_conn)["201911099_nobody.jpg"]
    assert row.face_count == 0 and row.encoding is None
    assert "201911099" not in load_gallery(db_conn).student_ids

    again = sync_knowns(db_conn, knowns, pool)
    assert (again.added, again.unchanged, again.no_face) == (0, 7, [])
    assert pool.asked == []


def test_folder_of_photos_gives_several_encodings_and_several_faces_use_the_largest(
    db_conn, faces_dir, knowns, pool, caplog
):
    folder = knowns / "201911007_two_photos"
    folder.mkdir()
    shutil.copyfile(faces_dir / "probes" / "kit_harington_2.jpg", folder / "a.JPG")
    shutil.copyfile(faces_dir / "probes" / "kit_harington_3.jpg", folder / "b.jpeg")
    shutil.copyfile(faces_dir / "groups" / "obama_biden_1.jpg", knowns / "201911008_the_pair.jpg")
    with caplog.at_level(logging.WARNING):
        report = sync_knowns(db_conn, knowns, pool)
    assert report.added == 9
    assert report.multi_face == ["201911008_the_pair.jpg"]
    assert any("201911008_the_pair.jpg" in r.getMessage() and "2 faces" in r.getMessage() for r in caplog.records)

    rows = _rows(db_conn)
    assert rows["201911007_two_photos/a.JPG"].student_id == "201911007"
    assert rows["201911008_the_pair.jpg"].face_count == 2
    gallery = load_gallery(db_conn)
    assert len(gallery) == 9 and len(gallery.student_ids) == 8
    assert gallery.name_of("201911007") == "two photos"


def test_badly_named_entries_are_skipped_with_a_warning(faces_dir, tmp_path, caplog):
    photo = (faces_dir / "knowns" / "201911001_obama.jpg").read_bytes()
    for name in [
        "201911001_barack_obama.JPG",
        "obama.jpg",
        "12345_short.jpg",
        "201911001.jpg",
        "201911001obama.jpg",
        "101911001_too_low.jpg",
        "201911001_obama.gif",
        "notes.txt",
    ]:
        (tmp_path / name).write_bytes(photo)
    (tmp_path / ".gitkeep").write_bytes(b"")
    (tmp_path / "README.md").write_text("enrollment photos")
    (tmp_path / "not_a_student").mkdir()
    (tmp_path / "201911003_alex").mkdir()
    (tmp_path / "201911003_alex" / "one.png").write_bytes(photo)
    (tmp_path / "201911003_alex" / "list.txt").write_text("")

    with caplog.at_level(logging.WARNING):
        photos = scan_knowns(tmp_path)
    assert [(p.student_id, p.name, p.rel_path) for p in photos] == [
        ("201911001", "barack obama", "201911001_barack_obama.JPG"),
        ("201911003", "alex", "201911003_alex/one.png"),
    ]
    warned = " ".join(r.getMessage() for r in caplog.records)
    for skipped in [
        "obama.jpg",
        "12345_short.jpg",
        "201911001.jpg",
        "201911001obama.jpg",
        "101911001_too_low.jpg",
        "201911001_obama.gif",
        "notes.txt",
        "not_a_student",
        "list.txt",
    ]:
        assert skipped in warned
    assert ".gitkeep" not in warned and "README" not in warned
    assert len(caplog.records) == 9


def test_unreadable_photo_is_reported_not_fatal(db_conn, knowns, pool, caplog):
    (knowns / "201911009_broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    with caplog.at_level(logging.WARNING):
        report = sync_knowns(db_conn, knowns, pool)
    assert report.added == 7 and report.no_face == ["201911009_broken.jpg"]
    assert any("201911009_broken.jpg" in r.getMessage() for r in caplog.records)
    assert _rows(db_conn)["201911009_broken.jpg"].encoding is None


def test_encoding_rows_round_trip(db_conn):
    encoding = np.linspace(-1, 1, 128)
    assert len(db_encodings.encoding_to_bytes(encoding)) == 1024
    assert db_encodings.encoding_to_bytes(encoding)[:8] == np.float64(-1).tobytes()  # little-endian
    with transaction(db_conn) as cur:
        cur.execute("INSERT INTO students (student_id, name) VALUES ('201911001', 'Ann'), ('201911002', 'Bob')")
        for path, student, value in [("a.jpg", "201911001", encoding), ("b.jpg", "201911002", None)]:
            db_encodings.upsert_encoding(
                cur,
                student_id=student,
                photo_path=path,
                photo_sha256="0" * 64,
                model=MODEL_NAME,
                face_count=0 if value is None else 1,
                encoding=value,
            )
        db_encodings.upsert_encoding(
            cur,
            student_id="201911001",
            photo_path="c.jpg",
            photo_sha256="1" * 64,
            model="another_model",
            face_count=1,
            encoding=encoding,
        )
        db_encodings.upsert_encoding(
            cur,
            student_id="201911001",
            photo_path="a.jpg",
            photo_sha256="2" * 64,
            model=MODEL_NAME,
            face_count=3,
            encoding=-encoding,
        )  # replaces
        rows = db_encodings.load_encodings(cur, MODEL_NAME)
        ids, matrix, names = db_encodings.load_gallery_rows(cur, MODEL_NAME)
        assert db_encodings.delete_encodings(cur, ["b.jpg", "c.jpg", "missing.jpg"], MODEL_NAME) == 1
        left = db_encodings.load_encodings(cur, MODEL_NAME)
    assert [(r.photo_path, r.photo_sha256[0], r.face_count) for r in rows] == [("a.jpg", "2", 3), ("b.jpg", "0", 0)]
    assert np.array_equal(rows[0].encoding, -encoding) and rows[1].encoding is None
    assert ids == ["201911001"] and matrix.shape == (1, 128) and np.array_equal(matrix[0], -encoding)
    assert names == {"201911001": "Ann"}
    assert [r.photo_path for r in left] == ["a.jpg"]
    with pytest.raises(ValueError, match="128"):
        db_encodings.encoding_to_bytes(np.zeros(127))


def test_many_encoding_rows_are_written_at_once_and_their_hashes_read_back(db_conn):
    rng = np.random.default_rng(3)
    ids = [str(203000000 + i) for i in range(1500)]
    with transaction(db_conn) as cur:
        cur.executemany("INSERT INTO students (student_id, name) VALUES (%s, %s)", [(s, f"s{s}") for s in ids])
        rows = [
            db_encodings.EncodingRow(
                sid, f"{sid}_s.jpg", f"{i:064x}", 1 if i % 7 else 0, rng.normal(size=128) if i % 7 else None
            )
            for i, sid in enumerate(ids)
        ]
        assert db_encodings.upsert_encodings(cur, rows, MODEL_NAME) == 1500  # > 1 MB: several statements
        assert db_encodings.upsert_encodings(cur, [], MODEL_NAME) == 0
        replaced = db_encodings.EncodingRow(ids[1], rows[1].photo_path, "f" * 64, 2, -rows[1].encoding)
        db_encodings.upsert_encodings(cur, [replaced], MODEL_NAME)
        hashes = db_encodings.load_photo_hashes(cur, MODEL_NAME)
        stored = {row.photo_path: row for row in db_encodings.load_encodings(cur, MODEL_NAME)}
    assert len(hashes) == 1500 and hashes[rows[0].photo_path] == rows[0].photo_sha256
    assert hashes[rows[1].photo_path] == "f" * 64
    assert stored[rows[0].photo_path].encoding is None and stored[rows[0].photo_path].face_count == 0
    assert np.array_equal(stored[rows[1].photo_path].encoding, -rows[1].encoding)
    assert stored[rows[1].photo_path].face_count == 2
    assert np.array_equal(stored[rows[8].photo_path].encoding, rows[8].encoding)


def test_gallery_rows_are_read_in_chunks_and_a_bad_row_is_named(db_conn):
    rng = np.random.default_rng(4)
    encodings = rng.normal(size=(25, 128))
    with transaction(db_conn) as cur:
        cur.executemany(
            "INSERT INTO students (student_id, name) VALUES (%s, %s)",
            [(str(203000000 + i), f"n{i}") for i in range(25)],
        )
        db_encodings.upsert_encodings(
            cur,
            [
                db_encodings.EncodingRow(str(203000000 + i), f"{i:02d}.jpg", "0" * 64, 1, encodings[i])
                for i in range(25)
            ],
            MODEL_NAME,
        )
        ids, matrix, names = db_encodings.load_gallery_rows(cur, MODEL_NAME, dtype=np.float32, chunk_rows=10)
    assert ids == [str(203000000 + i) for i in range(25)] and names[ids[24]] == "n24"
    assert matrix.dtype == np.float32 and np.array_equal(matrix, encodings.astype(np.float32))
    with transaction(db_conn) as cur:
        cur.execute("UPDATE face_encodings SET encoding = %s WHERE photo_path = '17.jpg'", (b"\0" * 1000,))
        with pytest.raises(ValueError, match="17.jpg"):
            db_encodings.load_gallery_rows(cur, MODEL_NAME, chunk_rows=10)
        cur.execute("SELECT COUNT(*) FROM face_encodings")  # the connection is still usable
        assert cur.fetchone() == (25,)


# -- WebP and HEIC/HEIF enrollment photos -------------------------------------------------------


def _save_as(source: Path, target: Path, fmt: str) -> Path:
    """Write the photo at ``source`` in ``fmt`` (WEBP, HEIF) to ``target`` (which may be
    ``source``), whatever its suffix. Imported here: these tests are appended to the module."""
    import PIL.Image

    from testkit import photos

    with PIL.Image.open(source) as image:
        data = photos.encoded(image, fmt, quality=60)  # all read before target is overwritten
    target.write_bytes(data)
    return target


def test_webp_heic_and_heif_photos_are_scanned_in_any_case(faces_dir, tmp_path, caplog):
    photo = (faces_dir / "knowns" / "201911001_obama.jpg").read_bytes()
    for name in ["201911001_a.webp", "201911002_b.HEIC", "201911003_c.Heif", "201911004_d.gif"]:
        (tmp_path / name).write_bytes(photo)  # the scan goes by name; the bytes do not matter here
    (tmp_path / "201911005_e").mkdir()
    for name in ["one.WEBP", "two.heic", "three.heif", "four.bmp"]:
        (tmp_path / "201911005_e" / name).write_bytes(photo)
    with caplog.at_level(logging.WARNING):
        photos = scan_knowns(tmp_path)
    assert [p.rel_path for p in photos] == [
        "201911001_a.webp",
        "201911002_b.HEIC",
        "201911003_c.Heif",
        "201911005_e/one.WEBP",
        "201911005_e/three.heif",
        "201911005_e/two.heic",
    ]
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2
    assert all(".jpg/.jpeg/.png/.webp/.heic/.heif" in message for message in warnings)
    assert "201911004_d.gif" in warnings[0] and "four.bmp" in warnings[1]


def _stored_rows(conn) -> dict[str, tuple[str, int, str, np.ndarray | None]]:
    """photo path -> (student ID, face count, SHA-256, encoding) of every face_encodings row
    (whatever the model: a test's fresh database holds the rows of one sync only)."""
    with transaction(conn) as cur:
        cur.execute("SELECT photo_path, student_id, face_count, photo_sha256, encoding FROM face_encodings")
        return {
            path: (sid, count, sha, None if blob is None else db_encodings.encoding_from_bytes(blob))
            for path, sid, count, sha, blob in cur.fetchall()
        }


def test_webp_and_heic_photos_enrol_like_the_jpeg(db_conn, faces_dir, knowns, pool):
    """Obama as HEIC, Biden as WebP, Alex as a WebP named .jpg, Kit in a folder as .heif."""
    jpegs = {sid: next(knowns.glob(f"{sid}_*.jpg")) for sid in ("201911001", "201911002", "201911003", "201911004")}
    originals = {sid: path.read_bytes() for sid, path in jpegs.items()}
    jpeg_results = dict(zip(jpegs, pool.encode_photos(list(jpegs.values()))))
    _save_as(jpegs[OBAMA], knowns / "201911001_obama.heic", "HEIF")
    _save_as(jpegs[BIDEN], knowns / "201911002_biden.webp", "WEBP")
    _save_as(jpegs["201911003"], jpegs["201911003"], "WEBP")  # same name, WebP inside
    folder = knowns / "201911004_kit_harington"
    folder.mkdir()
    _save_as(jpegs["201911004"], folder / "front.HEIF", "HEIF")
    for sid in (OBAMA, BIDEN, "201911004"):
        jpegs[sid].unlink()
    assert (knowns / "201911003_alex_lacamoire.jpg").read_bytes()[8:12] == b"WEBP"

    report = sync_knowns(db_conn, knowns, pool)
    assert (report.added, report.no_face, report.multi_face) == (6, [], [])
    rows = _stored_rows(db_conn)
    converted = {
        OBAMA: "201911001_obama.heic",
        BIDEN: "201911002_biden.webp",
        "201911003": "201911003_alex_lacamoire.jpg",
        "201911004": "201911004_kit_harington/front.HEIF",
    }
    for sid, rel_path in converted.items():
        student_id, face_count, sha256, encoding = rows[rel_path]
        assert student_id == sid and face_count == 1, rel_path
        assert sha256 != hashlib.sha256(originals[sid]).hexdigest()
        distance = np.linalg.norm(encoding - jpeg_results[sid].encoding)
        assert distance < 0.1, (rel_path, distance)  # the same face; the threshold is 0.6
    assert len(load_gallery(db_conn)) == 6


class FakeClock:
    """Seconds that pass only when the test says so (EncodingProgress is pure code)."""

    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_of_a_small_set_is_a_line_per_photo():
    lines, clock = [], FakeClock()
    progress = EncodingProgress(5, lines.append, clock=clock)
    for done in range(1, 6):
        clock.now += 2
        progress(done)
    assert lines == [
        "encoded 1/5 photos, about 8 s left",
        "encoded 2/5 photos, about 6 s left",
        "encoded 3/5 photos, about 4 s left",
        "encoded 4/5 photos, about 2 s left",
        "encoded 5/5 photos in 10 s",
    ]


def test_progress_of_a_large_set_is_a_line_per_tenth_and_at_least_every_ten_seconds():
    lines, clock = [], FakeClock()
    progress = EncodingProgress(63, lines.append, clock=clock)  # a line every 7 photos
    for done in range(1, 64):
        clock.now += 0.4
        progress(done)
    assert [line.split(",")[0] for line in lines] == [f"encoded {n}/63 photos" for n in range(7, 63, 7)] + [
        "encoded 63/63 photos in 25 s"
    ]
    assert lines[0] == "encoded 7/63 photos, about 22 s left"

    lines.clear()
    slow = EncodingProgress(1000, lines.append, clock=clock)  # every 100 photos, or 10 s of silence
    for done in range(1, 61):
        clock.now += 1.0  # one photo a second
        slow(done)
    assert [line.split(",")[0] for line in lines] == [f"encoded {n}/1000 photos" for n in (10, 20, 30, 40, 50, 60)]


def test_sync_knowns_says_how_many_photos_it_encodes_then_progress(db_conn, knowns, real_pool, caplog):
    (knowns / "201911002_biden.jpg").unlink()
    with caplog.at_level(logging.INFO, logger="server.recognition.enrollment"):
        sync_knowns(db_conn, knowns, real_pool, encoding_note="the port opens when done")
    messages = [r.getMessage() for r in caplog.records if r.name == "server.recognition.enrollment"]
    assert messages[0] == f"{knowns}: encoding 5 new or changed photos (0 unchanged); the port opens when done"
    assert [m.split(",")[0].split(" in ")[0] for m in messages[1:]] == [f"encoded {n}/5 photos" for n in range(1, 6)]

    shutil.copyfile(knowns / "201911001_obama.jpg", knowns / "201911002_biden.jpg")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="server.recognition.enrollment"):
        sync_knowns(db_conn, knowns, real_pool)
    messages = [r.getMessage() for r in caplog.records if r.name == "server.recognition.enrollment"]
    assert messages[0] == f"{knowns}: encoding 1 new or changed photo (5 unchanged)"
    assert messages[1].startswith("encoded 1/1 photos in ")
