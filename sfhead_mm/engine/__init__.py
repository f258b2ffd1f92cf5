"""Hooks and the launch helpers shared by ``tools/``."""
from .gradient_share import GradientShareHook, backbone_gradient_share
from .hooks import (AuxLossWarmupHook, DDPConsistencyHook, EpochSeedHook,
                    TrainTimeHook)
from .safety_hooks import (NonFiniteLossHook, SafeCheckpointHook,
                           WorkDirLockHook)

__all__ = [
    'AuxLossWarmupHook', 'DDPConsistencyHook', 'EpochSeedHook',
    'GradientShareHook', 'NonFiniteLossHook', 'SafeCheckpointHook',
    'TrainTimeHook', 'WorkDirLockHook', 'backbone_gradient_share'
]
