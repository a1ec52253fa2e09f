"""Maturity scores, bands and gaps; the member register, response rates and post-stratification weights."""

import numpy as np
import pandas as pd
import pytest

from analysis import maturity, weights
from analysis.disclosure import Gate
from analysis.workbooks import FileProblem
from conftest import VATS, write_csv_file, write_xlsx

MECC, METAL = "Meccaniche", "Metallurgiche, Siderurgiche e Fonderie"


def test_scores_index_and_bands(cb):
    keys = [f.key for f in cb.maturity]
    r = pd.DataFrame({k: pd.array(v, dtype="Int64") for k, v in zip(keys, [
        [5, 0, 1, None], [5, 0, 2, None], [5, 0, 1, 3], [5, 0, 2, None], [5, 0, 1, None], [5, 0, 2, None]],
        strict=True)})
    s = maturity.maturity_scores(r, cb)
    assert s[maturity.INDEX].iloc[:3].tolist() == pytest.approx([100, 0, 30])
    assert np.isnan(s[maturity.INDEX].iloc[3])  # one dimension answered: no index
    assert s["dimensioni_risposte"].tolist() == [6, 6, 6, 1]
    assert s["banda"].iloc[:3].tolist() == ["Avanzato", "Base", "Intermedio"]
    edges = maturity.band(pd.Series([0, 25, 25.5, 50, 51, 75, 76, 100]))
    assert edges.tolist() == ["Base", "Base", "Intermedio", "Intermedio", "Moderatamente avanzato",
                              "Moderatamente avanzato", "Avanzato", "Avanzato"]


def test_need_gap_by_hand(cb):
    r = pd.DataFrame({f.key: pd.array([1, 1, 1], dtype="Int64") for f in cb.maturity})
    r["maturita_green"] = pd.array([0, 5, 2], dtype="Int64")
    for f in cb.needs:
        r[f.key] = pd.array([1, 1, 1], dtype="Int64")
    r["bisogno_decarbonizzazione"] = pd.array([5, 2, 4], dtype="Int64")
    g = maturity.need_gap(r, cb).set_index("need").loc["bisogno_decarbonizzazione"]
    assert g["dimension"] == "green" and g["n_high"] == 2
    assert g["intensity"] == pytest.approx(np.mean([100, 25, 75]))
    assert g["maturity_high"] == pytest.approx(20) and g["gap"] == pytest.approx(80)
    assert g["shortfall"] == pytest.approx(np.mean([0, 100, 40]) - 20)
    weighted = maturity.need_gap(r, cb, weights=pd.Series([2.0, 1.0, 1.0])).set_index("need")
    assert weighted.at["bisogno_decarbonizzazione", "maturity_high"] == pytest.approx((0 * 2 + 40) / 3)
    table = maturity.gap_table(maturity.need_gap(r, cb), cb, Gate())
    assert table.loc[table["Bisogno"] == "Decarbonizzazione", "Imprese con voto 4-5"].item() == "n.p."


def test_suppression_with_row_totals_only_hides_the_cheapest_cell():
    t = pd.DataFrame({"a": [94, 36], "b": [43, 18], "c": [1, 0]}, index=["x", "y"])
    rows = Gate().counts(t, "t", column_totals=False).show()
    assert rows.loc["x"].tolist() == ["94", "n.p.", "n.p."] and rows.loc["y"].tolist() == ["36", "18", "0"]
    both = Gate().counts(t, "t").hidden
    assert both.to_numpy().sum() > 2  # with column totals too, a rectangle of cells is needed


def responses(rows):
    """Accepted responses: (vat, name, sector, size class)."""
    return pd.DataFrame({"company_id": [f"IT{v}" if v else f"NOME:{n.lower()}" for v, n, _, _ in rows],
                         "partita_iva": [v for v, _, _, _ in rows], "ragione_sociale": [n for _, n, _, _ in rows],
                         "gruppo_merceologico": [s for _, _, s, _ in rows], "size_class": [c for _, _, _, c in rows]})


def test_register_is_read_with_the_survey_rules_and_every_row_accounted(cb, tmp_path):
    path = write_xlsx(tmp_path / "soci.xlsx", {"Soci": [
        ["Registro soci 2026"],
        ["Partita IVA", "Ragione sociale", "Gruppo merceologico", "Codice ATECO", "Numero di dipendenti",
         "Classe dimensionale"],
        [f"IT {VATS[0]}", "Alfa S.r.l.", "Meccanica", None, 12, None],
        [None, "Beta SpA", None, "24.51", None, "Grande impresa"],
        [VATS[2], "Gamma srl", "Fonderie", None, "1.250", None],
        [None, "Delta snc", "Tessile", None, 5, None],
        [None, None, None, None, None, None],
        ["123", "Epsilon", "Meccaniche", None, None, "media"],
    ]})
    reg = weights.read_register(path, cb)
    assert (reg.read, reg.used, reg.left_out, reg.empty) == (6, 4, 1, 1)
    assert reg.read == reg.used + reg.left_out + reg.empty
    m = reg.members.set_index("source_row")
    assert m.loc[3, ["partita_iva", "gruppo_merceologico", "size_class"]].tolist() == [VATS[0], MECC, "piccola"]
    assert m.loc[4, ["gruppo_merceologico", "size_class"]].tolist() == [METAL, "grande"]
    assert m.loc[5, "size_class"] == "grande"  # 1.250 employees
    assert any("riga 6" in p and "Gruppo merceologico" in p and "soci.xlsx [Soci]" in p for p in reg.problems)
    assert any("riga 8" in p and "colonna Partita IVA" in p and "partita IVA non di 11 cifre" in p for p in reg.problems)


