"""Reading each file in a worker process, so that no file can stop a run (spec section 1).

Files are parsed by python-calamine (Rust) and xlrd in the workers of a small persistent pool. Whatever a
broken or hostile file does to a parser costs that file only:

* a panic of the parser (``pyo3_runtime.PanicException``, a ``BaseException``) is caught in the worker;
* an allocation abort (Rust ends the process when an allocation fails), any other death of the worker, a
  time-out, and memory beyond the limit (``RLIMIT_DATA``: an allocation beyond it fails at once instead of
  the machine swapping) end that worker only: the file is left out with a one-line reason and a fresh
  worker takes the next file.

A worker is a fresh interpreter (``python -m analysis.isolation``) that imports the reading modules alone
(no pandas, no threads): it inherits nothing of a busy parent (a notebook kernel, a test session) and starts
in about 0.2 s. :func:`warm_up` starts the workers early (the command line does it before its own heavy
imports), so they are ready when the first file comes.
"""

from __future__ import annotations

import atexit
import gc
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import types
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait

_SAME = "__same_shared__"  # "the shared argument has not changed since the last task"
START_ATTEMPTS = 3  # a task whose worker dies before taking it is given to a new worker this many times


@dataclass(frozen=True)
class Limits:
    """What one file may cost (parameters ``lettura.*``, spec section 1)."""

    memory_mb: int = 2048  # memory of the worker reading it
    seconds: float = 60.0  # time to read it
    sheet_mb: int = 500  # uncompressed size of one sheet (xlsx, xlsm, ods), checked before parsing
    cells: int = 3_000_000  # cells of one sheet (rows x columns), checked before and after parsing

    @classmethod
    def from_params(cls, params) -> Limits:
        return cls(memory_mb=int(params["lettura.memoria_mb"]), seconds=float(params["lettura.secondi_massimi"]),
                   sheet_mb=int(params["lettura.foglio_mb_massimo"]), cells=int(params["lettura.celle_massime"]))


@dataclass(frozen=True)
class Failure:
    """A task whose worker failed: the one-line reason, in Italian."""

    reason: str


def _describe(exc: BaseException) -> str:
    from analysis.workbooks import (
        parser_message,  # one rule for a parser's words in a reason (no cell contents)
    )

    if isinstance(exc, MemoryError):
        return "memoria insufficiente per leggerlo"
    name = type(exc).__name__
    text = parser_message(exc) if str(exc).strip() else ""
    if name == "PanicException":
        return f"errore interno del lettore di fogli di calcolo{': ' + text if text else ''}"
    return f"{name}: {text}" if text else name


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when the process that started it dies (a killed command leaves no
    worker parsing on alone, which its closed connection would only stop once the parse ended)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
        if os.getppid() == 1:  # the parent died before the request took effect
            os._exit(0)
    except (OSError, AttributeError):
        pass


