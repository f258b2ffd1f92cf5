# ST-GCN++ baseline, bone-motion stream, NTU60 xsub, mmaction's
# NTU pipeline (PreNormalize3D, GenSkeFeat ['bm'], UniformSampleFrames
# 100 frames).
_base_ = 'mmaction::skeleton/stgcnpp/stgcnpp_8xb16-bone-motion-u100-80e_ntu60-xsub-keypoint-3d.py'  # noqa: E501
