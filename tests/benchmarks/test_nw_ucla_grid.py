"""The evidence runner (benchmarks/nw_ucla.py) on tiny runs of the real
NW-UCLA data: run keys, stored rows (confusion matrix, scores,
diagnostics), skipping finished runs, resuming a killed run; and the report
generated from its rows."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from benchmarks import (diagnose_sf, nw_ucla, report, report_grid,
                        run_config, variants)
from tests.conftest import REPO, subprocess_env

DATA = REPO.parent / 'shared' / 'data' / 'nw_ucla'
needs_data = pytest.mark.skipif(
    not DATA.is_dir(), reason=f'NW-UCLA data not found at {DATA}')
# tiny CTR-GCN (width 8: SF-Head needs groups=2), short clips
TINY = ['--base-channels', '8', '--frames', '16', '--warmup', '0',
        '--threads', '1']


@pytest.fixture(scope='module')
def work_root(tmp_path_factory) -> str:
    """One work root for the module: the NW-UCLA pickle is made once."""
    return str(tmp_path_factory.mktemp('bench_work'))


def runner_args(tmp_path, work_root, *args):
    return ['benchmarks/nw_ucla.py', '--results', str(tmp_path / 'r.jsonl'),
            '--work-root', work_root, '--data', str(DATA), *TINY, *args]


def run(*args):
    return subprocess.run([sys.executable, *args], capture_output=True,
                          text=True, cwd=REPO, env=subprocess_env(),
                          timeout=900)


def test_run_key_holds_every_field_and_variants_parse():
    args = nw_ucla.parse_args(['--passes', '20'])
    spec = run_config.run_spec('sfhead_branch+tau=0.03', 0, args)
    assert set(spec) == set(run_config.RUN_FIELDS)
    key = run_config.run_key(spec)
    folder = run_config.run_dir_of(spec, '/w')
    for field in run_config.RUN_FIELDS:  # any changed field: a new run
        changed = dict(spec)
        changed[field] = 'other' if isinstance(spec[field], str) else \
            spec[field] + 1
        assert run_config.run_key(changed) != key, field
        assert run_config.run_dir_of(changed, '/w') != folder, field
    assert variants.parse_variant('sfhead_branch+tau=0.03+phi=printed') == (
        'sfhead_branch', dict(tau=0.03, phi='printed'))
    assert variants.variant_model('frhead+loss_weight=0') == dict(
        type='SFRecognizerGCN', fr_head=dict(loss_weight=0))
    assert variants.variant_label('sf_tau_0.5') == \
        "+ SF-Head, branch (tau=0.5)"
    for bad in ('sfhead', 'baseline+tau=1', 'sfhead_branch+tau'):
        with pytest.raises(ValueError, match='variant'):
            variants.parse_variant(bad)
    # the protocol's schedule: warm-up then cosine to 0, per iteration
    cfg = run_config.build_config(spec, '/data/x.pkl')
    assert [s['type'] for s in cfg.param_scheduler] == [
        'LinearLR', 'CosineAnnealingLR']
    assert cfg.param_scheduler[1]['eta_min'] == 0.0
    assert cfg.train_dataloader.dataset.dataset.split == 'xview_tunetrain'
    assert cfg.test_dataloader.dataset.split == 'xview_tuneval'
    assert cfg.model.sf_head == dict(placement='branch', tau=0.03)


def test_effective_rank_hand_cases():
    import torch
    same = torch.tensor([[1.0, -1.0, 2.0, -2.0]] * 3)  # 3 equal channels
    assert diagnose_sf.effective_rank(same) == pytest.approx(1.0)
    orthogonal = torch.tensor([[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0]])
    assert diagnose_sf.effective_rank(orthogonal) == pytest.approx(2.0)


@needs_data
def test_rows_store_confusion_scores_and_diagnostics(tmp_path, work_root,
                                                      capsys):
    grid = runner_args(tmp_path, work_root, '--passes', '1', '--subset', '16',
                       '--seeds', '0', '--variants', 'baseline',
                       'sfhead_branch+groups=2', '--gradient-share', '1')
    result = run(*grid)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in
            (tmp_path / 'r.jsonl').read_text().splitlines()]
    assert [r['variant'] for r in rows] == ['baseline',
                                            'sfhead_branch+groups=2']
    for row in rows:
        assert row['split'] == 'tune' and row['num_test'] == 16
        cm = np.array(row['confusion'])
        scores = np.array(row['scores'])
        assert cm.shape == (10, 10) and cm.sum() == 16
        assert scores.shape == (16, 10)
        assert len(row['labels']) == len(row['sample_names']) == 16
        # the tuning split's test clips are subjects 9-10 of views 1-2
        assert all('_s09_' in n or '_s10_' in n for n in row['sample_names'])
        # confusion, scores and top-1 tell the same story
        pred = scores.argmax(1)
        np.testing.assert_array_equal(
            cm, np.bincount(np.array(row['labels']) * 10 + pred,
                            minlength=100).reshape(10, 10))
        assert row['top1'] == pytest.approx(np.trace(cm) / 16)
        assert row['train_cpu_s'] > 0 and row['train_wall_s'] > 0
        assert row['resumed_from'] is None
        # one attempt: the hook's total is the training part of its time
        assert 0 < row['train_cpu_s_total'] <= row['train_cpu_s']
    assert 'sf_red_top1' in rows[1]['last_pass']
    assert 'sf_red_logit_span' in rows[1]['last_pass']
    assert 'sf_red_top1' not in rows[0]['last_pass']
    # --gradient-share 1: one record per iteration (16 clips, batch 16)
    assert rows[0]['gradient_share'] is None  # no auxiliary loss
    assert [g['iter'] for g in rows[1]['gradient_share']] == [1]
    assert all(g['aux_grad_norm'] > 0 for g in rows[1]['gradient_share'])
    # the diagnostics read both run dirs
    args = nw_ucla.parse_args(grid[1:])
    dirs = [run_config.run_dir_of(
        run_config.run_spec(r['variant'], 0, args), work_root) for r in rows]
    base, sf = (diagnose_sf.diagnose(d, batches=1) for d in dirs)
    assert list(base['effective_rank']) == [f'backbone.gcn.{i}.gcn'
                                            for i in range(10)]
    for block, rank in sf['effective_rank'].items():
        assert 1 <= rank <= sf['channels'][block]
    assert base['head'] == {} and base['gradients'] is None
    assert set(sf['head']) == set(sf['effective_rank'])
    first = sf['head']['backbone.gcn.0.gcn']
    assert len(first['eta_softmax']) == 4 and first['channel_gate_std'] >= 0
    assert sf['gradients']['sf_grad_norm'] > 0
    assert -1 <= sf['gradients']['cosine'] <= 1
    start = sf['gradients_at_start']
    assert start['sf_grad_norm'] > 0 and -1 <= start['cosine'] <= 1
    assert start != sf['gradients']  # other weights than the final ones
    # the start weights are the Runner's: both variants share them
    from mmengine.config import Config
    initial = [diagnose_sf.initial_model(Config.fromfile(
        os.path.join(d, 'config.py')))[0].state_dict() for d in dirs]
    backbone = [k for k in initial[0] if k.startswith('backbone.')]
    assert backbone and all(torch.equal(initial[0][k], initial[1][k])
                            for k in backbone)
    # a rerun skips both (in-process: nothing is trained); the report
    # renders them
    nw_ucla.main(grid[1:])
    assert capsys.readouterr().out.count('done, skipped') == 2
    assert len((tmp_path / 'r.jsonl').read_text().splitlines()) == 2
    out = tmp_path / 'docs' / 'benchmarks.md'
    page = report.main([
        '--tune', str(tmp_path / 'r.jsonl'), '--test',
        str(tmp_path / 'none.jsonl'), '--demo', str(tmp_path / 'none.jsonl'),
        '--short-pilot', str(tmp_path / 'none.jsonl'), '--cost',
        str(tmp_path / 'none.json'), '--out', str(out)])
    assert 'has not run yet, so this page makes no claim' in page
    top1 = 100 * rows[0]['top1']
    assert f'| {top1:.1f} | {top1:.2f} (1 seed) |' in page
    assert "+ SF-Head, branch (groups=2)" in page
    assert "--variants baseline 'sfhead_branch+groups=2'" in page


@needs_data
def test_a_killed_run_resumes_from_its_last_checkpoint(tmp_path, work_root,
                                                       capsys):
    grid = runner_args(tmp_path, work_root, '--passes', '4', '--subset',
                       '64', '--seeds', '1', '--variants', 'baseline')
    proc = subprocess.Popen([sys.executable, *grid], cwd=REPO,
                            env=subprocess_env(), start_new_session=True,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    spec = run_config.run_spec('baseline', 1, nw_ucla.parse_args(grid[1:]))
    run_dir = run_config.run_dir_of(spec, work_root)
    deadline = time.time() + 600
    while not os.path.isfile(os.path.join(run_dir, 'epoch_1.pth')):
        assert proc.poll() is None and time.time() < deadline
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the runner and its training
    proc.wait()
    assert not (tmp_path / 'r.jsonl').exists()
    saved = [f for f in os.listdir(run_dir) if f.startswith('epoch_')]
    # the first attempt's training time, as its last checkpoint keeps it
    latest = max(saved, key=lambda f: int(f[len('epoch_'):-len('.pth')]))
    first = nw_ucla.total_train_time(os.path.join(run_dir, latest))
    assert first['train_cpu_s_total'] > 0
    # the rerun (in-process: the training it resumes is a subprocess
    # either way)
    nw_ucla.main(grid[1:])
    row = json.loads((tmp_path / 'r.jsonl').read_text())
    assert row['resumed_from'] in saved
    # the training time of both attempts (TrainTimeHook, in the
    # checkpoints), not only the resumed one's
    assert row['train_cpu_s_total'] > first['train_cpu_s_total']
    assert row['train_wall_s_total'] > first['train_wall_s_total']
    assert f'resuming from {row["resumed_from"]}' in capsys.readouterr().out
    assert os.path.isfile(os.path.join(run_dir, 'epoch_4.pth'))
    # the resumed attempt trained only the passes after the checkpoint
    # (the training logs: the timestamped dirs with scalars; tools/test.py
    # writes one without)
    done = int(row['resumed_from'][len('epoch_'):-len('.pth')])
    logs = sorted(os.path.join(run_dir, d, 'vis_data', 'scalars.json')
                  for d in os.listdir(run_dir) if os.path.isfile(
                      os.path.join(run_dir, d, 'vis_data', 'scalars.json')))
    with open(logs[-1]) as f:
        epochs = {json.loads(line)['epoch'] for line in f
                  if '"loss"' in line}
    assert min(epochs) == done + 1 and max(epochs) == 4
    # reseeded every epoch (the default), the resumed run is exactly the
    # run that was never interrupted: the same config trained straight
    # through (the same command the runner runs) ends at the same weights
    straight = tmp_path / 'straight'
    result = run('tools/train.py', os.path.join(run_dir, 'config.py'),
                 '--work-dir', str(straight), '--seed', '1')
    assert result.returncode == 0, result.stderr[-3000:]
    weights = [torch.load(os.path.join(d, 'epoch_4.pth'), map_location='cpu',
                          weights_only=False)['state_dict']
               for d in (run_dir, straight)]
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


@needs_data
def test_a_diverged_run_is_recorded_as_failed_and_not_rerun(tmp_path,
                                                           work_root,
                                                           capsys):
    # lr 1e8: the loss is NaN by the third iteration; NonFiniteLossHook
    # stops the training, and the row says so instead of the grid stopping
    grid = runner_args(tmp_path, work_root, '--passes', '2', '--subset',
                       '48', '--lr', '1e8', '--seeds', '0', '--variants',
                       'baseline')
    result = run(*grid)
    assert result.returncode == 0, result.stderr[-3000:]
    row = json.loads((tmp_path / 'r.jsonl').read_text())
    assert row['top1'] is None
    assert row['failed'].startswith('non-finite loss at iteration')
    assert 'FAILED, non-finite loss' in result.stdout
    # a rerun treats it as finished (it would diverge again)
    nw_ucla.main(grid[1:])  # in-process: nothing is trained
    assert 'done, skipped' in capsys.readouterr().out
    assert len((tmp_path / 'r.jsonl').read_text().splitlines()) == 1


def test_the_demo_controlled_test_rows_and_report(tmp_path):
    # the synthetic set of `main_grid.sh demo`: its own class names, and
    # FR-Head on the demo's 4-block CTR-GCN (blocks 1, 3, 4); the SF-Head
    # variants need nothing of the set's own (the rows test above runs one)
    grid = ['benchmarks/nw_ucla.py', '--dataset', 'demo', '--split', 'test',
            '--results', str(tmp_path / 'd.jsonl'), '--work-root',
            str(tmp_path / 'w'), *TINY, '--passes', '1', '--subset', '16',
            '--seeds', '0', '--variants', 'baseline', 'frhead']
    nw_ucla.main(grid[1:])  # in-process; each training is a subprocess
    rows = [json.loads(line) for line in
            (tmp_path / 'd.jsonl').read_text().splitlines()]
    assert [r['variant'] for r in rows] == ['baseline', 'frhead']
    from data_prep.make_demo import make_demo_dataset
    names = make_demo_dataset(seed=0, subjects=2, per_class=1)['meta'][
        'class_names']
    for row in rows:
        assert list(row['per_class']) == list(names)
        assert row['num_test'] == 16
    from mmengine.config import Config
    fr = Config.fromstring(rows[1]['config'], '.py').model.fr_head
    assert (fr.stages, fr.stage_weights) == ([1, 3, 4], [0.1, 0.2, 1.0])
    # the report's demo section: one line per variant, labelled synthetic
    page = report.demo_section(rows)
    assert 'labelled synthetic' in page[0]
    assert [line.split(' | ')[1] for line in page
            if line.startswith('| ') and 'passes' in line] == [
        'CTR-GCN (baseline)', '+ FR-Head']
    # and the within-pair confusion of the set's look-alike pairs, from
    # each row's confusion matrix (classes 0 and 1 form the first pair)
    cm = rows[0]['confusion']
    share = 100 * (cm[0][1] + cm[1][0]) / (sum(cm[0]) + sum(cm[1]))
    assert any(line.startswith(f'| {names[0]} / {names[1]} | '
                               f'{share:.2f} (1 seed) |') for line in page)
    assert sum(line.startswith(f'| {report_grid.POOLED} |')
               for line in page) == 2  # per variant, and paired changes
