# ST-GCN++ baseline, bone-motion stream, NTU60 xsub, mmaction's 2D pipeline
# (COCO-17 keypoints + scores: PreNormalize2D, GenSkeFeat 'coco' ['bm'] -> x,
# y, score; UniformSampleFrames 100 frames).
_base_ = 'mmaction::skeleton/stgcnpp/stgcnpp_8xb16-bone-motion-u100-80e_ntu60-xsub-keypoint-2d.py'  # noqa: E501
