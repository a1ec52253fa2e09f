"""Issue 17: no file can stop a run. Parser failures are injected in the worker (tests/hostile_readers.py);
the guards before parsing are tested on real files built to trip them."""

from __future__ import annotations

import shutil
import time

import openpyxl
import pytest

from analysis.ingest import ingest
from analysis.isolation import Failure, Limits, ReaderPool
from analysis.paths import SAMPLE_SURVEY_DIR
from hostile_readers import hostile_read, task


@pytest.fixture(scope="module")
def readers():
    pool = ReaderPool(Limits(memory_mb=768, seconds=3), size=2)
    yield pool
    pool.close()


@pytest.mark.parametrize(("how", "words"), [
    ("panic", "errore interno del lettore"),
    ("abort", "512 GiB"),
    ("segfault", "SIGSEGV"),
    ("memory", "memoria"),
    ("exit", "codice 3"),
])
def test_a_failing_parser_costs_its_task_only(readers, how, words):
    results = readers.run(task, None, [("fine",), (how,), ("fine",)])
    assert results[0] == "fine" and results[2] == "fine"
    assert isinstance(results[1], Failure) and words in results[1].reason, results[1]
    assert "\n" not in results[1].reason


def test_a_stalled_parser_is_stopped_at_the_time_limit_and_replaced(readers):
    t = time.perf_counter()
    results = readers.run(task, None, [("stall",), ("fine",), ("fine",)])
    assert time.perf_counter() - t < 10
    assert isinstance(results[0], Failure) and "3 secondi" in results[0].reason
    assert "lettura.secondi_massimi" in results[0].reason
    assert results[1:] == ["fine", "fine"]
    assert readers.run(task, None, [("fine",)]) == ["fine"]  # the replaced worker works


def test_the_rust_allocation_message_names_the_size_and_the_parameter(readers):
    [failure] = readers.run(task, None, [("abort",)])
    assert "lettura.memoria_mb" in failure.reason and "768 MiB" in failure.reason


def test_survey_files_beside_failing_ones_read_exactly_as_alone(tmp_path):
    alone, crowded = tmp_path / "alone", tmp_path / "crowded"
    for folder in (alone, crowded):
        shutil.copytree(SAMPLE_SURVEY_DIR, folder)
    for how in ("panic", "abort", "segfault", "exit"):
        (crowded / f"{how}.xlsx").write_bytes(b"PK not really")
    (crowded / "stall.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    expected = ingest(alone)
    result = ingest(crowded, reader=hostile_read, limits=Limits(seconds=3))
    assert result.responses.drop(columns=["source_file"]).equals(expected.responses.drop(columns=["source_file"]))
    assert result.rejected.equals(expected.rejected) and result.cell_issues.equals(expected.cell_issues)
    left = {f["file"]: f["reason"] for f in result.summary["files"] if f["status"] == "left_out"}
    assert set(left) == {"panic.xlsx", "abort.xlsx", "segfault.xlsx", "exit.xlsx", "stall.xls"}
    assert "errore interno" in left["panic.xlsx"] and "secondi" in left["stall.xls"]
    assert result.summary["totals"]["files_left_out"] == 5


def test_one_stray_cell_far_away_is_refused_before_parsing(tmp_path, cb):
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_SURVEY_DIR, raw)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Risposte"
    ws["A1"] = "Ragione sociale"
    ws["XFD1048576"] = "x"
    wb.save(raw / "cella_lontana.xlsx")
    t = time.perf_counter()
    result = ingest(raw, cb)
    assert time.perf_counter() - t < 30
    reason = {f["file"]: f.get("reason") for f in result.summary["files"]}["cella_lontana.xlsx"]
    assert "XFD1048576" in reason and "'Risposte'" in reason and "lettura.celle_massime" in reason
    assert result.accepted == 300


