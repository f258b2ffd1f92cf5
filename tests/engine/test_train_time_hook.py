"""TrainTimeHook: training time that survives --resume (the runner's
killed-and-resumed real run is in tests/benchmarks/test_nw_ucla_grid.py)."""


def test_train_time_hook_adds_to_what_the_resumed_checkpoint_had():
    # a resumed run's message hub holds the earlier attempts' time (loaded
    # from its checkpoint); the hook must add this attempt's time to it
    import types

    from mmengine.logging import MessageHub

    from sfhead_mm.engine import TrainTimeHook
    hub = MessageHub.get_instance('train_time_hook_test')
    hub.update_info('train_cpu_s', 100.0)
    hub.update_info('train_wall_s', 200.0)
    runner = types.SimpleNamespace(message_hub=hub)
    hook = TrainTimeHook()
    hook.before_train(runner)
    sum(i * i for i in range(200000))  # some CPU time in this attempt
    hook.after_train_epoch(runner)
    assert 100.0 <= hub.get_info('train_cpu_s') < 160.0
    assert 200.0 <= hub.get_info('train_wall_s') < 260.0
    # a fresh run starts from 0
    fresh = MessageHub.get_instance('train_time_hook_fresh')
    hook.before_train(types.SimpleNamespace(message_hub=fresh))
    hook.after_train_epoch(types.SimpleNamespace(message_hub=fresh))
    assert 0.0 <= fresh.get_info('train_cpu_s') < 60.0
