"""Accuracy measures from predictions and labels, shared by the metric and
the analysis tools. All take ``pred`` and ``label`` as int arrays (N,)."""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    'confusion_matrix', 'per_class_accuracy', 'group_accuracy',
    'confused_pairs', 'topk_accuracy'
]


def confusion_matrix(pred: np.ndarray, label: np.ndarray,
                     num_classes: int) -> np.ndarray:
    """(K, K) counts, rows = true class, columns = predicted class."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(label), np.asarray(pred)), 1)
    return cm


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """(K,) recall of each class; NaN for classes absent from the labels."""
    support = cm.sum(axis=1)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(support > 0, np.diag(cm) / support, np.nan)


def group_accuracy(cm: np.ndarray,
                   groups: Dict[str, Sequence[int]]) -> Dict[str, float]:
    """Accuracy over the samples whose true class is in each group."""
    result = {}
    for name, classes in groups.items():
        classes = list(classes)
        support = cm[classes].sum()
        correct = cm[classes, classes].sum()
        result[name] = float(correct / support) if support else float('nan')
    return result


def confused_pairs(cm: np.ndarray,
                   top: int = 10,
                   class_names: Optional[Sequence[str]] = None
                   ) -> List[Tuple[str, str, int, float]]:
    """The ``top`` most frequent (true -> predicted) confusions.

    Returns:
        list of ``(true, predicted, count, rate)`` with ``rate`` the share
        of the true class's samples predicted as that class.
    """
    off = cm.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off, axis=None, kind='stable')[:top]
    names = class_names or [str(i) for i in range(len(cm))]
    pairs = []
    for flat in order:
        i, j = np.unravel_index(flat, off.shape)
        if off[i, j] == 0:
            break
        pairs.append((names[i], names[j], int(off[i, j]),
                      float(off[i, j] / cm[i].sum())))
    return pairs


def topk_accuracy(scores: np.ndarray, label: np.ndarray, k: int) -> float:
    """Share of samples whose label is among the ``k`` best scores."""
    k = min(k, scores.shape[1])
    topk = np.argsort(-scores, axis=1, kind='stable')[:, :k]
    return float((topk == np.asarray(label)[:, None]).any(axis=1).mean())
