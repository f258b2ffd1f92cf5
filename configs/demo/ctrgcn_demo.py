# CTR-GCN baseline of the demo: the ST-GCN demo (mmaction's NTU60 3D
# config, 32 frames, 6 epochs, synthetic set) with a small CTR-GCN.
#   python tools/train.py configs/demo/ctrgcn_demo.py
_base_ = './stgcn_demo.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='CTRGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        base_channels=32,
        num_stages=4,
        inflate_stages=[3],
        down_stages=[3]),
    cls_head=dict(in_channels=64))
