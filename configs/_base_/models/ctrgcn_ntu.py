# sfhead_mm's CTRGCN on the NTU RGB+D 25-joint skeleton: the original
# CTR-GCN (10 blocks, 64/128/256, strides at blocks 5 and 8) as a model
# override for mmaction's ST-GCN NTU configs. A stream config lists this file
# after mmaction's config of that stream and sets
# `model = {{_base_.ctrgcn_ntu_model}}`.

# The original CTR-GCN NTU graph (0-based here). It differs from mmaction's
# 'nturgb+d' layout at the hands: the original links hand tip -> thumb ->
# hand, mmaction links both to the hand.
ntu_ctrgcn_layout = dict(
    num_node=25,
    inward=[(0, 1), (1, 20), (2, 20), (3, 2), (4, 20), (5, 4), (6, 5),
            (7, 6), (8, 20), (9, 8), (10, 9), (11, 10), (12, 0), (13, 12),
            (14, 13), (15, 14), (16, 0), (17, 16), (18, 17), (19, 18),
            (21, 22), (22, 7), (23, 24), (24, 11)],
    center=20)

ctrgcn_ntu_model = dict(
    backbone=dict(
        _delete_=True,
        type='CTRGCN',
        graph_cfg=dict(layout=ntu_ctrgcn_layout, mode='spatial')),
    cls_head=dict(in_channels=256))
