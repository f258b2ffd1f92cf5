# ProtoGCN + SF-Head (branch placement, every block), joint, NTU60 xview:
# the baseline plus the head lines and nothing else. The head reads each
# block's `gcn` output (the default gcn -> tcn rule: blocks are
# backbone.gcn[i] with children gcn and tcn).
# groups=8 (the SF-Head default, used for Table 4): 96/192/384 are
# divisible by 4 * 8 = 32 (96 = 32 x 3), so the rule holds at every block;
# the branch width C/(4g) is 3/6/12. groups=12 would give CTR-GCN's 2/4/8
# instead (96 = 4 x 12 x 2); we keep the paper's g so the head is the one of
# Table 4, and only its widths follow the backbone.
_base_ = './protogcn_4xb16-joint-u100-150e_ntu60-xview-keypoint-3d.py'

custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)
model = dict(type='SFRecognizerGCN', sf_head=dict(placement='branch',
                                                  groups=8))
