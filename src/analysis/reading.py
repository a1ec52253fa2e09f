"""Reading files into parsed blocks (spec sections 1-4).

:func:`read_files` reads each file in a worker process (:mod:`analysis.isolation`): the worker runs
:func:`extract_file` (the file parsers: the header and the cells of every matching sheet, a
:class:`FileReport`; never raises for a bad file), sends the cells, then parses part of the fields
(:func:`parse_share`) while the caller parses the others (:func:`read_block`) into one :class:`Block` per
sheet. Workers import this module, so it stays lean: no pandas, nothing that starts threads at import.
"""

from __future__ import annotations

import itertools
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from analysis.codebook import Codebook, Field
from analysis.headers import (
    MIN_MATCHED_FIELDS,
    SUBMISSION_FIELDS,
    HeaderRow,
    duplicate_fields,
    find_header,
    survey_header_ok,
)
from analysis.identity import company_name_key
from analysis.text import normalise
from analysis.values import (
    DROPPED,
    cell_text,
    date_reading,
    is_blank,
    parse_column_values,
    yes_no_answer,
)
from analysis.workbooks import (
    FileProblem,
    Sheet,
    SkippedSheet,
    cell_ref,
    check_cells,
    csv_candidates,
    parser_message,
    workbook_sheets,
)

# --------------------------------------------------------------------------
# One sheet

@dataclass
class Block:
    """The rows read from one sheet, parsed, before any row-level decision."""

    file: str
    file_order: int
    sheet: str
    sheet_order: int
    header_row: int  # 1-based, as the spreadsheet shows it
    rows: list[list]  # data rows as read (for `original`)
    headers: dict[int, str]  # column index -> header text
    field_headers: dict[str, str]  # field key -> header (first option column for folded fields)
    source_rows: list[int]
    empty: list[bool]
    values: dict[str, list]  # field key -> parsed value per row (None when missing)
    columns: dict[str, int]  # field key -> column index in `rows` (single-column fields only)
    issues: list[tuple[int, str, str, str, str, str]] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    date_readings: dict[str, str] = field(default_factory=dict)  # date column header -> how its dates were read
    name_keys: list[str] | None = None  # company_name_key of each row, when the reading worker computed them
    notes: list[str] = field(default_factory=list)  # what the analyst should know about the sheet (summary)

    def get(self, key: str) -> list:
        """Parsed values of a field, all None when the sheet does not ask it."""
        if key not in self.values:
            self.values[key] = [None] * len(self.rows)
        return self.values[key]

    def merge(self, parsed: ParsedFields) -> None:
        """Add fields parsed apart (here or in a worker); date readings stay in column order."""
        self.values.update(parsed.values)
        self.columns.update(parsed.columns)
        self.field_headers.update(parsed.field_headers)
        self.issues += parsed.issues
        if parsed.name_keys is not None:
            self.name_keys = parsed.name_keys
        order = {h: j for j, h in self.headers.items()}
        readings = {**self.date_readings, **parsed.date_readings}
        self.date_readings = dict(sorted(readings.items(), key=lambda kv: order.get(kv[0], -1)))

    def raw_cell(self, key: str, i: int):
        """The cell of a field in row ``i`` as written (None when the sheet does not ask it), taken from
        ``rows``: a block crosses a process boundary, and a second copy of the cells would double what is sent."""
        j = self.columns.get(key)
        row = self.rows[i]
        return row[j] if j is not None and j < len(row) else None


def _last_data_row(rows: list[list], cols: list[int]) -> int:
    for i in range(len(rows) - 1, -1, -1):
        row = rows[i]
        if any(c < len(row) and not is_blank(row[c]) for c in cols):
            return i
    return -1


def _numeric_columns(cols: list[int], raw: dict[int, list]) -> list[int]:
    return [j for j in cols if any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw[j])]


def _percent_columns(header: HeaderRow, cb: Codebook) -> list[int]:
    """The columns of percent fields (relative to the sheet)."""
    return [j for j in sorted(header.matches)
            if header.matches[j].option is None and cb.by_key[header.matches[j].key].type == "percent"]


