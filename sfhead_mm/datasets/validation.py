"""Pre-flight checks of PoseDataset annotation files named in a config.

mmaction's ``PoseDataset`` fails late and obscurely on a missing file, a
pickle of the wrong shape or labels beyond ``num_classes`` (the last one only
as a CUDA assert or a silent wrong loss). We check before the Runner is
built and name the file, the field and what was expected.
"""
import os.path as osp
import pickle
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    'AnnotationError', 'check_finite', 'check_pose_annotations',
    'check_dataloader_annotations',
    'iter_dataset_cfgs', 'load_annotation_file', 'pose_datasets'
]


class AnnotationError(ValueError):
    """An annotation file cannot be used; the message says why."""


def load_annotation_file(path: str) -> Any:
    """Unpickle an annotation file, with errors that name it."""
    if not osp.isfile(path):
        raise AnnotationError(f'annotation file not found: {path}')
    with open(path, 'rb') as f:
        head = f.read(1)
        f.seek(0)
        if head != b'\x80':
            raise AnnotationError(
                f'{path} is not a pickle file (expected a PoseDataset pickle '
                'written by pickle/mmengine.dump; see data_prep/)')
        try:
            return pickle.load(f)
        except Exception as err:  # truncated or foreign pickle
            raise AnnotationError(
                f'{path} could not be unpickled ({type(err).__name__}: {err})'
            ) from err


def check_finite(array: Any, where: str, field: str) -> None:
    """Refuse a numeric array with NaN/inf (as float32, as training
    sees it), naming the first bad index.

    Raises:
        AnnotationError: ``{where}: "{field}" has N non-finite values...``.
    """
    array = np.asarray(array)
    if not np.issubdtype(array.dtype, np.number):
        raise AnnotationError(f'{where}: "{field}" holds {array.dtype}, '
                              'expected numbers')
    with np.errstate(over='ignore'):
        bad = np.argwhere(~np.isfinite(array.astype(np.float32,
                                                    copy=False)))
    if len(bad):
        raise AnnotationError(
            f'{where}: "{field}" has {len(bad)} non-finite values (NaN, inf '
            f'or beyond float32), first at index {bad[0].tolist()}; one '
            'such value makes the loss NaN')


