"""Running a network on a photo, Qt-free: build or reuse it, prepare, forward, top-5, record.

The one way a network runs: the Network pane (in its worker thread) and ``convlab export
--net`` both call :meth:`NetworkRunner.run`, and both record the run with
:meth:`NetworkResult.settings_record`. Networks are cached by what determines their weights
(model, seed, weights file, hand-made conv1), so changing the photo or the BN mode costs a
forward pass, not a rebuild; a weights file that is refused leaves the cache as it was.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shlex
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from convlab.engine.backend import to_numpy
from convlab.engine.nets import presets as specs
from convlab.engine.nets import Network, SummaryRow
from convlab.engine.ops import softmax
from convlab.engine.wording import shape_text
from convlab.pipelines import records
from convlab.pipelines.guard import bounded_read
from convlab.pipelines import netbuild
from convlab.pipelines.layer_outputs import LayerOutputs

CLASS_NAME_FILES = ("synset_words.txt", "labels.txt", "classes.txt", "imagenet_classes.txt")
MAX_CLASS_NAME_BYTES = 4 * 2 ** 20   # ImageNet's synset_words.txt is 31 kB


@dataclass(frozen=True)
class NetworkSettings:
    """What the pane asks for. ``bn_mode``: "batch" (statistics of this image) or "stored".

    ``net``: a preset ("alexbn", "alex", "alex2g"), "custom" (then ``spec`` holds the spec as
    canonical JSON text) or "onnx" (then ``model`` is the path of an ONNX file, prepared by
    ``preprocess``, one of :data:`convlab.models.preprocess.PRESETS`, with class names from
    ``labels`` or a file beside the model). ``conv1``: "random", "handmade" or "learned"
    (ICA on the bundled photos) replaces the first convolution's weights.
    """

    net: str = "alexbn"
    seed: int = 0
    insize: int = 227
    bn_mode: str = "batch"
    weights: str | None = None  # path of a Chainer .npz, None for random weights
    handmade_conv1: bool = False
    spec: str | None = None
    learned_conv1: bool = False
    model: str | None = None
    preprocess: str = "imagenet"
    labels: str | None = None

    def replace(self, **changes) -> "NetworkSettings":
        return replace(self, **changes)

    @property
    def weights_key(self) -> tuple:
        return (self.net, self.seed, self.weights, self.handmade_conv1, self.spec,
                self.learned_conv1, self.model)

    @property
    def conv1(self) -> str:
        return "learned" if self.learned_conv1 else "handmade" if self.handmade_conv1 else "random"

    def network_spec(self) -> dict:
        """The spec this asks for (a preset's or the custom one); not for ONNX models."""
        return json.loads(self.spec) if self.net == "custom" and self.spec else specs.preset(self.net)


def spec_text(spec: dict) -> str:
    """Canonical JSON text of a spec (what ``NetworkSettings.spec`` holds)."""
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


def shapes_only(s: NetworkSettings) -> Network:
    """The network ``s`` asks for, built without weights (cheap: for tables and fields);
    ``ValueError`` for a bad spec. Not for ONNX models (they are parsed in the worker)."""
    net = Network.from_spec(s.network_spec(), init=False)
    return net


def quick_summary(net: Network, shape) -> list[SummaryRow]:
    """``net.summary(shape)`` without the search for input sizes that pass a failing layer (it
    tries 1024 sizes: a worker's job); the failing row's ``error`` still says why it fails."""
    net._fitting_sizes_hint = lambda failing: ""  # this instance only
    try:
        return net.summary(shape)
    finally:
        del net._fitting_sizes_hint


def input_shape(net: Network, s: NetworkSettings) -> tuple[int, int, int]:
    """The input the network runs on: the model's own for ONNX, else ``insize`` square."""
    if s.net == "onnx":
        return tuple(net.input_shape)
    return (net.input_shape[0], s.insize, s.insize)


@dataclass
class NetworkResult:
    settings: NetworkSettings
    rows: list[SummaryRow]
    prep: dict
    outputs: LayerOutputs = field(default_factory=LayerOutputs)  # name -> (C, h, w) or (F,)
    seconds: dict[str, float] = field(default_factory=dict)
    dead: dict[str, float] = field(default_factory=dict)  # relu layers: share of zeros
    top5: list[tuple[int, str, float]] = field(default_factory=list)
    weights_source: str = ""
    note: str = ""  # what cover_all pooling does at this input size
    completed: bool = True
    has_batch_norm: bool = True  # whether bn_mode means anything for this network
    weights_sha256: str | None = None  # of the weights file as it was loaded (it may be gone since)
    inputs: dict[str, list[str]] = field(default_factory=dict)  # layer -> the layers it reads
    net: Network | None = None  # the network that ran (read its geometry only, never run it)
    weights_note: str = ""  # a model's constant or degenerate weights, named (weight_check)

    def settings_record(self, image: dict, spec_path=None) -> dict:
        """The run's record (:func:`convlab.pipelines.records.network_settings_record`) for the
        photo described by ``image``; hashes a weights or model file, so call it off the GUI
        thread. ``spec_path``: the file a custom spec was read from (else the record holds
        the spec and its command says ``--spec SPEC.json``). A weights file deleted (or
        unreadable) since it was loaded is recorded by its path and the sha256 taken at
        loading: the maps came from the weights held in memory."""
        s = self.settings
        custom = s.net == "custom"
        kwargs = dict(
            weights_source=self.weights_source, insize=s.insize, seed=s.seed,
            bn_mode=s.bn_mode if self.has_batch_norm else None, crop_box=self.prep["box"],
            spec=s.network_spec() if custom else None, spec_path=spec_path if custom else None,
            model_path=s.model, preprocess=s.preprocess, labels_path=s.labels, conv1=s.conv1)
        try:
            return records.network_settings_record(s.net, image, weights_path=s.weights, **kwargs)
        except OSError:
            if not s.weights:
                raise
        record = records.network_settings_record(s.net, image, **kwargs)
        path = os.path.abspath(s.weights)
        record["weights"] = {"source": "file", "path": path, "sha256": self.weights_sha256}
        record["command"] += f" --weights {shlex.quote(path)}"
        return record


def check_activations(rows: list[SummaryRow], shape) -> None:
    """Refuse a run whose layer outputs (float32, one image, the input included: ``4 *
    sum(prod(shape))``) would pass the spec's budget at this input size (a spec is judged at its
    own size when built; ``--input`` or the pane's size can be larger), before any is made."""
    from convlab.engine.nets.spec import MAX_ACTIVATION_BYTES

    total = 4 * math.prod(shape) + sum(4 * math.prod(r.output_shape) for r in rows
                                       if r.output_shape)
    if total > MAX_ACTIVATION_BYTES:
        raise ValueError(f"At the input size {'x'.join(map(str, shape))} the layer outputs would "
                         f"take {total / 1e9:,.2f} GB; a run's outputs may take at most "
                         f"{MAX_ACTIVATION_BYTES / 1e9:.2f} GB (float32, one image).")


def has_batch_norm(net: Network) -> bool:
    """True when ``net`` has a BatchNormalization layer (so a BN mode applies to it)."""
    return any(layer.kind == "bn" for layer in net.layers)


def weights_note(net: Network) -> str:
    """:func:`~convlab.pipelines.weight_check.weights_finding`'s sentence, once per network."""
    if not hasattr(net, "_weights_note"):
        from convlab.pipelines.weight_check import weights_finding

        net._weights_note = weights_finding(net).sentence()
    return net._weights_note


def _file_stamp(path: str | None) -> tuple | None:
    try:
        st = os.stat(path) if path else None
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size) if st else None


