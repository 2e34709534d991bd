"""dlib's face encoding network (``dlib_face_recognition_resnet_model_v1``) in numpy.

The same ResNet as dlib's ``face_recognition_model_v1`` (dlib's dnn_face_recognition_ex.cpp),
read from the same model file, computed in float32 as dlib computes it, but with one BLAS
matrix product per convolution for a whole batch of faces. On the sample photos it gives dlib's
encodings to within about 1e-6 (docs/recognition.md, "The encoder"), so encodings of either are
interchangeable and carry the same model name.

    encoder = load(path)                      # the .dat file, ~0.1 s
    encodings = encoder.encode_chips(chips)   # (n, 150, 150, 3) uint8 RGB -> (n, 128) float64

A chip is the aligned face that ``dlib.get_face_chip(image, shape, size=150, padding=0.25)``
cuts out, which is what ``compute_face_descriptor(image, shape)`` reads. Only numpy arrays come in
and go out.

The network, inner to outer (dlib's template notation)::

    input_rgb_image_sized<150>         (pixel - mean) / 256, mean (122.782, 117.001, 104.298)
    con<32,7,7,2,2> affine relu        150 -> 72
    max_pool<3,3,2,2>                  72 -> 35
    3 x ares<32>                       35 x 35 x 32
    ares_down<64>,  3 x ares<64>       17 x 17 x 64
    ares_down<128>, 2 x ares<128>      8 x 8 x 128
    ares_down<256>, 2 x ares<256>      4 x 4 x 256 (the convolutions of the down block give 3 x 3)
    ares_down<256>                     2 x 2 x 256 (the convolutions give 1 x 1)
    avg_pool_everything, fc_no_bias<128>

``ares`` is relu(x + affine(con(relu(affine(con(x)))))) with 3 x 3 convolutions; ``ares_down``'s
first convolution has stride 2 (no padding) and its shortcut is a 2 x 2 average pool of x.
dlib's add_prev adds tensors of different sizes by zero-extending both to the larger size in
each dimension (channels, rows, columns; the smaller one sits at the top left), which is what
happens where the shortcut has fewer channels or more rows than the convolutions' output.

Model file format (dlib/serialize.h): an integer is a header byte (low 4 bits: the number of
bytes that follow, 0x80: negative) and that many little-endian bytes; a float is two integers,
mantissa and exponent (dlib/float_details.h: mantissa * 2**exponent); a string is its length
and its bytes; a bool is the byte ``'1'`` or ``'0'``; a tensor is the version 2, its four
dimensions and its values as little-endian IEEE float32 (dlib/cuda/tensor.h), so that the
5.8 million weights are read with one ``np.frombuffer`` each layer and need no cache. The net is
nested layer objects (dlib/dnn/core.h): each writes its version, then what it wraps, then its
own fields, so the file holds the versions from the output layer inwards, then the input layer,
then each layer's fields from the input outwards.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: Size of the face chip the network reads, in pixels (square).
CHIP_SIZE = 150
ENCODING_SIZE = 128
#: Faces that go through the network together; more are encoded in batches of this size. On one
#: core (AMD EPYC, 1 MB of L2 cache per core) the best: 9.5 ms per face, against 11.7 ms for 1 at
#: a time and 10.9 ms for 16 (the larger matrices fall out of the cache).
DEFAULT_BATCH = 4

#: (filters, residual blocks, whether the first block halves the size), inner to outer.
_LEVELS = ((32, 3, False), (64, 4, True), (128, 3, True), (256, 3, True), (256, 1, True))


class ModelsUnavailableError(RuntimeError):
    """dlib or the face_recognition models cannot be loaded in this Python environment (raised by
    :mod:`server.recognition.faces` too, which is where the rest of the code imports it from)."""


class ModelFormatError(ValueError):
    """The bytes are not the model file this module reads (a damaged or another file)."""


# -- reading dlib's serialization ---------------------------------------------------------------


class _Reader:
    """dlib's serialized values, read in order from ``data``."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, count: int) -> bytes:
        end = self.pos + count
        if count < 0 or end > len(self.data):
            raise ModelFormatError(f"the file ends at byte {len(self.data)}, {count} more bytes expected at {self.pos}")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def integer(self) -> int:
        at = self.pos
        header = self.take(1)[0]
        size = header & 0x0F
        if header & 0x70 or not 1 <= size <= 8:
            raise ModelFormatError(f"no integer at byte {at} (header byte 0x{header:02x})")
        value = int.from_bytes(self.take(size), "little")
        return -value if header & 0x80 else value

    def real(self) -> float:
        at = self.pos
        if self.pos < len(self.data) and self.data[self.pos] & 0x70:
            raise ModelFormatError(f"no binary float at byte {at} (dlib's old text format is not read)")
        mantissa, exponent = self.integer(), self.integer()
        if exponent >= 32000:  # float_details: 32000 inf, 32001 -inf, 32002 nan
            return {32000: math.inf, 32001: -math.inf}.get(exponent, math.nan)
        return math.ldexp(mantissa, exponent)

    def text(self) -> str:
        length = self.integer()
        if not 0 <= length <= 1000:
            raise ModelFormatError(f"no string at byte {self.pos} (length {length})")
        raw = self.take(length)
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            raise ModelFormatError(f"no string at byte {self.pos - length}: {raw[:40]!r}") from None

    def flag(self) -> bool:
        at = self.pos
        raw = self.take(1)
        if raw not in (b"0", b"1"):
            raise ModelFormatError(f"no bool at byte {at} ({raw!r})")
        return raw == b"1"

    def tensor(self) -> np.ndarray:
        """A resizable_tensor: (num_samples, k, nr, nc) float32."""
        self.version(2, "tensor")
        shape = tuple(self.integer() for _ in range(4))
        if min(shape) < 0:
            raise ModelFormatError(f"tensor of shape {shape} before byte {self.pos}")
        count = math.prod(shape)
        return np.frombuffer(self.take(4 * count), dtype="<f4").astype(np.float32).reshape(shape)

    def alias_tensor(self) -> tuple[int, ...]:
        """An alias_tensor: only its shape (num_samples, k, nr, nc)."""
        self.version(1, "alias_tensor")
        return tuple(self.integer() for _ in range(4))

    def version(self, expected: int | tuple[int, ...], what: str) -> int:
        at = self.pos
        found = self.integer()
        if found not in (expected if isinstance(expected, tuple) else (expected,)):
            raise ModelFormatError(f"{what} of version {found} at byte {at}, expected {expected}")
        return found

    def name(self, expected: tuple[str, ...], what: str) -> str:
        at = self.pos
        found = self.text()
        if found not in expected:
            raise ModelFormatError(f"{found!r} at byte {at} where the network has a {what} layer ({expected[0]!r})")
        return found


