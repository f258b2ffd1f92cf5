"""Train-step speed of our CTR-GCN, InfoGCN, BlockGCN, HD-GCN, ProtoGCN vs
the original code.

Times forward + backward + an SGD step of the full classifier (backbone and
the model's own head: ``GCNHead`` / ``InfoGCNHead`` / ``ProtoGCNHead``; the
original ``Model`` with its ``fc``, for ProtoGCN its ``fc_cls`` and
class-specific contrastive loss) on the same random input, cross entropy on
random labels. Ours and the original alternate step by step (shared machines
drift in load); prints the median of ``--reps`` timed steps after
``--warmup`` untimed ones and the ratio ours / original (below 1: ours is
faster).

The original code is not part of this repository (InfoGCN's has no licence
at all); clone it and pass the checkouts::

    git clone https://github.com/Uason-Chen/CTR-GCN /tmp/orig/ctrgcn
    git clone https://github.com/stnoah1/infogcn /tmp/orig/infogcn
    git clone https://github.com/ZhouYuxuanYX/BlockGCN /tmp/orig/blockgcn
    git clone https://github.com/Jho-Yonsei/HD-GCN /tmp/orig/hdgcn
    git clone https://github.com/firework8/ProtoGCN /tmp/orig/protogcn
    pip install einops   # InfoGCN, BlockGCN, HD-GCN import it
    # BlockGCN imports torch-topological; keep it out of the project venv:
    pip install --no-deps --target /tmp/ttlib torch_topological giotto-ph \\
        gudhi POT

    python benchmarks/backbone_speed.py --ctrgcn /tmp/orig/ctrgcn \\
        --infogcn /tmp/orig/infogcn --blockgcn /tmp/orig/blockgcn \\
        --hdgcn /tmp/orig/hdgcn --protogcn /tmp/orig/protogcn \\
        --extra-path /tmp/ttlib

Measured on the shared 2-core development CPU (torch 2.13, ``--threads 1``;
one core busy with a training run and other engineers' tests on the
machine, load average 2-4, so absolute times vary between runs; the ratios
come from alternated steps), N=16, T=64, ``--reps 5`` unless said:

* CTR-GCN (``--ctrgcn``): 6.4 vs 9.2 s per step (0.70), 7.4 vs 9.2 s
  (0.80), 5.4 vs 6.4 s (0.84); with ``--threads 2`` 18.8 vs 24.8 s (0.76).
  The 1.06-1.09x once reported against the original did not reproduce.
* HD-GCN, against the original repository's code: 28.7 vs 22.2 s (1.29,
  load average 4) and 11.7 vs 11.0 s (1.07) before the A-HA temporal and
  the EdgeConv neighbour maxima used ``max`` as the original instead of
  ``amax`` (whose backward costs 3x on CPU); after it 11.0 vs 12.2 s
  (0.90), 11.3 vs 11.4 s (0.99), 11.1 vs 10.6 s (1.05, ``--reps 7``),
  10.4 vs 10.8 s (0.96). With the joint aggregation also made one 2-D
  product per (layer, subset) instead of a batched product of 576 small
  matrices (3% in an interleaved A/B of the two versions): 9.9 vs 10.3 s
  (0.96), 9.5 vs 10.3 s (0.93, ``--reps 7``). Earlier figures, 1.05 at
  N=16 and 0.81 at N=4, were against a local transcription of the
  original.
* Not re-timed (their code did not change in speed since): InfoGCN
  29.1 vs 61.0 s per step (0.48), BlockGCN 35.7 vs 39.8 s (0.90),
  ProtoGCN 31.8 vs 34.6 s (0.92), ``--reps 2`` under heavier load.
  BlockGCN's topology code alone: 2.5 ms vs 42.7 ms with
  torch-topological.

The command of the last CTR-GCN figure (with HD-GCN's 10.4 vs 10.8 s in
the same run; load average 2); the last two HD-GCN figures come from it
without ``--ctrgcn`` (and ``--reps 7`` for the last)::

    python benchmarks/backbone_speed.py --ctrgcn /tmp/orig/ctrgcn \\
        --hdgcn /tmp/orig/hdgcn --threads 1 --reps 5 --warmup 1

Backbones whose checkout is not given are skipped. When
``torch_topological`` imports, BlockGCN's topology code is also timed
alone against it. Adaptations needed to
run the originals on CPU in float32 (none changes their speed): HD-GCN's
``graph/__init__.py`` (it imports modules missing from the repository) is
skipped and its EdgeConv's ``x.get_device()`` (-1 on the CPU) read as
``x.device``, both in the builder, not in the checkout; InfoGCN's
``A_vector`` is cast to float32 (it is float64 and the original runs only
under apex mixed precision); ProtoGCN's three model files are loaded with
their mmcv 1.x / PySKL imports replaced (``build_norm_layer`` from today's
mmcv, a ``mode='random'`` graph).
"""
import argparse
import contextlib
import importlib
import os.path as osp
import statistics
import sys
import time
import types
from typing import Callable, Dict, Tuple

