"""Named skeleton layouts that mmaction's ``Graph`` does not know.

A layout is what mmaction's ``Graph`` already accepts as a dict::

    dict(num_node=V, inward=[(child, parent), ...], center=c)

``inward`` lists the bones, each as (joint, the joint one step closer to
``center``); 0-based joint indices. The same dict drives the graph
(``Graph(layout=...)``) and the bone stream (``JointToBoneLayout`` and
``GenSkeFeatLayout`` in :mod:`sfhead_mm.datasets.transforms`: the bone of
``child`` is ``joint[child] - joint[parent]``; a joint that is no pair's
child, the root, gets a zero bone). For mmaction's own names the transforms
keep mmaction's ``JointToBone`` lists instead, which differ from its graph
edges at NTU's hands and COCO's hips, so that they equal ``GenSkeFeat``.

mmaction's ``Graph`` knows ``'openpose'``, ``'nturgb+d'``, ``'coco'`` and
dict layouts. :func:`register_layout` adds names; importing ``sfhead_mm``
patches ``Graph.__init__`` in memory (site-packages untouched, idempotent,
see :func:`patch_graph`) so that a registered name works wherever mmaction
builds a graph, e.g. ``graph_cfg=dict(layout='nw-ucla', mode='spatial')`` in
any GCN backbone config. With the patch, dict layouts keep working as before
and are checked first: a bone naming a joint >= ``num_node`` fails with a
message naming the pair, instead of an ``IndexError`` deep in numpy.

Registered here: ``'nw-ucla'``, the 20 Kinect v1 joints of NW-UCLA (see
:data:`NW_UCLA_LAYOUT`).
"""
import functools
import numbers
from typing import Any, Dict, List, Mapping, Tuple, Union

from mmaction.models.utils.graph import Graph

__all__ = [
    'LayoutError', 'MMACTION_LAYOUTS', 'NW_UCLA_LAYOUT',
    'get_layout', 'graph_is_patched', 'layout_name', 'list_layouts',
    'patch_graph', 'register_layout'
]

LayoutLike = Union[str, Mapping[str, Any]]


class LayoutError(ValueError):
    """A layout name or layout dict cannot be used; the message says why."""


#: Names mmaction's ``Graph.set_layout`` resolves itself.
MMACTION_LAYOUTS = ('openpose', 'nturgb+d', 'coco')

#: NW-UCLA layout, 20 Kinect v1 joints in the order of the ``all_sqe`` files
#: (names in ``sfhead_mm.datasets.joint_names``). The bones are CTR-GCN's
#: ``graph/ucla.py`` edges (its 1-based pairs minus one): they point towards
#: the shoulder centre (2), the root of the bone stream, as in CTR-GCN's UCLA
#: feeder, whose bone list is these pairs plus the zero bone (3, 3) (1-based).
#: ``center`` is the
#: spine (1), the joint CTR-GCN's UCLA feeder centres every sequence on
#: (``value[0, 1, :]``); only mmaction's ``stgcn_spatial`` mode reads it
#: (CTR-GCN's ``spatial`` mode does not).
NW_UCLA_LAYOUT = dict(
    num_node=20,
    inward=[(0, 1), (1, 2), (3, 2), (4, 2), (5, 4), (6, 5), (7, 6), (8, 2),
            (9, 8), (10, 9), (11, 10), (12, 0), (13, 12), (14, 13), (15, 14),
            (16, 0), (17, 16), (18, 17), (19, 18)],
    center=1)

_REGISTRY: Dict[str, Dict[str, Any]] = {}


