# ST-GCN++ baseline, joint stream, NTU60 xview, mmaction's
# NTU pipeline (PreNormalize3D, UniformSampleFrames 100 frames).
_base_ = './stgcnpp_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py'

train_dataloader = dict(dataset=dict(dataset=dict(split='xview_train')))
val_dataloader = dict(dataset=dict(split='xview_val'))
test_dataloader = dict(dataset=dict(split='xview_val'))
