"""Startup scouting on the evaluation set (issue 16): how right the shortlists are.

Builds the labelled evaluation set of ``analysis.startup_eval`` (calibration and test parts, kept apart
from the bundled sample list), scores every startup against every need with the calibrated matching of
``analysis.startup_matching`` and prints, per part and threshold: the precision of the shortlists as returned
(up to 5 startups at or above the threshold), the recall of the answering startups within the top 5, the
recall per group (Italian/English, tagged/untagged) and the share of needs without an answering startup
that get an empty shortlist.

Then, leaving each calibrating writer of the blind sets out in turn (the text model and the score fitted
without it, the test writer never used), the same figures on that writer's startups at the default threshold:
how the matching fares on wording it was not fitted on. Last, each writer held out after the matching was
settled (never calibrating nor teaching the text model), read like the test part.

Goals (issue 16), on the test part: precision >= 0.9, recall >= 0.8, English untagged within 0.05 of Italian
tagged, every need without an answering startup empty.

Usage: python benchmarks/bench_scouting.py [--thresholds 30 40 50 60 70]
"""

from __future__ import annotations

import argparse
import time

from analysis.codebook import load_codebook
from analysis.config import BY_NAME
from analysis.startup_eval import CAL, TEST, build, cross_writer, evaluate, held_out, suggested_threshold
from analysis.startup_matching import calibration


def _figures(ev) -> str:
    groups = ", ".join(f"{k} {v:.2f}" for k, v in sorted(ev.recall_by_group.items()))
    return (f"precision {ev.precision:.3f}, recall@5 {ev.recall:.3f} ({groups}), empty when unanswered "
            f"{ev.empty_when_unanswered:.2f}, {ev.shortlisted} listed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--thresholds", type=float, nargs="+", default=[30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0])
    args = parser.parse_args()
    cb = load_codebook()
    examples = build(cb)
    for part in (CAL, TEST):
        chosen = [e for e in examples if e.part == part]
        print(f"{part}: {len(chosen)} startups ({sum(e.kind == 'answering' for e in chosen)} answering a need, "
              f"{sum(e.kind == 'near_miss' for e in chosen)} near-misses, {sum(e.kind == 'unrelated' for e in chosen)} "
              "unrelated)")
    print(f"model: {calibration().fitted_on}")
    default = BY_NAME["startup.soglia_pertinenza"].default
    print(f"threshold suggested by the calibration part (shortlists of left-out writers right 95% of the time): "
          f"{suggested_threshold(cb):.0f}; default of startup.soglia_pertinenza: {default:.0f}")
    for part in (CAL, TEST):
        for threshold in args.thresholds:
            t = time.perf_counter()
            ev = evaluate(cb, part, threshold)
            print(f"{part:12s} threshold {threshold:4.0f}: {_figures(ev)}, {time.perf_counter() - t:.2f} s")
    for writer, ev in cross_writer(cb, default):
        print(f"leave writer {writer} out (score fitted without it, threshold {default:.0f}): {_figures(ev)}")
    for writer in held_out()[1:]:
        print(f"held-out writer {writer} (written after the matching was settled, never fitted on; its part kept as "
              f"the test part's, threshold {default:.0f}): {_figures(evaluate(cb, TEST, default, test=writer))}")
    per_need = sum(e.kind == "answering" for e in examples if e.part == CAL) / len(cb.needs)
    print(f"note: in the calibration part a need has {per_need:.0f} answering startups on average, so recall@5 "
          f"there is at most about {5 / per_need:.2f}")


if __name__ == "__main__":
    main()