def _percent_masks(sheet: Sheet, data_start: int, cols: list[int], raw: dict[int, list]) -> dict[int, list[bool]]:
    """Per percent column holding numbers: which cells carry a percent format (one scan of the sheet)."""
    numeric = _numeric_columns(cols, raw)
    if not numeric:
        return {}
    cells = sheet.percent_cells({sheet.col0 + j for j in numeric})
    base = sheet.row0 + data_start
    return {j: [(base + i, sheet.col0 + j) in cells for i in range(len(raw[j]))] for j in numeric}


def _fold_options(f: Field, option_cols: list[tuple[int, str, list]], cb: Codebook, block_issues: list,
                  headers: dict[int, str]) -> list:
    """One yes/no column per option, folded back into the several-choice field.

    Each column is coded in C (a dict look-up per distinct cell, ``np.fromiter`` over the cells): 1 yes,
    0 no, -1 neither (flagged), -2 blank; the options chosen in a row become one bit each.
    """
    import numpy as np  # here, not at the top: reading workers never fold and start faster without numpy

    n = len(option_cols[0][2]) if option_cols else 0
    codes = np.zeros(n, dtype=np.int64)
    answered = np.zeros(n, dtype=bool)
    code_of = {"yes": 1, "no": 0}
    for bit, (j, _, cells) in enumerate(option_cols):
        table = {v: code_of.get(yes_no_answer(v, cb), -1) for v in dict.fromkeys(cells) if not is_blank(v)}
        coded = np.fromiter(map(table.get, cells, itertools.repeat(-2)), dtype=np.int8, count=n)
        codes |= (coded == 1).astype(np.int64) << bit
        answered |= coded >= 0
        for i in np.flatnonzero(coded == -1).tolist():
            block_issues.append((i, headers[j], f.key, cell_text(cells[i]), "unknown_answer", DROPPED))
    options = [o for _, o, _ in option_cols]
    order = {o: k for k, o in enumerate(f.options)}
    cache: dict[int, tuple] = {}
    out: list = [None] * n
    for i in np.flatnonzero(answered).tolist():
        c = int(codes[i])
        if c not in cache:
            cache[c] = tuple(sorted((o for b, o in enumerate(options) if c >> b & 1), key=order.__getitem__))
        out[i] = cache[c]
    return out


def _flag_formulas(sheet: Sheet, header: HeaderRow, start: int, rows: list[list], block: Block,
                   filled: list[bool]) -> None:
    """Cells that read as blank but are not: formulas saved without their value (as openpyxl and some exporters
    write them) and cells holding an Excel error (``#N/A``). Each one in a matched column is flagged with what
    it holds, and its row counts as filled, so no answer goes missing silently. A header cell that is such a
    formula names no column: the summary says so."""
    base_row, n = sheet.row0 + start, len(rows)
    cells = [(rc, text, "formula_without_value") for rc, text in sheet.formulas.items()]
    cells += [(rc, text, "excel_error") for rc, text in sheet.errors.items()]
    for (r, c), text, reason in sorted(cells):
        i, j = r - base_row, c - sheet.col0
        if 0 <= i < n and j in header.matches and is_blank(rows[i][j] if j < len(rows[i]) else None):
            block.issues.append((i, header.headers[j], header.matches[j].key, text, reason, DROPPED))
            filled[i] = True
        elif r == sheet.row0 + header.row and j not in header.headers and reason == "formula_without_value":
            block.notes.append(f"la cella {cell_ref(r, c)} dell'intestazione è una formula senza valore salvato "
                               f"({text}): la sua colonna non ha nome e non è letta")


# --------------------------------------------------------------------------
# One sheet, parsed on two cores

FORMULA_GAP = 1000  # formulas without a value this many rows past the sheet's cells still count as rows
WORKER_TYPES = frozenset({"vat", "text", "ateco", "sector", "choice", "number", "integer",
                          "yes_no", "yes_no_maybe", "consent", "size_class"})


@dataclass
class ParsedFields:
    """The parsed single-column fields of one sheet (part of a :class:`Block`)."""

    values: dict[str, list] = field(default_factory=dict)
    columns: dict[str, int] = field(default_factory=dict)
    field_headers: dict[str, str] = field(default_factory=dict)
    issues: list = field(default_factory=list)
    date_readings: dict[str, str] = field(default_factory=dict)
    name_keys: list[str] | None = None  # the company name of each row as identities compare it


