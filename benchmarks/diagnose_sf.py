"""What the SF-Head's losses do to a trained backbone (issue: "Diagnose").

For each run directory of ``benchmarks/nw_ucla.py`` (its ``config.py`` and
final checkpoint), on the run's own evaluation split:

- **channel diversity**: the effective rank (exp of the entropy of the
  normalised singular values; Roy & Vetterli 2007) of every GCN output,
  channels x (clips * frames * joints), centred per channel. If minimising
  the SF losses made the channels of a block alike, its effective rank
  falls below the baseline's at the same seed.
- **does the head satisfy the losses by itself**: the SSTE affine weights
  (``|w_t|``, ``|w_s|``), the softmax of eta, and the spread (standard
  deviation over positions) of each AC-FA gate's output; a gate whose
  output is nearly constant does no gating.
- **who drives the backbone**: on training batches, the norm of the
  backbone gradient of the SF losses and of the CE loss, their ratio and
  their cosine, with the final weights and with the weights the Runner
  started from (``gradients_at_start``). ``nw_ucla.py --gradient-share N``
  logs the same over a whole training run.

Example:
    python benchmarks/diagnose_sf.py work_dirs/bench/nw-ucla_tune/*seed0_* \\
        --json benchmarks/results/diagnostics_tune.json
"""
import argparse
import glob
import json
import os.path as osp
import sys
from typing import Dict, List, Optional

import numpy as np
import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)


def effective_rank(features: torch.Tensor) -> float:
    """Effective rank of (C, n) features, each channel centred.

    Returns:
        float: ``exp(H(p))`` with ``p`` the singular values over their sum;
        between 1 (all channels alike) and C (all equally used).
    """
    x = features.double()
    x = x - x.mean(dim=1, keepdim=True)
    s = torch.linalg.svdvals(x)
    p = s / s.sum().clamp_min(1e-300)
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


def final_checkpoint(run_dir: str) -> str:
    ckpts = glob.glob(osp.join(run_dir, 'epoch_*.pth'))
    if not ckpts:
        raise SystemExit(f'error: {run_dir}: no epoch_*.pth checkpoint')
    return max(ckpts, key=lambda p: int(osp.basename(p)[6:-4]))


def gcn_outputs(model, loader, max_batches: int) -> Dict[str, torch.Tensor]:
    """Each block's gcn output (``backbone.<...>.gcn`` beside a ``tcn``)
    over the first batches, (B, C, T, V), B = bodies of all batches."""
    names = [n for n, _ in model.named_modules()
             if n.startswith('backbone.') and n.endswith('.gcn') and
             hasattr(model.get_submodule(n[:-4]), 'tcn')]
    stored: Dict[str, List[torch.Tensor]] = {n: [] for n in names}
    handles = [model.get_submodule(n).register_forward_hook(
        lambda m, a, out, n=n: stored[n].append(out.detach()))
        for n in names]
    model.eval()
    try:
        with torch.no_grad():
            for i, batch in enumerate(loader):
                if i == max_batches:
                    break
                model.test_step(batch)
    finally:
        for h in handles:
            h.remove()
    return {n: torch.cat(v) for n, v in stored.items()}


