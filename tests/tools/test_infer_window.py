"""``tools/infer.py --window/--stride`` on a long PKU-MMD-format sequence
made of demo clips with known boundaries: the timeline CSV, the PNG, and the
merged top-1 segments recover the boundaries; plus the refusals (window
longer than the sequence, a 2D file on a 3D model).

The model is a tiny CTR-GCN + SF-Head trained here for a few epochs on two
demo classes from different look-alike pairs (hand wave, sit down), enough
to recognise single held-out clips (repetitions 4-5 of the same subjects);
the long sequence alternates held-out clips of the two, so each boundary is
a change of action. What is tested is the windowing, batching, timeline and
segment merging, not the demo's hard look-alike pairs."""
import csv
import pickle

import numpy as np
import pytest

from tests.conftest import write_config

CLASSES = (0, 6)  # hand wave, sit down
ORDER = (0, 1, 0, 1, 0)  # segment labels of the long sequence
TINY = """
model = dict(
    type='SFRecognizerGCN',
    backbone=dict(_delete_=True, type='CTRGCN',
                  graph_cfg=dict(layout='nturgb+d', mode='spatial'),
                  base_channels=16, num_stages=3, inflate_stages=[3],
                  down_stages=[3]),
    cls_head=dict(num_classes=2, in_channels=32),
    sf_head=dict(placement='branch', groups=4))
train_cfg = dict(max_epochs={epochs}, val_interval={epochs})
randomness = dict(seed=0)
"""
EPOCHS = 15
WINDOW = 40
GAP = 12  # transition frames between clips


