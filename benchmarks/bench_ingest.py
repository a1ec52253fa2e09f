"""Reading speed: `analysis ingest` against bare pandas reads of the same workbook.

Builds (once, cached under benchmarks/out/) a 20,000-row survey workbook in the
template's form with the sample generator, then times three whole processes,
from interpreter start-up, as an analyst would run them:

1. python -m analysis ingest --raw DIR --processed OUT
2. python -c "pandas.read_excel(FILE, engine='calamine')"
3. python -c "pandas.read_excel(FILE, engine='openpyxl')"

Goal (issue 3): ingest within 1.5x the bare calamine read, and at least 4x
faster than the openpyxl read. Prints the median of REPEATS runs and peak memory.

Usage: python benchmarks/bench_ingest.py [--rows 20000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def build_input(rows: int) -> Path:
    raw = OUT / f"ingest_{rows}" / "raw"
    target = raw / "survey.xlsx"
    if not target.is_file():
        from analysis.sample import write_sample

        raw.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        write_sample(target, companies=rows, seed=1)
        print(f"built {target} in {time.perf_counter() - t:.1f} s")
    return target


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    path = build_input(args.rows)
    processed = OUT / f"ingest_{args.rows}" / "processed"
    py = sys.executable
    # As installed by `make setup`: the package byte-compiled (an editable install is not).
    subprocess.run([py, "-m", "compileall", "-q", str(HERE.parent / "src")], check=True, capture_output=True)
    commands = {
        "analysis ingest": [py, "-m", "analysis", "ingest", "--raw", str(path.parent), "--processed", str(processed)],
        "read_excel calamine": [py, "-c", f"import pandas as pd; pd.read_excel({str(path)!r}, sheet_name='Risposte', engine='calamine')"],
        "read_excel openpyxl": [py, "-c", f"import pandas as pd; pd.read_excel({str(path)!r}, sheet_name='Risposte', engine='openpyxl')"],
    }
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}")
    print(f"input: {path} ({path.stat().st_size / 2**20:.1f} MiB, {args.rows} companies, sheet 'Risposte')")
    # Rounds interleave the three commands, so a slow spell of the machine weighs on all of them alike.
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.repeats):
        for name, cmd in commands.items():
            shutil.rmtree(processed, ignore_errors=True)
            times[name].append(timed(cmd)[0])
    results = {}
    for name, runs in times.items():
        results[name] = statistics.median(runs)
        print(f"{name:22s} median {results[name]:6.2f} s  (runs: {', '.join(f'{t:.2f}' for t in runs)})")
    ratio = results["analysis ingest"] / results["read_excel calamine"]
    speedup = results["read_excel openpyxl"] / results["analysis ingest"]
    print(f"ingest / calamine read = {ratio:.2f}x (goal <= 1.5x): {'OK' if ratio <= 1.5 else 'MISSED'}")
    print(f"openpyxl read / ingest = {speedup:.2f}x (goal >= 4x): {'OK' if speedup >= 4 else 'MISSED'}")


if __name__ == "__main__":
    main()
