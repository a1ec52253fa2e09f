"""Issue 15: the executive summary's findings, on hand-made outputs (what they say, what they must not show)."""

from __future__ import annotations

import html

import pandas as pd
import pytest

from analysis import findings, maturity, priorities
from analysis.disclosure import Gate
from analysis.needs import ALL_COMPANIES, published_summary


@pytest.fixture(scope="module")
def two_groups(cb):
    return cb.sector_labels[0], cb.sector_labels[1]


def _summary(cb, rows):
    """A needs summary: (need, group, n, n_high)."""
    out = pd.DataFrame(rows, columns=["need", "gruppo_merceologico", "n", "n_high"])
    out["share_high"] = out["n_high"] / out["n"]
    out["mean"], out["ci_low"], out["ci_high"] = 3.0, 2.5, 3.5
    return out


def test_and_joins_in_italian():
    from analysis.text import and_list

    assert and_list(["a"]) == "a"
    assert and_list(["a", "b", "c"]) == "a, b e c"
    assert and_list(["Cybersecurity", "Efficienza energetica"]) == "Cybersecurity ed Efficienza energetica"


def test_the_priorities_finding_names_the_first_tier_with_its_shares(cb):
    keys = cb.need_keys[:3]
    prio = pd.DataFrame({"scope": priorities.ALL_SCOPE, "need": keys, "score": [44.6, 43.2, 30.0], "rank": [1, 2, 3],
                         "tier": [1, 1, 2]})
    summary = _summary(cb, [(k, ALL_COMPANIES, 100, h) for k, h in zip(keys, [29, 27, 10], strict=True)])
    text = findings.needs(prio, published_summary(summary, Gate("board"), breakdown=False), cb)
    assert cb.by_key[keys[0]].short + " (29%)" in text and cb.by_key[keys[1]].short + " (27%)" in text
    assert cb.by_key[keys[2]].short not in text
    assert "tra 43 e 45 su 100" in text


def test_the_sector_finding_shows_only_credible_differences_the_board_may_see(cb, two_groups):
    first, second = two_groups
    a, b, c = cb.need_keys[:3]
    rows = []
    for need, n1, h1, n2, h2 in ((a, 100, 10, 100, 45), (b, 100, 36, 100, 15), (c, 100, 30, 2, 2)):
        rows += [(need, first, n1, h1), (need, second, n2, h2), (need, ALL_COMPANIES, n1 + n2, h1 + h2)]
    summary = _summary(cb, rows)
    published = published_summary(summary, Gate("board"))
    comparison = pd.DataFrame({"need": [a, b, c], "credible": [True, True, True]})
    text = findings.sectors(comparison, published, cb)
    assert f"{cb.by_key[a].short} (45% contro 10%)" in text and f"{cb.by_key[b].short} (36% contro 15%)" in text
    assert cb.by_key[c].short not in text  # 2 companies of the second group: hidden, not described
    none = findings.sectors(comparison.assign(credible=False), published, cb)
    assert "stessi bisogni" in none and "nessuno dei 3 bisogni confrontati" in none


def test_the_maturity_finding_reads_the_published_band_counts():
    by_group = pd.DataFrame({"n": [100, 50], "indice_medio": [24.0, 25.0], "Base": [54, 30], "Intermedio": [40, 18],
                             "Moderatamente avanzato": [6, 2], "Avanzato": [0, 0], maturity.NO_INDEX: [0, 0]},
                            index=["Meccaniche", "Metallurgiche"])
    published = maturity.band_counts(by_group, Gate("board"), "t")
    text = findings.maturity(by_group, published, Gate("board"))
    assert "più della metà" in text and "54% delle Meccaniche e 60% delle Metallurgiche" in text
    assert "l'indice medio (su 100) è 24 per le Meccaniche e 25 per le Metallurgiche" in text
    assert "nessuna impresa raggiunge il livello Avanzato" in text


def test_the_champion_finding_names_the_choices_that_are_not_robust():
    assert "la scelta regge" in findings.champions(3, [])
    text = findings.champions(12, ["Impresa ABC123 (consenso da richiedere)", "Rossi S.p.A."]).replace("\\", "")
    assert "solida per 10 su 12 (regge cambiando i pesi dei criteri e rifacendo l'analisi su parti delle imprese), " \
           "meno sicura per Impresa ABC123 (consenso da richiedere) e Rossi S.p.A." in text
    # With what each choice depends on (board.fragility): the board reads why it is less sure.
    text = findings.champions(12, [("Rossi S.p.A.", "pesi"), ("Bianchi S.r.l.", "dati")]).replace("\\", "")
    assert "Rossi S.p.A., che dipende dai pesi dei criteri" in text
    assert "Bianchi S.r.l., la cui scelta cambia rifacendo l'analisi su parti delle imprese" in text
    both = findings.champions(12, [("A S.p.A.", "pesi"), ("B S.p.A.", "pesi")]).replace("\\", "")
    assert "A S.p.A. e B S.p.A., che dipendono dai pesi dei criteri" in both
    assert findings.champions(0, None) is None and "regge" not in findings.champions(2, None)