@pytest.fixture(scope='module')
def two_class_model(tmp_path_factory):
    """(config, checkpoint, held-out clips by new label)."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from data_prep.make_demo import make_demo_dataset
    directory = tmp_path_factory.mktemp('window_model')
    data = make_demo_dataset(seed=0, subjects=2, per_class=5)
    new_label = {c: i for i, c in enumerate(CLASSES)}
    train, held_out = [], {i: [] for i in range(len(CLASSES))}
    for ann in data['annotations']:
        if ann['label'] not in new_label:
            continue
        ann = dict(ann, label=new_label[ann['label']])
        repetition = int(ann['frame_dir'].split('_R')[1])
        (train if repetition <= 3 else held_out[ann['label']]).append(ann)
    names = [a['frame_dir'] for a in train]
    ann_file = directory / 'two.pkl'
    with open(ann_file, 'wb') as f:
        pickle.dump(dict(split=dict(xsub_train=names, xsub_val=names),
                         annotations=train), f)
    config = write_config(directory, 'configs/demo/stgcn_demo.py',
                          str(ann_file), TINY.format(epochs=EPOCHS))
    cfg = Config.fromfile(config)
    cfg.work_dir = str(directory / 'wd')
    cfg.default_hooks.checkpoint.interval = EPOCHS
    cfg.train_dataloader.batch_size = 4
    Runner.from_cfg(cfg).train()
    return config, str(directory / 'wd' / f'epoch_{EPOCHS}.pth'), held_out


def write_pku_mmd(path, clips, gap=0):
    """PKU-MMD phase I skeleton rows (2 bodies x 25 joints x xyz, the second
    body all zeros), ``gap`` frames of linear transition between clips (as
    the unlabelled frames between PKU-MMD's actions); returns the true
    (start, end, label) of the clips, 0-based, end exclusive."""
    bodies, truth, start = [], [], 0
    for label, keypoint in clips:
        body = keypoint[0]  # [T, 25, 3]
        if bodies and gap:
            weight = np.linspace(0, 1, gap + 2)[1:-1, None, None]
            bodies.append((1 - weight) * bodies[-1][-1] + weight * body[0])
            start += gap
        bodies.append(body)
        truth.append((start, start + len(body), label))
        start += len(body)
    body = np.concatenate(bodies)
    frames = np.concatenate([body, np.zeros_like(body)], 1)
    path.write_text('\n'.join(' '.join(f'{v:.5f}' for v in frame.reshape(-1))
                              for frame in frames) + '\n')
    return truth


def test_timeline_recovers_known_boundaries(tmp_path, two_class_model,
                                            capsys):
    from tools.infer import main
    config, ckpt, held_out = two_class_model
    used = {label: 0 for label in held_out}
    clips = []
    for label in ORDER:
        clips.append((label, held_out[label][used[label]]['keypoint']))
        used[label] += 1
    txt = tmp_path / '0291-M.txt'
    truth = write_pku_mmd(txt, clips, gap=GAP)
    labels = tmp_path / '0291-M_label.txt'  # PKU-MMD: 1-based, inclusive
    labels.write_text(''.join(f'{label + 1},{start + 1},{end},1\n'
                              for start, end, label in truth))
    csv_path = tmp_path / 'out' / 'timeline.csv'
    windows = main([config, ckpt, str(txt), '--window', str(WINDOW),
                    '--stride', '4', '--topk', '2', '--batch-size', '8',
                    '--timeline', str(csv_path), '--min-windows', '3',
                    '--labels', str(labels), '--no-progress'])
    assert 'labelled actions: 5 of 5' in capsys.readouterr().out
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * len(windows)
    assert list(rows[0]) == ['start_frame', 'end_frame', 'rank', 'label',
                             'score']
    assert int(rows[-1]['end_frame']) == truth[-1][1]
    png = csv_path.with_suffix('.png')
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'

    from tools.sliding_window import segments
    found = segments(windows, min_windows=3)
    assert [s.label for s in found] == list(ORDER), (found, truth)
    # each boundary within half a window of the transition between clips
    for k, seg in enumerate(found[:-1]):
        end_k, start_next = truth[k][1], truth[k + 1][0]
        assert end_k - WINDOW // 2 <= seg.end <= start_next + WINDOW // 2, (
            k, found, truth)
    assert found[0].start == 0 and found[-1].end == truth[-1][1]


def test_refusals(tmp_path, two_class_model):
    from tools.infer import main
    from tools.sliding_window import SequenceError
    config, ckpt, held_out = two_class_model
    txt = tmp_path / 'short.txt'
    write_pku_mmd(txt, [(0, held_out[0][0]['keypoint'][:, :30])])
    with pytest.raises(SequenceError, match='--window 40 is longer than the '
                       'sequence \\(30 frames\\)'):
        main([config, ckpt, str(txt), '--window', '40', '--no-progress'])
    # a 2D pickle (the demo in image pixels + scores, 25 joints) on this
    # 3D model
    from data_prep.make_demo import make_demo_dataset
    pkl = tmp_path / 'demo_2d.pkl'
    with open(pkl, 'wb') as f:
        pickle.dump(make_demo_dataset(seed=0, subjects=2, per_class=1,
                                      dims=2, layout='nturgb+d'), f)
    with pytest.raises(SequenceError, match='holds 16 sequences; choose one'):
        main([config, ckpt, str(pkl), '--window', '40', '--no-progress'])
    with pytest.raises(SequenceError, match='demo_2d.pkl: 2D keypoints .* '
                       'is a 3D model .* use a keypoint-2d config'):
        main([config, ckpt, str(pkl), '--sample', 'S001_A01_R01',
              '--window', '40', '--no-progress'])
    with pytest.raises(ValueError, match="'.txt' without --window; "
                       'supported: .* give --window W'):
        main([config, ckpt, str(txt)])


def test_same_windows_from_txt_npy_and_pkl(tmp_path, two_class_model):
    """One sequence as a PKU-MMD .txt, a .npy [T, V, C] and a PoseDataset
    .pkl entry: the same windows and scores."""
    from tools.infer import main
    config, ckpt, held_out = two_class_model
    clips = [(0, held_out[0][0]['keypoint']), (1, held_out[1][0]['keypoint'])]
    txt = tmp_path / 'seq.txt'
    write_pku_mmd(txt, clips)
    keypoint = np.concatenate([k for _, k in clips], 1)
    np.save(tmp_path / 'seq.npy', keypoint[0])
    with open(tmp_path / 'seq.pkl', 'wb') as f:
        pickle.dump(dict(split=dict(all=['a', 'seq']), annotations=[
            dict(frame_dir='a', keypoint=keypoint[:, :10]),
            dict(frame_dir='seq', keypoint=keypoint)]), f)
    runs = []
    for name, extra in (('seq.txt', []), ('seq.npy', []),
                        ('seq.pkl', ['--sample', 'seq'])):
        runs.append(main([config, ckpt, str(tmp_path / name), '--window',
                          '40', '--stride', '20', '--no-progress',
                          '--timeline', str(tmp_path / f'{name}.csv'),
                          *extra]))
    for other in runs[1:]:
        assert [(w.start, w.labels) for w in other] == \
            [(w.start, w.labels) for w in runs[0]]
        np.testing.assert_allclose([w.scores for w in other],
                                   [w.scores for w in runs[0]], atol=1e-4)
