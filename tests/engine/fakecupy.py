"""A CuPy test double: device arrays that are NumPy underneath, as strict as CuPy and stricter.

Installed as ``sys.modules["cupy"]`` (see :func:`installed`), so the engine's own
``array_module`` finds it exactly as it would find CuPy. What it refuses, each with a TypeError
that names the mistake:

- implicit conversion to NumPy: ``np.asarray(a)``, ``np.array(a)`` (CuPy raises the same);
  the explicit ways are ``a.get()`` and ``cupy.asnumpy(a)``;
- NumPy functions and ufuncs called on its arrays (``np.maximum(a, 0)``, ``np.sum(a)``,
  ``np.lib.stride_tricks.as_strided(a, ...)``): code must call the module it was given;
- host NumPy arrays mixed into device arithmetic or device functions (CuPy raises);
- iterating over an array element by element.

Python scalars pulled from an array (``float(a)``, ``int(a)``, ``bool(a)``, ``a.item()``,
``a.tolist()``) work, as on CuPy, but each is a device-to-host synchronisation: they are counted
in ``pulls`` so a test can prove an op does none.
"""

from __future__ import annotations

import contextlib
import operator
import sys
import types

import numpy as np

pulls = 0  # scalars pulled to the host since the last reset_pulls()


def reset_pulls() -> None:
    global pulls
    pulls = 0


def _pull(value):
    global pulls
    pulls += 1
    return value


class FakeDeviceError(TypeError):
    """What the double raises: CuPy raises TypeError for the same mistakes."""


def _unwrap(value, allow_host: bool = False):
    """The NumPy array behind a device array; host arrays refused unless ``allow_host``."""
    if isinstance(value, ndarray):
        return value._a
    if isinstance(value, np.ndarray) and not allow_host:
        raise FakeDeviceError(f"a host numpy.ndarray {value.shape} was mixed into a device "
                              "operation; move it with cupy.asarray first (CuPy raises here)")
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v, allow_host) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v, allow_host) for k, v in value.items()}
    return value


def _wrap(value):
    if isinstance(value, np.ndarray):
        return ndarray(value)
    if isinstance(value, np.generic):  # CuPy's reductions give 0-d device arrays, not scalars
        return ndarray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


class _Flags:
    """CuPy's flags: c_contiguous, f_contiguous, owndata; no ``writeable``."""

    def __init__(self, a: np.ndarray):
        self.c_contiguous = a.flags.c_contiguous
        self.f_contiguous = a.flags.f_contiguous
        self.owndata = a.flags.owndata


class ndarray:  # noqa: N801 (CuPy's name)
    """A device array: NumPy inside, refusing to turn into one implicitly."""

    __array_ufunc__ = None  # NumPy's ufuncs refuse it, and its binary operators defer to ours

    def __init__(self, a: np.ndarray):
        self._a = a

    def __array__(self, *args, **kwargs):
        raise FakeDeviceError("Implicit conversion to a NumPy array is not allowed. "
                              "Please use `.get()` to construct a NumPy array explicitly.")

    def __array_function__(self, func, types_, args, kwargs):
        raise FakeDeviceError(f"numpy.{func.__name__} was called on a device array; "
                              "call the array module's function instead")

    def __iter__(self):
        raise FakeDeviceError("iterating over a device array pulls one element at a time")

    def __len__(self):
        return len(self._a)

    def __repr__(self):
        return f"fakecupy.ndarray(shape={self.shape}, dtype={self.dtype})"

    # scalars: allowed as on CuPy, but counted
    def __float__(self):
        return _pull(float(self._a))

    def __int__(self):
        return _pull(int(self._a))

    def __index__(self):
        return _pull(operator.index(self._a))

    def __bool__(self):
        return _pull(bool(self._a))

    def item(self):
        return _pull(self._a.item())

    def tolist(self):
        return _pull(self._a.tolist())

    def get(self, stream=None):
        return self._a.copy()

    @property
    def flags(self):
        return _Flags(self._a)

    @property
    def T(self):  # noqa: N802
        return ndarray(self._a.T)

    def __getattr__(self, name):
        # shape, dtype, ndim, size, strides, nbytes, itemsize, and methods (reshape, astype...)
        if name.startswith("__") or name == "_a":
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if callable(attr):
            return lambda *a, **k: _wrap(attr(*_unwrap(a), **_unwrap(k)))
        return _wrap(attr)

    def __getitem__(self, key):
        return _wrap(self._a[_unwrap(key)])

    def __setitem__(self, key, value):
        self._a[_unwrap(key)] = _unwrap(value, allow_host=True)  # CuPy copies host values in


def _binary(name):
    method = getattr(operator, name)

    def forward(self, other):
        return _wrap(method(self._a, _unwrap(other)))

    def reflected(self, other):
        return _wrap(method(_unwrap(other), self._a))

    def inplace(self, other):
        getattr(operator, f"i{name.rstrip('_')}")(self._a, _unwrap(other))
        return self

    return forward, reflected, inplace


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul",
              "and_", "or_", "xor", "lshift", "rshift"):
    _f, _r, _i = _binary(_name)
    _bare = _name.rstrip("_")
    setattr(ndarray, f"__{_bare}__", _f)
    setattr(ndarray, f"__r{_bare}__", _r)
    setattr(ndarray, f"__i{_bare}__", _i)
for _name in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(ndarray, f"__{_name}__", (lambda m: lambda self, o: _wrap(m(self._a, _unwrap(o))))(
        getattr(operator, _name)))
for _name in ("neg", "pos", "abs", "invert"):
    setattr(ndarray, f"__{_name}__", (lambda m: lambda self: _wrap(m(self._a)))(getattr(operator, _name)))
ndarray.__hash__ = None
ndarray.__module__ = "cupy._core.core"  # what backend.array_module looks for


def _device_function(fn, allow_host=False):
    def call(*args, **kwargs):
        return _wrap(fn(*_unwrap(args, allow_host), **_unwrap(kwargs, allow_host)))

    call.__name__ = getattr(fn, "__name__", "function")
    return call


class _Device:
    def __init__(self, device=None):
        self.id = 0

    def synchronize(self):
        pass


def _make_module() -> types.ModuleType:
    mod = types.ModuleType("cupy", "fakecupy: NumPy behind CuPy's face, for tests without a GPU")

    def __getattr__(name):  # every other NumPy function, strict about host arrays
        value = getattr(np, name)
        return _device_function(value) if callable(value) and not isinstance(value, type) else value

    mod.__getattr__ = __getattr__
    mod.__version__ = "13.0.0-fake"
    mod.ndarray = ndarray
    mod.asarray = _device_function(np.asarray, allow_host=True)
    mod.array = _device_function(np.array, allow_host=True)
    mod.asnumpy = lambda a, stream=None: a.get() if isinstance(a, ndarray) else np.asarray(a)
    mod.get_array_module = lambda *arrays: mod if any(isinstance(a, ndarray) for a in arrays) else np
    mod.is_available = lambda: True
    mod.lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(
        as_strided=_device_function(np.lib.stride_tricks.as_strided)))
    mod.cuda = types.SimpleNamespace(
        Device=_Device,
        runtime=types.SimpleNamespace(getDeviceProperties=lambda i: {"name": b"Fake GPU"}))
    return mod


module = _make_module()


@contextlib.contextmanager
def installed():
    """Make ``import cupy`` give this double for the duration (restores what was there)."""
    saved = sys.modules.get("cupy")
    sys.modules["cupy"] = module
    reset_pulls()
    try:
        yield module
    finally:
        if saved is None:
            sys.modules.pop("cupy", None)
        else:
            sys.modules["cupy"] = saved
