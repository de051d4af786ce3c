"""Just enough of ONNX's protobuf encoding to hand a fixed network to onnxruntime.

ONNX models are protobuf messages (``onnx/onnx.proto``); onnxruntime accepts the serialised
bytes directly. The ``onnx`` package, which would build them, is not installed, and the few
messages a feed-forward graph of initialisers and nodes needs are short to write by hand:
varint and length-delimited fields, with the field numbers of ``onnx.proto`` below.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FLOAT, INT64 = 1, 7  # TensorProto.DataType
_ATTR_INT, _ATTR_INTS = 2, 7  # AttributeProto.AttributeType
IR_VERSION = 7
OPSET = 13


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64s are ten-byte two's complement varints
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _int(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _bytes(field: int, value: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(value)) + value


def _str(field: int, value: str) -> bytes:
    return _bytes(field, value.encode("utf-8"))


def tensor(name: str, array: NDArray[np.float32] | NDArray[np.int64]) -> bytes:
    """TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian)."""
    if array.dtype == np.float32:
        kind, raw = FLOAT, np.ascontiguousarray(array, dtype="<f4").tobytes()
    elif array.dtype == np.int64:
        kind, raw = INT64, np.ascontiguousarray(array, dtype="<i8").tobytes()
    else:
        raise TypeError(f"unsupported tensor type {array.dtype}")
    return b"".join(_int(1, d) for d in array.shape) + _int(2, kind) + _str(8, name) + _bytes(9, raw)


def attr(name: str, value: int | Sequence[int]) -> bytes:
    """AttributeProto: name = 1, i = 3, ints = 8, type = 20."""
    if isinstance(value, int):
        return _str(1, name) + _int(20, _ATTR_INT) + _int(3, value)
    return _str(1, name) + _int(20, _ATTR_INTS) + b"".join(_int(8, v) for v in value)


def node(op: str, inputs: Sequence[str], outputs: Sequence[str], *attrs: bytes) -> bytes:
    """NodeProto: input = 1, output = 2, op_type = 4, attribute = 5."""
    return (b"".join(_str(1, i) for i in inputs) + b"".join(_str(2, o) for o in outputs) + _str(4, op)
            + b"".join(_bytes(5, a) for a in attrs))


def value_info(name: str, dims: Sequence[int | str]) -> bytes:
    """ValueInfoProto of a float tensor: name = 1, type = 2 (TypeProto.tensor_type = 1: elem_type = 1,
    shape = 2 with one dim = 1 each, dim_value = 1 or dim_param = 2)."""
    shape = b"".join(_bytes(1, _int(1, d) if isinstance(d, int) else _str(2, d)) for d in dims)
    return _str(1, name) + _bytes(2, _bytes(1, _int(1, FLOAT) + _bytes(2, shape)))


def model(nodes: Sequence[bytes], initialisers: Sequence[bytes], inputs: Sequence[bytes],
          outputs: Sequence[bytes]) -> bytes:
    """ModelProto (ir_version = 1, graph = 7, opset_import = 8) around one GraphProto
    (node = 1, name = 2, initializer = 5, input = 11, output = 12)."""
    graph = (b"".join(_bytes(1, n) for n in nodes) + _str(2, "graph")
             + b"".join(_bytes(5, t) for t in initialisers)
             + b"".join(_bytes(11, v) for v in inputs) + b"".join(_bytes(12, v) for v in outputs))
    return _int(1, IR_VERSION) + _bytes(7, graph) + _bytes(8, _str(1, "") + _int(2, OPSET))


