"""Champions: centrality on a hand-built network, the optimiser against a greedy pick and brute force, the reduced
problem against the full one, infeasible rules in words, and the bundled sample."""

import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from analysis import catalog, network, priorities, segmentation
from analysis import champions as ch
from analysis.confidentiality import CONSENT_TO_REQUEST, pseudonym
from analysis.disclosure import Gate

MECC, METAL = "Meccaniche", "Metallurgiche, Siderurgiche e Fonderie"
SECTORS = [MECC, METAL]


def cands(rows):
    """rows: (company_id, segment, sector, score)."""
    frame = pd.DataFrame(rows, columns=["company_id", "segment", "gruppo_merceologico", "s"])
    return frame, frame["s"]


def brute_force(frame, scores, shares, rules):
    best, best_set = -1.0, None
    for n in range(1, rules.max_total + 1):
        for combo in itertools.combinations(frame.index, n):
            part = frame.loc[list(combo)]
            counts = part["segment"].value_counts()
            if any(counts.get(s, 0) < rules.minimum(sh) or counts.get(s, 0) > rules.max_per_segment
                   for s, sh in shares.items()):
                continue
            if set(part["gruppo_merceologico"]) != set(SECTORS):
                continue
            total = scores[list(combo)].sum()
            if total > best + 1e-12:
                best, best_set = total, set(part["company_id"])
    return best, best_set


def greedy(frame, scores, shares, rules):
    """Highest score first, skipping a company when adding it would leave too few places for the segments and
    sector groups still uncovered: what an analyst would do by hand."""
    chosen = []
    for i in scores.sort_values(ascending=False).index:
        trial = frame.loc[chosen + [i]]
        counts = trial["segment"].value_counts()
        if counts.get(frame.at[i, "segment"], 0) > rules.max_per_segment:
            continue
        missing = sum(max(0, rules.minimum(sh) - counts.get(s, 0)) for s, sh in shares.items())
        missing_sectors = len(set(SECTORS) - set(trial["gruppo_merceologico"]))
        if len(trial) + max(missing, missing_sectors) <= rules.max_total:
            chosen.append(i)
        if len(chosen) == rules.max_total:
            break
    return scores[chosen].sum(), set(frame.loc[chosen, "company_id"])


def test_optimiser_beats_a_greedy_pick_and_matches_brute_force():
    frame, scores = cands([("a1", "A", MECC, 1.0), ("b1", "B", MECC, 0.9), ("a2", "A", METAL, 0.8),
                           ("b2", "B", METAL, 0.1)])
    shares = {"A": 0.5, "B": 0.5}
    rules = ch.Rules(max_total=2, max_per_segment=2, min_per_segment=1, extra_share=0)
    sel = ch.select(frame, scores, shares, SECTORS, rules)
    g_total, g_set = greedy(frame, scores, shares, rules)
    assert set(sel.chosen) == {"b1", "a2"} and sel.objective == pytest.approx(1.7)
    assert g_set == {"a1", "b2"} and g_total == pytest.approx(1.1) and g_total < sel.objective
    assert brute_force(frame, scores, shares, rules) == (pytest.approx(1.7), {"b1", "a2"})


def test_optimiser_matches_brute_force_on_random_cases():
    rng = np.random.default_rng(5)
    for _ in range(20):
        rows = [(f"c{i}", rng.choice(["A", "B", "C"]), rng.choice(SECTORS), float(rng.random())) for i in range(9)]
        frame, scores = cands(rows)
        shares = (frame["segment"].value_counts(normalize=True)).to_dict()
        rules = ch.Rules(max_total=4, max_per_segment=2, min_per_segment=1, extra_share=0.5)
        if any(frame.loc[frame["segment"] == s].shape[0] < rules.minimum(sh) for s, sh in shares.items()) \
                or frame["gruppo_merceologico"].nunique() < 2:
            continue
        best, _ = brute_force(frame, scores, shares, rules)
        sel = ch.select(frame, scores, shares, SECTORS, rules)
        assert not sel.messages and sel.objective == pytest.approx(best)


