"""Networks from files, Qt-free: spec ``.json`` and ONNX models read safely.

- :func:`read_spec`: a spec file read through :mod:`convlab.pipelines.guard` (a regular file of
  at most :data:`MAX_SPEC_BYTES`, so a named pipe or ``/dev/zero`` never hangs), parsed as JSON;
  every refusal is one sentence (``ValueError``) that starts with the file's name.
- :func:`spec_network`: the spec built shapes-only (``Network.from_spec(init=False)``), its
  errors naming the layer (index and name), and a parameter count ConvLab can hold.
- :func:`open_model`: an ONNX file checked the same way, then :func:`convlab.models.load_onnx`
  (``OnnxUnavailable`` without the ``onnx`` extra).
"""

from __future__ import annotations

import json
import os

from convlab.pipelines import guard

MAX_SPEC_BYTES = 4 * 2 ** 20    # a spec of ten thousand layers is well under 4 MiB
MAX_PARAMS = 2 ** 31            # 8 GB of float32 weights: more is a mistake or a hostile file


def _name(path) -> str:
    return os.path.basename(os.fspath(path))


def read_spec(path):
    """The spec (a dict, or a bare list of layers) in the JSON file ``path``.

    ``ValueError`` with one sentence for a file that is not a regular file, is over 4 MiB, is
    not UTF-8 JSON (``NaN`` and ``Infinity`` included), or holds something other than an object
    or a list.
    """
    name = _name(path)
    data = guard.bounded_read(path, MAX_SPEC_BYTES, "network spec")

    def not_a_number(word):  # Python's json reads NaN, Infinity and -Infinity; JSON has none
        raise ValueError(f"{word} is not a number a spec may hold (only finite numbers)")

    try:
        spec = json.loads(data.decode("utf-8"), parse_constant=not_a_number)
    except UnicodeDecodeError:
        raise ValueError(f"{name} is not a text file, so not a network spec (JSON).") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name} is not valid JSON: {exc.msg} at line {exc.lineno}, "
                         f"column {exc.colno}.") from None
    except RecursionError:
        raise ValueError(f"{name} nests its JSON too deeply to be a network spec.") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise ValueError(f"{name} is not a usable JSON file: {exc}.") from None
    if not isinstance(spec, (dict, list)):
        raise ValueError(f"{name} holds a JSON {type(spec).__name__}, not a network spec (an "
                         "object with \"layers\", or a list of layers).")
    return spec


def spec_network(spec, name: str = "the spec"):
    """``spec`` built shapes-only (no weights drawn): a ``Network``, or ``ValueError`` whose one
    sentence names the layer (unknown kind, missing argument, wrong type, unknown input) or says
    the network is too large to build (over :data:`MAX_PARAMS` parameters). ``name`` (a file's
    path or a word) starts the sentence: ``"net.json: Layer 2 ('c2'): ..."``."""
    from convlab.engine.nets import Network

    name = _name(name)
    try:
        net = Network.from_spec(spec, init=False)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    except RecursionError:
        raise ValueError(f"{name} nests too deeply to be a network spec.") from None
    except (TypeError, KeyError, AttributeError) as exc:  # a shape the checks did not foresee
        raise ValueError(f"{name} is not a network spec ConvLab can read ({exc}).") from None
    too_big = next((layer for layer in net.layers if layer.param_count() > MAX_PARAMS), None)
    if too_big is not None:
        index = net.layers.index(too_big) + 1
        raise ValueError(f"{name}: Layer {index} ('{too_big.name}') would hold "
                         f"{too_big.param_count():,} parameters, more than ConvLab builds "
                         f"({MAX_PARAMS:,}).")
    return net


def first_failure(net, input_shape=None) -> str | None:
    """The sentence of the first layer that cannot take its input at ``input_shape`` (default
    the network's own), with the input sizes that would pass; None when every layer fits."""
    return next((row.error for row in net.summary(input_shape) if row.error), None)


def open_model(path, *, input_shape=None):
    """The ONNX model at ``path`` as a ``Network`` (:func:`convlab.models.load_onnx`), after
    :func:`guard.require_regular_file`; ``OnnxUnavailable`` without the ``onnx`` package,
    ``ValueError`` (one sentence, naming the node or the reason) for a file that cannot be run."""
    from convlab.models import load_onnx

    guard.require_regular_file(path, "ONNX model")
    return load_onnx(path, input_shape=input_shape)
