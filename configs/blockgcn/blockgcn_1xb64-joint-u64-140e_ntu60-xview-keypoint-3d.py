# BlockGCN baseline, joint stream, NTU60 xview, 3D.
_base_ = './blockgcn_1xb64-joint-u64-140e_ntu60-xsub-keypoint-3d.py'

train_dataloader = dict(dataset=dict(dataset=dict(split='xview_train')))
val_dataloader = dict(dataset=dict(split='xview_val'))
test_dataloader = dict(dataset=dict(split='xview_val'))