def test_reduced_problem_gives_the_same_answer_as_the_full_one():
    rng = np.random.default_rng(11)
    n = 600
    rows = [(f"IT{i:011d}", f"S{rng.integers(0, 6)}", SECTORS[int(rng.random() < 0.3)], float(rng.random()))
            for i in range(n)]
    frame, scores = cands(rows)
    shares = frame["segment"].value_counts(normalize=True).to_dict()
    rules = ch.Rules()
    kept = ch.reduce(frame, scores, rules)
    assert len(kept) <= 6 * 2 * min(rules.max_total, rules.max_per_segment) < n
    reduced = ch.select(frame, scores, shares, SECTORS, rules)
    full = ch.select(frame, scores, shares, SECTORS, rules, reduce_first=False)
    assert reduced.chosen == full.chosen and reduced.objective == pytest.approx(full.objective)


def test_infeasible_rules_are_said_in_words_and_relaxed():
    frame, scores = cands([("a1", "A", MECC, 0.9), ("a2", "A", MECC, 0.8)])
    sel = ch.select(frame, scores, {"A": 0.7, "B": 0.3}, SECTORS, ch.Rules(extra_share=0))
    assert sel.chosen == ["a1", "a2"]
    text = " ".join(sel.messages)
    assert "\"B\" non ha nessuna impresa disponibile" in text and f"nessuna impresa del gruppo {METAL}" in text


def test_centrality_on_a_hand_built_network(cb):
    # A hub supplies four customers; one of them also buys from a second, smaller supplier.
    g = nx.DiGraph()
    g.add_nodes_from(["hub", "c1", "c2", "c3", "c4", "small", "alone"])
    g.add_edges_from([("hub", "c1"), ("hub", "c2"), ("hub", "c3"), ("hub", "c4"), ("small", "c1")])
    pr = ch.influence_centrality(g)
    assert max(pr, key=pr.get) == "hub"
    assert pr["c1"] > pr["c2"] == pytest.approx(pr["c3"]) and pr["alone"] == min(pr.values())
    assert sum(pr.values()) == pytest.approx(1.0)
    assert pr == pytest.approx(nx.pagerank(nx.Graph(g), alpha=0.85), abs=1e-5)


def test_robustness_and_alternates():
    frame, scores = cands([("a1", "A", MECC, 0.9), ("a2", "A", METAL, 0.5), ("b1", "B", METAL, 0.8),
                           ("b2", "B", MECC, 0.7)])
    for c in ch.CRITERIA:
        frame[c] = frame["s"]
    shares = {"A": 0.5, "B": 0.5}
    rules = ch.Rules(max_total=2, extra_share=0)
    freq = ch.robustness(frame, shares, SECTORS, rules, draws=20, spread=0.0)
    assert freq["a1"] == 1.0 and freq["b1"] == 1.0 and freq["a2"] == 0.0
    alt = ch.alternates(frame, ch.score(frame), ["a1", "b1"], freq, per_segment=1)
    assert alt["company_id"].tolist() == ["a2", "b2"]


@pytest.fixture(scope="module")
def sample_selection(cb, sample_processed):
    processed, responses, truth = sample_processed
    seg = segmentation.segment(responses, cb)
    edges, _ = network.supply_edges(responses, cb)
    linked = network.linked_companies(responses, edges)
    prio = priorities.priority_table(responses, cb, seg.labels, linked, None, seg.names)
    names = seg.named()
    candidates = ch.candidate_table(responses, cb, names, seg.features.X, prio,
                                    ch.influence_centrality(network.supply_graph(responses, edges)), linked)
    scores = ch.score(candidates)
    selection = ch.select(candidates, scores, names.value_counts(normalize=True).to_dict(), cb.sector_labels)
    return responses, truth, candidates, scores, selection


