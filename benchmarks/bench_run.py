"""A full ``analysis run`` on the bundled sample: total time, and the time of reading, of the analysis steps
and of rendering the board notebooks, measured separately.

Runs ``python -m analysis run --out TMP`` (the bundled sample survey and startup list) as a whole process,
as ``make report`` does, three times; reports the median run and its timings from the analyst manifest
(``manifest.json`` in the processed folder), and the cells' own execution time per notebook (the notebooks
render side by side in two kernels, so their times overlap).

Goals: the whole run, all notebooks and exports included, under 20 s on the 2-core machine (issue 12); with the
board report printed to PDF, under 30 s, and the PDF at most 30 pages (issue 15).

Usage: python benchmarks/bench_run.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat

from analysis import catalog

ROOT = Path(__file__).resolve().parents[1]
GOAL_S = 20.0
PAGES_GOAL = 30  # the board report's PDF on the bundled sample (issue 15)


def cell_seconds(nb_path: Path) -> float:
    """The time a notebook's cells took in the kernel (nbclient records it per cell)."""
    total = 0.0
    for cell in nbformat.read(str(nb_path), as_version=4).cells:
        e = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in e and "shell.execute_reply" in e:
            start = datetime.fromisoformat(e["iopub.execute_input"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(e["shell.execute_reply"].replace("Z", "+00:00"))
            total += (end - start).total_seconds()
    return total


def one_run(tmp: Path, i: int) -> tuple[float, dict, Path]:
    out = tmp / f"out{i}"
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "analysis", "run", "--out", str(out), "--wave", "bench"],
                          cwd=ROOT, capture_output=True, text=True)
    total = time.perf_counter() - t
    if proc.returncode:
        sys.exit(f"run failed: {proc.stderr[-2000:]}")
    return total, json.loads((out / "processed" / "manifest.json").read_text()), out / "processed"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        runs = sorted((one_run(Path(tmp), i) for i in range(args.runs)), key=lambda r: r[0])
        total, manifest, processed = runs[len(runs) // 2]
        t = manifest["timings_s"]
        print(f"input: the bundled sample ({manifest['accepted']} accepted responses) and startup list; "
              f"median of {args.runs} runs (all: {', '.join(f'{r[0]:.1f}' for r in runs)} s)")
        print(f"whole run (process start to exit): {total:.1f} s  (goal: < {GOAL_S:.0f} s) -> "
              f"{'met' if total < GOAL_S else 'NOT met'}")
        print(f"  reading (ingest):                 {t['ingest']:5.1f} s")
        print(f"  analysis steps:                   {t['steps']:5.1f} s  (while the kernels start and render section 01)")
        print(f"  notebooks 03-99 (2 kernels), analyst workbook, board report: {t['render']:5.1f} s")
        print(f"  board report printed to PDF (headless Chromium): {t.get('pdf', float('nan')):5.1f} s")
        pdf = processed.parent / "reports" / "bench" / "rapporto_consiglio.pdf"
        if pdf.exists():
            import pypdfium2 as pdfium

            pages = len(pdfium.PdfDocument(pdf))
            print(f"  board report PDF: {pages} A4 pages (goal: <= {PAGES_GOAL}) -> "
                  f"{'met' if pages <= PAGES_GOAL else 'NOT met'}")
        print(f"  process start, imports, commit, exit: {total - t['total']:5.1f} s")
        for nb in manifest["notebooks"]:
            executed = processed / catalog.EXECUTED_NOTEBOOKS / Path(nb).with_suffix(".ipynb").name
            print(f"    {Path(nb).stem:28s} cells {cell_seconds(executed):4.1f} s")


if __name__ == "__main__":
    main()