def check_pose_annotations(path: str,
                           split: Optional[str] = None,
                           num_classes: Optional[int] = None,
                           data: Any = None) -> Dict:
    """Check one PoseDataset pickle and return a small summary.

    Args:
        path: the ``ann_file``.
        split: the split the config selects, or None for all samples.
        num_classes: the classifier's ``num_classes``; every label of the
            selected samples must lie in ``[0, num_classes)``.
        data: the file's content when already loaded (read otherwise).

    Returns:
        dict: ``num_samples``, ``max_label``, ``keypoint_channels``.

    Raises:
        AnnotationError: naming the file and the offending field.
    """
    if data is None:
        data = load_annotation_file(path)
    if isinstance(data, dict):
        if 'annotations' not in data:
            raise AnnotationError(
                f'{path}: a PoseDataset pickle needs the field '
                f'"annotations" (a list of dicts); found keys '
                f'{sorted(data)[:10]}')
        annotations = data['annotations']
    elif isinstance(data, list):
        annotations = data
    else:
        raise AnnotationError(
            f'{path}: expected a dict(split=..., annotations=[...]) or a '
            f'list of annotation dicts, got {type(data).__name__}')
    if not isinstance(annotations, list) or not all(
            isinstance(a, dict) for a in annotations):
        raise AnnotationError(
            f'{path}: "annotations" must be a list of dicts')
    if split is not None:
        splits = data.get('split') if isinstance(data, dict) else None
        if not isinstance(splits, dict) or split not in splits:
            known = sorted(splits) if isinstance(splits, dict) else []
            raise AnnotationError(
                f'{path}: the config selects split={split!r} but the file '
                f'has splits {known}')
        wanted = set(splits[split])
        annotations = [a for a in annotations if a.get('frame_dir') in wanted]
    if not annotations:
        raise AnnotationError(
            f'{path}: no samples' + (f' in split {split!r}' if split else ''))
    max_label, channels = -1, set()
    for i, ann in enumerate(annotations):
        where = f'{path}: sample {i} ({ann.get("frame_dir", "?")})'
        for key in ('label', 'keypoint'):
            if key not in ann:
                raise AnnotationError(f'{where} has no field "{key}"')
        label = ann['label']
        if isinstance(label, (bool, np.bool_)) or not isinstance(
                label, (int, np.integer)):
            raise AnnotationError(
                f'{where}: "label" must be an integer class index, got '
                f'{label!r} ({type(label).__name__})')
        label = int(label)
        if label < 0:
            raise AnnotationError(f'{where}: label {label} is negative')
        max_label = max(max_label, label)
        kp = np.asarray(ann['keypoint'])
        if kp.ndim != 4:
            raise AnnotationError(
                f'{where}: "keypoint" must be [M, T, V, C], got shape '
                f'{kp.shape}')
        check_finite(kp, where, 'keypoint')
        if 'keypoint_score' in ann:
            check_finite(ann['keypoint_score'], where, 'keypoint_score')
        frames = ann.get('total_frames', kp.shape[1])
        if not isinstance(frames, (int, np.integer)) or \
                frames != kp.shape[1]:
            raise AnnotationError(
                f'{where}: "total_frames" is {frames!r} but "keypoint" has '
                f'{kp.shape[1]} frames (shape {list(kp.shape)}); they must '
                'be equal')
        channels.add(kp.shape[-1])
    if num_classes is not None and max_label >= num_classes:
        raise AnnotationError(
            f'{path}: labels go up to {max_label} but the model has '
            f'num_classes={num_classes} (model.cls_head.num_classes); set it '
            f'to at least {max_label + 1}')
    return dict(
        num_samples=len(annotations),
        max_label=max_label,
        keypoint_channels=sorted(channels))


def iter_dataset_cfgs(dataset_cfg: Any) -> Iterator[Any]:
    """Yield the leaf dataset configs under wrappers (Repeat/Concat)."""
    if dataset_cfg is None:
        return
    if 'dataset' in dataset_cfg:
        yield from iter_dataset_cfgs(dataset_cfg['dataset'])
    elif 'datasets' in dataset_cfg:
        for sub in dataset_cfg['datasets']:
            yield from iter_dataset_cfgs(sub)
    else:
        yield dataset_cfg


def pose_datasets(cfg: Any,
                  loaders: Sequence[str]) -> Iterator[Tuple[str, Any, str]]:
    """``(loader name, dataset cfg, ann_file path)`` of every PoseDataset
    under the given dataloaders (``data_root`` applied)."""
    for name in loaders:
        loader = cfg.get(name)
        if not loader:
            continue
        for ds in iter_dataset_cfgs(loader.get('dataset')):
            if ds.get('type') != 'PoseDataset' or not ds.get('ann_file'):
                continue
            path = ds['ann_file']
            if ds.get('data_root') and not osp.isabs(path):
                path = osp.join(ds['data_root'], path)
            yield name, ds, path


def check_dataloader_annotations(cfg: Any,
                                 loaders: Sequence[str],
                                 loaded: Optional[Dict[str, Any]] = None
                                 ) -> List[Dict]:
    """Check every PoseDataset ``ann_file`` used by the given dataloaders.

    Args:
        loaded: filled with ``{path: unpickled content}`` so that later
            checks need not read the files again.
    """
    head = cfg.get('model', {}).get('cls_head') or {}
    num_classes = head.get('num_classes')
    loaded = {} if loaded is None else loaded
    summaries = []
    for name, ds, path in pose_datasets(cfg, loaders):
        try:
            if path not in loaded:
                loaded[path] = load_annotation_file(path)
            summary = check_pose_annotations(path, ds.get('split'),
                                             num_classes, loaded[path])
        except AnnotationError as err:
            raise AnnotationError(f'{name}.dataset: {err}') from None
        summaries.append(dict(summary, loader=name, ann_file=path))
    return summaries