def test_a_sheet_that_inflates_beyond_the_limit_is_refused_before_parsing(tmp_path, cb):
    raw = tmp_path / "raw"
    raw.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Gonfio"
    for r in range(1, 20001):
        ws.cell(r, 1, "A" * 60)
        ws.cell(r, 2, r)
    wb.save(raw / "gonfio.xlsx")
    assert (raw / "gonfio.xlsx").stat().st_size < 2**20
    result = ingest(raw, cb, limits=Limits(sheet_mb=1))
    [entry] = result.summary["files"]
    assert entry["status"] == "left_out"
    assert "'Gonfio'" in entry["reason"] and "lettura.foglio_mb_massimo" in entry["reason"]


def test_a_real_parser_abort_leaves_the_command_standing(tmp_path):
    """One stray cell at XFD1048576 in a sheet that does not declare its used range: python-calamine asks for
    512 GiB and aborts the process that parses it. The command goes on and the survey beside it is read."""
    import json
    import re
    import subprocess
    import sys
    import zipfile

    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_SURVEY_DIR, raw)
    wb = openpyxl.Workbook(write_only=True)
    wb.create_sheet("Dati").append(["a", "b"])
    wb.save(tmp_path / "base.xlsx")
    with zipfile.ZipFile(tmp_path / "base.xlsx") as zin, zipfile.ZipFile(raw / "lontana.xlsx", "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<dimension [^>]*/>", b"", data).replace(
                    b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
            zout.writestr(item, data)
    proc = subprocess.run([sys.executable, "-m", "analysis", "ingest", "--raw", str(raw), "--processed",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    summary = json.loads((tmp_path / "out" / "ingest_summary.json").read_text())
    entry = {f["file"]: f for f in summary["files"]}["lontana.xlsx"]
    assert entry["status"] == "left_out" and "\n" not in entry["reason"]
    assert summary["totals"]["accepted"] == 300


def test_a_worker_dies_with_the_process_that_started_it(tmp_path):
    """A command killed while a worker parses leaves no worker parsing on alone (Linux: parent-death signal)."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, time\nsys.path.insert(0, 'tests')\nfrom analysis.isolation import pool\n"
            "from hostile_readers import task\np = pool()\np.submit(task, None, [('stall',)])\n"
            "print(p._workers[0].process.pid, flush=True)\ntime.sleep(60)\n")
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=root)
    worker = int(proc.stdout.readline())
    time.sleep(0.5)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 5
    state = ""
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{worker}/status").read_text().split("State:")[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            state = "gone"
        if state in ("gone", "Z"):
            break
        time.sleep(0.1)
    assert state in ("gone", "Z"), state


def test_a_sheet_sent_in_pieces_reads_as_in_one_process(tmp_path, cb):
    """A long sheet crosses from the worker in pieces of SENT_ROWS rows: the pieces join in their order."""
    import csv
    import dataclasses

    from analysis.reading import SENT_ROWS, read_file, read_files

    sheet = openpyxl.load_workbook(SAMPLE_SURVEY_DIR / "survey_sample.xlsx", read_only=True)["Risposte"]
    header, *rows = [["" if v is None else v for v in r] for r in sheet.iter_rows(values_only=True)]
    path = tmp_path / "long.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows([header] + [rows[i % len(rows)] for i in range(2 * SENT_ROWS + 123)])
    [(isolated, report)] = read_files([(path, "long.csv")], cb)
    alone, alone_report = read_file(path, "long.csv", 0, cb)
    assert report == alone_report and len(isolated) == len(alone) == 1
    assert len(isolated[0].rows) == 2 * SENT_ROWS + 123
    for f in dataclasses.fields(isolated[0]):
        mine, theirs = getattr(isolated[0], f.name), getattr(alone[0], f.name)
        if f.name == "issues":  # the worker's share of the fields adds its issues after the caller's
            mine, theirs = sorted(mine), sorted(theirs)
        if f.name != "name_keys" or theirs is not None:  # computed by the worker only
            assert mine == theirs, f.name
