"""``benchmarks/window_infer_speed.py`` end to end on the small demo
CTR-GCN: one row per stride, with the window count the stride implies."""
from benchmarks.window_infer_speed import main


def test_window_infer_speed_runs(capsys):
    main(['--config', 'configs/demo/ctrgcn_demo.py', '--seconds', '2',
          '--window', '32', '--strides', '10', '--batch-size', '2',
          '--repeats', '1', '--threads', '1'])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith('| 10 |')]
    # 60 frames: starts 0, 10, 20 and one more ending at the last frame
    assert len(rows) == 1 and rows[0].split('|')[2].strip() == '4'
    assert 'x real time' in out and 'load average' in out