def _serve(conn: Connection, memory_mb: int) -> None:
    """A worker: takes ``(func, args, shared)`` tasks and sends back ``("ok", result)`` or ``("error", why)``; a
    task that is a generator sends each value it yields as ``("part", value)`` first, its return value last
    (so the caller can work on a first result while the worker goes on)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _die_with_parent()
    limit = memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    sys.path[:] = conn.recv()  # the parent's import path: a task's function is found where the parent found it
    import analysis.reading  # noqa: F401 - the reading modules, imported before the first task comes
    shared = None
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        func, args, new_shared = msg
        if new_shared != _SAME:
            shared = new_shared
        gc.disable()  # reading makes millions of objects and no cycles: the cyclic collector only costs time
        try:
            result = func(shared, *args)
            if isinstance(result, types.GeneratorType):
                try:
                    while True:
                        conn.send(("part", next(result)))
                except StopIteration as stop:
                    result = stop.value
            out = ("ok", result)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - a parser panic is not an Exception
            exc.__traceback__ = None  # frees what the failed task held (after a MemoryError, all the memory)
            out = ("error", _describe(exc))
        try:
            conn.send(out)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - a result too large for memory, or not picklable
            conn.send(("error", _describe(exc)))
        del out
        gc.enable()


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.0f} {unit}"
    return f"{n} byte"


def death_reason(exitcode: int | None, err_text: str, limits: Limits) -> str:
    """Why a worker died, in words, from its exit status and the last thing it wrote."""
    asked = re.findall(r"memory allocation of (\d+) bytes failed", err_text)
    if asked:
        return (f"il lettore ha chiesto {_size(int(asked[-1]))} di memoria in una volta ed è stato fermato (limite "
                f"{limits.memory_mb} MiB, parametro lettura.memoria_mb): file danneggiato, o con un'area usata "
                "enorme; apritelo e salvatelo di nuovo come .xlsx")
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"segnale {-exitcode}"
        if -exitcode == signal.SIGKILL:
            return "il lettore è stato fermato dal sistema (memoria esaurita): file troppo grande o danneggiato"
        return f"il lettore si è interrotto ({name}): file danneggiato; apritelo e salvatelo di nuovo come .xlsx"
    return f"il lettore si è chiuso inaspettatamente (codice {exitcode}): file danneggiato"


_FOLDER_PREFIX = "analysis-lettori-"


def _remove_stale_folders() -> None:
    """Scratch folders of pools whose process is gone (killed before it could clean up): each is named after
    the process that made it."""
    base = tempfile.gettempdir()
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        if not name.startswith(_FOLDER_PREFIX):
            continue
        pid = name[len(_FOLDER_PREFIX):].split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)
        except OSError:
            pass


class Batch:
    """Tasks submitted together, and their results as they come."""

    def __init__(self, func: Callable, shared: object, tasks: list[tuple], limits: Limits) -> None:
        self.func, self.shared, self.tasks, self.limits = func, shared, tasks, limits
        self.results: list = [None] * len(tasks)
        self.queue = deque(range(len(tasks)))
        self.attempts = [0] * len(tasks)
        self.parts: list[list] = [[] for _ in tasks]  # what each task sent before its result
        self.finished = 0

    def done(self, index: int, result) -> None:
        self.results[index] = result
        self.finished += 1


class _Worker:
    def __init__(self, memory_mb: int, folder: str, number: int) -> None:
        self.memory_mb = memory_mb
        self.err_path = os.path.join(folder, f"lettore-{number}.err")
        ours, theirs = socket.socketpair()
        # The parser's own messages (a panic's backtrace, an allocation failure) go to a file the parent reads
        # when the worker dies, not to the analyst's terminal.
        with open(self.err_path, "wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "analysis.isolation", str(theirs.fileno()), str(memory_mb)],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                start_new_session=True)  # Ctrl-C in the terminal reaches the parent only
        theirs.close()
        self.conn = Connection(ours.detach())
        self.conn.send(list(sys.path))
        self.task: int | None = None
        self.deadline = 0.0
        self.shared_ref: object = None  # the shared object last sent (kept so its id cannot be reused)

    def assign(self, index: int, func: Callable, args: tuple, shared: object, seconds: float) -> None:
        same = self.shared_ref is shared
        self.conn.send((func, args, _SAME if same else shared))
        self.shared_ref = shared
        self.task, self.deadline = index, time.monotonic() + seconds

    def err_tail(self) -> str:
        """What the worker wrote on stderr: its start (where a Rust abort names the allocation, before any
        backtrace) and its end."""
        try:
            with open(self.err_path, "rb") as fh:
                head = fh.read(65536)
                size = os.path.getsize(self.err_path)
                fh.seek(max(len(head), size - 4096))
                return (head + b"\n" + fh.read()).decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self) -> None:
        try:
            self.conn.send(None)
            self.process.wait(0.5)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
        self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.conn.close()


class ReaderPool:
    """Worker processes with memory and time limits; a worker that fails is replaced."""

    def __init__(self, limits: Limits = Limits(), size: int | None = None) -> None:
        self.limits = limits
        self.size = size or max(1, min(4, len(os.sched_getaffinity(0))))
        _remove_stale_folders()
        self._folder = tempfile.mkdtemp(prefix=f"{_FOLDER_PREFIX}{os.getpid()}-")
        self._workers: list[_Worker] = []
        self._started = 0
        self._batch: Batch | None = None

    def _new_worker(self, memory_mb: int | None = None) -> _Worker:
        self._started += 1
        return _Worker(memory_mb or self.limits.memory_mb, self._folder, self._started)

    def ensure(self, count: int, memory_mb: int | None = None) -> None:
        while len(self._workers) < min(count, self.size):
            self._workers.append(self._new_worker(memory_mb))

    def _replace(self, w: _Worker, memory_mb: int | None = None) -> None:
        w.kill()
        self._workers[self._workers.index(w)] = self._new_worker(memory_mb or w.memory_mb)

    def run(self, func: Callable, shared: object, tasks: Sequence[tuple], progress: Callable | None = None,
            limits: Limits | None = None) -> list:
        """``func(shared, *task)`` for every task, in workers; each result, or a :class:`Failure`, in order.
        ``progress()`` is called as each task ends; ``limits`` replace the pool's for these tasks."""
        return self.collect(self.submit(func, shared, tasks, limits), progress)

    def submit(self, func: Callable, shared: object, tasks: Sequence[tuple], limits: Limits | None = None) -> Batch:
        """Start ``func(shared, *task)`` on idle workers now and return at once; :meth:`collect` waits for the
        results. One batch at a time: an earlier batch still running is finished first."""
        if self._batch is not None:
            self.collect(self._batch)
        batch = Batch(func, shared, list(tasks), limits or self.limits)
        for w in [w for w in self._workers if w.memory_mb != batch.limits.memory_mb]:
            self._replace(w, batch.limits.memory_mb)
        self.ensure(len(tasks), batch.limits.memory_mb)
        self._batch = batch
        self._assign(batch)
        return batch

    def _assign(self, batch: Batch) -> None:
        for w in list(self._workers):
            if w.task is None and batch.queue:
                i = batch.queue.popleft()
                try:
                    w.assign(i, batch.func, batch.tasks[i], batch.shared, batch.limits.seconds)
                except (OSError, ValueError):  # the worker died while idle: a new one takes the task
                    batch.attempts[i] += 1
                    self._replace(w)
                    if batch.attempts[i] < START_ATTEMPTS:
                        batch.queue.appendleft(i)
                    else:
                        batch.done(i, Failure("il lettore non si avvia: " + _last_line(w.err_tail())))

    def collect(self, batch: Batch, progress: Callable | None = None, on_part: Callable | None = None) -> list:
        """The results of a submitted batch, in order, once every task has ended. What a task sends before its
        result goes to ``batch.parts``, through ``on_part(index, value)`` when given (called as it comes)."""
        for _ in range(batch.finished):
            if progress is not None:
                progress()
        try:
            while batch.queue or any(w.task is not None for w in self._workers):
                self._assign(batch)
                active = [w for w in self._workers if w.task is not None]
                if not active:
                    continue
                timeout = max(0.0, min(w.deadline for w in active) - time.monotonic())
                ready = set(wait([w.conn for w in active], timeout))
                for w in active:
                    index = w.task
                    if w.conn in ready:
                        status, value = self._collect(w, batch.limits)
                        if status == "part":
                            started = time.monotonic()
                            batch.parts[index].append(on_part(index, value) if on_part else value)
                            # While this process worked on one file's cells, the other workers may have waited to
                            # send theirs: that wait is not their parser's time.
                            for other in active:
                                if other is not w and other.task is not None:
                                    other.deadline += time.monotonic() - started
                            continue
                        batch.done(index, value)
                    elif time.monotonic() >= w.deadline:
                        batch.done(index, Failure(
                            f"lettura interrotta dopo {batch.limits.seconds:g} secondi (parametro "
                            "lettura.secondi_massimi): file troppo grande o danneggiato; dividetelo o alzate il limite"))
                        self._replace(w)
                    else:
                        continue
                    if progress is not None:
                        progress()
        except BaseException:
            for w in [w for w in self._workers if w.task is not None]:  # interrupted: no half-done worker stays
                self._replace(w)
            self._batch = None
            raise
        if self._batch is batch:
            self._batch = None
        return batch.results

    def _collect(self, w: _Worker, limits: Limits) -> tuple[str, object]:
        """What a worker has to say: ``("part", value)``, or ``("done", result or Failure)`` with the reason it
        died when it did."""
        try:
            status, value = w.conn.recv()
        except (EOFError, OSError):  # the worker died: its end of the connection closed
            try:
                code = w.process.wait(5)
            except subprocess.TimeoutExpired:
                code = None
            failure = Failure(death_reason(code, w.err_tail(), limits))
            self._replace(w)
            return "done", failure
        if status == "part":
            return status, value
        w.task = None
        return "done", value if status == "ok" else Failure(value)

    def close(self, wait: bool = True) -> None:
        """Stop the workers (``wait``: until they have exited) and remove their scratch folder."""
        for w in self._workers:
            if wait:
                w.stop()
            else:  # told to stop; an idle worker also stops when its connection closes
                try:
                    w.conn.send(None)
                    w.conn.close()
                except (OSError, ValueError):
                    pass
        self._workers = []
        shutil.rmtree(self._folder, ignore_errors=True)


_POOL: ReaderPool | None = None


def pool(limits: Limits | None = None) -> ReaderPool:
    """The process's reading pool. ``limits`` become its limits from now on (a run sets them once from its
    parameters, for the surveys and every other table); None keeps the current ones (the defaults at first)."""
    global _POOL
    if _POOL is None:
        _POOL = ReaderPool(limits or Limits())
        atexit.register(_close)
    if limits is not None:
        _POOL.limits = limits
    return _POOL


def _close() -> None:
    shutdown(wait=True)


def shutdown(wait: bool = False) -> None:
    """Stop the process's reading pool, if any (the command line calls it before leaving with ``os._exit``)."""
    global _POOL
    if _POOL is not None:
        _POOL.close(wait)
        _POOL = None


def warm_up(limits: Limits | None = None) -> None:
    """Start a worker now (it imports while the caller goes on); more start when more files come."""
    pool(limits).ensure(1)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else "nessun messaggio"


if __name__ == "__main__":  # a worker: python -m analysis.isolation FD MEMORY_MB
    _serve(Connection(int(sys.argv[1])), int(sys.argv[2]))
