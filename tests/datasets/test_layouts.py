"""Named layouts for mmaction's Graph: 'nw-ucla', the in-memory patch, dict
layouts (unchanged, but checked) and registration."""
import numpy as np
import pytest
from mmaction.models.utils import Graph

from sfhead_mm.datasets import layouts
from sfhead_mm.datasets.layouts import (NW_UCLA_LAYOUT, LayoutError,
                                        get_layout, list_layouts, patch_graph,
                                        register_layout)

# CTR-GCN graph/ucla.py, 1-based (child, parent), written out here again.
CTRGCN_UCLA_EDGES = [(1, 2), (2, 3), (4, 3), (5, 3), (6, 5), (7, 6), (8, 7),
                     (9, 3), (10, 9), (11, 10), (12, 11), (13, 1), (14, 13),
                     (15, 14), (16, 15), (17, 1), (18, 17), (19, 18),
                     (20, 19)]


def _spatial_reference(edges, num_node):
    """CTR-GCN's get_spatial_graph: I, column-normalised in, out."""
    def norm(adjacency):
        degree = adjacency.sum(0)
        scale = np.where(degree > 0, 1 / np.maximum(degree, 1), 0)
        return adjacency * scale[None]
    inward = np.zeros((num_node, num_node))
    for child, parent in edges:
        inward[parent, child] = 1
    return np.stack([np.eye(num_node), norm(inward), norm(inward.T)])


def test_nw_ucla_graph_is_ctrgcn_ucla_graph():
    graph = Graph(layout='nw-ucla', mode='spatial')
    assert graph.layout == 'nw-ucla'
    assert graph.num_node == 20 and graph.center == 1
    edges = [(i - 1, j - 1) for i, j in CTRGCN_UCLA_EDGES]
    np.testing.assert_allclose(graph.A, _spatial_reference(edges, 20))
    # the other mmaction modes work as well
    assert Graph(layout='nw-ucla', mode='stgcn_spatial').A.shape == (3, 20,
                                                                      20)
    assert Graph(layout='nw-ucla', mode='binary_adj').A.shape == (1, 20, 20)


def test_nw_ucla_is_a_tree_rooted_at_shoulder_center():
    children = [c for c, _ in NW_UCLA_LAYOUT['inward']]
    assert sorted(children) == [j for j in range(20) if j != 2]
    from sfhead_mm.datasets.joint_names import JOINT_NAMES
    names = JOINT_NAMES['nw-ucla']
    assert len(names) == 20
    assert names[NW_UCLA_LAYOUT['center']] == 'spine'
    assert names[2] == 'shoulder center'


def test_patch_is_idempotent_and_keeps_the_original():
    assert layouts.graph_is_patched()
    original = Graph._sfhead_original_init
    assert not getattr(original, '_sfhead_layouts', False)
    assert patch_graph() is False
    assert Graph._sfhead_original_init is original
    assert patch_graph() is False  # calling again does not stack patches
    assert Graph._sfhead_original_init is original
    assert Graph(layout='nw-ucla').num_node == 20


@pytest.mark.parametrize('name', ['openpose', 'nturgb+d', 'coco'])
def test_mmaction_layouts_unchanged(name):
    plain = Graph.__new__(Graph)
    Graph._sfhead_original_init(plain, name, 'spatial', 1)
    patched = Graph(layout=name, mode='spatial')
    np.testing.assert_array_equal(patched.A, plain.A)
    assert patched.layout == name
    resolved = get_layout(name)
    assert resolved['num_node'] == plain.num_node
    assert resolved['inward'] == [tuple(p) for p in plain.inward]


def test_dict_layout_keeps_working():
    layout = dict(num_node=7, inward=[[1, 0], [2, 1], [3, 1], [4, 1],
                                      [5, 0], [6, 0]], center=0)
    plain = Graph.__new__(Graph)
    Graph._sfhead_original_init(plain, layout, 'spatial', 1)
    for mode in ('spatial', 'stgcn_spatial'):
        Graph._sfhead_original_init(plain, layout, mode, 1)
        np.testing.assert_array_equal(Graph(layout=layout, mode=mode).A,
                                      plain.A)
    assert get_layout(layout)['inward'][0] == (1, 0)


@pytest.mark.parametrize('layout, words', [
    (dict(num_node=7, inward=[(1, 0), (7, 1)], center=0),
     ['bone pair (7, 1) names joint 7', 'num_node is 7', '0..6']),
    (dict(num_node=7, inward=[(1, -1)], center=0),
     ['bone pair (1, -1) names joint -1']),
    (dict(num_node=7, inward=[(1, 0)]), ["lacks ['center']"]),
    (dict(num_node=7, inward=[(1, 0)], center=9), ['center must be',
                                                   '0..6']),
    (dict(num_node=7, inward=[(1, 0, 2)], center=0), ['pair of joint']),
    (dict(num_node=0, inward=[], center=0), ['num_node must be']),
])
def test_bad_dict_layout_messages(layout, words):
    for build in (lambda: Graph(layout=layout), lambda: get_layout(layout)):
        with pytest.raises(LayoutError) as err:
            build()
        for word in words:
            assert word in str(err.value)


def test_unknown_name_lists_known_names():
    with pytest.raises(LayoutError, match="unknown layout 'nw_ucla'.*"
                       "'nw-ucla'"):
        get_layout('nw_ucla')
    assert {'nw-ucla', 'nturgb+d', 'coco', 'openpose'} <= set(list_layouts())
    with pytest.raises(AssertionError):  # mmaction's own check, unchanged
        Graph(layout='nw_ucla')


def test_register_layout():
    register_layout('test-3-joints', num_node=3, inward=[(1, 0), (2, 1)],
                    center=0)
    try:
        graph = Graph(layout='test-3-joints', mode='spatial')
        assert graph.layout == 'test-3-joints' and graph.A.shape == (3, 3, 3)
        # same again is fine, a different one needs force=True
        register_layout('test-3-joints', 3, [(1, 0), (2, 1)], 0)
        with pytest.raises(LayoutError, match='force=True'):
            register_layout('test-3-joints', 3, [(1, 0), (2, 0)], 0)
        register_layout('test-3-joints', 3, [(1, 0), (2, 0)], 0, force=True)
        assert get_layout('test-3-joints')['inward'] == [(1, 0), (2, 0)]
    finally:
        layouts._REGISTRY.pop('test-3-joints')
    with pytest.raises(LayoutError, match="mmaction's own layouts"):
        register_layout('coco', 3, [(1, 0)], 0)
    with pytest.raises(LayoutError, match='names joint 3'):
        register_layout('test-bad', 3, [(3, 0)], 0)
    assert 'test-bad' not in list_layouts()


def test_get_layout_returns_a_copy():
    first = get_layout('nw-ucla')
    first['inward'].append((0, 0))
    assert (0, 0) not in get_layout('nw-ucla')['inward']


def test_backbones_build_with_the_named_layout():
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    register_all_modules()
    for backbone in (dict(type='CTRGCN', num_person=1),
                     dict(type='STGCN'), dict(type='AAGCN')):
        model = MODELS.build(dict(
            backbone, graph_cfg=dict(layout='nw-ucla', mode='spatial')))
        assert model.graph.num_node == 20
