"""Runs as transactions: a run's outputs replace the previous set only when all of them are ready.

The two folders a run replaces (the processed set and the wave's board folder) may live apart, so the
commit is made of steps that a later run can finish:

1. the run builds both folders in staging folders beside their targets (same file system: renames are
   atomic), each with a manifest holding the run id;
2. it writes the commit journal (``.analysis-run/commit.json`` beside the processed folder): from then on
   the staged sets are complete and the commit can only go forward;
3. each target is renamed aside, its staged folder renamed into place;
4. the journal is removed, then the old folders.

A run killed before step 2 leaves only staging folders, which the next run removes; killed after it, the
next run (or :func:`recover`) finishes the commit. Readers refuse a folder while a journal is pending
(:func:`analysis.catalog.check_set`). A lock (``flock``, released by the kernel when a process dies, so a
killed run's lock is never stale) refuses a second run into the same output folder.

``ANALYSIS_KILL_AT=<point>`` makes a run kill itself with SIGKILL at one of :data:`KILL_POINTS` (tests).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import signal
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from analysis.catalog import ATTEMPTS_DIR, STATE_DIR
from analysis.errors import RunLocked, UsageError
from analysis.outputs import write_json

KILL_POINTS = ("staged", "journal", "first-swap", "second-swap", "journal-removed", "done")
KEEP_ATTEMPTS = 5
STAGING_MARK = ".staging-"
OLD_MARK = ".old-"


def kill_point(name: str) -> None:
    """Test hook: die here, as a power cut would, when ``ANALYSIS_KILL_AT`` names this point."""
    if os.environ.get("ANALYSIS_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def new_run_id() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------
# Lock

class Lock:
    """An exclusive lock on an output folder; its file tells who holds it."""

    def __init__(self, state: Path):
        self.path = state / "lock"
        self.fd: int | None = None

    def acquire(self, run_id: str) -> Lock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            raise RunLocked(f"un'altra esecuzione sta scrivendo in {self.path.parent.parent}: {self.holder()}; "
                            "attendete che finisca") from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"run_id": run_id, "pid": os.getpid(), "host": socket.gethostname(),
                                 "started": datetime.now().isoformat(timespec="seconds")}).encode())
        self.fd = fd
        return self

    def holder(self) -> str:
        try:
            info = json.loads(self.path.read_text("utf-8"))
            return f"esecuzione {info['run_id']} (processo {info['pid']}, avviata {info['started']})"
        except (OSError, ValueError, KeyError):
            return "esecuzione in corso"

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> Lock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


# --------------------------------------------------------------------------
# Staging and commit

@dataclass
class Target:
    final: Path  # the folder the run replaces
    staged: Path  # where the run builds it

    @property
    def old(self) -> Path:
        return self.final.with_name("." + self.final.name + OLD_MARK + self.staged.name.split(STAGING_MARK)[-1])


def staging_for(final: Path, run_id: str) -> Target:
    return Target(final, final.with_name("." + final.name + STAGING_MARK + run_id))


class Transaction:
    """One run's staging folders and their commit."""

    def __init__(self, state: Path, run_id: str, finals: list[Path]):
        self.state = state
        self.run_id = run_id
        self.targets = [staging_for(f, run_id) for f in finals]
        self.journal = state / "commit.json"

    def stage(self) -> list[Path]:
        for t in self.targets:
            t.final.parent.mkdir(parents=True, exist_ok=True)
            if t.staged.exists():
                shutil.rmtree(t.staged)
            t.staged.mkdir()
            if (t.final / ".gitkeep").is_file():  # a placeholder the repository tracks stays in place
                (t.staged / ".gitkeep").touch()
        return [t.staged for t in self.targets]

    def commit(self) -> None:
        kill_point("staged")
        for t in self.targets:
            _fsync_tree(t.staged)
        write_json(self.journal, {"run_id": self.run_id, "targets": [
            {"final": str(t.final), "staged": str(t.staged), "old": str(t.old)} for t in self.targets]}, durable=True)
        _fsync_dir(self.state)
        kill_point("journal")
        finish(self.journal)

    def abandon(self, attempts: Path) -> Path:
        """Move what the run built to an attempt folder (the analyst sees why it failed); the previous set
        stays as it was."""
        folder = attempts / self.run_id
        folder.mkdir(parents=True, exist_ok=True)
        for t in self.targets:
            if t.staged.exists():
                dest = folder / t.final.name
                try:
                    os.replace(t.staged, dest)
                except OSError:  # another file system: copy, then remove
                    shutil.copytree(t.staged, dest, dirs_exist_ok=True)
                    shutil.rmtree(t.staged, ignore_errors=True)
        prune_attempts(attempts)
        return folder


