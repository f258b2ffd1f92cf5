"""Synthetic "ambiguous actions" skeleton dataset (NTU RGB+D 25 joints, 3D).

The project's embedded default dataset: ``make demo`` and many tests use it.
It is generated deterministically from a seed in 1-3 s on one CPU core
(numpy only) and written in mmaction's ``PoseDataset`` pickle format::

    dict(split=dict(xsub_train=[frame_dir, ...], xsub_val=[frame_dir, ...]),
         annotations=[dict(frame_dir='S003_A05_R02', label=4, subject=3,
                           total_frames=57,
                           keypoint=float32 [M=1, T, V=25, 3]), ...],
         meta=dict(class_names=[...], seed=0, generator='sfhead_mm demo',
                   ...))

``PoseDataset`` reads ``split`` and ``annotations`` only; ``meta`` is extra.

What a sample is:

* A kinematic body in the NTU RGB+D 25-joint layout, in metres, seen by a
  Kinect-like camera (y up, z the depth, 2.5-3.8 m away). The
  trunk is posed by forward kinematics from the spine base; arms and legs by
  exact two-link inverse kinematics, so every bone keeps its length in every
  frame (before the joint noise).
* 8 classes in look-alike pairs (see ``CLASS_NAMES``): hand wave / salute
  (same arm raised to head height; a wave swings, a salute holds the flat
  hand at the brow), drink / eat (hand to mouth; a cup grip that tips once
  versus a pinch that goes from a plate to the mouth again and again),
  put on / take off a hat and sit down / stand up (each pair is one motion
  played forwards and backwards, see ``REVERSED_PAIRS``).
* Per subject: bone lengths around adult averages and a personal style
  (amplitude, reach, tempo, posture). Per sample: length 40-80 frames, a
  speed warp, idle lead-in/out, the acting hand (mostly right), an
  occasional distracting movement of the free hand, a camera rotation about
  the vertical axis with a little tilt, a translation, and joint noise
  (larger on hand tips and thumbs, as with a Kinect).
* Subjects are 1-based; odd subjects form ``xsub_train``, even ``xsub_val``.
  ``frame_dir`` is ``S{subject:03d}_A{label + 1:02d}_R{repetition:02d}``
  (1-based action number, as in NTU RGB+D's ``A001`` = label 0).

With ``--dims 2`` (``layout='coco'`` by default) the same sequences are
seen by a 1920 x 1080 colour camera instead and written the way mmaction's
2D skeleton pickles (``ntu60_2d.pkl``, from HRNet) are: ``keypoint`` float32
[M, T, 17, 2] in pixels (COCO-17 order, see ``COCO_KEYPOINTS``),
``keypoint_score`` float32 [M, T, 17] in [0, 1], ``img_shape`` and
``original_shape`` (1080, 1920). The face keypoints (nose, eyes, ears) are
placed on the head from the body's facing direction and score lower when
turned away from the camera, as a pose estimator's would; the pixel noise
grows as the score drops. ``layout='nturgb+d'`` projects all 25 joints.

Every random draw comes from ``np.random.default_rng((seed, subject, ...))``
keyed by what it is for, so the same seed gives a byte-identical pickle, and
a smaller ``--subjects``/``--per-class`` gives a subset of the larger set.

Example::

    python data_prep/make_demo.py --out data/demo/ambiguous_demo_3d.pkl
    python data_prep/make_demo.py --dims 2 --layout coco \
        --out data/demo/ambiguous_demo_2d.pkl
"""
import argparse
import os.path as osp
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

if __package__ in (None, ''):  # run as a script: make `data_prep` importable
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from data_prep.common import (PICKLE_PROTOCOL,  # noqa: E402,F401
                              check_out_arg, summarize, write_pickle_atomic)

__all__ = [
    'CLASS_NAMES', 'LOOKALIKE_PAIRS', 'REVERSED_PAIRS', 'NUM_JOINTS',
    'JOINT_PARENTS', 'BONES', 'make_demo_dataset', 'parse_frame_dir',
    'write_pickle_atomic', 'frame_dir_name', 'summarize', 'main',
    'COCO_KEYPOINTS', 'IMAGE_SHAPE', 'project_to_image'
]

CLASS_NAMES: List[str] = [
    'hand wave', 'salute', 'drink water', 'eat meal', 'put on a hat',
    'take off a hat', 'sit down', 'stand up'
]
#: Pairs of classes that look alike (the "ambiguous groups").
LOOKALIKE_PAIRS: Tuple[Tuple[int, int], ...] = ((0, 1), (2, 3), (4, 5), (6, 7))
#: Pairs whose second class is the first one played backwards in time.
REVERSED_PAIRS: Tuple[Tuple[int, int], ...] = ((4, 5), (6, 7))

NUM_JOINTS = 25
GENERATOR_NAME = 'sfhead_mm demo'

# Body frame: x = the subject's left, y = up, z = the subject's forward.
_X = np.array([1.0, 0.0, 0.0])
_UP = np.array([0.0, 1.0, 0.0])
_FWD = np.array([0.0, 0.0, 1.0])

#: Mean adult bone lengths in metres (scaled per subject).
MEAN_BONE_LENGTHS: Dict[str, float] = dict(
    spine=0.27, chest=0.22, neck=0.07, head=0.13, clavicle=0.17,
    upper_arm=0.28, forearm=0.25, hand=0.08, hand_tip=0.07, thumb=0.05,
    hip=0.09, thigh=0.42, shank=0.40, foot=0.12)

#: (child, parent, bone name) for the 24 bones of the tree rooted at joint 0
#: (spine base). 0-based NTU RGB+D indices.
BONES: Tuple[Tuple[int, int, str], ...] = (
    (1, 0, 'spine'), (20, 1, 'chest'), (2, 20, 'neck'), (3, 2, 'head'),
    (4, 20, 'clavicle'), (5, 4, 'upper_arm'), (6, 5, 'forearm'),
    (7, 6, 'hand'), (21, 7, 'hand_tip'), (22, 7, 'thumb'),
    (8, 20, 'clavicle'), (9, 8, 'upper_arm'), (10, 9, 'forearm'),
    (11, 10, 'hand'), (23, 11, 'hand_tip'), (24, 11, 'thumb'),
    (12, 0, 'hip'), (13, 12, 'thigh'), (14, 13, 'shank'), (15, 14, 'foot'),
    (16, 0, 'hip'), (17, 16, 'thigh'), (18, 17, 'shank'), (19, 18, 'foot'))
#: Parent of every joint (-1 for the root, joint 0).
JOINT_PARENTS: Tuple[int, ...] = tuple(
    {child: parent for child, parent, _ in BONES}.get(joint, -1)
    for joint in range(NUM_JOINTS))