def load_class_names(path) -> list[str]:
    """One class per line; Caffe's ``synset_words.txt`` form (``n01440764 tench, ...``) is tidied.

    A regular file of at most :data:`MAX_CLASS_NAME_BYTES` only (``ValueError`` otherwise,
    judged before it is read: a 1 GiB file beside the weights was read whole, 2.4 GB);
    ``UnicodeDecodeError`` for one that is not UTF-8."""
    text = bounded_read(path, MAX_CLASS_NAME_BYTES, "class names").decode("utf-8")
    names = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        head, _, rest = line.partition(" ")
        names.append(rest if head[:1] == "n" and head[1:].isdigit() and rest else line)
    return names


def find_class_names(weights_path: str | None, count: int = 1000) -> list[str] | None:
    """A class-name file beside the weights file, if there is one with ``count`` lines (one a
    class the network scores: 1000 for ImageNet, 8 for a network trained on the built-in
    shapes, whose ``labels.txt`` the Train pane writes beside its weights)."""
    if not weights_path:
        return None
    folder = os.path.dirname(os.path.abspath(weights_path))
    for name in CLASS_NAME_FILES:
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate):
            try:
                names = load_class_names(candidate)
            except (OSError, ValueError):  # too large, special or not UTF-8: not class names
                continue
            if len(names) == count:
                return names
    return None