# -- the layers of the file -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Con:
    """One ``con_`` layer: filters (F, C, rows, columns), biases (F,), stride, padding."""

    filters: np.ndarray
    biases: np.ndarray
    stride: tuple[int, int]
    padding: tuple[int, int]


@dataclass(frozen=True)
class _Pool:
    window: tuple[int, int]  # (0, 0): the whole image
    stride: tuple[int, int]
    padding: tuple[int, int]


def _read_con(r: _Reader) -> _Con:
    version = r.name(("con_4", "con_5", "con_6"), "con")
    params = r.tensor().reshape(-1)
    count = r.integer()
    rows, cols, stride_y, stride_x, pad_y, pad_x = (r.integer() for _ in range(6))
    shape = r.alias_tensor()
    r.alias_tensor()  # the biases' shape: (1, count)
    for _ in range(4):
        r.real()  # learning-rate and weight-decay multipliers
    use_bias = r.flag() if version in ("con_5", "con_6") else True
    if version == "con_6" and r.flag():
        raise ModelFormatError("a con_ layer with a fused relu is not read")
    size = math.prod(shape)
    if shape[0] != count or shape[2:] != (rows, cols) or params.size != size + (count if use_bias else 0):
        raise ModelFormatError(f"con_ layer before byte {r.pos}: {params.size} parameters for filters {shape}")
    biases = params[size:] if use_bias else np.zeros(count, np.float32)
    return _Con(params[:size].reshape(shape), biases, (stride_y, stride_x), (pad_y, pad_x))


