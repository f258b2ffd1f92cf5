"""The real NW-UCLA files (``../shared/data/nw_ucla``), converted once per
test session and shared by the tests that need them."""
import functools
import os
import pickle
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from tests.conftest import SHARED_DATA

NW_UCLA_DIR = Path(os.environ.get('NW_UCLA_DIR', SHARED_DATA / 'nw_ucla'))

requires_nw_ucla = pytest.mark.skipif(
    not NW_UCLA_DIR.is_dir(),
    reason=f'NW-UCLA all_sqe files not found at {NW_UCLA_DIR} (the shared '
    'data folder ../shared/data/nw_ucla next to the repo; set NW_UCLA_DIR '
    'to use another copy)')


@functools.lru_cache(maxsize=None)
def converted() -> Tuple[Dict, Tuple[str, ...]]:
    """``data_prep.nw_ucla.convert`` of the real folder, computed once."""
    from data_prep.nw_ucla import convert
    dataset, skipped = convert(str(NW_UCLA_DIR), show_progress=False)
    return dataset, tuple(skipped)


def write_converted(directory: Path) -> str:
    """Write the converted real set as ``nw_ucla_3d.pkl`` in ``directory``."""
    path = Path(directory) / 'nw_ucla_3d.pkl'
    with open(path, 'wb') as f:
        pickle.dump(converted()[0], f, protocol=4)
    return str(path)


def annotations_by_name() -> Dict[str, Dict]:
    return {a['frame_dir']: a for a in converted()[0]['annotations']}


def names(split: str) -> List[str]:
    return converted()[0]['split'][split]
