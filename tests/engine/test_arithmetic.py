"""Output sizes, axis coverage and the receptive-field recurrence: plain ints, known values."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab.engine.arithmetic import ReceptiveField, axis_coverage, conv_out_size


@pytest.mark.parametrize("args,kwargs,expected", [
    ((227, 11, 4), {}, 55),                        # AlexBN conv1
    ((55, 3, 2), dict(cover_all=True), 27),        # pool1
    ((27, 5, 1, 2), {}, 27),                       # conv2, pad 2
    ((27, 3, 2), dict(cover_all=True), 13),        # pool2
    ((13, 3, 1, 1), {}, 13),                       # conv3..5
    ((13, 3, 2), dict(cover_all=True), 6),         # pool5
    ((224, 11, 4), {}, 54),                        # the 224 path: (224 - 11) // 4 + 1
    ((54, 3, 2), dict(cover_all=True), 27),        # cover_all keeps 27 ...
    ((54, 3, 2), {}, 26),                          # ... where floor would give 26
    ((27, 3, 2), {}, 13),
    ((26, 3, 2), {}, 12),
    ((12, 3, 2), dict(cover_all=True), 6),
    ((12, 3, 2), {}, 5),
    ((7, 3), dict(d=2), 3),                        # spans 5
    ((7, 3, 1, 2), dict(d=2), 7),                  # 'same' with dilation 2, pad 2
    ((10, 3, 2, 0, 3), {}, 2),                     # spans 7: (10 - 7) // 2 + 1
    ((10, 3, 2, 0, 3), dict(cover_all=True), 3),   # (10 - 7 + 1) // 2 + 1
    ((5, 5), {}, 1),
    ((1, 1), {}, 1),
    ((4, 2, 2), dict(cover_all=True), 2),          # exact fit: cover_all adds nothing
    ((5, 2, 2), dict(cover_all=True), 3),
    ((5, 2, 2), {}, 2),
])
def test_conv_out_size_known_values(args, kwargs, expected):
    assert conv_out_size(*args, **kwargs) == expected


def test_conv_out_size_keywords():
    assert conv_out_size(227, k=11, s=4, p=0, d=1, cover_all=False) == 55


@pytest.mark.parametrize("args,kwargs", [
    ((4, 5), {}),
    ((3, 3, 1, 0, 2), {}),          # spans 5 > 3
    ((2, 5, 1, 1), {}),             # padded 4 < 5
    ((3, 5, 1), dict(cover_all=True)),   # (3 - 5 + 0) // 1 + 1 = -1
    ((3, 5, 2), dict(cover_all=True)),   # (3 - 5 + 1) // 2 + 1 = 0
])
def test_conv_out_size_refuses_sizes_below_one_with_a_sentence(args, kwargs):
    with pytest.raises(ValueError) as info:
        conv_out_size(*args, **kwargs)
    message = str(info.value)
    assert len(message.split()) >= 5 and message.rstrip().endswith(".")


def test_conv_out_size_cover_all_window_larger_than_input_but_result_one():
    assert conv_out_size(3, 5, 3, cover_all=True) == 1


# ------------------------------------------------------------------------------ coverage
@pytest.mark.parametrize("args,kwargs,out,used,dropped,extra", [
    ((227, 11, 4), {}, 55, 227, 0, 0),                  # 54 * 4 + 11 = 227: exact
    ((224, 11, 4), {}, 54, 223, 1, 0),                  # 53 * 4 + 11 = 223: the last row is dropped
    ((7, 2, 3), {}, 2, 5, 2, 0),                        # windows [0,2) [3,5): rows 5, 6 dropped
    ((54, 3, 2), dict(cover_all=True), 27, 54, 0, 1),   # 26 * 2 + 3 = 55: one past the edge
    ((54, 3, 2), {}, 26, 53, 1, 0),
    ((55, 3, 2), dict(cover_all=True), 27, 55, 0, 0),
    ((8, 3, 3), dict(cover_all=True), 3, 8, 0, 1),      # windows at 0, 3, 6 reach 9
    ((5, 3, 2, 1), {}, 3, 7, 0, 0),                     # padded 7, exact
    ((6, 3, 2, 1), {}, 3, 7, 1, 0),                     # padded 8, one dropped
])
def test_axis_coverage_known_values(args, kwargs, out, used, dropped, extra):
    cov = axis_coverage(*args, **kwargs)
    assert (cov.out, cov.used, cov.dropped, cov.extra) == (out, used, dropped, extra)


axes = dict(size=st.integers(1, 80), k=st.integers(1, 9), s=st.integers(1, 6),
            p=st.integers(0, 4), d=st.integers(1, 3), cover_all=st.booleans())


@settings(max_examples=150, deadline=None)
@given(**axes)
def test_axis_coverage_accounts_for_every_position(size, k, s, p, d, cover_all):
    dk = d * (k - 1) + 1
    padded = size + 2 * p
    if padded < dk:
        return
    cov = axis_coverage(size, k, s, p, d, cover_all)
    assert cov.out == conv_out_size(size, k, s, p, d, cover_all)
    last_read = (cov.out - 1) * s + dk   # one past the last position a window reads
    assert cov.used + cov.dropped == padded
    assert cov.used == min(last_read, padded)
    assert cov.extra == max(0, last_read - padded)
    assert 0 <= cov.dropped < s and 0 <= cov.extra < s   # never a whole stride left over
    if cover_all:
        assert cov.dropped == 0           # cover_all never leaves input unread
    else:
        assert cov.extra == 0             # floor never reads past the padded input


# ------------------------------------------------------------------------ receptive field
ALEXBN_GEOMETRY = [  # (name, k, s, p) from Chainer's alexbn.py
    ("conv1", 11, 4, 0), ("pool1", 3, 2, 0), ("conv2", 5, 1, 2), ("pool2", 3, 2, 0),
    ("conv3", 3, 1, 1), ("conv4", 3, 1, 1), ("conv5", 3, 1, 1), ("pool5", 3, 2, 0),
]
REFERENCE_RF = {  # REFERENCE.md, "AlexBN at 227": RF / jump
    "conv1": (11, 4), "pool1": (19, 8), "conv2": (51, 8), "pool2": (67, 16),
    "conv3": (99, 16), "conv4": (131, 16), "conv5": (163, 16), "pool5": (195, 32),
}


def test_receptive_field_recurrence_matches_reference_table():
    rf = ReceptiveField()
    assert (rf.size, rf.jump) == (1, 1)
    for name, k, s, p in ALEXBN_GEOMETRY:
        rf = rf.through(k, s, p)
        assert (rf.size, rf.jump) == REFERENCE_RF[name], name


def test_receptive_field_start_moves_by_half_the_span_minus_padding():
    origin = ReceptiveField().start
    rf = ReceptiveField().through(11, 4, 0)
    assert rf.start - origin == 5          # centre of input rows 0..10
    rf = rf.through(3, 2, 0)
    assert rf.start - origin == 9          # conv1 outputs 0..2 have centres at 5, 9, 13
    rf = rf.through(5, 1, 2)
    assert rf.start - origin == 9          # pad 2 keeps a 5-wide kernel centred
    assert ReceptiveField().through(3, 1, 2).start - origin == -1  # over-padding moves it out


def test_receptive_field_with_dilation_uses_the_spanned_kernel():
    rf = ReceptiveField().through(3, 1, 0, 2)
    assert (rf.size, rf.jump) == (5, 1)
    rf = rf.through(3, 2, 0, 3)            # spans 7 at jump 1
    assert (rf.size, rf.jump) == (11, 2)
    rf = rf.through(2, 1, 0, 2)            # spans 3 at jump 2
    assert (rf.size, rf.jump) == (15, 2)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 7), st.integers(1, 3), st.integers(0, 3),
                          st.integers(1, 3)), min_size=1, max_size=5))
def test_receptive_field_equals_brute_force_span(layers):
    """Track the input interval that output 0 reads, layer by layer, without the recurrence."""
    lo, hi, jump = 0, 0, 1   # output 0 of the identity reads input position 0 only
    rf = ReceptiveField()
    for k, s, p, d in layers:
        # output 0 of this layer reads its input positions -p .. -p + d(k-1), each of which reads
        # [lo + i*jump, hi + i*jump] in the image
        first, last = -p, -p + d * (k - 1)
        lo, hi = lo + first * jump, hi + last * jump
        jump *= s
        rf = rf.through(k, s, p, d)
        assert rf.size == hi - lo + 1
        assert rf.jump == jump
        assert rf.start - ReceptiveField().start == (lo + hi) / 2


@pytest.mark.parametrize("bad", [2.7, "3", True, (1, 2, 3), (2, 1.5)])
def test_pair_refuses_what_is_not_an_integer_or_a_pair(bad):
    from convlab.engine.arithmetic import pair

    with pytest.raises(ValueError, match="stride"):
        pair(bad, "stride")
