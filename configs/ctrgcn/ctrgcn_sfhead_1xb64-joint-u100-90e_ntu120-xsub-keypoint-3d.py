# CTR-GCN + SF-Head (branch placement, all blocks) on the SF-Head paper's
# own schedule: the baseline plus the head lines and nothing else.
_base_ = './ctrgcn_1xb64-joint-u100-90e_ntu120-xsub-keypoint-3d.py'

custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)
model = dict(type='SFRecognizerGCN', sf_head=dict(placement='branch'))
