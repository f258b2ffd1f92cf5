# The 2D demo + SF-Head (branch placement): the 2D CTR-GCN demo baseline
# plus the head lines and nothing else.
#   python tools/train.py configs/demo/ctrgcn_sfhead_demo_2d.py
_base_ = './ctrgcn_demo_2d.py'

custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)
model = dict(type='SFRecognizerGCN', sf_head=dict(placement='branch'))
