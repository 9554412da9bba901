"""Every thread that runs Python code is recorded, in a tree of its own."""
import threading

import hotpath


def spin(n):
    total = 0
    for i in range(n):
        total += square(i)
    return total


def square(x):
    return x * x


def func_ids(data, name):
    return {i for i, f in enumerate(data.functions) if f.name == name}


def calls_in(data, thread, name):
    ids = func_ids(data, name)
    return sum(s.calls for i, s in data.function_stats([thread]).items() if i in ids)


def test_threads_started_before_and_after_enable():
    go = threading.Event()
    done_before = threading.Event()

    def early():
        go.wait()
        spin(100)
        done_before.set()

    before = threading.Thread(target=early, name="started-before")
    before.start()
    p = hotpath.Profile()
    p.enable()
    try:
        go.set()
        done_before.wait(30)
        after = threading.Thread(target=spin, args=(50,), name="started-after")
        after.start()
        after.join()
        spin(10)
    finally:
        p.disable()
    before.join()
    data = p.snapshot()
    by_name = {t.name: t for t in data.threads}
    assert {"MainThread", "started-before", "started-after"} <= set(by_name)
    assert calls_in(data, by_name["started-before"], "square") == 100
    assert calls_in(data, by_name["started-after"], "square") == 50
    assert calls_in(data, by_name["MainThread"], "square") == 10
    # merged totals are the sum of the per-thread ones
    merged = data.function_stats()
    (sq,) = func_ids(data, "square")
    assert merged[sq].calls == 160
    assert merged[sq].self_ticks == sum(data.function_stats([t]).get(sq).self_ticks
                                        for t in data.threads if data.function_stats([t]).get(sq))


def test_one_function_from_many_threads():
    p = hotpath.Profile()
    with p:
        ts = [threading.Thread(target=spin, args=(20,), name=f"spinner-{i}") for i in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    data = p.snapshot()
    # (by name: under pytest-xdist the worker's own thread may run Python meanwhile, and
    # every thread is recorded)
    workers = [t for t in data.threads if t.name.startswith("spinner-")]
    assert len(workers) == 4
    assert all(calls_in(data, t, "square") == 20 for t in workers)
    (sq,) = func_ids(data, "square")
    assert data.function_stats()[sq].calls == 80
