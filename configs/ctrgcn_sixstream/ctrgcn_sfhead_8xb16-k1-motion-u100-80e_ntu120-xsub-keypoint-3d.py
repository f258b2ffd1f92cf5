# CTR-GCN + SF-Head (branch placement, all blocks): the baseline plus the
# head lines and nothing else.
_base_ = './ctrgcn_8xb16-k1-motion-u100-80e_ntu120-xsub-keypoint-3d.py'

custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)
model = dict(type='SFRecognizerGCN', sf_head=dict(placement='branch'))
