"""Cost of the auxiliary heads, measured in one run on this machine.

One config (``--config``, any of the seven backbones' configs: a baseline,
its ``_sfhead`` or its ``_frhead`` twin): builds the plain model, the model
with SF-Heads (the config's ``sf_head``, else its ``_sfhead`` twin's, else
``sf_head=dict(placement='branch')``) in the branch and inline placements
and, where the config or its ``_frhead`` twin has one, with FR-Head; and
reports, as medians over ``--reps`` interleaved rounds after ``--warmup``:
parameters with and without the heads; train step time (forward + backward
+ SGD step); inference latency of the plain model vs the exported branch
model vs the inline model.

``--cost-table``: the same train-step comparison for all seven backbones of
the SF-Head paper's Table 4 (ST-GCN, 2s-AGCN, CTR-GCN, InfoGCN, HD-GCN,
BlockGCN, ProtoGCN; their NTU120 xsub joint configs and twins), every
variant of every backbone in each round, written as JSON and markdown.

Examples:
    python tools/benchmark.py --batch 16 --frames 64 --reps 5
    python tools/benchmark.py --config configs/protogcn/\\
        protogcn_sfhead_4xb16-joint-u100-150e_ntu120-xsub-keypoint-3d.py
    python tools/benchmark.py --cost-table --batch 2 --frames 64 \\
        --threads 1 --reps 10
    # the evidence grid's own shape (NW-UCLA, width 32, 52 frames, batch 16)
    python tools/benchmark.py --config configs/ctrgcn/\\
        ctrgcn_sfhead_1xb16-joint-52f-65e_nw-ucla-xview-keypoint-3d.py \\
        --cfg-options model.backbone.base_channels=32 \\
        model.cls_head.in_channels=128 --batch 16 --frames 52 --persons 1
    # on a GPU (adds the peak memory of a train step), float32 or AMP
    python tools/benchmark.py --device cuda --batch 16 --frames 64 --amp
"""
import argparse
import copy
import json
import logging
import os.path as osp
import statistics
import time
from typing import Callable, Dict, List, Optional, Union

import sfhead_mm  # noqa: F401  (repairs the mm stack before mmaction loads)
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules
from mmengine.config import DictAction
from mmengine.logging import MMLogger
from sfhead_mm.engine.launch import load_config
from sfhead_mm.models.deploy import deploy_model_cfg, strip_training_heads

DEFAULT_CONFIG = ('configs/ctrgcn/ctrgcn_sfhead_8xb16-joint-u100-80e_'
                  'ntu60-xsub-keypoint-3d.py')


