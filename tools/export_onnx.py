"""Export the deploy model to ONNX and check it against PyTorch.

Branch heads are stripped first (they never run at test time); inline
heads are part of the model and are exported with it. The ONNX model takes
``x`` (N, M, T, V, C) with dynamic N and T and returns ``scores`` (N, K),
the classifier's logits. The export is checked with onnxruntime on two
inputs of other batch sizes and clip lengths than the one traced.

Example:
    python tools/export_onnx.py CONFIG CKPT work_dirs/x/model.onnx
"""
import argparse
import os.path as osp
import statistics
import sys
import time
import warnings

import numpy as np
import sfhead_mm  # noqa: F401  (repairs the mm stack before mmaction loads)
import torch
from sfhead_mm.apis import load_recognizer
from sfhead_mm.engine.launch import USER_ERRORS
from sfhead_mm.fileio import check_output_path, write_atomic


class ScoresOnly(torch.nn.Module):
    """(N, M, T, V, C) -> (N, K) logits of a skeleton recognizer."""

    def __init__(self, recognizer: torch.nn.Module) -> None:
        super().__init__()
        self.recognizer = recognizer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.recognizer(x.unsqueeze(1), mode='tensor', stage='head')


def median_ms(fn, reps: int = 5) -> float:
    fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog='example: python '
                                     'tools/export_onnx.py CONFIG CKPT '
                                     'model.onnx --frames 64')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('out', help='.onnx file')
    parser.add_argument('--frames', type=int, default=64)
    parser.add_argument('--persons', type=int, default=2)
    parser.add_argument('--joints', type=int, default=None,
                        help='default: the backbone graph\'s joints')
    parser.add_argument('--channels', type=int, default=3)
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument('--atol', type=float, default=1e-4,
                        help='max abs difference allowed vs PyTorch')
    args = parser.parse_args(argv)
    if not args.out.endswith('.onnx'):
        raise ValueError(f'output must end with .onnx, got {args.out}')
    check_output_path(args.out, [args.checkpoint, args.config], what='out')
    import onnxruntime as ort
    model = load_recognizer(args.config, args.checkpoint, deploy=True)
    joints = args.joints or model.backbone.graph.num_node
    wrapper = ScoresOnly(model).eval()
    shape = (2, args.persons, args.frames, joints, args.channels)
    example = torch.randn(*shape)

    def export(tmp: str) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            torch.onnx.export(
                wrapper, (example, ), tmp, input_names=['x'],
                output_names=['scores'], opset_version=args.opset,
                dynamo=False,
                dynamic_axes={'x': {0: 'batch', 2: 'frames'},
                              'scores': {0: 'batch'}})

    def export_and_check(tmp: str) -> None:
        # checked before it is renamed onto args.out: a failed check
        # leaves no .onnx behind (write_atomic removes the temporary file)
        export(tmp)
        wrapper.eval()  # export restores the wrapper's mode; keep eval
        checked['session'] = session = ort.InferenceSession(
            tmp, providers=['CPUExecutionProvider'])
        worst = 0.0
        for n, t in ((1, args.frames), (3, max(8, args.frames // 2 + 4))):
            x = torch.randn(n, args.persons, t, joints, args.channels)
            with torch.no_grad():
                ref = wrapper(x).numpy()
            got = session.run(None, {'x': x.numpy()})[0]
            worst = max(worst, float(np.abs(got - ref).max()))
        checked['worst'] = worst
        if not worst <= args.atol:  # NaN fails too
            raise ValueError(
                f'ONNX output differs from PyTorch by {worst:.2e} > atol '
                f'{args.atol:.0e}; {args.out} was not written')

    checked: dict = {}
    write_atomic(args.out, export_and_check)
    session, worst = checked['session'], checked['worst']
    x = torch.randn(*shape)
    with torch.no_grad():
        torch_ms = median_ms(lambda: wrapper(x))
    onnx_ms = median_ms(lambda: session.run(None, {'x': x.numpy()}))
    has_inline = getattr(model, 'sf_head', None) is not None
    print(f'exported {"with inline SF-Head " if has_inline else ""}-> '
          f'{args.out} ({osp.getsize(args.out) / 1e6:.2f} MB)')
    print(f'max |ONNX - PyTorch| = {worst:.2e} (atol {args.atol:.0e}), '
          f'dynamic batch and frames checked')
    print(f'latency, batch {shape[0]}, T={args.frames}: PyTorch '
          f'{torch_ms:.1f} ms, onnxruntime {onnx_ms:.1f} ms '
          f'(ratio {onnx_ms / torch_ms:.2f})')
    return dict(max_abs_diff=worst, torch_ms=torch_ms, onnx_ms=onnx_ms)


if __name__ == '__main__':
    try:
        main()
    except USER_ERRORS + (ValueError, ) as err:
        sys.exit(f'error: {err}')
