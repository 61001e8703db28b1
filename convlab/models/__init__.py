"""Models from files, outside the engine: ONNX import (the optional ``onnx`` extra) and the
preprocessing a trained model expects.

``load_onnx(path) -> Network`` parses the file with the ``onnx`` package (no other runtime:
ConvLab's own engine runs it) and builds the engine's ``Network`` through
``Network.from_spec(spec, weights=...)``. Every refusal is a ``ValueError`` with one sentence.
"""

from __future__ import annotations

INSTALL_HINT = ("Opening ONNX models needs the onnx package: pip install \"convlab[onnx]\" "
                "(or pip install onnx).")


class OnnxUnavailable(ImportError):
    """The ``onnx`` package is not installed; ``str(exc)`` says how to install it."""


def onnx_available() -> bool:
    try:
        import onnx  # noqa: F401
    except ImportError:
        return False
    return True


def onnx_to_spec(path, *, input_shape=None, max_bytes=None):
    """``(spec, weights, tensor_of)`` for an ONNX file, without building the network
    (``tensor_of``: layer name -> the ONNX value that layer makes)."""
    if not onnx_available():
        raise OnnxUnavailable(INSTALL_HINT)
    from convlab.models import onnx_file, onnx_import

    limit = onnx_file.MAX_CONSTANT_BYTES if max_bytes is None else max_bytes
    return onnx_import.convert(path, input_shape=input_shape, max_bytes=limit)


def load_onnx(path, *, input_shape=None, xp=None, max_bytes=None):
    """The ONNX model at ``path`` as a ConvLab ``Network`` (layers named after the nodes).

    ``net.onnx_tensors`` maps each layer name to the ONNX value it makes.
    ``input_shape`` ``(C, H, W)`` overrides the file's (needed where H or W is symbolic);
    ``max_bytes`` caps the model's constants (default 4 GiB). Raises :class:`OnnxUnavailable`
    without the ``onnx`` package, ``ValueError`` (one sentence) for a file that cannot be run.
    """
    from convlab.engine.nets import Network

    spec, weights, tensor_of = onnx_to_spec(path, input_shape=input_shape, max_bytes=max_bytes)
    net = Network.from_spec(spec, weights=weights, xp=xp)
    net.onnx_tensors = tensor_of
    net.weights_source = f"ONNX file {getattr(path, 'name', None) or str(path)}"
    return net


__all__ = ["INSTALL_HINT", "OnnxUnavailable", "load_onnx", "onnx_available", "onnx_to_spec"]
