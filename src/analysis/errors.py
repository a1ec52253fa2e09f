"""Errors an analyst reads on the terminal: one line, in Italian, naming what to fix.

Kept apart from the command line and the pipeline so that every module can raise them without importing
either (the command line prints them; the pipeline raises them).
"""

from __future__ import annotations


class UsageError(Exception):
    """A problem the user can fix (an option, a parameter, a folder): printed as one line on stderr."""


class ConfigError(UsageError):
    """A run parameter with an unknown name or a value outside what is allowed."""


class RunLocked(UsageError):
    """Another run is writing into the same output folder."""


class IncompleteSet(UsageError):
    """A processed folder that is not one run's complete, consistent set of outputs."""


class RunFailed(Exception):
    """A run that could not produce its outputs; the previous set is untouched."""

    def __init__(self, message: str, attempt: str | None = None):
        super().__init__(message)
        self.attempt = attempt


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (tracebacks and multi-line messages stay in the logs)."""
    from analysis.text import visible

    text = str(exc).strip() or type(exc).__name__
    return visible(" ".join(text.split()))  # file names and cells can carry control characters


def os_reason(exc: OSError) -> str:
    """An operating-system error in words: what went wrong (disk full, read-only, ...) and on which path."""
    import errno

    if exc.errno is None:  # an OSError raised with a message of ours
        return one_line(exc)
    known = {errno.ENOSPC: "disco pieno", errno.EROFS: "file system di sola lettura", errno.EACCES: "permesso negato",
             errno.EPERM: "permesso negato", errno.ENAMETOOLONG: "nome troppo lungo", errno.EDQUOT: "quota superata"}
    where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
    return f"{known.get(exc.errno, exc.strerror or type(exc).__name__)}{where}"
