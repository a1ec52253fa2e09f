"""Needs by sector group: the long table, shares and means, the sector comparison, need families."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import needs
from analysis.disclosure import Gate

MECC, METAL = "Meccaniche", "Metallurgiche, Siderurgiche e Fonderie"


def frame(cb, rows):
    """Responses with the given sector groups and need answers (``rows``: [(sector, {need: value})])."""
    out = pd.DataFrame({"company_id": [f"IT{i:011d}" for i in range(len(rows))],
                        "gruppo_merceologico": [s for s, _ in rows], "size_class": "piccola"})
    for k in cb.need_keys:
        out[k] = pd.array([answers.get(k) for _, answers in rows], dtype="Int64")
    return out


def test_needs_long_leaves_blanks_out_and_keeps_weights(cb):
    r = frame(cb, [(MECC, {"bisogno_robotica": 5, "bisogno_additive": 1}), (METAL, {"bisogno_robotica": 3}),
                   (METAL, {})])
    long = needs.needs_long(r, cb, pd.Series([2.0, 1.0, 1.0]))
    assert len(long) == 3  # blanks never become low answers
    robot = long[long["need"] == "bisogno_robotica"].sort_values("importance")
    assert robot["importance"].tolist() == [3.0, 5.0] and robot["high"].tolist() == [False, True]
    assert long.loc[long["importance"] == 5, "weight"].item() == 2.0


def test_summary_mean_and_interval_match_scipy(cb):
    values = [5, 4, 4, 3, 1, 2, 5, 5]
    r = frame(cb, [(MECC if i % 2 else METAL, {"bisogno_robotica": v}) for i, v in enumerate(values)])
    s = needs.need_summary(needs.needs_long(r, cb), cb)
    overall = s[(s["need"] == "bisogno_robotica") & (s["gruppo_merceologico"] == needs.ALL_COMPANIES)].iloc[0]
    lo, hi = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert overall["n"] == 8 and overall["share_high"] == pytest.approx(5 / 8)
    assert (overall["mean"], overall["ci_low"], overall["ci_high"]) == pytest.approx((np.mean(values), lo, hi))
    mecc = s[(s["need"] == "bisogno_robotica") & (s["gruppo_merceologico"] == MECC)].iloc[0]
    assert mecc["mean"] == pytest.approx(np.mean(values[1::2]))


def test_weighted_summary(cb):
    r = frame(cb, [(MECC, {"bisogno_robotica": 5}), (MECC, {"bisogno_robotica": 1}), (MECC, {"bisogno_robotica": 1})])
    equal = needs.need_summary(needs.needs_long(r, cb, pd.Series([1.0, 1.0, 1.0])), cb)
    plain = needs.need_summary(needs.needs_long(r, cb), cb)
    pd.testing.assert_frame_equal(equal, plain)
    weighted = needs.need_summary(needs.needs_long(r, cb, pd.Series([2.0, 0.5, 0.5])), cb).iloc[0]
    assert weighted["mean"] == pytest.approx((2 * 5 + 0.5 + 0.5) / 3) and weighted["share_high"] == pytest.approx(2 / 3)


def _bh(p):
    """Benjamini-Hochberg written out, to check scipy's against."""
    p = np.asarray(p)
    order = np.argsort(p)
    m = len(p)
    adj = np.empty(m)
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p[i] * m / rank)
        adj[i] = running
    return adj


def test_comparison_matches_scipy_and_rank_biserial_from_ranks(cb):
    rng = np.random.default_rng(3)
    rows = [(MECC, {k: int(rng.integers(1, 6)) for k in cb.need_keys}) for _ in range(40)]
    rows += [(METAL, {k: int(min(5, rng.integers(1, 6) + (k == "bisogno_decarbonizzazione") * 2))
                      for k in cb.need_keys}) for _ in range(30)]
    r = frame(cb, rows)
    c = needs.compare_sectors(needs.needs_long(r, cb), cb).set_index("need")
    for k in cb.need_keys:
        x, y = r.loc[r["gruppo_merceologico"] == MECC, k].astype(float), r.loc[r["gruppo_merceologico"] == METAL, k]
        res = stats.mannwhitneyu(x, y.astype(float))
        assert c.at[k, "u"] == res.statistic and c.at[k, "p"] == pytest.approx(res.pvalue)
        ranks = stats.rankdata(np.concatenate([x, y.astype(float)]))
        glass = 2 * (ranks[:len(x)].mean() - ranks[len(x):].mean()) / (len(x) + len(y))
        assert c.at[k, "rank_biserial"] == pytest.approx(glass)
    assert c["p_adj"].to_numpy() == pytest.approx(_bh(c["p"]))
    decarb = c.loc["bisogno_decarbonizzazione"]
    assert decarb["credible"] and decarb["rank_biserial"] < 0 and "Metallurgiche" in decarb["verdict"]