def _read_affine(r: _Reader) -> tuple[np.ndarray, np.ndarray]:
    """(gamma, beta), one of each per channel."""
    version = r.name(("affine_", "affine_2"), "affine")
    params = r.tensor().reshape(-1)
    gamma, beta = r.alias_tensor(), r.alias_tensor()
    mode = r.integer()
    if version == "affine_2" and r.flag():
        raise ModelFormatError("a disabled affine layer is not read")
    count = math.prod(gamma)
    if mode != 0 or gamma != beta or params.size != 2 * count:  # 0: CONV_MODE, per channel
        raise ModelFormatError(f"affine layer before byte {r.pos}: mode {mode}, shape {gamma}")
    return params[:count], params[count:]


def _read_relu(r: _Reader) -> None:
    if r.name(("relu_", "relu_2"), "relu") == "relu_2" and r.flag():
        raise ModelFormatError("a disabled relu layer is not read")


def _read_pool(r: _Reader, kind: str) -> _Pool:
    r.name((f"{kind}_2",), kind)
    rows, cols, stride_y, stride_x, pad_y, pad_x = (r.integer() for _ in range(6))
    return _Pool((rows, cols), (stride_y, stride_x), (pad_y, pad_x))


def _read_fc(r: _Reader) -> np.ndarray:
    """The (inputs, outputs) weights of an fc_ layer without bias."""
    version = r.name(("fc_2", "fc_3"), "fc")
    outputs, inputs = r.integer(), r.integer()
    params = r.tensor().reshape(-1)
    r.alias_tensor()
    r.alias_tensor()
    bias_mode = r.integer()
    for _ in range(4):
        r.real()
    if version == "fc_3":
        r.flag()
    if bias_mode != 1 or params.size != inputs * outputs:  # 1: FC_NO_BIAS
        raise ModelFormatError(f"fc layer before byte {r.pos}: bias mode {bias_mode}, {params.size} parameters")
    return params.reshape(inputs, outputs)


def _read_input(r: _Reader) -> np.ndarray:
    r.name(("input_rgb_image_sized",), "input_rgb_image_sized")
    means = np.array([r.real() for _ in range(3)], dtype=np.float32)
    size = (r.integer(), r.integer())
    if size != (CHIP_SIZE, CHIP_SIZE):
        raise ModelFormatError(f"the network reads {size[0]} x {size[1]} images, not {CHIP_SIZE} x {CHIP_SIZE}")
    return means


def _architecture() -> list[str]:
    """The network's layers from the input outwards: the kinds of dlib's add_layer (``con``,
    ``affine``, ``relu``, ``max_pool``, ``avg_pool``, ``add_prev``, ``fc``), ``tag`` and
    ``skip`` (a tag or skip layer, which writes only its version); the input layer is not listed."""
    layers = ["con", "affine", "relu", "max_pool"]
    for _filters, blocks, down in _LEVELS:
        for block in range(blocks):
            layers += ["tag", "con", "affine", "relu", "con", "affine"]
            if down and block == 0:
                layers += ["tag", "skip", "avg_pool"]
            layers += ["add_prev", "relu"]
    return [*layers, "avg_pool", "fc"]


@dataclass(frozen=True)
class _Network:
    means: np.ndarray  # (3,) float32, RGB
    layers: list[Any]  # per add_layer of _architecture(), inner to outer: what its reader returned


