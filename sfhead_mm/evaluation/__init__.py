"""Metrics, ambiguous-class groups and score files."""
from .functional import (confused_pairs, confusion_matrix, group_accuracy,
                         per_class_accuracy, topk_accuracy)
from .groups import GROUP_PRESETS, resolve_groups
from .metrics import AmbiguousActionMetric, ScoreCollector
from .scores import (ENSEMBLE_PRESETS, ScoreFileError, check_same_samples,
                     fuse_scores, load_scores, save_scores)

__all__ = [
    'AmbiguousActionMetric', 'ScoreCollector', 'GROUP_PRESETS',
    'resolve_groups', 'confusion_matrix', 'per_class_accuracy',
    'group_accuracy', 'confused_pairs', 'topk_accuracy', 'ENSEMBLE_PRESETS',
    'ScoreFileError', 'check_same_samples', 'fuse_scores', 'load_scores',
    'save_scores'
]
