# BlockGCN + SF-Head (branch placement, every block), joint, NTU60 xview:
# the baseline plus the head lines and nothing else. The head reads each
# block's `gcn` output (the default gcn -> tcn rule: blocks are
# backbone.gcn[i] with children gcn and tcn).
# groups=8 (the SF-Head default, used for Table 4): the widths 128/256 are
# divisible by 4 * 8 = 32 (branch width C/(4g) = 4/8). groups=16 would also
# pass the rule (C/(4g) = 2/4, CTR-GCN's first two stages) but halves the
# channel extent that the ATDA/ASDA gates' 7x7 kernels see.
_base_ = './blockgcn_1xb64-joint-u64-140e_ntu60-xview-keypoint-3d.py'

custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)
model = dict(type='SFRecognizerGCN', sf_head=dict(placement='branch',
                                                  groups=8))
