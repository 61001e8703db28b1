"""Reading an ONNX file safely: the protobuf, its tensors and their external data.

Nothing from the file is ever executed. Every refusal is a ``ValueError`` with one sentence:

- an empty, enormous (over :data:`MAX_FILE_BYTES`), truncated or non-protobuf file;
- a tensor whose declared size does not match the bytes present (checked before allocating),
  or that would take the model's constants past ``max_bytes``;
- external data outside the model's own folder (an absolute ``location``, one with ``..``, or
  one that resolves, through symbolic links, out of the folder), or shorter than declared;
- values a tensor's type cannot hold (an int8/uint8/int16/uint16/float16 element stored out of
  its range), and NaN or infinite values in a float tensor.

External data is read straight into the array that is returned (one copy in memory, not the
bytes and then an array of them).
"""

from __future__ import annotations

import os
import stat

import numpy as np

MAX_FILE_BYTES = 2 ** 31 - 1          # protobuf's own limit for one message
MAX_CONSTANT_BYTES = 4 * 2 ** 30      # all constants of one model together, float32 after load
# ONNX TensorProto.DataType -> NumPy dtype (little-endian, as ONNX stores raw data)
DTYPES = {1: "<f4", 2: "u1", 3: "i1", 4: "<u2", 5: "<i2", 6: "<i4", 7: "<i8", 9: "?",
          10: "<f2", 11: "<f8", 12: "<u4", 13: "<u8"}
_TYPED_FIELDS = {1: "float_data", 11: "double_data", 7: "int64_data", 13: "uint64_data",
                 12: "uint64_data"}
# int32_data (uint64_data for uint32) holds these types widened: each value must fit the type
# (float16 as its 16 bits)
_WIDENED_RANGE = {2: (0, 255), 3: (-128, 127), 4: (0, 65535), 5: (-32768, 32767), 9: (0, 1),
                  10: (0, 65535), 12: (0, 2 ** 32 - 1)}


class Budget:
    """Bytes of constants allowed for one model; :meth:`take` refuses before any allocation."""

    def __init__(self, limit: int = MAX_CONSTANT_BYTES):
        self.limit, self.used = int(limit), 0

    def take(self, nbytes: int, what: str) -> None:
        if nbytes > self.limit - self.used:
            raise ValueError(f"{what} would take the model's constants to "
                             f"{(self.used + nbytes) / 2**30:.1f} GiB, more than the "
                             f"{self.limit / 2**30:.1f} GiB allowed.")
        self.used += nbytes


def read_model(path):
    """The parsed ``onnx.ModelProto`` of ``path`` (external data not loaded), or ValueError."""
    import onnx
    from google.protobuf.message import DecodeError

    name = os.path.basename(os.fspath(path))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        with os.fdopen(os.open(path, flags), "rb") as fh:   # O_NONBLOCK: a pipe cannot hold it
            info = os.fstat(fh.fileno())                    # judged on what was opened
            if not stat.S_ISREG(info.st_mode):
                raise ValueError(f"{name} is not a regular file, so not an ONNX model.")
            if info.st_size == 0:
                raise ValueError(f"{name} is empty, not an ONNX model.")
            if info.st_size > MAX_FILE_BYTES:
                raise ValueError(f"{name} is {info.st_size / 2**30:.1f} GiB, larger than an ONNX "
                                 "file can be (2 GiB); big models keep their weights as external "
                                 "data.")
            os.set_blocking(fh.fileno(), True)
            data = fh.read(info.st_size + 1)                # never more, even if it grows
    except OSError as exc:
        raise ValueError(f"{name} cannot be read: {exc.strerror or exc}.") from None
    if len(data) != info.st_size:
        raise ValueError(f"{name} changed size while it was read; try again once it is "
                         "written.")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError):
        raise ValueError(f"{name} is not an ONNX model: it is not a valid protobuf message "
                         "(truncated, or another kind of file).") from None
    if model.ir_version <= 0 or not model.HasField("graph") or not model.graph.node:
        raise ValueError(f"{name} is not an ONNX model: it holds no graph of nodes "
                         "(truncated, or another kind of file).")
    return model


