"""Issue 20, case 12 and "Also": every size a spec gives is bounded before it is built.

A spec is a file; each count it holds (layers, channels, groups, sizes, the input shape, the
parameters and layer outputs those imply) is checked against a stated budget before anything is
allocated or looped over, and every refusal is one sentence naming the budget. The cases that
used to allocate gigabytes run in a fresh interpreter under an address-space limit, so a
regression is a MemoryError there rather than a swapping test machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from convlab.engine import layers as L
from convlab.engine.nets import Network
from convlab.engine.nets import spec as netspec

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONV = {"name": "c", "kind": "conv", "out_channels": 4, "ksize": 3}


def refusal(spec, *, init=False) -> str:
    with pytest.raises(ValueError) as info:
        Network.from_spec(spec, init=init)
    message = str(info.value)
    assert "\n" not in message and message.endswith("."), message
    return message


@pytest.mark.parametrize("layer,words", [
    ({"name": "b", "kind": "bn", "size": 5 * 10 ** 8}, "size must be at most 131,072 (a spec's budget for channels)"),
    ({"name": "b", "kind": "bn", "size": 10 ** 18}, "size must be at most 131,072"),
    (dict(CONV, groups=10 ** 30), "groups must be at most 131,072"),
    (dict(CONV, out_channels=10 ** 12), "out_channels must be at most 131,072"),
    (dict(CONV, in_channels=10 ** 12), "in_channels must be at most 131,072"),
    (dict(CONV, pad=10 ** 12), "pad must be at most 65,536 (a spec's budget for sizes)"),
    (dict(CONV, pad=[[0, 10 ** 9], [0, 0]]), "pad must be at most 65,536"),
    (dict(CONV, ksize=[3, 10 ** 7]), "ksize must be at most 65,536"),
    (dict(CONV, kind="deconv", stride=10 ** 12), "stride must be at most 65,536"),
    (dict(CONV, dilation=10 ** 40), "dilation must be at most 65,536"),
    ({"name": "f", "kind": "fc", "out_size": 10 ** 9}, "out_size must be at most 131,072"),
    ({"name": "n", "kind": "lrn", "n": 10 ** 9}, "n must be at most 65,536"),
    ({"name": "s", "kind": "reshape", "shape": [10 ** 6, 10 ** 6, 10 ** 6]},
     "shape may describe at most 2,147,483,648 values"),
    ({"name": "s", "kind": "reshape", "shape": [1] * 9}, "shape may hold at most 8 sizes"),
])
def test_each_argument_has_a_budget_named_in_the_refusal(layer, words):
    message = refusal({"input_shape": [3, 16, 16], "layers": [layer]})
    assert words in message and f"Layer 1 ('{layer['name']}')" in message


@pytest.mark.parametrize("layer", [dict(CONV, pad=10_000), dict(CONV, kind="deconv", stride=60_000),
                                   dict(CONV, kind="deconv", dilation=30_000)])
def test_sizes_within_their_budget_that_imply_huge_outputs_are_refused(layer):
    """A padding or stride under its own budget that would make a gigantic output was summarised
    as if fine; the outputs' bytes at the input size are budgeted as well."""
    message = refusal({"layers": [layer]})
    assert "a spec's outputs may take at most 2.15 GB (float32, one image)" in message


def test_the_spec_input_shape_is_bounded_as_the_input_flag_is():
    message = refusal({"input_shape": [3, 40000, 40000], "layers": [{"name": "r", "kind": "relu"}]})
    assert "at most 131,072 channels and 4,096 pixels a side" in message
    net = Network.from_spec({"input_shape": [3, 4096, 4096], "layers": [{"name": "r", "kind": "relu"}]},
                            init=False)
    assert net.summary()[0].output_shape == (3, 4096, 4096)


@pytest.mark.parametrize("spec", [{"layers": []}, []])
def test_an_empty_layer_list_is_refused(spec):
    assert "at least one layer" in refusal(spec)