def test_sample_every_planted_segment_and_sector_has_a_champion_and_none_said_no(cb, sample_selection):
    responses, truth, candidates, _, selection = sample_selection
    assert not selection.messages and 1 <= len(selection.chosen) <= 12
    chosen = responses[responses["company_id"].isin(selection.chosen)].merge(
        truth[["partita_iva", "segment", "disponibilita_champion"]], on="partita_iva")
    assert len(chosen) == len(selection.chosen)
    assert set(chosen["segment"]) == set(truth["segment"])
    assert set(chosen["gruppo_merceologico"]) == set(cb.sector_labels)
    assert (chosen["disponibilita_champion_x"] != "No").all() and (chosen["disponibilita_champion_y"] != "No").all()
    assert not candidates["disponibilita_champion"].isin(["No"]).any()
    assert ((candidates["disponibilita"] == 0.5) == (candidates["disponibilita_champion"] == "Da valutare")).all()


def test_champion_table_reasons_and_naming_rule(cb, sample_selection, tmp_path):
    responses, _, candidates, scores, selection = sample_selection
    table = ch.champions_table(candidates, scores, selection, cb)
    assert list(table.columns) == ["company_id", "ragione_sociale", "gruppo_merceologico", "segment", "score",
                                   "reasons"]
    assert table["score"].is_monotonic_decreasing
    assert all(r.startswith("Segmento \"") and "Nella filiera" in r and "Prontezza" in r for r in table["reasons"])
    # Issue 15: each Champion's reasons are its own, not only its segment's (its top needs, position, readiness).
    assert table["reasons"].str.replace(r'^Segmento "[^"]*"\. ', "", regex=True).is_unique
    key = b"k" * 32
    shown = Gate().names(responses, key, mark=True)
    for cid in table["company_id"]:
        row = responses.loc[responses["company_id"] == cid].iloc[0]
        if row["consenso_nominativo"]:
            assert shown[cid] == row["ragione_sociale"]
        else:
            assert shown[cid] == f"{pseudonym(cid, key)} ({CONSENT_TO_REQUEST})"
            assert row["ragione_sociale"] not in shown.to_numpy()
    full = ch.candidates_table(candidates, scores, pd.Series(1.0, index=table["company_id"]), table)
    catalog.write("champions", table, tmp_path, cb)
    catalog.write("champion_candidates", full, tmp_path, cb)
    written = catalog.read("champions", tmp_path, cb)
    assert written["company_id"].tolist() == table["company_id"].tolist()
    back = catalog.read("champion_candidates", tmp_path, cb)
    assert len(back) == len(candidates) and back["champion"].sum() == len(table)


def test_resampling_frequency_counts_only_the_subsamples_that_hold_a_company():
    ids = pd.Series([f"c{i}" for i in range(10)])
    # The selection always picks the first company present: c0 whenever it is there, c1 only when c0 is not.
    result = ch.resampling_frequency(ids, lambda rows: [ids.iloc[rows[0]]], resamples=200, share=0.9, seed=1)
    assert result.kept["c0"] == 1.0 and result.resamples == 200 and result.share == 0.9 and result.seconds >= 0
    # c1 is chosen exactly when c0 is left out: P(c0 out | c1 in) = 1/9 for 9 of 10 drawn.
    assert 0.05 < result.kept["c1"] < 0.2 and result.kept["c5"] == 0.0
    again = ch.resampling_frequency(ids, lambda rows: [ids.iloc[rows[0]]], resamples=200, share=0.9, seed=1)
    pd.testing.assert_series_equal(result.kept, again.kept)
    assert ch.resampling_frequency(ids, lambda rows: [], resamples=0).kept.eq(0).all()


