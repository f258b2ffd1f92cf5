"""Export tools never overwrite their input and leave nothing half-written
(issue 12, item 8); outputs are checked before any work (item 10)."""
import os

import pytest
import torch

from sfhead_mm.fileio import OutputPathError, check_output_path


def test_export_deploy_refuses_to_overwrite_its_input(tmp_path,
                                                      trained_demo):
    from tools import export_deploy
    config, ckpt = trained_demo
    before = open(ckpt, 'rb').read()
    same = os.path.join(os.path.dirname(ckpt), '.', os.path.basename(ckpt))
    for out in (ckpt, same):
        with pytest.raises(OutputPathError, match='is the input'):
            export_deploy.main([config, ckpt, out])
    assert open(ckpt, 'rb').read() == before


def test_export_deploy_full_disk_leaves_nothing(tmp_path, trained_demo,
                                                monkeypatch):
    from tools import export_deploy
    config, ckpt = trained_demo
    real_save = torch.save

    def full_disk(obj, path, *args, **kwargs):
        real_save(obj, path, *args, **kwargs)  # a partial file exists
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(torch, 'save', full_disk)
    out = tmp_path / 'deploy.pth'
    with pytest.raises(ValueError, match=r'could not write .*deploy\.pth: '
                       r'No space left on device; nothing was written'):
        export_deploy.main([config, ckpt, str(out)])
    assert os.listdir(tmp_path) == []


def test_export_onnx_failed_check_leaves_no_file(tmp_path, trained_demo):
    from tools import export_onnx
    config, ckpt = trained_demo
    out = tmp_path / 'model.onnx'
    with pytest.raises(ValueError, match='was not written'):
        export_onnx.main([config, ckpt, str(out), '--frames', '16',
                          '--atol', '-1'])
    assert os.listdir(tmp_path) == []


def test_bad_output_paths_refused_before_work(tmp_path):
    a_file = tmp_path / 'a_file'
    a_file.write_text('x')
    with pytest.raises(OutputPathError, match='is a directory'):
        check_output_path(str(tmp_path), what='--out')
    with pytest.raises(OutputPathError, match='is a file, not a directory'):
        check_output_path(str(a_file / 'sub' / 'out.pkl'), what='--out')
    check_output_path(str(tmp_path / 'new' / 'out.pkl'))  # creatable