def _formula_rows(sheet: Sheet, header: HeaderRow) -> tuple[list[int], list[tuple[int, int]]]:
    """Rows (relative to the sheet) holding a formula without a value in a matched column, within
    :data:`FORMULA_GAP` rows of the sheet's cells; and the cells beyond (one stray formula at row 1,048,576 must
    not make a million rows)."""
    reach = len(sheet.rows) + FORMULA_GAP
    near, far = [], []
    for r, c in sorted(sheet.formulas):
        if c - sheet.col0 in header.matches and r - sheet.row0 > header.row:
            (near if r - sheet.row0 < reach else far).append((r, c))
    return sorted({r - sheet.row0 for r, _ in near}), far


def _data_rows(sheet: Sheet, header: HeaderRow) -> tuple[int, list[list], list[tuple[int, int]]]:
    """Where the data rows start, the rows from there to the last row with a matched cell (or a formula
    without a value in a matched column), cut or padded to the header's width (cells beyond the last header
    belong to no column: a CSV row of four million empty fields must not widen every row), and the formula
    cells too far below to count as rows (see :func:`_formula_rows`)."""
    matched_cols = sorted(header.matches)
    start = header.row + 1
    last = _last_data_row(sheet.rows, matched_cols)
    formula_rows, far = _formula_rows(sheet, header)
    if formula_rows:  # a row whose only answers are formulas without a value is still a row read
        width = max((len(r) for r in sheet.rows), default=0)
        sheet.rows += [[None] * width for _ in range(len(sheet.rows), max(formula_rows) + 1)]
        last = max(last, *formula_rows)
    rows = sheet.rows[start:last + 1] if last >= start else []
    width = max(header.headers) + 1 if header.headers else max((len(r) for r in rows), default=0)
    if any(len(r) != width for r in rows):  # CSV rows may be ragged; calamine's are as wide as the sheet
        rows = [r[:width] + [None] * (width - len(r)) for r in rows]
    return start, rows, far


def _columns(rows: list[list]):
    columns = list(zip(*rows, strict=True)) if rows else []

    def column(j: int) -> list:
        return list(columns[j]) if j < len(columns) else [None] * len(rows)

    return column


def _parse_fields(sheet: Sheet, header: HeaderRow, start: int, column, cb: Codebook, types: frozenset,
                  inside: bool) -> ParsedFields:
    """The single-column fields whose type is in ``types`` (``inside``) or not in it, parsed."""
    out = ParsedFields()
    english = any(normalise(h) in ENGLISH_EXPORT_HEADERS for h in header.headers.values())
    percent_cols = [j for j in _percent_columns(header, cb) if ("percent" in types) == inside]
    masks = _percent_masks(sheet, start, percent_cols, {j: column(j) for j in percent_cols})
    for j in sorted(header.matches):
        m = header.matches[j]
        f = cb.by_key[m.key]
        if m.option is not None or (f.type in types) != inside:
            continue
        raw = column(j)
        month_first = None
        if f.type == "date":
            month_first, words = date_reading(raw, english)
            out.date_readings[header.headers[j]] = words
        out.values[f.key], flagged = parse_column_values(raw, f, cb, masks.get(j), month_first)
        out.columns[f.key] = j
        out.field_headers[f.key] = header.headers[j]
        out.issues += [(i, header.headers[j], f.key, cell_text(raw[i]), p.reason, p.action) for i, p in flagged]
    return out


def parse_share(sheet: Sheet, header: HeaderRow, cb: Codebook) -> ParsedFields:
    """What a reading worker parses of a sheet it has sent: the fields of :data:`WORKER_TYPES`, and the name key
    of every row (a row-by-row step of deciding rows, done here while the caller parses its half)."""
    start, rows, _ = _data_rows(sheet, header)
    share = _parse_fields(sheet, header, start, _columns(rows), cb, WORKER_TYPES, True)
    names = share.values.get("ragione_sociale")
    if names is not None:
        share.name_keys = [company_name_key(n, cb.legal_forms) if n else "" for n in names]
    return share


