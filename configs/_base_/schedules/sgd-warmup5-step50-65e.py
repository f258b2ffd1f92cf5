# The published NW-UCLA schedule of CTR-GCN and FR-Head (config/ucla/*.yaml
# of both repositories): SGD lr 0.1, momentum 0.9, Nesterov, weight decay
# 1e-4, batch 16 on one GPU, 65 epochs; linear warm-up over the first 5
# epochs, stepped per epoch (lr 0.02, 0.04, ..., 0.1, as their
# `base_lr * (epoch + 1) / warm_up_epoch`), then x0.1 at epoch 50.
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=65, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='LinearLR', start_factor=0.2, end_factor=1.0, by_epoch=True,
         begin=0, end=5),
    dict(type='MultiStepLR', milestones=[50], gamma=0.1, by_epoch=True,
         begin=0, end=65)
]

optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0001, nesterov=True))

# `base_batch_size` = (1 GPU) x (16 samples per GPU), the published setting.
auto_scale_lr = dict(enable=False, base_batch_size=16)