def test_brunner_munzel_holds_its_level_where_mann_whitney_does_not(cb):
    """Groups with the same centre and different spread (a few Metallurgiche split between 1 and 5, many
    Meccaniche on 3): Mann-Whitney calls a difference about one time in five, Brunner-Munzel about one in
    twenty, as it should. The option gives scipy's p-values and the same effect size."""
    rng = np.random.default_rng(0)
    need = "bisogno_robotica"
    found = {"mannwhitney": 0, "brunnermunzel": 0}
    for _ in range(100):
        rows = [(MECC, {need: int(v)}) for v in rng.choice([2, 3, 4], 100, p=[0.1, 0.8, 0.1])]
        rows += [(METAL, {need: int(v)}) for v in rng.choice([1, 2, 3, 4, 5], 25, p=[0.35, 0.1, 0.1, 0.1, 0.35])]
        long = needs.needs_long(frame(cb, rows), cb)
        for test in found:
            row = needs.compare_sectors(long, cb, test=test).set_index("need").loc[need]
            found[test] += row["p"] < 0.05
    assert found["mannwhitney"] >= 12 and found["brunnermunzel"] <= 9, found
    r = frame(cb, rows)
    x, y = (r.loc[r["gruppo_merceologico"] == g, need].astype(float) for g in (MECC, METAL))
    c = needs.compare_sectors(needs.needs_long(r, cb), cb, test="brunnermunzel").set_index("need").loc[need]
    assert c["p"] == pytest.approx(stats.brunnermunzel(x, y).pvalue)
    with pytest.raises(ValueError, match="test"):
        needs.compare_sectors(needs.needs_long(r, cb), cb, test="t")


def test_comparison_without_enough_answers_says_so(cb):
    r = frame(cb, [(MECC, {"bisogno_robotica": 4}), (METAL, {"bisogno_robotica": 2})] * 2)
    c = needs.compare_sectors(needs.needs_long(r, cb), cb).set_index("need")
    assert np.isnan(c.at["bisogno_robotica", "p"]) and c.at["bisogno_robotica", "verdict"].startswith("Non verificabile")
    summary = needs.published_summary(needs.need_summary(needs.needs_long(r, cb), cb), Gate())
    table = needs.comparison_table(c.reset_index(), summary, cb)
    assert (table.loc[table["Bisogno"] == "Robotica collaborativa", "Media Meccaniche"] == "n.p.").all()


def test_families_recover_needs_asked_together(cb):
    rng = np.random.default_rng(0)
    block_a = ["bisogno_robotica", "bisogno_qualita_visione", "bisogno_manutenzione_predittiva"]
    block_b = ["bisogno_decarbonizzazione", "bisogno_efficienza_energetica"]
    rows = []
    for _ in range(120):
        a, b = rng.integers(1, 6, size=2)
        answers = {k: int(rng.integers(1, 6)) for k in cb.need_keys}
        answers.update({k: int(np.clip(a + rng.integers(-1, 2), 1, 5)) for k in block_a})
        answers.update({k: int(np.clip(b + rng.integers(-1, 2), 1, 5)) for k in block_b})
        rows.append((MECC, answers))
    fam = needs.need_families(frame(cb, rows), cb, min_correlation=0.3)
    assert fam.family[block_a].nunique() == 1 and fam.family[block_b].nunique() == 1
    assert fam.family[block_a[0]] != fam.family[block_b[0]]
    others = [k for k in cb.need_keys if k not in block_a + block_b]
    assert fam.family[others].nunique() == len(others)  # independent needs stay alone
    members = fam.members()
    assert sum(len(v) for v in members.values()) == len(cb.need_keys)
    assert list(fam.correlation.index) == fam.order


def test_planted_sector_differences_come_out_on_the_sample(cb, sample_processed):
    """Segments planted mostly among Metallurgiche (energy, materials) show up as credible differences."""
    _, responses, _ = sample_processed
    c = needs.compare_sectors(needs.needs_long(responses, cb), cb).set_index("need")
    for k in ["bisogno_efficienza_energetica", "bisogno_decarbonizzazione", "bisogno_economia_circolare",
              "bisogno_additive"]:
        assert c.at[k, "credible"] and c.at[k, "rank_biserial"] < 0, k
    for k in ["bisogno_integrazione_dati", "bisogno_tracciabilita", "bisogno_cybersecurity"]:
        assert c.at[k, "credible"] and c.at[k, "rank_biserial"] > 0, k
    fam = needs.need_families(responses, cb)
    assert fam.family[["bisogno_efficienza_energetica", "bisogno_decarbonizzazione",
                       "bisogno_economia_circolare"]].nunique() == 1