# Joint indices of one side: (shoulder, elbow, wrist, hand, tip, thumb,
# hip, knee, ankle, foot). side +1 = the subject's left, -1 = right.
_SIDE_JOINTS = {
    +1: dict(shoulder=4, elbow=5, wrist=6, hand=7, tip=21, thumb=22,
             hip=12, knee=13, ankle=14, foot=15),
    -1: dict(shoulder=8, elbow=9, wrist=10, hand=11, tip=23, thumb=24,
             hip=16, knee=17, ankle=18, foot=19),
}

# ---------------------------------------------------------------------------
# Difficulty knobs. Calibrated with mmaction's ST-GCN shrunk to 4 stages of
# 16/32 channels (configs/demo/stgcn_demo.py: 32 frames, batch 16, SGD 0.1,
# cosine, 6 epochs) on the default set: val top-1 ~0.13 after epoch 1 and
# ~0.8 after epoch 6, the errors inside the look-alike pairs. The pair cues
# themselves (wave swing size, salute tremor, cup tip, hat key poses) are
# set in the per-pair functions below.
# ---------------------------------------------------------------------------
JOINT_NOISE_M = 0.012         # Gaussian joint noise (std, metres)
HAND_NOISE_M = 0.025          # the same on hand tips and thumbs (instead)
STYLE_SPREAD = 1.0            # scales per-subject style and the speed warp
LEFT_HANDED_PROB = 0.15       # one-hand actions done with the left hand
DISTRACTOR_PROB = 0.3         # the free hand does something unrelated
FRAMES_RANGE = (40, 80)       # inclusive sequence-length range


# ---------------------------------------------------------------------------
# Small vector helpers (batched over frames: arrays are [T, 3] or [T, 3, 3])
# ---------------------------------------------------------------------------
def _length(vectors: np.ndarray) -> np.ndarray:
    """Euclidean length along the last axis, kept as a size-1 axis."""
    return np.sqrt(np.einsum('...i,...i->...', vectors, vectors))[..., None]


def _normalize(vectors: np.ndarray) -> np.ndarray:
    """Unit vectors along the last axis (zero vectors stay zero)."""
    return vectors / np.maximum(_length(vectors), 1e-9)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product along the last axis ([T, 3] x [T, 3] or [3])."""
    a, b = np.broadcast_arrays(a, b)
    return np.stack([
        a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
        a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
        a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    ], -1)


def _rot_x(angle: np.ndarray) -> np.ndarray:
    """Rotations about x. Positive tips +y towards +z (a forward lean).

    Args:
        angle (np.ndarray): Angles in radians, shape [T].

    Returns:
        np.ndarray: Rotation matrices, shape [T, 3, 3].
    """
    c, s = np.cos(angle), np.sin(angle)
    o, z = np.ones_like(angle), np.zeros_like(angle)
    return np.stack([o, z, z, z, c, -s, z, s, c], -1).reshape(-1, 3, 3)


def _rot_y(angle: np.ndarray) -> np.ndarray:
    """Rotations about the vertical y axis, shape [T] -> [T, 3, 3]."""
    c, s = np.cos(angle), np.sin(angle)
    o, z = np.ones_like(angle), np.zeros_like(angle)
    return np.stack([c, z, s, z, o, z, -s, z, c], -1).reshape(-1, 3, 3)


def _rot_z(angle: np.ndarray) -> np.ndarray:
    """Rotations about z (a sideways roll), shape [T] -> [T, 3, 3]."""
    c, s = np.cos(angle), np.sin(angle)
    o, z = np.ones_like(angle), np.zeros_like(angle)
    return np.stack([c, -s, z, s, c, z, z, z, o], -1).reshape(-1, 3, 3)


def _apply(rotations: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Rotate vectors: [T, 3, 3] x ([3] or [T, 3]) -> [T, 3]."""
    if vectors.ndim == 1:
        return rotations @ vectors
    return np.einsum('tij,tj->ti', rotations, vectors)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    """Cubic ease-in/ease-out of ``x`` clipped to [0, 1]."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _keyframes(phase: np.ndarray, times: Sequence[float],
               values: Sequence) -> np.ndarray:
    """Ease between key values placed at key times.

    Args:
        phase (np.ndarray): Action phase in [0, 1], shape [T].
        times (Sequence[float]): Increasing key times in [0, 1], length K.
        values (Sequence): K key values, scalars or arrays of shape [T, ...]
            or [...].

    Returns:
        np.ndarray: Interpolated values, shape [T] or [T, ...].
    """
    values = [np.asarray(v, dtype=np.float64) for v in values]
    shape = np.broadcast_shapes(*[v.shape for v in values])
    if not shape or shape[0] != len(phase):
        shape = (len(phase), ) + shape
    values = [np.broadcast_to(v, shape) for v in values]
    out = values[0].copy()
    extra = (1, ) * (len(shape) - 1)
    for k in range(len(times) - 1):
        span = max(times[k + 1] - times[k], 1e-6)
        weight = _smoothstep((phase - times[k]) / span).reshape(-1, *extra)
        out = out + weight * (values[k + 1] - values[k])
    return out


def _two_link_ik(root: np.ndarray, target: np.ndarray, first: float,
                 second: float, hint: np.ndarray
                 ) -> Tuple[np.ndarray, np.ndarray]:
    """Exact two-bone inverse kinematics (shoulder-elbow-wrist, hip-knee).

    Args:
        root (np.ndarray): Root joint positions, shape [T, 3].
        target (np.ndarray): Wanted end positions, shape [T, 3]. Moved along
            the root-target line when out of reach.
        first (float): Length of the root-middle bone.
        second (float): Length of the middle-end bone.
        hint (np.ndarray): Direction the middle joint bends towards,
            shape [T, 3].

    Returns:
        tuple[np.ndarray, np.ndarray]: Middle and end positions, [T, 3] each;
        both bones have exactly the given lengths.
    """
    offset = target - root
    distance = _length(offset)
    axis = offset / np.maximum(distance, 1e-9)
    distance = np.clip(distance,
                       abs(first - second) + 0.02, (first + second) * 0.999)
    along = (first**2 - second**2 + distance**2) / (2.0 * distance)
    radius = np.sqrt(np.maximum(first**2 - along**2, 0.0))
    bend = hint - np.sum(hint * axis, -1, keepdims=True) * axis
    fallback = _cross(axis, _X)  # only used if the hint is along the axis
    bend = np.where(
        _length(bend) < 1e-6, fallback, bend)
    middle = root + along * axis + radius * _normalize(bend)
    return middle, root + distance * axis


# ---------------------------------------------------------------------------
# Subjects and samples
# ---------------------------------------------------------------------------
@dataclass
class _Subject:
    """A synthetic performer: body size and movement style."""

    subject_id: int
    bone_lengths: Dict[str, float]
    amplitude: float       # scales how far the hands travel
    reach_forward: float   # metres added to forward hand offsets
    hand_height: float     # metres added to hand-target heights
    elbow_out: float       # how much the elbows flare outwards
    lean_gain: float       # scales trunk leans
    tempo: float           # > 1 moves slower (longer sequences)
    arm_hang_out: float    # metres the resting hands hang out from the hips
    posture_lean: float    # radians of habitual forward lean
    wave_cycles: float     # preferred number of wave/eat cycles


def _make_subject(seed: int, subject_id: int) -> _Subject:
    """Draw a subject's body and style from its own random stream."""
    rng = np.random.default_rng((seed, subject_id, 0))
    spread = STYLE_SPREAD
    height = float(np.clip(1 + 0.06 * spread * rng.standard_normal(), 0.85,
                           1.15))
    lengths = {
        name: float(mean * height *
                    (1 + 0.04 * spread * rng.standard_normal()))
        for name, mean in MEAN_BONE_LENGTHS.items()
    }
    return _Subject(
        subject_id=subject_id,
        bone_lengths=lengths,
        amplitude=float(1 + 0.12 * spread * rng.standard_normal()),
        reach_forward=float(0.03 * spread * rng.standard_normal()),
        hand_height=float(0.03 * spread * rng.standard_normal()),
        elbow_out=float(0.3 * spread * rng.standard_normal()),
        lean_gain=float(np.clip(1 + 0.2 * spread * rng.standard_normal(),
                                0.5, 1.5)),
        tempo=float(np.clip(1 + 0.12 * spread * rng.standard_normal(), 0.8,
                            1.25)),
        arm_hang_out=float(rng.uniform(0.03, 0.10)),
        posture_lean=float(rng.uniform(-0.03, 0.10)),
        wave_cycles=float(rng.uniform(2.0, 3.5)),
    )


