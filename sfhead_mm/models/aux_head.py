"""``AuxHead``: the one protocol of the auxiliary heads of
:class:`~sfhead_mm.models.SFRecognizerGCN`.

An auxiliary head is attached to some backbone modules (forward hooks; the
backbone's code is untouched), sees their outputs during one training
forward and turns what it saw into named losses. The recognizer only calls,
for each of its heads::

    head.attach(model)                 # once, at build time
    with head.capture():               # around the training forward
        feats = backbone(x); cls_score = cls_head(feats)
    head.loss(cls_score, data_samples, num_persons)   # -> dict of tensors

and deploy asks ``head.training_only``. A new head subclasses
:class:`AuxHead`, builds its per-point module in :meth:`AuxHead.add_point`,
writes :meth:`AuxHead.loss` and registers itself in ``MODELS``; it is then
usable as ``aux_heads=[dict(type='MyHead', ...)]`` in a recognizer config.
"""
import contextlib
from typing import (Any, Dict, Iterator, List, Mapping, Optional, Sequence,
                    Tuple, Union)

from torch import Tensor, nn

from .plugin import (AttachError, find_attach_points, infer_out_channels,
                     init_children_in_own_stream, own_random_stream,
                     select_stages)

__all__ = ['AuxHead', 'aux_head_cfgs']


class _OutputHook:
    """Forward hook handing one attachment module's output to its head.

    A module that returns a tuple or list (ProtoGCN's original graph
    convolution returns ``(x, graph)``) hands its element 0, the feature
    map, to the head; a replacement from the head replaces element 0 only
    and the other elements pass through unchanged.
    """

    def __init__(self, head: 'AuxHead', key: str) -> None:
        self.head = head
        self.key = key

    def __call__(self, module: nn.Module, args, output):
        if not isinstance(output, (tuple, list)):
            return self.head.on_output(self.key, output)
        if not output or not isinstance(output[0], Tensor):
            raise AttachError(
                f'{self.head.field}: {self.key} returns a '
                f'{type(output).__name__} whose element 0 is not a tensor; '
                'the head reads element 0 of a tuple output (the feature '
                'map). Name a module that returns it with attach_to')
        replacement = self.head.on_output(self.key, output[0])
        if replacement is None:
            return None
        rest = list(output[1:])
        if isinstance(output, list):
            return [replacement] + rest
        # a namedtuple keeps its type
        return (type(output)(replacement, *rest)
                if hasattr(output, '_fields') else
                (replacement, *rest))


