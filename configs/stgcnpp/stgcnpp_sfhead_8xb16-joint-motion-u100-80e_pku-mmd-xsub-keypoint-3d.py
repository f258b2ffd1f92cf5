# ST-GCN++ + SF-Head (branch placement, all blocks): the baseline plus the
# head lines and nothing else.
# Pipeline and schedule: the baseline's, mmaction's NTU pipeline on
# PKU-MMD I (NTU 25-joint layout).
_base_ = './stgcnpp_8xb16-joint-motion-u100-80e_pku-mmd-xsub-keypoint-3d.py'

custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)
model = dict(type='SFRecognizerGCN', sf_head=dict(placement='branch'))
