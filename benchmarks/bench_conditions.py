"""The conditions of the honest-segments issue, old method against new: k chosen and ARI with the planted
segments, on generated surveys of 300 companies (analysis.scenarios), 5 seeds each.

New: the segmentation as it runs (ratings centred on each company's mean, k-means started from Ward's tree,
"no distinct segments" by a gap statistic, k by BIC, small segments kept and flagged).
Old (the first round, rebuilt here): raw ratings, k-means with random starts (k-means++, 10 starts), k from 2
up, the best silhouette among solutions with bootstrap stability >= 0.75, segments under 5% merged.

Usage: python benchmarks/bench_conditions.py [--seeds 100 101 102 103 104] [--companies 300]
"""

from __future__ import annotations

import argparse
import time
from contextlib import contextmanager

from sklearn.metrics import adjusted_rand_score

from analysis import scenarios
from analysis import segmentation as sg
from analysis.codebook import load_codebook

CONDITIONS = {"stili": "(a) response styles", "mancanti": "(b) 25% missing", "indipendenti": "(c) independent",
              "continuo": "(c) one continuous factor", "indipendenti_stili": "(c) independent + response styles",
              "piccoli": "(d) 76% + 4 x 6%", "deboli": "(e) +1.5 on 2 needs"}


def _old_kmeans(X, ks, seed):
    from sklearn.cluster import KMeans

    return {k: (lambda km: (km.labels_, km.cluster_centers_))(KMeans(k, n_init=10, random_state=seed).fit(X))
            for k in ks}


@contextmanager
def old_method():
    """The first round's choices, patched in for the length of the block."""
    fit, choose, gap = sg._FIT["kmeans"], sg.choose_k, sg.gap_statistic

    def by_silhouette(*args, **kwargs):
        sel = choose(*args, **kwargs)
        crit = sel.criteria
        pool = crit[crit["stable"]] if crit["stable"].any() else crit
        best = pool.sort_values(["silhouette", "k"], ascending=[False, True]).iloc[0]
        return sg.Selection(crit, int(best["k"]), False, bool(best["stable"]), "silhouette", sel.one_group)

    sg._FIT["kmeans"] = _old_kmeans
    sg.choose_k = by_silhouette
    sg.gap_statistic = lambda X, ks, seed, references=10: {1: (0.0, 0.0), **{k: (1.0, 0.0) for k in ks}}
    try:
        yield
    finally:
        sg._FIT["kmeans"], sg.choose_k, sg.gap_statistic = fit, choose, gap


def run(name: str, seeds: list[int], companies: int, old: bool) -> tuple[list[int], list[float], float]:
    cb = load_codebook()
    ks, aris = [], []
    start = time.perf_counter()
    for seed in seeds:
        condition = scenarios.variant("indipendenti", shift=0.30, acquiescent=0.15) \
            if name == "indipendenti_stili" else name
        syn = scenarios.generate(condition, cb, seed, companies)
        kwargs = dict(seed=seed, n_boot=8)
        if old:
            with old_method():
                seg = sg.segment(syn.responses(), cb, centred=False, small_policy="merge", **kwargs)
        else:
            seg = sg.segment(syn.responses(), cb, **kwargs)
        ks.append(seg.k)
        if (syn.segment >= 0).any():
            aris.append(adjusted_rand_score(syn.segment, seg.labels))
    return ks, aris, (time.perf_counter() - start) / len(seeds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[100, 101, 102, 103, 104])
    parser.add_argument("--companies", type=int, default=300)
    args = parser.parse_args()
    print(f"{args.companies} companies, seeds {args.seeds}")
    print("| condition | method | k chosen | ARI with the planted segments | seconds per survey |")
    print("|---|---|---|---|---|")
    for name, label in CONDITIONS.items():
        for method in ("old", "new"):
            ks, aris, seconds = run(name, args.seeds, args.companies, method == "old")
            ari = ", ".join(f"{a:.2f}" for a in aris) or "- (no groups)"
            print(f"| {label} | {method} | {', '.join(map(str, ks))} | {ari} | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
