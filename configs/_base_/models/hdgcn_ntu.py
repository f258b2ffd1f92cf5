# HD-GCN (Lee et al., ICCV 2023) on the NTU RGB+D 25-joint skeleton: the
# original model (10 blocks, 64/128/256, strides at blocks 5 and 8,
# hierarchically decomposed graph with A-HA) with centre of mass CoM 1
# (joint 1, 0-based center=0, the original joint_com_1 config; CoM 2 and 21
# give the same 1,675,400 parameters at NTU120), mmaction's GCNHead.
# A stream config lists this file after mmaction's config of that stream
# and sets `model = {{_base_.hdgcn_ntu_model}}`; cls_head.num_classes
# follows the dataset.
hdgcn_ntu_model = dict(
    backbone=dict(
        _delete_=True,
        type='HDGCN',
        graph_cfg=dict(layout='nturgb+d'),
        center=0),
    cls_head=dict(in_channels=256))