def test_register_without_a_usable_header_is_a_file_problem(cb, tmp_path):
    path = write_csv_file(tmp_path / "soci.csv", [["Nome", "Città"], ["Alfa", "Varese"]])
    with pytest.raises(FileProblem, match="intestazione del registro soci"):
        weights.read_register(path, cb)


def test_response_rates_match_members_by_vat_or_name(cb, tmp_path):
    path = write_csv_file(tmp_path / "soci.csv", [
        ["Partita IVA", "Ragione sociale", "Gruppo merceologico", "Dipendenti"],
        [VATS[0], "Alfa S.r.l.", "Meccaniche", "12"], ["", "Beta S.p.A.", "Meccaniche", "15"],
        [VATS[3], "Gamma", "Meccaniche", "20"], ["", "Delta", "Metallurgiche", "300"]], delimiter=";")
    reg = weights.read_register(path, cb)
    resp = responses([(VATS[0], "Alfa", MECC, "piccola"), (None, "BETA srl", MECC, "piccola"),
                      (VATS[4], "Zeta", METAL, "media")])
    rates, outside = weights.response_rates(resp, reg, cb)
    small = rates.set_index(["gruppo_merceologico", "size_class"]).loc[(MECC, "piccola")]
    assert (small["members"], small["respondents"]) == (3, 2) and small["rate"] == pytest.approx(2 / 3)
    assert outside == 1


def test_poststratification_by_hand_and_merging_small_cells(cb):
    resp = responses([(None, f"m{i}", MECC, "piccola") for i in range(6)] +
                     [(None, f"f{i}", METAL, "piccola") for i in range(3)] +
                     [(None, f"g{i}", METAL, "grande") for i in range(1)] + [(None, "x", METAL, None)])
    population = pd.Series({(MECC, "piccola"): 50, (METAL, "piccola"): 30, (METAL, "grande"): 20})
    w = weights.poststratify(resp, population, cb, min_respondents=3)
    cells = w.cells.set_index(["gruppo_merceologico", "cell"])
    assert (MECC, "Piccola") in cells.index
    merged = [c for c in cells.index if c[0] == METAL and "Grande" in c[1]]
    assert merged and "Piccola" in merged[0][1]  # 1 large respondent merged with the small ones
    raw_mecc = (50 / 100) / (6 / 11)
    # The respondent of unknown size is spread over its group's cells by members: here one merged cell of 4 + 1.
    raw_metal = (50 / 100) / (5 / 11)
    scale = 11 / (6 * raw_mecc + 5 * raw_metal)
    assert w.weights.iloc[0] == pytest.approx(raw_mecc * scale)
    assert w.weights.iloc[6] == pytest.approx(raw_metal * scale)
    assert w.weights.iloc[10] == pytest.approx(raw_metal * scale)
    assert w.weights.mean() == pytest.approx(1.0) and w.weighted


def test_unknown_sizes_keep_every_cell_calibrated_to_the_members(cb):
    """Respondents of unknown size are allocated to their group's cells by members: each cell's weighted
    respondents, allocated shares included, and each group's total equal its share of the members."""
    rows = ([(None, f"a{i}", MECC, "micro") for i in range(5)] + [(None, f"b{i}", MECC, "piccola") for i in range(10)]
            + [(None, f"c{i}", MECC, "media") for i in range(5)] + [(None, f"u{i}", MECC, None) for i in range(6)]
            + [(None, f"d{i}", METAL, "piccola") for i in range(8)] + [(None, f"e{i}", METAL, "media") for i in range(4)])
    resp = responses(rows)
    population = pd.Series({(MECC, "micro"): 120, (MECC, "piccola"): 60, (MECC, "media"): 20, (METAL, "piccola"): 50,
                            (METAL, "media"): 50})
    w = weights.poststratify(resp, population, cb, min_respondents=3, cap=10)
    total = w.weights.sum()
    unknown = resp["size_class"].isna().to_numpy()
    mecc_members = 200
    for (group, size), members in population.items():
        mine = ((resp["gruppo_merceologico"] == group) & (resp["size_class"] == size)).to_numpy()
        # The six of unknown size count in each Meccaniche cell by its share of the members, at the cell's weight.
        allocated = unknown.sum() * members / mecc_members if group == MECC else 0.0
        cell_weight = w.weights[mine].iloc[0]
        assert (mine.sum() + allocated) * cell_weight / total == pytest.approx(members / population.sum())
    for group in (MECC, METAL):
        share = w.weights[(resp["gruppo_merceologico"] == group).to_numpy()].sum() / total
        assert share == pytest.approx(population[group].sum() / population.sum())