def test_the_segment_finding_says_when_there_are_none_and_merges_small_segments(cb):
    responses = pd.DataFrame({"company_id": [f"c{i}" for i in range(10)],
                              **{k: [5] * 5 + [1] * 5 for k in cb.need_keys}})
    assigned = pd.DataFrame({"company_id": responses["company_id"], "segment": ["A"] * 5 + ["B"] * 3 + ["C"] * 2})
    assert "Segmenti" in findings.segments(assigned, ["A"], responses, cb, Gate("board"), False, True)
    text = findings.segments(assigned, ["A", "B", "C"], responses, cb, Gate("board"), True, True)
    assert "«A» (5 imprese, voto medio 5,0)" in text
    assert "«C»" not in text and "altre imprese" in text  # 2 companies: merged, never shown alone


def test_the_startup_finding_lists_the_priorities_without_a_startup(cb):
    keys = cb.need_keys[:3]
    prio = pd.DataFrame({"scope": priorities.ALL_SCOPE, "need": keys, "rank": [1, 2, 3], "tier": [1, 2, 3]})
    matches = pd.DataFrame({"scope": priorities.ALL_SCOPE, "need": [keys[0]]})
    text = findings.startups(matches, prio, cb, 3)
    assert "per 1 delle prime 3 priorità" in text and cb.by_key[keys[2]].short in text.split("nessuna")[0]
    assert "Nessun abbinamento è ancora stato verificato" in text
    accepted = findings.startups(matches.assign(verdetto="accettata"), prio, cb, 3)
    assert "1 abbinamento è già stato accettato dagli scout" in accepted
    assert findings.startups(None, prio, cb) is None


def test_the_wave_finding_uses_only_visible_shares(cb):
    a, b = cb.need_keys[:2]
    changes = pd.DataFrame({"need": [a, b], "share_before": [0.10, None], "share_now": [0.30, 0.90]})
    text = findings.waves(changes, cb, "2025")
    assert f"{cb.by_key[a].short} sale da 10% a 30%" in text and cb.by_key[b].short not in text


def test_the_basis_line_says_whether_figures_are_weighted():
    summary = {"totals": {"accepted": 1, "files_read": 1}}
    assert findings.basis(summary, False) == ("Base delle cifre: 1 impresa con una risposta valida, da 1 file letto; "
                                              "risposte non ponderate (le cifre descrivono chi ha risposto).")
    assert "tasso di risposta 40%" in findings.basis(summary, True, 0.4)
    left = {"totals": {"accepted": 9, "files_read": 2},
            "files": [{"status": "left_out", "reason": "obsolete_excel: Excel 2-4", "file": "Rossi SpA.xls"}]}
    text = findings.basis(left, False)
    assert "1 file escluso: 1 per " in text and "Rossi" not in text


ANALYST_TERMS = ["Mann-Whitney", "Brunner", "rank-biserial", "Cliff", "Benjamini", "p corretto", "Spearman",
                 "ilhouette", "Calinski", "ARI", "BIC", "Jaccard", "bootstrap", "componente principale",
                 "componenti principali", "PageRank", "programmazione lineare", "TF-IDF", "k-means", "seme casuale",
                 "parametro", "`", ".csv", ".xlsx", ".parquet", "cell_issues", "secondi"]


@pytest.mark.slow
def test_the_board_sections_speak_plainly_and_the_method_appendix_explains_the_terms(small_run):
    """Issue 15: no statistics jargon, file name, parameter, seed or machine speed in the board sections; the terms
    appear, explained, only in the closing method note."""
    import html
    import re

    root, proc = small_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    page = (root / "out" / "reports" / "test-wave" / "rapporto_consiglio.html").read_text("utf-8")
    sections = re.findall(r"<section class='board-section' id='sezione-\d+'>(.*?)</section>", page, re.DOTALL)
    assert len(sections) >= 6

    def text(part: str) -> str:
        part = re.sub(r"<style.*?</style>|<script.*?</script>", "", part, flags=re.DOTALL)
        return html.unescape(re.sub(r"<[^>]+>", " ", part))

    titles = [re.search(r"<h1[^>]*>(.*?)</h1>", s, re.DOTALL).group(1) for s in sections]
    assert "Nota metodologica" in re.sub(r"<[^>]+>", "", titles[-1])  # the appendix closes the report
    for title, section in zip(titles[:-1], sections[:-1], strict=True):
        found = [t for t in ANALYST_TERMS if t in text(section)]
        assert not found, (re.sub(r"<[^>]+>", "", title), found)
    appendix = text(sections[-1])
    for term in ("Mann-Whitney", "rank-biserial", "Benjamini-Hochberg", "Spearman", "silhouette", "Calinski-Harabasz",
                 "PageRank", "programmazione lineare intera", "componenti principali", "TRL"):
        assert term in appendix, term