def interleaved_timings(fns: Dict[str, Callable[[], None]], reps: int,
                        warmup: int,
                        sync: Callable[[], None] = lambda: None
                        ) -> Dict[str, List[float]]:
    """Seconds per call of each function, ``reps`` rounds after ``warmup``.

    Each round calls every function once, in turn, so slow drifts of the
    machine (other jobs, clock changes) hit all of them alike; ratios are
    then taken within a round. ``sync`` waits for queued device work
    (``torch.cuda.synchronize`` on a GPU) before the clock starts and
    stops.
    """
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: Dict[str, List[float]] = {name: [] for name in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            sync()
            start = time.perf_counter()
            fn()
            sync()
            times[name].append(time.perf_counter() - start)
    return times


def on_cuda(device: Union[str, torch.device]) -> bool:
    return torch.device(device).type == 'cuda'


def device_sync(device: Union[str, torch.device]) -> Callable[[], None]:
    """The wait for queued work on ``device`` (nothing to wait for on CPU)."""
    return torch.cuda.synchronize if on_cuda(device) else lambda: None


def peak_train_memory(steps: Dict[str, Callable[[], None]],
                      device: Union[str, torch.device]) -> Dict[str, int]:
    """CUDA memory (bytes) that one train step of each model takes at its
    peak above what was allocated before it (activations, gradients,
    temporaries), measured after the timings, so that every optimizer
    buffer already exists; the other models on the GPU are left out. Empty
    on CPU, where torch keeps no such figure."""
    if not on_cuda(device):
        return {}
    peaks = {}
    for name, step in steps.items():
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        step()
        torch.cuda.synchronize()
        peaks[name] = torch.cuda.max_memory_allocated() - before
    return peaks


def paired_ratio(times: Dict[str, List[float]], name: str,
                 base: str) -> float:
    """Median over rounds of ``time[name] / time[base]`` in the same round."""
    return statistics.median(
        t / b for t, b in zip(times[name], times[base]))


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# The seven backbones of the SF-Head paper's Table 4: their NTU120 xsub
# joint (3D) baseline configs; the twins insert _sfhead / _frhead.
SEVEN_BACKBONES = (
    ('ST-GCN', 'configs/stgcn/stgcn_8xb16-joint-u100-80e_'
     'ntu120-xsub-keypoint-3d.py'),
    ('2s-AGCN', 'configs/2s-agcn/2s-agcn_8xb16-joint-u100-80e_'
     'ntu120-xsub-keypoint-3d.py'),
    ('CTR-GCN', 'configs/ctrgcn/ctrgcn_8xb16-joint-u100-80e_'
     'ntu120-xsub-keypoint-3d.py'),
    ('InfoGCN', 'configs/infogcn/infogcn_1xb64-joint-u64-110e_'
     'ntu120-xsub-keypoint-3d.py'),
    ('HD-GCN', 'configs/hdgcn/hdgcn_1xb64-joint-u64-90e_'
     'ntu120-xsub-keypoint-3d.py'),
    ('BlockGCN', 'configs/blockgcn/blockgcn_1xb64-joint-u64-140e_'
     'ntu120-xsub-keypoint-3d.py'),
    ('ProtoGCN', 'configs/protogcn/protogcn_4xb16-joint-u100-150e_'
     'ntu120-xsub-keypoint-3d.py'),
)
HEADS = ('sfhead', 'frhead')


def twin_path(path: str, head: str) -> str:
    """The ``head`` ('sfhead', 'frhead' or '' for the baseline) twin of a
    config path: ``dir/model[_head]_rest.py`` (model names have no ``_``)."""
    folder, _, name = path.rpartition('/')
    model, rest = name.split('_', 1)
    if rest.split('_', 1)[0] in HEADS:
        rest = rest.split('_', 1)[1]
    name = f'{model}_{head}_{rest}' if head else f'{model}_{rest}'
    return f'{folder}/{name}' if folder else name


def head_configs(path: str,
                 options: Optional[dict] = None) -> Dict[str, dict]:
    """Model configs of one config's variants: ``plain`` (no heads), ``sf``
    (SF-Heads, branch) and ``fr`` (FR-Head, where the config or its twin
    has one). The plain model is the deploy form of the config. ``options``
    (``--cfg-options``, e.g. ``{'model.backbone.base_channels': 32}``) are
    merged into the config and its twins alike."""

    def model_of(config_path: str):
        cfg = load_config(config_path)
        if options:
            cfg.merge_from_dict(options)
        return cfg.model

    cfg = model_of(path)
    sf_cfg = fr_cfg = None
    if 'sf_head' in cfg:
        sf_cfg = copy.deepcopy(cfg)
    elif osp.isfile(twin_path(path, 'sfhead')):
        sf_cfg = model_of(twin_path(path, 'sfhead'))
    if 'fr_head' in cfg:
        fr_cfg = copy.deepcopy(cfg)
    elif osp.isfile(twin_path(path, 'frhead')):
        fr_cfg = model_of(twin_path(path, 'frhead'))
    plain = deploy_model_cfg(dict(cfg, sf_head=None, fr_head=None))
    if sf_cfg is None:
        sf_cfg = dict(plain, type='SFRecognizerGCN',
                      sf_head=dict(placement='branch'))
    sf = dict(sf_cfg, fr_head=None)
    sf['sf_head'] = dict(sf['sf_head'], placement='branch')
    variants = dict(plain=plain, sf=sf)
    if fr_cfg is not None:
        variants['fr'] = dict(fr_cfg, sf_head=None)
    return variants


def inline_variant(sf_cfg: dict) -> dict:
    """The SF-Head model config ``sf_cfg`` with the inline placement."""
    inline = copy.deepcopy(sf_cfg)
    inline['sf_head'] = dict(inline['sf_head'], placement='inline')
    return inline


def parse_device(text: str) -> torch.device:
    """``--device``: a torch device string ('cpu', 'cuda', 'cuda:1')."""
    try:
        return torch.device(text)
    except RuntimeError as error:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a torch device ('cpu', 'cuda', 'cuda:1'): "
            f'{error}')


