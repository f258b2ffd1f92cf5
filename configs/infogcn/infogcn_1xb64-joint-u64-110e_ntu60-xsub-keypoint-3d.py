# InfoGCN baseline, joint stream, NTU60 xsub, 3D: mmaction's NTU
# pipeline (PreNormalize3D, GenSkeFeat, UniformSampleFrames 64 frames) and
# data files (configs/_base_/datasets/ntu60-xsub-joint-u64-keypoint-3d.py)
# with the model of configs/_base_/models/infogcn_ntu.py and its
# published frame count and schedule.
_base_ = [
    '../_base_/datasets/ntu60-xsub-joint-u64-keypoint-3d.py',
    '../_base_/models/infogcn_ntu.py'
]

custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)
model = {{_base_.infogcn_ntu_model}}

# The published schedule (the original main.py/args.py): SGD lr 0.1,
# momentum 0.9, Nesterov, weight decay 5e-4, batch 64 on one GPU, 110 epochs,
# linear warm-up over 5 epochs, x0.1 at epochs 90 and 100.
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=110, val_begin=1,
    val_interval=1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.2, end_factor=1.0, by_epoch=True,
         begin=0, end=5),
    dict(type='MultiStepLR', milestones=[90, 100], gamma=0.1, by_epoch=True,
         begin=0, end=110)
]
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0005, nesterov=True))

# `base_batch_size` = (1 GPU) x (64 clips per GPU), the published batch.
auto_scale_lr = dict(enable=False, base_batch_size=64)
