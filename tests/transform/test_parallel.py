"""map_ordered: results in order from forked workers; their failures and deaths reach the consumer."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from etl.storage import StorageError
from etl.transform.parallel import available_cpus, map_ordered

# The test process has threads (pyarrow's pool, earlier tests' clients); the workers here only compute.
pytestmark = pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")


def _square_with_pid(n: int) -> tuple[int, int]:
    return n * n, os.getpid()


def _fail_on_five(n: int) -> int:
    if n == 5:
        raise StorageError("cannot read context_date=2026-10-05/5.json: timeout")
    return n


def _die_on_three(n: int) -> int:
    if n == 3:
        os._exit(7)
    return n


def test_results_come_in_order_from_several_processes() -> None:
    """Every item's result, in the items' order, computed outside this process by each worker."""
    results = list(map_ordered(_square_with_pid, list(range(10)), 3))
    assert [value for value, _ in results] == [n * n for n in range(10)]
    pids = {pid for _, pid in results}
    assert len(pids) == 3
    assert os.getpid() not in pids


def test_more_processes_than_items_is_fine() -> None:
    """Workers are capped at the number of items."""
    assert [value for value, _ in map_ordered(_square_with_pid, [2, 3], 8)] == [4, 9]


def test_a_worker_s_exception_is_raised_in_the_consumer() -> None:
    """The exception a worker raised comes out of the iterator, same type and message, in order."""
    results = map_ordered(_fail_on_five, list(range(10)), 2)
    assert [next(results) for _ in range(5)] == [0, 1, 2, 3, 4]
    with pytest.raises(StorageError, match=r"^cannot read context_date=2026-10-05/5\.json: timeout$"):
        next(results)
    assert multiprocessing.active_children() == []


def test_a_worker_that_dies_is_reported_with_its_exit_code() -> None:
    """A worker killed mid-way (here it exits 7) is an error naming it, not a silent short result."""
    with pytest.raises(RuntimeError, match=r"^worker process tgpipe-worker-1 died \(exit code 7\)$"):
        list(map_ordered(_die_on_three, list(range(6)), 2))
    assert multiprocessing.active_children() == []


def test_stopping_early_stops_the_workers() -> None:
    """Closing the iterator terminates workers still busy or blocked on their next result."""
    results = map_ordered(_square_with_pid, list(range(100)), 2)
    assert next(results)[0] == 0
    results.close()
    assert multiprocessing.active_children() == []


def test_available_cpus_is_the_affinity_mask() -> None:
    """The CPUs this process may use, as the scheduler sees them."""
    assert available_cpus() == len(os.sched_getaffinity(0))
