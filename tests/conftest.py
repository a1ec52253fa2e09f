"""Shared fixtures: the codebook, small workbooks written by the tests themselves."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import Workbook

from analysis.codebook import load_codebook


@pytest.fixture(scope="session")
def cb():
    return load_codebook()


def write_xlsx(path: Path, sheets: dict[str, list[list]], formats: dict[tuple[str, int, int], str] | None = None,
               hidden: tuple[str, ...] = ()) -> Path:
    """A workbook with the given rows per sheet; ``formats[(sheet, row, col)]`` (1-based) sets number formats."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, v in enumerate(row, start=1):
                if v is not None:
                    ws.cell(row=r, column=c, value=v)
        if name in hidden:
            ws.sheet_state = "hidden"
    for (name, r, c), fmt in (formats or {}).items():
        wb[name].cell(row=r, column=c).number_format = fmt
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_csv_file(path: Path, rows: list[list], delimiter: str = ",", encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding=encoding) as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    return path


# Valid VAT numbers (check digit verified) for hand-written fixtures.
VATS = ["01234567897", "00000010215", "12345678903", "00743110157", "02483910135", "11111111115"]


def write_ods(path: Path, sheets: dict[str, list[list]], percent: set[tuple[str, int, int]] = frozenset()) -> Path:
    """An OpenDocument spreadsheet; ``percent`` holds (sheet, row, col), 0-based, of percentage cells."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        table = Table(name=name)
        for r, row in enumerate(rows):
            tr = TableRow()
            for c, v in enumerate(row):
                if v is None:
                    tr.addElement(TableCell())
                elif isinstance(v, (int, float)) and not isinstance(v, bool):
                    kind = "percentage" if (name, r, c) in percent else "float"
                    cell = TableCell(valuetype=kind, value=v)
                    cell.addElement(P(text=str(v)))
                    tr.addElement(cell)
                else:
                    cell = TableCell(valuetype="string")
                    cell.addElement(P(text=str(v)))
                    tr.addElement(cell)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def write_xls(path: Path, sheets: dict[str, list[list]], percent: set[tuple[str, int, int]] = frozenset()) -> Path:
    """A legacy .xls workbook; ``percent`` holds (sheet, row, col), 0-based, of cells formatted ``0%``."""
    import xlwt

    wb = xlwt.Workbook()
    pct = xlwt.easyxf(num_format_str="0%")
    for name, rows in sheets.items():
        ws = wb.add_sheet(name)
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if v is None:
                    continue
                if (name, r, c) in percent:
                    ws.write(r, c, v, pct)
                else:
                    ws.write(r, c, v)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(str(path))
    return path


@pytest.fixture(scope="session")
def sample_processed(tmp_path_factory):
    """The bundled sample survey read back through ingest (the workbook, not the generator's memory):
    (processed folder, accepted responses, planted truth table)."""
    import pandas as pd

    from analysis import paths
    from analysis.pipeline import run_ingest_command

    processed = tmp_path_factory.mktemp("sample_processed") / "processed"
    assert run_ingest_command(paths.SAMPLE_SURVEY_DIR, processed) == 0  # a complete set, with its manifest
    truth = pd.read_csv(paths.SAMPLE_TRUTH, dtype={"partita_iva": str})
    return processed, pd.read_parquet(processed / "responses.parquet"), truth


@pytest.fixture(scope="session")
def small_run(tmp_path_factory):
    """`python -m analysis run` on a small generated survey, as a separate process."""
    import subprocess
    import sys

    from analysis.paths import PROJECT_ROOT, SAMPLE_STARTUPS_DIR
    from analysis.sample import write_sample

    root = tmp_path_factory.mktemp("run")
    write_sample(root / "raw" / "wave.xlsx", companies=80, seed=9)
    proc = subprocess.run([sys.executable, "-m", "analysis", "run", "--raw", str(root / "raw"), "--out",
                           str(root / "out"), "--wave", "test-wave", "--startups", str(SAMPLE_STARTUPS_DIR)],
                          capture_output=True, text=True,
                          cwd=PROJECT_ROOT, timeout=900)
    return root, proc
