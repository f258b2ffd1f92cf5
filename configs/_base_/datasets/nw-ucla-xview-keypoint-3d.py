# NW-UCLA cross-view (views 1, 2 train; view 3 test), 3D joints, the
# published CTR-GCN protocol (Uason-Chen/CTR-GCN feeders/feeder_ucla.py, the
# same file in FR-Head's code; SF-Head's NW-UCLA results are CTR-GCN based),
# as sfhead_mm transforms:
#   centre on the spine (joint 1) of the first frame      CenterOnJoint
#   training: rotate about x and y by whole degrees in
#   [-60, 60], scale by U(0.5, 1.5)                        RandomRotateScale3D
#   min-max normalise each axis to [-1, 1]                 MinMaxNormalize
#   52 frames: training draws from the frames repeated
#   100 times (sorted), test linspace(0, T - 1, 52)        RepeatSampleFrames
#   streams after sampling, bones of the 'nw-ucla' layout  GenSkeFeatLayout
# One person per clip; 5 passes over the training set per epoch.
# Make the pickle with:
#   python data_prep/nw_ucla.py --data-root PATH/all_sqe \
#       --out data/skeleton/nw_ucla_3d.pkl
dataset_type = 'PoseDataset'
ann_file = 'data/skeleton/nw_ucla_3d.pkl'
layout = 'nw-ucla'
clip_len = 52

train_pipeline = [
    dict(type='CenterOnJoint', joint=1, frame=0),
    dict(type='RandomRotateScale3D', max_angle=60, scale_range=(0.5, 1.5)),
    dict(type='MinMaxNormalize', low=-1, high=1),
    dict(type='RepeatSampleFrames', clip_len=clip_len, repeat=100),
    dict(type='PoseDecode'),
    dict(type='GenSkeFeatLayout', layout=layout, feats=['j'], channels=3),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='CenterOnJoint', joint=1, frame=0),
    dict(type='MinMaxNormalize', low=-1, high=1),
    dict(type='RepeatSampleFrames', clip_len=clip_len, test_mode=True),
    dict(type='PoseDecode'),
    dict(type='GenSkeFeatLayout', layout=layout, feats=['j'], channels=3),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs')
]
test_pipeline = val_pipeline

train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    drop_last=True,  # as CTR-GCN's training loader
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='RepeatDataset',
        times=5,
        dataset=dict(
            type=dataset_type,
            ann_file=ann_file,
            pipeline=train_pipeline,
            split='xview_train')))
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file,
        pipeline=val_pipeline,
        split='xview_val',
        test_mode=True))
test_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file,
        pipeline=test_pipeline,
        split='xview_val',
        test_mode=True))

val_evaluator = [dict(type='AccMetric')]
test_evaluator = val_evaluator
