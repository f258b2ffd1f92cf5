# CTR-GCN baseline, joint motion stream, NW-UCLA cross-view, 3D.
# Pipeline: the published CTR-GCN NW-UCLA protocol, as the joint config
# (feeders/feeder_ucla.py); the stream: joint motion (frame t+1 -
# frame t, the last frame 0), computed after the 52-frame sampling, as there.
_base_ = './ctrgcn_1xb16-joint-52f-65e_nw-ucla-xview-keypoint-3d.py'

layout = 'nw-ucla'
feats = ['jm']
train_pipeline = [
    dict(type='CenterOnJoint', joint=1, frame=0),
    dict(type='RandomRotateScale3D', max_angle=60, scale_range=(0.5, 1.5)),
    dict(type='MinMaxNormalize', low=-1, high=1),
    dict(type='RepeatSampleFrames', clip_len=52, repeat=100),
    dict(type='PoseDecode'),
    dict(type='GenSkeFeatLayout', layout=layout, feats=feats, channels=3),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='CenterOnJoint', joint=1, frame=0),
    dict(type='MinMaxNormalize', low=-1, high=1),
    dict(type='RepeatSampleFrames', clip_len=52, test_mode=True),
    dict(type='PoseDecode'),
    dict(type='GenSkeFeatLayout', layout=layout, feats=feats, channels=3),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs')
]
test_pipeline = val_pipeline

train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
