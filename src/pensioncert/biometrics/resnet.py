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

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    """``compute_face_descriptor(chip, num_jitters=0)`` like ``dlib.face_recognition_model_v1``.

    ``runtime="onnx"`` runs the network on onnxruntime (one thread, the graph built from these
    weights by ``onnx_model``), ``"numpy"`` on numpy's BLAS; the descriptors agree to 1e-6.
    """

    def __init__(self, path: Path, *, runtime: str = "numpy") -> None:
        if runtime not in ("numpy", "onnx"):
            raise ValueError(f"unknown runtime {runtime!r}")
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
        self.runtime = runtime
        self._session = _onnx_session(onnx_model(self)) if runtime == "onnx" else None

    def compute_face_descriptor(self, chip: NDArray[np.uint8], num_jitters: int = 0) -> F32:
        """The 128-D descriptor of one aligned 150×150 RGB chip (no jitter)."""
        if num_jitters:
            raise ValueError("jitter is not supported")
        return self.compute_face_descriptors([chip])[0]

    def compute_face_descriptors(self, chips: Sequence[NDArray[np.uint8]]) -> F32:
        """The (n, 128) descriptors of n aligned 150×150 RGB chips, computed as one batch.

        The same arithmetic as one chip at a time (each image's values are computed from its
        own pixels only); the matrix products are just n times taller, which keeps the BLAS
        busy on the late layers whose images are a few pixels across (measured in
        docs/scaling.md: 12 chips in one batch cost less than half of 12 single calls).
        """
        if not len(chips):
            return np.zeros((0, self.fc.shape[1]), dtype=np.float32)
        for chip in chips:
            if chip.shape != (150, 150, 3):
                raise ValueError(f"expected a 150x150 RGB chip, got {chip.shape}")
        x = (np.stack(chips).astype(np.float32) - self.mean) / np.float32(256.0)
        if self._session is not None:
            nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
            return np.asarray(self._session.run(None, {"chips": nchw})[0], dtype=np.float32)
        x = _relu(_affine(_conv(x, self.stem), self.stem_affine))
        x = _max_pool(x, *self.pool[:3])
        for block in self.blocks:
            y = _relu(_affine(_conv(x, block.first), block.first_affine))
            y = _affine(_conv(y, block.second), block.second_affine)
            skip = _avg_pool_2(x) if block.down else x
            x = _relu(_add_padded(y, skip))
        pooled = x.reshape(x.shape[0], -1, x.shape[3]).mean(axis=1, dtype=np.float32)
        return np.asarray(pooled @ self.fc, dtype=np.float32)


def _conv(x: F32, conv: _Conv) -> F32:
    """Convolution as matrix products: x is (images, rows, cols, channels)."""
    if conv.stride == 1 and conv.padding == conv.size // 2:
        return _conv_same(x, conv)
    if conv.padding:
        p = conv.padding
        padded = np.zeros((x.shape[0], x.shape[1] + 2 * p, x.shape[2] + 2 * p, x.shape[3]), dtype=np.float32)
        padded[:, p:-p, p:-p] = x
        x = padded
    k, s = conv.size, conv.stride
    windows = sliding_window_view(x, (k, k), axis=(1, 2))[:, ::s, ::s]  # type: ignore[call-overload]  # stubs: one axis
    n, oh, ow = windows.shape[:3]
    cols = windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * oh * ow, -1)
    return np.asarray((cols @ conv.weights + conv.bias).reshape(n, oh, ow, -1), dtype=np.float32)


def _conv_same(x: F32, conv: _Conv) -> F32:
    """A stride-1 "same" convolution without im2col: one product per kernel tap on a shifted view.

    Flattened row-major, the padded image shifted by (dy, dx) is the flat array shifted by
    dy·(cols+2p)+dx, a contiguous slice: each tap is one matrix product with no copy. Output
    rows land at the same flat positions; the 2p pad columns of each row are dropped at the end.
    A batch is the padded images one under the other: an output pixel's taps never leave its
    own image's padded block, so the 2p pad rows after each image are the only extra work.
    """
    images, rows, cols, channels = x.shape
    k, p = conv.size, conv.padding
    width, height = cols + 2 * p, rows + 2 * p
    span = images * height * width
    padded = np.zeros((span + 2 * p * width + 2 * p, channels), dtype=np.float32)
    padded[:span].reshape(images, height, width, channels)[:, p:p + rows, p:p + cols] = x
    taps = conv.weights.reshape(k, k, channels, -1)
    out = padded[0:span] @ taps[0, 0]
    for dy in range(k):
        for dx in range(k):
            if dy or dx:
                start = dy * width + dx
                out += padded[start:start + span] @ taps[dy, dx]
    out += conv.bias
    return np.ascontiguousarray(out.reshape(images, height, width, -1)[:, :rows, :cols])


def _affine(x: F32, affine: _Affine) -> F32:
    x *= affine.gamma
    x += affine.beta
    return x


def _relu(x: F32) -> F32:
    return np.maximum(x, 0, out=x)


def _max_pool(x: F32, size: int, _cols: int, stride: int) -> F32:
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]  # type: ignore[call-overload]
    return np.asarray(windows.max(axis=(4, 5)), dtype=np.float32)


