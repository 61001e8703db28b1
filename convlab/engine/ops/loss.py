"""Chainer's ``F.softmax_cross_entropy`` with its gradient (``normalize=True``, ``reduce="mean"``)."""

from __future__ import annotations

from convlab.engine.backend import array_module


def check_labels(labels, logits_shape, xp, *, ignore_label: int = -1):
    """``labels`` as an array of ``xp``, or ``ValueError`` with one sentence: integers of shape
    ``(N, ...)`` matching logits ``(N, K, ...)``, each in ``0..K-1`` or ``ignore_label`` (one
    device-to-host pull for the range)."""
    logits_shape = tuple(logits_shape)
    if len(logits_shape) < 2:
        raise ValueError(f"softmax_cross_entropy: logits must be (N, classes, ...), got shape "
                         f"{logits_shape}")
    labels = xp.asarray(labels)
    want = (logits_shape[0],) + logits_shape[2:]
    if tuple(labels.shape) != want:
        raise ValueError(f"softmax_cross_entropy: labels of shape {tuple(labels.shape)} do not "
                         f"match logits {logits_shape}; expected {want}")
    if labels.dtype.kind not in "iu":
        raise ValueError(f"softmax_cross_entropy: labels must be integers, got {labels.dtype}")
    n_class = logits_shape[1]
    if bool((((labels < 0) | (labels >= n_class)) & (labels != ignore_label)).any()):
        raise ValueError(f"softmax_cross_entropy: every label must be in 0..{n_class - 1} or "
                         f"equal ignore_label ({ignore_label})")
    return labels


def softmax_cross_entropy(logits, labels, *, ignore_label: int = -1):
    """``(loss, dlogits)``: the mean over the labels that are not ``ignore_label`` of
    ``-log softmax(logits)[label]`` along axis 1, and its gradient.

    ``log softmax(x) = x - max - log(sum exp(x - max))``; with ``c`` the number of labels that
    count, ``loss = -(1 / max(c, 1)) sum_i log_softmax(x_i)[t_i]`` and
    ``dlogits_i = (softmax(x_i) - onehot(t_i)) / max(c, 1)``, zero for ignored samples
    (Chainer: ``normalize=True``; all ignored gives loss 0). ``logits`` ``(N, K)`` or
    ``(N, K, ...)`` with ``labels`` ``(N,)`` or ``(N, ...)``. ``loss`` is a 0-d array of the
    logits' module and dtype (no device sync); a label outside ``[0, K)`` that is not
    ``ignore_label`` raises ``ValueError``.
    """
    xp = array_module(logits)
    labels = check_labels(labels, logits.shape, xp, ignore_label=ignore_label)
    return softmax_cross_entropy_checked(logits, labels, ignore_label=ignore_label)


def softmax_cross_entropy_checked(logits, labels, *, ignore_label: int = -1):
    """:func:`softmax_cross_entropy` for labels :func:`check_labels` passed (no host pull)."""
    xp = array_module(logits)
    n_class = logits.shape[1]
    valid = labels != ignore_label
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_sum = xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
    log_p = shifted - log_sum                                        # (N, K, ...)
    safe = xp.where(valid, labels, 0)
    picked = xp.take_along_axis(log_p, xp.expand_dims(safe, 1), axis=1)[:, 0]  # (N, ...)
    count = xp.maximum(valid.sum(), 1).astype(logits.dtype)         # on the device: no sync
    loss = -(picked * valid).sum() / count
    onehot = xp.arange(n_class).reshape((1, n_class) + (1,) * (logits.ndim - 2)) == \
        xp.expand_dims(safe, 1)
    grad = (xp.exp(log_p) - onehot) * xp.expand_dims(valid, 1) / count
    return xp.asarray(loss), grad.astype(logits.dtype, copy=False)
