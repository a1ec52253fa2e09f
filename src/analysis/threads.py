"""Threads: each process uses the cores it has, once, so a busy machine slows a run proportionally.

BLAS and OpenMP pools (numpy, scikit-learn's k-means) start one thread per core in every process by
default, and spin while they wait: with a second process busy (another run, a notebook kernel, the other
benchmark) the threads fight for the same two cores and a one-second step takes a minute. The analysis
steps run with one pool of at most the process's cores; notebook kernels, which only draw, get one thread;
idle threads sleep instead of spinning (``OMP_WAIT_POLICY``, set when the package is imported).
"""

from __future__ import annotations

import os
from contextlib import contextmanager

_POOL_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and taskset narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@contextmanager
def cores_for_steps(limit: int | None = None):
    """Run the analysis steps with at most ``limit`` (default: the usable cores) threads per pool."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=limit or usable_cores()):
        yield


def kernel_environment() -> dict[str, str]:
    """Environment of the notebook kernel: drawing tables and figures needs one thread, not a pool."""
    env = {name: "1" for name in _POOL_VARIABLES}
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    return env


def background_priority() -> None:
    """Lower the calling thread's scheduling priority (Linux: nice is per thread): for work with time to spare
    that runs beside the critical path (the sheet scan beside the parser, the schema warm-up beside the
    workers), so that on two cores the parser keeps a whole core. A no-op where not supported."""
    import threading

    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass
