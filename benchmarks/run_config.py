"""One run of the evidence runner: its fields (the key of its row), its
work dir, and the full MMEngine config it trains with (base config +
variant + protocol schedule)."""
import argparse
import hashlib
import os.path as osp

from benchmarks.variants import variant_model

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

BASE_CONFIGS = {
    'nw-ucla': 'configs/ctrgcn/ctrgcn_1xb16-joint-52f-65e_nw-ucla-xview-'
    'keypoint-3d.py',
    'demo': 'configs/demo/ctrgcn_demo.py',
}
# (train split, test split) of each split pair, per dataset
SPLIT_PAIRS = {
    'nw-ucla': dict(tune=('xview_tunetrain', 'xview_tuneval'),
                    test=('xview_train', 'xview_val')),
    'demo': dict(test=('xsub_train', 'xsub_val')),
}
DEFAULT_FRAMES = {'nw-ucla': 52, 'demo': 32}

# Fields that define a run (its key), in the order they are shown. The
# torch thread count is one: 1 and 2 threads give different float rounding
# (548 of CTR-GCN's 660 tensors differ after 3 SGD steps), so runs paired by
# seed must share it. Rows written before it was a field lack it.
RUN_FIELDS = ('dataset', 'split', 'variant', 'seed', 'passes', 'warmup',
              'frames', 'batch', 'lr', 'weight_decay', 'base_channels',
              'subset', 'threads', 'epoch_seed')


def run_spec(variant: str, seed: int, args: argparse.Namespace) -> dict:
    """Every field of one run (see ``RUN_FIELDS``)."""
    return dict(dataset=args.dataset, split=args.split, variant=variant,
                seed=seed, passes=args.passes, warmup=args.warmup,
                frames=args.frames, batch=args.batch, lr=args.lr,
                weight_decay=args.weight_decay,
                base_channels=args.base_channels, subset=args.subset,
                threads=args.threads, epoch_seed=args.epoch_seed)


def run_key(spec: dict) -> str:
    """The run's key: all its fields, ``name=value`` joined by ``|``."""
    return '|'.join(f'{k}={spec[k]}' for k in RUN_FIELDS)


def run_dir_of(spec: dict, work_root: str) -> str:
    """A work dir per key (a changed field never reuses another's dir)."""
    digest = hashlib.sha1(run_key(spec).encode()).hexdigest()[:10]
    slug = ''.join(c if c.isalnum() or c in '-_.' else '_'
                   for c in spec['variant'])[:60]
    return osp.join(work_root, f'{spec["dataset"]}_{spec["split"]}',
                    f'{slug}_seed{spec["seed"]}_{digest}')


def build_config(spec: dict, ann_file: str, gradient_share: int = 0):
    """The run's full MMEngine config (base config + variant + protocol);
    ``gradient_share`` > 0 adds ``GradientShareHook`` at that interval
    (it leaves training unchanged, so it is not a run field)."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, BASE_CONFIGS[spec['dataset']]))
    train_split, test_split = SPLIT_PAIRS[spec['dataset']][spec['split']]
    width = spec['base_channels']
    cfg.ann_file = ann_file
    cfg.model.update(variant_model(spec['variant'], spec['dataset']))
    backbone = cfg.model.backbone
    backbone.base_channels = width
    # the last width: doubled at each inflate stage (CTRGCN default: 5, 8)
    doublings = len(backbone.get('inflate_stages', [5, 8]))
    cfg.model.cls_head.in_channels = width * 2**doublings
    subset = dict(indices=spec['subset']) if spec['subset'] else {}
    for loader, split in (('train_dataloader', train_split),
                          ('test_dataloader', test_split)):
        dataset = cfg[loader].dataset
        inner = dataset.dataset if 'dataset' in dataset else dataset
        inner.update(ann_file=ann_file, split=split, **subset)
        for step in inner.pipeline:
            if 'clip_len' in step:
                step['clip_len'] = spec['frames']
        cfg[loader].update(num_workers=0, persistent_workers=False)
    cfg.train_dataloader.batch_size = spec['batch']
    if 'times' in cfg.train_dataloader.dataset:
        cfg.train_dataloader.dataset.times = 1  # one epoch = one pass
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.train_cfg = dict(type='EpochBasedTrainLoop',
                         max_epochs=spec['passes'], val_interval=10**6)
    cfg.optim_wrapper = dict(optimizer=dict(
        type='SGD', lr=spec['lr'], momentum=0.9, nesterov=True,
        weight_decay=spec['weight_decay']))
    warmup, passes = min(spec['warmup'], spec['passes']), spec['passes']
    schedulers = []
    if warmup > 0:
        schedulers.append(dict(
            type='LinearLR', start_factor=0.01, end_factor=1.0,
            by_epoch=True, begin=0, end=warmup,
            convert_to_iter_based=True))
    if passes > warmup:
        schedulers.append(dict(
            type='CosineAnnealingLR', T_max=passes - warmup, eta_min=0.0,
            by_epoch=True, begin=warmup, end=passes,
            convert_to_iter_based=True))
    cfg.param_scheduler = schedulers
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=1, max_keep_ckpts=1, save_last=True,
        save_best=None)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10)
    cfg.randomness = dict(seed=spec['seed'], deterministic=False)
    # training time summed over resumed attempts, kept in the checkpoints;
    # epoch_seed: reseed every epoch, so a run resumed after a kill trains
    # exactly like an uninterrupted one (and stays paired by seed)
    hooks = [h for h in cfg.get('custom_hooks', [])
             if h.get('type') != 'EpochSeedHook']
    if spec.get('epoch_seed'):
        hooks.insert(0, dict(type='EpochSeedHook'))
    hooks.append(dict(type='TrainTimeHook'))
    if gradient_share:
        hooks.append(dict(type='GradientShareHook', interval=gradient_share))
    cfg.custom_hooks = hooks
    return cfg
