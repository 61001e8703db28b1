"""Sizes and fields, with no arrays: output-size formulas (Chainer's, ``cover_all`` included),
padding pairs, multiply-add and parameter counts, the receptive-field recurrence, and the input box
one output position sees (through a stack of windows or a network's graph)."""

from convlab.engine.arithmetic.fields import Box, Field, check_position, network_field, receptive_field
from convlab.engine.arithmetic.sizes import (AxisCoverage, ReceptiveField, Window, axis_coverage,
                                             conv_macs, conv_out_size, conv_params, deconv_out_size,
                                             deconv_outsize_range, effective_kernel, linear_params,
                                             pad_pairs, pad_total, pair)

__all__ = ["AxisCoverage", "Box", "Field", "ReceptiveField", "Window", "axis_coverage",
           "check_position", "conv_macs", "conv_out_size", "conv_params", "deconv_out_size",
           "deconv_outsize_range", "effective_kernel", "linear_params", "network_field", "pad_pairs",
           "pad_total", "pair", "receptive_field"]
