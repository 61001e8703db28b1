"""A tiny model built with onnx.helper for every supported operator equals the reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.models.tiny import check, model, node, rand

CASES = {
    "Conv": ([node("Conv", ["x", "W", "B"], ["y"])], {"W": rand(4, 3, 3, 3), "B": rand(4)}, {}),
    "Conv groups dilation asymmetric pads": (
        [node("Conv", ["x", "W"], ["y"], group=3, dilations=[2, 1], pads=[0, 1, 2, 1],
              strides=[2, 1])], {"W": rand(6, 1, 3, 3)}, {}),
    "Conv auto_pad SAME_UPPER even kernel": (
        [node("Conv", ["x", "W"], ["y"], auto_pad="SAME_UPPER", strides=[2, 2])],
        {"W": rand(2, 3, 4, 4)}, {}),
    "Conv auto_pad SAME_LOWER": (
        [node("Conv", ["x", "W"], ["y"], auto_pad="SAME_LOWER")], {"W": rand(2, 3, 2, 2)}, {}),
    "Conv auto_pad VALID": (
        [node("Conv", ["x", "W"], ["y"], auto_pad="VALID", strides=[3, 3])],
        {"W": rand(2, 3, 3, 3)}, {}),
    "ConvTranspose stride output_padding": (
        [node("ConvTranspose", ["x", "W", "B"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1],
              output_padding=[1, 1])], {"W": rand(3, 2, 3, 3), "B": rand(2)}, {}),
    "BatchNormalization": (
        [node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3)],
        {"s": rand(3), "b": rand(3, seed=2), "m": rand(3, seed=3), "v": rand(3, low=0.5)}, {}),
    "Relu": ([node("Relu", ["x"], ["y"])], {}, {}),
    "LeakyRelu": ([node("LeakyRelu", ["x"], ["y"], alpha=0.2)], {}, {}),
    "Sigmoid": ([node("Sigmoid", ["x"], ["y"])], {}, {}),
    "Clip (inputs)": ([node("Clip", ["x", "lo", "hi"], ["y"])],
                      {"lo": np.float32(-0.5), "hi": np.float32(0.7)}, {}),
    "Clip (max only)": ([node("Clip", ["x", "", "hi"], ["y"])], {"hi": np.float32(0.3)}, {}),
    "Clip (opset 6 attributes)": ([node("Clip", ["x"], ["y"], min=-0.2, max=0.4)], {},
                                  {"opset": 6}),
    "MaxPool pads ceil_mode": (
        [node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2],
              pads=[1, 1, 1, 1], ceil_mode=1)], {}, {"shape": (1, 3, 9, 9)}),
    "MaxPool ceil_mode odd size": (
        [node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)], {},
        {"shape": (1, 3, 7, 7)}),
    "AveragePool count_include_pad": (
        [node("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2],
              pads=[1, 1, 1, 1], count_include_pad=1)], {}, {}),
    "AveragePool without pad": (
        [node("AveragePool", ["x"], ["y"], kernel_shape=[3, 2], pads=[1, 0, 1, 1])], {}, {}),
    "AveragePool ceil_mode": (
        [node("AveragePool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)],
        {}, {"shape": (1, 3, 7, 7)}),
    "GlobalAveragePool": ([node("GlobalAveragePool", ["x"], ["y"])], {}, {}),
    "GlobalMaxPool": ([node("GlobalMaxPool", ["x"], ["y"])], {}, {}),
    "LRN": ([node("LRN", ["x"], ["y"], size=3, alpha=0.3, beta=0.6, bias=1.5)], {},
            {"shape": (1, 6, 4, 4)}),
    "Gemm transB alpha beta": (
        [node("Flatten", ["x"], ["f"]),
         node("Gemm", ["f", "W", "C"], ["y"], transB=1, alpha=0.5, beta=2.0)],
        {"W": rand(5, 192), "C": rand(5)}, {}),
    "Gemm no transB, no C": ([node("Flatten", ["x"], ["f"]), node("Gemm", ["f", "W"], ["y"])],
                             {"W": rand(192, 4)}, {}),
    "Gemm transA on constants": (
        [node("Gemm", ["A", "B"], ["g"], transA=1, transB=1, alpha=2.0),
         node("Flatten", ["x"], ["f"]), node("MatMul", ["f", "g"], ["y"])],
        {"A": rand(4, 192), "B": rand(6, 4)}, {}),
    "MatMul data @ constant": ([node("MatMul", ["x", "W"], ["y"])], {"W": rand(8, 5)}, {}),
    "MatMul constant @ data": ([node("MatMul", ["W", "x"], ["y"])], {"W": rand(4, 8)}, {}),
    "MatMul data @ data": ([node("Transpose", ["x"], ["t"], perm=[0, 1, 3, 2]),
                            node("MatMul", ["x", "t"], ["y"])], {}, {}),
    "Add residual": ([node("Relu", ["x"], ["r"]), node("Add", ["r", "x"], ["y"])], {}, {}),
    "Add constant": ([node("Add", ["x", "c"], ["y"])], {"c": rand(3, 1, 1)}, {}),
    "Sum three": ([node("Relu", ["x"], ["r"]), node("Sigmoid", ["x"], ["s"]),
                   node("Sum", ["x", "r", "s"], ["y"])], {}, {}),
    "Sum with constant": ([node("Relu", ["x"], ["r"]), node("Sum", ["x", "c", "r"], ["y"])],
                          {"c": rand(1, 3, 1, 8)}, {}),
    "Mul constant": ([node("Mul", ["x", "c"], ["y"])], {"c": rand(1, 3, 1, 1)}, {}),
    "Mul data": ([node("Sigmoid", ["x"], ["s"]), node("Mul", ["x", "s"], ["y"])], {}, {}),
    "Concat": ([node("Relu", ["x"], ["r"]), node("Concat", ["x", "r"], ["y"], axis=1)], {}, {}),
    "Concat negative axis": ([node("Relu", ["x"], ["r"]),
                              node("Concat", ["r", "x", "r"], ["y"], axis=-1)], {}, {}),
    "Flatten": ([node("Flatten", ["x"], ["y"])], {}, {}),
    "Flatten axis 2 of one channel": ([node("Flatten", ["x"], ["y"], axis=2)], {},
                                      {"shape": (1, 1, 8, 8)}),
    "Reshape": ([node("Reshape", ["x", "s"], ["y"])], {"s": np.array([1, -1, 4])}, {}),
    "Reshape with 0": ([node("Reshape", ["x", "s"], ["y"])], {"s": np.array([0, 3, -1])}, {}),
    "Transpose": ([node("Transpose", ["x"], ["y"], perm=[0, 2, 3, 1])], {}, {}),
    "Unsqueeze Squeeze": ([node("Flatten", ["x"], ["f"]),
                           node("Unsqueeze", ["f", "a"], ["u"]),
                           node("Squeeze", ["u", "a"], ["y"])], {"a": np.array([2, 3])}, {}),
    "Unsqueeze opset 11": ([node("Unsqueeze", ["x"], ["y"], axes=[4])], {}, {"opset": 11}),
    "Dropout": ([node("Dropout", ["x", "r"], ["y"])], {"r": np.float32(0.3)}, {}),
    "Identity": ([node("Identity", ["x"], ["y"])], {}, {}),
    "Softmax": ([node("Softmax", ["x"], ["y"])], {}, {}),
    "Softmax opset 11 coerced": ([node("Softmax", ["x"], ["y"], axis=2)], {}, {"opset": 11}),
    "Constant": ([node("Constant", [], ["c"], value=__import__("onnx").numpy_helper.from_array(
        rand(3, 1, 1), "c")), node("Mul", ["x", "c"], ["y"])], {}, {}),
    "ConstantOfShape": ([node("ConstantOfShape", ["s"], ["c"],
                              value=__import__("onnx").helper.make_tensor("v", 1, [1], [0.25])),
                         node("Add", ["x", "c"], ["y"])], {"s": np.array([8])}, {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_operator_equals_the_reference(case, tmp_path):
    nodes, inits, options = CASES[case]
    check(model(nodes, inits, **options), tmp_path)


def test_every_supported_operator_has_a_tiny_model():
    from convlab.models.onnx_ops import SUPPORTED

    covered = {n.op_type for nodes, _, _ in CASES.values() for n in nodes}
    assert SUPPORTED <= covered, sorted(SUPPORTED - covered)


def test_layers_are_named_after_nodes_or_their_first_output(tmp_path):
    made = model([node("Relu", ["x"], ["r"], name="first relu"), node("Sigmoid", ["r"], ["y"])])
    net = check(made, tmp_path)
    assert net.layer_names == ["first relu", "y"]
    assert net["y"].inputs == ["first relu"]


def test_graph_outputs_are_held_under_their_onnx_names(tmp_path):
    made = model([node("Relu", ["x"], ["r"], name="act"),
                  node("Sigmoid", ["r"], ["s"], name="sig")], outputs=("r", "s"))
    net = check(made, tmp_path)
    out = net.forward(np.zeros((1, 3, 8, 8), dtype=np.float32))
    assert {"act", "sig", "r", "s"} <= set(out)
    np.testing.assert_array_equal(out["s"], out["sig"])
    assert net.onnx_tensors == {"act": "r", "sig": "s", "r": "r", "s": "s"}


def test_grouped_conv_transpose_equals_the_reference_group_by_group(tmp_path):
    """onnx 1.23's reference cannot run a grouped ConvTranspose (it reshapes W as if group were
    1), so each group runs there alone and the results are stacked."""
    from tests.models.reference import evaluator
    from convlab.models import load_onnx

    weights = rand(3, 2, 2, 3)
    attrs = dict(strides=[2, 1], pads=[1, 0, 1, 0])
    made = model([node("ConvTranspose", ["x", "W"], ["y"], group=3, **attrs)], {"W": weights})
    onnx_path = tmp_path / "grouped.onnx"
    __import__("onnx").save(made, str(onnx_path))
    x = rand(1, 3, 8, 8, seed=5)
    got = load_onnx(onnx_path).forward(x)["y"]
    parts = []
    for g in range(3):
        single = model([node("ConvTranspose", ["x", "W"], ["y"], **attrs)],
                       {"W": weights[g:g + 1]}, shape=(1, 1, 8, 8))
        parts.append(evaluator(single).run(None, {"x": x[:, g:g + 1]})[0])
    want = np.concatenate(parts, axis=1)                               # (1, 6, oh, ow)
    assert got.shape == want.shape == (1, 6, 14, 10)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case", list(CASES))
def test_a_batch_of_two_gives_each_sample_its_own_result(case, tmp_path):
    """ONNX models are imported for a batch of 1; the engine runs N images, each alone."""
    from convlab.models import load_onnx

    nodes, inits, options = CASES[case]
    path = tmp_path / "tiny.onnx"
    __import__("onnx").save(model(nodes, inits, **options), str(path))
    net = load_onnx(path)
    shape = options.get("shape", (1, 3, 8, 8))
    x = np.random.default_rng(3).standard_normal((2, *shape[1:])).astype(np.float32)
    both = net.forward(x)
    for i in range(2):
        alone = net.forward(x[i:i + 1])
        for name in alone:
            np.testing.assert_allclose(both[name][i:i + 1], alone[name], rtol=1e-5, atol=1e-6,
                                       err_msg=name)


def test_an_imported_network_round_trips_through_its_spec(tmp_path):
    from convlab.engine.nets import Network
    from convlab.models import onnx_to_spec

    nodes = [node("Conv", ["x", "W"], ["c"]), node("Mul", ["c", "k"], ["m"]),
             node("Transpose", ["m"], ["t"], perm=[0, 1, 3, 2]),
             node("Softmax", ["t"], ["y"], axis=1)]
    path = tmp_path / "tiny.onnx"
    __import__("onnx").save(model(nodes, {"W": rand(4, 3, 3, 3), "k": rand(4, 1, 1)}), str(path))
    spec, weights, _ = onnx_to_spec(path)
    net = Network.from_spec(spec, weights=weights)
    again = Network.from_spec(net.to_spec(), weights=weights)
    assert [vars(r) for r in again.summary()] == [vars(r) for r in net.summary()]
    x = rand(1, 3, 8, 8)
    np.testing.assert_array_equal(again.forward(x)["y"], net.forward(x)["y"])


def test_a_channel_shuffle_becomes_one_layer_that_receptive_fields_pass(tmp_path):
    shuffle = [node("Conv", ["x", "W"], ["c"], name="conv"),
               node("Reshape", ["c", "split"], ["r1"]),
               node("Transpose", ["r1"], ["t"], perm=[0, 2, 1, 3, 4]),
               node("Reshape", ["t", "back"], ["s"], name="shuffle"),
               node("Conv", ["s", "W2"], ["y"], name="after")]
    inits = {"W": rand(6, 3, 3, 3), "W2": rand(2, 6, 3, 3),
             "split": np.array([1, 2, 3, 6, 6]), "back": np.array([1, 6, 6, 6])}
    net = check(model(shuffle, inits), tmp_path)
    assert [layer.kind for layer in net.layers] == ["conv", "channel_shuffle", "conv", "identity"]
    assert net.layer_names[1] == "shuffle" and net["shuffle"].groups == 2
    assert [r.rf for r in net.summary()] == [3, 3, 5, 5]


def test_a_shuffle_whose_middle_is_read_elsewhere_stays_three_layers(tmp_path):
    nodes = [node("Reshape", ["x", "split"], ["r1"]),
             node("Transpose", ["r1"], ["t"], perm=[0, 2, 1, 3, 4]),
             node("Reshape", ["t", "back"], ["y"])]
    made = model(nodes, {"split": np.array([1, 3, 1, 8, 8]), "back": np.array([1, 3, 8, 8])},
                 outputs=("y", "t"))
    net = check(made, tmp_path)
    assert [layer.kind for layer in net.layers][:3] == ["reshape", "transpose", "reshape"]


def test_a_joined_softmax_reads_as_words(tmp_path):
    """Issue 24: the table read "axis 1 on" for a softmax over axes 1.. joined (opset < 13)."""
    from convlab.models import load_onnx

    path = tmp_path / "soft.onnx"
    nodes = [node("Softmax", ["x"], ["y"], axis=1, name="soft")]
    __import__("onnx").save(model(nodes, {}, opset=11), str(path))
    net = load_onnx(path)
    words = next(layer for layer in net.layers if layer.kind == "softmax").describe()
    assert not words.endswith(" on") and "joined" in words and "1" in words
