"""sfhead_mm: SF-Head and FR-Head for MMAction2 skeleton recognizers.

``compat`` is imported first: it repairs today's mm stack (missing mmaction
module, weights-only checkpoint loading) before anything imports mmaction.
"""
from . import compat  # noqa: F401  isort: skip
from . import datasets, engine, evaluation, models  # noqa: F401,E402

__version__ = '0.1.0'
__all__ = [
    'compat', 'datasets', 'engine', 'evaluation', 'models', '__version__'
]
