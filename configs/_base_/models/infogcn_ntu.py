# InfoGCN (Chi et al., CVPR 2022) on the NTU RGB+D 25-joint skeleton: the
# original model (9 blocks, 64/128/256, k=1 input (I - P^k) x, 3 attention
# heads) on the original NTU tree (layout 'nturgb+d-infogcn') with its
# latent classifier InfoGCNHead (label smoothing 0.1, CE + 0.1 MMD(z, z_prior)
# + 1e-4 |mean z|, noise ratio 0.5). 1,572,227 parameters at NTU120.
# A stream config lists this file after mmaction's config of that stream
# and sets `model = {{_base_.infogcn_ntu_model}}`; cls_head.num_classes
# follows the dataset.
infogcn_ntu_model = dict(
    backbone=dict(
        _delete_=True,
        type='InfoGCN',
        graph_cfg=dict(layout='nturgb+d-infogcn'),
        k=1,
        num_heads=3),
    cls_head=dict(
        _delete_=True,
        type='InfoGCNHead',
        num_classes=60,
        in_channels=256,
        noise_ratio=0.5,
        lambda_mmd=0.1,
        lambda_mean=1e-4,
        label_smooth_eps=0.1))
