"""server/eval_cache.py: attendance-eval's encodings kept between runs, one file per fingerprint
of what they depend on, photos found by their bytes."""

from __future__ import annotations

import numpy as np

from server import eval_cache
from server.eval_cache import ViewCache, photo_key
from server.recognition.pool import PhotoViews


def _views(seed: int) -> PhotoViews:
    photo, frame, enrolment = np.random.default_rng(seed).normal(size=(3, 128))
    return PhotoViews(2, photo, frame, enrolment)


def test_views_come_back_from_the_file_as_they_were_stored(tmp_path):
    stored = ViewCache(tmp_path, "numpy")
    no_face, unusable = PhotoViews(0, None, None, None), PhotoViews(0, None, None, None, "not an image")
    stored.update([("a", _views(1)), ("b", no_face), ("c", unusable)])
    stored.save()
    again = ViewCache(tmp_path, "numpy")
    assert len(again) == 3
    a = again.get("a")
    assert a is not None and a.face_count == 2 and a.error is None
    for field in ("photo", "frame", "enrolment"):
        assert np.array_equal(getattr(a, field), getattr(_views(1), field))
    assert again.get("b") == no_face and again.get("c") == unusable
    assert again.get("d") is None
    assert [path.name for path in tmp_path.iterdir()] == [stored.path.name]  # no part file left


def test_each_encoder_has_its_own_file_and_a_photo_is_known_by_its_bytes(tmp_path):
    assert eval_cache.fingerprint("numpy") != eval_cache.fingerprint("dlib")
    assert ViewCache(tmp_path, "numpy").path != ViewCache(tmp_path, "dlib").path
    first, renamed, edited = tmp_path / "a.jpg", tmp_path / "b.jpg", tmp_path / "c.jpg"
    first.write_bytes(b"jpeg bytes")
    renamed.write_bytes(b"jpeg bytes")
    edited.write_bytes(b"jpeg bytes, edited")
    assert photo_key(first) == photo_key(renamed) != photo_key(edited)
    assert photo_key(tmp_path / "missing.jpg") is None


def test_a_damaged_file_only_costs_encoding_again(tmp_path, caplog):
    stored = ViewCache(tmp_path, "numpy")
    stored.path.write_bytes(b"not a zip file")
    again = ViewCache(tmp_path, "numpy")
    assert len(again) == 0 and "cannot be read" in caplog.text
    again.update([("a", _views(1))])
    again.save()
    assert len(ViewCache(tmp_path, "numpy")) == 1
