"""Parser failures injected in a reading worker (imported there by reference: keep it importable alone).

A given corrupt file may not make every version of python-calamine fail, so the tests make the worker's
task fail the way a parser does: a panic (``pyo3_runtime.PanicException`` derives from ``BaseException``),
an allocation abort (Rust prints the size asked for, then aborts), a crash, a stall, memory beyond the limit.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time

from analysis.reading import read_in_worker


class PanicException(BaseException):
    """What pyo3 raises in Python when Rust code panics: not an ``Exception``."""


def _fail(how: str) -> None:
    if how == "panic":
        raise PanicException("index out of bounds: the len is 3 but the index is 7")
    if how == "abort":  # what Rust does when an allocation fails
        sys.stderr.write("memory allocation of 549755813888 bytes failed\n")
        sys.stderr.flush()
        os.abort()
    if how == "segfault":
        ctypes.string_at(0)
    if how == "stall":
        time.sleep(600)
    if how == "memory":  # grows until the worker's memory limit stops it
        hoard = []
        while True:
            hoard.append(bytearray(64 * 2**20))
    if how == "exit":
        os._exit(3)


def task(shared, how: str):
    """A task that fails ``how``; the pool's ``func``."""
    _fail(how)
    return how


def hostile_read(shared, path, rel, order):
    """The worker's reading task, failing as the file's name says (``panic.xlsx``, ``abort.xls``...)."""
    _fail(path.stem)
    return read_in_worker(shared, path, rel, order)