@dataclass
class _Body:
    """Trunk joints and anchors of one sequence, all [T, 3] or [T, 3, 3]."""

    joints: np.ndarray           # [T, 25, 3], trunk and head filled in
    trunk_rotation: np.ndarray   # [T, 3, 3], trunk frame -> body frame
    head: np.ndarray             # [T, 3]
    mouth: np.ndarray            # [T, 3]
    chest: np.ndarray            # [T, 3]

    def shoulder(self, side: int) -> np.ndarray:
        """Shoulder positions of a side (+1 left, -1 right), [T, 3]."""
        return self.joints[:, _SIDE_JOINTS[side]['shoulder']]

    def hip(self, side: int) -> np.ndarray:
        """Hip positions of a side (+1 left, -1 right), [T, 3]."""
        return self.joints[:, _SIDE_JOINTS[side]['hip']]

    def trunk(self, offset: np.ndarray) -> np.ndarray:
        """A trunk-frame offset ([3] or [T, 3]) in the body frame, [T, 3]."""
        return _apply(self.trunk_rotation, offset)


@dataclass
class _ArmPlan:
    """Where one arm goes, per frame (body frame, [T, 3] / [T])."""

    wrist: np.ndarray
    elbow_hint: np.ndarray
    hand_dir: np.ndarray
    thumb_dir: np.ndarray
    curl: np.ndarray


@dataclass
class _TrunkPlan:
    """Per-frame trunk program: pelvis offset [T, 3], angles [T]."""

    pelvis_offset: np.ndarray
    lean: np.ndarray
    roll: np.ndarray
    twist: np.ndarray
    head_pitch: np.ndarray


def _phase(num_frames: int, rng: np.random.Generator) -> np.ndarray:
    """Action phase per frame: idle lead-in, a speed-warped ramp, lead-out.

    The lead-in/out and warp distributions are symmetric under time
    reversal, so a class and its reversed partner have mirrored mean
    trajectories.

    Returns:
        np.ndarray: Phase in [0, 1], non-decreasing, shape [T].
    """
    lead_in, lead_out = rng.uniform(0.02, 0.14, size=2)
    warp = rng.uniform(-0.6, 0.6) * STYLE_SPREAD
    time = np.linspace(0.0, 1.0, num_frames)
    ramp = np.clip((time - lead_in) / (1.0 - lead_in - lead_out), 0.0, 1.0)
    # u + k sin(2 pi u) / (2 pi) is monotone for |k| < 1 and maps 0->0, 1->1
    return ramp + warp * np.sin(2 * np.pi * ramp) / (2 * np.pi)


def _build_trunk(subject: _Subject, plan: _TrunkPlan) -> _Body:
    """Forward kinematics of pelvis, spine, head, shoulders and hips."""
    lengths = subject.bone_lengths
    num_frames = len(plan.lean)
    joints = np.zeros((num_frames, NUM_JOINTS, 3))
    standing_height = 0.08 + 0.99 * (lengths['thigh'] + lengths['shank']) \
        + lengths['hip'] * np.sin(np.deg2rad(30))
    pelvis = np.array([0.0, standing_height, 0.0]) + plan.pelvis_offset
    joints[:, 0] = pelvis

    lower = _rot_x(0.8 * plan.lean) @ _rot_z(0.8 * plan.roll)
    trunk = _rot_x(plan.lean) @ _rot_z(plan.roll) @ _rot_y(plan.twist)
    head_rot = trunk @ _rot_x(plan.head_pitch)
    joints[:, 1] = joints[:, 0] + lengths['spine'] * _apply(lower, _UP)
    joints[:, 20] = joints[:, 1] + lengths['chest'] * _apply(trunk, _UP)
    joints[:, 2] = joints[:, 20] + lengths['neck'] * _apply(trunk, _UP)
    joints[:, 3] = joints[:, 2] + lengths['head'] * _apply(head_rot, _UP)
    clavicle_drop = np.deg2rad(8)
    hip_drop = np.deg2rad(30)
    for side in (+1, -1):
        idx = _SIDE_JOINTS[side]
        clavicle = np.array(
            [side * np.cos(clavicle_drop), -np.sin(clavicle_drop), 0.0])
        joints[:, idx['shoulder']] = joints[:, 20] + \
            lengths['clavicle'] * _apply(trunk, clavicle)
        hip = np.array([side * np.cos(hip_drop), -np.sin(hip_drop), 0.0])
        joints[:, idx['hip']] = pelvis + lengths['hip'] * hip
    head = joints[:, 3]
    head_up = _apply(head_rot, _UP)
    head_fwd = _apply(head_rot, _FWD)
    return _Body(
        joints=joints,
        trunk_rotation=trunk,
        head=head,
        mouth=head - 0.07 * head_up + 0.08 * head_fwd,
        chest=joints[:, 20])


