"""Each repair in sfhead_mm.compat, and proof that the stack needs it."""
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

import sfhead_mm  # noqa: F401
from sfhead_mm import compat

PY = sys.executable


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([PY, '-W', 'ignore', '-c', code],
                          capture_output=True, text=True, timeout=300)


# 1. mmaction.models.localizers.drn -------------------------------------
def test_mmaction_models_import_fails_without_repair():
    result = run_python('import mmaction.models')
    assert result.returncode != 0
    assert 'mmaction.models.localizers.drn' in result.stderr


def test_mmaction_models_import_works_with_repair():
    result = run_python('import sfhead_mm, mmaction.models; '
                        'from mmaction.models import RecognizerGCN; '
                        'print("ok")')
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith('ok')


def test_build_recognizer_gcn_with_stgcn():
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    register_all_modules()
    model = MODELS.build(
        dict(type='RecognizerGCN',
             backbone=dict(type='STGCN',
                           graph_cfg=dict(layout='nturgb+d',
                                          mode='stgcn_spatial')),
             cls_head=dict(type='GCNHead', num_classes=60,
                           in_channels=256)))
    assert type(model).__name__ == 'RecognizerGCN'
    assert type(model.backbone).__name__ == 'STGCN'


def test_placeholder_drn_raises_clear_error():
    from mmaction.registry import MODELS
    with pytest.raises(RuntimeError, match='mmaction2 1.2.0 wheel'):
        MODELS.build(dict(type='DRN'))


def test_drn_repair_is_idempotent():
    assert compat.install_missing_drn() is False


# 2. weights_only checkpoints -------------------------------------------
def mmengine_like_checkpoint(path) -> None:
    """What MMEngine puts in a checkpoint besides tensors."""
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('compat_test')
    hub.update_scalar('train/loss', np.float64(1.5))
    hub.update_scalar('train/loss', 0.5)
    torch.save(
        dict(meta=dict(epoch=2, seed=np.int64(0),
                       dataset_meta=dict(arr=np.arange(3, dtype=np.int32))),
             state_dict=dict(w=torch.ones(2)),
             message_hub=hub.state_dict()), path)


def test_mmengine_checkpoint_refused_by_plain_torch(tmp_path):
    path = tmp_path / 'ckpt.pth'
    mmengine_like_checkpoint(path)
    result = run_python(
        f'import torch; torch.load({str(path)!r}, weights_only=True)')
    assert result.returncode != 0
    assert 'HistoryBuffer' in result.stderr or 'numpy' in result.stderr


def test_mmengine_checkpoint_loads_with_allow_list(tmp_path):
    path = tmp_path / 'ckpt.pth'
    mmengine_like_checkpoint(path)
    ckpt = torch.load(path, weights_only=True)
    buffer = ckpt['message_hub']['log_scalars']['train/loss']
    assert buffer.mean() == pytest.approx(1.0)
    assert ckpt['meta']['dataset_meta']['arr'].tolist() == [0, 1, 2]
    # and through MMEngine's loader, which the Runner uses for resume
    from mmengine.runner.checkpoint import _load_checkpoint
    assert _load_checkpoint(str(path))['meta']['epoch'] == 2


class _SystemCall:
    """Pickles as a call to os.system (a crafted, untrusted checkpoint)."""

    def __init__(self, cmd: str) -> None:
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd, ))


def test_crafted_checkpoint_is_refused(tmp_path):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, meta=_SystemCall(f'touch {marker}')),
               path)
    from mmengine.runner.checkpoint import _load_checkpoint
    with pytest.raises(compat.UnsafeCheckpointError) as err:
        _load_checkpoint(str(path))
    message = str(err.value)
    assert str(path) in message and 'allow-list' in message
    assert not marker.exists()


def test_getattr_is_restricted_to_history_buffer(tmp_path):
    """builtins.getattr is allow-listed only as HistoryBuffer method lookup."""

    class _GetAttr:

        def __reduce__(self):
            # np.ndarray itself is allow-listed; its methods are not
            return (getattr, (np.ndarray, 'tofile'))

    path = tmp_path / 'getattr.pth'
    torch.save(dict(meta=_GetAttr()), path)
    with pytest.raises(pickle.UnpicklingError, match='getattr'):
        compat.load_checkpoint_weights_only(str(path))


