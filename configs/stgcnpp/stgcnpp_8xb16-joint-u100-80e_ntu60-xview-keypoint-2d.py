# ST-GCN++ baseline, joint stream, NTU60 xview, mmaction's 2D pipeline (COCO-17
# keypoints + scores: PreNormalize2D, GenSkeFeat 'coco' ['j'] -> x, y, score;
# UniformSampleFrames 100 frames).
_base_ = './stgcnpp_8xb16-joint-u100-80e_ntu60-xsub-keypoint-2d.py'

train_dataloader = dict(dataset=dict(dataset=dict(split='xview_train')))
val_dataloader = dict(dataset=dict(split='xview_val'))
test_dataloader = dict(dataset=dict(split='xview_val'))
