# CTR-GCN baseline, joint stream, NTU120 xsub, on the SF-Head paper's
# schedule (configs/_base_/schedules/sgd-warmup5-cosine-90e.py: SGD momentum
# 0.9, wd 4e-4, batch 64, 90 epochs, 5 warm-up epochs, cosine 0.1 -> 1e-4)
# instead of mmaction's (8xb16, 16 epochs x 5 repeats, cosine 0.1 -> 0).
# Data pipeline: mmaction's (PreNormalize3D, UniformSampleFrames 100 frames),
# as the 8xb16 config beside it.
_base_ = [
    './ctrgcn_8xb16-joint-u100-80e_ntu120-xsub-keypoint-3d.py',
    '../_base_/schedules/sgd-warmup5-cosine-90e.py'
]

train_cfg = {{_base_.sgd_warmup5_cosine_90e.train_cfg}}
param_scheduler = {{_base_.sgd_warmup5_cosine_90e.param_scheduler}}
optim_wrapper = {{_base_.sgd_warmup5_cosine_90e.optim_wrapper}}
auto_scale_lr = {{_base_.sgd_warmup5_cosine_90e.auto_scale_lr}}
train_dataloader = dict(
    batch_size={{_base_.sgd_warmup5_cosine_90e.train_batch_size}},
    dataset=dict(times=1))
