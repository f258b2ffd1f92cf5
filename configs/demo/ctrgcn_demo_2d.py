# CTR-GCN baseline of the 2D demo: the 3D demo (32 frames, 6 epochs, small
# CTR-GCN) on the same synthetic motions seen by a colour camera, as COCO-17
# keypoints with scores, through mmaction's 2D pipeline (PreNormalize2D,
# GenSkeFeat 'coco': x, y, score -> 3 channels) and the 'coco' graph.
#   python data_prep/make_demo.py --dims 2 --layout coco \
#       --out data/demo/ambiguous_demo_2d.pkl
#   python tools/train.py configs/demo/ctrgcn_demo_2d.py
_base_ = './ctrgcn_demo.py'

ann_file = 'data/demo/ambiguous_demo_2d.pkl'

model = dict(backbone=dict(graph_cfg=dict(layout='coco', mode='spatial')))


def _pipeline_2d(test_mode: bool) -> list:
    sample = dict(type='UniformSampleFrames', clip_len=32)
    if test_mode:
        sample.update(num_clips=1, test_mode=True)
    return [
        dict(type='PreNormalize2D'),
        dict(type='GenSkeFeat', dataset='coco', feats=['j']),
        sample,
        dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=2),
        dict(type='PackActionInputs')
    ]


train_dataloader = dict(
    dataset=dict(
        dataset=dict(ann_file=ann_file, pipeline=_pipeline_2d(False))))
val_dataloader = dict(
    dataset=dict(ann_file=ann_file, pipeline=_pipeline_2d(True)))
test_dataloader = dict(
    dataset=dict(ann_file=ann_file, pipeline=_pipeline_2d(True)))
