"""Time the dlib calls that recognition is made of, with whatever ``dlib`` this Python imports.

Run by bench/dlib_builds.py once per dlib build (PYTHONPATH chooses the build); prints one JSON
object. On one core (OPENBLAS_NUM_THREADS=1 is set by the caller), median of ``--repeat``:

- hog_480p: ``face_recognition.face_locations`` of a 480p photo (HOG, upsampled once), as in
  face_recognition's examples/benchmark.py;
- hog_960p_no_upsample: the detector alone (no upsampling) on the photo already doubled (by
  ``dlib.resize_image``), so that hog_480p minus it is about what dlib's own upsampling costs;
- resize_2x_480p: dlib.resize_image doubling the photo (bilinear);
- encode_one_face: ``face_recognition.face_encodings`` of one known face box;
- whole_room_detect / whole_room_encode: bald_guys.jpg (24 faces) detected and encoded as the
  server's whole-room path does it, on this one core.

    .venv/bin/python -m bench.dlib_micro [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import sys

from testkit.paths import FACES
from testkit.timing import median_seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    import dlib
    import face_recognition

    from server.recognition import faces, images, whole_room

    photo = face_recognition.load_image_file(str(FACES / "probes" / "obama_480p.jpg"))
    detector = dlib.get_frontal_face_detector()
    doubled = (photo.shape[0] * 2, photo.shape[1] * 2)
    upsampled = dlib.resize_image(photo, *doubled)
    box = face_recognition.face_locations(photo)[0]
    room = images.load_image_file(FACES / "detection" / "bald_guys.jpg")
    room_boxes = []

    def detect_room():
        room_boxes[:] = [b for part in whole_room.plan_parts(1) for b in whole_room.detect_part(room, part, 40)]

    figures = {
        "dlib": dlib.__file__,
        "version": dlib.__version__,
        "blas": bool(dlib.DLIB_USE_BLAS),
        "avx": bool(dlib.USE_AVX_INSTRUCTIONS),
        "hog_480p": median_seconds(lambda: face_recognition.face_locations(photo), args.repeat, warm_up=True),
        "resize_2x_480p": median_seconds(lambda: dlib.resize_image(photo, *doubled), args.repeat, warm_up=True),
        "hog_960p_no_upsample": median_seconds(lambda: detector(upsampled, 0), args.repeat, warm_up=True),
        "encode_one_face": median_seconds(
            lambda: face_recognition.face_encodings(photo, [box]), args.repeat, warm_up=True
        ),
        "whole_room_detect": median_seconds(detect_room, max(3, args.repeat // 2), warm_up=True),
    }
    room_boxes = whole_room.merge_parts(room_boxes)
    figures["whole_room_faces"] = len(room_boxes)
    figures["whole_room_encode"] = median_seconds(
        lambda: faces.encode_faces(room, room_boxes), max(3, args.repeat // 2), warm_up=True
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
