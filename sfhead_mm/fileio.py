"""Atomic file output: a reader sees the old file or the new one, never half."""
import os
import os.path as osp
import pickle
import tempfile
from typing import Callable, Sequence

__all__ = [
    'OutputPathError', 'PICKLE_PROTOCOL', 'SAFE_PICKLE_GLOBALS',
    'UnsafePickleError', 'check_output_path', 'load_pickle_safely',
    'save_figure_atomic', 'write_atomic', 'write_pickle_atomic',
    'write_text_atomic'
]

PICKLE_PROTOCOL = 4  # stable bytes across Python versions >= 3.4


class OutputPathError(ValueError):
    """An output path cannot be written; the message names it and why."""


def check_output_path(path: str, inputs: Sequence[str] = (),
                      what: str = '--out') -> None:
    """Check, before any work, that ``path`` can be written as a file.

    Refused: a directory; a path below an existing file; a directory that
    exists but is not writable; one of ``inputs`` (the output would
    overwrite its own input).

    Args:
        path: the output file.
        inputs: the files the command reads.
        what: how the user gave it, for the message (``--out``, ``OUT``).

    Raises:
        OutputPathError: naming ``what``, the path and the reason.
    """
    if osp.isdir(path):
        raise OutputPathError(f'{what} {path} is a directory; give a file '
                              'name')
    for given in inputs:
        if osp.exists(path) and osp.exists(given) and osp.samefile(
                path, given) or osp.realpath(path) == osp.realpath(given):
            raise OutputPathError(
                f'{what} {path} is the input {given}; writing it would '
                'replace the input. Give another output file.')
    parent = osp.dirname(osp.abspath(path))
    while not osp.exists(parent):
        parent = osp.dirname(parent)
    if not osp.isdir(parent):
        raise OutputPathError(f'{what} {path} cannot be created: {parent} '
                              'is a file, not a directory')
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputPathError(f'{what} {path} cannot be written: no write '
                              f'permission in {parent}')


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle names a global outside :data:`SAFE_PICKLE_GLOBALS`."""


# What pickles of plain data and numpy arrays name (numpy 1.x and 2.x
# paths, protocols 2-5); nothing that can run code.
SAFE_PICKLE_GLOBALS = frozenset(
    (module, name) for module in ('numpy.core.multiarray',
                                  'numpy._core.multiarray')
    for name in ('_reconstruct', 'scalar')) | frozenset(
        (module, '_frombuffer') for module in ('numpy.core.numeric',
                                               'numpy._core.numeric')) | {
            ('numpy', 'ndarray'), ('numpy', 'dtype'),
            ('collections', 'OrderedDict')
}


class _RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that resolves only allow-listed globals."""

    def find_class(self, module: str, name: str):
        if (module, name) in SAFE_PICKLE_GLOBALS or (
                module == 'numpy.dtypes' and name.endswith('DType')):
            return super().find_class(module, name)
        raise UnsafePickleError(
            f'it names {module}.{name}, which is outside the allow-list of '
            'plain data and numpy arrays')


def load_pickle_safely(path: str) -> object:
    """Unpickle a data file (dicts, lists, strings, numbers, numpy arrays)
    without running code: any other global is refused.

    Raises:
        UnsafePickleError: the file names a global outside the allow-list
            (a crafted file, or one holding other objects).
    """
    with open(path, 'rb') as f:
        return _RestrictedUnpickler(f).load()


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
