# HD-GCN baseline, joint stream, NTU120 xset, 3D.
_base_ = './hdgcn_1xb64-joint-u64-90e_ntu120-xsub-keypoint-3d.py'

train_dataloader = dict(dataset=dict(dataset=dict(split='xset_train')))
val_dataloader = dict(dataset=dict(split='xset_val'))
test_dataloader = dict(dataset=dict(split='xset_val'))
