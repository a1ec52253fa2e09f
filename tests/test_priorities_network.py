"""The supply network from the mentions of customers and suppliers, and the priority score by hand."""

import numpy as np
import pandas as pd
import pytest

from analysis import network, priorities, scenarios
from conftest import VATS

OEM, T1, T2, SUB = ("Produttore finale (OEM)", "Fornitore di primo livello", "Fornitore di secondo livello o successivo",
                    "Lavorazioni conto terzi")


def companies(cb, rows):
    """rows: (vat, name, position, horizon, clienti, fornitori, {need: value}, {dimension: maturity})."""
    out = pd.DataFrame({
        "company_id": [f"IT{v}" for v, *_ in rows], "partita_iva": [v for v, *_ in rows],
        "ragione_sociale": [r[1] for r in rows], "posizione_filiera": [r[2] for r in rows],
        "orizzonte_investimento": [r[3] for r in rows], "clienti_principali": [r[4] for r in rows],
        "fornitori_principali": [r[5] for r in rows], "gruppo_merceologico": "Meccaniche"})
    for k in cb.need_keys:
        out[k] = pd.array([r[6].get(k) for r in rows], dtype="Int64")
    for f in cb.maturity:
        out[f.key] = pd.array([r[7].get(f.dimension) for r in rows], dtype="Int64")
    return out


def test_mentions_are_matched_with_the_identity_rules(cb):
    r = companies(cb, [
        (VATS[0], "Alfa S.r.l.", OEM, None, None, ["Beta spa", "Esterna S.r.l."], {}, {}),
        (VATS[1], "Beta S.p.A.", T1, None, [f"IT {VATS[0]}"], [" gamma SRL"], {}, {}),
        (VATS[2], "Gamma Srl", T2, None, ["Beta"], None, {}, {}),
    ])
    edges, unmatched = network.supply_edges(r, cb)
    pairs = set(zip(edges["supplier"], edges["customer"], strict=True))
    assert pairs == {(f"IT{VATS[1]}", f"IT{VATS[0]}"), (f"IT{VATS[2]}", f"IT{VATS[1]}")}  # named twice, kept once
    assert unmatched == 1
    assert network.linked_companies(r, edges).tolist() == [1, 2, 1]
    g = network.supply_graph(r, edges)
    assert g.number_of_nodes() == 3 and g.has_edge(f"IT{VATS[2]}", f"IT{VATS[1]}")


