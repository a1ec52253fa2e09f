"""One table reader for everything that is not the survey: the startup list, the member register, a weights
table and the corrections file.

Each is read with the survey's mechanics (:func:`analysis.reading.read_files`: each file in a worker process, every visible sheet, the header
searched in the first rows, CSV encodings and delimiters, header matching and value parsing by field type,
every row accounted for), with the fields and the header rule of its kind from the codebook (``tables`` and
``KIND_fields``). What each kind then does with its rows lives with it (:mod:`analysis.startups`,
:mod:`analysis.weights`, :mod:`analysis.corrections`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from analysis.codebook import Codebook
from analysis.values import REASONS
from analysis.workbooks import FileProblem, discover


@dataclass
class Table:
    """The blocks (one per sheet read) of one kind of table, the files left out and the codebook of the kind."""

    kind: str
    blocks: list = field(default_factory=list)  # analysis.ingest.Block
    left_out: list[dict] = field(default_factory=list)  # {"file", "reason"}
    codebook: Codebook | None = None

    def rows(self):
        """``(block, i)`` for every row read, empty ones included (see ``block.empty[i]``)."""
        for block in self.blocks:
            for i in range(len(block.rows)):
                yield block, i

    def where(self, block, i: int, column: str | None = None) -> str:
        """File, sheet, row (and column) of a cell, as messages name them."""
        sheet = f" [{block.sheet}]" if block.sheet else ""
        col = f", colonna {column}" if column else ""
        return f"{block.file}{sheet}, riga {block.source_rows[i]}{col}"

    def cell_problems(self) -> list[str]:
        """One message per flagged cell of a non-empty row, naming file, sheet, row and column."""
        return [f"{self.where(b, i, column)}: {REASONS.get(reason, reason)} ({value})"
                for b in self.blocks for i, column, _, value, reason, _ in b.issues if not b.empty[i]]

    def only_file_problem(self) -> str | None:
        """Why nothing could be read, when nothing was."""
        if self.blocks:
            return None
        return "; ".join(f"{x['file']}: {x['reason']}" for x in self.left_out) or "nessun file"


def read_table(path: str | Path, cb: Codebook, kind: str, limits=None) -> Table:
    """Every table of ``kind`` in a file, or in every spreadsheet under a folder."""
    from analysis.reading import read_files

    path = Path(path)
    rule = cb.table(kind)
    tcb = cb.table_codebook(kind)
    root = path if path.is_dir() else path.parent
    files = discover(path).files if path.is_dir() else [path]
    if not path.exists():
        raise FileProblem(f"{path}: non trovato")
    out = Table(kind, codebook=tcb)
    read = read_files([(file, file.relative_to(root).as_posix()) for file in files], tcb, limits,
                      rule.min_fields, rule.what, rule.header_ok)
    for blocks, report in read:
        if report.status != "read":
            out.left_out.append({"file": report.file, "reason": report.reason})
        out.blocks += blocks
    return out