def _read_network(data: bytes) -> _Network:
    r = _Reader(data)
    architecture = _architecture()
    r.version(1, "add_loss_layer")
    if r.name(("loss_metric_2", "loss_metric_"), "loss_metric") == "loss_metric_2":
        r.real(), r.real()  # margin, distance threshold: training only
    # The versions, from the output inwards; the innermost add_layer holds the input layer.
    versions = []
    for kind in reversed(architecture[1:]):
        versions.append(r.version((1,) if kind in ("tag", "skip") else (1, 2), kind + " layer"))
    versions.append(r.version((2, 3), "input add_layer"))
    versions.reverse()
    means = _read_input(r)
    layers: list[Any] = []
    readers = {"con": _read_con, "affine": _read_affine, "relu": _read_relu, "fc": _read_fc}
    for index, (kind, version) in enumerate(zip(architecture, versions)):
        if kind in ("tag", "skip"):
            continue
        if kind in ("max_pool", "avg_pool"):
            layers.append(_read_pool(r, kind))
        elif kind == "add_prev":
            r.name(("add_prev_",), "add_prev")
            layers.append(None)
        else:
            layers.append(readers[kind](r))
        for _ in range(3):
            r.flag()  # setup called, gradient stale, output disabled
        r.tensor(), r.tensor()  # x_grad, cached_output: empty in a saved net
        if index > 0 and version == 2:
            r.tensor()  # params_grad
        elif index == 0:
            r.tensor()  # grad_final
            if version == 3:
                r.integer()  # sample expansion factor
    if r.pos != len(data):
        raise ModelFormatError(f"{len(data) - r.pos} bytes after the network, which ends at byte {r.pos}")
    return _Network(means, layers)


# -- the computation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Conv:
    """A convolution with its affine layer folded in: weights (rows * columns * C, F), laid out
    as the patches of :func:`_patches`; bias (F,)."""

    weights: np.ndarray
    bias: np.ndarray
    size: tuple[int, int]
    stride: int
    padding: int

    @classmethod
    def folded(cls, con: _Con, gamma: np.ndarray, beta: np.ndarray) -> _Conv:
        """affine(con(x)) = gamma * (W x + b) + beta = (gamma W) x + (gamma b + beta), per filter."""
        filters = con.filters.astype(np.float64)
        count, channels, rows, cols = filters.shape
        if gamma.shape != (count,) or con.stride[0] != con.stride[1] or con.padding[0] != con.padding[1]:
            raise ModelFormatError(f"convolution {filters.shape} stride {con.stride} padding {con.padding}")
        weights = (filters * gamma.astype(np.float64)[:, None, None, None]).transpose(2, 3, 1, 0)
        bias = con.biases.astype(np.float64) * gamma + beta
        return cls(
            np.ascontiguousarray(weights.reshape(rows * cols * channels, count), dtype=np.float32),
            bias.astype(np.float32),
            (rows, cols),
            con.stride[0],
            con.padding[0],
        )

    @property
    def channels_in(self) -> int:
        return self.weights.shape[0] // (self.size[0] * self.size[1])

    @property
    def channels_out(self) -> int:
        return self.weights.shape[1]

    def __call__(self, x: np.ndarray, *, relu: bool) -> np.ndarray:
        """x (n, H, W, C) float32 -> (n, H', W', F) float32."""
        n = x.shape[0]
        cols, (out_h, out_w) = _patches(x, self.size, self.stride, self.padding)
        y = cols @ self.weights
        y += self.bias
        if relu:
            np.maximum(y, 0, out=y)
        return y.reshape(n, out_h, out_w, self.channels_out)


@dataclass(frozen=True)
class _Block:
    """One residual block: relu(shortcut(x) + second(relu(first(x)))), zero-extended."""

    first: _Conv
    second: _Conv
    down: bool  # the shortcut is a 2 x 2 average pool (dlib's avg_pool<2,2,2,2>), else x


def _patches(x: np.ndarray, size: tuple[int, int], stride: int, padding: int) -> tuple[np.ndarray, tuple[int, int]]:
    """im2col: (n * H' * W', rows * columns * C) float32, each row one output position's window
    (row-major over the window, channels fastest), and (H', W') (dlib: 1 + (H + 2p - rows) // s)."""
    n, height, width, channels = x.shape
    if padding:
        padded = np.zeros((n, height + 2 * padding, width + 2 * padding, channels), np.float32)
        padded[:, padding : padding + height, padding : padding + width] = x
        x, height, width = padded, height + 2 * padding, width + 2 * padding
    rows, cols = size
    out_h, out_w = (height - rows) // stride + 1, (width - cols) // stride + 1
    sn, sh, sw, sc = x.strides
    view = np.lib.stride_tricks.as_strided(
        x, (n, out_h, out_w, rows, cols, channels), (sn, sh * stride, sw * stride, sh, sw, sc), writeable=False
    )
    return view.reshape(n * out_h * out_w, rows * cols * channels), (out_h, out_w)


