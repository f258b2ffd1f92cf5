"""``finish_distributed``: train.py and test.py end by destroying the
process group (left to interpreter exit, a finished gloo rank aborted)."""
import torch.distributed as dist

from sfhead_mm.engine.launch import finish_distributed


def test_destroys_the_group_and_is_a_no_op_without_one(tmp_path):
    finish_distributed()  # no group: nothing to do, no error
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/store',
                            rank=0, world_size=1)
    assert dist.is_initialized()
    finish_distributed()
    assert not dist.is_initialized()


def test_train_and_test_tools_call_it_after_the_runner():
    from tests.conftest import REPO
    for tool, call in (('train.py', 'runner.train()'),
                       ('test.py', 'runner.test()')):
        text = (REPO / 'tools' / tool).read_text()
        assert text.index('finish_distributed()', text.index(call)) > 0


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
