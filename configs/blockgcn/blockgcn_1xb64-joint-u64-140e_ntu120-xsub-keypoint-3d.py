# BlockGCN baseline, joint stream, NTU120 xsub, 3D.
_base_ = './blockgcn_1xb64-joint-u64-140e_ntu60-xsub-keypoint-3d.py'

ann_file = 'data/skeleton/ntu120_3d.pkl'
model = dict(cls_head=dict(num_classes=120))
train_dataloader = dict(
    dataset=dict(dataset=dict(ann_file=ann_file, split='xsub_train')))
val_dataloader = dict(dataset=dict(ann_file=ann_file, split='xsub_val'))
test_dataloader = dict(dataset=dict(ann_file=ann_file, split='xsub_val'))
