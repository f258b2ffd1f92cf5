# ST-GCN++ baseline, joint-motion stream, NTU60 xsub, mmaction's
# NTU pipeline (PreNormalize3D, GenSkeFeat ['jm'], UniformSampleFrames
# 100 frames).
_base_ = 'mmaction::skeleton/stgcnpp/stgcnpp_8xb16-joint-motion-u100-80e_ntu60-xsub-keypoint-3d.py'  # noqa: E501