def tensor_array(tensor, folder: str, budget: Budget, what: str) -> np.ndarray:
    """A TensorProto as a NumPy array, its size checked against the bytes present (and the
    budget) first, its values checked after (in range for its type, finite when float)."""
    dtype = DTYPES.get(tensor.data_type)
    if dtype is None:
        raise ValueError(f"{what} has data type {tensor.data_type}, which ConvLab does not read.")
    dims = [int(d) for d in tensor.dims]
    if any(d < 0 for d in dims):
        raise ValueError(f"{what} declares a negative size {dims}.")
    count = int(np.prod(dims, dtype=object)) if dims else 1
    nbytes = count * np.dtype(dtype).itemsize
    budget.take(max(nbytes, count * 4), what)
    try:
        if tensor.data_location == 1:                              # EXTERNAL
            array = _external_array(tensor, folder, np.dtype(dtype), count, what)
        elif tensor.HasField("raw_data") or tensor.raw_data:
            raw = tensor.raw_data
            if len(raw) != nbytes:
                raise ValueError(f"{what} declares {dims} ({nbytes:,} bytes) but holds "
                                 f"{len(raw):,} bytes.")
            array = np.frombuffer(raw, dtype=dtype, count=count).copy()
        else:
            array = _typed_values(tensor, dtype, count, dims, what)
    except MemoryError:
        raise ValueError(f"{what} ({nbytes / 2**30:.1f} GiB) does not fit in the memory that "
                         "is free.") from None
    return check_finite(array.reshape(dims), what)


def check_finite(array: np.ndarray, what: str) -> np.ndarray:
    """``array``, or ValueError when it is a float array holding NaN or an infinity."""
    if array.dtype.kind == "f" and array.size and not np.isfinite(array).all():
        bad = int(array.size - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{what} holds {bad:,} NaN or infinite value{'s' if bad != 1 else ''}; "
                         "ConvLab reads finite numbers only.")
    return array


def _typed_values(tensor, dtype: str, count: int, dims, what: str) -> np.ndarray:
    field = _TYPED_FIELDS.get(tensor.data_type, "int32_data")
    values = getattr(tensor, field)
    if len(values) != count:
        raise ValueError(f"{what} declares {dims} ({count:,} values) but holds {len(values):,}.")
    low_high = _WIDENED_RANGE.get(tensor.data_type)
    if low_high is not None and count:
        if min(values) < low_high[0] or max(values) > low_high[1]:   # Python ints: no overflow
            kind = "float16 bit patterns" if tensor.data_type == 10 else np.dtype(dtype).name
            raise ValueError(f"{what} stores values outside the range of {kind} "
                             f"({low_high[0]} to {low_high[1]}), which its type cannot hold.")
    if tensor.data_type == 10:                                     # float16 bits in int32_data
        return np.asarray(values, dtype=np.uint16).view(np.float16)
    return np.asarray(values, dtype=dtype)


def _external_array(tensor, folder: str, dtype: np.dtype, count: int, what: str) -> np.ndarray:
    """The ``count`` values of an external tensor, read from a regular file inside ``folder``
    straight into the array (``readinto``: the bytes are never held twice)."""
    nbytes = count * dtype.itemsize
    info = {entry.key: entry.value for entry in tensor.external_data}
    location = info.get("location", "")
    parts = location.replace("\\", "/").split("/")
    if (not location or os.path.isabs(location) or location.startswith(("/", "\\"))
            or ".." in parts or ":" in location):
        raise ValueError(f"{what} keeps its data at {location!r}, outside the model's folder; "
                         "only files beside the model are read.")
    root = os.path.realpath(folder)
    target = os.path.realpath(os.path.join(root, location))
    if os.path.commonpath([root, target]) != root:
        raise ValueError(f"{what} keeps its data at {location!r}, which leads out of the "
                         "model's folder (a symbolic link); only files beside the model are read.")
    try:
        offset = int(info.get("offset", "0"))
        length = int(info.get("length", str(nbytes)))
    except ValueError:
        raise ValueError(f"{what} gives an offset or length that is not a number.") from None
    if length != nbytes or offset < 0:
        raise ValueError(f"{what} declares {nbytes:,} bytes but its external data says "
                         f"{length:,} at offset {offset:,}.")
    if not os.path.isfile(target):
        raise ValueError(f"{what} keeps its data in {location!r}, which does not exist beside "
                         "the model.")
    if os.path.getsize(target) < offset + nbytes:
        raise ValueError(f"{what} needs {nbytes:,} bytes at offset {offset:,} of {location!r}, "
                         f"which holds only {os.path.getsize(target):,} bytes (truncated).")
    array = np.empty(count, dtype)
    view, done = memoryview(array.view(np.uint8)), 0
    with open(target, "rb", buffering=0) as fh:
        fh.seek(offset)
        while done < nbytes:
            got = fh.readinto(view[done:done + (1 << 26)])   # 64 MiB a call
            if not got:
                raise ValueError(f"{location!r} ended before {what}'s {nbytes:,} bytes.")
            done += got
    return array
