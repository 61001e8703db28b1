"""Gradient views: why a network said what it said, and what a unit wants.

- :func:`saliency`, :func:`smoothgrad`, :func:`guided_backprop`, :func:`deconvnet`: arrays
  shaped like the input (:mod:`.gradients`);
- :func:`grad_cam` ``(h, w)`` and :func:`guided_grad_cam` (:mod:`.cam`);
- :func:`feature_visualization` ``(3, H, W)`` in [0, 1] (:mod:`.features`);
- :func:`top_patches` ``[(image_index, (top, left, bottom, right), value)]`` (:mod:`.patches`).

A target is ``(layer, channel)`` (the sum of that channel's map; for an fc layer, one output)
or ``(layer, channel, i, j)`` (one value). Everything runs on the backward pass of
:mod:`convlab.engine.grad`, with ReLU's rule replaced for the guided views and the weights
frozen (no parameter gradients). Bad arguments raise :class:`AttributionError` (a
``ValueError``) with one sentence.
"""

from convlab.engine.attribution.cam import (default_cam_layer, grad_cam, guided_grad_cam,
                                            score_layer, upsample)
from convlab.engine.attribution.core import AttributionError, frozen_view
from convlab.engine.attribution.features import feature_visualization
from convlab.engine.attribution.gradients import (deconvnet, deconvnet_relu, guided_backprop,
                                                  guided_relu, saliency, smoothgrad)
from convlab.engine.attribution.patches import top_patches

__all__ = ["AttributionError", "deconvnet", "deconvnet_relu", "default_cam_layer",
           "feature_visualization", "frozen_view", "grad_cam", "guided_backprop",
           "guided_grad_cam", "guided_relu", "saliency", "score_layer", "smoothgrad",
           "top_patches", "upsample"]