import numpy as np
import torch
import torch.nn.functional as F

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import sfhead_mm  # noqa: E402,F401  repairs mmaction before its import
from mmaction.models.heads import GCNHead  # noqa: E402
from mmaction.structures import ActionDataSample  # noqa: E402

from sfhead_mm.models.backbones import (CTRGCN, HDGCN, BlockGCN,  # noqa
                                        InfoGCN, InfoGCNHead, ProtoGCN,
                                        ProtoGCNHead)

NUM_CLASSES = 120
Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    for name in ('ctrgcn', 'infogcn', 'blockgcn', 'hdgcn', 'protogcn'):
        parser.add_argument(f'--{name}', default=None,
                            help=f'checkout of the original {name} code')
    parser.add_argument('--extra-path', action='append', default=[],
                        help='added to sys.path (e.g. torch-topological)')
    parser.add_argument('--batch', type=int, default=16, help='clips N')
    parser.add_argument('--frames', type=int, default=64, help='frames T')
    parser.add_argument('--persons', type=int, default=2, help='persons M')
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--reps', type=int, default=3)
    parser.add_argument('--threads', type=int, default=None,
                        help='torch.set_num_threads (default: torch default)')
    return parser.parse_args()


@contextlib.contextmanager
def original_code(root: str):
    """Import (and build) original code with ``root`` first on ``sys.path``.

    The originals all use top-level packages named ``model`` and ``graph``
    and import their graph class while building the model: those packages
    are dropped from ``sys.modules`` afterwards so the next original imports
    its own.
    """
    sys.path.insert(0, root)
    try:
        yield
    finally:
        sys.path.remove(root)
        for name in list(sys.modules):
            if name.split('.')[0] in ('model', 'graph', 'utils', 'feeders'):
                del sys.modules[name]


def labels_of(y: torch.Tensor):
    return [ActionDataSample().set_gt_label(int(i)) for i in y]


# Each builder returns (ours, original): a module and a loss(x, y) closure,
# x in our layout (N, M, T, V, C).
def build_ctrgcn(root: str) -> Tuple:
    backbone = CTRGCN(dict(layout='nturgb+d', mode='spatial'))
    head = GCNHead(NUM_CLASSES, 256)
    ours = torch.nn.ModuleDict(dict(backbone=backbone, head=head))

    def ours_loss(x, y):
        return F.cross_entropy(head(backbone(x)), y)

    with original_code(root):
        from model.ctrgcn import Model as Original
        original = Original(num_class=NUM_CLASSES, num_point=25,
                            num_person=2, graph='graph.ntu_rgb_d.Graph',
                            graph_args=dict(labeling_mode='spatial'))

    def original_loss(x, y):
        return F.cross_entropy(original(x.permute(0, 4, 2, 3, 1)), y)

    return (ours, ours_loss), (original, original_loss)


def build_infogcn(root: str) -> Tuple:
    backbone = InfoGCN(dict(layout='nturgb+d-infogcn'), k=1)
    head = InfoGCNHead(NUM_CLASSES, 256)
    ours = torch.nn.ModuleDict(dict(backbone=backbone, head=head))

    def ours_loss(x, y):
        return sum(v for k, v in head.loss(backbone(x), labels_of(y)).items()
                   if k.startswith('loss'))

    with original_code(root):
        from model.infogcn import InfoGCN as Original
        original = Original(num_class=NUM_CLASSES, num_point=25,
                            num_person=2, graph='graph.ntu_rgb_d.Graph', k=1,
                            noise_ratio=0.5, num_head=3)
    original.A_vector = original.A_vector.float()

    def original_loss(x, y):
        return F.cross_entropy(original(x.permute(0, 4, 2, 3, 1))[0], y)

    return (ours, ours_loss), (original, original_loss)


