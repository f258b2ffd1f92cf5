# ProtoGCN (Liu et al., CVPR 2025) on the NTU RGB+D 25-joint skeleton: the
# original model (10 blocks, 96/192/384, strides at blocks 5 and 8, 8 random
# initial topologies, six-branch temporal conv, prototype reconstruction
# with 400 prototypes) with its ProtoGCNHead (CE + 0.2 class-specific
# contrastive loss, memory momentum 0.9, temperature 0.125). The backbone
# returns (features, graph). 4,367,960 parameters at NTU120 (NTU60:
# 4,344,860).
# A stream config lists this file after mmaction's config of that stream
# and sets `model = {{_base_.protogcn_ntu_model}}`; cls_head.num_classes
# follows the dataset.
protogcn_ntu_model = dict(
    backbone=dict(
        _delete_=True,
        type='ProtoGCN',
        graph_cfg=dict(layout='nturgb+d'),
        num_prototype=400),
    cls_head=dict(
        _delete_=True,
        type='ProtoGCNHead',
        num_classes=60,
        in_channels=384,
        num_nodes=25,
        loss_weight_csc=0.2,
        temperature=0.125,
        momentum=0.9))
