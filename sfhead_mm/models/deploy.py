"""Deploy form of a recognizer: without the auxiliary heads that only train.

Which heads those are is asked of each head
(:attr:`~sfhead_mm.models.aux_head.AuxHead.training_only`): branch SF-Heads
and FR-Head only train, inline SF-Heads are part of the predicting model.
:func:`training_only_prefixes` is the one place that asks; deploy export
and strict checkpoint loading both use it.
"""
import copy
from typing import Dict, List, Mapping, Optional, Tuple

from mmaction.registry import MODELS
from torch import Tensor

from .aux_head import NAMED_HEADS, aux_head_cfgs
from .plugin import own_random_stream

__all__ = [
    'deploy_model_cfg', 'strip_training_heads', 'training_only_prefixes'
]


def training_only_prefixes(model_cfg: Optional[Mapping]) -> Tuple[str, ...]:
    """State-dict prefixes (``'sf_head.'``, ...) of the auxiliary heads of a
    recognizer config whose ``training_only`` is True.

    Each head is built from its config alone (not attached: no backbone
    needed, nothing drawn from the global random stream) and asked.

    Args:
        model_cfg: the ``model`` field of the training config; None asks
            each named head (``sf_head``, ``fr_head``) at its defaults.

    Returns:
        tuple[str]: e.g. ``('sf_head.', 'fr_head.')``.
    """
    if model_cfg is None:
        model_cfg = {name: {} for name, _ in NAMED_HEADS}
    prefixes = []
    for name, cfg in aux_head_cfgs(model_cfg):
        with own_random_stream():
            head = MODELS.build(copy.deepcopy(cfg))
        if head.training_only:
            prefixes.append(f'{name}.')
    return tuple(prefixes)


def strip_training_heads(state_dict: Dict[str, Tensor],
                         model_cfg) -> Tuple[Dict[str, Tensor], List[str]]:
    """Drop the training-only head weights (branch SF-Heads, FR-Head).

    Returns:
        (deploy state dict, names of the removed entries)
    """
    prefixes = training_only_prefixes(model_cfg)
    kept = {k: v for k, v in state_dict.items() if not k.startswith(prefixes)}
    return kept, [k for k in state_dict if k.startswith(prefixes)]


def deploy_model_cfg(model_cfg) -> dict:
    """The recognizer config that the deploy checkpoint loads into: without
    the training-only heads; the plain ``RecognizerGCN`` when none is left.
    """
    cfg = copy.deepcopy(dict(model_cfg))
    dropped = {p[:-1] for p in training_only_prefixes(cfg)}
    for name, _ in NAMED_HEADS:
        if name in dropped or (name in cfg and cfg[name] is None):
            cfg.pop(name)
    listed = aux_head_cfgs(dict(aux_heads=cfg.pop('aux_heads', None)))
    kept = [dict(head, name=name) for name, head in listed
            if name not in dropped]  # names kept: they are the prefixes
    if kept:
        cfg['aux_heads'] = kept
    if not aux_head_cfgs(cfg) and cfg.get('type') == 'SFRecognizerGCN':
        cfg['type'] = 'RecognizerGCN'
    return cfg
