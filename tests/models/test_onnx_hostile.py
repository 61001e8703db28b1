"""Bad and hostile ONNX files are refused with one sentence naming the node or the reason,
and never with another exception or an allocation the file's bytes do not back."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tests.models.tiny import TensorProto, model, node, numpy_helper, onnx, rand

from convlab.models import load_onnx, onnx_file


def save(made, path):
    onnx.save(made, str(path))
    return path


def conv_model():
    return model([node("Conv", ["x", "W"], ["y"], name="conv1")], {"W": rand(2, 3, 3, 3)})


def refused(path, *words, **kwargs) -> str:
    with pytest.raises(ValueError) as info:
        load_onnx(path, **kwargs)
    text = str(info.value)
    assert text.count(". ") == 0 and text.endswith("."), text           # one sentence
    for word in words:
        assert word in text, text
    return text


def external(made, name: str, location: str, length: int | None = None, offset: int = 0):
    """Point initializer ``name`` at external data ``location``."""
    tensor = next(t for t in made.graph.initializer if t.name == name)
    nbytes = len(tensor.raw_data) if tensor.raw_data else 4 * int(np.prod(tensor.dims))
    tensor.ClearField("raw_data")
    tensor.ClearField("float_data")
    tensor.data_location = TensorProto.EXTERNAL
    del tensor.external_data[:]
    for key, value in (("location", location), ("offset", str(offset)),
                       ("length", str(nbytes if length is None else length))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return made


def test_unsupported_operator_is_named_with_its_node(tmp_path):
    made = model([node("Relu", ["x"], ["r"]), node("Sin", ["r"], ["y"], name="odd one")])
    refused(save(made, tmp_path / "m.onnx"), "Sin", "'odd one'", "not supported")


def test_custom_domain_operator_is_refused_before_anything_runs(tmp_path):
    made = model([node("Relu", ["x"], ["y"], name="mine")])
    made.graph.node[0].domain = "com.example.evil"
    refused(save(made, tmp_path / "m.onnx"), "'mine'", "com.example.evil", "custom operator")


def test_control_flow_is_refused_as_unsupported(tmp_path):
    body = onnx.helper.make_graph([], "body", [], [])
    made = model([node("If", ["x"], ["y"], name="branch", then_branch=body, else_branch=body)])
    refused(save(made, tmp_path / "m.onnx"), "If", "'branch'")


@pytest.mark.parametrize("location", ["../secret.bin", "/etc/passwd", "sub/../../secret.bin",
                                      "C:\\\\secret.bin"])
def test_external_data_outside_the_folder_is_refused(tmp_path, location):
    folder = tmp_path / "model"
    folder.mkdir()
    (tmp_path / "secret.bin").write_bytes(b"\0" * 4096)
    made = external(conv_model(), "W", location)
    refused(save(made, folder / "m.onnx"), "'W'", "outside the model's folder")


def test_external_data_through_a_symlink_out_of_the_folder_is_refused(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (tmp_path / "secret.bin").write_bytes(b"\0" * 4096)
    os.symlink(tmp_path / "secret.bin", folder / "weights.bin")
    made = external(conv_model(), "W", "weights.bin")
    refused(save(made, folder / "m.onnx"), "symbolic link")


def test_external_data_beside_the_model_is_read(tmp_path):
    weights = rand(2, 3, 3, 3)
    (tmp_path / "weights.bin").write_bytes(b"pad!" + weights.tobytes())
    made = external(conv_model(), "W", "weights.bin", offset=4)
    net = load_onnx(save(made, tmp_path / "m.onnx"))
    np.testing.assert_array_equal(net["conv1"].params["W"], weights)


def test_external_data_shorter_than_declared_is_refused(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"\0" * 100)
    made = external(conv_model(), "W", "weights.bin")
    refused(save(made, tmp_path / "m.onnx"), "'W'", "truncated")


def test_external_length_that_lies_is_refused(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"\0" * 4096)
    made = external(conv_model(), "W", "weights.bin", length=8)
    refused(save(made, tmp_path / "m.onnx"), "'W'", "declares 216 bytes")


def test_declared_size_larger_than_the_bytes_is_refused_before_allocation(tmp_path):
    made = conv_model()
    tensor = made.graph.initializer[0]
    del tensor.dims[:]
    tensor.dims.extend([2, 3, 3, 3])
    tensor.raw_data = tensor.raw_data[:100]
    refused(save(made, tmp_path / "m.onnx"), "'W'", "holds 100 bytes")


def test_an_enormous_declared_tensor_is_refused_by_size_not_by_memory(tmp_path):
    made = conv_model()
    tensor = made.graph.initializer[0]
    del tensor.dims[:]
    tensor.dims.extend([10 ** 6, 10 ** 6, 3, 3])
    refused(save(made, tmp_path / "m.onnx"), "'W'", "GiB")


def test_constant_of_shape_that_would_fill_the_memory_is_refused(tmp_path):
    made = model([node("ConstantOfShape", ["s"], ["c"], name="filler"),
                  node("Add", ["x", "c"], ["y"])], {"s": np.array([10 ** 6, 10 ** 6])})
    refused(save(made, tmp_path / "m.onnx"), "'filler'", "GiB")


def test_the_constant_budget_is_a_parameter(tmp_path):
    path = save(conv_model(), tmp_path / "m.onnx")
    refused(path, "GiB", max_bytes=100)
    assert load_onnx(path, max_bytes=10_000).param_count() == 2 * 27 + 0


def test_empty_file(tmp_path):
    (tmp_path / "m.onnx").write_bytes(b"")
    refused(tmp_path / "m.onnx", "empty")


@pytest.mark.parametrize("data", [b"hello, this is text\n", b"\x89PNG\r\n\x1a\n" + bytes(200),
                                  bytes(range(256)) * 4])
def test_not_protobuf(tmp_path, data):
    (tmp_path / "m.onnx").write_bytes(data)
    refused(tmp_path / "m.onnx", "not an ONNX model")


def test_truncated_file(tmp_path):
    path = save(conv_model(), tmp_path / "m.onnx")
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 3, 10):
        path.write_bytes(data[:cut])
        refused(path)


def test_enormous_file_is_refused_by_its_size(tmp_path, monkeypatch):
    path = save(conv_model(), tmp_path / "m.onnx")
    monkeypatch.setattr(onnx_file, "MAX_FILE_BYTES", 64)
    refused(path, "larger than an ONNX file can be")


def test_missing_file(tmp_path):
    refused(tmp_path / "nothing.onnx", "cannot be read")


def test_random_corruptions_give_only_value_errors(tmp_path):
    path = save(conv_model(), tmp_path / "m.onnx")
    clean = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    outcomes = {"refused": 0, "opened": 0}
    for _ in range(150):
        data = bytearray(clean)
        for i in rng.integers(0, len(data), size=int(rng.integers(1, 6))):
            data[i] = int(rng.integers(0, 256))
        path.write_bytes(bytes(data))
        try:
            load_onnx(path)
            outcomes["opened"] += 1
        except ValueError:
            outcomes["refused"] += 1
    assert outcomes["refused"] > 0 and sum(outcomes.values()) == 150


def test_two_image_inputs_are_refused(tmp_path):
    made = model([node("Add", ["x", "z"], ["y"])])
    made.graph.input.append(onnx.helper.make_tensor_value_info("z", TensorProto.FLOAT,
                                                               [1, 3, 8, 8]))
    refused(save(made, tmp_path / "m.onnx"), "2 inputs", "one image input")


def test_symbolic_size_needs_an_input_shape(tmp_path):
    made = model([node("Relu", ["x"], ["y"])], shape=(1, 3, "H", "W"))
    path = save(made, tmp_path / "m.onnx")
    refused(path, "give input_shape")
    assert load_onnx(path, input_shape=(3, 16, 12)).input_shape == (3, 16, 12)


@pytest.mark.parametrize("nodes, words", [
    ([node("Transpose", ["x"], ["y"], perm=[1, 0, 2, 3], name="swap")], ("'swap'", "batch")),
    ([node("Reshape", ["x", "s"], ["y"], name="fold")], ("'fold'", "batch")),
    ([node("Softmax", ["x"], ["y"], axis=0, name="sm")], ("'sm'", "axis 0")),
    ([node("Flatten", ["x"], ["y"], axis=2, name="fl")], ("'fl'", "batch")),
    ([node("Conv", ["x", "x"], ["y"], name="dyn")], ("'dyn'", "constant")),
])
def test_nodes_that_break_the_batch_axis_or_static_weights_are_refused(tmp_path, nodes, words):
    made = model(nodes, {"s": np.array([3, -1])} if nodes[0].op_type == "Reshape" else None)
    refused(save(made, tmp_path / "m.onnx"), *words)


def test_a_node_reading_a_value_nobody_makes_is_refused(tmp_path):
    made = model([node("Relu", ["ghost"], ["y"], name="lost")])
    refused(save(made, tmp_path / "m.onnx"), "'lost'", "'ghost'")


def test_float16_and_double_weights_are_read_as_float32(tmp_path):
    made = conv_model()
    weights = rand(2, 3, 3, 3)
    made.graph.initializer[0].CopyFrom(numpy_helper.from_array(weights.astype(np.float16), "W"))
    made.graph.node.insert(0, node("Cast", ["W"], ["W32"], to=1))
    made.graph.node[1].input[1] = "W32"
    refused(save(made, tmp_path / "m.onnx"), "Cast")                  # not a listed operator
    made = conv_model()
    made.graph.initializer[0].CopyFrom(numpy_helper.from_array(weights.astype(np.float64), "W"))
    net = load_onnx(save(made, tmp_path / "d.onnx"))
    np.testing.assert_allclose(net["conv1"].params["W"], weights)


@pytest.mark.parametrize("nodes, words", [
    ([node("MaxPool", ["x"], ["y"], name="bare")], ("'bare'", "'kernel_shape'")),
    ([node("Relu", ["x"], [], name="mute")], ("'mute'", "no output")),
    ([node("Concat", ["x", "x"], ["y"], name="glue")], ("'glue'", "'axis'")),
    ([node("Reshape", ["x", "s"], ["y"], name="r")], ("'r'", "target shape")),
])
def test_malformed_nodes_are_refused_with_a_sentence(tmp_path, nodes, words):
    made = model(nodes, {"s": np.array([2, -1, -1])} if nodes[0].op_type == "Reshape" else None)
    refused(save(made, tmp_path / "m.onnx"), *words)
