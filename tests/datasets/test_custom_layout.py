"""A skeleton none of mmaction's layouts knows (7 joints), given as a dict in
the config alone, trains through MMEngine's Runner with joint, bone and
motion streams; the pre-flight shape check names 2D/3D and joint-count
mismatches."""
import pickle

import numpy as np
import pytest
from mmengine.config import Config

from sfhead_mm.datasets.transforms import (KeypointShapeError,
                                           check_keypoint_shapes,
                                           expected_keypoint_shape)

SEVEN_JOINTS = dict(num_node=7,
                    inward=[(1, 0), (2, 1), (3, 1), (4, 1), (5, 0), (6, 0)],
                    center=0)


def make_pickle(path, channels=3, joints=7, seed=0) -> str:
    """24 sequences, 2 classes: the left or the right 'hand' swings."""
    rng = np.random.default_rng(seed)
    annotations, split = [], dict(train=[], val=[])
    for i in range(24):
        label, frames = i % 2, int(rng.integers(20, 40))
        kp = rng.normal(0, 0.02, (1, frames, joints, channels))
        kp[0, :, 3 + label, 1] += np.sin(np.linspace(0, 6, frames))
        name = f'seq_{i:02d}'
        annotations.append(dict(frame_dir=name, label=label,
                                total_frames=frames,
                                keypoint=kp.astype(np.float32)))
        split['train' if i < 16 else 'val'].append(name)
    with open(path, 'wb') as f:
        pickle.dump(dict(split=split, annotations=annotations), f)
    return str(path)


CONFIG = """
_base_ = 'mmaction::_base_/default_runtime.py'
custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)
layout = {layout!r}
feats = {feats!r}
ann_file = {ann_file!r}
model = dict(
    type='RecognizerGCN',
    backbone=dict(type='{backbone}', in_channels=3 * len(feats),
                  base_channels=16, num_stages=2, inflate_stages=[2],
                  down_stages=[2], num_person=1,
                  graph_cfg=dict(layout=layout, mode='spatial')),
    cls_head=dict(type='GCNHead', num_classes=2, in_channels=32))


def pipeline(test_mode):
    sample = dict(type='UniformSampleFrames', clip_len=16)
    if test_mode:
        sample.update(num_clips=1, test_mode=True)
    return [dict(type='CenterOnJoint', joint=layout['center']),
            dict(type='GenSkeFeatLayout', layout=layout, feats=feats,
                 channels=3),
            sample, dict(type='PoseDecode'),
            dict(type='FormatGCNInput', num_person=1),
            dict(type='PackActionInputs')]


def loader(split, test_mode):
    return dict(batch_size=8, num_workers=0, persistent_workers=False,
                sampler=dict(type='DefaultSampler', shuffle=not test_mode),
                dataset=dict(type='PoseDataset', ann_file=ann_file,
                             split=split, pipeline=pipeline(test_mode),
                             test_mode=test_mode))


train_dataloader = loader('train', False)
val_dataloader = loader('val', True)
test_dataloader = val_dataloader
val_evaluator = [dict(type='AccMetric')]
test_evaluator = val_evaluator
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9))
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
"""


def write_config(tmp_path, ann_file, feats=('j', 'b', 'jm', 'bm'),
                 backbone='STGCN'):
    path = tmp_path / 'seven_joints.py'
    path.write_text(CONFIG.format(layout=SEVEN_JOINTS, feats=list(feats),
                                  ann_file=ann_file, backbone=backbone))
    return Config.fromfile(path)


@pytest.mark.parametrize('backbone, feats', [
    ('STGCN', ('j', 'b', 'jm', 'bm')),  # mmaction's backbone, 4 streams
    ('CTRGCN', ('bm', )),               # ours, bone motion alone
])
def test_dict_layout_trains_through_runner(tmp_path, backbone, feats):
    from mmengine.runner import Runner
    ann_file = make_pickle(tmp_path / 'seven.pkl')
    cfg = write_config(tmp_path, ann_file, feats, backbone)
    cfg.work_dir = str(tmp_path / 'work')
    check_keypoint_shapes(cfg)  # the pre-flight check accepts it
    runner = Runner.from_cfg(cfg)
    batch = next(iter(runner.train_dataloader))
    assert batch['inputs'][0].shape == (1, 1, 16, 7, 3 * len(feats))
    runner.train()
    assert (tmp_path / 'work' / 'epoch_1.pth').is_file()
    assert runner.message_hub.get_scalar('train/loss').current() > 0
    assert 'val/acc/top1' in runner.message_hub.log_scalars


def test_preflight_names_2d_pickle_with_3d_config(tmp_path):
    ann_file = make_pickle(tmp_path / 'two_d.pkl', channels=2)
    cfg = write_config(tmp_path, ann_file, feats=['j', 'b'])
    assert expected_keypoint_shape(
        cfg, cfg.train_dataloader.dataset.pipeline)[:2] == (7, 3)
    with pytest.raises(KeypointShapeError) as err:
        check_keypoint_shapes(cfg)
    message = str(err.value)
    assert message.startswith('train_dataloader.dataset: ')
    assert ann_file in message and '(seq_00)' in message
    assert 'C=2 channels' in message and 'expects 3' in message
    assert "in_channels=6 / 2 stream(s) ['j', 'b']" in message


def test_preflight_names_joint_count_mismatch(tmp_path):
    ann_file = make_pickle(tmp_path / 'nine.pkl', joints=9)
    cfg = write_config(tmp_path, ann_file)
    with pytest.raises(KeypointShapeError,
                       match=r'sample 16 \(seq_16\).*V=9 joints.*expects 7'):
        check_keypoint_shapes(cfg, loaders=['val_dataloader'])


def test_pipeline_names_2d_sample(tmp_path):
    """Without the pre-flight check the dataset itself stops at the first
    sample, naming it, instead of a BatchNorm size error in the model."""
    from mmaction.registry import DATASETS
    from mmaction.utils import register_all_modules
    register_all_modules()
    ann_file = make_pickle(tmp_path / 'two_d.pkl', channels=2)
    cfg = write_config(tmp_path, ann_file)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    with pytest.raises(KeypointShapeError,
                       match=r"sample 'seq_00'.*C=2 channels.*expects 3"):
        dataset[0]
