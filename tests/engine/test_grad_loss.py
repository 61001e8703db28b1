"""``ops.softmax_cross_entropy`` as Chainer defines it (mean over the labels that are not
ignored), its gradient by finite differences, and PyTorch's ``cross_entropy(ignore_index=-1)``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from convlab.engine.ops import softmax_cross_entropy


def chainer_loss(logits, labels, ignore=-1):
    """Chainer's definition written out: ``-sum_{i: t_i != ignore} log softmax(x_i)[t_i] / count``."""
    total, count = 0.0, 0
    for i, t in enumerate(labels):
        if t == ignore:
            continue
        row = logits[i]
        total -= row[t] - math.log(sum(math.exp(v) for v in row))
        count += 1
    return total / max(count, 1)


@pytest.mark.parametrize("labels", [[0, 2, 1, 2], [1, -1, 0, -1], [-1, -1, -1, -1]])
def test_matches_chainers_definition_and_finite_differences(labels):
    logits = np.random.default_rng(0).standard_normal((4, 3)) * 3
    labels = np.array(labels)
    loss, grad = softmax_cross_entropy(logits, labels)
    assert float(loss) == pytest.approx(chainer_loss(logits, labels), rel=1e-12, abs=1e-15)
    eps = 1e-6
    for pos in np.ndindex(*logits.shape):
        up, down = logits.copy(), logits.copy()
        up[pos] += eps
        down[pos] -= eps
        numeric = (float(softmax_cross_entropy(up, labels)[0]) -
                   float(softmax_cross_entropy(down, labels)[0])) / (2 * eps)
        assert grad[pos] == pytest.approx(numeric, abs=1e-8)
    assert grad.dtype == logits.dtype


def test_large_logits_and_spatial_labels():
    logits = np.random.default_rng(1).standard_normal((2, 4, 3, 2)).astype(np.float32) * 50
    labels = np.random.default_rng(2).integers(-1, 4, (2, 3, 2))
    loss, grad = softmax_cross_entropy(logits, labels, ignore_label=-1)
    flat = logits.transpose(0, 2, 3, 1).reshape(-1, 4).astype(np.float64)
    assert np.isfinite(float(loss))
    assert float(loss) == pytest.approx(chainer_loss(flat, labels.reshape(-1)), rel=1e-5)
    assert grad.shape == logits.shape and grad.dtype == np.float32
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-6)      # softmax minus one-hot


def test_custom_ignore_label():
    logits = np.random.default_rng(3).standard_normal((3, 5))
    loss, grad = softmax_cross_entropy(logits, np.array([4, 7, 0]), ignore_label=7)
    assert float(loss) == pytest.approx(chainer_loss(logits, [4, 7, 0], ignore=7))
    np.testing.assert_array_equal(grad[1], 0)


@pytest.mark.parametrize("logits,labels,message", [
    (np.zeros((2, 3)), np.array([0, 3]), "every label must be in 0..2"),
    (np.zeros((2, 3)), np.array([0, -2]), "every label must be in 0..2"),
    (np.zeros((2, 3)), np.array([0, 1, 2]), "do not match logits"),
    (np.zeros((2, 3)), np.array([0.0, 1.0]), "must be integers"),
    (np.zeros(3), np.array([0]), r"\(N, classes, ...\)"),
])
def test_bad_labels_get_one_sentence(logits, labels, message):
    with pytest.raises(ValueError, match=message):
        softmax_cross_entropy(logits, labels)


def test_matches_torch_cross_entropy():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    for shape in ((6, 5), (3, 4, 2, 3)):
        logits = rng.standard_normal(shape) * 4
        labels = rng.integers(-1, shape[1], (shape[0],) + shape[2:])
        labels.flat[0] = 1                                             # at least one counts
        t = torch.tensor(logits, requires_grad=True)
        ref = torch.nn.functional.cross_entropy(t, torch.tensor(labels), ignore_index=-1)
        ref.backward()
        loss, grad = softmax_cross_entropy(logits, labels)
        assert float(loss) == pytest.approx(ref.item(), rel=1e-12)
        np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-10, atol=1e-14)