def _max_pool_3x3_s2(x: np.ndarray) -> np.ndarray:
    """dlib's max_pool<3,3,2,2> (no padding): (n, H, W, C) -> (n, (H-3)//2+1, (W-3)//2+1, C)."""
    out_h, out_w = (x.shape[1] - 3) // 2 + 1, (x.shape[2] - 3) // 2 + 1
    out = x[:, 0 : 2 * out_h : 2, 0 : 2 * out_w : 2].copy()
    for dy in range(3):
        for dx in range(3):
            if dy or dx:
                np.maximum(out, x[:, dy : dy + 2 * out_h : 2, dx : dx + 2 * out_w : 2], out=out)
    return out


def _avg_pool_2x2_s2(x: np.ndarray) -> np.ndarray:
    """dlib's avg_pool<2,2,2,2> (no padding): (n, H, W, C) -> (n, (H-2)//2+1, (W-2)//2+1, C)."""
    out_h, out_w = (x.shape[1] - 2) // 2 + 1, (x.shape[2] - 2) // 2 + 1
    h, w = 2 * out_h, 2 * out_w
    total = x[:, 0:h:2, 0:w:2] + x[:, 0:h:2, 1:w:2]
    total += x[:, 1:h:2, 0:w:2]
    total += x[:, 1:h:2, 1:w:2]
    total *= np.float32(0.25)
    return total