def synthetic_batch(model: torch.nn.Module, num_classes: int, batch: int,
                    persons: int, frames: int,
                    device: Union[str, torch.device] = 'cpu'):
    """Random skeletons (N, 1, M, T, V, C) of the model's joint count and
    labels, on ``device``."""
    graph = getattr(model.backbone, 'graph', None)
    V = getattr(graph, 'num_node', 25)
    channels = getattr(model.backbone, 'in_channels', 3)
    inputs = torch.randn(batch, 1, persons, frames, V, channels)
    samples = [ActionDataSample().set_gt_label(i % num_classes).to(device)
               for i in range(batch)]
    return inputs.to(device), samples


def train_step(model, inputs, samples, amp: bool = False
               ) -> Callable[[], None]:
    """One forward + backward + SGD step of ``model`` on the batch; with
    ``amp``, float16 autocast and a loss scaler, as MMEngine's
    ``AmpOptimWrapper`` trains under ``tools/train.py --amp``."""
    optim = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    device = inputs.device.type
    scaler = torch.amp.GradScaler(device, enabled=amp)

    def step():
        model.train()
        with torch.autocast(device, dtype=torch.float16, enabled=amp):
            losses = model(inputs, samples, mode='loss')
            loss = sum(v for k, v in losses.items() if k.startswith('loss'))
        optim.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(optim)
        scaler.update()
    return step


def infer(model, inputs, amp: bool = False) -> Callable[[], None]:

    def run():
        model.eval()
        with torch.no_grad(), torch.autocast(
                inputs.device.type, dtype=torch.float16, enabled=amp):
            model(inputs, mode='tensor')
    return run


def build(model_cfg,
          device: Union[str, torch.device] = 'cpu') -> torch.nn.Module:
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(model_cfg))
    model.init_weights()
    return model.to(device)


def config_text(config: str, options: Optional[dict] = None) -> str:
    """``config `path`, key=value, ...``: the measured config and its
    ``--cfg-options``, for the head of a table."""
    return f'config `{config}`' + ''.join(
        f', {k}={v}' for k, v in (options or {}).items())


def setting_text(args) -> str:
    """Where the figures were measured: threads on CPU, the GPU and
    precision on CUDA."""
    if on_cuda(args.device):
        precision = 'float16 autocast (AMP)' if args.amp else 'float32'
        return (f'{torch.cuda.get_device_name(args.device)}, {precision}, '
                f'torch {torch.__version__}')
    return f'{torch.get_num_threads()} torch thread(s)'


def aux_params(model) -> int:
    return sum(count(head) for head in getattr(model, 'aux_heads', []))


