"""``tools/benchmark.py`` end to end on a small input, and the cost table it
hands to ``benchmarks/report.py``."""
import json
import subprocess
import sys

from tests.conftest import REPO, subprocess_env

from tools.benchmark import interleaved_timings, paired_ratio


def run(*args):
    return subprocess.run([sys.executable, *args], capture_output=True,
                          text=True, cwd=REPO, env=subprocess_env(),
                          timeout=600)


def test_interleaved_timings_call_order_and_paired_ratio():
    calls = []
    times = interleaved_timings(
        dict(a=lambda: calls.append('a'), b=lambda: calls.append('b')),
        reps=3, warmup=1)
    # warm-up round first, then every round calls each function once
    assert calls == ['a', 'b'] * 4
    assert [len(v) for v in times.values()] == [3, 3]
    times = dict(plain=[1.0, 2.0, 4.0], head=[1.5, 2.2, 4.8])
    # per-round ratios 1.5, 1.1, 1.2 -> median 1.2 (the ratio of medians
    # would be 2.2 / 2.0 = 1.1)
    assert abs(paired_ratio(times, 'head', 'plain') - 1.2) < 1e-12


def test_benchmark_figures_and_report_cost_table(tmp_path):
    cost = tmp_path / 'cost.json'
    result = run('tools/benchmark.py', '--batch', '2', '--frames', '8',
                 '--reps', '2', '--warmup', '1', '--threads', '1',
                 '--json', str(cost))
    assert result.returncode == 0, result.stderr[-3000:]
    payload = json.loads(cost.read_text())
    figures = payload['results']
    # CTR-GCN NTU60: the backbone + GCNHead, and the 10 heads' budget
    assert figures['params_plain'] == 1_446_672
    assert 0 < figures['params_head'] < 5000
    for key in ('train_plain', 'train_branch', 'train_inline', 'infer_plain',
                'infer_exported', 'infer_inline', 'ratio_train_branch',
                'ratio_train_inline', 'ratio_infer_exported',
                'ratio_infer_inline'):
        assert figures[key] > 0, key
    assert payload['table'] in result.stdout
    assert '| train step, branch (s) |' in payload['table']
    assert f'{figures["ratio_train_branch"]:.3f} |' in payload['table']

    # the report quotes this table, not typed figures
    from benchmarks.report import cost_table
    assert cost_table(str(cost)) == payload['table'].splitlines()


def test_cfg_options_reach_the_config_and_its_twins(tmp_path):
    """The evidence grid's shape: NW-UCLA CTR-GCN at width 32, the SF
    twin's and the FR twin's models built with the same override."""
    cost = tmp_path / 'cost.json'
    config = ('configs/ctrgcn/ctrgcn_sfhead_1xb16-joint-52f-65e_'
              'nw-ucla-xview-keypoint-3d.py')
    result = run('tools/benchmark.py', '--config', config, '--cfg-options',
                 'model.backbone.base_channels=32', 'model.cls_head.'
                 'in_channels=128', '--batch', '2', '--frames', '8',
                 '--persons', '1', '--reps', '1', '--warmup', '0',
                 '--threads', '1', '--json', str(cost))
    assert result.returncode == 0, result.stderr[-3000:]
    payload = json.loads(cost.read_text())
    figures = payload['results']
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    from sfhead_mm.engine.launch import load_config
    register_all_modules()
    cfg = load_config(str(REPO / 'configs/ctrgcn/ctrgcn_1xb16-joint-52f-65e_'
                      'nw-ucla-xview-keypoint-3d.py'))
    cfg.merge_from_dict({'model.backbone.base_channels': 32,
                         'model.cls_head.in_channels': 128})
    expected = sum(p.numel() for p in MODELS.build(cfg.model).parameters())
    assert figures['params_plain'] == expected
    assert figures['params_fr_head'] > 0 and figures['ratio_train_fr'] > 0
    assert 'model.backbone.base_channels=32' in payload['table']
    assert 'V=20' in payload['table']


def test_timings_wait_for_the_device_around_each_call():
    """``sync`` (torch.cuda.synchronize on a GPU) runs just before the clock
    starts and just after the call, so queued kernels are inside the time."""
    events = []
    interleaved_timings(dict(a=lambda: events.append('a')), reps=2,
                        warmup=1, sync=lambda: events.append('sync'))
    assert events == ['a'] + ['sync', 'a', 'sync'] * 2


def test_cuda_options_fail_clearly_without_a_gpu():
    import torch
    if torch.cuda.is_available():  # this check is about CPU-only machines
        return
    result = run('tools/benchmark.py', '--device', 'cuda')
    assert result.returncode == 2
    assert '--device cuda: torch sees no CUDA GPU here' in result.stderr
    result = run('tools/benchmark.py', '--amp')
    assert result.returncode == 2
    assert '--amp needs --device cuda' in result.stderr


def test_an_unknown_device_is_a_usage_error():
    result = run('tools/benchmark.py', '--device', 'gpu')
    assert result.returncode == 2
    assert "argument --device: 'gpu' is not a torch device" in result.stderr


def test_train_step_reads_amp_and_device_from_the_batch():
    """The CPU path of the step that ``--device cuda --amp`` times: a
    disabled scaler and autocast leave plain SGD (weights change, no
    scaling state)."""
    import torch
    from tools.benchmark import train_step

    class Tiny(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(3, 2)

        def forward(self, inputs, samples, mode):
            return dict(loss_cls=self.fc(inputs).pow(2).mean(), acc=1.0)

    model = Tiny()
    before = model.fc.weight.detach().clone()
    train_step(model, torch.ones(4, 3), [])()
    assert not torch.equal(before, model.fc.weight)
