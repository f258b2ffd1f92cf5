"""The evidence runner's variants: baseline, SF-Head (branch, inline),
FR-Head, each with head fields appended as ``+field=value`` (e.g.
``sfhead_branch+tau=0.03+phi=printed``), their labels, and the ``model``
overrides they mean on each dataset."""
import ast
import json
from typing import Dict, Tuple

# The four main variants: recognizer and auxiliary head of each.
VARIANTS: Dict[str, dict] = {
    'baseline': dict(type='RecognizerGCN'),
    'sfhead_branch': dict(type='SFRecognizerGCN',
                          sf_head=dict(placement='branch')),
    'sfhead_inline': dict(type='SFRecognizerGCN',
                          sf_head=dict(placement='inline')),
    'frhead': dict(type='SFRecognizerGCN', fr_head=dict()),
}
LABELS: Dict[str, str] = {
    'baseline': 'CTR-GCN (baseline)',
    'sfhead_branch': '+ SF-Head, branch',
    'sfhead_inline': '+ SF-Head, inline',
    'frhead': '+ FR-Head',
}
# Names of the one-seed ablations of the short pilot (old results file).
ABLATIONS: Dict[str, str] = {
    'sf_stages_8-10': 'sfhead_branch+stages=[8, 9, 10]',
    'sf_lambda_x0.5': 'sfhead_branch+lambda_con=0.1+lambda_red=0.05',
    'sf_lambda_x2': 'sfhead_branch+lambda_con=0.4+lambda_red=0.2',
    'sf_tau_0.5': 'sfhead_branch+tau=0.5',
    'sf_alpha_2': 'sfhead_branch+alpha=2.0',
    'sf_eps_0.1': 'sfhead_branch+eps=0.1',
}
def parse_variant(name: str) -> Tuple[str, dict]:
    """``'sfhead_branch+tau=0.03'`` -> ``('sfhead_branch', {'tau': 0.03})``.

    Raises:
        ValueError: unknown base variant or a field that is not
        ``name=python-literal``.
    """
    name = ABLATIONS.get(name, name)
    base, *items = name.split('+')
    if base not in VARIANTS:
        raise ValueError(f'variant {name!r}: unknown base {base!r}; expected '
                         f'one of {list(VARIANTS)} (or an old ablation name '
                         f'{list(ABLATIONS)})')
    fields = {}
    for item in items:
        key, sep, value = item.partition('=')
        if not sep or not key.isidentifier():
            raise ValueError(f'variant {name!r}: {item!r} is not field=value')
        try:
            fields[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            fields[key] = value  # a bare string, e.g. phi=printed
    if fields and base == 'baseline':
        raise ValueError(f'variant {name!r}: the baseline has no head fields')
    return base, fields


def variant_label(name: str) -> str:
    """A readable label: the base's label and the changed fields."""
    base, fields = parse_variant(name)
    extra = ', '.join(f'{k}={v!r}' for k, v in fields.items())
    return LABELS[base] + (f' ({extra})' if extra else '')


# Head fields a dataset's backbone needs. The demo's CTR-GCN has 4 blocks
# (inflated at 3), so FR-Head's published blocks 1, 5, 8, 10 of 10 become
# their roles there: the first block, the first inflated one, the last.
DATASET_HEAD_FIELDS: Dict[str, Dict[str, dict]] = {
    'demo': {'frhead': dict(stages=[1, 3, 4], stage_weights=[0.1, 0.2, 1.0])},
}


def variant_model(name: str, dataset: str = 'nw-ucla') -> dict:
    """The ``model`` overrides of a variant on ``dataset``."""
    base, fields = parse_variant(name)
    model = json.loads(json.dumps(VARIANTS[base]))  # a deep copy
    head = 'fr_head' if 'fr_head' in model else 'sf_head'
    model.get(head, {}).update(DATASET_HEAD_FIELDS.get(dataset, {}).get(
        base, {}))
    if fields:
        model[head].update(fields)
    return model