def one_config(args) -> Dict[str, float]:
    """Plain vs SF-Head (branch, inline) vs FR-Head on one config."""
    variants = head_configs(args.config, args.cfg_options)
    sf_cfg = variants['sf']
    inline_cfg = inline_variant(sf_cfg)
    dev = args.device
    models = dict(plain=build(variants['plain'], dev),
                  branch=build(sf_cfg, dev), inline=build(inline_cfg, dev))
    if 'fr' in variants:
        models['fr'] = build(variants['fr'], dev)
    # the exported branch model: deploy weights loaded strictly into plain
    exported = build(deploy_model_cfg(sf_cfg), dev)
    kept, _ = strip_training_heads(models['branch'].state_dict(), sf_cfg)
    exported.load_state_dict(kept, strict=True)
    models['exported'] = exported

    num_classes = variants['plain']['cls_head']['num_classes']
    inputs, samples = synthetic_batch(models['plain'], num_classes,
                                      args.batch, args.persons, args.frames,
                                      dev)
    V = inputs.shape[4]
    trained = [n for n in ('plain', 'branch', 'inline', 'fr') if n in models]
    r = dict(reps=args.reps, warmup=args.warmup, sync=device_sync(dev))
    steps = {name: train_step(models[name], inputs, samples, args.amp)
             for name in trained}
    train = interleaved_timings(steps, **r)
    infer_times = interleaved_timings(
        {name: infer(models[name], inputs, args.amp)
         for name in ('plain', 'exported', 'inline')}, **r)
    peaks = peak_train_memory(steps, dev)
    results = dict(
        params_plain=count(models['plain']),
        params_head=count(models['branch'].sf_head),
        **{f'train_{k}': statistics.median(v) for k, v in train.items()},
        **{f'infer_{k}': statistics.median(v)
           for k, v in infer_times.items()},
        ratio_train_branch=paired_ratio(train, 'branch', 'plain'),
        ratio_train_inline=paired_ratio(train, 'inline', 'plain'),
        ratio_infer_exported=paired_ratio(infer_times, 'exported', 'plain'),
        ratio_infer_inline=paired_ratio(infer_times, 'inline', 'plain'),
    )
    if 'fr' in models:
        results.update(params_fr_head=count(models['fr'].fr_head),
                       ratio_train_fr=paired_ratio(train, 'fr', 'plain'))
    results.update({f'peak_train_bytes_{k}': v for k, v in peaks.items()})
    p = results
    lines = [
        config_text(args.config, args.cfg_options)
        + f'; input N={args.batch} M={args.persons} '
        f'T={args.frames} V={V}; {setting_text(args)}; '
        f'median of {args.reps} interleaved rounds after {args.warmup} '
        'warm-up; ratio: median of the per-round ratios', '',
        '| measure | plain | with SF-Head | ratio |', '|---|---|---|---|',
        f'| parameters | {p["params_plain"]:,} | +{p["params_head"]:,} head '
        f'({p["params_head"] / 1e6:.4f} M) | '
        f'{(p["params_plain"] + p["params_head"]) / p["params_plain"]:.4f} |'
    ]
    for name in ('branch', 'inline'):
        lines.append(f'| train step, {name} (s) | {p["train_plain"]:.3f} | '
                     f'{p["train_" + name]:.3f} | '
                     f'{p["ratio_train_" + name]:.3f} |')
    for name in ('exported', 'inline'):
        label = 'exported branch' if name == 'exported' else name
        lines.append(f'| inference, {label} (s) | {p["infer_plain"]:.3f} | '
                     f'{p["infer_" + name]:.3f} | '
                     f'{p["ratio_infer_" + name]:.3f} |')
    if 'fr' in models:
        lines.append(f'| train step, FR-Head instead (s; '
                     f'+{p["params_fr_head"]:,} parameters) | '
                     f'{p["train_plain"]:.3f} | '
                     f'{p["train_fr"]:.3f} | {p["ratio_train_fr"]:.3f} |')
    for name in (n for n in ('branch', 'inline', 'fr') if n in peaks):
        label = 'FR-Head instead' if name == 'fr' else name
        lines.append(f'| train-step memory, {label} (MiB) | '
                     f'{peaks["plain"] / 2**20:.0f} | '
                     f'{peaks[name] / 2**20:.0f} | '
                     f'{peaks[name] / peaks["plain"]:.3f} |')
    return results, '\n'.join(lines)


def seven_backbones(args) -> Dict[str, dict]:
    """Train-step cost of SF-Head (branch) and FR-Head on the seven
    backbones, every variant of every backbone timed once per round."""
    steps, rows = {}, {}
    for name, path in SEVEN_BACKBONES:
        variants = head_configs(path)
        models = {k: build(v, args.device) for k, v in variants.items()}
        num_classes = variants['plain']['cls_head']['num_classes']
        inputs, samples = synthetic_batch(models['plain'], num_classes,
                                          args.batch, args.persons,
                                          args.frames, args.device)
        for kind, model in models.items():
            steps[f'{name}/{kind}'] = train_step(model, inputs, samples,
                                                 args.amp)
        rows[name] = dict(
            config=path,
            params=count(models['plain']),
            params_sf_head=aux_params(models['sf']),
            params_fr_head=aux_params(models['fr']),
            sf_groups=variants['sf']['sf_head'].get('groups', 8))
    times = interleaved_timings(steps, reps=args.reps, warmup=args.warmup,
                                sync=device_sync(args.device))
    peaks = peak_train_memory(steps, args.device)
    for name, row in rows.items():
        row.update({f'peak_train_bytes_{kind}': peaks[f'{name}/{kind}']
                    for kind in ('plain', 'sf', 'fr') if peaks})
        row.update(
            train_plain=statistics.median(times[f'{name}/plain']),
            train_sf=statistics.median(times[f'{name}/sf']),
            train_fr=statistics.median(times[f'{name}/fr']),
            ratio_train_sf=paired_ratio(times, f'{name}/sf',
                                        f'{name}/plain'),
            ratio_train_fr=paired_ratio(times, f'{name}/fr',
                                        f'{name}/plain'))
    return rows


