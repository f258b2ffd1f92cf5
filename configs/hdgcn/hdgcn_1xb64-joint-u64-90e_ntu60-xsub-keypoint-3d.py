# HD-GCN baseline, joint stream, NTU60 xsub, 3D: mmaction's NTU
# pipeline (PreNormalize3D, GenSkeFeat, UniformSampleFrames 64 frames) and
# data files (configs/_base_/datasets/ntu60-xsub-joint-u64-keypoint-3d.py)
# with the model of configs/_base_/models/hdgcn_ntu.py and its
# published frame count and schedule.
_base_ = [
    '../_base_/datasets/ntu60-xsub-joint-u64-keypoint-3d.py',
    '../_base_/models/hdgcn_ntu.py'
]

custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)
model = {{_base_.hdgcn_ntu_model}}

# The published schedule (the original config/*/joint_com_1.yaml): SGD lr
# 0.1, momentum 0.9, Nesterov, weight decay 4e-4, batch 64 on one GPU, 90
# epochs, linear warm-up over 5 epochs, then cosine annealing to 0.
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=90, val_begin=1,
    val_interval=1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.2, end_factor=1.0, by_epoch=True,
         begin=0, end=5),
    dict(type='CosineAnnealingLR', eta_min=0, T_max=85, by_epoch=True,
         begin=5, end=90, convert_to_iter_based=True)
]
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0004, nesterov=True))

# `base_batch_size` = (1 GPU) x (64 clips per GPU), the published batch.
auto_scale_lr = dict(enable=False, base_batch_size=64)
