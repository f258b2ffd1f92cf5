"""Each backbone + SF-Head trains through MMEngine's Runner on the demo set:
finite loss_sf_con / loss_sf_red, and the total loss falls."""
import json
import math
import subprocess
import sys

import pytest

from tests.conftest import REPO, subprocess_env, write_config

TINY = dict(base_channels=16, num_stages=3, inflate_stages=[3],
            down_stages=[3])
BACKBONES = {
    'stgcn': dict(type='STGCN', graph_cfg=dict(layout='nturgb+d',
                                               mode='stgcn_spatial')),
    'stgcnpp': dict(type='STGCN', gcn_adaptive='init', gcn_with_res=True,
                    tcn_type='mstcn', graph_cfg=dict(layout='nturgb+d',
                                                     mode='spatial')),
    'aagcn': dict(type='AAGCN', graph_cfg=dict(layout='nturgb+d',
                                               mode='spatial')),
    'ctrgcn': dict(type='CTRGCN', graph_cfg=dict(layout='nturgb+d',
                                                 mode='spatial')),
}


def logged_losses(work_dir):
    scalars = sorted(work_dir.glob('*/vis_data/scalars.json'))
    assert scalars, f'no scalars.json under {work_dir}'
    rows = [json.loads(line) for line in scalars[-1].read_text().splitlines()]
    return [r for r in rows if 'loss' in r]


@pytest.mark.parametrize('name', sorted(BACKBONES))
def test_backbone_with_sf_head_trains(tmp_path, demo_ann_file, name):
    backbone = dict(BACKBONES[name], _delete_=True, **TINY)
    extra = (f'model = dict(type="SFRecognizerGCN", backbone={backbone!r}, '
             'cls_head=dict(in_channels=32), '
             'sf_head=dict(placement="branch", groups=4))\n'
             'randomness = dict(seed=0)\n')
    config = write_config(tmp_path, 'configs/demo/stgcn_demo.py',
                          demo_ann_file, extra, max_epochs=3)
    result = subprocess.run(
        [sys.executable, 'tools/train.py', config, '--work-dir',
         str(tmp_path / 'wd')], capture_output=True, text=True, cwd=REPO,
        env=subprocess_env(), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = logged_losses(tmp_path / 'wd')
    assert len(rows) >= 6
    for row in rows:
        assert math.isfinite(row['loss_sf_con'])
        assert math.isfinite(row['loss_sf_red'])
        assert row['loss_sf_red'] > 0
    assert rows[-1]['loss'] < rows[0]['loss']