def _rest_arm(body: _Body, subject: _Subject, side: int,
              rng: np.random.Generator) -> _ArmPlan:
    """A hanging arm with a slow idle sway."""
    lengths = subject.bone_lengths
    num_frames = len(body.head)
    time = np.arange(num_frames) / 30.0
    sway = 0.015 * np.sin(2 * np.pi * rng.uniform(0.2, 0.5) * time +
                          rng.uniform(0, 2 * np.pi))
    reach = 0.96 * (lengths['upper_arm'] + lengths['forearm'])
    offset = np.stack([
        np.full(num_frames, side * subject.arm_hang_out),
        np.full(num_frames, -reach),
        0.03 + sway,
    ], -1)
    return _ArmPlan(
        wrist=body.shoulder(side) + offset,
        elbow_hint=np.broadcast_to(
            _normalize(np.array([side * 0.3, 0.0, -1.0])),
            (num_frames, 3)).copy(),
        hand_dir=np.broadcast_to(
            _normalize(np.array([side * 0.1, -1.0, 0.1])),
            (num_frames, 3)).copy(),
        thumb_dir=np.broadcast_to(_FWD, (num_frames, 3)).copy(),
        curl=np.full(num_frames, 0.3))


def _blend_arm(rest: _ArmPlan, action: _ArmPlan, weight: np.ndarray,
               body: _Body, bulge: float = 0.08) -> _ArmPlan:
    """Move from the rest plan to the action plan by ``weight`` in [0, 1].

    Directions pass through "forward" half way, so that opposite directions
    (hand down at rest, up in a wave) never blend to a zero vector, and the
    wrist bulges forward on the way (hands do not cut through the body).
    """
    w = weight[:, None]
    middle = 4.0 * w * (1.0 - w)
    forward = body.trunk(_FWD)

    def mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Blend two [T, 3] directions via forward; unit vectors."""
        return _normalize((1 - w) * a + w * b + middle * forward)

    return _ArmPlan(
        wrist=(1 - w) * rest.wrist + w * action.wrist + middle * bulge *
        forward,
        elbow_hint=mix(rest.elbow_hint, action.elbow_hint),
        hand_dir=mix(rest.hand_dir, action.hand_dir),
        thumb_dir=_normalize((1 - w) * rest.thumb_dir + w * action.thumb_dir +
                             middle * body.trunk(_UP)),
        curl=(1 - weight) * rest.curl + weight * action.curl)


def _envelope(phase: np.ndarray, rng: np.random.Generator, rise: Tuple[float,
                                                                    float],
              fall: Tuple[float, float]) -> Tuple[np.ndarray, np.ndarray]:
    """Raise-hold-lower weight and the phase inside the hold.

    Returns:
        tuple[np.ndarray, np.ndarray]: Weight in [0, 1] and hold progress in
        [0, 1], shape [T] each.
    """
    rise_end = rng.uniform(*rise)
    fall_start = rng.uniform(*fall)
    weight = _keyframes(phase, [0.0, rise_end, fall_start, 1.0],
                        [0.0, 1.0, 1.0, 0.0])
    hold = np.clip((phase - rise_end * 0.7) /
                   (fall_start + (1 - fall_start) * 0.3 - rise_end * 0.7),
                   0.0, 1.0)
    return weight, hold


def _constant(vector: np.ndarray, num_frames: int) -> np.ndarray:
    """Repeat a [3] vector over frames: a writable [T, 3] array."""
    return np.broadcast_to(vector, (num_frames, 3)).copy()


# --- one function per look-alike pair ---------------------------------------
def _wave_or_salute(label: int, phase: np.ndarray, body: _Body,
                    subject: _Subject, side: int,
                    rng: np.random.Generator) -> Dict[int, _ArmPlan]:
    """0 hand wave: hand up beside the head, swinging side to side.

    1 salute: flat hand snapped to the brow, elbow out, held still.
    """
    num_frames = len(phase)
    out = np.array([side, 0.0, 0.0])
    amplitude = subject.amplitude * (1 + 0.1 * rng.standard_normal())
    if label == 0:
        weight, hold = _envelope(phase, rng, (0.2, 0.35), (0.65, 0.8))
        cycles = subject.wave_cycles * rng.uniform(0.8, 1.2)
        swing_size = rng.uniform(0.03, 0.10) * amplitude
        swing = np.sin(2 * np.pi * cycles * hold) * np.sin(np.pi * hold)
        wrist = body.shoulder(side) + body.trunk(
            out * (rng.uniform(0.11, 0.19) * amplitude) + _UP *
            (0.27 + subject.hand_height) +
            _FWD * (0.12 + subject.reach_forward)) + body.trunk(
                np.outer(swing * swing_size, out))
        hand_dir = body.trunk(
            _normalize(_UP + np.outer(0.8 * swing, out) + 0.15 * _FWD))
        action = _ArmPlan(
            wrist=wrist,
            elbow_hint=body.trunk(
                _normalize(out * (1 + subject.elbow_out) - 0.8 * _UP)),
            hand_dir=hand_dir,
            thumb_dir=body.trunk(_constant(-out, num_frames)),
            curl=np.full(num_frames, 0.1))
    else:
        weight, hold = _envelope(phase, rng, (0.12, 0.25), (0.7, 0.85))
        tremor = rng.uniform(0.0, 0.03) * np.sin(
            2 * np.pi * rng.uniform(1, 3) * hold)
        wrist = body.head + body.trunk(
            out * 0.14 + _FWD * (0.08 + 0.5 * subject.reach_forward) +
            _UP * (0.5 * subject.hand_height - 0.01)) + body.trunk(
                np.outer(tremor, out))
        action = _ArmPlan(
            wrist=wrist,
            elbow_hint=body.trunk(
                _normalize(out * (1 + subject.elbow_out) + 0.3 * _UP)),
            hand_dir=body.trunk(
                _constant(_normalize(-0.8 * out + 0.45 * _FWD + 0.25 * _UP),
                          num_frames)),
            thumb_dir=body.trunk(
                _constant(_normalize(-_UP + 0.3 * _FWD), num_frames)),
            curl=np.full(num_frames, 0.05))
    return {side: _blend_arm(_rest_arm(body, subject, side, rng), action,
                             weight, body)}


def _drink_or_eat(label: int, phase: np.ndarray, body: _Body,
                  subject: _Subject, side: int,
                  rng: np.random.Generator) -> Dict[int, _ArmPlan]:
    """2 drink: cup grip raised to the mouth once, tipped while held there.

    3 eat: pinch grip going between a plate and the mouth several times.
    """
    num_frames = len(phase)
    out = np.array([side, 0.0, 0.0])
    mouth_offset = out * 0.05 + _FWD * (0.08 + subject.reach_forward) - \
        _UP * (0.07 - subject.hand_height)
    if label == 2:
        weight, hold = _envelope(phase, rng, (0.22, 0.35), (0.62, 0.78))
        tip = rng.uniform(0.6, 1.1) * np.sin(np.pi * hold)**2
        wrist = body.mouth + body.trunk(mouth_offset)
        thumb = np.cos(tip)[:, None] * _UP - np.sin(tip)[:, None] * _FWD
        action = _ArmPlan(
            wrist=wrist,
            elbow_hint=body.trunk(
                _normalize(out * (0.6 + subject.elbow_out) - _UP +
                           0.3 * _FWD)),
            hand_dir=body.trunk(
                _constant(_normalize(0.5 * _FWD - 0.85 * out), num_frames)),
            thumb_dir=body.trunk(thumb),
            curl=np.full(num_frames, 1.1))
    else:
        weight, hold = _envelope(phase, rng, (0.15, 0.28), (0.72, 0.88))
        cycles = rng.uniform(1.5, 3.0)
        to_mouth = 0.5 - 0.5 * np.cos(2 * np.pi * cycles * hold)
        plate = body.shoulder(side) + body.trunk(
            -out * 0.06 + _FWD * (0.35 + subject.reach_forward) - _UP *
            (0.32 - subject.hand_height))
        mouth = body.mouth + body.trunk(mouth_offset + 0.02 * _FWD)
        wrist = plate + to_mouth[:, None] * (mouth - plate)
        action = _ArmPlan(
            wrist=wrist,
            elbow_hint=body.trunk(
                _normalize(out * (0.6 + subject.elbow_out) - _UP +
                           0.2 * _FWD)),
            hand_dir=body.trunk(
                _constant(_normalize(-0.7 * out + 0.4 * _FWD + 0.3 * _UP),
                          num_frames)),
            thumb_dir=body.trunk(
                _constant(_normalize(_UP + 0.3 * _FWD), num_frames)),
            curl=np.full(num_frames, 0.6))
    return {side: _blend_arm(_rest_arm(body, subject, side, rng), action,
                             weight, body)}


def _hat(phase: np.ndarray, body: _Body, subject: _Subject,
         rng: np.random.Generator) -> Dict[int, _ArmPlan]:
    """4 put on a hat (phase forward): both hands from the sides to the chest
    (holding the hat), above the head, down onto the head, back to the sides.
    5 take off a hat is the same with the phase reversed.
    """
    jitter = rng.uniform(-0.06, 0.06, size=3)
    times = [0.0, 0.24 + jitter[0], 0.46 + jitter[1], 0.70 + jitter[2], 1.0]
    amplitude = subject.amplitude
    plans = {}
    for side in (+1, -1):
        out = np.array([side, 0.0, 0.0])
        rest = _rest_arm(body, subject, side, rng)
        at_chest = body.chest + body.trunk(
            out * 0.12 - _UP * 0.08 +
            _FWD * (rng.uniform(0.12, 0.28) + subject.reach_forward))
        above = body.head + body.trunk(
            out * 0.12 + _UP * (0.14 * amplitude + subject.hand_height) +
            _FWD * 0.05)
        on_head = body.head + body.trunk(out * 0.11 + _UP * 0.05)
        wrist = _keyframes(phase, times,
                           [rest.wrist, at_chest, above, on_head, rest.wrist])
        hint_out = body.trunk(
            _normalize(out * (1 + subject.elbow_out) - 0.5 * _UP))
        hint_high = body.trunk(
            _normalize(out * (1 + subject.elbow_out) + 0.2 * _FWD))
        elbow_hint = _normalize(
            _keyframes(phase, times, [
                rest.elbow_hint, hint_out, hint_high, hint_high,
                rest.elbow_hint
            ]))
        hand_front = body.trunk(_normalize(_FWD - 0.3 * out))
        hand_up = body.trunk(_normalize(_UP - 0.3 * out))
        hand_on = body.trunk(_normalize(0.4 * _UP - out))
        hand_dir = _normalize(
            _keyframes(phase, times, [
                rest.hand_dir, hand_front, hand_up, hand_on, rest.hand_dir
            ]) + 0.3 * body.trunk(_FWD))
        thumb_dir = _normalize(
            _keyframes(phase, times, [
                rest.thumb_dir,
                body.trunk(_UP),
                body.trunk(-_FWD),
                body.trunk(_FWD), rest.thumb_dir
            ]) + 0.2 * body.trunk(_UP))
        curl = _keyframes(phase, times, [0.3, 0.9, 0.9, 0.7, 0.3])
        plans[side] = _ArmPlan(wrist, elbow_hint, hand_dir, thumb_dir, curl)
    return plans


def _sit(phase: np.ndarray, subject: _Subject,
         rng: np.random.Generator) -> _TrunkPlan:
    """6 sit down (phase forward): the pelvis drops and moves back onto a seat
    while the trunk leans forward and comes back. 7 stand up is the same
    with the phase reversed.
    """
    lengths = subject.bone_lengths
    descent = _smoothstep((phase - 0.12) / 0.76)
    drop = 0.97 * lengths['thigh'] * rng.uniform(0.9, 1.0)
    back = 0.85 * lengths['thigh'] * rng.uniform(0.9, 1.05)
    pelvis_offset = np.stack(
        [np.zeros_like(phase), -drop * descent, -back * descent], -1)
    lean_peak = 0.55 * subject.lean_gain * rng.uniform(0.8, 1.2)
    bump = np.sin(np.pi * np.clip((phase - 0.05) / 0.8, 0.0, 1.0))**2
    lean = subject.posture_lean + lean_peak * bump + 0.12 * descent
    return _TrunkPlan(
        pelvis_offset=pelvis_offset,
        lean=lean,
        roll=np.zeros_like(phase),
        twist=np.zeros_like(phase),
        head_pitch=-0.3 * lean_peak * bump)


def _sit_arms(phase: np.ndarray, body: _Body, subject: _Subject,
              rng: np.random.Generator) -> Dict[int, _ArmPlan]:
    """Arms of sit down: swing forward for balance, end on the thighs."""
    descent = _smoothstep((phase - 0.12) / 0.76)
    bump = np.sin(np.pi * np.clip((phase - 0.05) / 0.8, 0.0, 1.0))**2
    plans = {}
    for side in (+1, -1):
        rest = _rest_arm(body, subject, side, rng)
        on_thigh = body.hip(side) + np.array(
            [0.0, 0.08, 0.6 * subject.bone_lengths['thigh']])
        wrist = rest.wrist + descent[:, None] * (on_thigh - rest.wrist) + \
            (0.2 * bump)[:, None] * _FWD
        plans[side] = _ArmPlan(
            wrist=wrist,
            elbow_hint=rest.elbow_hint,
            hand_dir=_normalize(rest.hand_dir + descent[:, None] * 1.5 * _FWD),
            thumb_dir=_normalize(rest.thumb_dir + descent[:, None] * _UP),
            curl=rest.curl)
    return plans


def _idle_trunk(phase: np.ndarray, subject: _Subject,
                rng: np.random.Generator) -> _TrunkPlan:
    """A standing trunk with a little sway."""
    num_frames = len(phase)
    time = np.arange(num_frames) / 30.0
    sway = 0.02 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * time +
                         rng.uniform(0, 2 * np.pi))
    return _TrunkPlan(
        pelvis_offset=np.stack(
            [sway * 0.5, np.zeros(num_frames),
             np.zeros(num_frames)], -1),
        lean=np.full(num_frames, subject.posture_lean) + 0.5 * sway,
        roll=sway,
        twist=np.full(num_frames, 0.1 * rng.standard_normal()),
        head_pitch=np.full(num_frames, 0.05 * rng.standard_normal()))


def _distractor(body: _Body, subject: _Subject, side: int,
                rng: np.random.Generator) -> _ArmPlan:
    """The free hand does something unrelated (hand on hip, scratch chin,
    adjust clothes at the chest) for a while."""
    num_frames = len(body.head)
    out = np.array([side, 0.0, 0.0])
    rest = _rest_arm(body, subject, side, rng)
    choice = int(rng.integers(3))
    if choice == 0:
        target = body.hip(side) + body.trunk(out * 0.12 + _UP * 0.05)
    elif choice == 1:
        target = body.mouth + body.trunk(-_UP * 0.08 + _FWD * 0.06 + out *
                                         0.03)
    else:
        target = body.chest + body.trunk(out * 0.05 + _FWD * 0.12 -
                                         _UP * 0.1)
    start, length = rng.uniform(0.0, 0.5), rng.uniform(0.3, 0.5)
    time = np.linspace(0.0, 1.0, num_frames)
    weight = _keyframes(
        time, [start, start + length * 0.3, start + length * 0.7,
               start + length], [0.0, 1.0, 1.0, 0.0])
    action = _ArmPlan(
        wrist=target,
        elbow_hint=body.trunk(_normalize(out - _UP - 0.3 * _FWD)),
        hand_dir=body.trunk(_constant(_normalize(-out + 0.3 * _UP),
                                      num_frames)),
        thumb_dir=body.trunk(_constant(_UP, num_frames)),
        curl=np.full(num_frames, 0.5))
    return _blend_arm(rest, action, weight, body)


def _solve_arm(joints: np.ndarray, subject: _Subject, side: int,
               plan: _ArmPlan) -> None:
    """Fill one arm's joints in place from its plan (IK + hand frame)."""
    lengths = subject.bone_lengths
    idx = _SIDE_JOINTS[side]
    elbow, wrist = _two_link_ik(joints[:, idx['shoulder']], plan.wrist,
                                lengths['upper_arm'], lengths['forearm'],
                                plan.elbow_hint)
    hand_dir = _normalize(plan.hand_dir)
    thumb_dir = plan.thumb_dir - np.sum(
        plan.thumb_dir * hand_dir, -1, keepdims=True) * hand_dir
    thumb_dir = _normalize(
        np.where(
            _length(thumb_dir) < 1e-3,
            _cross(hand_dir, _X), thumb_dir))
    palm = _normalize(_cross(hand_dir, thumb_dir)) * side
    curl = plan.curl[:, None]
    tip_dir = np.cos(curl) * hand_dir + np.sin(curl) * palm
    hand = wrist + lengths['hand'] * hand_dir
    joints[:, idx['elbow']] = elbow
    joints[:, idx['wrist']] = wrist
    joints[:, idx['hand']] = hand
    joints[:, idx['tip']] = hand + lengths['hand_tip'] * tip_dir
    joints[:, idx['thumb']] = hand + lengths['thumb'] * _normalize(
        0.9 * thumb_dir + 0.45 * hand_dir)