def build_blockgcn(root: str) -> Tuple:
    backbone = BlockGCN(dict(layout='nturgb+d', mode='spatial'))
    head = GCNHead(NUM_CLASSES, 256)
    ours = torch.nn.ModuleDict(dict(backbone=backbone, head=head))

    def ours_loss(x, y):
        return F.cross_entropy(head(backbone(x)), y)

    with original_code(root):
        from model.BlockGCN import Model as Original
        original = Original(num_class=NUM_CLASSES, num_point=25,
                            num_person=2, graph='graph.ntu_rgb_d.Graph',
                            graph_args=dict(labeling_mode='spatial'))

    def original_loss(x, y):
        x = x.permute(0, 4, 2, 3, 1)
        return F.cross_entropy(original(x, None, x)[0], y)

    return (ours, ours_loss), (original, original_loss)


def build_hdgcn(root: str) -> Tuple:
    backbone = HDGCN(dict(layout='nturgb+d'), center=20)
    head = GCNHead(NUM_CLASSES, 256)
    ours = torch.nn.ModuleDict(dict(backbone=backbone, head=head))

    def ours_loss(x, y):
        return F.cross_entropy(head(backbone(x)), y)

    with original_code(root):
        # graph/__init__.py imports modules missing from the repository:
        # load the package without it.
        package = types.ModuleType('graph')
        package.__path__ = [osp.join(root, 'graph')]
        sys.modules['graph'] = package
        importlib.import_module('graph.ntu_rgb_d_hierarchy')
        # EdgeConv builds an index on ``x.get_device()``, -1 on the CPU.
        path = osp.join(root, 'model', 'HDGCN.py')
        source = open(path).read().replace('x.get_device()', 'x.device')
        module = types.ModuleType('original_hdgcn')
        exec(compile(source, path, 'exec'), module.__dict__)
        original = module.Model(num_class=NUM_CLASSES, num_point=25,
                            num_person=2,
                            graph='graph.ntu_rgb_d_hierarchy.Graph',
                            graph_args=dict(labeling_mode='spatial', CoM=21))

    def original_loss(x, y):
        return F.cross_entropy(original(x.permute(0, 4, 2, 3, 1)), y)

    return (ours, ours_loss), (original, original_loss)


def _load_protogcn_modules(root: str) -> Dict[str, types.ModuleType]:
    """The original's gcn.py, tcn.py, protogcn.py and loss, imports fixed."""
    from mmcv.cnn import build_activation_layer, build_norm_layer
    base = osp.join(root, 'protogcn', 'models')

    class RandomGraph:
        def __init__(self, layout='nturgb+d', mode='random', num_filter=8,
                     init_std=.02, init_off=.04, **kwargs):
            self.A = np.random.randn(num_filter, 25, 25) * init_std + init_off

    def init_func(*args, **kwargs):
        pass

    shared = dict(build_norm_layer=build_norm_layer,
                  build_activation_layer=build_activation_layer,
                  bn_init=init_func, conv_init=init_func,
                  conv_branch_init=init_func, Graph=RandomGraph,
                  cache_checkpoint=None, load_checkpoint=None,
                  BACKBONES=types.SimpleNamespace(
                      register_module=lambda: (lambda cls: cls)))
    modules = {}
    for name, path in (('gcn', 'gcns/utils/gcn.py'),
                       ('tcn', 'gcns/utils/tcn.py'),
                       ('protogcn', 'gcns/protogcn.py'),
                       ('loss', 'losses/Class_Specific_Contrastive_Loss.py')):
        lines = [
            line for line in open(osp.join(base, path)).read().splitlines()
            if not line.startswith(('from mmcv', 'from .', 'from ..'))
        ]
        module = types.ModuleType(f'original_protogcn_{name}')
        module.__dict__.update(shared)
        for other in modules.values():
            module.__dict__.update({
                k: v for k, v in vars(other).items() if not k.startswith('_')
            })
        exec(compile('\n'.join(lines), path, 'exec'), module.__dict__)
        modules[name] = module
    return modules


