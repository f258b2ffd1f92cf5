# InfoGCN + SF-Head (branch placement, every block), joint, NTU60 xview:
# the baseline plus the head lines and nothing else. The head reads each
# block's `gcn` output (the default gcn -> tcn rule: blocks are
# backbone.gcn[i] with children gcn and tcn).
# groups=8 (the SF-Head default, used for Table 4): the widths 64/128/256
# are divisible by 4 * 8 = 32, and the branch width C/(4g) is 2/4/8 per
# stage, the same as on CTR-GCN where the paper tuned the head.
_base_ = './infogcn_1xb64-joint-u64-110e_ntu60-xview-keypoint-3d.py'

custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)
model = dict(type='SFRecognizerGCN', sf_head=dict(placement='branch',
                                                  groups=8))
