"""benchmarks/op_count.py: operator calls of a train step per variant."""
from collections import Counter

from benchmarks.op_count import operator_calls, table


def test_operator_calls_counts_one_traced_step():
    import torch
    x = torch.ones(3, requires_grad=True)
    calls = operator_calls(lambda: (x * 2).sum().backward())
    assert calls['aten::mul'] >= 2  # forward, and backward's grad * 2
    assert calls['aten::sum'] == 1
    assert all(name.startswith('aten::') for name in calls)


def test_table_ratios_and_sync_columns():
    counts = dict(plain=Counter({'aten::add': 8, 'aten::item': 2}),
                  sf_branch=Counter({'aten::add': 20, 'aten::lift_fresh': 5}))
    lines = table(counts).splitlines()
    assert lines[2] == '| plain | 10 | 1.00 | 0 | 2 |'
    assert lines[3] == '| sf_branch | 25 | 2.50 | 5 | 0 |'


def test_ctrgcn_heads_add_operators_but_no_host_copies(capsys):
    """The default config (CTR-GCN NTU60): the heads add operator calls,
    and the SF-Head adds no tensor made from Python data (a host-to-device
    copy, i.e. a wait, per call on a GPU). ``--cfg-options
    model.sf_head.gate_conv=conv2d`` reaches the SF-Head variants (fewer
    calls: the banded conv builds its weight from ~20 small operators per
    gate) and leaves the plain model alone."""
    from benchmarks.op_count import main
    counts = main([])
    plain_conv = main(['--cfg-options', 'model.sf_head.gate_conv=conv2d'])
    assert ('_ntu60-xsub-keypoint-3d.py`, model.sf_head.gate_conv=conv2d; '
            'one train step') in capsys.readouterr().out
    assert plain_conv['plain'] == counts['plain']
    for name in ('sf_branch', 'sf_inline'):
        assert sum(plain_conv[name].values()) < \
            sum(counts[name].values()) - 1000, name
    total = {name: sum(c.values()) for name, c in counts.items()}
    assert total['sf_branch'] > total['plain']
    assert total['fr'] > total['plain']
    for name in ('sf_branch', 'sf_inline'):
        assert counts[name]['aten::lift_fresh'] == \
            counts['plain']['aten::lift_fresh']