@pytest.mark.parametrize("layer,arg", [
    ({"name": "b", "kind": "bn", "eps": float("nan")}, "eps"),
    ({"name": "n", "kind": "lrn", "alpha": float("nan")}, "alpha"),
    ({"name": "n", "kind": "lrn", "k": float("inf")}, "k"),
    ({"name": "d", "kind": "dropout", "ratio": float("-inf")}, "ratio"),
    ({"name": "l", "kind": "leaky_relu", "alpha": 10 ** 400}, "alpha"),
])
def test_nan_and_infinity_are_refused_wherever_a_number_is_read(layer, arg):
    assert f"{arg} must be a finite number" in refusal({"input_shape": [3, 8, 8], "layers": [layer]})


@pytest.mark.parametrize("count", [10_001, 20_000, 100_000])
def test_a_spec_of_more_layers_than_the_budget_is_refused_before_any_is_read(count, monkeypatch):
    """20,000 layers took 48 s and 2.5 GB to refuse, 100,000 did not finish: the count is checked
    before a single layer is looked at."""
    looked = []
    monkeypatch.setattr(netspec, "_check_head", lambda *a: looked.append(a))
    layers = [{"name": f"r{i}", "kind": "relu"} for i in range(count)]
    assert f"A spec may have at most 10,000 layers; this one has {count:,}." in refusal({"layers": layers})
    assert looked == []


def test_ten_thousand_layers_in_a_row_build_and_summarise():
    layers = [dict(CONV, name=f"c{i}", out_channels=2, ksize=1) for i in range(netspec.MAX_LAYERS - 1)]
    layers.append({"name": "f", "kind": "fc", "in_size": 5, "out_size": 2})  # fails at the end
    net = Network.from_spec({"input_shape": [2, 4, 4], "layers": layers}, init=False)
    rows = net.summary()
    assert rows[-2].output_shape == (2, 4, 4) and "f expects 5 inputs" in rows[-1].error


def test_the_parameter_budget_counts_the_whole_spec():
    layers = [dict(CONV, name=f"c{i}", in_channels=4096, out_channels=4096, ksize=3) for i in range(15)]
    message = refusal({"input_shape": [4096, 1, 1], "layers": [dict(l, pad=1) for l in layers]})
    assert "Layer 15 ('c14') would hold 150,999,040 parameters, bringing the spec to 2,264,985,600" \
           in message and "a spec may hold at most 2,147,483,648" in message


LIMITED = textwrap.dedent("""
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))   # 1 GiB of address space
    from convlab.engine.nets import Network
    try:
        Network.from_spec(json.loads(sys.stdin.read()))          # init=True: real weights
        print("built")
    except ValueError as exc:
        print("ValueError: " + str(exc))
""")


@pytest.mark.parametrize("spec,words", [
    ({"input_shape": [3, 8, 8], "layers": [{"name": "b", "kind": "bn", "size": 5 * 10 ** 8}]},
     "a spec's budget for channels"),
    ({"input_shape": [3, 8, 8], "layers": [{"name": f"b{i}", "kind": "bn", "size": 131072}
                                           for i in range(4100)]},
     "a spec may hold at most 2,147,483,648"),
    ({"input_shape": [3, 8, 8], "layers": [dict(CONV, in_channels=3, out_channels=131072, ksize=1),
                                           dict(CONV, name="d", out_channels=131072, ksize=1)]},
     "a spec may hold at most 2,147,483,648"),
    ({"input_shape": [3, 4096, 4096], "layers": [dict(CONV, out_channels=64, pad=1)]},
     "a spec's outputs may take at most 2.15 GB"),
])
def test_budgets_are_judged_before_anything_is_allocated(spec, words):
    """BN of size 5e8 built 3.8 GB before a check refused it; under a 1 GiB address space each
    of these must end in the budget's sentence, not in a MemoryError."""
    done = subprocess.run([sys.executable, "-c", LIMITED], input=json.dumps(spec),
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("ValueError: ") and words in done.stdout, done.stdout


def test_budgets_are_module_constants_the_sentences_name():
    assert (netspec.MAX_LAYERS, netspec.MAX_SIDE) == (10_000, 4096)
    assert L.base.MAX_CHANNELS == 131_072 and netspec.MAX_PARAMS == 2 ** 31
