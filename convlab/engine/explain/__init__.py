"""One value explained: the terms that make a convolution, pooling, BN, ReLU or transposed
convolution output at one position (each reproduces the op's own value to float32 rounding), and
the receptive field that position sees (computed in :mod:`convlab.engine.arithmetic.fields`)."""

from convlab.engine.arithmetic.fields import Box, Field, network_field, receptive_field
from convlab.engine.explain.layers import DeconvTerms, PointTerms, deconv_terms, layer_terms
from convlab.engine.explain.terms import ConvTerms, PoolTerms, conv_terms, pool_terms

__all__ = ["Box", "ConvTerms", "DeconvTerms", "Field", "PointTerms", "PoolTerms", "conv_terms",
           "deconv_terms", "layer_terms", "network_field", "pool_terms", "receptive_field"]
