# CTR-GCN baseline, NTU60 xsub, six-stream ensemble stream k2: InfoGCN's (I -
# A^k) x with k=2, position. With InfoGCN's A (binary, A[v, parent(v)] = 1 on
# the NTU bone tree rooted at the spine middle, root=1) it is each joint
# relative to its grandparent; see sfhead_mm/datasets/adjacency_power.py. The
# joint-stream config with GenSkeFeatAdjacencyPower in place of GenSkeFeat;
# fuse the six streams' scores with tools/ensemble.py --preset infogcn.
_base_ = '../ctrgcn/ctrgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py'

sixstream_feat = dict(
    type='GenSkeFeatAdjacencyPower',
    layout={{_base_.ntu_ctrgcn_layout}},
    k=2,
    feats=['j'],
    root=1)
train_pipeline = [
    dict(type='PreNormalize3D'), sixstream_feat,
    dict(type='UniformSampleFrames', clip_len=100),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='PreNormalize3D'), sixstream_feat,
    dict(
        type='UniformSampleFrames', clip_len=100, num_clips=1, test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='PreNormalize3D'), sixstream_feat,
    dict(
        type='UniformSampleFrames', clip_len=100, num_clips=10,
        test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs')
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
