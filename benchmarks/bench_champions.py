"""Champion selection at scale: 10,000 candidates, the exact selection and 300 robustness draws.

Builds a candidate table in the form of ``champions.candidate_table`` (10,000
candidates over 8 segments and the two sector groups, five criteria drawn at
random), then times in this process:

1. one selection with the candidate reduction (the default);
2. the same selection on the full problem (no reduction), to show what the
   reduction saves and that both give the same Champions;
3. the robustness check: 300 weight draws, each a full selection.

Goal (issue 6): 10,000 candidates selected, with 300 robustness draws, in under 10 s.

Usage: python benchmarks/bench_champions.py [--candidates 10000] [--draws 300]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pandas as pd


def build(n: int, seed: int = 1) -> tuple[pd.DataFrame, dict[str, float]]:
    from analysis.champions import CRITERIA

    rng = np.random.default_rng(seed)
    segments = [f"Segmento {i}" for i in range(1, 9)]
    shares = rng.dirichlet(np.ones(len(segments)) * 3)
    frame = pd.DataFrame({
        "company_id": [f"IT{i:011d}" for i in range(n)],
        "segment": rng.choice(segments, n, p=shares),
        "gruppo_merceologico": np.where(rng.random(n) < 0.35, "Metallurgiche, Siderurgiche e Fonderie", "Meccaniche"),
    })
    for c in CRITERIA:
        frame[c] = rng.random(n)
    return frame, dict(zip(segments, shares, strict=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candidates", type=int, default=10_000)
    ap.add_argument("--draws", type=int, default=300)
    args = ap.parse_args()
    from analysis import champions as ch

    sectors = ["Meccaniche", "Metallurgiche, Siderurgiche e Fonderie"]
    cands, shares = build(args.candidates)
    rules = ch.Rules()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; {args.candidates:,} candidates, "
          f"{len(shares)} segments, rules {rules}")
    t = time.perf_counter()
    scores = ch.score(cands)
    sel = ch.select(cands, scores, shares, sectors, rules)
    reduced = time.perf_counter() - t
    t = time.perf_counter()
    full = ch.select(cands, scores, shares, sectors, rules, reduce_first=False)
    whole = time.perf_counter() - t
    t = time.perf_counter()
    freq = ch.robustness(cands, shares, sectors, rules, draws=args.draws)
    robust = time.perf_counter() - t
    print(f"selection with reduction: {reduced:.2f} s ({len(ch.reduce(cands, scores, rules)):,} candidates kept), "
          f"{len(sel.chosen)} Champions, total score {sel.objective:.4f}")
    print(f"selection on the full problem: {whole:.2f} s, same Champions: {full.chosen == sel.chosen}")
    print(f"robustness, {args.draws} draws: {robust:.2f} s; "
          f"Champions kept in at least 80% of draws: {(freq[sel.chosen] >= 0.8).sum()}/{len(sel.chosen)}")
    total = reduced + robust
    print(f"selection + robustness: {total:.2f} s (goal: < 10 s) -> {'met' if total < 10 else 'NOT met'}")


if __name__ == "__main__":
    main()
