# ST-GCN baseline, joint stream, NTU120 xsub, mmaction's 2D pipeline (COCO-17
# keypoints + scores: PreNormalize2D, GenSkeFeat 'coco' ['j'] -> x, y, score;
# UniformSampleFrames 100 frames).
_base_ = 'mmaction::skeleton/stgcn/stgcn_8xb16-joint-u100-80e_ntu120-xsub-keypoint-2d.py'  # noqa: E501