def read_block(sheet: Sheet, header: HeaderRow, file: str, file_order: int, sheet_order: int,
               cb: Codebook, leave: frozenset = frozenset()) -> Block:
    """Parse the rows of one sheet below its header; the single-column fields whose type is in ``leave`` are
    left for :meth:`Block.merge` (a worker parses them)."""
    matched_cols = sorted(header.matches)
    start, rows, far = _data_rows(sheet, header)
    column = _columns(rows)
    block = Block(
        file=file, file_order=file_order, sheet=sheet.name, sheet_order=sheet_order,
        header_row=sheet.row0 + header.row + 1, rows=rows, headers=header.headers, field_headers={},
        source_rows=[sheet.row0 + start + i + 1 for i in range(len(rows))], empty=[], values={}, columns={},
        unmatched=list(header.unmatched),
    )
    # A row is empty when every matched cell is blank (checked once, stopping at the first filled cell).
    filled = [any(j < len(r) and not is_blank(r[j]) for j in matched_cols) for r in rows]
    block.merge(_parse_fields(sheet, header, start, column, cb, leave, False))
    options: dict[str, list[tuple[int, str, list]]] = {}
    for j in matched_cols:
        m = header.matches[j]
        if m.option is not None:
            options.setdefault(m.key, []).append((j, m.option, column(j)))
            block.field_headers.setdefault(m.key, header.headers[j])
    for key, cols in options.items():
        block.values[key] = _fold_options(cb.by_key[key], cols, cb, block.issues, header.headers)
    _flag_formulas(sheet, header, start, rows, block, filled)
    if sheet.scan_problem:
        block.notes.append("formati percentuali e formule senza valore non verificati: una parte del file non si legge "
                           f"({sheet.scan_problem}); i numeri sono presi come scritti")
    if far:
        r, c = far[0]
        block.notes.append(f"{len(far)} formule senza valore salvato lontane dai dati, non lette come righe (la "
                           f"prima nella cella {cell_ref(r, c)})")
    block.empty = [not f for f in filled]
    return block


# --------------------------------------------------------------------------
# Files

@dataclass
class FileReport:
    file: str
    status: str = "read"  # read | left_out
    reason: str | None = None
    sheets: list[dict] = field(default_factory=list)  # read sheets
    sheets_not_matched: list[dict] = field(default_factory=list)


def _best_csv(path: Path, cb: Codebook, min_fields: int, accept=None, not_counted: frozenset = frozenset(),
              near: list | None = None) -> tuple[Sheet, HeaderRow | None]:
    best: tuple[Sheet, HeaderRow | None] | None = None
    for cand in csv_candidates(path):
        header = find_header(cand.rows, cb, min_fields, accept, not_counted, near)
        score = header.field_count if header else -1
        if best is None or score > (best[1].field_count if best[1] else -1):
            best = (cand, header)
    assert best is not None
    return best


Table = tuple[int, Sheet, HeaderRow]  # sheet order in the file, the sheet's cells, its header
# Headers only English-language form exports write (Google Forms, Microsoft Forms): an ambiguous date column
# of such a file is read month first (spec section 3).
ENGLISH_EXPORT_HEADERS = frozenset({"timestamp", "completion time", "start time", "last modified time",
                                    "email address"})


