"""server.recognition.encoder: dlib's network in numpy gives dlib's encodings, on real photos.

Every 10th photo of the sample folder (33 of 327, about 8 s: dlib's encoder takes ~0.1 s a face);
bench/encoder.py checks every face of every photo and times both encoders.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap

import dlib
import numpy as np
import pytest

from server.recognition import encoder, faces
from server.recognition.encoder import ModelsUnavailableError
from server.recognition.images import load_image_file
from testkit.paths import REPO
from testkit.photos import every_photo

#: Largest difference allowed between the two encoders' numbers (seen: ~5e-7) and between the
#: distances of two faces by each (seen: ~1e-6; the decision rules work to 0.01).
MAX_DIMENSION_DIFFERENCE = 1e-4
MAX_DISTANCE_DIFFERENCE = 0.002


@pytest.fixture(scope="module")
def numpy_encoder() -> encoder.Encoder:
    return encoder.load(faces.encoder_model_path())


@pytest.fixture(scope="module")
def samples(faces_dir):
    """(chips (n, 150, 150, 3), dlib's encodings (n, 128) from compute_face_descriptor(image,
    shape), the paths): the largest face of every 10th sample photo that has one."""
    chips, expected, paths = [], [], []
    for path in every_photo(faces_dir)[::10]:
        image = load_image_file(path)
        # Any box will do for comparing the encoders: found without upsampling first (4x faster).
        box = faces.largest_box(faces.detect_faces(image, upsample=0) or faces.detect_faces(image))
        if box is None:
            continue
        chips.append(faces.face_chips(image, [box])[0])
        expected.append(faces.encode_faces(image, [box], encoder="dlib")[0])
        paths.append(path)
    assert len(chips) >= 28  # a few photos (negatives, some attacks) have no face found
    return np.stack(chips), np.array(expected), paths


def _pairwise(encodings: np.ndarray) -> np.ndarray:
    return np.linalg.norm(encodings[:, None, :] - encodings[None, :, :], axis=2)


def test_the_encodings_are_dlibs(numpy_encoder, samples):
    chips, expected, paths = samples
    found = numpy_encoder.encode_chips(chips)
    assert found.shape == expected.shape and found.dtype == np.float64
    by_dimension = np.abs(found - expected).max(axis=1)
    worst = int(by_dimension.argmax())
    assert by_dimension[worst] < MAX_DIMENSION_DIFFERENCE, paths[worst]
    # The distances the decision rules compare: between the two encodings of one face, and
    # between any two faces.
    assert np.linalg.norm(found - expected, axis=1).max() < MAX_DISTANCE_DIFFERENCE
    assert np.abs(_pairwise(found) - _pairwise(expected)).max() < MAX_DISTANCE_DIFFERENCE
    # Not a trivial agreement: the faces are far apart (people differ by more than 0.4).
    assert _pairwise(expected).max() > 0.8


def test_a_batch_gives_what_one_face_at_a_time_gives(numpy_encoder, samples):
    chips = samples[0][:7]
    together = numpy_encoder.encode_chips(chips)
    alone = np.array([numpy_encoder.encode_chips(chip[None])[0] for chip in chips])
    np.testing.assert_allclose(together, alone, rtol=0, atol=1e-6)
    small_batches = encoder.load(faces.encoder_model_path(), batch=3).encode_chips(chips)
    np.testing.assert_allclose(small_batches, together, rtol=0, atol=1e-6)
    assert numpy_encoder.encode_chips(chips[:0]).shape == (0, 128)


def test_the_chip_is_what_dlibs_encoder_reads(faces_dir, samples):
    # compute_face_descriptor(image, shape) cuts the chip that get_face_chip(image, shape, 150,
    # 0.25) gives: the same numbers from either.
    model = dlib.face_recognition_model_v1(str(faces.encoder_model_path()))
    chips, expected, _ = samples
    for chip, encoding in itertools.islice(zip(chips, expected), 5):
        assert np.array_equal(np.array(model.compute_face_descriptor(chip)), encoding)


def test_encode_faces_uses_the_numpy_encoder_by_default(faces_dir, numpy_encoder):
    image = load_image_file(faces_dir / "groups" / "obama_biden_stranger.jpg")
    boxes = faces.detect_faces(image)
    assert len(boxes) == 3
    chips = faces.face_chips(image, boxes)
    np.testing.assert_array_equal(faces.encode_faces(image, boxes), numpy_encoder.encode_chips(chips))
    by_dlib = faces.encode_faces(image, boxes, encoder="dlib")
    assert np.abs(faces.encode_faces(image, boxes) - by_dlib).max() < MAX_DIMENSION_DIFFERENCE
    # Enrolment's mirrored encodings, and the evaluation's two views, agree as well.
    mirrored = faces.encode_faces(image, boxes, mirrored=True)
    assert np.abs(mirrored - faces.encode_faces(image, boxes, mirrored=True, encoder="dlib")).max() < 1e-4
    plain, both = faces.encode_face_views(image, boxes[0])
    dlib_plain, dlib_both = faces.encode_face_views(image, boxes[0], encoder="dlib")
    assert np.abs(plain - dlib_plain).max() < 1e-4 and np.abs(both - dlib_both).max() < 1e-4
    np.testing.assert_allclose(both, mirrored[0], rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="unknown face encoder 'cuda'"):
        faces.encode_faces(image, boxes, encoder="cuda")


@pytest.mark.parametrize(
    "chips",
    [
        np.zeros((150, 150, 3), np.uint8),  # one chip without the batch dimension
        np.zeros((2, 150, 150, 3), np.float32),
        np.zeros((2, 160, 160, 3), np.uint8),
        np.zeros((2, 150, 150), np.uint8),
        [np.zeros((150, 150, 3), np.uint8)],
    ],
    ids=["no-batch", "float32", "160px", "gray", "list"],
)
def test_bad_chips_are_refused(numpy_encoder, chips):
    with pytest.raises(ValueError, match=r"expected face chips: uint8 array of shape \(n, 150, 150, 3\)"):
        numpy_encoder.encode_chips(chips)


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    return faces.encoder_model_path().read_bytes()


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated in the weights
        lambda data: data[:100],  # truncated in the layer versions
        lambda data: data.replace(b"loss_metric_2", b"loss_metric_9", 1),
        lambda data: data.replace(b"con_4", b"con_7", 1),
        lambda data: data + b"\x00",  # bytes after the network
        lambda data: b"\x70" + data[1:],  # not an integer
        lambda data: b"",
    ],
    ids=["half", "100-bytes", "loss-version", "con-version", "trailing-byte", "bad-integer", "empty"],
)
def test_a_damaged_model_file_is_refused(tmp_path, model_bytes, damage):
    path = tmp_path / "damaged.dat"
    path.write_bytes(damage(model_bytes))
    with pytest.raises(ModelsUnavailableError, match="is not dlib's face encoding model .*make venv"):
        encoder.load(path)


def test_another_model_file_or_none_is_refused(tmp_path):
    other = faces.encoder_model_path().parent / faces.LANDMARKS_FILE  # a dlib file, not this network
    with pytest.raises(ModelsUnavailableError, match="is not dlib's face encoding model"):
        encoder.load(other)
    with pytest.raises(ModelsUnavailableError, match="cannot read the face encoding model .*missing.dat"):
        encoder.load(tmp_path / "missing.dat")


def test_weights_with_another_shape_are_refused(tmp_path, model_bytes):
    # The first convolution's filter count (32, an integer after the weights) made 33: the
    # shapes no longer add up, which the reader notices before any number is computed.
    network = encoder._read_network(model_bytes)
    assert network.layers[0].filters.shape == (32, 3, 7, 7)
    # "con_4", the tensor's version (2 bytes), its 4 dimensions (3 + 3 x 2 bytes), its floats.
    weights_end = model_bytes.index(b"con_4") + 5 + 2 + 9 + 4 * (32 * 3 * 49 + 32)
    assert model_bytes[weights_end : weights_end + 2] == b"\x01\x20"  # 32
    damaged = model_bytes[:weights_end] + b"\x01\x21" + model_bytes[weights_end + 2 :]
    path = tmp_path / "reshaped.dat"
    path.write_bytes(damaged)
    with pytest.raises(ModelsUnavailableError, match="parameters for filters"):
        encoder.load(path)


def test_every_weight_is_read(model_bytes):
    # The weights are float32 in the file, read with one frombuffer per layer, so that loading
    # takes about 0.1 s and needs no cache (bench/encoder.py times it).
    network = encoder._read_network(model_bytes)
    weights = sum(layer.filters.size for layer in network.layers if isinstance(layer, encoder._Con))
    assert 5_000_000 < weights < 6_000_000


def test_a_worker_can_set_numpys_blas_to_one_thread():
    # As a recognition worker does in its initializer, after numpy (and its OpenBLAS, which
    # reads OPENBLAS_NUM_THREADS only when it loads) is imported: in a fresh interpreter that
    # starts with two BLAS threads.
    script = textwrap.dedent(
        """
        import ctypes
        import numpy
        from server.recognition.encoder import limit_blas_threads
        library = next(line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line.lower())
        get = getattr(ctypes.CDLL(library), "scipy_openblas_get_num_threads64_")
        before = get()
        print(before, limit_blas_threads(1), get())
        """
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2", "True", "1"]
