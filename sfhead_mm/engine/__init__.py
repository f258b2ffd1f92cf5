"""Hooks and the launch helpers shared by ``tools/``."""
from .hooks import DDPConsistencyHook, EpochSeedHook

__all__ = ['DDPConsistencyHook', 'EpochSeedHook']