def test_missing_checkpoint_names_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        compat.load_checkpoint_weights_only(str(tmp_path / 'nope.pth'))


# 3. distributed without CUDA --------------------------------------------
@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU path')
def test_mmengine_pytorch_launcher_fails_on_cpu():
    env = dict(os.environ, RANK='0', LOCAL_RANK='0', WORLD_SIZE='1',
               MASTER_ADDR='127.0.0.1', MASTER_PORT='29611')
    result = subprocess.run(
        [PY, '-W', 'ignore', '-c',
         'from mmengine.dist import init_dist; init_dist("pytorch")'],
        capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode != 0


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU path')
def test_setup_distributed_uses_gloo_and_no_device_ids():
    code = ('import sfhead_mm, torch.distributed as dist\n'
            'from mmengine.config import Config\n'
            'from sfhead_mm.compat import setup_distributed\n'
            'cfg = Config(dict(model_wrapper_cfg=None))\n'
            'print(setup_distributed(cfg, "pytorch"), dist.get_backend(),\n'
            '      cfg.model_wrapper_cfg["device_ids"])\n'
            'print(setup_distributed(Config(), "none"))')
    env = dict(os.environ, RANK='0', LOCAL_RANK='0', WORLD_SIZE='1',
               MASTER_ADDR='127.0.0.1', MASTER_PORT='29612')
    result = subprocess.run([PY, '-W', 'ignore', '-c', code],
                            capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['gloo', 'gloo', 'None', 'None']


def test_setuptools_in_range_for_mmengine_base_lookup():
    """`mmaction::` config lookup needs pkg_resources (setuptools < 81)."""
    from importlib.metadata import version
    major = int(version('setuptools').split('.')[0])
    assert 77 <= major < 81
    import pkg_resources  # noqa: F401


# 4. mmaction's VindLU vs transformers 5 ---------------------------------
def fake_transformers(root, version: str) -> dict:
    """A ``transformers`` of ``version`` whose ``modeling_utils`` lacks the
    names VindLU imports (as in transformers 5); the environment that puts
    it on the path."""
    package = root / 'transformers'
    package.mkdir()
    (package / '__init__.py').write_text(f'__version__ = "{version}"\n')
    (package / 'modeling_utils.py').write_text('class PreTrainedModel:\n'
                                               '    pass\n')
    info = root / f'transformers-{version}.dist-info'
    info.mkdir()
    (info / 'METADATA').write_text('Metadata-Version: 2.1\n'
                                   f'Name: transformers\nVersion: {version}\n')
    return dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(root)] + sys.path))


VINDLU_CHECK = (
    'import sfhead_mm, mmaction.models\n'
    'from mmaction.registry import MODELS\n'
    'from mmaction.utils import dependency\n'
    'print(dependency.WITH_MULTIMODAL, MODELS.get("VindLUVQA").__name__)\n')


def test_transformers5_breaks_mmaction_models_without_repair(tmp_path):
    """The trap: a transformers that mmaction takes for 4.x but that lacks
    the names (what 5.x is, untreated) fails ``import mmaction.models``."""
    env = fake_transformers(tmp_path, '4.99.0')
    result = subprocess.run([PY, '-W', 'ignore', '-c', VINDLU_CHECK],
                            capture_output=True, text=True, env=env,
                            timeout=300)
    assert result.returncode != 0
    assert 'transformers' in result.stderr


def test_transformers5_gets_vindlu_placeholders(tmp_path):
    env = fake_transformers(tmp_path, '5.17.0')
    result = subprocess.run([PY, '-W', 'ignore', '-c', VINDLU_CHECK],
                            capture_output=True, text=True, env=env,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    # the flag is off and VindLU is mmaction's placeholder, which asks the
    # user to install transformers if anyone builds it
    assert result.stdout.split() == ['False', 'ask_install']


def test_vindlu_repair_leaves_other_environments_alone():
    # no transformers here (or one below 5): nothing to change
    assert compat.skip_vindlu_with_transformers5() is False
