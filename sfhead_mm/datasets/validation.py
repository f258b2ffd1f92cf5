"""Pre-flight checks of PoseDataset annotation files named in a config,
and the keypoint shape check they share with the pipeline transforms.

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
    'iter_dataset_cfgs', 'load_annotation_file', 'pose_datasets',
    'KeypointShapeError', 'check_keypoint_array', 'check_keypoint_shapes',
    'expected_keypoint_shape', 'sample_name'
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


# --------------------------------------------------------------------------
# Keypoint shapes (V joints, C channels) against the config
# --------------------------------------------------------------------------
class KeypointShapeError(AnnotationError):
    """Keypoints do not fit what the config expects; the message says how."""


def sample_name(results: Dict) -> str:
    for key in ('frame_dir', 'filename'):
        if key in results:
            return repr(str(results[key]))
    return '(unnamed)'


def _describe_channels(channels: int, with_score: bool = False) -> str:
    if with_score:
        return f'{channels - 1}D coordinates + score'
    return {2: '2D: x, y', 3: '3D: x, y, z (or 2D x, y + score)'}.get(
        channels, f'{channels} values per joint')


def check_keypoint_array(keypoint: np.ndarray, where: str,
                         num_node: Optional[int] = None,
                         channels: Optional[int] = None,
                         with_score: bool = False,
                         layout_desc: str = '') -> None:
    """Raise :class:`KeypointShapeError` when V or C do not fit."""
    shape = tuple(np.shape(keypoint))
    if len(shape) != 4:
        raise KeypointShapeError(
            f'{where}: keypoint must be [M, T, V, C], got shape {shape}')
    _, _, V, C = shape
    C_eff = C + int(with_score)
    if num_node is not None and V != num_node:
        raise KeypointShapeError(
            f'{where}: keypoint has V={V} joints (shape [M, T, V, C] = '
            f'{list(shape)}) but the config expects {num_node}'
            f'{" (layout " + layout_desc + ")" if layout_desc else ""}; use '
            'the layout the data was recorded with')
    if channels is not None and C_eff != channels:
        got = _describe_channels(C_eff, with_score)
        raise KeypointShapeError(
            f'{where}: keypoint has C={C_eff} channels per joint ({got}; '
            f'shape [M, T, V, C] = {list(shape)}'
            f'{" + keypoint_score" if with_score else ""}) but the config '
            f'expects {channels} ({_describe_channels(channels)}). A 2D '
            'pickle needs a 2D config and a 3D pickle a 3D config; '
            'model.backbone.in_channels = channels x number of feats.')


_FEATURE_TRANSFORMS = ('GenSkeFeat', 'GenSkeFeatLayout',
                       'GenSkeFeatAdjacencyPower')


def expected_keypoint_shape(cfg: Any, pipeline: Sequence[Dict]
                            ) -> Tuple[Optional[int], Optional[int], str]:
    """What a pipeline + model expect of the stored keypoints.

    Args:
        cfg: The config (reads ``model.backbone.in_channels``, default 3,
            and ``model.backbone.graph_cfg``).
        pipeline: The dataset's pipeline (reads the ``feats`` of
            ``GenSkeFeat``/``GenSkeFeatLayout``/``GenSkeFeatAdjacencyPower``,
            default ``['j']``).

    Returns:
        tuple: ``(num_node or None, channels or None, explanation)`` where
        ``channels`` counts values per joint as stored (plus one for a
        ``keypoint_score``).
    """
    from mmaction.models.utils import Graph
    backbone = (cfg.get('model') or {}).get('backbone') or {}
    in_channels = backbone.get('in_channels', 3)
    num_node = None
    if backbone.get('graph_cfg'):
        num_node = Graph(**backbone['graph_cfg']).num_node
    feats = ['j']
    for step in pipeline or []:
        if step.get('type') in _FEATURE_TRANSFORMS:
            feats = list(step.get('feats', ['j']))
    channels = in_channels // len(feats) \
        if in_channels % len(feats) == 0 else None
    why = (f'model.backbone.in_channels={in_channels} / {len(feats)} stream(s)'
           f' {feats}')
    return num_node, channels, why


def check_keypoint_shapes(cfg: Any,
                          loaders: Sequence[str] = ('train_dataloader',
                                                    'val_dataloader',
                                                    'test_dataloader'),
                          loaded: Optional[Dict[str, Any]] = None) -> None:
    """Check V and C of every sample against the model, before training.

    For each ``PoseDataset`` with a GCN pipeline (``FormatGCNInput``) of the
    given dataloaders, every sample of its split must have ``num_node``
    joints (the backbone graph's) and
    ``in_channels / len(feats)`` values per joint (a ``keypoint_score``
    counts as one). Meant for the pre-flight checks of ``tools/train.py``
    and ``tools/test.py``; it reads only shapes.

    Args:
        cfg: The merged config.
        loaders: Dataloader fields to check.
        loaded (dict, optional): Already unpickled annotation files by
            ``ann_file`` path, to avoid reading large files twice.

    Raises:
        KeypointShapeError: naming the loader, the file, the sample, its
            shape and what the config expects.
    """
    loaded = {} if loaded is None else loaded
    for name, ds, path in pose_datasets(cfg, loaders):
        types = [step.get('type') for step in ds.get('pipeline') or []]
        if 'FormatGCNInput' not in types:
            continue  # not a GCN pipeline (e.g. PoseC3D heatmaps)
        num_node, channels, why = expected_keypoint_shape(
            cfg, ds.get('pipeline'))
        if path not in loaded:
            loaded[path] = load_annotation_file(path)
        data = loaded[path]
        annotations = data['annotations'] if isinstance(data, dict) \
            else data
        wanted = None
        if ds.get('split') is not None and isinstance(data, dict):
            wanted = set(data.get('split', {}).get(ds['split'], []))
        for i, ann in enumerate(annotations):
            if wanted is not None and ann.get('frame_dir') not in wanted:
                continue
            try:
                where = f'sample {i} ({ann.get("frame_dir", "?")})'
                check_keypoint_array(ann['keypoint'], where,
                                     num_node, channels,
                                     'keypoint_score' in ann)
            except KeypointShapeError as err:
                raise KeypointShapeError(
                    f'{name}.dataset: {path}: {err} [{why}]') from None
