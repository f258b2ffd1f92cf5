"""Reading checkpoints with clear errors, and loading their weights strictly.

MMEngine's ``load_checkpoint`` loads with ``strict=False``: a checkpoint of
another model (ST-GCN weights with a CTR-GCN config, a ``.pth`` without
``state_dict``) leaves the model at its random initialisation, and the only
sign is a "do not match exactly" warning that a correct branch SF-Head
checkpoint also triggers (its ``sf_head.*`` keys are not in the deploy
model). Every tool that evaluates or deploys weights goes through
:func:`load_weights_strictly` instead: training-only heads are matched by
name (:func:`training_only_prefixes`), everything else must fit exactly, and
a mismatch stops with the checkpoint, the config and the first keys.
"""
import os.path as osp
import re
import zipfile
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import torch

from sfhead_mm.compat import (CheckpointReadError, UnsafeCheckpointError,
                              load_checkpoint_weights_only)
from sfhead_mm.engine.launch import ConfigError

__all__ = [
    'CheckpointError', 'checkpoint_state_dict', 'load_weights_strictly',
    'read_checkpoint', 'training_only_prefixes'
]

_SHOW = 3  # keys named in a mismatch message, per kind


class CheckpointError(ConfigError):
    """A checkpoint cannot be read, or does not fit the model of a config."""


def training_only_prefixes(model_cfg: Optional[Mapping]) -> Tuple[str, ...]:
    """State-dict prefixes of the heads that only run in training.

    Asked of each auxiliary head of ``model_cfg`` by
    :func:`sfhead_mm.models.deploy.training_only_prefixes` (the one place,
    shared with deploy export): today branch SF-Heads (``sf_head.`` with
    ``placement='branch'``) and FR-Head (``fr_head.``). Inline SF-Heads
    are part of the predicting model and are not training-only.

    Args:
        model_cfg: the ``model`` field of the (training) config, or None.

    Returns:
        tuple[str]: prefixes such as ``('sf_head.', 'fr_head.')``.
    """
    from sfhead_mm.models.deploy import training_only_prefixes as ask_heads
    return ask_heads(model_cfg)


def read_checkpoint(path: str) -> dict:
    """``torch.load`` (weights only, allow-listed) with one-line errors.

    Args:
        path: a checkpoint written by ``torch.save`` (MMEngine's format).

    Returns:
        dict: the checkpoint.

    Raises:
        CheckpointError: missing, empty, truncated, not a checkpoint (text,
            a plain pickle such as an annotation file, a bare tensor).
        UnsafeCheckpointError: a torch checkpoint that names globals outside
            the allow-list (a possibly malicious file).
    """
    if not osp.isfile(path):
        raise CheckpointError(f'checkpoint file not found: {path}')
    is_zip = zipfile.is_zipfile(path)
    try:  # empty, truncated and non-checkpoint files: CheckpointReadError
        ckpt = load_checkpoint_weights_only(path, map_location='cpu')
    except UnsafeCheckpointError as err:
        if is_zip:
            raise
        raise CheckpointError(
            f'{path} is a plain pickle, not a checkpoint written by '
            'torch.save (an annotation or score file?); it was not loaded '
            'because it names objects outside the checkpoint allow-list') \
            from err
    except CheckpointReadError as err:
        raise CheckpointError(str(err)) from err
    except Exception as err:  # torch's own errors name neither file nor fix
        first = (str(err).splitlines() or [type(err).__name__])[0]
        raise CheckpointError(
            f'checkpoint {path} cannot be read ({type(err).__name__}: '
            f'{first[:200]})') from err
    if not isinstance(ckpt, dict):
        raise CheckpointError(
            f'{path} holds a {type(ckpt).__name__}, not a checkpoint dict '
            "with 'state_dict' (as MMEngine's CheckpointHook saves)")
    return ckpt


def checkpoint_state_dict(ckpt: Mapping, path: str) -> Dict[str, Any]:
    """The model weights of a checkpoint: its ``state_dict``, or the
    checkpoint itself when it is a bare state dict (all tensors).

    Raises:
        CheckpointError: neither form; the message lists the top-level keys.
    """
    state = ckpt.get('state_dict')
    if state is None and ckpt and all(
            isinstance(v, torch.Tensor) for v in ckpt.values()):
        state = ckpt
    if not isinstance(state, Mapping) or not state:
        raise CheckpointError(
            f"checkpoint {path} has no 'state_dict' with model weights "
            f'(top-level keys: {sorted(map(str, ckpt))[:8]})')
    return {re.sub(r'^module\.', '', k): v for k, v in state.items()}


def _first(keys: Sequence[str]) -> str:
    more = f', ... ({len(keys)} in all)' if len(keys) > _SHOW else ''
    return ', '.join(keys[:_SHOW]) + more


def load_weights_strictly(model: torch.nn.Module, checkpoint: str,
                          model_cfg: Optional[Mapping] = None,
                          config: str = 'the config') -> List[str]:
    """Load a checkpoint's weights so that every weight of ``model`` comes
    from it, or refuse.

    Entries under :func:`training_only_prefixes` of ``model_cfg`` (the
    training config's model) may be absent from either side: a branch
    SF-Head checkpoint loads into the deploy model, and a deploy checkpoint
    into the training model (its heads never run at test time). Any other
    missing or unexpected key, a shape mismatch or a non-finite weight is an
    error.

    Args:
        model: the built model (unwrapped).
        checkpoint: path of the checkpoint.
        model_cfg: the training config's ``model`` field.
        config: the config path, for messages.

    Returns:
        list[str]: the training-only entries that were not loaded.

    Raises:
        CheckpointError: naming the checkpoint, the config and the keys.
    """
    state = checkpoint_state_dict(read_checkpoint(checkpoint), checkpoint)
    prefixes = training_only_prefixes(model_cfg)
    expected = model.state_dict()
    missing = [k for k in expected
               if k not in state and not k.startswith(prefixes)]
    unexpected = [k for k in state
                  if k not in expected and not k.startswith(prefixes)]
    fits = {
        k: k in state and tuple(getattr(state[k], 'shape', ())) == tuple(
            expected[k].shape) for k in expected
    }
    reshaped = [
        f'{k} {tuple(getattr(state[k], "shape", ()))} vs '
        f'{tuple(expected[k].shape)}' for k in expected
        if k in state and not fits[k] and not k.startswith(prefixes)
    ]
    if missing or unexpected or reshaped:
        parts = []
        if missing:
            parts.append(f'{len(missing)} weights of the model are missing '
                         f'from it ({_first(missing)})')
        if unexpected:
            parts.append(f'{len(unexpected)} entries are not in the model '
                         f'({_first(unexpected)})')
        if reshaped:
            parts.append(f'{len(reshaped)} have another shape '
                         f'(checkpoint vs model: {_first(reshaped)})')
        raise CheckpointError(
            f'checkpoint {checkpoint} does not fit the model of {config}: '
            + '; '.join(parts) + '. Is it a checkpoint of this config? '
            f'(training-only heads {list(prefixes)} may differ)')
    loaded = {k: v for k, v in state.items() if fits.get(k)}
    bad = [k for k, v in loaded.items()
           if torch.is_tensor(v) and v.is_floating_point()
           and not bool(torch.isfinite(v).all())]
    if bad:
        raise CheckpointError(
            f'checkpoint {checkpoint} has non-finite (NaN/inf) weights in '
            f'{_first(bad)}: it was saved from a diverged training; use an '
            'earlier checkpoint')
    model.load_state_dict(loaded, strict=False)
    return sorted(k for k in set(state) | set(expected) if k not in loaded)
