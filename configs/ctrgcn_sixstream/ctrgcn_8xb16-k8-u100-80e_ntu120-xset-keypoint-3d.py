# CTR-GCN baseline, six-stream ensemble stream k8 (InfoGCN's
# (I - A^8) x position), NTU120 xset.
_base_ = './ctrgcn_8xb16-k8-u100-80e_ntu120-xsub-keypoint-3d.py'

train_dataloader = dict(dataset=dict(dataset=dict(split='xset_train')))
val_dataloader = dict(dataset=dict(split='xset_val'))
test_dataloader = dict(dataset=dict(split='xset_val'))
