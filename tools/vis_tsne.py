"""t-SNE of pooled backbone features for chosen classes (the paper's Fig. 5).

Example:
    python tools/vis_tsne.py CONFIG CKPT --classes 0 1 2 3 --out tsne.png
    python tools/vis_tsne.py CONFIG CKPT --dataset ntu120 \
        --classes "reading" "writing" "typing on a keyboard"
"""
import argparse
import sys
from typing import List, Sequence

import matplotlib

matplotlib.use('Agg')  # headless
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import sfhead_mm  # noqa: E402,F401
import torch  # noqa: E402
from sfhead_mm.apis import iter_batches, load_recognizer  # noqa: E402
from sfhead_mm.datasets.class_names import get_class_names  # noqa: E402
from sfhead_mm.engine.launch import USER_ERRORS  # noqa: E402
from sfhead_mm.fileio import save_figure_atomic  # noqa: E402


def resolve_classes(classes: Sequence[str], names: List[str]) -> List[int]:
    """Class names or indices -> indices; unknown names are an error."""
    ids = []
    for c in classes:
        if c.isdigit() and int(c) < len(names):
            ids.append(int(c))
        elif c in names:
            ids.append(names.index(c))
        else:
            raise ValueError(f'--classes: unknown class {c!r}; expected an '
                             f'index 0..{len(names) - 1} or one of the '
                             f'class names ({names[:5]}...)')
    return ids


@torch.no_grad()
def pooled_features(model, classes: List[int], per_class: int):
    """(N, C) backbone features (mean over persons, frames, joints)."""
    feats, labels = [], []
    counts = {c: 0 for c in classes}
    for inputs, samples in iter_batches(model, 'test_dataloader'):
        y = torch.stack([s.gt_label for s in samples]).view(-1)
        keep = [i for i, label in enumerate(y.tolist())
                if label in counts and counts[label] < per_class]
        if not keep:
            continue
        x = model(inputs[keep], mode='tensor')  # (n*clips, M, C, T, V)
        x = x.reshape(len(keep), -1, *x.shape[2:]).mean(dim=(1, 3, 4))
        feats.append(x.numpy())
        for i in keep:
            counts[int(y[i])] += 1
            labels.append(int(y[i]))
        if all(v >= per_class for v in counts.values()):
            break
    if not labels:
        raise ValueError('no test samples of the chosen classes')
    return np.concatenate(feats), np.array(labels)


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog='example: python '
                                     'tools/vis_tsne.py CONFIG CKPT '
                                     '--classes 0 1 --out tsne.png')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--classes', nargs='+', required=True,
                        help='class indices or names')
    parser.add_argument('--dataset', help='class names: ntu60, ntu120, '
                        'pku-mmd, nw-ucla (default: indices)')
    parser.add_argument('--per-class', type=int, default=100)
    parser.add_argument('--perplexity', type=float, default=30.0)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default='tsne.png')
    args = parser.parse_args(argv)
    from sklearn.manifold import TSNE
    model = load_recognizer(args.config, args.checkpoint)
    num_classes = model.cfg.model.cls_head.num_classes
    names = get_class_names(args.dataset) if args.dataset else [
        str(i) for i in range(num_classes)]
    classes = resolve_classes(args.classes, names)
    feats, labels = pooled_features(model, classes, args.per_class)
    perplexity = min(args.perplexity, max(1.0, (len(feats) - 1) / 3))
    emb = TSNE(n_components=2, perplexity=perplexity, init='pca',
               random_state=args.seed).fit_transform(feats)
    fig, ax = plt.subplots(figsize=(6, 5))
    for c in classes:
        m = labels == c
        ax.scatter(emb[m, 0], emb[m, 1], s=12, label=f'{names[c]} ({m.sum()})')
    ax.set_title(f't-SNE of pooled backbone features ({len(feats)} samples)')
    ax.set_xlabel('t-SNE 1')
    ax.set_ylabel('t-SNE 2')
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure_atomic(fig, args.out)
    print(f't-SNE of {len(feats)} samples -> {args.out}')
    return args.out


if __name__ == '__main__':
    try:
        main()
    except USER_ERRORS + (ValueError, KeyError) as err:
        sys.exit(f'error: {err}')
