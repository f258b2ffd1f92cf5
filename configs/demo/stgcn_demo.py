# The demo: mmaction's ST-GCN NTU60 3D joint config, shrunk for 2 CPU cores,
# on the synthetic "ambiguous actions" set (data_prep/make_demo.py).
# Pipeline: mmaction's (PreNormalize3D, UniformSampleFrames), 32 frames.
#   python data_prep/make_demo.py --out data/demo/ambiguous_demo_3d.pkl
#   python tools/train.py configs/demo/stgcn_demo.py
_base_ = 'mmaction::skeleton/stgcn/stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py'  # noqa: E501

custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)

num_classes = 8
clip_len = 32
ann_file = 'data/demo/ambiguous_demo_3d.pkl'

model = dict(
    backbone=dict(
        base_channels=16, num_stages=4, inflate_stages=[3],
        down_stages=[3]),
    cls_head=dict(num_classes=num_classes, in_channels=32))


def _pipeline(test_mode: bool) -> list:
    sample = dict(type='UniformSampleFrames', clip_len=clip_len)
    if test_mode:
        sample.update(num_clips=1, test_mode=True)
    return [
        dict(type='PreNormalize3D'),
        dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
        sample,
        dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=2),
        dict(type='PackActionInputs')
    ]


train_pipeline = _pipeline(test_mode=False)
val_pipeline = _pipeline(test_mode=True)
test_pipeline = val_pipeline

_loader = dict(num_workers=0, persistent_workers=False)
train_dataloader = dict(
    batch_size=16, **_loader,
    dataset=dict(
        times=1,
        dataset=dict(ann_file=ann_file, pipeline=train_pipeline,
                     split='xsub_train')))
val_dataloader = dict(
    batch_size=32, **_loader,
    dataset=dict(ann_file=ann_file, pipeline=val_pipeline, split='xsub_val'))
test_dataloader = dict(
    batch_size=32, **_loader,
    dataset=dict(ann_file=ann_file, pipeline=test_pipeline, split='xsub_val'))

max_epochs = 6
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=0, T_max=max_epochs, by_epoch=True,
         convert_to_iter_based=True)
]
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=2, save_best='acc/top1'),
    logger=dict(interval=10))
# Re-seed every epoch so that --resume reproduces an uninterrupted run.
custom_hooks = [dict(type='EpochSeedHook')]
randomness = dict(seed=0, deterministic=False)