def _solve_legs(joints: np.ndarray, subject: _Subject,
                stance: np.ndarray) -> None:
    """Fill the legs in place: ankles stay on the floor, knees point forward.

    Args:
        joints (np.ndarray): Skeleton with the hips filled in, [T, 25, 3].
        subject (_Subject): Gives the leg lengths.
        stance (np.ndarray): Half the distance between the feet and their
            toe-out angle, shape [2].
    """
    lengths = subject.bone_lengths
    num_frames = joints.shape[0]
    for side in (+1, -1):
        idx = _SIDE_JOINTS[side]
        ankle = np.array([side * stance[0], 0.08, 0.0])
        knee_hint = _constant(
            _normalize(_FWD + side * stance[1] * _X), num_frames)
        knee, ankle_pos = _two_link_ik(joints[:, idx['hip']],
                                       _constant(ankle, num_frames),
                                       lengths['thigh'], lengths['shank'],
                                       knee_hint)
        joints[:, idx['knee']] = knee
        joints[:, idx['ankle']] = ankle_pos
        toe = _normalize(_FWD + side * stance[1] * _X - 0.3 * _UP)
        joints[:, idx['foot']] = ankle_pos + lengths['foot'] * toe


def _camera(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Body frame -> a Kinect-like camera frame (x right, y up, z depth).

    The subject faces the camera give or take 45 degrees, stands 2.5-3.8 m
    away, and the camera (about 1 m high) is tilted by a few degrees.
    """
    num_joints = points.shape[1]
    yaw = np.pi + rng.uniform(-np.pi / 4, np.pi / 4)
    tilt = rng.uniform(-0.1, 0.1)
    shift = np.array([
        rng.uniform(-0.6, 0.6), -rng.uniform(0.8, 1.1),
        rng.uniform(2.5, 3.8)
    ])
    rotation_yaw = _rot_y(np.array([yaw]))[0]
    rotation_tilt = _rot_x(np.array([tilt]))[0]
    flat = points.reshape(-1, 3) @ rotation_yaw.T + shift
    return (flat @ rotation_tilt.T).reshape(-1, num_joints, 3)


def _make_sample(seed: int, subject: _Subject, label: int,
                 repetition: int) -> np.ndarray:
    """Generate one sequence.

    Args:
        seed (int): Dataset seed.
        subject (_Subject): The performer.
        label (int): Class index in ``CLASS_NAMES``.
        repetition (int): 1-based repetition number.

    Returns:
        np.ndarray: Keypoints in metres, float32, shape [1, T, 25, 3].
    """
    rng = np.random.default_rng((seed, subject.subject_id, 1, label,
                                 repetition))
    low, high = FRAMES_RANGE
    num_frames = int(
        np.clip(
            round(60 * subject.tempo * rng.uniform(0.75, 1.3)), low, high))
    phase = _phase(num_frames, rng)
    reversed_partner = {b: a for a, b in REVERSED_PAIRS}
    if label in reversed_partner:  # the partner's motion, played backwards
        phase = 1.0 - phase
        label = reversed_partner[label]

    trunk_plan = _sit(phase, subject, rng) if label == 6 else _idle_trunk(
        phase, subject, rng)
    body = _build_trunk(subject, trunk_plan)
    side = -1 if rng.random() >= LEFT_HANDED_PROB else +1
    if label in (0, 1):
        arms = _wave_or_salute(label, phase, body, subject, side, rng)
    elif label in (2, 3):
        arms = _drink_or_eat(label, phase, body, subject, side, rng)
    elif label == 4:
        arms = _hat(phase, body, subject, rng)
    else:
        arms = _sit_arms(phase, body, subject, rng)
    if -side not in arms:
        arms[-side] = (
            _distractor(body, subject, -side, rng)
            if rng.random() < DISTRACTOR_PROB else _rest_arm(
                body, subject, -side, rng))

    joints = body.joints
    for arm_side, plan in arms.items():
        _solve_arm(joints, subject, arm_side, plan)
    _solve_legs(joints, subject,
                np.array([rng.uniform(0.08, 0.16),
                          rng.uniform(0.0, 0.3)]))

    joints = _camera(joints, rng)
    noise_std = np.full((NUM_JOINTS, 1), JOINT_NOISE_M)
    noise_std[[21, 22, 23, 24]] = HAND_NOISE_M
    joints = joints + noise_std * rng.standard_normal(joints.shape)
    return joints.astype(np.float32)[None]


# ---------------------------------------------------------------------------
# 2D: a colour camera and a pose estimator's COCO-17 keypoints
# ---------------------------------------------------------------------------
#: COCO-17 keypoints in mmaction's ``'coco'`` layout order.
COCO_KEYPOINTS: Tuple[str, ...] = (
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
    'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
    'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
    'right_knee', 'left_ankle', 'right_ankle')
#: NTU RGB+D joint (0-based) of each COCO body keypoint 5..16.
_COCO_FROM_NTU = (4, 8, 5, 9, 6, 10, 12, 16, 13, 17, 14, 18)
#: (height, width) of the colour image, as in NTU RGB+D's videos.
IMAGE_SHAPE: Tuple[int, int] = (1080, 1920)
FOCAL_PX = 1050.0           # colour camera focal length (pixels)
PIXEL_NOISE = 1.5           # keypoint noise (std, pixels) at score 1
LOW_SCORE_PIXEL_NOISE = 8.0  # extra noise (std, pixels) as the score -> 0


def _face_points(joints: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Nose, eyes and ears on the head, and the way each one faces.

    Args:
        joints (np.ndarray): NTU RGB+D joints in the camera frame, [T, 25, 3].

    Returns:
        tuple[np.ndarray, np.ndarray]: the 5 face points [T, 5, 3] in COCO
        order and their outward unit normals [T, 5, 3].
    """
    head, neck = joints[:, 3], joints[:, 2]
    up = _normalize(head - neck)
    left = joints[:, 4] - joints[:, 8]  # left minus right shoulder
    forward = _normalize(_cross(left, up))  # x (left) cross y (up) = z
    left = _cross(up, forward)
    offsets = (  # (forward, up, left) in metres, normal (forward, left)
        ((0.10, -0.02, 0.0), (1.0, 0.0)),     # nose
        ((0.08, 0.03, 0.032), (1.0, 0.3)),    # left eye
        ((0.08, 0.03, -0.032), (1.0, -0.3)),  # right eye
        ((0.0, 0.0, 0.075), (0.2, 1.0)),      # left ear
        ((0.0, 0.0, -0.075), (0.2, -1.0)))    # right ear
    points = [head + f * forward + u * up + s * left
              for (f, u, s), _ in offsets]
    normals = [_normalize(f * forward + s * left) for _, (f, s) in offsets]
    return np.stack(points, 1), np.stack(normals, 1)


def project_to_image(keypoint: np.ndarray, rng: np.random.Generator,
                     layout: str = 'coco') -> Tuple[np.ndarray, np.ndarray]:
    """What a pose estimator would report for a camera-frame 3D sequence.

    A pinhole colour camera at the depth camera's place (focal
    ``FOCAL_PX``, principal point at the centre of ``IMAGE_SHAPE``, image
    x right, y down). The camera frame is right-handed with y up and z the
    depth, so its x points to the camera's left (as Kinect's does) and
    image x is ``cx - f * x / z``: a subject facing the camera has the
    left shoulder on the image's right, as in a photograph. Scores: about
    0.9 on the body, lower on face points turned away from the camera;
    pixel noise ``PIXEL_NOISE`` plus up to ``LOW_SCORE_PIXEL_NOISE`` as
    the score drops.

    Args:
        keypoint (np.ndarray): metres, camera frame (y up, z depth,
            right-handed), NTU RGB+D joints, shape [M, T, 25, 3].
        rng (np.random.Generator): Source of the score and pixel noise.
        layout (str): ``'coco'`` (17 keypoints) or ``'nturgb+d'`` (the 25
            joints as they are). Defaults to ``'coco'``.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``keypoint`` float32 [M, T, V, 2]
        in pixels and ``keypoint_score`` float32 [M, T, V] in [0, 1].
    """
    M, T, _, _ = keypoint.shape
    height, width = IMAGE_SHAPE
    pixels, scores = [], []
    for person in keypoint.astype(np.float64):
        if layout == 'coco':
            face, normals = _face_points(person)
            points = np.concatenate([face, person[:, _COCO_FROM_NTU]], 1)
            # a face point seen from behind is a guess: cos of its normal
            # with the direction to the camera (at the origin)
            facing = (normals * _normalize(-face)).sum(-1)
            base = np.concatenate(
                [0.45 + 0.45 * np.clip(facing, 0, 1),
                 np.full((T, len(_COCO_FROM_NTU)), 0.9)], 1)
        elif layout == 'nturgb+d':
            points = person
            base = np.full(person.shape[:2], 0.9)
        else:
            raise ValueError(f"layout must be 'coco' or 'nturgb+d' for 2D, "
                             f'got {layout!r}')
        score = np.clip(base + 0.05 * rng.standard_normal(base.shape),
                        0.05, 1.0)
        uv = np.stack([width / 2 - FOCAL_PX * points[..., 0] / points[..., 2],
                       height / 2 - FOCAL_PX * points[..., 1] /
                       points[..., 2]], -1)
        sigma = PIXEL_NOISE + LOW_SCORE_PIXEL_NOISE * (1 - score)
        uv = uv + sigma[..., None] * rng.standard_normal(uv.shape)
        pixels.append(uv)
        scores.append(score)
    return (np.stack(pixels).astype(np.float32),
            np.stack(scores).astype(np.float32))


# ---------------------------------------------------------------------------
# Dataset, file and command line
# ---------------------------------------------------------------------------
def frame_dir_name(subject_id: int, label: int, repetition: int) -> str:
    """``S{subject:03d}_A{label + 1:02d}_R{repetition:02d}`` (1-based)."""
    return f'S{subject_id:03d}_A{label + 1:02d}_R{repetition:02d}'


def parse_frame_dir(frame_dir: str) -> Tuple[int, int, int]:
    """Inverse of the ``frame_dir`` naming.

    Args:
        frame_dir (str): e.g. ``'S003_A05_R02'``.

    Returns:
        tuple[int, int, int]: (subject id, 0-based label, repetition), e.g.
        (3, 4, 2).
    """
    subject, action, repetition = frame_dir.split('_')
    return int(subject[1:]), int(action[1:]) - 1, int(repetition[1:])


def make_demo_dataset(seed: int = 0, subjects: int = 20,
                      per_class: int = 4, dims: int = 3,
                      layout: Optional[str] = None) -> dict:
    """Generate the synthetic ambiguous-actions dataset in memory.

    Args:
        seed (int): Seed of every random draw. Defaults to 0.
        subjects (int): Number of performers; odd ids (1, 3, ...) go to
            ``xsub_train`` and even ids to ``xsub_val``. Defaults to 20.
        per_class (int): Repetitions of each class by each subject.
            Defaults to 4.
        dims (int): 3 (Kinect joints, metres) or 2 (a colour camera's
            pixels with keypoint scores, see :func:`project_to_image`).
            The same seed gives the same motions in both. Defaults to 3.
        layout (str, optional): ``'nturgb+d'`` (25 joints) or, for
            ``dims=2``, ``'coco'`` (17 keypoints). Defaults to
            ``'nturgb+d'`` in 3D and ``'coco'`` in 2D.

    Returns:
        dict: ``dict(split=dict(xsub_train=[...], xsub_val=[...]),
        annotations=[...], meta=dict(class_names=[...], seed=...,
        generator='sfhead_mm demo', ...))``; each annotation has
        ``frame_dir``, ``label``, ``subject``, ``total_frames`` and
        ``keypoint`` (3D: float32, [1, T, 25, 3], metres, y up; 2D:
        float32 [1, T, V, 2] pixels, plus ``keypoint_score`` [1, T, V],
        ``img_shape`` and ``original_shape``).
    """
    if layout is None:
        layout = 'nturgb+d' if dims == 3 else 'coco'
    if (dims, layout) not in ((3, 'nturgb+d'), (2, 'coco'), (2, 'nturgb+d')):
        raise ValueError(f"dims={dims}, layout={layout!r}: 3D has the "
                         f"'nturgb+d' layout only; 2D has 'coco' or "
                         f"'nturgb+d'")
    if subjects < 2:
        raise ValueError(f'subjects must be >= 2 so that both splits have '
                         f'someone, got {subjects}')
    if per_class < 1:
        raise ValueError(f'per_class must be >= 1, got {per_class}')
    annotations = []
    split: Dict[str, List[str]] = dict(xsub_train=[], xsub_val=[])
    for subject_id in range(1, subjects + 1):
        subject = _make_subject(seed, subject_id)
        for label in range(len(CLASS_NAMES)):
            for repetition in range(1, per_class + 1):
                keypoint = _make_sample(seed, subject, label, repetition)
                frame_dir = frame_dir_name(subject_id, label, repetition)
                annotation = dict(
                    frame_dir=frame_dir,
                    label=label,
                    subject=subject_id,
                    total_frames=int(keypoint.shape[1]),
                    keypoint=keypoint)
                if dims == 2:
                    rng = np.random.default_rng(
                        (seed, subject_id, 2, label, repetition))
                    annotation['keypoint'], annotation['keypoint_score'] = \
                        project_to_image(keypoint, rng, layout)
                    annotation.update(img_shape=IMAGE_SHAPE,
                                      original_shape=IMAGE_SHAPE)
                annotations.append(annotation)
                key = 'xsub_train' if subject_id % 2 == 1 else 'xsub_val'
                split[key].append(frame_dir)
    meta = dict(
        class_names=list(CLASS_NAMES),
        seed=int(seed),
        subjects=int(subjects),
        per_class=int(per_class),
        layout=layout,
        dims=int(dims),
        units='metres' if dims == 3 else 'pixels',
        generator=GENERATOR_NAME)
    if dims == 2:
        meta.update(image_shape=IMAGE_SHAPE, focal_px=FOCAL_PX)
    return dict(split=split, annotations=annotations, meta=meta)


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python data_prep/make_demo.py``."""
    parser = argparse.ArgumentParser(
        description='Generate the synthetic "ambiguous actions" skeleton '
        'dataset (NTU RGB+D 25 joints in 3D, or COCO-17 keypoints with '
        'scores in 2D; 8 classes in look-alike pairs) as an mmaction '
        'PoseDataset pickle.',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='example:\n'
        '  python data_prep/make_demo.py '
        '--out data/demo/ambiguous_demo_3d.pkl --seed 0 --subjects 20 '
        '--per-class 4\n'
        '  python data_prep/make_demo.py --dims 2 --layout coco '
        '--out data/demo/ambiguous_demo_2d.pkl\n\n'
        'classes: ' + ', '.join(f'{i} {n}'
                                for i, n in enumerate(CLASS_NAMES)) + '\n'
        'splits: odd subjects -> xsub_train, even subjects -> xsub_val')
    parser.add_argument(
        '--out', required=True, help='output .pkl path (directory created)')
    parser.add_argument('--seed', type=int, default=0, help='default: 0')
    parser.add_argument(
        '--subjects', type=int, default=20,
        help='number of subjects, >= 2 (default: 20)')
    parser.add_argument(
        '--per-class', type=int, default=4,
        help='repetitions of each class per subject (default: 4)')
    parser.add_argument(
        '--dims', type=int, choices=(2, 3), default=3,
        help='3: Kinect joints in metres; 2: a 1920x1080 colour camera\'s '
        'pixels with keypoint scores, as mmaction\'s ntu60_2d.pkl '
        '(default: 3)')
    parser.add_argument(
        '--layout', choices=('nturgb+d', 'coco'),
        help='joints: nturgb+d (25) or, with --dims 2, coco (17) '
        '(default: nturgb+d in 3D, coco in 2D)')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Generate the set, write it atomically and print a summary per split.

    Args:
        argv (Sequence[str], optional): Arguments without the program name.
            Defaults to ``sys.argv[1:]``.

    Returns:
        int: Exit status, 0 on success, 2 on bad arguments.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if check_out_arg(args.out):
        return 2
    if args.subjects < 2 or args.per_class < 1:
        print(f'need --subjects >= 2 (one per split) and --per-class >= 1, '
              f'got {args.subjects} and {args.per_class}', file=sys.stderr)
        return 2
    if args.dims == 3 and args.layout == 'coco':
        print('--layout coco needs --dims 2 (COCO keypoints come from a '
              'colour camera)', file=sys.stderr)
        return 2
    dataset = make_demo_dataset(
        seed=args.seed, subjects=args.subjects, per_class=args.per_class,
        dims=args.dims, layout=args.layout)
    write_pickle_atomic(dataset, args.out)
    for line in summarize(dataset):
        print(line)
    print(f'wrote {args.out} ({osp.getsize(args.out) / 2**20:.1f} MiB, '
          f'seed {args.seed})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