def build_protogcn(root: str) -> Tuple:
    backbone = ProtoGCN(dict(layout='nturgb+d'))
    head = ProtoGCNHead(NUM_CLASSES, 384)
    ours = torch.nn.ModuleDict(dict(backbone=backbone, head=head))

    def ours_loss(x, y):
        losses = head.loss(backbone(x), labels_of(y))
        return losses['loss_cls'] + losses['loss_csc']

    modules = _load_protogcn_modules(root)
    original = torch.nn.ModuleDict(
        dict(
            backbone=modules['protogcn'].ProtoGCN(
                graph_cfg=dict(layout='nturgb+d', mode='random',
                               num_filter=8, init_off=.04, init_std=.02),
                num_prototype=400,
                tcn_ms_cfg=[(3, 1), (3, 2), (3, 3), (3, 4), ('max', 3),
                            '1x1']),
            fc_cls=torch.nn.Linear(384, NUM_CLASSES),
            csc=modules['loss'].Class_Specific_Contrastive_Loss(
                NUM_CLASSES, 625)))

    def original_loss(x, y):
        feats, graph = original['backbone'](x)
        scores = original['fc_cls'](feats.mean(dim=(3, 4)).mean(dim=1))
        return F.cross_entropy(scores, y) + 0.2 * original['csc'](
            graph, y, scores.detach())

    return (ours, ours_loss), (original, original_loss)


BUILDERS = dict(ctrgcn=build_ctrgcn, infogcn=build_infogcn,
                blockgcn=build_blockgcn,
                hdgcn=build_hdgcn, protogcn=build_protogcn)


def make_step(model: torch.nn.Module, loss_fn: Loss, x: torch.Tensor,
              y: torch.Tensor) -> Callable[[], float]:
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    model.train()

    def step() -> float:
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss_fn(x, y).backward()
        optimizer.step()
        return time.perf_counter() - start

    return step


def time_topology(x: torch.Tensor, reps: int) -> None:
    """BlockGCN's topology code: our batched MST against torch-topological.

    Both compute the 0-dim Vietoris-Rips diagrams of the rows of the same
    (N, V, V) distance matrices and vectorise them with the same structure
    elements (``torch-topological`` through ``giotto-ph`` on the CPU, one
    clip at a time); forward only. Skipped when ``torch_topological`` does
    not import.
    """
    try:
        from torch_topological.nn import VietorisRipsComplex
        from torch_topological.nn.data import make_tensor
        from torch_topological.nn.layers import StructureElementLayer
    except ImportError:
        print('topology  skipped (torch_topological does not import)')
        return
    from sfhead_mm.models.backbones.blockgcn import PersistenceEncoding
    ours = PersistenceEncoding(64)
    rips, layer = VietorisRipsComplex(dim=0), StructureElementLayer(64)
    layer.load_state_dict(ours.state_dict())

    def original(D):
        return layer(make_tensor(rips(D)))

    D = ours.distance_matrix(x)
    torch.testing.assert_close(original(D), ours(x), rtol=1e-4, atol=1e-4)
    times = [[], []]
    for _ in range(reps):
        for i, fn in enumerate((lambda: ours(x), lambda: original(
                ours.distance_matrix(x)))):
            start = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - start)
    ours_ms, original_ms = (1e3 * statistics.median(t) for t in times)
    print(f'topology  ours {ours_ms:8.1f}  torch-topological '
          f'{original_ms:8.1f}  (forward of the code alone, same values)')


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    sys.path[:0] = args.extra_path
    torch.manual_seed(0)
    x = torch.randn(args.batch, args.persons, args.frames, 25, 3)
    y = torch.randint(0, NUM_CLASSES, (args.batch, ))
    print(f'N={args.batch} M={args.persons} T={args.frames} V=25, '
          f'{torch.get_num_threads()} threads, median of {args.reps} '
          f'train steps (ms)')
    time_topology(x, max(args.reps, 5))
    for name, builder in BUILDERS.items():
        root = getattr(args, name)
        if root is None:
            print(f'{name:9s} skipped (no --{name} checkout)')
            continue
        (ours, ours_loss), (original, original_loss) = builder(root)
        steps = [make_step(ours, ours_loss, x, y),
                 make_step(original, original_loss, x, y)]
        times = [[], []]
        for rep in range(args.warmup + args.reps):
            for i, step in enumerate(steps):
                seconds = step()
                if rep >= args.warmup:
                    times[i].append(seconds)
        ours_ms, original_ms = (1e3 * statistics.median(t) for t in times)
        print(f'{name:9s} ours {ours_ms:8.0f}  original {original_ms:8.0f}'
              f'  ours/original {ours_ms / original_ms:.2f}')


if __name__ == '__main__':
    main()
