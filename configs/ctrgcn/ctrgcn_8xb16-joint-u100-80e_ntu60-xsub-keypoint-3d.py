# CTR-GCN baseline, joint stream, NTU60 xsub: mmaction's ST-GCN config
# (PreNormalize3D, UniformSampleFrames 100 frames, its schedule) with
# sfhead_mm's CTRGCN (configs/_base_/models/ctrgcn_ntu.py) in place of ST-GCN.
_base_ = [
    'mmaction::skeleton/stgcn/stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py',  # noqa: E501
    '../_base_/models/ctrgcn_ntu.py'
]

custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)
model = {{_base_.ctrgcn_ntu_model}}
