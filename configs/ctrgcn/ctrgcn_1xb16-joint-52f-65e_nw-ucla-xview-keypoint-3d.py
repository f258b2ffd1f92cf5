# CTR-GCN baseline, joint stream, NW-UCLA cross-view, 3D.
# Pipeline: the published CTR-GCN NW-UCLA protocol (Uason-Chen/CTR-GCN
# feeders/feeder_ucla.py, the same in FR-Head's code): centred on the spine
# of the first frame, random rotation (+-60 deg about x and y) and scale
# (0.5-1.5) in training, min-max to [-1, 1], 52 frames; see
# configs/_base_/datasets/nw-ucla-xview-keypoint-3d.py.
# Schedule: CTR-GCN/FR-Head's NW-UCLA one (65 epochs, batch 16 on 1 GPU,
# SGD 0.1 Nesterov, wd 1e-4, 5 warm-up epochs, x0.1 at epoch 50).
_base_ = [
    'mmaction::_base_/default_runtime.py',
    '../_base_/datasets/nw-ucla-xview-keypoint-3d.py',
    '../_base_/schedules/sgd-warmup5-step50-65e.py'
]

custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)

# The original CTR-GCN (10 blocks, 64/128/256) on the 20-joint NW-UCLA graph
# (layout 'nw-ucla' = CTR-GCN's graph/ucla.py), one person per clip.
model = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='CTRGCN',
        graph_cfg=dict(layout='nw-ucla', mode='spatial'),
        num_person=1),
    cls_head=dict(type='GCNHead', num_classes=10, in_channels=256))

default_hooks = dict(checkpoint=dict(interval=1), logger=dict(interval=100))
