"""Check-in rules without Qt or a server: when a recognition becomes a mark; local face
detection and frame sources on the sample photos."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from client.desktop.capture import ImageFolderSource, SourceError, SourceSpec, VideoFileSource, limit_size, open_source
from client.desktop.checkin_logic import CheckinDecider, main_face
from client.desktop.faces_local import FaceDetector


def face(student_id=None, size=100, name=None, distance=0.4):
    return SimpleNamespace(top=0, left=0, bottom=size, right=size, student_id=student_id,
                           name=name or (student_id and f"name {student_id}"), distance=distance)


def test_main_face_is_the_largest():
    small, big = face("201911001", 50), face("201911002", 120)
    assert main_face([small, big]) is big
    assert main_face([]) is None


def test_ask_mode_confirms_every_recognized_student():
    decider = CheckinDecider(auto=False)
    assert decider.on_result([face("201911001")]).kind == "confirm"
    decider.declined()
    assert decider.on_result([face("201911001")]).kind == "confirm"
    decider.confirmed("201911001")
    assert decider.on_result([face("201911001")]).kind == "already"
    assert decider.on_result([face("201911002")]).kind == "confirm"


def test_unknown_and_no_face_are_never_marked():
    decider = CheckinDecider(auto=True, needed=1)
    for _ in range(5):
        assert decider.on_result([face(None, distance=0.8)]).kind == "unknown"
        assert decider.on_result([]).kind == "none"
    assert decider.checked_in == set()


def test_automatic_mode_needs_k_consecutive_recognitions():
    decider = CheckinDecider(auto=True, needed=3)
    kinds = [decider.on_result([face("201911001")]).kind for _ in range(3)]
    assert kinds == ["wait", "wait", "mark"]
    assert decider.on_result([face("201911001")]).kind == "already"


@pytest.mark.parametrize("breaker", ["other", "unknown", "none", "error"])
def test_anything_else_breaks_the_chain(breaker):
    decider = CheckinDecider(auto=True, needed=2)
    assert decider.on_result([face("201911001")]).kind == "wait"
    if breaker == "other":
        assert decider.on_result([face("201911002")]).streak == 1
    elif breaker == "unknown":
        decider.on_result([face(None)])
    elif breaker == "none":
        decider.on_result([])
    else:
        decider.on_error()
    decision = decider.on_result([face("201911001")])
    assert (decision.kind, decision.streak) == ("wait", 1)
    assert decider.on_result([face("201911001")]).kind == "mark"


def test_new_lecture_and_refused_mark_allow_a_new_check_in():
    decider = CheckinDecider(auto=True, needed=1)
    assert decider.on_result([face("201911001")]).kind == "mark"
    decider.forget("201911001")
    assert decider.on_result([face("201911001")]).kind == "mark"
    decider.reset()
    assert decider.on_result([face("201911001")]).kind == "mark"
    decider.configure(auto=False, needed=5)
    assert decider.on_result([face("201911002")]).kind == "confirm"


# -- local face detection and frame sources ----------------------------------------------------

@pytest.fixture(scope="module")
def detector():
    return FaceDetector()


@pytest.mark.parametrize(
    "path, faces",
    [
        ("probes/obama_small.jpg", 1),
        ("probes/biden_2.jpg", 1),
        ("probes/obama_3.jpg", 1),  # 2333x1434: detected on a reduced copy
        ("groups/obama_biden_1.jpg", 2),
        ("negatives/dogs.jpg", 0),
    ],
)
def test_local_detection_counts_faces(detector, faces_dir, path, faces):
    frame = cv2.imread(str(faces_dir / path))
    boxes = detector.detect(frame)
    assert len(boxes) == faces
    height, width = frame.shape[:2]
    for x, y, w, h in boxes:  # in the frame's own pixels
        assert 0 <= x < width and 0 <= y < height and w > 20 and h > 20


def test_detection_of_an_empty_frame(detector):
    assert detector.detect(np.zeros((240, 320, 3), np.uint8)) == []


def test_image_folder_in_name_order_once_or_looping(tmp_path, faces_dir):
    for name in ("b.jpg", "a.png"):
        (tmp_path / name).write_bytes((faces_dir / "probes/obama_small.jpg").read_bytes())
    (tmp_path / "c.jpg").write_bytes(b"broken")  # unreadable: skipped
    (tmp_path / "notes.txt").write_text("not an image")
    source = ImageFolderSource(tmp_path, loop=False)
    assert [p.name for p in source.paths] == ["a.png", "b.jpg", "c.jpg"]
    assert source.next_image() is not None and source.current_path.name == "a.png"
    assert source.next_image() is not None and source.current_path.name == "b.jpg"
    assert source.next_image() is None
    looping = ImageFolderSource(tmp_path, loop=True)
    names = []
    for _ in range(4):
        looping.next_image()
        names.append(looping.current_path.name)
    assert names == ["a.png", "b.jpg", "a.png", "b.jpg"]


def test_video_file_plays_and_skips(faces_dir):
    source = VideoFileSource(faces_dir / "video/short_hamilton_clip.mp4", loop=False)
    assert 29 < source.fps < 31
    frame = source.read()
    assert frame.shape == (360, 640, 3)
    source.read(skip=10)
    assert source.position == 12
    source.close()


def test_bad_sources_say_why(tmp_path):
    with pytest.raises(SourceError, match="no images"):
        open_source(SourceSpec("images", str(tmp_path)))
    with pytest.raises(SourceError, match="no such video"):
        open_source(SourceSpec("video", str(tmp_path / "missing.mp4")))
    with pytest.raises(SourceError, match="no such folder"):
        open_source(SourceSpec("images", str(tmp_path / "missing")))


def test_frames_are_reduced_to_a_webcam_size():
    assert limit_size(np.zeros((1434, 2333, 3), np.uint8)).shape == (787, 1280, 3)
    assert limit_size(np.zeros((240, 320, 3), np.uint8)).shape == (240, 320, 3)
