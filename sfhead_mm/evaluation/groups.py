"""Named groups of ambiguous (look-alike) classes.

``ntu120-sfhead`` are the 9 groups (23 actions) of NTU RGB+D 120 that the
SF-Head paper analyses in its Fig. 3; all of them are NTU60 actions too.
Groups are given by class names (of ``sfhead_mm.datasets.class_names``)
and resolved to indices against the class list in use.
"""
from typing import Dict, List, Sequence, Union

__all__ = ['GROUP_PRESETS', 'resolve_groups']

GROUP_PRESETS: Dict[str, Dict[str, List[str]]] = {
    'ntu120-sfhead': {
        'writing/typing/phone/reading': [
            'writing', 'typing on a keyboard', 'playing with phone/tablet',
            'reading'
        ],
        'jump up/hopping': ['jump up', 'hopping (one foot jumping)'],
        'clapping/rub hands/tear paper':
        ['clapping', 'rub two hands together', 'tear up paper'],
        'take off/wear jacket': ['take off jacket', 'wear jacket'],
        'shake/nod head': ['shake head', 'nod head/bow'],
        'stand up/sit down':
        ['standing up (from sitting position)', 'sitting down'],
        'salute/selfie/brush hair/wave': [
            'salute', 'taking a selfie', 'brushing hair', 'hand waving'
        ],
        'take off/wear shoe': ['take off a shoe', 'wear a shoe'],
        'wear/take off glasses': ['wear on glasses', 'take off glasses'],
    }
}


def resolve_groups(groups: Union[str, Dict[str, Sequence[Union[str, int]]]],
                   class_names: Sequence[str]) -> Dict[str, List[int]]:
    """Turn a preset name or ``{group: [class name or index]}`` into indices.

    Raises:
        KeyError: an unknown preset or class name, naming it and the group.
        ValueError: an index outside ``0..len(class_names)-1``.
    """
    if isinstance(groups, str):
        if groups not in GROUP_PRESETS:
            raise KeyError(f'unknown group preset {groups!r}; presets: '
                           f'{sorted(GROUP_PRESETS)}')
        groups = GROUP_PRESETS[groups]
    index = {name: i for i, name in enumerate(class_names)}
    resolved = {}
    for group, members in groups.items():
        ids = []
        for member in members:
            if isinstance(member, int):
                if not 0 <= member < len(class_names):
                    raise ValueError(
                        f'group {group!r}: class index {member} outside '
                        f'0..{len(class_names) - 1}')
                ids.append(member)
            elif member in index:
                ids.append(index[member])
            else:
                raise KeyError(f'group {group!r}: unknown class name '
                               f'{member!r} (not among the '
                               f'{len(class_names)} class names)')
        resolved[group] = ids
    return resolved
