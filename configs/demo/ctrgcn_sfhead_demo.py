# The default demo (`make demo`): CTR-GCN + SF-Head (branch placement) on
# the synthetic "ambiguous actions" set, sized for 2 CPU cores. Everything
# but the model comes from the ST-GCN demo (mmaction's NTU60 3D config,
# 32 frames, 6 epochs).
#   python tools/train.py configs/demo/ctrgcn_sfhead_demo.py
_base_ = './stgcn_demo.py'

model = dict(
    type='SFRecognizerGCN',
    backbone=dict(
        _delete_=True,
        type='CTRGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        base_channels=32,
        num_stages=4,
        inflate_stages=[3],
        down_stages=[3]),
    cls_head=dict(in_channels=64),
    sf_head=dict(placement='branch'))