def _fsync_tree(folder: Path) -> None:
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                fd = os.open(os.path.join(root, name), os.O_RDONLY)
            except OSError:
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(root))


def finish(journal: Path) -> None:
    """Carry a journaled commit forward to its end (idempotent: safe after a kill at any point)."""
    try:
        data = json.loads(journal.read_text("utf-8"))
        targets = [(Path(t["final"]), Path(t["staged"]), Path(t["old"])) for t in data["targets"]]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"giornale di commit danneggiato ({journal}): verificate a mano le cartelle dei risultati "
                         "e le cartelle nascoste .*.staging-* accanto, poi rimuovete il giornale") from exc
    points = iter(("first-swap", "second-swap", "later-swap", "later-swap"))
    for final, staged, old in targets:
        if staged.exists():
            if final.exists():
                if old.exists():
                    shutil.rmtree(old)
                os.replace(final, old)
            os.replace(staged, final)
            _fsync_dir(final.parent)
        kill_point(next(points))
    journal.unlink()
    _fsync_dir(journal.parent)
    kill_point("journal-removed")
    for _, _, old in targets:
        shutil.rmtree(old, ignore_errors=True)
    kill_point("done")


def recover(state: Path, finals: list[Path]) -> list[str]:
    """Under the lock, before a run: finish a commit a killed run left half done, and remove what killed
    runs left (staging and old folders, temporary files). Returns what was done, in words."""
    done = []
    journal = state / "commit.json"
    if journal.is_file():
        finish(journal)
        done.append("completata la sostituzione dei risultati di un'esecuzione interrotta")
    parents = {f.parent for f in finals}
    for parent in parents:
        if not parent.is_dir():
            continue
        for p in parent.iterdir():
            if p.name.startswith(".") and (STAGING_MARK in p.name or OLD_MARK in p.name):
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
                done.append(f"rimosso {p.name}, lasciato da un'esecuzione interrotta")
    for p in state.glob(".*.tmp"):
        p.unlink(missing_ok=True)
    return done


def prune_attempts(attempts: Path, keep: int = KEEP_ATTEMPTS) -> None:
    """Keep the latest failed attempts only (run ids sort by time)."""
    if not attempts.is_dir():
        return
    for old in sorted(p for p in attempts.iterdir() if p.is_dir())[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def state_dir(processed: Path) -> Path:
    return processed.parent / STATE_DIR


def attempts_dir(processed: Path) -> Path:
    return processed.parent / ATTEMPTS_DIR


def check_name_fits(folder: Path, name: str, what: str) -> None:
    """A folder name the file system can hold, staging suffix included (one line, not a traceback)."""
    longest = len(("." + name + STAGING_MARK + new_run_id()).encode("utf-8"))
    limit = 255
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        limit = os.pathconf(probe, "PC_NAME_MAX")
    except (OSError, ValueError):
        pass
    if longest > limit:
        raise UsageError(f"{what} {name[:40]!r}...: nome troppo lungo per il file system "
                         f"(al massimo {limit - (longest - len(name.encode()))} byte)")
