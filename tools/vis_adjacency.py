"""Heat map of a CTR-GCN layer's learned adjacency for one sample (Fig. 4).

Plots the channel-averaged refined topology ``conv4(rel) * alpha + PA`` of
the chosen block and subset, for one test sample, with joint names.

Example:
    python tools/vis_adjacency.py CONFIG CKPT --block 1 --subset 1 \
        --sample 0 --out adjacency.png
"""
import argparse
import sys

import matplotlib

matplotlib.use('Agg')  # headless
import matplotlib.pyplot as plt  # noqa: E402
import sfhead_mm  # noqa: E402,F401
import torch  # noqa: E402
from sfhead_mm.apis import iter_batches, load_recognizer  # noqa: E402
from sfhead_mm.datasets.joint_names import joint_names_for  # noqa: E402
from sfhead_mm.engine.launch import USER_ERRORS  # noqa: E402
from sfhead_mm.fileio import save_figure_atomic  # noqa: E402


@torch.no_grad()
def learned_adjacency(model, block: int, subset: int,
                      sample: int) -> torch.Tensor:
    """(V, V) channel-mean refined topology of ``block`` (1-based)."""
    backbone = model.backbone
    if type(backbone).__name__ != 'CTRGCN':
        raise ValueError(f'vis_adjacency needs a CTRGCN backbone, the config '
                         f'has {type(backbone).__name__}')
    if not 1 <= block <= len(backbone.gcn):
        raise ValueError(f'--block {block}: expected 1..{len(backbone.gcn)}')
    gcn = backbone.gcn[block - 1].gcn
    if not 0 <= subset < gcn.num_subsets:
        raise ValueError(f'--subset {subset}: expected 0..'
                         f'{gcn.num_subsets - 1}')
    seen = 0
    for inputs, _ in iter_batches(model, 'test_dataloader'):
        if seen + len(inputs) > sample:
            one = inputs[sample - seen:sample - seen + 1, :1]
            break
        seen += len(inputs)
    else:
        raise ValueError(f'--sample {sample}: the test set has {seen}')
    captured = {}

    def keep_input(module, args, output) -> None:  # None: output unchanged
        captured['x'] = args[0]

    handle = gcn.register_forward_hook(keep_input)
    model(one, mode='tensor')
    handle.remove()
    topology = gcn.ctrgc.topology(captured['x'], gcn.PA, gcn.alpha)
    return topology[0, subset].mean(dim=0)  # first person, (V, V)


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog='example: python '
                                     'tools/vis_adjacency.py CONFIG CKPT '
                                     '--block 1 --out adjacency.png')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--block', type=int, default=1, help='1-based')
    parser.add_argument('--subset', type=int, default=1,
                        help='0 self, 1 inward, 2 outward (spatial mode)')
    parser.add_argument('--sample', type=int, default=0,
                        help='index in the test set')
    parser.add_argument('--out', default='adjacency.png')
    args = parser.parse_args(argv)
    model = load_recognizer(args.config, args.checkpoint)
    adj = learned_adjacency(model, args.block, args.subset, args.sample)
    names = joint_names_for(adj.shape[0])
    fig, ax = plt.subplots(figsize=(8, 7))
    im = ax.imshow(adj.numpy(), cmap='viridis')
    ax.set_xticks(range(len(names)))
    ax.set_yticks(range(len(names)))
    ax.set_xticklabels(names, rotation=90, fontsize=7)
    ax.set_yticklabels(names, fontsize=7)
    ax.set_xlabel('source joint v')
    ax.set_ylabel('aggregating joint u')
    ax.set_title(f'learned adjacency, block {args.block}, subset '
                 f'{args.subset}, test sample {args.sample}')
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    save_figure_atomic(fig, args.out)
    print(f'adjacency ({adj.shape[0]} joints) -> {args.out}')
    return args.out


if __name__ == '__main__':
    try:
        main()
    except USER_ERRORS + (ValueError, ) as err:
        sys.exit(f'error: {err}')
