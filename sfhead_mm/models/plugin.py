"""Find where an auxiliary head attaches in a recognizer, without editing
the backbone's code.

Default rule (mmaction's STGCN/AAGCN; our CTRGCN, InfoGCN, HDGCN, BlockGCN
and ProtoGCN): every module under ``backbone`` that has children named
``gcn`` and ``tcn`` is a block whose ``gcn`` output feeds its ``tcn``; the
head reads ``<block>.gcn``'s output (element 0 when it is a tuple, see
:class:`~sfhead_mm.models.aux_head.AuxHead`). For other backbones,
``attach_to`` names the modules by path patterns (``fnmatch``, e.g.
``'backbone.layers.*.spatial'``).
"""
import contextlib
import fnmatch
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import torch
from torch import nn

__all__ = ['AttachError', 'find_attach_points', 'infer_out_channels',
           'init_children_in_own_stream', 'own_random_stream',
           'select_stages']


_FORK_DEPTH = 0  # own_random_stream() calls in progress


@contextlib.contextmanager
def own_random_stream() -> Iterator[None]:
    """Build or initialise an auxiliary head without touching the global
    torch random stream.

    Inside, the head draws from a copy of the current CPU generator state
    (so it is still determined by the seed); on exit the global state is
    restored. At a given seed the backbone and ``cls_head`` of a recognizer
    with heads are then initialised exactly as those of the plain
    recognizer (the Runner initialises them after the model is built), and
    training sees the same random numbers: per-seed differences between
    variants measure the heads, not a different initialisation. Heads are
    built on the CPU, so only the CPU generator is forked.

    Nested calls share the outermost fork: the heads of one recognizer
    (each of which forks in :meth:`AuxHead.attach`) draw one after the
    other from a single copy, as when the recognizer alone forked.
    """
    global _FORK_DEPTH
    if _FORK_DEPTH:
        yield
        return
    _FORK_DEPTH += 1
    try:
        with torch.random.fork_rng(devices=[]):
            yield
    finally:
        _FORK_DEPTH -= 1


def init_children_in_own_stream(head: nn.Module) -> None:
    """A head's ``init_weights``: run its sub-modules' own
    ``init_weights`` (where they have one) in :func:`own_random_stream`.

    MMEngine's ``BaseModule.init_weights`` calls this on the head after the
    backbone and ``cls_head``; the global random stream is left where the
    plain recognizer's initialisation leaves it.
    """
    def visit(module: nn.Module) -> None:
        for child in module.children():
            if hasattr(child, 'init_weights'):
                child.init_weights()  # initialises its own sub-modules
            else:
                visit(child)

    with own_random_stream():
        visit(head)


class AttachError(ValueError):
    """The plug-in cannot find (or use) the requested attachment points."""


def _gcn_tcn_blocks(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """``(name, block.gcn)`` for each backbone block with gcn and tcn."""
    points = []
    for name, module in model.named_modules():
        if not name.startswith('backbone'):
            continue
        children = dict(module.named_children())
        if 'gcn' in children and 'tcn' in children:
            points.append((f'{name}.gcn', children['gcn']))
    return points


def find_attach_points(
        model: nn.Module,
        attach_to: Optional[Union[str, Sequence[str]]] = None
) -> List[Tuple[str, nn.Module]]:
    """List the modules whose output an auxiliary head reads, in order.

    Args:
        model: the recognizer (module names start with ``backbone.``).
        attach_to: ``None`` for the gcn->tcn block rule, or one or more
            module-path patterns matched with ``fnmatch``.

    Returns:
        list of ``(module_name, module)`` in registration (= forward) order.

    Raises:
        AttachError: nothing matches; the message says what was looked for.
    """
    if attach_to is None:
        points = _gcn_tcn_blocks(model)
        if not points:
            backbone = type(getattr(model, 'backbone', None)).__name__
            raise AttachError(
                f'cannot attach to backbone {backbone}: the plug-in looks '
                'for blocks under `backbone` with children named `gcn` and '
                '`tcn` (the gcn output feeding the tcn, as in mmaction\'s '
                'STGCN/AAGCN and sfhead_mm CTRGCN) and found none. Name the '
                'modules whose output the head should read with '
                "attach_to='backbone.<path>.*.<module>'.")
        return points
    patterns = [attach_to] if isinstance(attach_to, str) else list(attach_to)
    points = [(name, module) for name, module in model.named_modules()
              if any(fnmatch.fnmatchcase(name, p) for p in patterns)]
    if not points:
        sample = [n for n, _ in model.named_modules() if n][:12]
        raise AttachError(
            f'attach_to={patterns} matches no module; module names look '
            f'like {sample}')
    return points


def select_stages(points: Sequence[tuple],
                  stages: Optional[Sequence[int]],
                  field: str = 'stages') -> List[Tuple[int, tuple]]:
    """Keep the 1-based ``stages`` (like mmaction's ``down_stages``).

    Args:
        points: the candidates in forward order, each a tuple whose first
            item is the module name.
        stages: 1-based numbers, or None for all.
        field: the config field, for the error message.

    Returns:
        list of ``(number, point)``, in forward order.

    Raises:
        AttachError: an index outside ``1..len(points)`` or a repeat.
    """
    if stages is None:
        return list(enumerate(points, start=1))
    stages = list(stages)
    bad = [s for s in stages if not isinstance(s, int) or
           not 1 <= s <= len(points)]
    if bad or len(set(stages)) != len(stages):
        raise AttachError(
            f'{field}={stages}: expected distinct block numbers in '
            f'1..{len(points)} (1-based; this model has {len(points)} '
            f'attachment points: {[p[0] for p in points]})')
    return [(s, points[s - 1]) for s in sorted(stages)]


def infer_out_channels(name: str, module: nn.Module) -> int:
    """Output channels of an attachment module, from its layers.

    Uses ``module.out_channels`` when present, else the last Conv/BatchNorm
    inside it.

    Raises:
        AttachError: asking for explicit ``in_channels`` when unknown.
    """
    if isinstance(getattr(module, 'out_channels', None), int):
        return module.out_channels
    for sub in reversed(list(module.modules())):
        if isinstance(sub, (nn.BatchNorm2d, nn.GroupNorm)):
            return sub.num_features if isinstance(
                sub, nn.BatchNorm2d) else sub.num_channels
        if isinstance(sub, nn.Conv2d):
            return sub.out_channels
    raise AttachError(
        f'cannot tell the output channels of {name} '
        f'({type(module).__name__}); give them as in_channels=[...] in the '
        'head config, one per attachment point')
