"""Segmentation and priorities at scale: from responses.parquet to segments and priority scores.

Builds (once, cached under benchmarks/out/) synthetic ``responses.parquet``
files in the form ingest writes: planted need segments, sector groups,
supply-chain positions, investment horizons, maturity answers, about 5% blank
needs, and customer/supplier mentions by name or VAT number. Then, for each
size and method, one child process (so peak memory is its own) times:

    read parquet -> features -> choice of k (2-8, silhouette, Calinski-Harabasz,
    bootstrap stability) -> final clustering -> supply network -> priorities

Goal (issue 5): 1,000,000 companies under 60 s and 4 GiB peak with the
default method (k-means). Ward and k-modes have lower limits
(``segmentation.LIMITS``), measured here at those limits.

Usage: python benchmarks/bench_segmentation.py [--sizes 10000 1000000] [--limits]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from pathlib import Path
import pandas as pd
from analysis.codebook import load_codebook
from analysis import network, priorities, segmentation
cb = load_codebook()
steps = {"import": time.perf_counter() - t0}
def step(name, t):
    steps[name] = time.perf_counter() - t
    return time.perf_counter()
t = time.perf_counter()
r = pd.read_parquet(sys.argv[1])
t = step("read parquet", t)
seg = segmentation.segment(r, cb, method=sys.argv[2], seed=1)
t = step("segmentation (features, k, fit)", t)
edges, _ = network.supply_edges(r, cb)
linked = network.linked_companies(r, edges)
t = step("supply network", t)
p = priorities.priority_table(r, cb, seg.labels, linked, None, seg.names)
t = step("priorities", t)
print(json.dumps({"steps": steps, "total": time.perf_counter() - t0, "k": seg.k,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def build_input(n: int, seed: int = 1) -> Path:
    """A responses.parquet of ``n`` companies with five planted segments."""
    target = OUT / f"segmentation_{n}" / "responses.parquet"
    if target.is_file():
        return target
    from analysis.codebook import load_codebook
    from analysis.identity import vat_check_digit
    from analysis.sample import PLANTED_SEGMENTS

    t = time.perf_counter()
    cb = load_codebook()
    rng = np.random.default_rng(seed)
    shares = np.array([s.share for s in PLANTED_SEGMENTS])
    seg = rng.choice(len(shares), size=n, p=shares / shares.sum())
    data: dict[str, object] = {}
    bodies = [f"{i:07d}012" for i in rng.permutation(10_000_000)[:n]]
    vats = [b + str(vat_check_digit(b)) for b in bodies]
    data["company_id"] = [f"IT{v}" for v in vats]
    data["partita_iva"] = vats
    data["ragione_sociale"] = [f"Impresa {i} S.r.l." for i in range(n)]
    metal = rng.random(n) < np.array([s.metallurgiche_share for s in PLANTED_SEGMENTS])[seg]
    data["gruppo_merceologico"] = np.where(metal, cb.sector_labels[1], cb.sector_labels[0])
    employees = rng.lognormal(3.2, 1.1, n).astype(int)
    data["dipendenti"] = pd.array(employees, dtype="Int64")
    data["size_class"] = pd.cut(employees, [-1, 9, 49, 249, np.inf], labels=list(cb.size_labels)).astype(str)
    for key in ("posizione_filiera", "orizzonte_investimento"):
        data[key] = np.asarray(cb.by_key[key].options)[rng.integers(0, len(cb.by_key[key].options), n)]
    for f in cb.maturity:
        data[f.key] = pd.array(rng.integers(0, 4, n), dtype="Int64")
    for f in cb.needs:
        high = np.array([f.key in s.high_needs for s in PLANTED_SEGMENTS])[seg]
        values = np.where(high, rng.choice([3, 4, 5], n, p=[0.1, 0.4, 0.5]), rng.choice([1, 2, 3], n, p=[.3, .45, .25]))
        values = pd.array(values, dtype="Int64")
        values[rng.random(n) < 0.05] = pd.NA
        data[f.key] = values
    # Customer mentions: a fifth of companies name one or two others, half by name, half by VAT number.
    names = data["ragione_sociale"]
    mentions = [None] * n
    for i in np.nonzero(rng.random(n) < 0.2)[0]:
        picks = rng.integers(0, n, rng.integers(1, 3))
        mentions[i] = [names[j].replace(" S.r.l.", " srl") if j % 2 else vats[j] for j in picks]
    data["clienti_principali"] = mentions
    data["fornitori_principali"] = [None] * n
    frame = pd.DataFrame(data)
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(target, index=False)
    print(f"built {target} ({n:,} companies) in {time.perf_counter() - t:.1f} s")
    return target


def run(path: Path, method: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path), method], capture_output=True, text=True,
                          timeout=3600, env={**os.environ, "PYTHONHASHSEED": "0"})
    if proc.returncode:
        return {"error": proc.stderr.strip().splitlines()[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    ap.add_argument("--limits", action="store_true", help="also time ward and kmodes at their size limits")
    args = ap.parse_args()
    from analysis.segmentation import LIMITS

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    cases = [(n, "kmeans") for n in args.sizes]
    if args.limits:
        cases += [(LIMITS["ward"], "ward"), (10_000, "kmodes")]
    for n, method in cases:
        path = build_input(n)
        res = run(path, method)
        if "error" in res:
            print(f"{method:7s} {n:>9,} companies: FAILED {res['error']}")
            continue
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in res["steps"].items())
        goal = "  (goal: < 60 s, < 4096 MiB)" if n >= 1_000_000 and method == "kmeans" else ""
        print(f"{method:7s} {n:>9,} companies: {res['total']:6.1f} s, peak {res['peak_mib']:6.0f} MiB, "
              f"k = {res['k']}{goal}\n        {steps}")


if __name__ == "__main__":
    main()
