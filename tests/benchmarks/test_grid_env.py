"""benchmarks/grid_env.sh: a frozen worktree is rebuilt from the commit
pinned for it in frozen_commits.txt (a fresh checkout has no work_dirs/),
and a worktree not pinned yet is made from HEAD and pinned."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / 'benchmarks'


def git(repo: Path, *args: str) -> str:
    return subprocess.run(['git', '-C', str(repo), *args], check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with grid_env.sh and two commits."""
    (tmp_path / 'benchmarks').mkdir()
    shutil.copy(BENCH / 'grid_env.sh', tmp_path / 'benchmarks')
    git(tmp_path, 'init', '-q')
    git(tmp_path, 'config', 'user.email', 't@t')
    git(tmp_path, 'config', 'user.name', 't')
    for i in (1, 2):
        (tmp_path / 'version.txt').write_text(f'{i}\n')
        git(tmp_path, 'add', '-A')
        git(tmp_path, 'commit', '-q', '-m', f'commit {i}')
    return tmp_path


def frozen_head(repo: Path, frozen_dir: str) -> str:
    """Source grid_env.sh with FROZEN=1; the worktree's HEAD commit."""
    subprocess.run(
        ['bash', '-c', 'source benchmarks/grid_env.sh'], cwd=repo,
        check=True, capture_output=True, text=True,
        env={'FROZEN': '1', 'FROZEN_DIR': frozen_dir, 'PY': 'python3',
             'PATH': '/usr/bin:/bin'})
    return git(repo / frozen_dir, 'rev-parse', 'HEAD')


def test_pinned_commit_is_used_not_head(repo: Path):
    first = git(repo, 'rev-parse', 'HEAD~1')
    (repo / 'benchmarks' / 'frozen_commits.txt').write_text(
        '# comment\nwork_dirs/other 0000\n'
        f'work_dirs/frozen_main_grid {first}\n')
    assert frozen_head(repo, 'work_dirs/frozen_main_grid') == first
    assert (repo / 'work_dirs/frozen_main_grid/version.txt').read_text() \
        == '1\n'


def test_unpinned_worktree_is_made_from_head_and_pinned(repo: Path):
    pins = repo / 'benchmarks' / 'frozen_commits.txt'
    pins.write_text('work_dirs/frozen_code 0000\n')
    head = git(repo, 'rev-parse', 'HEAD')
    assert frozen_head(repo, 'work_dirs/frozen_new') == head
    assert pins.read_text().splitlines()[-1] == f'work_dirs/frozen_new {head}'


def test_project_pins_name_commits_of_this_repository():
    """Every pinned commit exists here, so a fresh clone can rebuild it."""
    root = BENCH.parent
    shallow = git(root, 'rev-parse', '--is-shallow-repository') == 'true'
    for line in (BENCH / 'frozen_commits.txt').read_text().splitlines():
        if line.strip() and not line.startswith('#'):
            directory, commit = line.split()
            assert directory.startswith('work_dirs/')
            assert re.fullmatch('[0-9a-f]{40}', commit)
            if not shallow:  # a shallow clone lacks old commits
                assert git(root, 'cat-file', '-t', commit) == 'commit'
