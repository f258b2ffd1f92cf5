# 2s-AGCN baseline, bone stream, NTU60 xsub, mmaction's 2D pipeline (COCO-17
# keypoints + scores: PreNormalize2D, GenSkeFeat 'coco' ['b'] -> x, y, score;
# UniformSampleFrames 100 frames).
_base_ = 'mmaction::skeleton/2s-agcn/2s-agcn_8xb16-bone-u100-80e_ntu60-xsub-keypoint-2d.py'  # noqa: E501
