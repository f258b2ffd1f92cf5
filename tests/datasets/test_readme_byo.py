"""README "Bring your own skeleton": its commands and config, run as written
(in a scratch folder that links the repo's data_prep/ and tools/), with 1
training epoch instead of 20."""
import os
import re
import subprocess

import pytest

from tests.conftest import REPO, subprocess_env

SECTION = '## Bring your own skeleton'
# OMP_NUM_THREADS=1 in the subprocesses: on a busy 2-core machine torch's
# second thread makes these tiny models several times slower, not faster.


def readme_blocks():
    """The section's fenced blocks as (language, text), in order."""
    text = (REPO / 'README.md').read_text()
    assert SECTION in text, f'README.md has no "{SECTION}" section'
    section = text.split(SECTION, 1)[1]
    section = re.split(r'\n## ', section, maxsplit=1)[0]
    return re.findall(r'```(\w+)\n(.*?)```', section, flags=re.S)


def shorten(text: str) -> str:
    """20 epochs -> 1 (and the checkpoint name with them)."""
    for old, new in (('max_epochs=20, val_interval=5',
                      'max_epochs=1, val_interval=1'),
                     ('T_max=20', 'T_max=1'), ('epoch_20.pth',
                                               'epoch_1.pth')):
        text = text.replace(old, new)
    return text


def test_readme_example_runs(tmp_path):
    blocks = readme_blocks()
    assert [lang for lang, _ in blocks] == ['bash', 'bash', 'python', 'bash']
    assert 'max_epochs=20, val_interval=5' in blocks[2][1]
    assert 'epoch_20.pth' in blocks[3][1]
    for name in ('data_prep', 'tools'):
        os.symlink(REPO / name, tmp_path / name)
    env = dict(subprocess_env(), OMP_NUM_THREADS='1')
    for lang, text in blocks:
        text = shorten(text)
        if lang == 'python':
            path = tmp_path / text.splitlines()[0].lstrip('# ').strip()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            continue
        result = subprocess.run(['bash', '-euo', 'pipefail', '-c', text],
                                cwd=tmp_path, env=env, capture_output=True,
                                text=True, timeout=300)
        log = result.stdout + result.stderr
        assert result.returncode == 0, f'{text}\n---\n{log[-4000:]}'
        if 'from_arrays.py' in text:
            assert 'train: 30 samples, 2 classes' in log
            assert 'val: 10 samples, 2 classes' in log
            assert '7 joints x 3 channels' in log
    work = tmp_path / 'work_dirs' / 'ctrgcn_my-skeleton'
    assert (work / 'epoch_1.pth').is_file()
    assert 'acc/top1' in log  # the test command printed its metric


@pytest.mark.parametrize('name', ['GenSkeFeatLayout', 'JointToBoneLayout',
                                  'CheckKeypointShape', 'CenterOnJoint',
                                  'RandomRotateScale3D', 'MinMaxNormalize',
                                  'RepeatSampleFrames'])
def test_readme_lists_registered_transforms(name):
    from mmaction.registry import TRANSFORMS
    text = (REPO / 'README.md').read_text().split(SECTION, 1)[1]
    assert f'`{name}`' in text
    assert TRANSFORMS.get(name) is not None
