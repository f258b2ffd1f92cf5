"""``tools/benchmark.py`` on the seven backbones of the SF-Head paper's
Table 4: config twins, ``--config`` on a backbone whose output is a tuple
(ProtoGCN), and ``--cost-table`` end to end on a tiny input."""
import json

from tests.conftest import REPO

from tools.benchmark import (SEVEN_BACKBONES, head_configs, main,
                             twin_path)

# issue 14's table (NTU120, joint, with the classifier)
NTU120_PARAMS = {'InfoGCN': 1_572_227, 'HD-GCN': 1_675_400,
                 'BlockGCN': 1_388_200, 'ProtoGCN': 4_367_960}
TINY_RUN = ['--batch', '1', '--frames', '8', '--reps', '1', '--warmup', '0',
            '--threads', '1']


def test_twin_paths():
    base = 'configs/2s-agcn/2s-agcn_8xb16-joint-u100-80e_ntu120-xsub.py'
    sf = 'configs/2s-agcn/2s-agcn_sfhead_8xb16-joint-u100-80e_ntu120-xsub.py'
    assert twin_path(base, 'sfhead') == sf
    assert twin_path(sf, 'frhead') == sf.replace('_sfhead_', '_frhead_')
    assert twin_path(sf, '') == base


def test_every_backbone_has_plain_sf_and_fr_variants():
    for name, path in SEVEN_BACKBONES:
        assert (REPO / path).is_file(), path
        variants = head_configs(str(REPO / path))
        assert variants['plain']['type'] == 'RecognizerGCN', name
        assert 'sf_head' not in variants['plain'], name
        assert variants['sf']['sf_head']['placement'] == 'branch', name
        assert variants['sf'].get('fr_head') is None, name
        assert variants['fr']['fr_head'] and not variants['fr'].get(
            'sf_head'), name


def test_one_config_on_protogcn(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    out = tmp_path / 'proto.json'
    results = main(['--config', 'configs/protogcn/protogcn_4xb16-joint-u100-'
                    '150e_ntu120-xsub-keypoint-3d.py', '--json', str(out),
                    *TINY_RUN])
    assert results['params_plain'] == NTU120_PARAMS['ProtoGCN']
    assert 0 < results['params_head'] < 10_000
    for key in ('ratio_train_branch', 'ratio_train_inline',
                'ratio_infer_exported', 'ratio_train_fr'):
        assert results[key] > 0, key
    assert '| train step, FR-Head instead' in json.loads(
        out.read_text())['table']


def test_cost_table_of_the_seven_backbones(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    out, md = tmp_path / 'cost.json', tmp_path / 'cost.md'
    rows = main(['--cost-table', '--json', str(out), '--markdown', str(md),
                 *TINY_RUN])
    assert list(rows) == [name for name, _ in SEVEN_BACKBONES]
    for name, row in rows.items():
        if name in NTU120_PARAMS:
            assert row['params'] == NTU120_PARAMS[name]
        assert 0 < row['params_sf_head'] < 10_000, name
        assert row['params_fr_head'] > 100_000, name  # 256-wide projections
        assert row['ratio_train_sf'] > 0 and row['ratio_train_fr'] > 0
    table = md.read_text()
    assert json.loads(out.read_text())['table'] + '\n' == table
    rows = [line for line in table.splitlines() if line.startswith('|')]
    assert len(rows) == 2 + 7  # header, rule, seven backbones
    assert f'| ProtoGCN | {NTU120_PARAMS["ProtoGCN"]:,} |' in table
