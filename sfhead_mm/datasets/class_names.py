"""Class names of the datasets we support, in label order (label = index).

NTU RGB+D 60 is the first 60 entries of NTU RGB+D 120 (actions A1-A120).
PKU-MMD phase I: the 51 actions in the order of the release's label ids
(alphabetical). NW-UCLA: the 10 actions a01-a06, a08, a09, a11, a12.
"""
from typing import Dict, List

__all__ = ['CLASS_NAMES', 'get_class_names']

NTU120 = [
    'drink water', 'eat meal/snack', 'brushing teeth', 'brushing hair',
    'drop', 'pickup', 'throw', 'sitting down',
    'standing up (from sitting position)', 'clapping', 'reading', 'writing',
    'tear up paper', 'wear jacket', 'take off jacket', 'wear a shoe',
    'take off a shoe', 'wear on glasses', 'take off glasses',
    'put on a hat/cap', 'take off a hat/cap', 'cheer up', 'hand waving',
    'kicking something',
    'put something inside pocket / take out something from pocket',
    'hopping (one foot jumping)', 'jump up', 'make a phone call/answer phone',
    'playing with phone/tablet', 'typing on a keyboard',
    'pointing to something with finger', 'taking a selfie',
    'check time (from watch)', 'rub two hands together', 'nod head/bow',
    'shake head', 'wipe face', 'salute', 'put the palms together',
    'cross hands in front (say stop)', 'sneeze/cough', 'staggering',
    'falling', 'touch head (headache)', 'touch chest (stomachache/heart pain)',
    'touch back (backache)', 'touch neck (neckache)',
    'nausea or vomiting condition',
    'use a fan (with hand or paper)/feeling warm',
    'punching/slapping other person', 'kicking other person',
    'pushing other person', 'pat on back of other person',
    'point finger at the other person', 'hugging other person',
    'giving something to other person', "touch other person's pocket",
    'handshaking', 'walking towards each other',
    'walking apart from each other', 'put on headphone', 'take off headphone',
    'shoot at the basket', 'bounce ball', 'tennis bat swing',
    'juggling table tennis balls', 'hush (quite)', 'flick hair', 'thumb up',
    'thumb down', 'make ok sign', 'make victory sign', 'staple book',
    'counting money', 'cutting nails', 'cutting paper (using scissors)',
    'snapping fingers', 'open bottle', 'sniff (smell)', 'squat down',
    'toss a coin', 'fold paper', 'ball up paper', 'play magic cube',
    'apply cream on face', 'apply cream on hand back', 'put on bag',
    'take off bag', 'put something into a bag', 'take something out of a bag',
    'open a box', 'move heavy objects', 'shake fist', 'throw up cap/hat',
    'hands up (both hands)', 'cross arms', 'arm circles', 'arm swings',
    'running on the spot', 'butt kicks (kick backward)', 'cross toe touch',
    'side kick', 'yawn', 'stretch oneself', 'blow nose',
    'hit other person with something', 'wield knife towards other person',
    'knock over other person (hit with body)', "grab other person's stuff",
    'shoot at other person with a gun', 'step on foot', 'high-five',
    'cheers and drink', 'carry something with other person',
    'take a photo of other person', 'follow other person',
    "whisper in other person's ear", 'exchange things with other person',
    'support somebody with hand',
    'finger-guessing game (playing rock-paper-scissors)'
]

PKU_MMD = [
    'bow', 'brushing hair', 'brushing teeth', 'check time (from watch)',
    'cheer up', 'clapping', 'cross hands in front (say stop)', 'drink water',
    'drop', 'eat meal/snack', 'falling', 'giving something to other person',
    'hand waving', 'handshaking', 'hopping (one foot jumping)',
    'hugging other person', 'jump up', 'kicking other person',
    'kicking something', 'make a phone call/answer phone',
    'pat on back of other person', 'pickup', 'playing with phone/tablet',
    'point finger at the other person', 'pointing to something with finger',
    'punching/slapping other person', 'pushing other person',
    'put on a hat/cap', 'put something inside pocket', 'reading',
    'rub two hands together', 'salute', 'sitting down', 'standing up',
    'take off a hat/cap', 'take off glasses', 'take off jacket',
    'take out something from pocket', 'taking a selfie', 'tear up paper',
    'throw', 'touch back (backache)', 'touch chest (stomachache/heart pain)',
    'touch head (headache)', 'touch neck (neckache)', 'typing on a keyboard',
    'use a fan (with hand or paper)/feeling warm', 'wear jacket',
    'wear on glasses', 'wipe face', 'writing'
]

NW_UCLA = [
    'pick up with one hand', 'pick up with two hands', 'drop trash',
    'walk around', 'sit down', 'stand up', 'donning', 'doffing', 'throw',
    'carry'
]

CLASS_NAMES: Dict[str, List[str]] = {
    'ntu60': NTU120[:60],
    'ntu120': NTU120,
    'pku-mmd': PKU_MMD,
    'nw-ucla': NW_UCLA,
}


def get_class_names(dataset: str) -> List[str]:
    """Class names of ``dataset`` (one of :data:`CLASS_NAMES`' keys)."""
    key = dataset.lower().replace('_', '-')
    if key not in CLASS_NAMES:
        raise KeyError(f'no class names for dataset {dataset!r}; known: '
                       f'{sorted(CLASS_NAMES)}')
    return list(CLASS_NAMES[key])
