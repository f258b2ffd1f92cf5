"""The 2D path end to end: ``make_demo --dims 2 --layout coco`` data,
mmaction's 2D transforms (PreNormalize2D, GenSkeFeat 'coco'), a tiny CTR-GCN
+ SF-Head on the COCO graph trained one epoch and tested by MMEngine's
Runner (the 2D demo config, shrunk)."""
import math
import pickle

import pytest

from tests.conftest import write_config

TINY_2D = """
model = dict(
    backbone=dict(base_channels=16, num_stages=3, inflate_stages=[3],
                  down_stages=[3]),
    cls_head=dict(in_channels=32),
    sf_head=dict(groups=4))
randomness = dict(seed=0)
"""


@pytest.fixture(scope='module')
def demo_2d_ann_file(tmp_path_factory) -> str:
    from data_prep.make_demo import make_demo_dataset
    path = tmp_path_factory.mktemp('demo_2d') / 'demo_2d.pkl'
    with open(path, 'wb') as f:
        pickle.dump(make_demo_dataset(seed=0, subjects=4, per_class=2,
                                      dims=2), f)
    return str(path)


def test_2d_demo_trains_and_tests_through_the_runner(tmp_path,
                                                     demo_2d_ann_file):
    from mmengine.config import Config
    from mmengine.runner import Runner
    config = write_config(tmp_path, 'configs/demo/ctrgcn_sfhead_demo_2d.py',
                          demo_2d_ann_file, TINY_2D)
    cfg = Config.fromfile(config)
    cfg.work_dir = str(tmp_path / 'wd')
    assert cfg.model.backbone.graph_cfg.layout == 'coco'
    assert [t['type'] for t in cfg.test_dataloader.dataset.pipeline][:2] == \
        ['PreNormalize2D', 'GenSkeFeat']
    runner = Runner.from_cfg(cfg)
    shapes = []
    runner.model.backbone.register_forward_pre_hook(
        lambda module, args: shapes.append(tuple(args[0].shape)))
    runner.train()
    # N, M, T, V, C: 17 COCO keypoints, x, y, score
    assert shapes[0][1:] == (2, 32, 17, 3)
    logged = runner.message_hub.log_scalars
    for key in ('train/loss_sf_con', 'train/loss_sf_red'):
        assert math.isfinite(logged[key].current()), key
    assert (tmp_path / 'wd' / 'epoch_1.pth').is_file()
    metrics = runner.test()
    assert 0 <= metrics['acc/top1'] <= 1
