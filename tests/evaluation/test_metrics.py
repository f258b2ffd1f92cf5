"""AmbiguousActionMetric and the functional measures on a hand-made case."""
import numpy as np
import pytest
import torch

import sfhead_mm  # noqa: F401
from mmaction.registry import METRICS
from sfhead_mm.evaluation import (AmbiguousActionMetric, confused_pairs,
                                  confusion_matrix, resolve_groups)

NAMES = ['wave', 'salute', 'drink', 'eat']
# true labels and predictions, hand-made:
#   wave:   4 samples -> wave, wave, salute, salute     (2/4)
#   salute: 2 samples -> salute, wave                   (1/2)
#   drink:  3 samples -> drink, drink, eat              (2/3)
#   eat:    1 sample  -> eat                            (1/1)
LABELS = [0, 0, 0, 0, 1, 1, 2, 2, 2, 3]
PREDS = [0, 0, 1, 1, 1, 0, 2, 2, 3, 3]


def samples():
    out = []
    for label, pred in zip(LABELS, PREDS):
        score = torch.full((4, ), 0.1)
        score[pred] = 0.7
        score[(pred + 1) % 4] = 0.15  # second best: the next class
        out.append(dict(pred_score=score, gt_label=torch.tensor(label)))
    return out


def test_confusion_matrix_and_pairs():
    cm = confusion_matrix(np.array(PREDS), np.array(LABELS), 4)
    assert cm.tolist() == [[2, 2, 0, 0], [1, 1, 0, 0], [0, 0, 2, 1],
                           [0, 0, 0, 1]]
    pairs = confused_pairs(cm, top=3, class_names=NAMES)
    assert pairs == [('wave', 'salute', 2, 0.5), ('salute', 'wave', 1, 0.5),
                     ('drink', 'eat', 1, 1 / 3)]


def test_metric_reports_class_group_and_pairs():
    metric = METRICS.build(
        dict(type='AmbiguousActionMetric', class_names=NAMES,
             groups={'greeting': ['wave', 'salute'], 'mouth': [2, 3]},
             num_confused_pairs=2))
    metric.dataset_meta = {}
    metric.process(None, samples())
    result = metric.evaluate(len(LABELS))
    assert result['ambiguous/top1'] == pytest.approx(6 / 10)
    # second-best is pred+1: correct for wave->salute? no: label 0, pred 1,
    # second 2. Count top-2 hits by hand: label in {pred, pred+1}
    top2 = sum(l in (p, (p + 1) % 4) for l, p in zip(LABELS, PREDS)) / 10
    assert result['ambiguous/top5'] == pytest.approx(1.0)  # 4 classes
    assert top2 == pytest.approx(0.7)
    mean = np.mean([2 / 4, 1 / 2, 2 / 3, 1 / 1])
    assert result['ambiguous/mean_class_acc'] == pytest.approx(mean)
    assert result['ambiguous/group/greeting'] == pytest.approx(3 / 6)
    assert result['ambiguous/group/mouth'] == pytest.approx(3 / 4)
    assert result['ambiguous/per_class'] == pytest.approx(
        dict(wave=0.5, salute=0.5, drink=2 / 3, eat=1.0))
    assert result['ambiguous/confused_pairs'][0] == ('wave', 'salute', 2, 0.5)
    assert len(result['ambiguous/confused_pairs']) == 2


def test_paper_groups_preset_resolves_on_ntu120_and_ntu60():
    from sfhead_mm.datasets.class_names import get_class_names
    for dataset in ('ntu120', 'ntu60'):
        groups = resolve_groups('ntu120-sfhead', get_class_names(dataset))
        assert len(groups) == 9
        assert sum(len(v) for v in groups.values()) == 23
    names = get_class_names('ntu120')
    assert [names[i] for i in groups['take off/wear jacket']] == [
        'take off jacket', 'wear jacket']
    assert groups['writing/typing/phone/reading'] == [11, 29, 28, 10]


def test_unknown_class_in_groups_fails_at_build():
    with pytest.raises(KeyError, match="unknown class name 'waving'"):
        AmbiguousActionMetric(class_names=NAMES, groups={'g': ['waving']})
    with pytest.raises(KeyError, match='unknown group preset'):
        AmbiguousActionMetric(class_names=NAMES, groups='ntu999')
