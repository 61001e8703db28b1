"""The explorer's single layer (the seed article's conv1 block): settings, the shape plan with
formulas, the run in blocks of filters, sampled stages, filter banks (hand-made and learned by
ICA) and the Chainer/PyTorch code for the settings."""

from convlab.engine.explorer.blocks import (batch_norm_in_place, filter_blocks, filter_maps,
                                            relu_in_place, transposed_weights)
from convlab.engine.explorer.plan import StagePlan, plan_explorer
from convlab.engine.explorer.run import explorer_bank, prepare_input, run_explorer
from convlab.engine.explorer.settings import (LIMITS, LUMA, POOL_MODES,
                                              ExplorerResult, ExplorerSettings)

__all__ = ["LIMITS", "LUMA", "POOL_MODES", "ExplorerResult", "ExplorerSettings", "StagePlan",
           "batch_norm_in_place", "explorer_bank", "filter_blocks", "filter_maps", "plan_explorer",
           "prepare_input", "relu_in_place", "run_explorer", "transposed_weights"]
