"""Deploy form of a recognizer: without the heads that only train."""
import copy
from typing import Dict, List, Tuple

from torch import Tensor

__all__ = [
    'ALWAYS_TRAINING_ONLY_PREFIXES', 'TRAINING_ONLY_PREFIXES',
    'deploy_model_cfg', 'strip_training_heads'
]

# State-dict prefixes of SF-Heads that exist only for training, per placement.
TRAINING_ONLY_PREFIXES = {'branch': ('sf_head.', )}
# Heads that are training-only whatever the config: FR-Head never runs in
# predict/tensor mode.
ALWAYS_TRAINING_ONLY_PREFIXES = ('fr_head.', )


def _placement(model_cfg) -> str:
    sf = model_cfg.get('sf_head')
    return None if sf is None else sf.get('placement', 'branch')


def _prefixes(model_cfg) -> Tuple[str, ...]:
    return (TRAINING_ONLY_PREFIXES.get(_placement(model_cfg), ()) +
            ALWAYS_TRAINING_ONLY_PREFIXES)


def strip_training_heads(state_dict: Dict[str, Tensor],
                         model_cfg) -> Tuple[Dict[str, Tensor], List[str]]:
    """Drop the training-only head weights (branch SF-Heads, FR-Head).

    Returns:
        (deploy state dict, names of the removed entries)
    """
    prefixes = _prefixes(model_cfg)
    kept = {k: v for k, v in state_dict.items() if not k.startswith(prefixes)}
    return kept, [k for k in state_dict if k.startswith(prefixes)]


def deploy_model_cfg(model_cfg) -> dict:
    """The plain recognizer config that the deploy checkpoint loads into."""
    cfg = copy.deepcopy(dict(model_cfg))
    cfg.pop('fr_head', None)
    if _placement(cfg) in (None, 'branch'):
        cfg.pop('sf_head', None)
        if cfg.get('type') == 'SFRecognizerGCN':
            cfg['type'] = 'RecognizerGCN'
    return cfg