def test_the_maturity_finding_gives_away_no_hidden_count():
    """From the hostile review: 30 Meccaniche, 20 Base, 9 Intermedio and 1 without an index. The share is of the
    30 the tables show (20 of 29 would reveal the 1 without an index), and the mean index, hidden in the table
    with that cell, is hidden here too."""
    by_group = pd.DataFrame({"n": [29, 7], "indice_medio": [19.0, 49.0], "Base": [20, 0], "Intermedio": [9, 4],
                             "Moderatamente avanzato": [0, 3], "Avanzato": [0, 0], maturity.NO_INDEX: [1, 3]},
                            index=["Meccaniche", "Metallurgiche"])
    gate = Gate("board")
    published = maturity.band_counts(by_group, gate, "t")
    text = findings.maturity(by_group, published, gate)
    hidden = maturity.mean_hidden(by_group, published, gate)
    assert "67% delle Meccaniche" in text and "69%" not in text
    assert ("19 per le Meccaniche" in text) == (not hidden[0])
    assert "minoranza" not in text  # 20 of 40 companies: not a minority


def test_the_sector_finding_does_not_call_untested_needs_equal(cb):
    comparison = pd.DataFrame({"need": cb.need_keys[:3], "p": [float("nan")] * 3, "credible": [False] * 3})
    assert "non si possono confrontare" in findings.sectors(comparison, pd.DataFrame(
        columns=["need", "gruppo_merceologico", "share_high", "share_hidden"]), cb)


def test_no_priority_stands_out_when_every_need_is_in_one_tier(cb):
    prio = pd.DataFrame({"scope": priorities.ALL_SCOPE, "need": cb.need_keys, "score": 40.0,
                         "rank": range(1, len(cb.need_keys) + 1), "tier": 1})
    summary = _summary(cb, [(k, ALL_COMPANIES, 40, 10) for k in cb.need_keys])
    text = findings.needs(prio, published_summary(summary, Gate("board"), breakdown=False), cb)
    assert text.startswith("**Nessun bisogno emerge")


@pytest.mark.slow
def test_every_champion_has_a_page_for_the_board_and_one_for_the_analysts(small_run):
    """Issue 15: one page per Champion in two versions; the board's under the naming rule, with the company's own
    answers only with consent and never a contact person; the analysts' with real names and contacts, outside
    the board folder; both printed."""
    import re

    import pandas as pd

    root, proc = small_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    board = (root / "out" / "reports" / "test-wave" / "schede_champion.html").read_text("utf-8")
    analyst = (root / "out" / "processed" / "schede_champion_analisti.html").read_text("utf-8")
    assert not (root / "out" / "reports" / "test-wave" / "schede_champion_analisti.html").exists()
    champs = pd.read_csv(root / "out" / "processed" / "champions.csv", dtype=str)
    responses = pd.read_parquet(root / "out" / "processed" / "responses.parquet")
    assert board.count("<section class='brief'>") == analyst.count("<section class='brief'>") == len(champs)
    for cid, name in zip(champs["company_id"], champs["ragione_sociale"], strict=True):
        r = responses.loc[responses["company_id"] == cid].iloc[0]
        assert name in analyst or html.escape(name) in analyst
        if isinstance(r["referente"], str):
            assert r["referente"] not in board
        if not r["consenso_nominativo"]:
            assert name not in board
    pages = re.findall(r"<section class='brief'>(.*?)</section>", board, re.DOTALL)
    hidden = [p for p in pages if "consenso da richiedere" in p]
    assert all("I suoi bisogni principali" in p and not re.search(r"\(voto [1-5]\)", p) for p in hidden)
    assert (root / "out" / "reports" / "test-wave" / "schede_champion.pdf").is_file()


def test_the_first_priorities_are_whole_tiers_everywhere(cb):
    """From the board review: the summary named 7 needs in the first tier while the tables, the figure and the
    startup lists took 'the first 5'. Every list of the first priorities now takes whole tiers
    (priorities.leading), at most the cap asked for."""
    keys = cb.need_keys[:8]
    prio = pd.DataFrame({"scope": priorities.ALL_SCOPE, "need": keys, "rank": range(1, 9),
                         "tier": [1, 1, 1, 1, 1, 1, 1, 2]})
    assert priorities.leading(prio, priorities.ALL_SCOPE, 5) == keys[:7]
    assert priorities.leading(prio, priorities.ALL_SCOPE, 5, 6) == keys[:6]
    assert priorities.leading(prio.assign(tier=[1, 1, 2, 2, 2, 3, 3, 3]), priorities.ALL_SCOPE, 3) == keys[:5]
    matches = pd.DataFrame({"scope": priorities.ALL_SCOPE, "need": keys[:7]})
    assert "per tutte le prime 7 priorità" in findings.startups(matches, prio, cb, 5)
