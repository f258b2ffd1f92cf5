# CTR-GCN + FR-Head (training-only auxiliary head, published settings) on
# the SF-Head paper's schedule: the baseline plus the head lines and nothing
# else. Stages after blocks 1, 5, 8 and 10 (the published choice: first
# block, first block of each stride-2 stage, last block). The other published
# settings (stage weights 0.1/0.2/0.5/1.0, loss weight 0.1, temperature and
# alpha 0.125, momentum 0.9) are FRHead's defaults.
_base_ = './ctrgcn_1xb64-joint-u100-90e_ntu120-xsub-keypoint-3d.py'

custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)
model = dict(type='SFRecognizerGCN', fr_head=dict(stages=[1, 5, 8, 10]))
