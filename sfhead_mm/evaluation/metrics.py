"""Metrics registered in mmaction's ``METRICS``.

``AmbiguousActionMetric`` reports what a user of a head for ambiguous
actions looks at: top-k, mean class accuracy, per-class accuracy, accuracy
of named groups of look-alike classes and the most-confused class pairs.
``ScoreCollector`` keeps the raw scores for ``tools/test.py --dump``.
"""
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmaction.registry import METRICS
from sfhead_mm.datasets.class_names import get_class_names
from .functional import (confused_pairs, confusion_matrix, group_accuracy,
                         per_class_accuracy, topk_accuracy)
from .groups import resolve_groups

__all__ = ['AmbiguousActionMetric', 'ScoreCollector']


def _score_and_label(data_sample: dict):
    score = data_sample['pred_score'].detach().cpu().float().numpy()
    label = data_sample['gt_label']
    return score, int(label.item() if hasattr(label, 'item') else label)


@METRICS.register_module()
class AmbiguousActionMetric(BaseMetric):
    """Accuracy broken down by class, by ambiguous group and by confusion.

    Args:
        class_names (list[str] | str, optional): names in label order, or a
            dataset key of ``sfhead_mm.datasets.class_names`` (``'ntu60'``,
            ``'ntu120'``, ``'pku-mmd'``, ``'nw-ucla'``). Defaults to the
            dataset's ``classes`` meta, else the label indices.
        groups (dict | str, optional): ``{group: [class name or index]}``
            or a preset of ``sfhead_mm.evaluation.groups`` (e.g.
            ``'ntu120-sfhead'``, the paper's 9 NTU120 groups). Defaults to
            None (no groups).
        topk (Sequence[int]): top-k accuracies to report. Defaults to
            (1, 5).
        num_confused_pairs (int): how many confused pairs to report.
            Defaults to 10.
        collect_device (str): Defaults to 'cpu'.
        prefix (str, optional): Defaults to 'ambiguous'.
    """

    default_prefix = 'ambiguous'

    def __init__(self,
                 class_names: Optional[Union[str, Sequence[str]]] = None,
                 groups: Optional[Union[str, Dict[str, Sequence]]] = None,
                 topk: Sequence[int] = (1, 5),
                 num_confused_pairs: int = 10,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if isinstance(class_names, str):
            class_names = get_class_names(class_names)
        self.class_names = list(class_names) if class_names else None
        self.groups = groups
        if self.class_names is not None and groups is not None:
            resolve_groups(groups, self.class_names)  # fail at build time
        self.topk = tuple(topk)
        self.num_confused_pairs = num_confused_pairs

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for data_sample in data_samples:
            score, label = _score_and_label(data_sample)
            self.results.append(dict(score=score, label=label))

    def _names(self, num_classes: int) -> List[str]:
        names = self.class_names
        if names is None and self.dataset_meta:
            names = self.dataset_meta.get('classes')
        if names is None:
            return [str(i) for i in range(num_classes)]
        if len(names) != num_classes:
            raise ValueError(
                f'AmbiguousActionMetric: {len(names)} class names for '
                f'{num_classes} score columns')
        return list(names)

    def compute_metrics(self, results: List[dict]) -> Dict[str, Any]:
        scores = np.stack([r['score'] for r in results])  # (N, K)
        labels = np.array([r['label'] for r in results])  # (N,)
        num_classes = scores.shape[1]
        names = self._names(num_classes)
        cm = confusion_matrix(scores.argmax(1), labels, num_classes)
        class_acc = per_class_accuracy(cm)
        metrics: Dict[str, Any] = {
            f'top{k}': topk_accuracy(scores, labels, k)
            for k in self.topk
        }
        metrics['mean_class_acc'] = float(np.nanmean(class_acc))
        if self.groups is not None:
            for group, acc in group_accuracy(
                    cm, resolve_groups(self.groups, names)).items():
                metrics[f'group/{group}'] = acc
        metrics['per_class'] = {
            name: float(acc) for name, acc in zip(names, class_acc)
        }
        pairs = confused_pairs(cm, self.num_confused_pairs, names)
        metrics['confused_pairs'] = pairs
        logger = MMLogger.get_current_instance()
        logger.info('most confused (true -> predicted: count, rate):\n' +
                    '\n'.join(f'  {t} -> {p}: {c} ({r:.1%})'
                              for t, p, c, r in pairs))
        return metrics


@METRICS.register_module()
class ScoreCollector(BaseMetric):
    """Keep every sample's score vector and label, in dataset order.

    ``tools/test.py --dump`` reads :attr:`scores` and :attr:`labels` after
    the test and writes them with the sample ids. Reports no metric.
    """

    default_prefix = 'scores'

    def __init__(self, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.scores: Optional[np.ndarray] = None
        self.labels: Optional[np.ndarray] = None

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for data_sample in data_samples:
            score, label = _score_and_label(data_sample)
            self.results.append(dict(score=score, label=label))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        self.scores = np.stack([r['score'] for r in results]).astype(
            np.float32)
        self.labels = np.array([r['label'] for r in results], dtype=np.int64)
        return {}
