# BlockGCN (Zhou et al., CVPR 2024) on the NTU RGB+D 25-joint skeleton:
# the original model (10 blocks, 128/256, strides at blocks 5 and 8, BlockGC
# with hop-distance bone encoding, persistent-homology topology code of each
# clip added before every block - per sample, unlike the original's
# repeat(2, 1)), mmaction's GCNHead. 1,388,200 parameters at NTU120.
# A stream config lists this file after mmaction's config of that stream
# and sets `model = {{_base_.blockgcn_ntu_model}}`; cls_head.num_classes
# follows the dataset.
blockgcn_ntu_model = dict(
    backbone=dict(
        _delete_=True,
        type='BlockGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial')),
    cls_head=dict(in_channels=256))
