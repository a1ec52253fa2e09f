"""A full ``analysis run`` on the bundled sample: total time, time per notebook, and the share spent starting
kernels and importing libraries.

1. Runs ``python -m analysis run --out TMP`` (the bundled sample survey and startup list) as a whole process,
   as ``make report`` does, and reads the per-step timings from the run's ``manifest.json``.
2. Executes, the same way (papermill, kernel ``python3``), a notebook holding only the imports every
   analysis notebook makes, to measure the fixed cost of one notebook: kernel start-up plus imports.

Goal (issue 7): the whole run, all notebooks and exports included, under 60 s on the 2-core machine.

Usage: python benchmarks/bench_run.py
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
IMPORTS = """import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display
from analysis import board, champions, figures, maturity, needs, network, paths, priorities, segmentation, startups
from analysis.reporting import load_processed, report_header, setup_plots, table
setup_plots("png")"""


def main() -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "analysis", "run", "--out", str(out), "--wave", "bench"],
                              cwd=ROOT, capture_output=True, text=True)
        total = time.perf_counter() - t
        if proc.returncode:
            sys.exit(f"run failed: {proc.stderr[-2000:]}")
        manifest = json.loads((out / "reports" / "bench" / "manifest.json").read_text())
        timings = manifest["timings_s"]
        notebooks = manifest["notebooks"]
        print(f"input: the bundled sample ({manifest['accepted']} accepted responses) and startup list")
        print(f"whole run (process start to exit): {total:.1f} s  (goal: < 60 s) -> "
              f"{'met' if total < 60 else 'NOT met'}")
        print(f"  reading (ingest): {timings['ingest']:.1f} s")
        for nb in notebooks:
            print(f"  {nb:32s} {timings[nb]:5.1f} s (execution and HTML export)")
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(IMPORTS)]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        probe = Path(tmp) / "imports.ipynb"
        nbformat.write(nb, probe)
        import papermill

        runs = []
        for _ in range(3):
            t = time.perf_counter()
            papermill.execute_notebook(str(probe), str(probe), kernel_name="python3", cwd=str(ROOT),
                                       progress_bar=False, log_output=False)
            runs.append(time.perf_counter() - t)
        fixed = sorted(runs)[1]
        share = fixed * len(notebooks) / total
        print(f"kernel start-up + imports: {fixed:.1f} s per notebook (median of 3), "
              f"{fixed * len(notebooks):.1f} s for {len(notebooks)} notebooks = {share:.0%} of the run")


if __name__ == "__main__":
    main()
