"""PKU-MMD: a malformed label row loses only its clip (issue 12, item 4)."""
from data_prep import pku_mmd
from tests.data_prep.test_pku_mmd import _release


def test_malformed_label_row_drops_only_its_clip(tmp_path):
    _, skeleton_dir, label_dir, xsub, xview = _release(tmp_path)
    path = label_dir / '0002-L.txt'
    path.write_text('1,1,10,1\n1,x,12,1\n51,11,30,2\n')
    dataset, report = pku_mmd.convert_pku_mmd(
        str(skeleton_dir), str(label_dir),
        dict(xsub=str(xsub), xview=str(xview)), show_progress=False)
    names = [a['frame_dir'] for a in dataset['annotations']]
    # clips keep their row number: the third row is still 0002-L_3
    assert names == ['0002-L_1', '0002-L_3', '0002-M_1', '0291-L_1']
    assert report.clips_skipped['malformed'] == 1
    assert report.videos_skipped['malformed'] == 0
    assert any(f'{path}:2: expected a row' in line for line in report.lines())