def seven_backbones_table(rows: Dict[str, dict], args) -> str:
    lines = [
        f'Input N={args.batch} M={args.persons} T={args.frames} V=25 '
        f'(NTU120 configs, 120 classes); {setting_text(args)}; '
        f'median of {args.reps} rounds after {args.warmup} '
        'warm-up, each round one train step (forward + backward + SGD) of '
        'all 21 models in turn; ratio: median of the per-round ratios to '
        'the plain model. SF-Head: branch placement on every block; '
        'FR-Head: the published four stages.', '',
        '| backbone | parameters | SF-Head parameters | FR-Head parameters '
        '| train step, plain (s) | SF-Head train-step ratio | '
        'FR-Head train-step ratio |',
        '|---|---|---|---|---|---|---|']
    for name, r in rows.items():
        lines.append(
            f'| {name} | {r["params"]:,} | +{r["params_sf_head"]:,} '
            f'(g={r["sf_groups"]}) | +{r["params_fr_head"]:,} | '
            f'{r["train_plain"]:.3f} | {r["ratio_train_sf"]:.3f} | '
            f'{r["ratio_train_fr"]:.3f} |')
    if any('peak_train_bytes_plain' in r for r in rows.values()):
        lines += ['', 'CUDA memory of one train step at its peak, above '
                  'what was allocated before it (MiB; ratio to the plain '
                  'model):', '',
                  '| backbone | plain | SF-Head | FR-Head |',
                  '|---|---|---|---|']
        for name, r in rows.items():
            plain = r['peak_train_bytes_plain']
            lines.append(
                f'| {name} | {plain / 2**20:.0f} | '
                + ' | '.join(f'{r[k] / 2**20:.0f} ({r[k] / plain:.3f})'
                             for k in ('peak_train_bytes_sf',
                                       'peak_train_bytes_fr')) + ' |')
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog='example: python '
                                     'tools/benchmark.py --batch 16 '
                                     '--frames 64 --reps 5')
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--cost-table', action='store_true',
                        help='the seven backbones of Table 4 in one run '
                        '(ignores --config)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config fields of the config and its '
                        'twins, e.g. model.backbone.base_channels=32')
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--frames', type=int, default=64)
    parser.add_argument('--persons', type=int, default=2)
    parser.add_argument('--reps', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--threads', type=int, default=0,
                        help='torch threads (0: torch default)')
    parser.add_argument('--device', default='cpu', type=parse_device,
                        help="where to run: 'cpu' or 'cuda' ('cuda:1', ...)")
    parser.add_argument('--amp', action='store_true',
                        help='float16 autocast with a loss scaler (CUDA)')
    parser.add_argument('--json', default=None,
                        help='also write the figures and the table here')
    parser.add_argument('--markdown', default=None,
                        help='also write the table here')
    args = parser.parse_args(argv)
    if on_cuda(args.device) and not torch.cuda.is_available():
        parser.error(f'--device {args.device}: torch sees no CUDA GPU here')
    if args.amp and not on_cuda(args.device):
        parser.error('--amp needs --device cuda (as tools/train.py --amp)')
    if args.threads:
        torch.set_num_threads(args.threads)
    register_all_modules()
    # init_weights reports every parameter at INFO level; keep the table
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    if args.cost_table:
        results = seven_backbones(args)
        table = seven_backbones_table(results, args)
    else:
        results, table = one_config(args)
    print(table)
    from sfhead_mm.fileio import write_text_atomic
    if args.json:
        payload = json.dumps(dict(results=results, table=table,
                                  args=dict(vars(args),
                                            device=str(args.device))),
                             indent=1)
        write_text_atomic(payload, args.json)
    if args.markdown:
        write_text_atomic(table + '\n', args.markdown)
    return results


if __name__ == '__main__':
    main()
