"""Innovation governance (issue 18): the index on hand-made companies, its bands, the codebook's definition,
the workshops' targets and the needs of weakly governed companies under the disclosure gate."""

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import governance
from analysis.codebook import CodebookError, load_codebook
from analysis.disclosure import Gate


def company(**answers):
    base = {"innovation_manager": None, "funzione_rs": None, "spesa_rs_pct": None, "open_innovation": None,
            "orizzonte_investimento": None, "disponibilita_startup": None}
    return {**base, **answers}


def frame(*rows):
    return pd.DataFrame(list(rows)).astype({"innovation_manager": "boolean", "funzione_rs": "boolean",
                                            "spesa_rs_pct": "Float64"})


def test_the_index_on_hand_made_companies(cb):
    r = frame(
        # everything at the top: 100, Avanzata
        company(innovation_manager=True, funzione_rs=True, spesa_rs_pct=5.0, open_innovation="Strutturata",
                orizzonte_investimento="Entro 12 mesi", disponibilita_startup="Sì"),
        # nothing: 0, Iniziale
        company(innovation_manager=False, funzione_rs=False, spesa_rs_pct=0.0, open_innovation="Nessuna",
                orizzonte_investimento="Oltre 3 anni", disponibilita_startup="No"),
        # the middle values: spend 1.5% of 3 -> 0.5; occasional 0.5; 1-3 years 0.5; maybe 0.5 -> 4 x 0.5 + 1 + 0
        company(innovation_manager=True, funzione_rs=False, spesa_rs_pct=1.5, open_innovation="Occasionale",
                orizzonte_investimento="1-3 anni", disponibilita_startup="Da valutare"),
        # 4 of 6 answered: the mean of those four
        company(innovation_manager=True, funzione_rs=True, open_innovation="Nessuna", disponibilita_startup="No"),
        # 3 of 6 answered: no index
        company(innovation_manager=True, funzione_rs=True, open_innovation="Strutturata"),
    )
    s = governance.scores(r, cb)
    idx = s[governance.INDEX]
    assert idx[0] == pytest.approx(100) and idx[1] == pytest.approx(0)
    assert idx[2] == pytest.approx(100 * 3 / 6)
    assert idx[3] == pytest.approx(50) and np.isnan(idx[4])
    assert s[governance.ANSWERED].tolist() == [6, 6, 6, 4, 3]
    assert s[governance.BAND].astype(object).where(s[governance.BAND].notna(), None).tolist() == \
        ["Avanzata", "Iniziale", "Strutturata", "Strutturata", None]


def test_bands_are_read_from_below(cb):
    d = governance.definition(cb)
    got = governance.band(pd.Series([0, 24.99, 25, 49.9, 50, 74.9, 75, 100, np.nan]), d).astype(object).tolist()
    assert got[:8] == ["Iniziale", "Iniziale", "In sviluppo", "In sviluppo", "Strutturata", "Strutturata",
                       "Avanzata", "Avanzata"] and got[8] != got[8]
    assert d.weak == ["Iniziale", "In sviluppo"]


def test_an_answer_outside_the_scores_counts_as_not_answered(cb):
    r = frame(company(innovation_manager=True, funzione_rs=True, spesa_rs_pct=-2.0, open_innovation="Boh",
                      orizzonte_investimento="Entro 12 mesi", disponibilita_startup="Sì"))
    s = governance.component_scores(r, cb)
    assert s.loc[0, "open_innovation"] != s.loc[0, "open_innovation"]  # unknown option: missing
    assert s.loc[0, "spesa_rs_pct"] == 0  # a negative spend is clipped to 0


def _project(tmp_path, section):
    path = tmp_path / "codebook.yaml"
    path.write_text(yaml.safe_dump({"governance": section}, allow_unicode=True), "utf-8")
    return path


def test_a_project_codebook_redefines_the_index_and_bad_definitions_are_refused(tmp_path):
    section = {"min_answered": 1, "components": [{"field": "innovation_manager", "scores": {True: 1, False: 0}}],
               "bands": [{"upto": 50, "label": "Bassa"}, {"upto": 100, "label": "Alta"}]}
    cb = load_codebook(_project(tmp_path, section))
    s = governance.scores(frame(company(innovation_manager=True), company(innovation_manager=False)), cb)
    assert s[governance.INDEX].tolist() == [100, 0] and s[governance.BAND].astype(str).tolist() == ["Alta", "Bassa"]
    bad = [{"field": "non_esiste", "scores": {"yes": 1}}, {"field": "open_innovation", "scores": {"Forse": 1}},
           {"field": "open_innovation", "scores": {"Nessuna": 2}}, {"field": "ragione_sociale", "linear": {"zero": 0, "full": 1}}]
    for i, component in enumerate(bad):  # each in its own folder: the codebook is cached by path
        (tmp_path / str(i)).mkdir()
        with pytest.raises(CodebookError, match="governance"):
            load_codebook(_project(tmp_path / str(i), {**section, "components": [component]}))
    (tmp_path / "b").mkdir()
    with pytest.raises(CodebookError, match="fasce"):
        load_codebook(_project(tmp_path / "b", {**section, "bands": [{"upto": 60, "label": "x"}]}))


