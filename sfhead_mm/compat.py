"""Repairs for today's mm stack, applied in memory when ``sfhead_mm`` is imported.

Nothing here edits site-packages. Each repair is idempotent and has a test
that fails without it (``tests/test_compat.py``):

1. ``mmaction2==1.2.0``'s wheel lacks ``mmaction.models.localizers.drn``, so
   ``import mmaction.models`` fails. We provide a placeholder package only
   when the real one is absent; its ``DRN`` raises if anyone builds it.
2. ``torch>=2.6`` loads checkpoints with ``weights_only=True`` and MMEngine
   checkpoints hold ``HistoryBuffer`` and numpy objects. We allow-list exactly
   those globals (never a blanket ``weights_only=False``) and register a local
   checkpoint loader that refuses anything else with a clear message.
3. MMEngine's ``pytorch`` launcher assumes CUDA. :func:`setup_distributed`
   creates a gloo process group and a DDP wrapper config without
   ``device_ids`` when CUDA is absent, so one ``dist_train.sh`` runs on a
   laptop (gloo) and a GPU cluster (NCCL).
4. ``mmaction2==1.2.0`` imports its VindLU (video-text) models whenever
   ``transformers>=4.28`` is installed, and they import names that
   ``transformers`` 5 no longer exports from ``transformers.modeling_utils``
   (seen with 5.17 on a CUDA image): ``import mmaction.models`` fails. With
   ``transformers`` 5 or later we tell mmaction to register its VindLU
   placeholders instead (``WITH_MULTIMODAL = False``); skeleton models do
   not use VindLU.
"""
import importlib.util
import os
import os.path as osp
import pickle
import sys
import types
import zipfile
from typing import Any, List, Optional

import torch

__all__ = [
    'install_missing_drn', 'register_safe_checkpoint_globals',
    'register_checkpoint_loader', 'setup_distributed', 'UnsafeCheckpointError',
    'CheckpointReadError', 'skip_vindlu_with_transformers5'
]


# --------------------------------------------------------------------------
# 1. mmaction.models.localizers.drn
# --------------------------------------------------------------------------
def _mmaction_has_drn() -> bool:
    """Whether the installed mmaction ships ``models/localizers/drn``.

    Checked on disk: ``find_spec`` on the submodule would import
    ``mmaction.models.localizers`` and fail on the very import we repair.
    """
    spec = importlib.util.find_spec('mmaction')
    if spec is None or not spec.submodule_search_locations:
        return True  # no mmaction at all: nothing to repair
    root = list(spec.submodule_search_locations)[0]
    return osp.isdir(osp.join(root, 'models', 'localizers', 'drn'))


def install_missing_drn() -> bool:
    """Provide ``mmaction.models.localizers.drn`` when the wheel lacks it.

    Returns:
        bool: True if the placeholder was installed, False if the real
        package exists (or the placeholder is already in place).
    """
    name = 'mmaction.models.localizers.drn'
    if name in sys.modules or _mmaction_has_drn():
        return False

    class DRN(torch.nn.Module):
        """Placeholder for mmaction's DRN localizer (absent from the wheel)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError(
                'DRN is not available: the mmaction2 1.2.0 wheel does not '
                'ship mmaction/models/localizers/drn, and sfhead_mm only '
                'provides a placeholder so that `import mmaction.models` '
                'works. Install mmaction2 from source to use DRN.')

    package = types.ModuleType(name)
    package.__path__ = []  # mark as a package
    package.__doc__ = 'Placeholder installed by sfhead_mm.compat.'
    module = types.ModuleType(name + '.drn')
    DRN.__module__ = module.__name__
    module.DRN = DRN
    package.drn = module
    package.DRN = DRN
    sys.modules[name] = package
    sys.modules[name + '.drn'] = module
    # Registered lazily by mmaction under the same name; register here so
    # that `MODELS.build(dict(type='DRN'))` reaches the clear error above.
    from mmaction.registry import MODELS
    if 'DRN' not in MODELS.module_dict:
        MODELS.register_module(name='DRN', module=DRN)
    return True


# --------------------------------------------------------------------------
# 2. weights_only checkpoint loading
# --------------------------------------------------------------------------
class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint names a global outside the allow-list."""