def _avg_pool_2(x: F32) -> F32:
    h, w = (x.shape[1] // 2) * 2, (x.shape[2] // 2) * 2
    v = x[:, :h, :w]
    return np.asarray(0.25 * (v[:, 0::2, 0::2] + v[:, 1::2, 0::2] + v[:, 0::2, 1::2] + v[:, 1::2, 1::2]),
                      dtype=np.float32)


def _add_padded(a: F32, b: F32) -> F32:
    """dlib's ``add_prev``: the sum over the larger of the two shapes, the smaller one zero-filled."""
    if a.shape == b.shape:
        return a + b
    shape = tuple(max(i, j) for i, j in zip(a.shape, b.shape, strict=True))
    out = np.zeros(shape, dtype=np.float32)
    out[:, : a.shape[1], : a.shape[2], : a.shape[3]] += a
    out[:, : b.shape[1], : b.shape[2], : b.shape[3]] += b
    return out


def onnx_model(net: FaceResNet) -> bytes:
    """The same network as an ONNX graph (NCHW) for onnxruntime: serialised ``ModelProto`` bytes.

    Each convolution takes its affine layer folded in (weights × gamma, bias × gamma + beta);
    ``add_prev``'s zero-fill becomes a ``Pad`` of the smaller operand to the larger shape, the
    shapes being fixed by the 150×150 input. Input ``chips``: (n, 3, 150, 150), already
    mean-subtracted and scaled as in ``compute_face_descriptors``; output ``descriptors`` (n, 128).
    """
    from pensioncert.biometrics import onnx_graph as g

    nodes: list[bytes] = []
    inits: list[bytes] = []
    count = iter(range(1 << 30))

    def conv(x: str, size: tuple[int, int, int], layer: _Conv, affine: _Affine, relu: bool
             ) -> tuple[str, tuple[int, int, int]]:
        k, s, p = layer.size, layer.stride, layer.padding
        channels, rows, cols = size
        filters = layer.weights.shape[1]
        w = layer.weights.reshape(k, k, channels, filters).transpose(3, 2, 0, 1) * affine.gamma[:, None, None, None]
        b = layer.bias * affine.gamma + affine.beta
        i = next(count)
        inits.extend([g.tensor(f"w{i}", w.astype(np.float32)), g.tensor(f"b{i}", b.astype(np.float32))])
        nodes.append(g.node("Conv", [x, f"w{i}", f"b{i}"], [f"c{i}"], g.attr("kernel_shape", [k, k]),
                            g.attr("strides", [s, s]), g.attr("pads", [p, p, p, p])))
        out = (filters, (rows + 2 * p - k) // s + 1, (cols + 2 * p - k) // s + 1)
        if not relu:
            return f"c{i}", out
        nodes.append(g.node("Relu", [f"c{i}"], [f"r{i}"]))
        return f"r{i}", out

    def pad_to(x: str, size: tuple[int, int, int], target: tuple[int, int, int]) -> str:
        if size == target:
            return x
        i = next(count)
        ends = [0] + [t - v for t, v in zip(target, size, strict=True)]
        inits.append(g.tensor(f"p{i}", np.array([0, 0, 0, 0, *ends], dtype=np.int64)))
        nodes.append(g.node("Pad", [x, f"p{i}"], [f"pad{i}"]))
        return f"pad{i}"

    x, size = conv("chips", (3, 150, 150), net.stem, net.stem_affine, relu=True)
    rows, cols, stride = net.pool[:3]
    nodes.append(g.node("MaxPool", [x], ["pool"], g.attr("kernel_shape", [rows, cols]),
                        g.attr("strides", [stride, stride])))
    x, size = "pool", (size[0], (size[1] - rows) // stride + 1, (size[2] - cols) // stride + 1)
    for block in net.blocks:
        y, ysize = conv(x, size, block.first, block.first_affine, relu=True)
        y, ysize = conv(y, ysize, block.second, block.second_affine, relu=False)
        skip, ssize = x, size
        if block.down:
            i = next(count)
            nodes.append(g.node("AveragePool", [x], [f"a{i}"], g.attr("kernel_shape", [2, 2]),
                                g.attr("strides", [2, 2])))
            skip, ssize = f"a{i}", (size[0], size[1] // 2, size[2] // 2)
        target = (max(ysize[0], ssize[0]), max(ysize[1], ssize[1]), max(ysize[2], ssize[2]))
        i = next(count)
        nodes.append(g.node("Add", [pad_to(y, ysize, target), pad_to(skip, ssize, target)], [f"s{i}"]))
        nodes.append(g.node("Relu", [f"s{i}"], [f"x{i}"]))
        x, size = f"x{i}", target
    nodes.append(g.node("GlobalAveragePool", [x], ["gap"]))
    nodes.append(g.node("Flatten", ["gap"], ["flat"], g.attr("axis", 1)))
    inits.append(g.tensor("fc", net.fc.astype(np.float32)))
    nodes.append(g.node("MatMul", ["flat", "fc"], ["descriptors"]))
    return g.model(nodes, inits, [g.value_info("chips", ["n", 3, 150, 150])],
                   [g.value_info("descriptors", ["n", net.fc.shape[1]])])


def _onnx_session(model: bytes) -> Any:
    """An onnxruntime session on one thread (a worker process is one core, docs/scaling.md).

    Created before the worker pool forks and used in every child: with one intra-op thread
    onnxruntime keeps no thread of its own, so the forked copies run as the parent did.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


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
