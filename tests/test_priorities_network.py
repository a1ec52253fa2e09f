"""The supply network from the mentions of customers and suppliers, and the priority score by hand."""

import numpy as np
import pandas as pd
import pytest

from analysis import network, priorities
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
    need = "bisogno_decarbonizzazione"  # related dimension: green
    r = companies(cb, [
        (VATS[0], "A", OEM, "Entro 12 mesi", None, None, {need: 5, "bisogno_robotica": 2}, {"green": 1}),
        (VATS[1], "B", SUB, "Oltre 3 anni", None, None, {need: 4, "bisogno_robotica": 2}, {"green": 3}),
        (VATS[2], "C", T1, "1-3 anni", None, None, {need: 2, "bisogno_robotica": 2}, {"green": 5}),
        (VATS[3], "D", T2, None, None, None, {"bisogno_robotica": 2}, {}),
    ])
    linked = pd.Series([2, 0, 1, 0])
    t = priorities.priority_table(r, cb, None, linked)
    row = t[(t["scope"] == priorities.ALL_SCOPE) & (t["need"] == need)].iloc[0]
    assert (row["n"], row["n_high"]) == (3, 2)
    assert row["diffusione"] == pytest.approx(2 / 3)
    assert row["intensita"] == pytest.approx((np.mean([5, 4, 2]) - 1) / 4)
    assert row["divario"] == pytest.approx(((1 - 1 / 5) + (1 - 3 / 5)) / 3)
    assert row["gap_high"] == pytest.approx(((1 - 1 / 5) + (1 - 3 / 5)) / 2)
    assert row["urgenza"] == pytest.approx((1 + 0) / 3)
    w = {"A": 1 + 1.0, "B": 0.5 + 0.0, "C": 1 - 0.5 / 3 + 0.5}  # position + links / most linked
    assert row["filiera"] == pytest.approx((w["A"] + w["B"]) / (w["A"] + w["B"] + w["C"]))
    expected = 100 * sum(priorities.DEFAULT_WEIGHTS[c] * row[c] for c in priorities.COMPONENTS)
    assert row["score"] == pytest.approx(expected, abs=1e-5) and row["rank"] == 1
    only_spread = priorities.priority_table(r, cb, None, linked, {"diffusione": 1})
    assert only_spread.set_index("need").at[need, "score"] == pytest.approx(100 * 2 / 3, abs=1e-5)


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