class AuxHead(nn.Module):
    """Base class of the auxiliary heads (SF-Heads, FR-Head, third-party).

    Attachment points: by default the backbone blocks that have children
    ``gcn`` and ``tcn`` (mmaction's STGCN/AAGCN, our CTRGCN, InfoGCN,
    HDGCN, BlockGCN and ProtoGCN); the head reads ``<block>.gcn``
    (``reads = 'gcn'``) or the block itself (``reads = 'block'``).
    ``attach_to`` patterns replace the rule for other backbones (see
    :func:`~sfhead_mm.models.plugin.find_attach_points`). A module whose
    output is a tuple (e.g. ``(x, graph)``) is read at element 0, and only
    element 0 is replaced (see :class:`_OutputHook`).

    Random numbers: :meth:`attach` builds the per-point modules, and
    :meth:`init_weights` re-initialises them, in
    :func:`~sfhead_mm.models.plugin.own_random_stream`, so that at a given
    seed the backbone and ``cls_head`` get the plain recognizer's weights.

    Args:
        stages (list[int], optional): 1-based numbers of the attachment
            points that carry the head. Defaults to None (all).
        attach_to (str | list[str], optional): module-path patterns
            (``fnmatch``). Defaults to None (the gcn/tcn block rule).
        in_channels (list[int], optional): channels per selected point,
            when they cannot be read from the modules. Defaults to None.
        field (str): the head's config field, for error messages. Defaults
            to ``'aux_head'``.
    """

    reads = 'gcn'  # or 'block': read the block output, not its gcn's

    def __init__(self,
                 stages: Optional[Sequence[int]] = None,
                 attach_to: Optional[Union[str, Sequence[str]]] = None,
                 in_channels: Optional[Sequence[int]] = None,
                 field: str = 'aux_head') -> None:
        super().__init__()
        self.stages = stages
        self.attach_to = attach_to
        self.in_channels = in_channels
        self.field = field
        self.attach_points: List[str] = []
        self.capturing = False
        self.captured: Dict[str, Any] = {}

    @property
    def training_only(self) -> bool:
        """True: the head does not run at test time and deploy drops its
        weights. Defaults to True."""
        return True

    def init_weights(self) -> None:
        """Called by the Runner's initialisation, after the backbone and
        ``cls_head``; see :func:`init_children_in_own_stream`."""
        init_children_in_own_stream(self)

    def attach(self, model: nn.Module) -> List[str]:
        """Build one module per selected attachment point and hook it in.

        Args:
            model: the recognizer (module names start with ``backbone.``).

        Returns:
            list[str]: the names of the modules read, in forward order.
        """
        candidates = []  # (name, module read, name, module of the channels)
        for name, module in find_attach_points(model, self.attach_to):
            read = (name[:-len('.gcn')] if self.reads == 'block' and
                    self.attach_to is None else name)  # the block
            candidates.append((read, model.get_submodule(read), name, module))
        chosen = select_stages(candidates, self.stages,
                               field=f'{self.field}.stages')
        if self.in_channels is not None and len(self.in_channels) != len(
                chosen):
            raise AttachError(
                f'{self.field}.in_channels has {len(self.in_channels)} '
                f'entries for {len(chosen)} attachment points (stages)')
        with own_random_stream():
            for i, (number, (name, module, *source)) in enumerate(chosen):
                channels = (self.in_channels[i] if self.in_channels is not None
                            else infer_out_channels(*source))
                key = name.replace('.', '_')  # a ModuleDict key
                self.add_point(key, channels, number, name)
                module.register_forward_hook(_OutputHook(self, key))
                self.attach_points.append(name)
        return list(self.attach_points)

    def add_point(self, key: str, channels: int, stage: int,
                  name: str) -> None:
        """Build what the head needs at one attachment point.

        Args:
            key: ``name`` with dots replaced, a ``ModuleDict`` key.
            channels: C of the module's output.
            stage: its 1-based number among all attachment points.
            name: the module path, e.g. ``'backbone.gcn.3.gcn'``.
        """

    def on_output(self, key: str, output: Tensor) -> Optional[Tensor]:
        """What the hook does with one attachment point's output: store
        :meth:`observe`'s record while capturing; a head that is not
        training-only runs at test time too and may replace the output.

        Returns:
            Tensor | None: the replacement output, or None to keep it.
        """
        if self.training_only and not self.capturing:
            return None
        record, replacement = self.observe(key, output)
        if self.capturing:
            self.captured[key] = record
        return replacement

    def observe(self, key: str, output: Tensor) -> tuple:
        """``(record kept for loss, replacement output or None)``; by
        default the output itself, unchanged."""
        return output, None

    @contextlib.contextmanager
    def capture(self) -> Iterator['AuxHead']:
        """Record the attachment points' outputs during one forward."""
        self.captured = {}
        self.capturing = True
        try:
            yield self
        finally:
            self.capturing = False

    def take_captured(self) -> Dict[str, Any]:
        """The records of the last captured forward, one per attachment
        point in forward order; clears them.

        Raises:
            RuntimeError: no complete captured forward.
        """
        captured, self.captured = self.captured, {}
        if len(captured) != len(self.attach_points):
            raise RuntimeError(
                f'{type(self).__name__}.loss() called without a captured '
                f'forward pass (run the forward inside head.capture())')
        return captured

    def loss(self, cls_score: Optional[Tensor], data_samples,
             num_persons: int) -> Dict[str, Tensor]:
        """The head's losses from the captured forward.

        Args:
            cls_score: (N, K) the classifier scores that ``loss_cls`` was
                computed from, or None when ``cls_head`` computes its loss
                its own way.
            data_samples: the batch's ``ActionDataSample`` s.
            num_persons: M, bodies per clip in the captured outputs.

        Returns:
            dict: losses (names with ``loss``, summed into the total) and
            logged values (names without ``loss``).
        """
        raise NotImplementedError


# user-facing fields of one head each: (field = attribute, default type)
NAMED_HEADS = (('sf_head', 'SFHeads'), ('fr_head', 'FRHead'))


def aux_head_cfgs(model_cfg: Mapping) -> List[Tuple[str, dict]]:
    """``(attribute name, head config)`` of each auxiliary head of a
    recognizer config, in build order: ``sf_head``, ``fr_head``, then the
    ``aux_heads`` list (an entry's ``name``, default ``aux_head<i>``, is
    its attribute and state-dict prefix)."""
    heads = [(name, dict(dict(type=default), **model_cfg[name]))
             for name, default in NAMED_HEADS
             if model_cfg.get(name) is not None]
    for i, cfg in enumerate(model_cfg.get('aux_heads') or ()):
        cfg = dict(cfg)
        heads.append((cfg.pop('name', f'aux_head{i}'), cfg))
    return heads