def extract_file(path: Path, rel: str, cb: Codebook, min_fields: int = MIN_MATCHED_FIELDS,
                 what: str = "del questionario", accept=None, limits=None) -> tuple[list[Table], FileReport]:
    """The cells and header of every matching sheet of one file; problems go to the report, never raised.

    This is the part of reading that runs the file parsers (python-calamine, xlrd, the zip and XML readers),
    so it runs in a worker (:func:`read_files`); the cells are then interpreted by :func:`read_block` in the
    calling process. ``min_fields``, ``what`` and ``accept`` (the header rule) let the same reader take the other
    tables (:mod:`analysis.tables`) with their own codebook; ``limits`` (:class:`analysis.isolation.Limits`)
    bound the size of what is parsed (checked before parsing)."""
    report = FileReport(rel)
    found: list[Table] = []
    # The survey's own rule (spec section 1): form-account and submission columns do not count, and at least
    # one need must be among the matched fields. Other tables bring their rule in ``accept``.
    not_counted = SUBMISSION_FIELDS if accept is None else frozenset()
    accept = survey_header_ok(cb) if accept is None else accept
    near: list[HeaderRow] = []
    try:
        if path.suffix.lower() == ".csv":
            sheet, header = _best_csv(path, cb, min_fields, accept, not_counted, near)
            if header is not None:  # cells beyond the last header belong to no column (a row of a million commas)
                width = max(header.headers) + 1
                sheet.rows = [r[:width] if len(r) > width else r for r in sheet.rows]
                check_cells("il file", len(sheet.rows), width, limits)
            tables = [("", lambda sheet=sheet: sheet, header)]
            skipped: list[SkippedSheet] = []
        else:
            usable, skipped = workbook_sheets(path, limits)
            tables = []
            for name, load in usable:
                head = load(nrows=11)
                tables.append((name, load, find_header(head.rows, cb, min_fields, accept, not_counted, near)))
        for s in skipped:
            report.sheets_not_matched.append({"sheet": s.name, "reason": s.reason})
        problems = []
        for order, (name, load, header) in enumerate(tables):
            label = name or "(CSV)"
            if header is None:
                report.sheets_not_matched.append(
                    {"sheet": label, "reason": f"nessuna riga d'intestazione con almeno {min_fields} campi {what}"
                                               " nelle prime 11 righe"})
                continue
            clashes = duplicate_fields(header)
            if clashes:
                pairs = "; ".join(f"'{a}' e '{b}'" for a, b in clashes)
                problems.append(f"foglio '{label}': due colonne per lo stesso campo ({pairs})")
                report.sheets_not_matched.append({"sheet": label, "reason": f"due colonne per lo stesso campo: {pairs}"})
                continue
            sheet = load()
            cols = _percent_columns(header, cb)
            percent = _numeric_columns(cols, {j: [r[j] if j < len(r) else None for r in sheet.rows[header.row + 1:]]
                                              for j in cols})
            found.append((order, sheet.resolve({sheet.col0 + j for j in percent}), header))
        if not found:
            report.status = "left_out"
            closest = max(near, key=lambda h: len(h.matches), default=None)
            matched = (f"; la riga più vicina riconosce {len(closest.matches)}: "
                       + ", ".join(f"'{h}'" for h in closest.matched_headers()[:12])) if closest else ""
            report.reason = problems[0] if problems else (
                f"nessun foglio con un'intestazione {what} (almeno {min_fields} campi riconosciuti nelle prime 11 righe"
                f"{', senza contare quelli del modulo' if not_counted else ''}{matched})"
                if tables else "nessun foglio di dati visibile")
    except FileProblem as exc:
        report.status, report.reason = "left_out", str(exc)
    except MemoryError:
        report.status, report.reason = "left_out", ("memoria insufficiente per leggerlo (parametro lettura.memoria_mb):"
                                                    " file troppo grande; dividetelo o alzate il limite")
    except (OSError, RecursionError, ValueError, ET.ParseError, zipfile.BadZipFile, KeyError) as exc:
        # A side part of the file (styles, relationships) that the parser read but Python's readers refuse.
        report.status, report.reason = "left_out", f"non leggibile ({type(exc).__name__}: {parser_message(exc)})"
    if report.reason:  # one line, whatever a header or a sheet name held
        report.reason = " ".join(report.reason.split())
    return found, report


def blocks_of(found: list[Table], rel: str, file_order: int, cb: Codebook, leave: frozenset = frozenset()) -> list[Block]:
    """The sheets a worker extracted, parsed (:func:`read_block`), but for the field types in ``leave``."""
    return [read_block(sheet, header, rel, file_order, order, cb, leave) for order, sheet, header in found]


def read_file(path: Path, rel: str, file_order: int, cb: Codebook, min_fields: int = MIN_MATCHED_FIELDS,
              what: str = "del questionario", accept=None, limits=None) -> tuple[list[Block], FileReport]:
    """Every matching sheet of one file as a Block, in this process (no isolation: :func:`read_files` is what
    the toolkit uses)."""
    found, report = extract_file(path, rel, cb, min_fields, what, accept, limits)
    return blocks_of(found, rel, file_order, cb), report


SENT_ROWS = 4000  # rows per message from a worker: it pickles the next piece while the caller unpickles one


def read_in_worker(shared: tuple, path: Path, rel: str, order: int):
    """A worker's task: :func:`extract_file` (``shared`` holds what every file of a call has in common), sent
    as soon as it is done, a long sheet's rows in pieces (:data:`SENT_ROWS`; see :class:`_Arriving`); then the
    fields of :data:`WORKER_TYPES` of each sheet, parsed while the caller parses the others."""
    cb, limits, min_fields, what, accept = shared
    found, report = extract_file(path, rel, cb, min_fields, what, accept, limits)
    full = [sheet.rows for _, sheet, _ in found]
    later = [(k, rows[at:at + SENT_ROWS]) for k, rows in enumerate(full) for at in range(SENT_ROWS, len(rows), SENT_ROWS)]
    for (_, sheet, _), rows in zip(found, full, strict=True):
        sheet.rows = rows[:SENT_ROWS]
    yield found, report, len(later)  # pickled as it is yielded: the rows can be put back after
    for (_, sheet, _), rows in zip(found, full, strict=True):
        sheet.rows = rows
    yield from later
    del later
    return [parse_share(sheet, header, cb) for _, sheet, header in found]


