"""neuralab.parallel: blocked loops shared between threads give the one-thread results, errors
surface, the BLAS gets its thread count back, and bad thread counts are refused."""

from __future__ import annotations

import math
import multiprocessing
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import neuralab as nl
from neuralab import parallel


def blas_threads() -> list[int]:
    return [getter() for getter, _ in parallel._openblas()]


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_run_chunks_covers_every_item_once_in_order(threads):
    nl.set_num_threads(threads)
    seen = []
    names = set()

    def work(lo, hi):
        seen.extend(range(lo, hi))
        names.add(threading.current_thread().name)
        return (lo, hi)

    chunks = parallel.run_chunks(10, work)
    assert sorted(seen) == list(range(10))
    assert [c[0] for c in chunks] == sorted(c[0] for c in chunks)  # results in chunk order
    assert chunks[0][0] == 0 and chunks[-1][1] == 10
    assert len(chunks) == threads and (len(names) > 1) == (threads > 1)


def test_run_chunks_holds_the_blas_to_one_thread_and_gives_its_threads_back():
    nl.set_num_threads(2)
    before = blas_threads()
    inside = parallel.run_chunks(2, lambda lo, hi: blas_threads())
    assert all(counts == [1] * len(before) for counts in inside)
    assert blas_threads() == before


def test_a_loop_kept_in_one_thread_also_holds_the_blas_to_one_thread():
    nl.set_num_threads(2)
    before = blas_threads()
    inside = parallel.run_chunks(4, lambda lo, hi: (lo, hi, blas_threads()), max_threads=1)
    assert inside == [(0, 4, [1] * len(before))]
    assert blas_threads() == before


def test_an_error_in_a_thread_surfaces_and_the_blas_is_restored():
    nl.set_num_threads(2)
    before = blas_threads()

    def work(lo, hi):
        if lo > 0:
            raise ValueError("chunk failed")
        return lo

    with pytest.raises(ValueError, match="chunk failed"):
        parallel.run_chunks(4, work)
    assert blas_threads() == before
    assert parallel.run_chunks(4, lambda lo, hi: hi - lo) == [2, 2]  # the pool still works


def test_loops_inside_a_parallel_loop_run_in_their_thread():
    nl.set_num_threads(2)
    inner = parallel.run_chunks(2, lambda lo, hi: parallel.run_chunks(6, lambda a, b: (a, b)))
    assert inner == [[(0, 6)], [(0, 6)]]


def test_loops_from_two_python_threads_both_finish_and_restore_the_blas():
    nl.set_num_threads(2)
    before = blas_threads()
    results = {}

    def user_thread(name):
        results[name] = [parallel.run_chunks(8, lambda lo, hi: (lo, hi)) for _ in range(50)]

    threads = [threading.Thread(target=user_thread, args=(name,)) for name in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    for runs in results.values():  # each run covers 0..8 in order, in one chunk or two
        assert all(r[0][0] == 0 and r[-1][1] == 8 for r in runs)
    assert blas_threads() == before


def test_over_rows_splits_only_large_arrays():
    nl.set_num_threads(2)
    calls = []
    parallel.over_rows(np.zeros((4, 3)), calls.append)
    assert calls == [...]
    calls.clear()
    parallel.over_rows(np.zeros(()), calls.append)
    assert calls == [...]
    calls.clear()
    # Two threads append in either order.
    parallel.over_rows(np.zeros((8, 1 << 16), dtype=np.float64), calls.append)  # 4 MB
    assert sorted(calls, key=lambda rows: rows.start) == [slice(0, 4), slice(4, 8)]
    calls.clear()
    parallel.over_rows(np.zeros((3, 6, 1 << 15), dtype=np.float64), calls.append, axis=1)
    assert sorted(calls, key=lambda index: index[1].start) == [(slice(None), slice(0, 3)),
                                                               (slice(None), slice(3, 6))]


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2"])
def test_bad_thread_counts_are_refused(bad):
    with pytest.raises(ValueError, match="positive int"):
        nl.set_num_threads(bad)
    with pytest.raises(ValueError, match="positive int"):
        parallel.set_blas_threads(bad)


def _resnet_block_step(threads):
    """A conv-BN-ReLU-conv-BN + residual block on ResNet's first-stage shapes, fwd and bwd."""
    nl.set_num_threads(threads)
    nl.manual_seed(0)
    conv1 = nl.nn.Conv2d(16, 16, 3, padding=1, bias=False)
    conv2 = nl.nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False)  # the im2col/col2im path
    bn = nl.nn.BatchNorm2d(16)
    x = nl.randn(8, 16, 32, 32, requires_grad=True)
    h = bn(conv1(x)).relu() + x
    out = conv2(h)
    out.backward(nl.randn(*out.shape))
    grads = [p.grad.numpy() for p in (*conv1.parameters(), *conv2.parameters(),
                                      *bn.parameters())]
    return out.numpy(), x.grad.numpy(), grads, bn.running_var.numpy()


