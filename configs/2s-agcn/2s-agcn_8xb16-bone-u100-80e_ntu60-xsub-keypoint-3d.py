# 2s-AGCN baseline, bone stream, NTU60 xsub, mmaction's
# NTU pipeline (PreNormalize3D, GenSkeFeat ['b'], UniformSampleFrames
# 100 frames).
_base_ = 'mmaction::skeleton/2s-agcn/2s-agcn_8xb16-bone-u100-80e_ntu60-xsub-keypoint-3d.py'  # noqa: E501
