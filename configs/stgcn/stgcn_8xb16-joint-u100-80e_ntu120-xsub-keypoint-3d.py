# ST-GCN baseline, joint stream, NTU120 xsub, mmaction's
# NTU pipeline (PreNormalize3D, UniformSampleFrames 100 frames).
_base_ = 'mmaction::skeleton/stgcn/stgcn_8xb16-joint-u100-80e_ntu120-xsub-keypoint-3d.py'  # noqa: E501