def test_priority_components_and_score_by_hand(cb):
    need, other = "bisogno_decarbonizzazione", "bisogno_robotica"  # related dimensions: green, automazione
    r = companies(cb, [
        (VATS[0], "A", OEM, "Entro 12 mesi", None, None, {need: 5, other: 5}, {"green": 1, "automazione": 2}),
        (VATS[1], "B", SUB, "Oltre 3 anni", None, None, {need: 4, other: 2}, {"green": 3}),
        (VATS[2], "C", T1, "1-3 anni", None, None, {need: 2, other: 4}, {"green": 5, "automazione": 4}),
        (VATS[3], "D", T2, None, None, None, {other: 4}, {}),
    ])
    linked = pd.Series([2, 0, 1, 0])
    t = priorities.priority_table(r, cb, None, linked, resamples=0)
    row = t[(t["scope"] == priorities.ALL_SCOPE) & (t["need"] == need)].iloc[0]
    assert (row["n"], row["n_high"]) == (3, 2)
    assert row["diffusione"] == pytest.approx(2 / 3)

    def shrunk(own: list[float], everyone: list[float]) -> float:
        # Among the companies rating the need 4-5, pulled towards the mean over every (company, need) asked.
        return (sum(own) + priorities.PRIOR * np.mean(everyone)) / (len(own) + priorities.PRIOR)

    # Askers: the need A, B; the other need A, C, D (D has no maturity and no horizon: left out of those means).
    assert row["intensita"] == pytest.approx(shrunk([1, 0], [1, 0, 1, 0, 0]))
    assert row["divario"] == pytest.approx(shrunk([1 - 1 / 5, 1 - 3 / 5], [0.8, 0.4, 1 - 2 / 5, 1 - 4 / 5]))
    assert row["urgenza"] == pytest.approx(shrunk([1, 0], [1, 0, 1, 0.5]))
    f = {"A": (1 + 1.0 - 0.5) / 1.5, "B": (0.5 + 0.0 - 0.5) / 1.5, "C": (1 - 0.5 / 3 + 0.5 - 0.5) / 1.5,
         "D": (1 - 1 / 3 + 0 - 0.5) / 1.5}  # position + links / most linked, rescaled 0.5-2 -> 0-1
    assert row["filiera"] == pytest.approx(shrunk([f["A"], f["B"]], [f["A"], f["B"], f["A"], f["C"], f["D"]]))
    expected = 100 * sum(priorities.DEFAULT_WEIGHTS[c] * row[c] for c in priorities.COMPONENTS)
    assert row["score"] == pytest.approx(expected, abs=1e-4)  # components rounded to 1e-6
    assert row["rank"] == 2 and t.set_index("need").at[other, "rank"] == 1  # three of four ask for the other
    only_spread = priorities.priority_table(r, cb, None, linked, {"diffusione": 1}, resamples=0)
    assert only_spread.set_index("need").at[need, "score"] == pytest.approx(100 * 2 / 3, abs=1e-5)
    # With post-stratification weights A counts three times: 4-5 share (3 + 1) / (3 + 1 + 1).
    weighted = priorities.priority_table(r, cb, None, linked, survey_weights=pd.Series([3.0, 1, 1, 1]),
                                         resamples=0)
    assert weighted.set_index("need").at[need, "diffusione"] == pytest.approx(4 / 5)


def test_tiers_group_needs_whose_rank_intervals_overlap():
    part = pd.DataFrame({"rank": [1, 2, 3, 4, 5], "rank_median": [1, 2, 3, 4, 6],
                         "rank_lo": [1, 1, 3, 4, 5], "rank_hi": [2, 3, 4, 5, 7]}, index=list("abcde"))
    assert priorities.tiers(part).to_dict() == {"a": 1, "b": 1, "c": 2, "d": 2, "e": 3}
    # A need that overlaps the first only through the second is not in the first tier.
    chain = pd.DataFrame({"rank": [1, 2, 3], "rank_median": [1, 2, 3], "rank_lo": [1, 2, 3], "rank_hi": [2, 3, 4]},
                         index=list("xyz"))
    assert priorities.tiers(chain).to_dict() == {"x": 1, "y": 1, "z": 2}


def test_intervals_and_tiers_are_seeded_and_consistent(cb):
    syn = scenarios.generate("stili", cb, 5)
    r = syn.responses()
    one = priorities.priority_table(r, cb, None, pd.Series(0, index=r.index), resamples=60, seed=3)
    two = priorities.priority_table(r, cb, None, pd.Series(0, index=r.index), resamples=60, seed=3)
    pd.testing.assert_frame_equal(one, two)
    assert (one["score_lo"] <= one["score"]).all() and (one["score"] <= one["score_hi"]).all()
    assert (one["rank_lo"] <= one["rank_median"]).all() and (one["rank_median"] <= one["rank_hi"]).all()
    assert one["tier"].min() == 1
    for tier, members in one.groupby("tier"):  # every need overlaps its tier's head and no earlier head
        head = members.sort_values(["rank_median", "rank"]).iloc[0]
        assert ((members["rank_lo"] <= head["rank_hi"]) & (members["rank_hi"] >= head["rank_lo"])).all()
        later = one[one["tier"] > tier]
        assert not ((later["rank_lo"] <= head["rank_hi"]) & (later["rank_hi"] >= head["rank_lo"])).any()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["stili", "mancanti", "deboli", "indipendenti"])