def test_results_do_not_depend_on_the_number_of_threads():
    out1, dx1, grads1, var1 = _resnet_block_step(1)
    out2, dx2, grads2, var2 = _resnet_block_step(2)
    np.testing.assert_allclose(out2, out1, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dx2, dx1, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(var2, var1, rtol=1e-5)
    for g2, g1 in zip(grads2, grads1):
        np.testing.assert_allclose(g2, g1, rtol=1e-4, atol=1e-3)


def test_the_load_does_not_change_the_results(monkeypatch):
    """The chunks are cut by get_num_threads(), not by how many threads the load leaves: a
    convolution and batch-norm step on a busy machine gives the quiet machine's bits."""
    machine = FakeMachine(monkeypatch, cores=2)
    nl.set_num_threads(None)
    quiet = _resnet_block_step(None)
    machine.run(1.0, others=2.0, ours=1.0)
    assert parallel.follow_load() == 1
    busy = _resnet_block_step(None)
    assert parallel.threads_in_use() == 1
    for a, b in zip(quiet[:2] + (quiet[3],), busy[:2] + (busy[3],)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(quiet[2], busy[2]):
        np.testing.assert_array_equal(a, b)


def _chunks_in_child(n):
    return parallel.run_chunks(n, lambda lo, hi: (lo, hi))


@pytest.mark.skipif(sys.platform != "linux", reason="fork is a Linux/Unix start method")
def test_a_forked_child_gets_a_pool_of_its_own():
    """The parent's pool threads do not exist in a forked child: it must not wait on them."""
    nl.set_num_threads(2)
    parallel.run_chunks(2, lambda lo, hi: None)  # the parent's pool is started
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply_async(_chunks_in_child, (4,)).get(timeout=60) == [(0, 2), (2, 4)]


# ----------------------------------------------------------------------------- the policy
class FakeMachine:
    """A clock, the machine's busy CPU seconds and this process's CPU seconds, set by a test."""

    def __init__(self, monkeypatch, cores):
        self.wall = self.busy = self.own = 0.0
        monkeypatch.delenv("NEURALAB_NUM_THREADS", raising=False)
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        monkeypatch.setattr(parallel, "_cores", lambda: cores)
        monkeypatch.setattr(parallel, "_now", lambda: self.wall)
        monkeypatch.setattr(parallel, "_cpu_seconds_busy", lambda: self.busy)
        monkeypatch.setattr(parallel, "_own_cpu_seconds", lambda: self.own)
        monkeypatch.setattr(parallel, "_load_average", lambda: 0.5)
        for name, value in [("checked_at", -math.inf), ("machine_busy", 0.0), ("own_cpu", 0.0),
                            ("others", 0.0), ("pool_used_at", -math.inf)]:  # restored later
            monkeypatch.setattr(parallel._state, name, value)

    def run(self, seconds, others, ours):
        """``seconds`` pass with other processes on ``others`` cores and this one on ``ours``."""
        self.wall += seconds
        self.busy += seconds * (others + ours)
        self.own += seconds * ours


def test_the_default_count_gives_way_to_other_processes(monkeypatch):
    machine = FakeMachine(monkeypatch, cores=4)
    nl.set_num_threads(None)
    assert nl.get_num_threads() == 4 and parallel.threads_in_use() == 4
    assert blas_threads() in ([], [4])
    machine.run(1.0, others=3.0, ours=1.0)
    assert parallel.follow_load() == 1  # 4 cores - 3 taken
    assert blas_threads() in ([], [1])
    # the same four chunks as on a quiet machine, all run in this thread
    chunks = parallel.run_chunks(8, lambda lo, hi: (lo, hi, threading.current_thread().name))
    assert [c[:2] for c in chunks] == [(0, 2), (2, 4), (4, 6), (6, 8)]
    assert {c[2] for c in chunks} == {threading.current_thread().name}
    assert "1 of 4 now (other processes use 3.0 of the 4 cores" in parallel.describe_threads()
    machine.run(1.0, others=1.4, ours=2.0)
    assert parallel.follow_load() == 3  # 1.4 cores rounds to 1
    machine.run(0.1, others=4.0, ours=0.0)
    assert parallel.follow_load() == 3  # looked less than check_seconds ago
    machine.run(1.0, others=2.6, ours=1.0)
    assert parallel.follow_load() == 1  # 2.6 rounds to 3
    machine.run(1.0, others=9.0, ours=1.0)
    assert parallel.follow_load() == 1  # never fewer than one
    assert nl.get_num_threads() == 4


def test_the_blas_gets_one_thread_while_the_pool_is_in_use(monkeypatch):
    machine = FakeMachine(monkeypatch, cores=2)
    nl.set_num_threads(2)
    if not blas_threads():
        pytest.skip("no OpenBLAS found in this process")
    assert blas_threads() == [2]  # the pool is idle: the BLAS parallelizes the products
    parallel.run_chunks(4, lambda lo, hi: None)  # the pool in use: the BLAS gets one thread
    assert parallel.follow_load() == 2 and blas_threads() == [1]
    machine.run(0.5, others=0.0, ours=2.0)
    assert parallel.follow_load() == 2 and blas_threads() == [1]
    machine.run(0.6, others=0.0, ours=2.0)  # idle for more than 2 * check_seconds
    assert parallel.follow_load() == 2 and blas_threads() == [2]


def test_a_fixed_count_is_obeyed_whatever_the_load(monkeypatch):
    machine = FakeMachine(monkeypatch, cores=4)
    nl.set_num_threads(3)
    machine.run(1.0, others=4.0, ours=1.0)
    assert parallel.follow_load() == 3 and blas_threads() in ([], [3])
    assert parallel.describe_threads() == "3 (set_num_threads(3))"
    monkeypatch.setenv("NEURALAB_NUM_THREADS", "2")
    nl.set_num_threads(None)
    machine.run(1.0, others=4.0, ours=1.0)
    assert parallel.follow_load() == 2
    assert parallel.describe_threads() == "2 (NEURALAB_NUM_THREADS=2)"


def test_the_load_is_followed_while_the_count_is_fixed_so_the_default_sees_it_fresh(monkeypatch):
    machine = FakeMachine(monkeypatch, cores=2)
    nl.set_num_threads(1)
    machine.run(10.0, others=2.0, ours=1.0)  # a long busy spell with one fixed thread ...
    parallel.follow_load()
    machine.run(1.0, others=0.0, ours=1.0)  # ... then the other processes stop
    nl.set_num_threads(None)
    assert parallel.threads_in_use() == 2  # judged by the last second, not the last 11


def test_following_the_load_can_be_switched_off(monkeypatch):
    machine = FakeMachine(monkeypatch, cores=2)
    nl.set_num_threads(None)
    assert parallel.describe_threads() == ("2 (all cores; fewer while other processes use "
                                           "them; NEURALAB_NUM_THREADS or --threads to change)")
    with parallel.options(follow_load=False):
        machine.run(1.0, others=2.0, ours=1.0)
        assert parallel.follow_load() == 2
    machine.run(1.0, others=2.0, ours=1.0)
    assert parallel.follow_load() == 1
    with pytest.raises(TypeError, match="no field split"):
        parallel.set_options(split=1)


@pytest.mark.skipif(sys.platform != "linux", reason="/proc/stat is Linux's")
def test_the_machine_busy_time_counts_this_process():
    before = parallel._cpu_seconds_busy()
    start = parallel._own_cpu_seconds()
    while parallel._own_cpu_seconds() - start < 0.3:
        pass
    assert parallel._cpu_seconds_busy() - before >= 0.2  # clock ticks of 10 ms: some slack


def _lstm_grads(threads, kernels="fast", bidirectional=False):
    """An LSTM's outputs and every gradient, batch 24, with ``threads`` threads."""
    nl.set_num_threads(threads)
    nl.manual_seed(0)
    lstm = nl.nn.LSTM(5, 7, bidirectional=bidirectional)
    D = 2 if bidirectional else 1
    x = nl.randn(6, 24, 5, requires_grad=True)
    h0, c0 = nl.randn(D, 24, 7, requires_grad=True), nl.randn(D, 24, 7, requires_grad=True)
    with nl.use_kernels(kernels):
        out, (h_n, c_n) = lstm(x, (h0, c0))
        (out * nl.randn(*out.shape)).sum().add((h_n * c_n).sum()).backward()
    return [out.numpy(), h_n.numpy(), c_n.numpy(), x.grad.numpy(), h0.grad.numpy(),
            c0.grad.numpy()] + [p.grad.numpy() for p in lstm.parameters()]


@pytest.mark.parametrize("bidirectional", [False, True])
def test_the_lstm_with_three_threads_gives_the_one_thread_results(bidirectional):
    reference = _lstm_grads(1, kernels="reference", bidirectional=bidirectional)
    one = _lstm_grads(1, bidirectional=bidirectional)
    three = _lstm_grads(3, bidirectional=bidirectional)
    for a, b, c in zip(reference, one, three):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(c, b, rtol=1e-4, atol=1e-5)


def test_split_products_match_numpy():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((50, 7)), rng.standard_normal((7, 3))
    nl.set_num_threads(3)
    with parallel.options(split_flops=1):
        np.testing.assert_allclose(parallel.matmul_rows(a, b), a @ b, rtol=1e-12)
        assert len(parallel.run_chunks(50, lambda lo, hi: None,
                                       max_threads=parallel.product_threads(100))) == 3
    assert parallel.product_threads(parallel.get_options().split_flops * 2 - 1) == 1


@pytest.mark.parametrize("value", ["two", "0", "-1"])
def test_a_bad_thread_count_in_the_environment_is_named(value):
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["NEURALAB_NUM_THREADS"] = value
    code = "import neuralab as nl; print(nl.get_num_threads())"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert f"NEURALAB_NUM_THREADS must be a positive whole number, got {value!r}" in done.stderr
    assert int(done.stdout) >= 1
