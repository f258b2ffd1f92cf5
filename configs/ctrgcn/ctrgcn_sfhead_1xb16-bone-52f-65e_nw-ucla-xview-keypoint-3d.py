# CTR-GCN + SF-Head (branch placement, all blocks): the baseline plus the
# head lines and nothing else.
# Pipeline and schedule: the baseline's, CTR-GCN's published NW-UCLA
# protocol (feeders/feeder_ucla.py).
_base_ = './ctrgcn_1xb16-bone-52f-65e_nw-ucla-xview-keypoint-3d.py'

custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)
model = dict(type='SFRecognizerGCN', sf_head=dict(placement='branch'))
