# ST-GCN baseline, bone stream, NTU120 xsub, mmaction's
# NTU pipeline (PreNormalize3D, GenSkeFeat ['b'], UniformSampleFrames
# 100 frames).
_base_ = 'mmaction::skeleton/stgcn/stgcn_8xb16-bone-u100-80e_ntu120-xsub-keypoint-3d.py'  # noqa: E501