class _Arriving:
    """One file's cells as a worker sends them: first the sheets with their first rows and how many pieces of
    rows follow, then ``(sheet, rows)`` pieces; ``add`` returns the whole (tables, report) with the last one."""

    def __init__(self) -> None:
        self.found: list[Table] = []
        self.report: FileReport | None = None
        self.pending = 0

    def add(self, part: tuple) -> tuple[list[Table], FileReport] | None:
        if self.report is None:
            self.found, self.report, self.pending = part
        else:
            k, rows = part
            self.found[k][1].rows.extend(rows)
            self.pending -= 1
        return (self.found, self.report) if self.pending == 0 else None


_PREFETCHED: dict[tuple, object] = {}  # reading started ahead (see :func:`prefetch`), by what it reads


def _batch_key(files, cb, limits, min_fields, what, accept, reader) -> tuple:
    return (tuple((Path(p), rel) for p, rel in files), id(cb), limits, min_fields, what, accept, reader)


def prefetch(files: list[tuple[Path, str]], cb: Codebook, limits=None) -> None:
    """Start reading survey files in the workers now; :func:`read_files` with the same arguments later takes
    the results (the command line starts the reading before its own heavy imports)."""
    from analysis.isolation import pool

    readers = pool()
    limits = limits or readers.limits
    shared = (cb, limits, MIN_MATCHED_FIELDS, "del questionario", None)
    key = _batch_key(files, cb, limits, MIN_MATCHED_FIELDS, "del questionario", None, read_in_worker)
    tasks = [(Path(path), rel, order) for order, (path, rel) in enumerate(files)]
    _PREFETCHED.clear()
    _PREFETCHED[key] = readers.submit(read_in_worker, shared, tasks, limits)


def read_files(files: list[tuple[Path, str]], cb: Codebook, limits=None, min_fields: int = MIN_MATCHED_FIELDS,
               what: str = "del questionario", accept=None, progress=None,
               reader=read_in_worker) -> list[tuple[list[Block], FileReport]]:
    """:func:`read_file` for every ``(path, relative name)``, each file in a worker process (see
    :mod:`analysis.isolation`): a file that crashes, exhausts or stalls its parser is left out with the reason,
    and the others are read exactly as alone. ``progress`` is called once per file read; ``reader`` is the
    worker's task (tests put a failing parser there)."""
    from analysis.isolation import Failure, pool

    readers = pool()
    limits = limits or readers.limits
    batch = _PREFETCHED.pop(_batch_key(files, cb, limits, min_fields, what, accept, reader), None)
    if batch is None:
        shared = (cb, limits, min_fields, what, accept)
        batch = readers.submit(reader, shared, [(Path(path), rel, order) for order, (path, rel) in enumerate(files)],
                               limits)

    arriving: dict[int, _Arriving] = {}

    def interpret(index: int, part: tuple) -> tuple[list[Block], FileReport] | None:
        whole = arriving.setdefault(index, _Arriving()).add(part)
        if whole is None:
            return None
        del arriving[index]
        found, report = whole  # the cells, parsed here while the worker parses its share
        return blocks_of(found, files[index][1], index, cb, WORKER_TYPES), report

    results = readers.collect(batch, progress, interpret)
    out = []
    for order, ((_, rel), result) in enumerate(zip(files, results, strict=True)):
        parsed = [p for p in batch.parts[order] if p is not None]
        if isinstance(result, Failure):
            out.append(([], FileReport(rel, "left_out", result.reason)))
        elif parsed:
            blocks, report = parsed[0]
            for block, share in zip(blocks, result, strict=True):
                block.merge(share)
            out.append((blocks, report))
        else:  # a task that sent its cells only at the end (a test's reader)
            found, report = result
            out.append((blocks_of(found, rel, order, cb), report))
    return out
