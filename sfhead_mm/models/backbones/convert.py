"""Original checkpoints of InfoGCN, BlockGCN and HD-GCN, mapped onto ours.

One function per backbone, each taking the original ``Model``'s state dict
(``module.`` prefixes dropped) and returning the keys of a
``RecognizerGCN`` with our backbone and its head, so that
``load_state_dict(..., strict=True)`` accepts it. The parameters are the
same numbers; where ours stacks an original per-layer or per-subset module
into one, the pieces are concatenated in the order the backbone's
docstring gives.
"""
import re
from typing import Dict

import torch

__all__ = [
    'convert_blockgcn_checkpoint', 'convert_hdgcn_checkpoint',
    'convert_infogcn_checkpoint'
]


def convert_infogcn_checkpoint(
        state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Map an original InfoGCN state dict onto ``backbone.`` and ``head.``.

    ``l{i}.agcn`` becomes ``backbone.gcn.{i-1}.gcn`` (its ``attn`` becomes
    ``attention``, its ``conv_d.{h}`` weights and biases are stacked into
    ``weight`` and ``bias``), ``l{i}.tcn``/``l{i}.residual`` become
    ``backbone.gcn.{i-1}.tcn``/``.residual``, the embedding and ``data_bn``
    keep their names under ``backbone.``, and ``fc``, ``fc_mu``,
    ``fc_logvar``, ``decoder`` go to ``head.`` (:class:`InfoGCNHead`).
    A ``module.`` prefix (DataParallel) is dropped.

    Args:
        state_dict (dict[str, torch.Tensor]): The original ``InfoGCN``'s.

    Returns:
        dict[str, torch.Tensor]: Keys of a ``RecognizerGCN`` with
        ``backbone=dict(type='InfoGCN')`` and ``cls_head=dict(
        type='InfoGCNHead')``, except ``head.z_prior`` (not in the
        original's state dict).
    """
    out: Dict[str, torch.Tensor] = {}
    heads: Dict[str, Dict[int, torch.Tensor]] = {}
    for key, value in state_dict.items():
        key = key[len('module.'):] if key.startswith('module.') else key
        match = re.match(r'l(\d+)\.(agcn|tcn|residual)\.(.*)', key)
        if match is None:
            prefix = 'head.' if key.split('.')[0] in (
                'fc', 'fc_mu', 'fc_logvar', 'decoder') else 'backbone.'
            out[prefix + key] = value
            continue
        block, part, rest = match.groups()
        base = f'backbone.gcn.{int(block) - 1}.'
        if part != 'agcn':
            out[base + part + '.' + rest] = value
            continue
        conv = re.match(r'conv_d\.(\d+)\.(weight|bias)', rest)
        if conv is not None:
            name = base + 'gcn.' + conv.group(2)
            heads.setdefault(name, {})[int(conv.group(1))] = value
        else:
            out[base + 'gcn.' + rest.replace('attn.', 'attention.', 1)] = \
                value
    for name, per_head in heads.items():
        stacked = torch.stack([per_head[h] for h in sorted(per_head)])
        out[name] = stacked.flatten(2) if stacked.dim() > 2 else stacked
    return out


def convert_blockgcn_checkpoint(
        state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Map an original BlockGCN ``Model`` state dict onto ours.

    ``l{i}.gcn1`` -> ``backbone.gcn.{i-1}.gcn`` (``fc1`` -> ``topology``,
    ``rpe`` -> ``hop_embedding``, ``fc2.{s}`` stacked into ``weight`` and
    ``bias``), ``l{i}.tcn1`` -> ``.tcn``, ``l{i}.residual`` -> ``.residual``,
    ``t{i}`` -> ``backbone.topology_proj.{i}``, ``topo.pl`` ->
    ``backbone.topology``, ``fc`` -> ``cls_head.fc``; a ``module.`` prefix
    is dropped.

    Args:
        state_dict (dict[str, torch.Tensor]): The original ``Model``'s.

    Returns:
        dict[str, torch.Tensor]: Keys of a ``RecognizerGCN`` with
        ``backbone=dict(type='BlockGCN')`` and a ``GCNHead``.
    """
    out: Dict[str, torch.Tensor] = {}
    stacks: Dict[str, Dict[int, torch.Tensor]] = {}
    renames = {'fc1': 'topology', 'rpe': 'hop_embedding'}
    for key, value in state_dict.items():
        key = key[len('module.'):] if key.startswith('module.') else key
        block = re.match(r'l(\d+)\.(gcn1|tcn1|residual)\.(.*)', key)
        topo = re.match(r't(\d+)\.(.*)', key)
        if block is not None:
            index, part, rest = block.groups()
            base = f'backbone.gcn.{int(index) - 1}.'
            if part != 'gcn1':
                out[base + part.rstrip('1') + '.' + rest] = value
                continue
            conv = re.match(r'fc2\.(\d+)\.(weight|bias)', rest)
            if conv is not None:
                name = base + 'gcn.' + conv.group(2)
                stacks.setdefault(name, {})[int(conv.group(1))] = value
            else:
                out[base + 'gcn.' + renames.get(rest, rest)] = value
        elif topo is not None:
            out[f'backbone.topology_proj.{topo.group(1)}.{topo.group(2)}'] = \
                value
        elif key.startswith('topo.pl.'):
            out['backbone.topology.' + key[len('topo.pl.'):]] = value
        elif key.startswith('fc.'):
            out['cls_head.' + key] = value
        else:
            out['backbone.' + key] = value
    for name, per_subset in stacks.items():
        stacked = torch.stack([per_subset[s] for s in sorted(per_subset)])
        out[name] = stacked.flatten(2) if stacked.dim() > 2 else stacked
    return out


def convert_hdgcn_checkpoint(
        state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Map an original HD-GCN ``Model`` state dict onto ours.

    Per block ``l{i}`` -> ``backbone.gcn.{i-1}``: ``gcn1.conv_down.{l}``
    stacked into ``gcn.conv_down``, ``gcn1.conv.{l}.{s}`` into
    ``gcn.subset_conv`` (layer-major), ``gcn1.conv.{l}.{S}`` (EdgeConv) into
    ``gcn.edge_conv``, ``gcn1.aha.edge_conv.conv.{0,1}`` to
    ``gcn.aha.edge_conv.{conv,bn}``, the temporal convs' separate ``bias``
    into their conv's bias; ``fc`` -> ``cls_head.fc``; ``module.`` dropped.

    Args:
        state_dict (dict[str, torch.Tensor]): The original ``Model``'s.

    Returns:
        dict[str, torch.Tensor]: Keys of a ``RecognizerGCN`` with
        ``backbone=dict(type='HDGCN')`` and a ``GCNHead``.
    """
    out: Dict[str, torch.Tensor] = {}
    stacks: Dict[str, Dict[tuple, torch.Tensor]] = {}
    for key, value in state_dict.items():
        key = key[len('module.'):] if key.startswith('module.') else key
        if key.startswith('fc.'):
            out['cls_head.' + key] = value
            continue
        match = re.match(r'l(\d+)\.(gcn1|tcn1|residual)\.(.*)', key)
        if match is None:
            out['backbone.' + key] = value
            continue
        index, part, rest = match.groups()
        base = f'backbone.gcn.{int(index) - 1}.'
        if part == 'tcn1':
            rest = re.sub(r'(branches\.\d+\.3)\.bias$', r'\1.conv.bias',
                          rest)
            if rest.endswith('conv.bias') and value.dim() == 4:
                value = value.view(-1)
            out[base + 'tcn.' + rest] = value
            continue
        if part == 'residual':
            out[base + 'residual.' + rest] = value
            continue
        down = re.match(r'conv_down\.(\d+)\.(\d)\.(.*)', rest)
        conv = re.match(r'conv\.(\d+)\.(\d+)\.(.*)', rest)
        aha_edge = re.match(r'aha\.edge_conv\.conv\.(\d)\.(.*)', rest)
        if down is not None:
            layer, sub, name = down.groups()
            stacks.setdefault(f'{base}gcn.conv_down.{sub}.{name}',
                              {})[(int(layer), )] = value
        elif conv is not None:
            layer, subset, name = conv.groups()
            if name.startswith('conv.'):  # EdgeConv: conv.{0: conv, 1: bn}
                which, param = name.split('.')[1:]
                target = 'conv' if which == '0' else 'bn'
                stacks.setdefault(f'{base}gcn.edge_conv.{target}.{param}',
                                  {})[(int(layer), )] = value
            else:
                stacks.setdefault(f'{base}gcn.subset_conv.{name}',
                                  {})[(int(layer), int(subset))] = value
        elif aha_edge is not None:
            which, param = aha_edge.groups()
            target = 'conv' if which == '0' else 'bn'
            out[f'{base}gcn.aha.edge_conv.{target}.{param}'] = value
        else:
            out[base + 'gcn.' + rest] = value
    for name, parts in stacks.items():
        values = [parts[k] for k in sorted(parts)]
        out[name] = values[0] if values[0].dim() == 0 else torch.cat(values)
    return out
