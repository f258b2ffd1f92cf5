# CTR-GCN baseline, joint stream, NTU60 xsub, mmaction's
# NTU pipeline (PreNormalize3D, UniformSampleFrames 100 frames).
_base_ = 'mmaction::skeleton/stgcn/stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py'  # noqa: E501

custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)

# sfhead_mm's CTRGCN: the original CTR-GCN (10 blocks, 64/128/256, strides
# at blocks 5 and 8); mmaction's schedule and pipeline otherwise.
model = dict(
    backbone=dict(
        _delete_=True,
        type='CTRGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial')),
    cls_head=dict(in_channels=256))