def _is_index(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_layout(layout: Mapping[str, Any], name: str) -> Dict[str, Any]:
    """Validate a layout dict and return a normalised copy.

    ``inward`` becomes a list of int tuples (configs turn tuples into lists).
    """
    if not isinstance(layout, Mapping):
        raise LayoutError(
            f'layout {name} must be a dict(num_node, inward, center), got '
            f'{type(layout).__name__}')
    missing = [k for k in ('num_node', 'inward', 'center') if k not in layout]
    if missing:
        raise LayoutError(
            f'layout {name} lacks {missing}: a layout is '
            'dict(num_node=V, inward=[(child, parent), ...], center=c)')
    num_node = layout['num_node']
    if not _is_index(num_node) or num_node < 1:
        raise LayoutError(
            f'layout {name}: num_node must be a positive int, got '
            f'{num_node!r}')
    inward: List[Tuple[int, int]] = []
    for pair in layout['inward']:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not all(
                _is_index(j) for j in pair):
            raise LayoutError(
                f'layout {name}: every inward entry must be a pair of joint '
                f'indices (child, parent), got {pair!r}')
        bad = [j for j in pair if not 0 <= j < num_node]
        if bad:
            raise LayoutError(
                f'layout {name}: bone pair {tuple(pair)} names joint {bad[0]} '
                f'but num_node is {num_node} (joints are 0..{num_node - 1})')
        inward.append((int(pair[0]), int(pair[1])))
    center = layout['center']
    if not _is_index(center) or not 0 <= center < num_node:
        raise LayoutError(
            f'layout {name}: center must be a joint index in '
            f'0..{num_node - 1} (num_node is {num_node}), got {center!r}')
    return dict(num_node=int(num_node), inward=inward, center=int(center))


def register_layout(name: str,
                    num_node: int,
                    inward: List[Tuple[int, int]],
                    center: int,
                    force: bool = False) -> None:
    """Register a named layout for ``Graph`` and the layout transforms.

    Args:
        name (str): The name configs use, e.g. ``'nw-ucla'``.
        num_node (int): Number of joints V.
        inward (list[tuple[int, int]]): Bones as (child, parent) joint
            indices, 0-based, parent one step closer to ``center``.
        center (int): The centre joint (used by ``stgcn_spatial``).
        force (bool): Replace a layout already registered under ``name``.
            Defaults to False.

    Raises:
        LayoutError: the layout is invalid, ``name`` is one of mmaction's
            own layouts, or ``name`` is taken and ``force`` is False.
    """
    if not isinstance(name, str) or not name:
        raise LayoutError(f'a layout name must be a non-empty str, got '
                          f'{name!r}')
    if name in MMACTION_LAYOUTS:
        raise LayoutError(
            f'{name!r} is one of mmaction\'s own layouts {MMACTION_LAYOUTS}; '
            'register yours under another name')
    checked = _check_layout(
        dict(num_node=num_node, inward=inward, center=center), repr(name))
    if name in _REGISTRY and not force and _REGISTRY[name] != checked:
        raise LayoutError(
            f'a different layout is already registered as {name!r}; pass '
            'force=True to replace it')
    _REGISTRY[name] = checked


def list_layouts() -> List[str]:
    """All layout names ``Graph`` accepts: mmaction's and registered ones."""
    return list(MMACTION_LAYOUTS) + sorted(_REGISTRY)


@functools.lru_cache(maxsize=None)
def _mmaction_layout(name: str) -> Tuple[int, Tuple[Tuple[int, int], ...],
                                         int]:
    graph = Graph.__new__(Graph)  # set_layout only, no adjacency matrices
    graph.set_layout(name)
    return graph.num_node, tuple(map(tuple, graph.inward)), graph.center


def get_layout(layout: LayoutLike) -> Dict[str, Any]:
    """Resolve a layout name or dict to ``dict(num_node, inward, center)``.

    Args:
        layout (str or dict): A registered name (e.g. ``'nw-ucla'``), one of
            mmaction's (``'openpose'``, ``'nturgb+d'``, ``'coco'``), or a
            dict with ``num_node``, ``inward`` and ``center``.

    Returns:
        dict: A new, validated dict; ``inward`` is a list of int tuples.

    Raises:
        LayoutError: unknown name, or an invalid dict (the message names the
            offending field, e.g. a bone pair and ``num_node``).
    """
    if isinstance(layout, str):
        if layout in _REGISTRY:
            found = _REGISTRY[layout]
            return dict(found, inward=list(found['inward']))
        if layout in MMACTION_LAYOUTS:
            num_node, inward, center = _mmaction_layout(layout)
            return dict(num_node=num_node, inward=list(inward), center=center)
        raise LayoutError(
            f'unknown layout {layout!r}; known names: {list_layouts()}, or '
            'give dict(num_node=V, inward=[(child, parent), ...], center=c)')
    return _check_layout(layout, 'dict')


def layout_name(layout: LayoutLike) -> str:
    """A short description of a layout for messages."""
    if isinstance(layout, str):
        return repr(layout)
    return f'dict(num_node={layout.get("num_node")}, ...)'


# --------------------------------------------------------------------------
# The Graph patch
# --------------------------------------------------------------------------
def _patched_init(self: Graph,
                  layout: LayoutLike = 'coco',
                  mode: str = 'spatial',
                  max_hop: int = 1) -> None:
    """``Graph.__init__`` that also resolves registered layout names.

    A registered name is handed to mmaction's ``__init__`` as its layout
    dict, and ``self.layout`` is set back to the name. A dict is validated
    first. mmaction's names go through unchanged.
    """
    original = Graph._sfhead_original_init
    if isinstance(layout, str) and layout in _REGISTRY:
        original(self, get_layout(layout), mode, max_hop)
        self.layout = layout
        return
    if isinstance(layout, Mapping):
        get_layout(layout)  # clear errors before mmaction's asserts
    original(self, layout, mode, max_hop)


_patched_init._sfhead_layouts = True  # type: ignore[attr-defined]


def graph_is_patched() -> bool:
    """Whether ``Graph.__init__`` resolves registered layout names."""
    return getattr(Graph.__init__, '_sfhead_layouts', False)


def patch_graph() -> bool:
    """Make mmaction's ``Graph`` accept registered layout names.

    Replaces ``mmaction.models.utils.graph.Graph.__init__`` in memory (every
    module that imported ``Graph`` shares the class, so all backbones see
    it). The original is kept as ``Graph._sfhead_original_init``. Calling it
    again does nothing.

    Returns:
        bool: True if this call installed the patch, False if it was there.
    """
    if graph_is_patched():
        return False
    Graph._sfhead_original_init = Graph.__init__
    Graph.__init__ = _patched_init
    return True


register_layout('nw-ucla', **NW_UCLA_LAYOUT)
patch_graph()
