"""Ordered map over worker processes: the ETL's CPU-bound part (read, parse, build Arrow columns)
on every core of the machine, with results consumed in order and memory bounded.

Item ``i`` goes to worker ``i % processes``; each worker sends its results through its own pipe and
blocks until the consumer has read the previous one, so a worker is at most one result ahead. Only
``fork`` is used (a worker starts in milliseconds with everything already imported) and only pipes
(no semaphores or shared memory, which AWS Lambda lacks). A worker's exception is raised in the
consumer; a worker that dies is reported with its exit code; closing the iterator early stops them.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

__all__ = ["available_cpus", "map_ordered"]

T = TypeVar("T")
R = TypeVar("R")


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - Linux has sched_getaffinity


def map_ordered(fn: Callable[[T], R], items: Sequence[T], processes: int) -> Iterator[R]:
    """``fn(item)`` for every item, in order, computed by ``processes`` forked workers."""
    import multiprocessing  # only a day large enough for workers pays for importing it

    processes = max(1, min(processes, len(items)))
    context = multiprocessing.get_context("fork")
    # A forked child flushes the stdio buffers it inherited when it exits: empty them first, or
    # whatever the parent had printed but not yet written would come out twice.
    sys.stdout.flush()
    sys.stderr.flush()
    workers: list[tuple[Any, Connection]] = []
    try:
        for n in range(processes):
            receive, send = context.Pipe(duplex=False)
            process = context.Process(
                target=_serve, args=(fn, items[n::processes], send), name=f"tgpipe-worker-{n}", daemon=True
            )
            process.start()
            send.close()
            workers.append((process, receive))
        for i in range(len(items)):
            process, receive = workers[i % processes]
            try:
                ok, value = receive.recv()
            except EOFError:
                process.join(5)
                raise RuntimeError(
                    f"worker process {process.name} died (exit code {process.exitcode})"
                ) from None
            if not ok:
                raise value
            yield value
    finally:
        for process, receive in workers:
            if process.is_alive():  # stopped early: a worker may be blocked sending its next result
                process.terminate()
            process.join()
            receive.close()


def _serve(fn: Callable[[T], R], items: Sequence[T], send: Connection) -> None:
    # A worker ends at once when told to (the parent's SIGTERM handler, if it has one, is not the
    # worker's: the parent cleans up, the worker only stops).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # The work makes no reference cycles, and a collection would touch (and so copy) every page
    # shared with the parent: reference counting frees everything here.
    gc.disable()
    try:
        for item in items:
            send.send((True, fn(item)))
    except BaseException as exc:
        try:
            send.send((False, exc))
        except Exception:  # an exception that cannot be pickled: send its description
            send.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
    finally:
        send.close()
