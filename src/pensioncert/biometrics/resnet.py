"""dlib's face-recognition ResNet, read from its own model file and run with numpy's BLAS.

dlib was built here without BLAS, so its ResNet (~0.36 G multiply-adds per 150×150 chip)
runs on dlib's own matrix code: ~75 ms a chip, two chips a face with mirror averaging, and
that was the largest single cost of a verification. This module reads the very same
weights from ``dlib_face_recognition_resnet_model_v1.dat`` and computes the same network
(``dlib/examples/dnn_face_recognition_ex.cpp``: ``anet_type``) as im2col + one matrix
product per convolution on numpy's OpenBLAS, several times faster. Descriptors agree with
dlib's to float32 rounding (``tests/biometrics/test_resnet.py`` compares them on real
chips), so the thresholds and every figure measured with dlib hold.

dlib's serialisation (``dlib/serialize.h``, ``dlib/cuda/tensor.h``): integers are one byte
of length (bit 7: negative) and the little-endian magnitude; tensors are version 2,
four dimensions and raw little-endian float32s; layers start with their name string.
Only the layers the network uses are read; anything unexpected raises, so a different
model file can never be silently misread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

F32 = NDArray[np.float32]


class ModelFormatError(ValueError):
    """The model file is not the dlib ResNet this module knows how to read."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def int(self) -> int:
        head = self.data[self.pos]
        size, negative = head & 0x0F, bool(head & 0x80)
        if size > 8:
            raise ModelFormatError(f"bad integer header {head:#x} at {self.pos}")
        value = int.from_bytes(self.data[self.pos + 1:self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if negative else value

    def float(self) -> float:
        mantissa, exponent = self.int(), self.int()
        return float(mantissa) * 2.0 ** exponent

    def string(self) -> str:
        size = self.int()
        text = self.data[self.pos:self.pos + size].decode("ascii")
        self.pos += size
        return text

    def tensor(self) -> F32:
        if self.int() != 2:
            raise ModelFormatError(f"unknown tensor version at {self.pos}")
        dims = [self.int() for _ in range(4)]
        count = int(np.prod(dims))
        values = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.pos).astype(np.float32)
        self.pos += 4 * count
        return values.reshape(dims)

    def expect(self, name: str) -> None:
        """Move to the next occurrence of the layer name ``name`` and past it."""
        marker = bytes([0x01, len(name)]) + name.encode("ascii")
        found = self.data.find(marker, self.pos)
        if found < 0:
            raise ModelFormatError(f"layer {name!r} not found after {self.pos}")
        self.pos = found + len(marker)


@dataclass(frozen=True)
class _Conv:
    weights: F32  # (k*nr*nc, filters), rows in (row, col, channel) order to match the im2col below
    bias: F32
    size: int
    stride: int
    padding: int


@dataclass(frozen=True)
class _Affine:
    gamma: F32
    beta: F32


def _read_conv(reader: _Reader) -> _Conv:
    reader.expect("con_4")
    params = reader.tensor().reshape(-1)
    filters, rows, cols = reader.int(), reader.int(), reader.int()
    stride_y, stride_x, pad_y, pad_x = reader.int(), reader.int(), reader.int(), reader.int()
    if rows != cols or stride_y != stride_x or pad_y != pad_x:
        raise ModelFormatError("only square convolutions are expected")
    channels = (params.size - filters) // (filters * rows * cols)
    if channels * filters * rows * cols + filters != params.size:
        raise ModelFormatError("convolution parameters do not add up")
    w = params[: filters * channels * rows * cols].reshape(filters, channels, rows, cols)
    weights = np.ascontiguousarray(w.transpose(2, 3, 1, 0).reshape(rows * cols * channels, filters))
    return _Conv(weights, params[filters * channels * rows * cols:].copy(), rows, stride_y, pad_y)


def _read_affine(reader: _Reader) -> _Affine:
    reader.expect("affine_")
    params = reader.tensor().reshape(-1)
    half = params.size // 2
    return _Affine(params[:half].copy(), params[half:].copy())


@dataclass(frozen=True)
class _Block:
    """conv-affine-relu-conv-affine, plus the identity (or 2×2 average-pooled) input, then relu."""

    first: _Conv
    first_affine: _Affine
    second: _Conv
    second_affine: _Affine
    down: bool


class FaceResNet:
    """``compute_face_descriptor(chip, num_jitters=0)`` like ``dlib.face_recognition_model_v1``."""

    def __init__(self, path: Path) -> None:
        reader = _Reader(path.read_bytes())
        reader.expect("input_rgb_image_sized")
        self.mean = np.array([reader.float(), reader.float(), reader.float()], dtype=np.float32)
        size = reader.int(), reader.int()
        if size != (150, 150):
            raise ModelFormatError(f"input size {size}")
        self.stem = _read_conv(reader)
        self.stem_affine = _read_affine(reader)
        reader.expect("max_pool_2")
        self.pool = [reader.int() for _ in range(6)]  # rows, cols, stride_y, stride_x, pad_y, pad_x
        self.blocks: list[_Block] = []
        # anet_type, from the input: 3 × ares<32>, ares_down<64> + 3 × ares<64>,
        # ares_down<128> + 2 × ares<128>, ares_down<256> + 2 × ares<256>, ares_down<256>.
        for down in (False, False, False, True, False, False, False, True, False, False, True, False, False, True):
            first, first_affine = _read_conv(reader), _read_affine(reader)
            second, second_affine = _read_conv(reader), _read_affine(reader)
            if down:
                reader.expect("avg_pool_2")
                if [reader.int() for _ in range(6)] != [2, 2, 2, 2, 0, 0]:
                    raise ModelFormatError("unexpected residual pooling")
            self.blocks.append(_Block(first, first_affine, second, second_affine, down))
        reader.expect("fc_2")
        outputs, inputs = reader.int(), reader.int()
        fc = reader.tensor().reshape(-1)
        if fc.size != inputs * outputs:
            raise ModelFormatError("fully connected layer does not add up")
        self.fc = fc.reshape(inputs, outputs)

    def compute_face_descriptor(self, chip: NDArray[np.uint8], num_jitters: int = 0) -> F32:
        """The 128-D descriptor of one aligned 150×150 RGB chip (no jitter)."""
        if num_jitters:
            raise ValueError("jitter is not supported")
        if chip.shape != (150, 150, 3):
            raise ValueError(f"expected a 150x150 RGB chip, got {chip.shape}")
        x = (chip.astype(np.float32) - self.mean) / np.float32(256.0)
        x = _relu(_affine(_conv(x, self.stem), self.stem_affine))
        x = _max_pool(x, *self.pool[:3])
        for block in self.blocks:
            y = _relu(_affine(_conv(x, block.first), block.first_affine))
            y = _affine(_conv(y, block.second), block.second_affine)
            skip = _avg_pool_2(x) if block.down else x
            x = _relu(_add_padded(y, skip))
        pooled = x.reshape(-1, x.shape[2]).mean(axis=0, dtype=np.float32)
        return np.asarray(pooled @ self.fc, dtype=np.float32)


def _conv(x: F32, conv: _Conv) -> F32:
    """Convolution as matrix products: x is (rows, cols, channels)."""
    if conv.stride == 1 and conv.padding == conv.size // 2:
        return _conv_same(x, conv)
    if conv.padding:
        p = conv.padding
        padded = np.zeros((x.shape[0] + 2 * p, x.shape[1] + 2 * p, x.shape[2]), dtype=np.float32)
        padded[p:-p, p:-p] = x
        x = padded
    k, s = conv.size, conv.stride
    windows = sliding_window_view(x, (k, k), axis=(0, 1))[::s, ::s]  # type: ignore[call-overload]  # stubs: one axis
    oh, ow = windows.shape[:2]
    cols = windows.transpose(0, 1, 3, 4, 2).reshape(oh * ow, -1)
    return np.asarray((cols @ conv.weights + conv.bias).reshape(oh, ow, -1), dtype=np.float32)


def _conv_same(x: F32, conv: _Conv) -> F32:
    """A stride-1 "same" convolution without im2col: one product per kernel tap on a shifted view.

    Flattened row-major, the padded image shifted by (dy, dx) is the flat array shifted by
    dy·(cols+2p)+dx, a contiguous slice: each tap is one matrix product with no copy. Output
    rows land at the same flat positions; the 2p pad columns of each row are dropped at the end.
    """
    rows, cols, channels = x.shape
    k, p = conv.size, conv.padding
    width = cols + 2 * p
    padded = np.zeros(((rows + 2 * p) * width + 2 * p, channels), dtype=np.float32)
    padded[: (rows + 2 * p) * width].reshape(rows + 2 * p, width, channels)[p:p + rows, p:p + cols] = x
    span = rows * width
    taps = conv.weights.reshape(k, k, channels, -1)
    out = padded[0:span] @ taps[0, 0]
    for dy in range(k):
        for dx in range(k):
            if dy or dx:
                start = dy * width + dx
                out += padded[start:start + span] @ taps[dy, dx]
    out += conv.bias
    return np.ascontiguousarray(out.reshape(rows, width, -1)[:, :cols])


def _affine(x: F32, affine: _Affine) -> F32:
    x *= affine.gamma
    x += affine.beta
    return x


def _relu(x: F32) -> F32:
    return np.maximum(x, 0, out=x)


def _max_pool(x: F32, size: int, _cols: int, stride: int) -> F32:
    windows = sliding_window_view(x, (size, size), axis=(0, 1))[::stride, ::stride]  # type: ignore[call-overload]
    return np.asarray(windows.max(axis=(3, 4)), dtype=np.float32)


def _avg_pool_2(x: F32) -> F32:
    h, w = (x.shape[0] // 2) * 2, (x.shape[1] // 2) * 2
    v = x[:h, :w]
    return np.asarray(0.25 * (v[0::2, 0::2] + v[1::2, 0::2] + v[0::2, 1::2] + v[1::2, 1::2]), dtype=np.float32)


def _add_padded(a: F32, b: F32) -> F32:
    """dlib's ``add_prev``: the sum over the larger of the two shapes, the smaller one zero-filled."""
    if a.shape == b.shape:
        return a + b
    shape = tuple(max(i, j) for i, j in zip(a.shape, b.shape, strict=True))
    out = np.zeros(shape, dtype=np.float32)
    out[: a.shape[0], : a.shape[1], : a.shape[2]] += a
    out[: b.shape[0], : b.shape[1], : b.shape[2]] += b
    return out


def single_threaded_blas() -> bool:
    """Limit numpy's OpenBLAS to one thread in this process; True if it could be done.

    A worker process is one core (docs/scaling.md). On matrices this small, OpenBLAS's
    extra threads spin more than they compute: measured here, one descriptor took 123 ms
    of CPU with the default two threads and 24 ms with one (dlib's own code: 80 ms).
    """
    import ctypes
    import glob
    import os

    libs = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "libopenblas*.so*")
    for path in glob.glob(libs):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol in ("openblas_set_num_threads64_", "openblas_set_num_threads"):
            setter = getattr(library, symbol, None)
            if setter is not None:
                setter(1)
                return True
    return False
