"""Hooks and the launch helpers shared by ``tools/``."""
from .hooks import AuxLossWarmupHook, DDPConsistencyHook, EpochSeedHook
from .safety_hooks import (NonFiniteLossHook, SafeCheckpointHook,
                           WorkDirLockHook)

__all__ = [
    'AuxLossWarmupHook', 'DDPConsistencyHook', 'EpochSeedHook',
    'NonFiniteLossHook', 'SafeCheckpointHook', 'WorkDirLockHook'
]
