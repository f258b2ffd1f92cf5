"""How train.py and test.py end: ``finish_distributed`` destroys the
process group after a barrier, and ``end_distributed_run`` then ends a
distributed process without freeing the group in it (freeing a gloo group
from Python can deadlock or abort while a worker thread still needs the
GIL; a finished rank now and then aborted at exit)."""
import os
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
        assert text.index('return runner', text.index(call)) > 0
        main_block = text[text.index("if __name__ == '__main__':"):]
        assert 'runner = main()' in main_block
        assert main_block.rstrip().endswith('end_distributed_run()')


# A rank that used DDP, as train.py's does, then ends as train.py does.
_ENDING_RANK = textwrap.dedent("""
    import atexit, gc, logging, os, sys
    import torch, torch.distributed as dist
    from sfhead_mm.engine.launch import end_distributed_run
    out = sys.argv[1]

    def at_exit():  # what is alive when the atexit handlers run
        names = [open(f'/proc/self/task/{t}/comm').read().strip()
                 for t in os.listdir('/proc/self/task')]
        open(out + '.atexit', 'w').write(
            f'gc enabled: {gc.isenabled()}; threads: {sorted(names)}')

    atexit.register(at_exit)
    logging.basicConfig(filename=out + '.log', level=logging.INFO)
    dist.init_process_group('gloo', init_method=f'file://{out}.store',
                            rank=0, world_size=1)
    model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(4, 2))
    model(torch.randn(3, 4)).sum().backward()
    logging.info('last log line')
    sys.stdout.write('last words, no newline')
    end_distributed_run()
    raise SystemExit(3)  # not reached
""")


def test_a_distributed_run_ends_0_without_freeing_the_group(tmp_path):
    out = str(tmp_path / 'rank')
    # buffered stdout: the last words arrive only if something flushes it
    # before os._exit (our flush; here also logging.shutdown, as mmengine's
    # logger has a handler on stdout)
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONUNBUFFERED'}
    result = subprocess.run([sys.executable, '-c', _ENDING_RANK, out],
                            capture_output=True, text=True, timeout=300,
                            env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.endswith('last words, no newline')
    assert 'last log line' in open(out + '.log').read()
    # the atexit handlers ran, with the group (its worker threads) still
    # alive and no garbage collection left to free it
    at_exit = open(out + '.atexit').read()
    assert at_exit.startswith('gc enabled: False'), at_exit
    assert 'pt_gloo_runloop' in at_exit, at_exit


def test_a_run_that_is_not_distributed_returns_normally():
    from sfhead_mm.engine.launch import end_distributed_run
    assert not dist.is_initialized()  # else it would end this process
    assert end_distributed_run() is None


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
