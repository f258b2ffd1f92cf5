"""Fixtures of the dataset tests: the real NW-UCLA pickle, once per session."""
import pytest

from tests.datasets.nw_ucla_data import NW_UCLA_DIR, write_converted


@pytest.fixture(scope='session')
def nw_ucla_ann_file(tmp_path_factory) -> str:
    """The real NW-UCLA set converted by ``data_prep/nw_ucla.py``."""
    if not NW_UCLA_DIR.is_dir():
        pytest.skip(f'NW-UCLA all_sqe files not found at {NW_UCLA_DIR}')
    return write_converted(tmp_path_factory.mktemp('nw_ucla'))
