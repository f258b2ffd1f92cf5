# CTR-GCN baseline, six-stream ensemble stream k2-motion (InfoGCN's
# (I - A^2) x motion), NTU120 xsub: the NTU60 xsub file of the stream on the
# NTU120 pickle.
_base_ = './ctrgcn_8xb16-k2-motion-u100-80e_ntu60-xsub-keypoint-3d.py'

ann_file = 'data/skeleton/ntu120_3d.pkl'
model = dict(cls_head=dict(num_classes=120))
train_dataloader = dict(
    dataset=dict(dataset=dict(ann_file=ann_file, split='xsub_train')))
val_dataloader = dict(dataset=dict(ann_file=ann_file, split='xsub_val'))
test_dataloader = dict(dataset=dict(ann_file=ann_file, split='xsub_val'))