def test_targets_hide_small_cells_and_never_leave_one_hidden_alone(cb):
    """A cell with 1-2 companies with an index hides its mean, and one more cell of its row and of its column
    hides with it: the row and column means are shown elsewhere, so a lone hidden mean would follow by
    difference."""
    rows = ["A"] * 10 + ["A"] * 2 + ["B"] * 6 + ["B"] * 5
    cols = ["x"] * 10 + ["y"] * 2 + ["x"] * 6 + ["y"] * 5
    scores_ = pd.DataFrame({governance.INDEX: np.linspace(10, 90, len(rows))})
    t = governance.targets(scores_, pd.Series(rows), pd.Series(cols), Gate())
    hidden = {(r.row, r.col) for r in t.itertuples() if r.hidden}
    assert ("A", "y") in hidden
    for key in ("row", "col"):
        counts = t[t["hidden"]].groupby(key).size()
        assert (counts != 1).all(), t  # never one hidden cell alone in a row or column
    shown = t[~t["hidden"]]
    assert (shown["with_index"] >= 3).all() and shown["mean"].is_monotonic_increasing


def test_the_needs_of_weak_governance_hide_shares_of_one_or_two_companies(cb):
    n = 12
    scores_ = pd.DataFrame({governance.INDEX: [10.0] * 6 + [80.0] * 6})
    scores_[governance.BAND] = governance.band(scores_[governance.INDEX], governance.definition(cb))
    answers = {k: [3] * n for k in cb.need_keys}
    first, second = cb.need_keys[:2]
    answers[first] = [5] * 6 + [1] * 6  # the weak rate it high, the others not
    answers[second] = [5, 1, 1, 1, 1, 1] + [1] * 6  # one weak company rates it high: not shown
    t = governance.weak_needs(pd.DataFrame(answers), scores_, cb, Gate(), governance.definition(cb)).set_index("need")
    assert t.loc[first, "share_weak"] == 1.0 and t.loc[first, "difference"] == 1.0
    assert np.isnan(t.loc[second, "share_weak"]) and np.isnan(t.loc[second, "difference"])
    assert t.index[0] == first


def test_the_index_on_the_bundled_sample_is_complete_and_spread(sample_processed):
    _, responses, _ = sample_processed
    cb = load_codebook()
    s = governance.scores(responses, cb)
    assert s[governance.INDEX].notna().mean() > 0.95
    assert s[governance.BAND].nunique() >= 3 and 20 < s[governance.INDEX].mean() < 80


def test_the_summary_finding_names_the_weakest_groups_and_hides_a_small_share(cb):
    from analysis import findings

    d = governance.definition(cb)
    index = pd.Series([10.0] * 5 + [80.0] * 5)
    scores_ = pd.DataFrame({governance.INDEX: index, governance.BAND: governance.band(index, d)})
    targets = pd.DataFrame({"row": ["Metallurgiche", "Meccaniche"], "col": ["Micro", "Piccola"],
                            "companies": [19, 83], "with_index": [19, 83], "mean": [37.0, 42.0],
                            "hidden": [False, False]})
    text = findings.governance(scores_, d.weak, targets, Gate())
    assert "il 50% delle imprese è nelle fasce Iniziale e In sviluppo" in text and "indice medio 45" in text
    assert "Metallurgiche di classe micro (37) e Meccaniche di classe piccola (42)" in text
    few = pd.Series([10.0] * 2 + [80.0] * 8)  # two weak companies: their share is a count of 2
    text = findings.governance(pd.DataFrame({governance.INDEX: few, governance.BAND: governance.band(few, d)}),
                               d.weak, None, Gate())
    assert "20%" not in text and "una parte delle imprese" in text


def test_the_sentences_say_the_link_with_maturity_and_the_needs_in_words(cb):
    assert "forte" in governance.maturity_sentence(0.62, 300) and "più mature" in governance.maturity_sentence(0.62, 300)
    assert "debole" in governance.maturity_sentence(0.13, 300) and "0,13" in governance.maturity_sentence(0.13, 300)
    d = governance.definition(cb)
    k = cb.need_keys[0]
    weak = pd.DataFrame({"need": [k], "share_weak": [0.4], "share_others": [0.2], "difference": [0.2]})
    assert f"{cb.by_key[k].short} (40% contro 20%)" in governance.weak_needs_sentence(weak, cb, d)
    assert "non chiedono" in governance.weak_needs_sentence(weak.assign(difference=0.01), cb, d)
