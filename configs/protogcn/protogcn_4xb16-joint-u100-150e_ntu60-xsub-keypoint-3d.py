# ProtoGCN baseline, joint stream, NTU60 xsub, 3D: mmaction's NTU
# pipeline (PreNormalize3D, GenSkeFeat, UniformSampleFrames 100 frames) and
# data files with the model of configs/_base_/models/protogcn_ntu.py and its
# published frame count and schedule.
_base_ = [
    'mmaction::skeleton/stgcn/stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py',  # noqa: E501
    '../_base_/models/protogcn_ntu.py'
]

custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)
model = {{_base_.protogcn_ntu_model}}

train_pipeline = [
    dict(type='PreNormalize3D'),
    dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
    dict(type='UniformSampleFrames', clip_len=100),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='PreNormalize3D'),
    dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
    dict(type='UniformSampleFrames', clip_len=100, num_clips=1,
         test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='PreNormalize3D'),
    dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
    dict(type='UniformSampleFrames', clip_len=100, num_clips=10,
         test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs')
]
train_dataloader = dict(
    batch_size=16,
    dataset=dict(times=1, dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(batch_size=16, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

# The published schedule (the original configs/ntu*/j.py, PySKL): SGD lr
# 0.1 for 4 GPUs x 16 clips, momentum 0.9, Nesterov, weight decay 5e-4, 150
# epochs, cosine annealing per iteration to 0, no warm-up. Its RandomRot
# (0.2) and Spatial_Flip augmentations are not in this pipeline.
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=150, val_begin=1,
    val_interval=1)
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=0, T_max=150, by_epoch=True,
         convert_to_iter_based=True)
]
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0005, nesterov=True))

# `base_batch_size` = (4 GPUs) x (16 clips per GPU), the published batch.
auto_scale_lr = dict(enable=False, base_batch_size=64)
