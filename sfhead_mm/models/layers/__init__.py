"""Small building blocks of the heads, each with its own test (timm-style):
the AC-FA gate and the speed-ups the heads use (banded conv, one-copy
shuffle, fused C-FA sum, Gram matrix with a one-matmul backward)."""
from .aggregation import weighted_gated_sum
from .banded_conv import banded_conv2d
from .gates import GATE_CONVS, CrossDimensionGate, gate_band_dim
from .gram import gram
from .shuffle import channel_shuffle, shuffled_concat

__all__ = ['GATE_CONVS', 'CrossDimensionGate', 'banded_conv2d',
           'channel_shuffle', 'gate_band_dim', 'gram', 'shuffled_concat',
           'weighted_gated_sum']
