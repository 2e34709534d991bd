"""The checks on an enrolment photo (client/desktop/enrol_checks.py), without Qt, on real photos:
face size, sharpness, eyes, and the asked pose."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from client.desktop import enrol_checks as checks
from client.desktop.enrol_checks import LandmarkModel, LandmarksUnavailable, check_photo, measure_face
from client.desktop.faces_local import FaceDetector
from client.frame_source import limit_size, read_image

#: The sample photos of one person in the five poses, straight first (test data, never shown).
FIVE_POSES = ["v/bts_v_23.jpg", "v/bts_v_07.jpg", "v/bts_v_06.jpg", "v/bts_v_17.jpg", "v/bts_v_09.jpg"]
#: Frames of the sample blink video whose eyes were seen (by eye) closed, and one seen open.
CLOSED_EYES_FRAMES = (165, 315)
OPEN_EYES_FRAME = 135


@pytest.fixture(scope="module")
def landmarks():
    return LandmarkModel()


@pytest.fixture(scope="module")
def detector():
    return FaceDetector()


@pytest.fixture(scope="module")
def measure(landmarks, detector):
    def measure(image: np.ndarray) -> checks.FaceMeasures:
        [box] = detector.detect(image)
        return measure_face(image, box, landmarks)

    return measure


def photo(path: Path) -> np.ndarray:
    """A sample photo as the capture worker would hand it over (at most 1280 px)."""
    return limit_size(read_image(path))


def video_frame(path: Path, number: int) -> np.ndarray:
    capture = cv2.VideoCapture(str(path))
    capture.set(cv2.CAP_PROP_POS_FRAMES, number)
    ok, frame = capture.read()
    capture.release()
    assert ok
    return frame


def test_the_landmark_model_is_loaded_on_first_use(faces_dir, detector):
    model = LandmarkModel()
    assert not model.loaded
    image = photo(faces_dir / "probes/obama_720p.jpg")
    measure_face(image, detector.detect(image)[0], model)
    assert model.loaded


def test_a_missing_landmark_model_is_said(tmp_path, faces_dir, detector):
    image = photo(faces_dir / "probes/obama_small.jpg")
    with pytest.raises(LandmarksUnavailable, match="no landmark model"):
        measure_face(image, detector.detect(image)[0], LandmarkModel(tmp_path / "missing.dat"))


def test_a_straight_sharp_photo_passes(measure, faces_dir):
    measures = measure(photo(faces_dir / "probes/obama_720p.jpg"))
    assert measures.face_width >= checks.MIN_FACE_WIDTH and measures.sharpness >= checks.MIN_SHARPNESS
    assert abs(measures.yaw) < 5
    assert check_photo(measures, "straight").ok


def test_the_five_poses_of_one_person(measure, faces_dir):
    """Each photo passes the pose it was chosen for and no other (measured from the straight one)."""
    measured = [measure(photo(faces_dir / "korean" / name)) for name in FIVE_POSES]
    straight = measured[0]
    for asked, measures in zip(checks.POSE_NAMES, measured):
        passes = [pose for pose in checks.POSE_NAMES if check_photo(measures, pose, straight).ok]
        assert passes == [asked], (asked, measures)


def test_a_mirrored_photo_flips_the_yaw(measure, faces_dir):
    image = photo(faces_dir / "probes/obama_3.jpg")  # turned to his own left
    original, mirrored = measure(image), measure(cv2.flip(image, 1))
    assert original.yaw > 12 and mirrored.yaw < -12
    assert original.yaw + mirrored.yaw == pytest.approx(0, abs=5)  # the fitted landmarks differ a little
    assert original.pitch == pytest.approx(mirrored.pitch, abs=3)


def test_the_pose_hints_say_which_way_to_move(measure, faces_dir):
    straight = measure(photo(faces_dir / "probes/obama_720p.jpg"))
    to_his_left = measure(photo(faces_dir / "probes/obama_3.jpg"))  # 17 degrees
    far_to_his_right = measure(photo(faces_dir / "probes/obama_2.jpg"))  # 35 degrees
    assert check_photo(to_his_left, "left", straight).ok
    assert check_photo(to_his_left, "right", straight).problems == (checks.TURN_RIGHT,)
    assert check_photo(far_to_his_right, "right", straight).problems == (checks.TURN_LEFT,)  # too far
    assert check_photo(straight, "up", straight).problems == (checks.TILT_UP,)
    assert check_photo(straight, "down", straight).problems == (checks.TILT_DOWN,)
    assert check_photo(to_his_left, "straight").problems == (checks.TURN_RIGHT,)
    with pytest.raises(ValueError, match="straight photo"):
        check_photo(to_his_left, "left")


def test_a_blurred_copy_is_not_sharp_enough(measure, faces_dir):
    image = photo(faces_dir / "probes/obama_2.jpg")
    sharp = measure(image)
    blurred = measure(cv2.GaussianBlur(image, (0, 0), sharp.face_width / 50))  # 3 px at the crop's scale
    assert sharp.sharpness > 5 * checks.MIN_SHARPNESS
    assert blurred.sharpness < checks.MIN_SHARPNESS
    assert checks.BLURRY in check_photo(blurred, "straight").problems
    assert checks.BLURRY not in check_photo(sharp, "straight").problems


def test_a_small_face_is_refused(measure, faces_dir):
    image = photo(faces_dir / "probes/obama_720p.jpg")
    measures = measure(cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))
    assert measures.face_width < checks.MIN_FACE_WIDTH
    assert check_photo(measures, "straight").problems[:1] == (checks.TOO_SMALL,)


def test_closed_eyes_are_refused(measure, faces_dir):
    video = faces_dir / "liveness/live/selfie_blinks.mp4"
    opened = measure(video_frame(video, OPEN_EYES_FRAME))
    assert opened.eye_openness > checks.MIN_EYE_OPENNESS + 0.1
    assert checks.EYES_CLOSED not in check_photo(opened, "straight").problems
    for number in CLOSED_EYES_FRAMES:
        closed = measure(video_frame(video, number))
        assert closed.eye_openness < checks.MIN_EYE_OPENNESS
        assert checks.EYES_CLOSED in check_photo(closed, "straight").problems
