"""Hooks and the launch helpers shared by ``tools/``."""
from .hooks import AuxLossWarmupHook, DDPConsistencyHook, EpochSeedHook

__all__ = ['AuxLossWarmupHook', 'DDPConsistencyHook', 'EpochSeedHook']
