"""Score files written by ``tools/test.py --dump`` and their fusion.

Format (a pickle): ``dict(format='sfhead_mm-scores-v1', scores=float32
(N, K), labels=int64 (N,), sample_ids=[str] * N, meta=dict(config=...,
checkpoint=..., ann_file=..., split=...))``. ``sample_ids`` are the
``frame_dir`` of each sample, in the test set's order.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np

from sfhead_mm.fileio import (UnsafePickleError, load_pickle_safely,
                              write_pickle_atomic)

__all__ = [
    'ENSEMBLE_PRESETS', 'ENSEMBLE_STREAMS', 'SCORE_FORMAT', 'ScoreFileError', 'check_same_samples',
    'fuse_scores', 'load_scores', 'save_scores'
]

SCORE_FORMAT = 'sfhead_mm-scores-v1'

# Published stream weights, in the order of ENSEMBLE_STREAMS: CTR-GCN's
# ensemble.py (0.6/0.6/0.4/0.4), mmaction's skeleton README (2:2:1:1), and
# InfoGCN's ensemble.py, which weighs its position scores 1.5 and its motion
# scores 1 (`--position_ckpts` then `--motion_ckpts`); its six streams are
# (I - A^k) x for k = 1, 2, 8 (configs/ctrgcn_sixstream/), the SF-Head
# paper's headline ensemble.
ENSEMBLE_PRESETS: Dict[str, List[float]] = {
    'ctrgcn': [0.6, 0.6, 0.4, 0.4],
    'mmaction': [2.0, 2.0, 1.0, 1.0],
    'infogcn': [1.5, 1.5, 1.5, 1.0, 1.0, 1.0],
}
#: The stream each preset weight is for, in order; score files are given in
#: this order (fewer files take the first weights).
ENSEMBLE_STREAMS: Dict[str, List[str]] = {
    'ctrgcn': ['joint', 'bone', 'joint-motion', 'bone-motion'],
    'mmaction': ['joint', 'bone', 'joint-motion', 'bone-motion'],
    'infogcn': ['k1', 'k2', 'k8', 'k1-motion', 'k2-motion', 'k8-motion'],
}


class ScoreFileError(ValueError):
    """A score file is unreadable or does not match the others."""


def save_scores(path: str, scores: np.ndarray, labels: np.ndarray,
                sample_ids: Sequence[str], meta: Optional[dict] = None) -> None:
    """Write a score file atomically."""
    scores = np.asarray(scores, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int64)
    if scores.ndim != 2 or len(scores) != len(labels) != len(sample_ids):
        raise ScoreFileError(
            f'{path}: scores {scores.shape}, labels {labels.shape} and '
            f'{len(sample_ids)} sample ids do not line up')
    write_pickle_atomic(
        dict(format=SCORE_FORMAT, scores=scores, labels=labels,
             sample_ids=list(sample_ids), meta=dict(meta or {})), path)


def load_scores(path: str) -> dict:
    """Read and check a score file.

    Raises:
        ScoreFileError: naming the file and the field that is wrong.
    """
    if not osp.isfile(path):
        raise ScoreFileError(f'score file not found: {path}')
    try:  # never plain pickle.load: a crafted score file would run code
        data = load_pickle_safely(path)
    except UnsafePickleError as err:
        raise ScoreFileError(f'{path}: refused, not loaded: {err} (score '
                             'files hold only arrays, lists and strings)'
                             ) from None
    except Exception as err:
        raise ScoreFileError(f'{path}: not a readable pickle ({err})') from err
    if not isinstance(data, dict) or data.get('format') != SCORE_FORMAT:
        raise ScoreFileError(
            f'{path}: not a sfhead_mm score file (expected a dict with '
            f"format={SCORE_FORMAT!r}, written by tools/test.py --dump)")
    scores, labels = np.asarray(data['scores']), np.asarray(data['labels'])
    if scores.ndim != 2 or labels.shape != (len(scores), ):
        raise ScoreFileError(f'{path}: "scores" must be (N, K) and "labels" '
                             f'(N,), got {scores.shape} and {labels.shape}')
    if len(data.get('sample_ids', [])) != len(scores):
        raise ScoreFileError(f'{path}: {len(data.get("sample_ids", []))} '
                             f'"sample_ids" for {len(scores)} scores')
    if not np.issubdtype(scores.dtype, np.number):
        raise ScoreFileError(f'{path}: "scores" holds {scores.dtype}, '
                             'expected numbers')
    bad = np.flatnonzero(~np.isfinite(scores).all(axis=1))
    if len(bad):
        raise ScoreFileError(
            f'{path}: "scores" of {len(bad)} of {len(scores)} samples are '
            f'NaN or infinite (first: {data["sample_ids"][bad[0]]!r}); the '
            'checkpoint that produced them diverged')
    return data


def check_same_samples(files: Dict[str, dict]) -> None:
    """All score files must cover the same samples in the same order.

    Args:
        files: ``{path: loaded score file}``.

    Raises:
        ScoreFileError: which file differs from the first, and how.
    """
    (ref_path, ref), *others = list(files.items())
    for path, data in others:
        if data['scores'].shape[1] != ref['scores'].shape[1]:
            raise ScoreFileError(
                f'{path} has {data["scores"].shape[1]} classes but '
                f'{ref_path} has {ref["scores"].shape[1]}')
        if len(data['labels']) != len(ref['labels']):
            raise ScoreFileError(
                f'{path} has {len(data["labels"])} samples but {ref_path} '
                f'has {len(ref["labels"])}: they are not the same split')
        if list(data['sample_ids']) != list(ref['sample_ids']):
            first = next(i for i, (a, b) in enumerate(
                zip(data['sample_ids'], ref['sample_ids'])) if a != b)
            raise ScoreFileError(
                f'{path} and {ref_path} differ at sample {first} '
                f'({data["sample_ids"][first]!r} vs '
                f'{ref["sample_ids"][first]!r}): not the same split in the '
                'same order')
        if not np.array_equal(data['labels'], ref['labels']):
            raise ScoreFileError(f'{path} and {ref_path} have different '
                                 'labels for the same samples')


def fuse_scores(scores: Sequence[np.ndarray],
                weights: Sequence[float]) -> np.ndarray:
    """Weighted sum of (N, K) score arrays."""
    if len(scores) != len(weights):
        raise ScoreFileError(
            f'{len(weights)} weights for {len(scores)} score files')
    return sum(w * np.asarray(s, dtype=np.float64)
               for s, w in zip(scores, weights))