def test_planted_top_needs_are_in_the_first_tier(cb, name):
    """On 5 seeds, the two needs every company rates high on average are in the top tiers: no other need is in
    a better tier than either of them, and the first tier is not everything."""
    found = []
    for seed in range(100, 105):
        syn = scenarios.generate(name, cb, seed)
        r = syn.responses()
        t = priorities.priority_table(r, cb, None, pd.Series(0, index=r.index), seed=seed)
        tier = t.set_index("need")["tier"]
        planted, others = tier[syn.top_needs], tier.drop(syn.top_needs)
        found.append(planted.max() <= others.min() and (tier == 1).sum() < len(tier))
    assert sum(found) >= 4, found


def test_components_do_not_measure_the_same_thing_on_the_sample(cb, sample_processed):
    _, r, _ = sample_processed
    edges, _ = network.supply_edges(r, cb)
    t = priorities.priority_table(r, cb, None, network.linked_companies(r, edges), resamples=0)
    corr = priorities.component_correlations(t)
    off = corr.where(~np.eye(len(corr), dtype=bool)).abs()
    print(corr.round(2))
    assert off.max().max() <= priorities.REDUNDANT and not priorities.redundant_pairs(corr)
    assert "Nessuna coppia" in priorities.redundancy_sentence(corr)
    faked = corr.copy()
    faked.loc["diffusione", "filiera"] = faked.loc["filiera", "diffusione"] = 0.93
    assert "Attenzione" in priorities.redundancy_sentence(faked) and "0,93" in priorities.redundancy_sentence(faked)


def test_ranks_per_scope_with_ties_in_codebook_order(cb):
    r = companies(cb, [(v, n, OEM, None, None, None, dict.fromkeys(cb.need_keys, 3), {}) for v, n in
                       zip(VATS[:4], "ABCD", strict=False)])
    segments = pd.Series([1, 1, 2, 2])
    t = priorities.priority_table(r, cb, segments, pd.Series([0] * 4), segment_names={1: "Uno", 2: "Due"})
    assert list(dict.fromkeys(t["scope"])) == [priorities.ALL_SCOPE, "Uno", "Due"]
    for _, part in t.groupby("scope"):
        assert part["need"].tolist() == cb.need_keys and part["rank"].tolist() == list(range(1, 18))


def test_priority_weights_are_checked(cb):
    with pytest.raises(ValueError, match="unknown priority weights"):
        priorities.check_weights({"diffusione": 1, "simpatia": 2})
    with pytest.raises(ValueError, match="not all 0"):
        priorities.check_weights({"diffusione": 0})


def test_segment_intervals_include_who_is_in_the_segment(cb):
    """With the segments formed again on every resample (from the chosen centres), a segment's score intervals
    are wider than with its members held fixed: the uncertainty of membership is in them."""
    from analysis import segmentation

    syn = scenarios.generate("deboli", cb, 7)
    r = syn.responses()
    seg = segmentation.segment(r, cb, seed=7, n_boot=2)
    linked = pd.Series(0, index=r.index)

    def refit(rows, counts):
        return segmentation.refit(seg.features.X[rows], seg.centres, counts)

    fixed = priorities.priority_table(r, cb, seg.labels, linked, None, seg.names, resamples=80, seed=1)
    moving = priorities.priority_table(r, cb, seg.labels, linked, None, seg.names, resamples=80, seed=1, refit=refit)
    width = {name: (t[t["scope"] != priorities.ALL_SCOPE]["score_hi"] - t[t["scope"] != priorities.ALL_SCOPE]
                    ["score_lo"]).mean() for name, t in (("fixed", fixed), ("moving", moving))}
    assert width["moving"] > width["fixed"], width
    same = [c for c in fixed.columns if c not in ("score_lo", "score_hi", "rank_lo", "rank_median", "rank_hi", "tier")]
    pd.testing.assert_frame_equal(fixed[same], moving[same])  # the estimates themselves do not change