def test_weights_are_trimmed_and_the_effective_size_reported(cb):
    rows = [(None, f"m{i}", MECC, "micro") for i in range(3)] + [(None, f"p{i}", MECC, "piccola") for i in range(47)]
    resp = responses(rows)
    population = pd.Series({(MECC, "micro"): 400, (MECC, "piccola"): 100})  # 3 respondents stand for 400 members
    free = weights.poststratify(resp, population, cb, cap=100)
    assert free.weights.max() > 10 and free.trimmed == 0
    capped = weights.poststratify(resp, population, cb, cap=3.0)
    assert capped.weights.max() == pytest.approx(3.0) and capped.weights.mean() == pytest.approx(1.0)
    assert capped.trimmed == 3 and capped.cap == 3.0
    assert capped.effective > free.effective and free.effective < 50 / 3
    assert weights.effective_size(pd.Series([1.0] * 40)) == pytest.approx(40)
    assert weights.effective_size(pd.Series([1.0, 3.0])) == pytest.approx(16 / 10)
    trimmed, _ = weights.trim(pd.Series([8.0, 1, 1, 1, 1, 1, 1, 1, 1, 1]) / 1.7, 3.0)
    assert trimmed.max() == pytest.approx(3.0) and trimmed.mean() == pytest.approx(1.0)
    cells = capped.cells.set_index("cell")["weight"]
    assert cells.max() == pytest.approx(3.0)


def test_weights_table_given_directly(cb, tmp_path):
    path = write_csv_file(tmp_path / "pesi.csv", [["Gruppo merceologico", "Classe dimensionale", "Peso"],
                                                  ["Meccaniche", "Piccola", "2"], ["Metallurgiche", "micro", "1,5"]])
    resp = responses([(None, "a", MECC, "piccola"), (None, "b", METAL, "micro"), (None, "c", METAL, "grande")])
    w = weights.read_weights_table(path, resp, cb)
    raw = np.array([2, 1.5, 1.0])
    assert w.weights.to_numpy() == pytest.approx(raw * 3 / raw.sum()) and w.source == "tabella dei pesi"


@pytest.mark.slow
@pytest.mark.slow
def test_a_run_with_a_member_register_weights_the_needs_section(cb, sample_processed, tmp_path):
    """``--members``: the register is read by the run, the weights are an output, and section 02 shows response
    rates and weights and says its figures are weighted, with no company name."""
    import subprocess
    import sys

    from analysis import catalog, paths
    from analysis.paths import PROJECT_ROOT

    _, _, truth = sample_processed
    rng = np.random.default_rng(1)
    rows = [["Partita IVA", "Ragione sociale", "Gruppo merceologico", "Numero di dipendenti"]]
    rows += [[v, n, s, int(d)] for v, n, s, d in truth[["partita_iva", "ragione_sociale", "sector", "dipendenti"]]
             .itertuples(index=False)]
    rows += [["", f"Socio non rispondente {i}", "Metallurgiche" if i % 2 else "Meccaniche", int(rng.integers(1, 400))]
             for i in range(150)]
    register = write_xlsx(tmp_path / "soci.xlsx", {"Soci": rows})
    proc = subprocess.run([sys.executable, "-m", "analysis", "run", "--raw", str(paths.SAMPLE_SURVEY_DIR), "--out",
                           str(tmp_path / "out"), "--wave", "w", "--members", str(register)],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = (tmp_path / "out" / "reports" / "w" / "02_bisogni_settori.html").read_text("utf-8")
    assert "Dati ponderati" in text and "Tasso di risposta" in text and "Pesi di post-stratificazione" in text
    assert not any(name in text for name in truth["ragione_sociale"])
    w = catalog.read("weights", tmp_path / "out" / "processed", cb)
    assert w["weight"].mean() == pytest.approx(1.0) and w["weight"].nunique() > 1
    info = catalog.read("weighting", tmp_path / "out" / "processed", cb)
    assert info["source"] == "registro soci" and info["register"]["used"] == len(rows) - 1


def test_register_tables_suppress_small_member_and_respondent_counts(cb):
    rates = pd.DataFrame({"gruppo_merceologico": [MECC, MECC, METAL], "size_class": ["micro", "grande", "media"],
                          "members": [40, 2, 10], "respondents": [10, 1, 4], "rate": [0.25, 0.5, 0.4]})
    t = weights.rates_table(rates, cb, Gate())
    assert t["Soci"].tolist()[1] == "n.p." and t["Rispondenti"].tolist()[1] == "n.p."
    assert t["Tasso di risposta"].tolist()[1] == "n.p." and "1" not in t["Rispondenti"].tolist()
    assert weights.rates_table(rates, cb, Gate("analyst"))["Soci"].tolist() == ["40", "2", "10"]
