"""The training pre-flight refuses values that would train silently wrong
(issue 12, items 2 and 10): non-finite keypoints (naming the sample), labels
that are not integers, total_frames that disagree with the keypoints."""
import numpy as np
import pytest

from sfhead_mm.datasets.validation import (AnnotationError,
                                           check_pose_annotations)


def _data(**changes):
    ann = dict(frame_dir='S001_A01', label=1, total_frames=4,
               keypoint=np.zeros((1, 4, 25, 3), np.float32))
    ann.update(changes)
    return dict(split=dict(train=['S001_A01']), annotations=[ann])


def test_values_that_train_silently_wrong_are_refused():
    big = np.zeros((1, 4, 25, 3))
    big[0, 3, 7, 0] = 1e300  # float64 pickle; inf once training casts it
    nan = np.zeros((1, 4, 25, 3), np.float32)
    nan[0, 2, 0, 1] = np.nan
    cases = [
        (dict(keypoint=nan), r'sample 0 \(S001_A01\): "keypoint" has 1 '
         r'non-finite values .* first at index \[0, 2, 0, 1\]'),
        (dict(keypoint=big), r'"keypoint" has 1 non-finite .* \[0, 3, 7, 0\]'),
        (dict(keypoint_score=np.full((1, 4, 25), np.inf)),
         r'"keypoint_score" has 100 non-finite'),
        (dict(label='3'), r'"label" must be an integer class index, got '
         r"'3' \(str\)"),
        (dict(label=2.7), r'"label" must be an integer .* got 2\.7'),
        (dict(total_frames=5), r'"total_frames" is 5 but "keypoint" has 4 '
         'frames'),
    ]
    for changes, message in cases:
        with pytest.raises(AnnotationError, match=message) as err:
            check_pose_annotations('ann.pkl', 'train', 8, _data(**changes))
        assert str(err.value).startswith('ann.pkl: sample 0')
    summary = check_pose_annotations('ann.pkl', 'train', 8,
                                     _data(label=np.int64(1)))
    assert summary['max_label'] == 1


def test_batch_size_one_with_sf_head_warns_once(tmp_path, demo_ann_file,
                                               monkeypatch):
    """F-RL has no negatives in a one-clip batch (issue 12, item 11)."""
    from mmengine.config import Config

    from sfhead_mm.engine import launch
    from tests.conftest import TINY_CTRGCN_SF, write_config
    said = []
    monkeypatch.setattr(launch, 'print_log',
                        lambda message, **kwargs: said.append(message))
    config = write_config(tmp_path, 'configs/demo/stgcn_demo.py',
                          demo_ann_file,
                          TINY_CTRGCN_SF.format(placement='branch'))
    for batch_size, warnings in ((1, 1), (2, 0)):
        said.clear()
        cfg = Config.fromfile(config)
        cfg.train_dataloader.batch_size = batch_size
        launch.prepare_config(cfg, ('train_dataloader', 'val_dataloader'))
        assert len(said) == warnings
    cfg.train_dataloader.batch_size = 1
    assert 'loss_sf_red will be 0' in launch.warn_single_sample_batches(cfg)
    del cfg.model['sf_head']  # no SF-Head, no F-RL: nothing to say
    assert launch.warn_single_sample_batches(cfg) is None