def top_k(logits: np.ndarray, k: int = 5, names: list[str] | None = None):
    """``[(index, name, probability)]`` of the k largest softmax probabilities."""
    probs = to_numpy(softmax(logits.reshape(1, -1)))[0]
    order = np.argsort(probs)[::-1][:k]
    return [(int(i), names[i] if names and i < len(names) else f"class {int(i)}", float(probs[i]))
            for i in order]


class NetworkRunner:
    """Lives in the worker thread; owns the cached networks (the GUI thread never touches them)."""

    def __init__(self):
        self._nets: dict[tuple, Network] = {}
        # weights file path -> (its stamp, sha256, {layer: params}) as loaded: the arrays live
        # in memory, so a file deleted after loading still serves later changes and exports
        self._loaded: dict[str, tuple] = {}

    def _build(self, s: NetworkSettings) -> Network:
        """``netbuild.build(s)``, with a weights file's arrays kept in memory once loaded.

        The file is read the first time and whenever it was saved again; while it is unchanged,
        or gone, the arrays held from its loading serve (with the sha256 taken then). One
        file's arrays are held at most, and none once a network without a file is built (its
        arrays would be a second AlexBN beside the random one)."""
        if not s.weights:
            self._loaded = {}
            return netbuild.build(s)
        stamp, held = _file_stamp(s.weights), self._loaded.get(s.weights)
        if held is not None and (stamp is None or stamp == held[0]):
            net = netbuild.build(s.replace(weights=None))
            for layer in net.layers:
                layer.params = dict(held[2].get(layer.name, layer.params))
            net.weights_source = os.path.basename(s.weights)
        else:
            net = netbuild.build(s)  # refuses the whole file, or loads it all
            digest = hashlib.sha256()
            with open(s.weights, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            self._loaded = {s.weights: (stamp, digest.hexdigest(),
                                        {layer.name: dict(layer.params) for layer in net.layers})}
        net.weights_sha256 = self._loaded[s.weights][1]
        return net

    def network(self, s: NetworkSettings) -> Network:
        """The network for ``s``, built (and its weights loaded) if need be; ``ValueError`` on a
        bad spec, model or weights file."""
        stamp = _file_stamp(s.weights) or (self._loaded.get(s.weights, (None,))[0] if s.weights else None)
        key = s.weights_key + (stamp, _file_stamp(s.model))  # saved again: read again; gone: held
        net = self._nets.get(key)
        if net is None:
            # one network at a time, and the old one dropped before the new one is built:
            # AlexBN holds 250 MB (a rebuild ~0.5 s; a refused file costs a rebuild next time)
            self._nets.clear()
            net = self._build(s)
            netbuild.replace_conv1(net, s.conv1, s.seed)
            self._nets[key] = net
        return net

    def run(self, image: np.ndarray, s: NetworkSettings, *,
            should_stop: Callable[[], bool] | None = None,
            on_rows: Callable[[list[SummaryRow], dict], None] | None = None,
            on_layer: Callable[[str, float, float | None], None] | None = None) -> NetworkResult:
        """Prepare ``image`` (Chainer's ImageNet example, or the ONNX model's preset), then run
        every layer."""
        net = self.network(s)
        shape = input_shape(net, s)
        rows = net.summary(shape)
        check_activations(rows, shape)
        prep = netbuild.prepare(image, s, net)
        note = cover_all_note(net, s.insize) if s.net in specs.PRESETS else ""
        result = NetworkResult(s, rows, prep, weights_source=net.weights_source, note=note,
                               has_batch_norm=has_batch_norm(net),
                               weights_sha256=getattr(net, "weights_sha256", None))
        result.inputs = {layer.name: list(layer.inputs) for layer in net.layers}
        if s.net == "onnx":
            result.weights_note = weights_note(net)
        result.net = netbuild.without_weights(net)  # the pane keeps results: never a second 250 MB
        prep["layer_inputs"] = result.inputs  # for on_rows: the table's "inputs" column
        if on_rows is not None:
            on_rows(rows, prep)
        failing = next((i for i, r in enumerate(rows) if r.error), len(rows))

        def stop() -> bool:  # abandoned, or at the row that cannot run (the maps before it stay)
            return len(result.outputs) >= failing or (should_stop is not None and should_stop())

        def finished(name, out, seconds):
            arr = to_numpy(out)[0]                                  # (C, h, w) or (F,)
            result.seconds[name] = seconds
            dead = None
            if net[name].kind == "relu":
                dead = float(np.count_nonzero(arr == 0) / arr.size)
                result.dead[name] = dead
                sources = result.inputs.get(name, [])
                if not (len(sources) == 1 and result.outputs.keep_relu(name, sources[0])):
                    result.outputs[name] = arr  # made again from its input when asked
            else:
                result.outputs[name] = arr
            if on_layer is not None:
                on_layer(name, seconds, dead)

        net.forward(prep["input"], use_batch_stats=s.bn_mode == "batch", should_stop=stop,
                    on_layer=finished)
        result.completed = len(result.outputs) >= failing
        result.top5 = _top5(net, s, result)
        return result


def _top5(net: Network, s: NetworkSettings, result: NetworkResult):
    """Top-5 of the last layer for trained weights (a loaded .npz or an ONNX model)."""
    last = net.layers[-1].name if net.layers else None
    if last not in result.outputs or np.squeeze(result.outputs[last]).ndim != 1:  # (F,) or (F, 1, 1)
        return []
    if s.net == "onnx":
        from convlab.models.preprocess import find_labels, is_distribution, read_labels
        from convlab.models.preprocess import top_k as top_labels

        path = s.labels or find_labels(s.model)
        labels = None
        try:
            labels = read_labels(path) if path else None
        except ValueError as exc:
            if s.labels:        # named by the user: checked before the run, so this is a race
                raise
            result.note = (f"{str(exc).rstrip('.')}; it was found beside the model, not named, "
                           "so it is ignored and the classes are numbered.")
        scores = result.outputs[last]
        if not is_distribution(scores):
            scores = to_numpy(softmax(scores.reshape(1, -1)))[0]
        return top_labels(scores, labels, 5)
    scores = result.outputs[last]
    if s.weights and scores.size > 1:  # trained weights of any spec: its class scores
        return top_k(scores, 5, find_class_names(s.weights, int(scores.size)))
    return []


def cover_all_note(net: Network, insize: int) -> str:
    """Say what Chainer's ``cover_all`` pooling does for this input size, next to floor pooling."""
    from convlab.engine.layers import MaxPool

    if "pool5" not in net.layer_names:  # the note is about AlexNet's pool5 and fc6
        return ""
    shape, floor_shape = (3, insize, insize), (3, insize, insize)
    try:
        for layer in net.layers:
            if layer.kind in ("fc", "relu", "dropout") and len(shape) == 1:
                break
            shape = layer.output_shape(shape)
            floor_layer = (MaxPool(layer.name, layer.ksize, stride=layer.stride, cover_all=False)
                           if layer.kind == "pool" else layer)
            floor_shape = floor_layer.output_shape(floor_shape)
            if layer.name == "pool5":
                break
    except ValueError:
        return ""
    if shape == floor_shape:
        return f"At {insize} pixels, pool5 gives {shape_text(shape)} with or without cover_all."
    return (f"At {insize} pixels, Chainer's cover_all pooling gives pool5 {shape_text(shape)}; "
            f"floor pooling (PyTorch's default) would give {shape_text(floor_shape)}"
            + (", and fc6 would not fit." if shape[1:] == (6, 6) else "."))
