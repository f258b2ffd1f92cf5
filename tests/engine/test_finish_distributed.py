"""How train.py and test.py end: ``finish_distributed`` destroys the
process group after a barrier, and a distributed run then leaves through
``exit_after_distributed_run`` (torch keeps the group alive once DDP has
used it, and a finished gloo rank now and then aborted in the teardown)."""
import subprocess
import sys
import textwrap

import torch.distributed as dist

from sfhead_mm.engine.launch import finish_distributed


def test_destroys_the_group_and_is_a_no_op_without_one(tmp_path):
    assert finish_distributed() is False  # no group: nothing to do
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/store',
                            rank=0, world_size=1)
    assert dist.is_initialized()
    assert finish_distributed() is True
    assert not dist.is_initialized()


def test_train_and_test_tools_call_it_after_the_runner():
    from tests.conftest import REPO
    for tool, call in (('train.py', 'runner.train()'),
                       ('test.py', 'runner.test()')):
        text = (REPO / 'tools' / tool).read_text()
        assert text.index('return finish_distributed()',
                          text.index(call)) > 0
        main_block = text[text.index("if __name__ == '__main__':"):]
        assert 'distributed = main()' in main_block
        assert 'if distributed:\n        exit_after_distributed_run()' \
            in main_block


# A rank that used DDP, as train.py's does, then ends as train.py does.
_EXITING_RANK = textwrap.dedent("""
    import atexit, logging, sys
    import torch, torch.distributed as dist
    from sfhead_mm.engine.launch import (exit_after_distributed_run,
                                         finish_distributed)
    out = sys.argv[1]
    atexit.register(lambda: open(out + '.atexit', 'w').write('ran'))
    logging.basicConfig(filename=out + '.log', level=logging.INFO)
    dist.init_process_group('gloo', init_method=f'file://{out}.store',
                            rank=0, world_size=1)
    model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(4, 2))
    model(torch.randn(3, 4)).sum().backward()
    logging.info('last log line')
    sys.stdout.write('last words, no newline')
    assert finish_distributed()
    exit_after_distributed_run()
    raise SystemExit(3)  # not reached
""")


def test_a_distributed_run_exits_0_after_flushing_and_atexit(tmp_path):
    out = str(tmp_path / 'rank')
    result = subprocess.run([sys.executable, '-c', _EXITING_RANK, out],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.endswith('last words, no newline')
    assert open(out + '.atexit').read() == 'ran'
    assert 'last log line' in open(out + '.log').read()


def _finish_late(rank: int, store: str, times) -> None:
    import time
    dist.init_process_group('gloo', init_method=f'file://{store}',
                            rank=rank, world_size=2)
    if rank == 1:
        time.sleep(2.0)  # a slower rank, still finishing its last step
    finish_distributed()
    times[rank] = time.time()


def test_no_rank_tears_down_before_the_others_are_done(tmp_path):
    # a barrier first: rank 0 may not close its connections while rank 1
    # is still working
    import torch.multiprocessing as mp
    times = mp.Manager().dict()
    mp.spawn(_finish_late, args=(str(tmp_path / 'store'), times), nprocs=2)
    assert abs(times[0] - times[1]) < 1.0, dict(times)
