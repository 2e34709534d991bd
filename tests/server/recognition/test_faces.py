"""server.recognition.faces and .pool on the sample photos: every probe and group photo recognized.

The gallery here is built straight from knowns/ through the pool (no database); enrollment into
the database is tested in test_enrollment.py (same folder).
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import PIL.Image
import pytest

from server.recognition import faces
from server.recognition import pool as pool_module
from server.recognition.enrollment import scan_knowns
from server.recognition.faces import (
    ModelsUnavailableError,
    box_area,
    detect_faces,
    encode_faces,
    largest_box,
    to_grey,
)
from server.recognition.gallery import Gallery
from server.recognition.images import ImageDecodeError, decode_image, load_image_file
from server.recognition.pool import RecognitionPool, WorkerCrashedError
from testkit.detection import iou
from testkit.paths import REPO


@pytest.fixture(scope="module")
def pool():
    with RecognitionPool(2) as pool:
        yield pool


@pytest.fixture(scope="module")
def gallery(pool, faces_dir) -> Gallery:
    photos = scan_knowns(faces_dir / "knowns")
    assert len(photos) == 6
    results = pool.encode_photos([photo.path for photo in photos])
    assert [r.face_count for r in results] == [1] * 6
    return Gallery(
        [photo.student_id for photo in photos],
        [r.encoding for r in results],
        {photo.student_id: photo.name for photo in photos},
    )


def _recognize(pool, gallery, path) -> list:
    detected = pool.analyze(path.read_bytes())
    return gallery.match([face.encoding for face in detected])


def test_every_probe_and_group_photo_is_recognized(pool, gallery, manifest):
    samples = [s for s in manifest if s.kind in ("probe", "group")]
    assert len(samples) == 20
    with ThreadPoolExecutor(4) as threads:  # several server threads share the pool
        results = list(threads.map(lambda s: _recognize(pool, gallery, s.path), samples))
    wrong = []
    for sample, matches in zip(samples, results):
        recognized = sorted(m.student_id for m in matches if m.student_id)
        if recognized != sorted(sample.student_ids):
            wrong.append(f"{sample.path.name}: expected {sample.student_ids}, got {recognized}")
    assert not wrong, "\n".join(wrong)
    assert gallery.name_of("201911006") == "lin manuel miranda"


def test_stranger_and_dogs_match_nobody(pool, gallery, faces_dir):
    matches = _recognize(pool, gallery, faces_dir / "groups" / "obama_biden_stranger.jpg")
    assert sorted(m.student_id or "-" for m in matches) == ["-", "201911001", "201911002"]
    stranger = next(m for m in matches if m.student_id is None)
    assert stranger.distance > 0.6
    assert _recognize(pool, gallery, faces_dir / "negatives" / "dogs.jpg") == []


def test_analyze_returns_boxes_in_full_resolution_pixels(pool, faces_dir):
    [face] = pool.analyze((faces_dir / "probes" / "obama_1080p.jpg").read_bytes())
    top, right, bottom, left = face.box
    assert 0 <= left < right <= 1920 and 0 <= top < bottom <= 1080
    assert box_area(face.box) > 200 * 200  # the face is large in this frame
    assert face.encoding.shape == (128,) and face.encoding.dtype == np.float64


def test_many_faces_are_encoded_on_every_worker_with_the_same_result(pool, faces_dir):
    path = faces_dir / "detection" / "bald_guys.jpg"  # 24 faces: more than ENCODE_IN_PLACE_MAX
    detected = pool.analyze(path.read_bytes())
    assert len(detected) > pool_module.ENCODE_IN_PLACE_MAX
    image = load_image_file(path)
    boxes = detect_faces(image)
    assert [face.box for face in detected] == boxes  # the detector's order is kept
    in_one_process = encode_faces(image, boxes)
    assert np.allclose(np.array([face.encoding for face in detected]), in_one_process, atol=1e-6)


def test_pool_refuses_bad_input_in_the_caller(pool, tmp_path):
    with pytest.raises(ImageDecodeError):
        pool.analyze(b"not an image")
    missing = pool.encode_photo(tmp_path / "missing.jpg")
    assert missing.face_count == 0 and missing.encoding is None and "missing.jpg" in missing.error


def test_encode_photo_uses_the_largest_face_with_its_mirror_image(pool, faces_dir):
    path = faces_dir / "groups" / "obama_biden_stranger.jpg"
    result = pool.encode_photo(path)
    assert result.face_count == 3 and result.error is None
    detected = pool.analyze(path.read_bytes())
    largest = max(detected, key=lambda face: box_area(face.box))
    assert result.box == largest.box
    image = load_image_file(path)
    # An enrolment encoding: the mean of the face's encoding and its mirror image's.
    mirror = np.ascontiguousarray(image[:, ::-1])
    top, right, bottom, left = result.box
    width = image.shape[1]
    [plain] = encode_faces(image, [result.box])
    [mirrored] = encode_faces(mirror, [(top, width - left, bottom, width - right)])
    assert np.allclose(result.encoding, (plain + mirrored) / 2, atol=0.02)
    # Two processes' float32 arithmetic agrees to about 1e-7, not to allclose's default 1e-8.
    assert np.allclose(encode_faces(image, [result.box], mirrored=True)[0], result.encoding, atol=1e-6)
    assert not np.allclose(result.encoding, plain, atol=0.01)
    assert np.allclose(plain, largest.encoding, atol=1e-6)


def test_checkin_frames_look_for_large_faces_first_and_fall_back_to_upsampling(pool, faces_dir):
    path = faces_dir / "probes" / "obama_720p.jpg"
    [frame] = pool.encode_frames([path.read_bytes()])
    [whole] = pool.analyze(path.read_bytes())
    assert _overlap(frame.box, whole.box) > 0.7  # the same face, found without upsampling
    assert np.linalg.norm(frame.encoding - whole.encoding) < 0.1
    # obama_240p.jpg at 2/3 of its size: a face of ~48 px, found only when upsampling.
    image = PIL.Image.open(faces_dir / "probes" / "obama_240p.jpg")
    buffer = io.BytesIO()
    image.resize((image.width * 2 // 3, image.height * 2 // 3)).save(buffer, "JPEG", quality=95)
    small = buffer.getvalue()
    assert detect_faces(decode_image(small), upsample=0) == []
    [frame] = pool.encode_frames([small])
    assert frame.face_count == 1 and frame.encoding is not None
    [whole] = pool.analyze(small)
    assert np.linalg.norm(frame.encoding - whole.encoding) < 0.05


def test_detection_on_a_reduced_copy_finds_the_same_face(faces_dir):
    image = load_image_file(faces_dir / "probes" / "obama_1080p.jpg")  # 1920 x 1080
    [reduced] = detect_faces(image)
    [full] = detect_faces(image, detect_max_side=None)
    assert _overlap(reduced, full) > 0.7
    encodings = encode_faces(image, [reduced, full])
    assert encodings.shape == (2, 128) and encodings.dtype == np.float64
    assert np.linalg.norm(encodings[0] - encodings[1]) < 0.1


def test_boxes_are_clipped_to_the_image(faces_dir):
    image = load_image_file(faces_dir / "probes" / "obama_partial_face.jpg")  # face cut by the border
    height, width = image.shape[:2]
    boxes = detect_faces(image, detect_max_side=256)
    assert boxes
    for top, right, bottom, left in boxes:
        assert 0 <= top < bottom <= height and 0 <= left < right <= width
        assert all(type(v) is int for v in (top, right, bottom, left))


def test_encode_faces_edge_cases(faces_dir):
    image = load_image_file(faces_dir / "probes" / "obama_small.jpg")
    assert encode_faces(image, []).shape == (0, 128)
    with pytest.raises(ValueError, match="RGB image"):
        detect_faces(image[:, :, :2])
    with pytest.raises(ValueError, match="RGB image"):
        detect_faces(image.astype(np.float32))
    with pytest.raises(ValueError, match="RGB image"):
        to_grey(image[:, :, 0])
    with pytest.raises(ValueError, match="RGB image"):
        encode_faces(image.astype(np.float32), [(0, 10, 10, 0)])


def test_detection_on_the_grey_image_finds_the_same_faces(faces_dir):
    """What the whole-room detection does (server.recognition.whole_room)."""
    for name in ("probes/obama_small.jpg", "groups/obama_biden_stranger.jpg"):
        image = load_image_file(faces_dir / name)
        grey = to_grey(image)
        assert grey.shape == image.shape[:2] and grey.dtype == np.uint8
        in_rgb, in_grey = detect_faces(image), detect_faces(grey)
        assert len(in_grey) == len(in_rgb) > 0
        for box in in_rgb:
            assert max(iou(box, other) for other in in_grey) > 0.7


def test_chips_of_several_images_encode_as_one_batch(faces_dir):
    """What a check-in's frames get in a worker (pool._encode_frame_group)."""
    chips, expected = [], []
    for name in ("probes/obama_small.jpg", "groups/obama_biden_stranger.jpg"):
        image = load_image_file(faces_dir / name)
        boxes = detect_faces(image)
        chips.append(faces.face_chips(image, boxes))
        expected.append(encode_faces(image, boxes))
    together = faces.encode_face_chips(np.concatenate(chips))
    assert together.shape == (sum(len(c) for c in chips), 128)
    assert np.abs(together - np.concatenate(expected)).max() < 1e-6
    assert faces.encode_face_chips(np.empty((0, 150, 150, 3), np.uint8)).shape == (0, 128)
    with pytest.raises(ValueError, match="face chips"):
        faces.encode_face_chips(np.zeros((1, 100, 100, 3), np.uint8))


