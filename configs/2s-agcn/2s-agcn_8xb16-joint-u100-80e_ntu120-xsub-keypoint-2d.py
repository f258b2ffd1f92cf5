# 2s-AGCN baseline, joint stream, NTU120 xsub, mmaction's 2D pipeline (COCO-17
# keypoints + scores: PreNormalize2D, GenSkeFeat 'coco' ['j'] -> x, y, score;
# UniformSampleFrames 100 frames).
_base_ = './2s-agcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-2d.py'

ann_file = 'data/skeleton/ntu120_2d.pkl'
model = dict(cls_head=dict(num_classes=120))
train_dataloader = dict(
    dataset=dict(dataset=dict(ann_file=ann_file, split='xsub_train')))
val_dataloader = dict(dataset=dict(ann_file=ann_file, split='xsub_val'))
test_dataloader = dict(dataset=dict(ann_file=ann_file, split='xsub_val'))