class CheckpointReadError(ValueError):
    """A checkpoint file is empty, truncated or not a checkpoint."""


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` restricted to HistoryBuffer's statistics methods.

    ``HistoryBuffer`` pickles its statistics methods (``min``, ``mean``, ...)
    as ``getattr(HistoryBuffer, 'mean')`` under pickle protocol 2. We
    allow-list ``builtins.getattr`` only through this function, so a
    checkpoint cannot use it to reach any other attribute.
    """
    from mmengine.logging import HistoryBuffer
    if obj is HistoryBuffer and not name.startswith('_') and callable(
            getattr(HistoryBuffer, name, None)):
        return getattr(HistoryBuffer, name)
    raise UnsafeCheckpointError(
        f'checkpoint calls getattr({obj!r}, {name!r}); only public methods '
        'of mmengine HistoryBuffer are allowed')


def safe_checkpoint_globals() -> List[Any]:
    """The globals an MMEngine checkpoint may name, and nothing else."""
    import numpy as np
    from mmengine.logging import HistoryBuffer
    try:  # numpy >= 2
        from numpy._core import multiarray
        prefix = 'numpy._core.multiarray'
    except ImportError:  # numpy 1.x
        from numpy.core import multiarray
        prefix = 'numpy.core.multiarray'
    safe: List[Any] = [
        HistoryBuffer, np.ndarray, np.dtype,
        (multiarray._reconstruct, f'{prefix}._reconstruct'),
        (multiarray.scalar, f'{prefix}.scalar'),
        (_history_buffer_getattr, 'builtins.getattr'),
    ]
    # numpy's per-dtype classes (numpy.dtypes.Float64DType, ...), numpy>=1.25
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        safe += [
            getattr(dtypes, n) for n in dir(dtypes)
            if n.endswith('DType') and isinstance(getattr(dtypes, n), type)
        ]
    return safe


def register_safe_checkpoint_globals() -> bool:
    """Allow-list MMEngine's checkpoint globals for ``weights_only`` loads.

    Returns:
        bool: False on torch < 2.4, which has no allow-list API (and loads
        with ``weights_only=False`` by default anyway).
    """
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is None:
        return False
    add(safe_checkpoint_globals())
    return True


def _check_checkpoint_file(filename: str) -> None:
    """Refuse, naming the file, what torch would fail on obscurely: an
    empty file, a truncated zip archive, a file that is neither the zip
    archive ``torch.save`` writes nor a (legacy) pickle."""
    size = osp.getsize(filename)
    if size == 0:
        raise CheckpointReadError(
            f'checkpoint {filename} is empty (0 bytes): an interrupted save? '
            'Use an earlier checkpoint.')
    with open(filename, 'rb') as f:
        head = f.read(4)
    is_zip = zipfile.is_zipfile(filename)
    if head.startswith(b'PK') and not is_zip:
        raise CheckpointReadError(
            f'checkpoint {filename} is truncated ({size} bytes, the zip '
            'archive that torch.save writes is incomplete): an interrupted '
            'save or copy? Use an earlier checkpoint.')
    if not is_zip and not head.startswith(b'\x80'):
        raise CheckpointReadError(
            f'{filename} is not a PyTorch checkpoint (neither the zip '
            f'archive torch.save writes nor a pickle; it starts with '
            f'{head!r})')


def load_checkpoint_weights_only(filename: str,
                                 map_location: Optional[Any] = None) -> Any:
    """``torch.load`` with ``weights_only=True`` and a clear refusal message.

    Raises:
        UnsafeCheckpointError: the file names a global outside the
            allow-list (for example ``os.system``).
    """
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file not found: {filename}')
    _check_checkpoint_file(filename)
    try:
        return torch.load(filename, map_location=map_location,
                          weights_only=True)
    except (EOFError, RuntimeError, KeyError, IndexError) as err:
        # torch's message names neither the file nor what to do
        first = (str(err).splitlines() or [type(err).__name__])[0]
        raise CheckpointReadError(
            f'checkpoint {filename} cannot be read (damaged or not a '
            f'torch.save file? {type(err).__name__}: {first[:160]})'
        ) from err
    except pickle.UnpicklingError as err:
        if isinstance(err, UnsafeCheckpointError):
            raise
        raise UnsafeCheckpointError(
            f'refusing to load checkpoint {filename}: it contains an object '
            'outside sfhead_mm\'s allow-list of safe checkpoint globals '
            '(MMEngine HistoryBuffer, numpy arrays/dtypes/scalars). '
            f'torch said: {str(err).splitlines()[0]} ... Only load it with '
            'weights_only=False if you trust its source.') from err


def register_checkpoint_loader() -> bool:
    """Route MMEngine's local-file checkpoint loading through our loader.

    MMEngine's ``CheckpointLoader`` is the documented extension point for
    checkpoint schemes; we re-register the local scheme (prefix ``''``).
    """
    if getattr(torch.serialization, 'add_safe_globals', None) is None:
        return False
    from mmengine.runner.checkpoint import CheckpointLoader

    def load_from_local(filename: str, map_location: Any = None) -> Any:
        return load_checkpoint_weights_only(
            osp.expanduser(filename), map_location)

    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)
    return True


# --------------------------------------------------------------------------
# 3. distributed training without CUDA
# --------------------------------------------------------------------------
def setup_distributed(cfg: Any, launcher: str) -> Optional[str]:
    """Prepare ``cfg`` for the launcher before the Runner is built.

    On a machine with CUDA nothing changes (MMEngine uses NCCL). Without CUDA
    and with the ``pytorch`` launcher, create the gloo process group (so the
    Runner does not call ``torch.cuda.set_device``) and make DDP wrap the
    model without ``device_ids``.

    Args:
        cfg (mmengine.Config): the config the Runner will be built from.
        launcher (str): ``none``, ``pytorch``, ``slurm`` or ``mpi``.

    Returns:
        str | None: the backend initialised here, or None.
    """
    if launcher != 'pytorch' or torch.cuda.is_available():
        return None
    import torch.distributed as dist
    if not dist.is_initialized():
        dist.init_process_group(
            backend='gloo',
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']))
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper['device_ids'] = None
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters',
                       cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg = wrapper
    return 'gloo'


# --------------------------------------------------------------------------
# 4. mmaction's VindLU vs transformers 5
# --------------------------------------------------------------------------
def skip_vindlu_with_transformers5() -> bool:
    """Make mmaction register VindLU placeholders instead of importing
    VindLU when ``transformers`` 5 or later is installed (see 4. above).

    Must run before ``mmaction.models`` is imported; returns whether it
    changed mmaction's ``WITH_MULTIMODAL`` flag.
    """
    from importlib.metadata import PackageNotFoundError, version
    try:
        major = version('transformers').split('.')[0]
    except PackageNotFoundError:
        return False
    if not major.isdigit() or int(major) < 5:
        return False
    if 'mmaction.models' in sys.modules:
        return False  # too late to change what mmaction imported
    if importlib.util.find_spec('mmaction') is None:
        return False
    from mmaction.utils import dependency
    if not dependency.WITH_MULTIMODAL:
        return False
    dependency.WITH_MULTIMODAL = False
    return True


def apply() -> None:
    """Apply the import-time repairs (1, 2 and 4). Safe to call
    repeatedly."""
    skip_vindlu_with_transformers5()
    install_missing_drn()
    register_safe_checkpoint_globals()
    register_checkpoint_loader()


apply()
