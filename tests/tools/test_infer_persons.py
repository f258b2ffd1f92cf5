"""infer.py refuses person counts it cannot classify (issue 12, items 10
and 11): 0 persons got a prediction, 3 persons an AssertionError."""
import numpy as np
import pytest


@pytest.mark.parametrize('persons, message', [
    (0, r'no persons \(shape \[0, 20, 25, 3\], M = 0\)'),
    (3, r'3 persons, but the config\'s pipeline takes at most 2'),
])
def test_person_count_refused(tmp_path, trained_demo, persons, message):
    from tools.infer import SkeletonFileError, main
    config, ckpt = trained_demo
    path = tmp_path / 'clip.npy'
    np.save(path, np.random.rand(persons, 20, 25, 3).astype(np.float32))
    with pytest.raises(SkeletonFileError, match=message) as err:
        main([config, ckpt, str(path)])
    assert str(err.value).startswith(str(path))
