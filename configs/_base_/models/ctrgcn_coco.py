# sfhead_mm's CTRGCN on the COCO-17 keypoints of a 2D pose estimator (HRNet,
# RTMPose): the original CTR-GCN (10 blocks, 64/128/256, strides at blocks 5
# and 8) on mmaction's 'coco' graph, as a model override for mmaction's ST-GCN
# keypoint-2d configs. Input channels stay 3: mmaction's 2D pipeline
# (GenSkeFeat) appends the keypoint score to x, y. A stream config lists this
# file after mmaction's config of that stream and sets
# `model = {{_base_.ctrgcn_coco_model}}`.
ctrgcn_coco_model = dict(
    backbone=dict(
        _delete_=True,
        type='CTRGCN',
        in_channels=3,
        graph_cfg=dict(layout='coco', mode='spatial')),
    cls_head=dict(in_channels=256))
