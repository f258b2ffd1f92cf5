# ST-GCN baseline, joint stream, NTU120 xset, mmaction's
# NTU pipeline (PreNormalize3D, UniformSampleFrames 100 frames).
_base_ = './stgcn_8xb16-joint-u100-80e_ntu120-xsub-keypoint-3d.py'

train_dataloader = dict(dataset=dict(dataset=dict(split='xset_train')))
val_dataloader = dict(dataset=dict(split='xset_val'))
test_dataloader = dict(dataset=dict(split='xset_val'))