def test_the_face_detector_is_kept_in_the_cache_folder_and_a_damaged_copy_replaced(faces_dir, tmp_path):
    """dlib rebuilds its detector in 0.3-0.5 s (every worker, every start); the saved copy loads in
    a millisecond and finds the same faces."""
    script = textwrap.dedent(
        f"""
        from server.recognition import faces, images
        faces.load_models()
        image = images.load_image_file({str(faces_dir / "groups" / "obama_biden_stranger.jpg")!r})
        print(faces.detect_faces(image))
        """
    )
    env = {**os.environ, "ATTENDANCE_CACHE_DIR": str(tmp_path / "cache")}

    def run() -> str:
        return subprocess.run(
            [sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True, text=True, check=True
        ).stdout

    rebuilt = run()  # no file yet: rebuilt, then saved
    saved = list((tmp_path / "cache").iterdir())
    assert [p.suffix for p in saved] == [".svm"]
    assert run() == rebuilt  # loaded from the file: the same boxes
    saved[0].write_bytes(b"not a detector")
    assert run() == rebuilt  # damaged: rebuilt and saved again
    assert saved[0].stat().st_size > 100_000 and list((tmp_path / "cache").iterdir()) == saved


def test_box_helpers():
    assert box_area((10, 50, 40, 20)) == 30 * 30
    assert box_area((10, 5, 5, 20)) == 0
    assert largest_box([(0, 10, 10, 0), (0, 30, 30, 0), (0, 30, 30, 0)]) == (0, 30, 30, 0)
    assert largest_box([]) is None


def test_missing_models_give_a_clear_error():
    # In a fresh interpreter, as if face_recognition_models were not installed: face_recognition
    # prints a hint and calls quit(); load_models() turns that into ModelsUnavailableError.
    script = textwrap.dedent(
        """
        import sys
        sys.modules["face_recognition_models"] = None  # makes `import face_recognition_models` fail
        from server.recognition.faces import ModelsUnavailableError, load_models
        try:
            load_models()
        except ModelsUnavailableError as exc:
            print("ERROR:", exc)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ERROR: the face_recognition_models package cannot be imported")
    assert "setuptools<81" in result.stdout and "make venv" in result.stdout
    assert "git+https" not in result.stdout  # face_recognition's own (misleading) hint is swallowed


def test_pool_start_fails_clearly_when_workers_cannot_load_models(tmp_path, monkeypatch):
    fake = tmp_path / "fake_models"
    fake.mkdir()
    (fake / "face_recognition_models.py").write_text("raise ImportError('simulated: not installed')\n")
    monkeypatch.syspath_prepend(str(fake))  # workers start with the parent's sys.path
    pool = RecognitionPool(1)
    with pytest.raises(ModelsUnavailableError, match="setuptools<81"):
        pool.start(timeout=60)
    with pytest.raises(RuntimeError, match="not started"):
        pool.analyze(b"")


def _overlap(a, b) -> float:
    """Intersection over union of two (top, right, bottom, left) boxes."""
    inter = box_area((max(a[0], b[0]), min(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3])))
    return inter / (box_area(a) + box_area(b) - inter)


def test_models_load_once():
    assert faces.load_models() is faces.load_models()


def test_a_crashed_worker_fails_one_request_and_the_pool_recovers(faces_dir):
    image = (faces_dir / "probes/obama_small.jpg").read_bytes()
    with RecognitionPool(1) as crashing:
        worker_pid = next(iter(crashing._executor._processes))
        os.kill(worker_pid, signal.SIGKILL)  # as a segfault in dlib or the OOM killer would
        with pytest.raises(WorkerCrashedError):
            crashing.analyze(image)
        assert len(crashing.analyze(image)) == 1  # new workers serve the next request
