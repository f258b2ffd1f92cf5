# CTR-GCN baseline, joint-motion stream, NTU60 xsub: mmaction's ST-GCN
# config of that stream (PreNormalize3D, GenSkeFeat ['jm'], UniformSampleFrames
# 100 frames) with sfhead_mm's CTRGCN in place of ST-GCN.
_base_ = [
    'mmaction::skeleton/stgcn/stgcn_8xb16-joint-motion-u100-80e_ntu60-xsub-keypoint-3d.py',  # noqa: E501
    '../_base_/models/ctrgcn_ntu.py'
]

custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)
model = {{_base_.ctrgcn_ntu_model}}
