"""Atomic file output: a reader sees the old file or the new one, never half."""
import os
import os.path as osp
import pickle
import tempfile
from typing import Callable

__all__ = [
    'PICKLE_PROTOCOL', 'save_figure_atomic', 'write_atomic',
    'write_pickle_atomic', 'write_text_atomic'
]

PICKLE_PROTOCOL = 4  # stable bytes across Python versions >= 3.4


def write_atomic(path: str, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)`` then move the result onto ``path``.

    The temporary file lives in the same directory (so ``os.replace`` is
    atomic); on any failure it is removed and ``path`` is left as it was.
    The directory is created if missing.
    """
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(
        prefix=f'.{osp.basename(path)}.', suffix='.tmp', dir=directory)
    os.close(fd)
    try:
        write(tmp_path)
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise


def write_pickle_atomic(obj: object, path: str) -> None:
    """Pickle ``obj`` (protocol 4) to ``path`` atomically."""

    def dump(tmp_path: str) -> None:
        with open(tmp_path, 'wb') as f:
            pickle.dump(obj, f, protocol=PICKLE_PROTOCOL)
            f.flush()
            os.fsync(f.fileno())

    write_atomic(path, dump)


def save_figure_atomic(fig, path: str, dpi: int = 120) -> None:
    """Save a matplotlib figure as PNG atomically."""
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format='png'))


def write_text_atomic(text: str, path: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""

    def write(tmp_path: str) -> None:
        with open(tmp_path, 'w', encoding='utf-8') as f:
            f.write(text)

    write_atomic(path, write)
