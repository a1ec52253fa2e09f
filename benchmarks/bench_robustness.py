"""The honest-analysis steps on surveys of growing size: segmentation (with the latent class cross-check),
priorities with 200 bootstrap resamples, and the Champion selection with its two robustness checks (300
weight draws; 100 subsamples of 90% of the companies, each redoing segments, priorities and selection).

Builds (once, cached under benchmarks/out/) the bundled sample's generator at each size, reads it through
ingest, then times each step in one child process per size.

Usage: python benchmarks/bench_robustness.py [--sizes 300 1000 3000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
import pandas as pd
from analysis.codebook import load_codebook
from analysis.config import Config
from analysis import steps
cb = load_codebook()
r = pd.read_parquet(sys.argv[1])
cfg = Config({})
times = {}
t = time.perf_counter(); seg = steps.segment_step(r, cb, cfg); times["segmentation + latent classes"] = time.perf_counter() - t
t = time.perf_counter(); net = steps.network_step(r, cb); times["supply network"] = time.perf_counter() - t
t = time.perf_counter(); prio = steps.priorities_step(r, cb, seg, net, cfg); times["priorities (200 resamples)"] = time.perf_counter() - t
t = time.perf_counter(); champs = steps.champions_step(r, cb, seg, prio, net, cfg)
times["Champions (selection, 300 weight draws, 100 subsamples)"] = time.perf_counter() - t
times["of which the 100 subsamples"] = champs.resampled.seconds
print(json.dumps({"times": times, "k": seg.k, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def build(n: int) -> Path:
    target = OUT / f"robustness_{n}" / "responses.parquet"
    if target.is_file():
        return target
    from analysis.pipeline import run_ingest_command
    from analysis.sample import write_sample

    raw = OUT / f"robustness_{n}" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    write_sample(raw / "survey.xlsx", companies=n, seed=3)
    assert run_ingest_command(raw, target.parent / "processed") == 0
    (target.parent / "processed" / "responses.parquet").replace(target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 1000, 3000])
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for n in args.sizes:
        path = build(n)
        proc = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True)
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{n} companies (k = {result['k']}, peak {result['peak_mib']:.0f} MiB):")
        for step, seconds in result["times"].items():
            print(f"  {step}: {seconds:.1f} s")


if __name__ == "__main__":
    main()
