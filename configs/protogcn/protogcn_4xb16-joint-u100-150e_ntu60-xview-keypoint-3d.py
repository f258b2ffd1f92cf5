# ProtoGCN baseline, joint stream, NTU60 xview, 3D.
_base_ = './protogcn_4xb16-joint-u100-150e_ntu60-xsub-keypoint-3d.py'

train_dataloader = dict(dataset=dict(dataset=dict(split='xview_train')))
val_dataloader = dict(dataset=dict(split='xview_val'))
test_dataloader = dict(dataset=dict(split='xview_val'))
