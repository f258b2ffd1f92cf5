"""The analysis and deployment tools on checkpoints trained briefly on the
demo set: test --dump, t-SNE, adjacency heat map, ONNX export."""
import pickle
import subprocess
import sys

import numpy as np
import pytest

from sfhead_mm.evaluation import load_scores
from tests.conftest import REPO, subprocess_env

PNG = b'\x89PNG\r\n\x1a\n'


def run_tool(*args):
    return subprocess.run([sys.executable, *args], capture_output=True,
                          text=True, cwd=REPO, env=subprocess_env(),
                          timeout=600)


def test_dump_scores_with_sample_ids(tmp_path, trained_demo, demo_ann_file):
    config, ckpt = trained_demo
    out = tmp_path / 'scores.pkl'
    result = run_tool('tools/test.py', config, ckpt, '--work-dir',
                      str(tmp_path / 'wd'), '--dump', str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    scores = load_scores(str(out))
    with open(demo_ann_file, 'rb') as f:
        data = pickle.load(f)
    val = data['split']['xsub_val']
    assert scores['sample_ids'] == val  # the test set, in its order
    labels = {a['frame_dir']: a['label'] for a in data['annotations']}
    assert scores['labels'].tolist() == [labels[n] for n in val]
    assert scores['scores'].shape == (len(val), 8)
    assert scores['meta']['split'] == 'xsub_val'


def test_vis_tsne_writes_png(tmp_path, trained_demo):
    config, ckpt = trained_demo
    out = tmp_path / 'tsne.png'
    result = run_tool('tools/vis_tsne.py', config, ckpt, '--classes', '0',
                      '1', '2', '--per-class', '4', '--out', str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    assert out.read_bytes()[:8] == PNG
    result = run_tool('tools/vis_tsne.py', config, ckpt, '--classes',
                      'waving', '--out', str(tmp_path / 'x.png'))
    assert result.returncode == 1
    assert "unknown class 'waving'" in result.stderr
    assert not (tmp_path / 'x.png').exists()


def test_vis_adjacency_writes_png(tmp_path, trained_demo):
    config, ckpt = trained_demo
    out = tmp_path / 'adj.png'
    result = run_tool('tools/vis_adjacency.py', config, ckpt, '--block', '2',
                      '--out', str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    assert out.read_bytes()[:8] == PNG
    assert '25 joints' in result.stdout


def test_adjacency_is_the_refined_topology(trained_demo):
    """The plotted matrix is PA + alpha * conv4(rel), averaged on channels."""
    import torch

    from sfhead_mm.apis import load_recognizer
    from tools.vis_adjacency import learned_adjacency
    config, ckpt = trained_demo
    model = load_recognizer(config, ckpt)
    gcn = model.backbone.gcn[0].gcn
    with torch.no_grad():
        gcn.alpha.fill_(0)
    adj = learned_adjacency(model, 1, 1, 0)
    torch.testing.assert_close(adj, gcn.PA[1].detach())


@pytest.mark.parametrize('fixture, inline', [('trained_demo', False),
                                             ('trained_demo_inline', True)])
def test_export_onnx_matches_pytorch(tmp_path, request, fixture, inline):
    config, ckpt = request.getfixturevalue(fixture)
    out = tmp_path / 'model.onnx'
    result = run_tool('tools/export_onnx.py', config, ckpt, str(out),
                      '--frames', '32')
    assert result.returncode == 0, result.stderr[-3000:]
    assert ('with inline SF-Head' in result.stdout) == inline
    import onnx
    graph = onnx.load(str(out)).graph
    dims = graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == 'batch' and dims[2].dim_param == 'frames'
    # the branch heads are gone from the deploy graph; inline heads stay
    names = ' '.join(i.name for i in graph.initializer)
    assert ('sf_head' in names) == inline
    assert 'max |ONNX - PyTorch|' in result.stdout


def test_export_onnx_bad_output_name(tmp_path, trained_demo):
    config, ckpt = trained_demo
    result = run_tool('tools/export_onnx.py', config, ckpt,
                      str(tmp_path / 'model.pt'))
    assert result.returncode == 1 and '.onnx' in result.stderr


def test_dist_test_two_processes_dump_equals_single(tmp_path, trained_demo):
    """dist_test.sh (2 gloo processes) gathers the scores in dataset order."""
    from tests.conftest import free_port
    config, ckpt = trained_demo
    single, dist = tmp_path / 'single.pkl', tmp_path / 'dist.pkl'
    result = run_tool('tools/test.py', config, ckpt, '--work-dir',
                      str(tmp_path / 'wd1'), '--dump', str(single))
    assert result.returncode == 0, result.stderr[-3000:]
    env = subprocess_env()
    env.update(PORT=str(free_port()), PYTHON=sys.executable)
    result = subprocess.run(
        ['bash', 'tools/dist_test.sh', config, ckpt, '2', '--work-dir',
         str(tmp_path / 'wd2'), '--dump', str(dist)], capture_output=True,
        text=True, cwd=REPO, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    a, b = load_scores(str(single)), load_scores(str(dist))
    assert a['sample_ids'] == b['sample_ids']
    assert np.array_equal(a['labels'], b['labels'])
    np.testing.assert_allclose(a['scores'], b['scores'], atol=1e-5)
