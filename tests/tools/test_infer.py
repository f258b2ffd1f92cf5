"""tools/infer.py on a file of each supported format."""
import json
import pickle
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO, subprocess_env
from tests.data_prep.test_ntu import assemble, moving, person, write_skeleton

SHARED_UCLA = REPO.parent / 'shared' / 'data' / 'nw_ucla'


def run_infer(config, ckpt, path, *extra):
    return subprocess.run(
        [sys.executable, 'tools/infer.py', config, ckpt, str(path), *extra],
        capture_output=True, text=True, cwd=REPO, env=subprocess_env(),
        timeout=300)


def top_lines(stdout):
    return [line for line in stdout.splitlines() if line.startswith('  ')]


def test_npy_file_matches_the_test_pipeline_prediction(tmp_path, trained_demo,
                                                       demo_ann_file):
    """A demo sample saved as .npy gets the same top-1 as tools/test.py."""
    config, ckpt = trained_demo
    with open(demo_ann_file, 'rb') as f:
        data = pickle.load(f)
    sample = next(a for a in data['annotations']
                  if a['frame_dir'] == data['split']['xsub_val'][0])
    npy = tmp_path / 'sample.npy'
    np.save(npy, sample['keypoint'])
    result = run_infer(config, ckpt, npy, '--topk', '3')
    assert result.returncode == 0, result.stderr[-3000:]
    lines = top_lines(result.stdout)
    assert len(lines) == 3
    probs = [float(line.split()[-1]) for line in lines]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.001
    from sfhead_mm.apis import load_recognizer
    from tools.infer import predict
    model = load_recognizer(config, ckpt, deploy=True)
    names = [str(i) for i in range(8)]
    direct = predict(model, str(npy), 3, names)
    assert [n for n, _ in direct] == [line.split()[1] for line in lines]


def test_ntu_skeleton_file(tmp_path, trained_demo):
    config, ckpt = trained_demo
    body = moving('72057594037931101', person(), 0.05, range(40))
    path = write_skeleton(tmp_path / 'S001C001P001R001A023.skeleton',
                          assemble(40, body))
    result = run_infer(config, ckpt, path, '--topk', '2')
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(top_lines(result.stdout)) == 2


@pytest.mark.skipif(not SHARED_UCLA.is_dir(),
                    reason='NW-UCLA data not present at ../shared/data')
def test_nw_ucla_json_with_a_25_joint_model_is_refused(trained_demo):
    config, ckpt = trained_demo
    path = SHARED_UCLA / 'a01_s01_e01_v01.json'
    result = run_infer(config, ckpt, path)
    assert result.returncode == 1
    assert '20 joints per frame' in result.stderr and '25' in result.stderr
    assert 'a01_s01_e01_v01.json' in result.stderr


def test_bad_files(tmp_path, trained_demo):
    config, ckpt = trained_demo
    flat = tmp_path / '2d.npy'
    np.save(flat, np.zeros((1, 30, 25, 2), np.float32))
    result = run_infer(config, ckpt, flat)
    assert result.returncode == 1 and '2D keypoints' in result.stderr
    wrong = tmp_path / 'x.txt'
    wrong.write_text('1 2 3')
    result = run_infer(config, ckpt, wrong)
    assert result.returncode == 1 and 'unsupported file type' in result.stderr
    bad_json = tmp_path / 'a01_s01_e01_v01.json'
    bad_json.write_text(json.dumps({'file_name': 'a01_s01_e01_v01'}))
    result = run_infer(config, ckpt, bad_json)
    assert result.returncode == 1 and 'skeletons' in result.stderr
    assert 'Traceback' not in result.stderr


@pytest.mark.skipif(not SHARED_UCLA.is_dir(),
                    reason='NW-UCLA data not present at ../shared/data')
def test_nw_ucla_json_on_an_nw_ucla_model(tmp_path):
    """A real all_sqe file through a briefly trained NW-UCLA CTR-GCN."""
    from tests.datasets.nw_ucla_data import write_converted
    from tests.datasets.test_nw_ucla_pku_configs import TINY_NW_UCLA
    base = REPO / ('configs/ctrgcn/ctrgcn_1xb16-joint-52f-65e_nw-ucla-'
                   'xview-keypoint-3d.py')
    config = tmp_path / 'tiny_nw_ucla.py'
    config.write_text(TINY_NW_UCLA.format(
        base=str(base), ann_file=write_converted(tmp_path)))
    result = subprocess.run(
        [sys.executable, 'tools/train.py', str(config), '--work-dir',
         str(tmp_path / 'wd')], capture_output=True, text=True, cwd=REPO,
        env=subprocess_env(), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    result = run_infer(str(config), str(tmp_path / 'wd' / 'epoch_1.pth'),
                       SHARED_UCLA / 'a12_s01_e01_v03.json', '--dataset',
                       'nw-ucla', '--topk', '10')
    assert result.returncode == 0, result.stderr[-3000:]
    lines = top_lines(result.stdout)
    from sfhead_mm.datasets.class_names import get_class_names
    assert sorted(line.split('  ')[1].split('. ', 1)[1]
                  for line in lines) == sorted(get_class_names('nw-ucla'))
    assert sum(float(line.split()[-1]) for line in lines) == \
        pytest.approx(1.0, abs=0.006)  # 10 values printed to 3 decimals
