"""Broken and huge files: what one file can cost a run (issue 17).

Builds (once, cached under benchmarks/out/wild/) hostile files next to the bundled sample survey, then runs
``python -m analysis ingest`` on a folder holding the sample and one hostile file at a time, and once on a
folder of many small broken files. For each run it prints the wall time, the peak memory of the largest
process (the command or one of its reading workers), what happened to the hostile file, and whether the
sample survey beside it was read exactly as alone (same accepted rows).

Goal (issue 17): no file stops a run; for any single file under 10 MB, peak memory under 2 GiB and time
under 60 s; many small broken files at the pace of about 300 files a second or better.

Usage: python benchmarks/bench_wild_files.py [--small 600]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "wild"
SAMPLE = HERE.parent / "data" / "sample" / "survey" / "survey_sample.xlsx"


def _xlsx(path: Path, rows) -> Path:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Dati")
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def _rewrite(src: Path, dst: Path, change) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, change(item.filename, zin.read(item.filename)))
    return dst


def inflating(path: Path, gigabytes: float = 1.9) -> Path:
    """A small .xlsx whose sheet inflates to ``gigabytes`` (one cell repeated: deflate packs it ~1000:1)."""
    base = _xlsx(OUT / "base.xlsx", [["x"]])
    row = b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>' + b"a" * 30000 + b"</t></is></c></row>"
    rows = int(gigabytes * 2**30 / (len(row) + 12))
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for item in zin.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(item.filename, zin.read(item.filename))
                continue
            head, tail = re.split(rb"<sheetData>.*</sheetData>|<sheetData\s*/>", zin.read(item.filename), maxsplit=1)
            with zout.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
                fh.write(head + b"<sheetData>")
                block = b"".join(row % (r, r) for r in range(1, 1001))
                for start in range(0, rows, 1000):
                    fh.write(block if start + 1000 <= rows else b"".join(row % (r, r) for r in range(1, rows - start + 1)))
                fh.write(b"</sheetData>" + tail)
    return path


def stray_cell(path: Path, dimension: bool) -> Path:
    """One cell at XFD1048576 beside a small table; without ``dimension`` the used range is not declared."""
    base = _xlsx(OUT / "stray_base.xlsx", [["a", "b"], [1, 2]])

    def change(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return data
        data = data.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
        data = re.sub(rb"<dimension [^>]*/>", b"", data)  # openpyxl's write-only mode writes none anyway
        if dimension:  # as Excel writes it: the used range, up to the stray cell
            data = data.replace(b"<sheetData>", b'<dimension ref="A1:XFD1048576"/><sheetData>', 1)
        return data

    return _rewrite(base, path, change)


def dense(path: Path, target_mb: float = 9.5) -> Path:
    """The most cells a file under 10 MB holds: numbers in a wide sheet (not a survey)."""
    rng = random.Random(3)
    cols = 200
    rows = int(target_mb * 2**20 / (cols * 3.45))
    return _xlsx(path, ([rng.randrange(10) for _ in range(cols)] for _ in range(rows)))


def garbage(path: Path, head: bytes, size: int, seed: int) -> Path:
    rng = random.Random(seed)
    path.write_bytes(head + rng.randbytes(size))
    return path


def build() -> dict[str, Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    files = {
        "inflates to 1.9 GB": OUT / "inflating.xlsx",
        "stray cell, declared range": OUT / "stray_declared.xlsx",
        "stray cell, no declared range": OUT / "stray_undeclared.xlsx",
        "9.5 MB of dense cells": OUT / "dense.xlsx",
        "random bytes as .xls": OUT / "garbage.xls",
        "truncated .xlsx": OUT / "truncated.xlsx",
    }
    makers = {
        "inflates to 1.9 GB": lambda p: inflating(p),
        "stray cell, declared range": lambda p: stray_cell(p, True),
        "stray cell, no declared range": lambda p: stray_cell(p, False),
        "9.5 MB of dense cells": lambda p: dense(p),
        "random bytes as .xls": lambda p: garbage(p, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 200_000, 1),
        "truncated .xlsx": lambda p: p.write_bytes(SAMPLE.read_bytes()[: SAMPLE.stat().st_size // 2]) and p,
    }
    for name, path in files.items():
        if not path.is_file():
            t = time.perf_counter()
            makers[name](path)
            print(f"built {path.name} ({path.stat().st_size / 2**20:.1f} MiB) in {time.perf_counter() - t:.1f} s")
    return files


def small_broken(count: int) -> Path:
    folder = OUT / f"small_{count}"
    if not folder.is_dir():
        folder.mkdir(parents=True)
        good = SAMPLE.read_bytes()
        shutil.copy(SAMPLE, folder)
        for i in range(count):
            kind = i % 6
            name, data = [
                (f"f{i}.xlsx", good[: 200 + i * 7]),
                (f"f{i}.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + random.Random(i).randbytes(3000)),
                (f"f{i}.csv", random.Random(i).randbytes(2000)),
                (f"f{i}.ods", b"PK\x03\x04" + random.Random(i).randbytes(1500)),
                (f"f{i}.xlsx", b""),
                (f"f{i}.xls", b"\x09\x00\x04\x00" + bytes(40)),
            ][kind]
            (folder / name).write_bytes(data)
    return folder


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    return out


def _peak_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    m = re.search(r"VmHWM:\s+(\d+)", status)
    return int(m.group(1)) if m else 0


def run(folder: Path, processed: Path, extra: tuple[str, ...] = ()) -> tuple[float, float, dict]:
    """Wall seconds, the peak memory (MiB) of the largest process of the command's tree (the command and its
    reading workers, sampled every 20 ms: each one's high-water mark), and the ingest summary."""
    shutil.rmtree(processed, ignore_errors=True)
    t = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as errors:  # a pipe could fill up
        proc = subprocess.Popen([sys.executable, "-m", "analysis", "ingest", "--raw", str(folder), "--processed",
                                 str(processed), *extra], stdout=out, stderr=errors, text=True)
        peaks: dict[int, int] = {}
        while proc.poll() is None:
            for pid in _tree(proc.pid):
                peaks[pid] = max(peaks.get(pid, 0), _peak_kib(pid))
            time.sleep(0.02)
        elapsed = time.perf_counter() - t
        errors.seek(0)
        err = errors.read()
    peak = max(peaks.values(), default=0) / 1024
    if "Traceback" in err or proc.returncode not in (0, 1):
        raise SystemExit(f"ingest failed on {folder}: exit {proc.returncode}\n{err[-3000:]}")
    summary = json.loads((processed / "ingest_summary.json").read_text()) if proc.returncode == 0 else {}
    return elapsed, peak, summary


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=600, help="number of small broken files")
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HERE.parent / "src")], check=True,
                   capture_output=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    files = build()
    processed = OUT / "processed"
    alone = OUT / "alone"
    shutil.rmtree(alone, ignore_errors=True)
    alone.mkdir()
    shutil.copy(SAMPLE, alone)
    _, _, base = run(alone, processed)
    expected = base["totals"]["accepted"]
    print(f"sample survey alone: {expected} companies accepted")
    print(f"{'hostile file':32s} {'size':>9s} {'time':>7s} {'peak':>9s}  outcome")
    worst_time = worst_peak = 0.0
    cases = [(name, path, ()) for name, path in files.items()]
    # The same 1.9 GB sheet with the size guard lifted: the worker's memory or time limit must stop it.
    cases.append(("inflates, size guard lifted", files["inflates to 1.9 GB"], ("-p", "lettura.foglio_mb_massimo", "100000")))
    for name, path, extra in cases:
        folder = OUT / "case"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        shutil.copy(SAMPLE, folder)
        os.symlink(path, folder / path.name)
        elapsed, peak, summary = run(folder, processed, extra)
        entry = next(f for f in summary["files"] if f["file"] == path.name)
        same = summary["totals"]["accepted"] == expected
        outcome = entry.get("reason") or entry["status"]
        print(f"{name:32s} {path.stat().st_size / 2**20:7.1f}MB {elapsed:6.1f}s {peak:7.0f}MiB  "
              f"{'sample read as alone' if same else 'SAMPLE CHANGED'}; {outcome[:110]}")
        if path.stat().st_size < 10 * 2**20:
            worst_time, worst_peak = max(worst_time, elapsed), max(worst_peak, peak)
    folder = small_broken(args.small)
    elapsed, peak, summary = run(folder, processed)
    left = summary["totals"]["files_left_out"]
    print(f"{args.small} small broken files and the sample: {elapsed:.1f} s ({args.small / elapsed:.0f} files/s), "
          f"peak {peak:.0f} MiB; {left} left out with a reason, {summary['totals']['accepted']} companies accepted")
    ok = worst_time < 60 and worst_peak < 2048
    print(f"worst single file under 10 MB: {worst_time:.1f} s, {worst_peak:.0f} MiB (goal < 60 s, < 2048 MiB): "
          f"{'OK' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
