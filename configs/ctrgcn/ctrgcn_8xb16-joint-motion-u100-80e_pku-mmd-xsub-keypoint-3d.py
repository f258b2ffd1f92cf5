# CTR-GCN baseline, joint-motion stream, PKU-MMD phase I cross-subject
# (51 classes), 3D. PKU-MMD is recorded with Kinect v2 in the NTU RGB+D
# 25-joint layout, so this is the NTU60 xsub config on another pickle:
# mmaction's NTU pipeline (PreNormalize3D, GenSkeFeat ['jm'],
# UniformSampleFrames 100 frames) and schedule.
_base_ = './ctrgcn_8xb16-joint-motion-u100-80e_ntu60-xsub-keypoint-3d.py'

ann_file = 'data/skeleton/pku_mmd_3d.pkl'
model = dict(cls_head=dict(num_classes=51))
train_dataloader = dict(dataset=dict(dataset=dict(ann_file=ann_file)))
val_dataloader = dict(dataset=dict(ann_file=ann_file))
test_dataloader = dict(dataset=dict(ann_file=ann_file))