def _add_zero_extended(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """dlib's add_prev: a + b, each zero-extended to the larger size in every dimension."""
    if a.shape == b.shape:
        a += b
        return a
    shape = tuple(max(i, j) for i, j in zip(a.shape, b.shape))
    total = np.zeros(shape, np.float32)
    total[: a.shape[0], : a.shape[1], : a.shape[2], : a.shape[3]] = a
    total[: b.shape[0], : b.shape[1], : b.shape[2], : b.shape[3]] += b
    return total


class Encoder:
    """dlib's face encoder; create with :func:`load`. It holds only arrays it never changes, so
    threads may share it (each call's BLAS work then competes for the same cores)."""

    def __init__(self, network: _Network, *, batch: int = DEFAULT_BATCH):
        self.batch = batch
        self.means = network.means
        layers: Iterator[Any] = iter(network.layers)
        self.stem = _Conv.folded(next(layers), *next(layers))
        next(layers)  # relu
        pool = next(layers)
        if pool != _Pool((3, 3), (2, 2), (0, 0)):
            raise ModelFormatError(f"the first pooling layer is {pool}, not dlib's max_pool<3,3,2,2>")
        self.blocks: list[_Block] = []
        channels = self.stem.channels_out
        for filters, blocks, down in _LEVELS:
            for block in range(blocks):
                halves = down and block == 0
                first = _Conv.folded(next(layers), *next(layers))
                next(layers)  # relu
                second = _Conv.folded(next(layers), *next(layers))
                if halves and next(layers) != _Pool((2, 2), (2, 2), (0, 0)):
                    raise ModelFormatError("a residual block's shortcut is not dlib's avg_pool<2,2,2,2>")
                next(layers), next(layers)  # add_prev, relu
                expected = ((3, 3), 2 if halves else 1, 0 if halves else 1, channels, filters)
                for conv in (first, second):
                    found = (conv.size, conv.stride, conv.padding, conv.channels_in, conv.channels_out)
                    if found != expected:
                        raise ModelFormatError(f"a convolution of the network is {found}, expected {expected}")
                    expected = ((3, 3), 1, 1, filters, filters)
                self.blocks.append(_Block(first, second, halves))
                channels = filters
        if next(layers) != _Pool((0, 0), (1, 1), (0, 0)):
            raise ModelFormatError("the network does not end with dlib's avg_pool_everything")
        self.fc = next(layers)
        if self.fc.shape != (channels, ENCODING_SIZE):
            raise ModelFormatError(f"the last layer has weights {self.fc.shape}, not ({channels}, {ENCODING_SIZE})")

    def encode_chips(self, chips: np.ndarray) -> np.ndarray:
        """The 128-number encoding of each face chip, as dlib's compute_face_descriptor gives it.

        :param chips: (n, 150, 150, 3) uint8 RGB, aligned face chips (``dlib.get_face_chip(image,
            shape, size=150, padding=0.25)``); n may be 0.
        :return: (n, 128) float64 (computed in float32, as dlib does).
        :raises ValueError: chips of another shape or type.
        """
        if not (
            isinstance(chips, np.ndarray)
            and chips.dtype == np.uint8
            and chips.ndim == 4
            and chips.shape[1:] == (CHIP_SIZE, CHIP_SIZE, 3)
        ):
            got = (
                f"{chips.dtype} array of shape {chips.shape}" if isinstance(chips, np.ndarray) else type(chips).__name__
            )
            raise ValueError(
                f"expected face chips: uint8 array of shape (n, {CHIP_SIZE}, {CHIP_SIZE}, 3), RGB; got {got}"
            )
        out = np.empty((chips.shape[0], ENCODING_SIZE), np.float64)
        for start in range(0, chips.shape[0], self.batch):
            out[start : start + self.batch] = self._forward(chips[start : start + self.batch])
        return out

    def _forward(self, chips: np.ndarray) -> np.ndarray:
        # input_rgb_image: (pixel - mean) / 256, in float32 (exact: the same numbers as dlib's).
        x = (chips.astype(np.float32) - self.means) / np.float32(256)
        x = _max_pool_3x3_s2(self.stem(x, relu=True))
        for block in self.blocks:
            y = block.second(block.first(x, relu=True), relu=False)
            x = _add_zero_extended(y, _avg_pool_2x2_s2(x) if block.down else x)
            np.maximum(x, 0, out=x)
        pooled = x.mean(axis=(1, 2), dtype=np.float32)  # avg_pool_everything: (n, 256)
        return pooled @ self.fc


def load(path: str | Path, *, batch: int = DEFAULT_BATCH) -> Encoder:
    """Read dlib's ``dlib_face_recognition_resnet_model_v1.dat`` (about 0.1 s).

    :param batch: faces per pass through the network (:data:`DEFAULT_BATCH`).
    :raises ModelsUnavailableError: the file cannot be read or is not that network.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ModelsUnavailableError(f"cannot read the face encoding model {path}: {exc}") from exc
    try:
        return Encoder(_read_network(data), batch=batch)
    except (ModelFormatError, StopIteration, ValueError) as exc:
        reason = str(exc) or "it holds fewer layers than the network"
        raise ModelsUnavailableError(
            f"{path} is not dlib's face encoding model dlib_face_recognition_resnet_model_v1 "
            f"(damaged or another file: {reason}); reinstall face_recognition_models with `make venv`"
        ) from exc


# -- BLAS threads --------------------------------------------------------------------------------


def limit_blas_threads(count: int = 1) -> bool:
    """Make numpy's OpenBLAS use ``count`` threads in this process, also when numpy is already
    imported (``OPENBLAS_NUM_THREADS`` is read only when the library loads): for worker processes,
    one per core, each of which must not start a BLAS thread per core. True if it was set."""
    with contextlib.suppress(OSError):
        with open("/proc/self/maps", encoding="utf-8") as maps:
            libraries = {
                line.split()[-1] for line in maps if "openblas" in line.lower() and line.rstrip().endswith(".so")
            }
        for library in sorted(libraries):
            handle = ctypes.CDLL(library)
            for symbol in (
                "scipy_openblas_set_num_threads64_",
                "openblas_set_num_threads64_",
                "openblas_set_num_threads",
            ):
                setter = getattr(handle, symbol, None)
                if setter is not None:
                    setter(ctypes.c_int(count))
                    return True
    return False