def head_statistics(model, outputs: Dict[str, torch.Tensor]
                    ) -> Dict[str, dict]:
    """SSTE weights, eta and gate spreads of every SFHead, per block."""
    stats = {}
    for name, head in model.named_modules():
        if type(head).__name__ != 'SFHead':
            continue
        block = head.name
        sste = head.sste
        entry = dict(
            abs_w_t=float(sste.temporal_weight.abs().mean()),
            abs_w_s=float(sste.spatial_weight.abs().mean()),
            eta_softmax=[float(v) for v in torch.softmax(head.eta, 0)])
        if block in outputs:
            x = outputs[block]
            B, C, T, V = x.shape
            with torch.no_grad():
                g = head.groups
                f_t, f_s, f_c, _ = sste(x.reshape(B * g, C // g, T, V))
                for gate, f in (('temporal_gate', f_t),
                                ('spatial_gate', f_s),
                                ('channel_gate', f_c)):
                    entry[f'{gate}_std'] = float(
                        getattr(head, gate).weights(f).std())
        stats[block] = entry
    return stats


def gradient_shares(model, loader, batches: int) -> Optional[dict]:
    """Backbone gradient norms of CE and of the SF losses, averaged over
    the first training batches (the model's own augmentation)."""
    from sfhead_mm.engine import backbone_gradient_share
    shares = []
    model.train()
    for i, batch in enumerate(loader):
        if i == batches:
            break
        share = backbone_gradient_share(model, batch,
                                        aux_prefixes=('loss_sf', ))
        if share is None:
            return None
        shares.append(share)
    ce, sf = (float(np.mean([s[k] for s in shares]))
              for k in ('cls_grad_norm', 'aux_grad_norm'))
    return dict(ce_grad_norm=ce, sf_grad_norm=sf,
                sf_over_ce=sf / ce if ce else float('nan'),
                cosine=float(np.mean([s['cosine'] for s in shares])))


class _Stop(Exception):
    pass


def initial_model(cfg):
    """The run's model as its Runner initialised it (same seed, same
    weights as at the start of training), and the Runner's train loader."""
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    class StopBeforeTraining(Hook):
        def before_train(self, runner) -> None:
            raise _Stop

    cfg = cfg.copy()
    cfg.resume, cfg.load_from = False, None
    cfg.custom_hooks = [h for h in cfg.get('custom_hooks', [])
                        if h.get('type') != 'WorkDirLockHook']
    runner = Runner.from_cfg(cfg)
    runner.register_hook(StopBeforeTraining(), priority='VERY_LOW')
    try:
        runner.train()
    except _Stop:
        pass
    return runner.model, runner.train_dataloader


def diagnose(run_dir: str, batches: int = 4) -> dict:
    """All the figures of one run directory."""
    from mmengine.config import Config
    from mmengine.runner import Runner, load_checkpoint
    cfg = Config.fromfile(osp.join(run_dir, 'config.py'))
    cfg.work_dir = osp.join(run_dir, 'diagnose')
    for key in ('train_dataloader', 'test_dataloader'):
        cfg[key].update(num_workers=0, persistent_workers=False)
    from mmengine.registry import init_default_scope

    from mmaction.registry import MODELS
    import sfhead_mm  # noqa: F401  (registers our modules)
    init_default_scope('mmaction')
    model = MODELS.build(cfg.model)
    load_checkpoint(model, final_checkpoint(run_dir), map_location='cpu',
                    logger='silent')
    outputs = gcn_outputs(model, Runner.build_dataloader(
        cfg.test_dataloader), batches)
    result = dict(
        run_dir=run_dir, model=cfg.model.get('type'),
        sf_head=cfg.model.get('sf_head'),
        effective_rank={  # channels x (bodies * frames * joints)
            n: effective_rank(x.transpose(0, 1).flatten(1))
            for n, x in outputs.items()},
        channels={n: int(x.shape[1]) for n, x in outputs.items()},
        head=head_statistics(model, outputs))
    result['gradients'] = gradient_shares(
        model, Runner.build_dataloader(cfg.train_dataloader), batches)
    if result['gradients'] is not None:  # the same at the start of training
        cfg.work_dir = osp.join(run_dir, 'diagnose_start')
        result['gradients_at_start'] = gradient_shares(
            *initial_model(cfg), batches)
    return result


def main(argv=None) -> List[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('runs', nargs='+', help='run directories')
    parser.add_argument('--batches', type=int, default=4)
    parser.add_argument('--json', help='write the figures here')
    args = parser.parse_args(argv)
    results = [diagnose(r, args.batches) for r in args.runs]
    for r in results:
        ranks = ', '.join(f'{v:.1f}/{r["channels"][k]}'
                          for k, v in r['effective_rank'].items())
        print(f'{r["run_dir"]}: effective rank per block {ranks}')
        for when in ('gradients_at_start', 'gradients'):
            if r.get(when):
                print(f'  backbone gradient '
                      f'{"at the start" if "start" in when else "at the end"}'
                      f': SF / CE = {r[when]["sf_over_ce"]:.3f}, cosine '
                      f'{r[when]["cosine"]:+.3f}')
    if args.json:
        from sfhead_mm.fileio import write_text_atomic
        write_text_atomic(json.dumps(results, indent=1), args.json)
    return results


if __name__ == '__main__':
    main()
