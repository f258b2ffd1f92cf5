"""Operator calls in one train step, plain model vs with the heads.

On a GPU at a small per-GPU batch a train step can be bound by how many
operators the CPU launches rather than by the arithmetic, so the number
of operator calls is a machine-independent view of the heads' overhead.
Counts the ``aten::`` calls (nested calls included) that ``torch.profiler``
records in one forward + backward + SGD step of each model of
``tools/benchmark.py``'s comparison (plain, SF-Head branch and inline,
FR-Head), and the calls that make a tensor from Python data
(``aten::lift_fresh``; on a GPU each is a host-to-device copy that waits
for the queued work) or read a tensor's value on the host
(``aten::item``; on a GPU, a wait). Counts do not depend on the input size
or the machine, so a tiny input is used.

    python benchmarks/op_count.py
    python benchmarks/op_count.py --config configs/hdgcn/\\
        hdgcn_1xb64-joint-u64-90e_ntu120-xsub-keypoint-3d.py
    python benchmarks/op_count.py --cfg-options model.sf_head.gate_conv=conv2d
"""
import argparse
import logging
import os.path as osp
import sys
from collections import Counter
from typing import Callable, Dict, Optional

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import torch  # noqa: E402
from mmaction.utils import register_all_modules  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402

from tools.benchmark import (DEFAULT_CONFIG, build,  # noqa: E402
                             config_text, head_configs, inline_variant,
                             synthetic_batch, train_step)

COUNTED = ('aten::lift_fresh', 'aten::item')


def operator_calls(step: Callable[[], None]) -> Counter:
    """``aten::`` calls of one ``step()`` (run once untraced first, so that
    lazily created state, e.g. optimizer buffers, is not counted)."""
    step()
    with torch.profiler.profile(
            activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        step()
    return Counter(event.name for event in prof.events()
                   if event.name.startswith('aten::'))


def count_variants(config: str, batch: int = 2, frames: int = 8,
                   options: Optional[dict] = None) -> Dict[str, Counter]:
    """Operator calls of a train step of each variant of ``config``
    (``options``: ``--cfg-options`` merged into it and its twins)."""
    variants = head_configs(config, options)
    models = dict(plain=variants['plain'], sf_branch=variants['sf'],
                  sf_inline=inline_variant(variants['sf']))
    if 'fr' in variants:
        models['fr'] = variants['fr']
    num_classes = variants['plain']['cls_head']['num_classes']
    counts = {}
    for name, model_cfg in models.items():
        model = build(model_cfg)
        inputs, samples = synthetic_batch(model, num_classes, batch, 2,
                                          frames)
        counts[name] = operator_calls(train_step(model, inputs, samples))
    return counts


def table(counts: Dict[str, Counter]) -> str:
    plain = sum(counts['plain'].values())
    lines = ['| model | aten calls | ratio to plain | lift_fresh | item |',
             '|---|---|---|---|---|']
    for name, calls in counts.items():
        total = sum(calls.values())
        lines.append(f'| {name} | {total:,} | {total / plain:.2f} | '
                     + ' | '.join(str(calls[c]) for c in COUNTED) + ' |')
    return '\n'.join(lines)


def main(argv=None) -> Dict[str, Counter]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config fields of the config and its '
                        'twins, e.g. model.sf_head.gate_conv=conv2d')
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    register_all_modules()
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    counts = count_variants(args.config, options=args.cfg_options)
    print(config_text(args.config, args.cfg_options)
          + f'; one train step (forward + backward + SGD); torch '
          f'{torch.__version__}\n')
    print(table(counts))
    return counts


if __name__ == '__main__':
    main()
