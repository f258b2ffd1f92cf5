"""``benchmarks/gate_conv_speed.py`` on a small input: every gate map of the
head is timed, and the ratios are finite and positive."""
from benchmarks.gate_conv_speed import gate_maps, main


def test_gate_maps_are_the_heads_maps():
    maps = gate_maps(batch=2, persons=2, frames=64, groups=8)
    # B' = 2 * 2 * 8; C' = C / 32 per width; T halves at 128 and 256
    assert maps['C=64 channel (T, V)'] == ((32, 2, 64, 25), 3)
    assert maps["C=64 temporal (C', V)"] == ((32, 2, 2, 25), 2)
    assert maps["C=256 spatial (T, C')"] == ((32, 2, 16, 8), 3)
    assert len(maps) == 9


def test_gate_conv_speed_runs(capsys):
    ratios = main(['--batch', '1', '--frames', '16', '--reps', '1',
                   '--warmup', '0', '--threads', '1'])
    assert len(ratios) == 9 * 2 + 2
    assert all(0 < r < float('inf') for r in ratios.values())
    assert '| all gates (sum of the medians) | train |' in \
        capsys.readouterr().out
