# ST-GCN++ baseline, joint stream, NTU60 xsub, mmaction's
# NTU pipeline (PreNormalize3D, UniformSampleFrames 100 frames).
_base_ = 'mmaction::skeleton/stgcnpp/stgcnpp_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py'  # noqa: E501
