"""``SFRecognizerGCN``: mmaction's ``RecognizerGCN`` with auxiliary heads.

A user adds to any skeleton config::

    custom_imports = dict(imports=['sfhead_mm'], allow_failed_imports=False)
    model = dict(type='SFRecognizerGCN', sf_head=dict(placement='branch'))
    # or fr_head=dict(...), or both, or aux_heads=[dict(type=...), ...]

Each head is an :class:`~sfhead_mm.models.aux_head.AuxHead`: it attaches
to backbone modules by forward hooks (the backbone's code is untouched)
and turns what it saw in a training forward into named losses.
"""
import contextlib
from typing import Dict, Iterator, List, Optional, Sequence

from mmaction.models import RecognizerGCN
from mmaction.models.heads import BaseHead
from mmaction.registry import MODELS
from mmengine.model import merge_dict
from torch import Tensor, nn

from .aux_head import AuxHead, aux_head_cfgs
from .plugin import own_random_stream
from .sf_head import SFHeads as SFHeadPlugin  # noqa: F401  (former name)

__all__ = ['SFRecognizerGCN', 'recorded_scores']


@contextlib.contextmanager
def recorded_scores(cls_head: nn.Module) -> Iterator[Dict[str, Tensor]]:
    """Record the class scores of a ``cls_head`` that computes its loss its
    own way and has no ``loss_and_scores()``, so that heads like FR-Head
    get the scores ``loss_cls`` saw (a fallback for heads we do not own).

    Inside, ``scores['forward']`` is the last output of ``cls_head``'s own
    forward (``ProtoGCNHead.loss`` calls it) and ``scores['layer']`` the
    last output of its one ``nn.Linear`` with ``num_classes`` outputs, when
    it has exactly one (``InfoGCNHead.loss`` decodes the sampled latent with
    ``decoder`` without calling forward). A key is absent when nothing was
    recorded for it.
    """
    scores: Dict[str, Tensor] = {}

    def keep(key: str):
        def hook(module, args, output):
            if isinstance(output, Tensor) and output.dim() == 2:
                scores[key] = output
        return hook

    handles = [cls_head.register_forward_hook(keep('forward'))]
    num_classes = getattr(cls_head, 'num_classes', None)
    layers = [m for m in cls_head.modules()
              if isinstance(m, nn.Linear) and m.out_features == num_classes]
    if len(layers) == 1:
        handles.append(layers[0].register_forward_hook(keep('layer')))
    try:
        yield scores
    finally:
        for handle in handles:
            handle.remove()


@MODELS.register_module()
class SFRecognizerGCN(RecognizerGCN):
    """``RecognizerGCN`` with auxiliary heads on its backbone.

    Their losses are added to ``loss_cls`` as their own keys
    (``loss_sf_con``, ``loss_sf_red``, ``loss_fr``, ...). ``aux_loss_scale``
    multiplies every one whose name contains ``loss``; it is 1 unless
    :class:`~sfhead_mm.engine.AuxLossWarmupHook` sets it to 0 for warm-up
    epochs (the heads still run, so DDP sees every parameter used).

    Args:
        sf_head (dict, optional): :class:`~sfhead_mm.models.SFHeads`
            fields. None: no SF-Head. Defaults to None.
        fr_head (dict, optional): :class:`~sfhead_mm.models.FRHead`
            fields. None: no FR-Head. Defaults to None.
        aux_heads (list[dict]): more heads, each ``dict(type=..., name=...)``
            of a registered :class:`AuxHead`. Defaults to ``()``. With no
            head at all this is the plain recognizer.
        **kwargs: ``RecognizerGCN`` arguments (backbone, cls_head, ...).
    """

    def __init__(self,
                 sf_head: Optional[dict] = None,
                 fr_head: Optional[dict] = None,
                 aux_heads: Sequence[dict] = (),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.aux_loss_scale = 1.0
        self.sf_head = self.fr_head = None
        self.aux_head_names: List[str] = []
        cfgs = aux_head_cfgs(dict(sf_head=sf_head, fr_head=fr_head,
                                  aux_heads=aux_heads))
        with own_random_stream():  # one fork for all heads, in this order
            for name, cfg in cfgs:
                head = MODELS.build(cfg)
                if not isinstance(head, AuxHead):
                    raise TypeError(f'{name}: {type(head).__name__} is not '
                                    'an AuxHead (sfhead_mm.models.AuxHead)')
                if getattr(self, name, None) is not None:
                    raise ValueError(f'aux head name {name!r} is taken')
                setattr(self, name, head)
                head.attach(self)
                self.aux_head_names.append(name)

    @property
    def aux_heads(self) -> List[AuxHead]:
        return [getattr(self, name) for name in self.aux_head_names]

    @property
    def sf_attach_points(self) -> List[str]:
        return [] if self.sf_head is None else self.sf_head.attach_points

    @property
    def fr_attach_points(self) -> List[str]:
        return [] if self.fr_head is None else self.fr_head.attach_points

    def loss(self, inputs: Tensor, data_samples, **kwargs) -> dict:
        """``cls_head``'s losses plus the auxiliary heads', which receive
        the very scores ``loss_cls`` is computed from. A ``cls_head`` with
        its own ``loss()`` hands them over by ``loss_and_scores()`` (ours:
        ``InfoGCNHead``, ``ProtoGCNHead``); any other such head is watched
        for them: see :func:`recorded_scores`.

        Args:
            inputs: (N, num_clips, M, T, V, C).
        """
        cls_score = None
        with contextlib.ExitStack() as stack:
            for head in self.aux_heads:
                stack.enter_context(head.capture())
            feats, kw = self.extract_feat(inputs, data_samples=data_samples)
            if type(self.cls_head).loss is BaseHead.loss:  # scores, loss
                cls_score = self.cls_head(feats, **kw)
                losses = self.cls_head.loss_by_feat(cls_score, data_samples)
            elif hasattr(self.cls_head, 'loss_and_scores'):
                losses, cls_score = self.cls_head.loss_and_scores(
                    feats, data_samples, **kw)
            else:  # someone else's head with its own loss() (extra terms)
                with recorded_scores(self.cls_head) as scores:
                    losses = self.cls_head.loss(feats, data_samples, **kw)
                cls_score = scores.get('forward', scores.get('layer'))
        losses = merge_dict(losses, kw.get('loss_aux', {}))
        for head in self.aux_heads:
            aux = head.loss(cls_score, data_samples, inputs.shape[2])
            losses.update({k: v * self.aux_loss_scale if 'loss' in k else v
                           for k, v in aux.items()})
        return losses