def test_the_summary_names_champions_that_do_not_survive_resampling_and_their_alternates():
    from analysis import board

    champs = pd.DataFrame({"company_id": ["a1", "b1"], "segment": ["A", "B"]})
    candidates = pd.DataFrame({"company_id": ["a1", "a2", "b1", "b2"], "segment": ["A", "A", "B", "B"],
                               "score": [0.9, 0.8, 0.7, 0.6], "frequenza_selezione": [1, 0.2, 1, 0.1],
                               "frequenza_ricampionamento": [0.95, 0.3, 0.55, 0.4]})
    names = pd.Series({"a1": "Alfa", "a2": "Alfa Due", "b1": "Beta <b>", "b2": "Beta Due"})
    lines = board.robustness_lines(champs, candidates, names, 1, {"resamples": 100, "share": 0.9})
    assert "1 dei 2 Champion" in lines[0] and "100 sottocampioni del 90%" in lines[0]
    assert len(lines) == 2 and "Beta &lt;b&gt;" in lines[1] and "55%" in lines[1] and "Beta Due" in lines[1]
    assert board.robustness_lines(champs, candidates, names, 1, None) == []


def test_data_robustness_is_reported_for_every_champion_of_a_run(cb, sample_processed):
    from analysis import steps
    from analysis.config import Config

    _, responses, _ = sample_processed
    cfg = Config({"champion.ricampionamenti": 12, "champion.sorteggi": 20, "priorita.ricampionamenti": 20})
    seg = steps.segment_step(responses, cb, cfg)
    net = steps.network_step(responses, cb)
    prio = steps.priorities_step(responses, cb, seg, net, cfg)
    result = steps.champions_step(responses, cb, seg, prio, net, cfg)
    kept = result.candidates.set_index("company_id")["frequenza_ricampionamento"]
    assert result.resampled.resamples == 12 and kept.between(0, 1).all()
    assert kept[result.table["company_id"]].mean() > 0.5  # the planted Champions mostly come back
    assert set(result.resampled.kept.index) == set(responses["company_id"])


def test_a_champions_reasons_name_its_own_top_needs_and_readiness(cb):
    row = pd.Series({"segment": "S", "bisogni_propri": ["bisogno_robotica", "bisogno_cybersecurity"],
                     "priorita_coperte": ["bisogno_robotica"], "posizione_filiera": "Produttore finale (OEM)",
                     "imprese_collegate": 1, "indice_maturita": 42.0, "funzione_rs": True,
                     "innovation_manager": False, "disponibilita_champion": "Sì"})
    text = ch.reasons(row, cb)
    assert "Chiede soprattutto Robotica collaborativa e Cybersecurity; condivide 1 delle prime priorità" in text
    assert "produttore finale (OEM), collegata come cliente o fornitore a 1 impresa rispondente" in text
    assert "Prontezza: maturità digitale di livello Intermedio (42 su 100) e funzione R&S interna." in text
    assert ch.robustness_sentence(0.95, 0.5).startswith("Scelta da verificare: resta Champion nel 95%")
    assert ch.robustness_sentence(1.0, None) == "Scelta solida: resta Champion nel 100% dei sorteggi dei pesi."


def test_the_summary_line_of_a_champion_without_consent_shows_none_of_its_answers(cb):
    """From the board review: a Champion under a pseudonym had its top needs, position, links and maturity in the
    summary, while its board brief hides its answers; the summary now says as much as the brief."""
    row = pd.Series({"bisogni_propri": "bisogno_robotica;bisogno_cybersecurity", "posizione_filiera": "Lavorazioni conto terzi",
                     "imprese_collegate": 1, "indice_maturita": 23.0, "funzione_rs": True, "innovation_manager": False,
                     "disponibilita_champion": "Sì", "frequenza_selezione": 0.9, "frequenza_ricampionamento": 0.95,
                     "consenso": True})
    named = ch.brief_reason(row, cb, True)
    assert "Robotica" in named and "conto terzi" in named and "1 legame" in named and "scelta solida" in named
    row_no = row.copy()
    row_no["consenso"] = False
    hidden = ch.brief_reason(row_no, cb, True)
    assert "Robotica" not in hidden and "conto terzi" not in hidden and "23" not in hidden
    assert "non sono mostrate" in hidden and "scelta solida" in hidden
