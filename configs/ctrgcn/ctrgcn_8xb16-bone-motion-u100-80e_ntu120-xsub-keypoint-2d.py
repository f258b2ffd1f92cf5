# CTR-GCN baseline, bone-motion stream, NTU120 xsub, mmaction's 2D pipeline
# (COCO-17 keypoints + scores: PreNormalize2D, GenSkeFeat 'coco' ['bm'] -> x,
# y, score; UniformSampleFrames 100 frames): mmaction's ST-GCN 2D config of
# that stream with sfhead_mm's CTRGCN on the COCO graph in place of ST-GCN.
_base_ = [
    'mmaction::skeleton/stgcn/stgcn_8xb16-bone-motion-u100-80e_ntu120-xsub-keypoint-2d.py',  # noqa: E501
    '../_base_/models/ctrgcn_coco.py'
]

custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)
model = {{_base_.ctrgcn_coco_model}}
