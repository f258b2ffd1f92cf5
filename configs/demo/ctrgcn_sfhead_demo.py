# The default demo (`make demo`): the CTR-GCN demo + SF-Head (branch
# placement), the baseline plus the head lines and nothing else.
#   python tools/train.py configs/demo/ctrgcn_sfhead_demo.py
_base_ = './ctrgcn_demo.py'

custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)
model = dict(type='SFRecognizerGCN', sf_head=dict(placement='branch'))
