# InfoGCN + FR-Head (training-only auxiliary head, published settings),
# joint, NTU60 xsub: the baseline plus the head lines and nothing else.
# Stages after blocks 1, 4, 7 and 9 (the published choice on CTR-GCN is
# first block, first block of each stride-2 stage, last block: on InfoGCN's
# 9 blocks with strides at 4 and 7 these are 1, 4, 7, 9).
# The other published settings (stage weights 0.1/0.2/0.5/1.0, loss weight
# 0.1, temperature and alpha 0.125, momentum 0.9) are FRHead's defaults.
_base_ = './infogcn_1xb64-joint-u64-110e_ntu60-xsub-keypoint-3d.py'

custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)
model = dict(type='SFRecognizerGCN', fr_head=dict(stages=[1, 4, 7, 9]))
