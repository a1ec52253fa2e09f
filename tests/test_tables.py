"""One table reader for the startup list, the member register, a weights table and the corrections file:
the survey's mechanics (sheets, header search, encodings, delimiters, value rules, every row accounted for)
with each kind's fields and header rule from the codebook."""

import re

import pandas as pd
import pytest

from analysis import corrections, tables, weights
from analysis.codebook import load_codebook
from analysis.workbooks import FileProblem
from conftest import VATS, write_csv_file, write_xlsx


def test_every_kind_is_defined_in_the_codebook_with_its_header_rule(cb):
    assert set(cb.tables) == {"startup", "register", "weights", "corrections", "verdicts"}
    register = cb.table("register")
    assert register.header_ok({"gruppo_merceologico", "dipendenti"})
    assert not register.header_ok({"partita_iva", "ragione_sociale"})  # no sector, no size: not a register
    # Survey fields are taken whole: the register knows every label and alias of the VAT number.
    assert cb.table_codebook("register").by_key["partita_iva"] == cb.by_key["partita_iva"]


def test_register_behind_title_rows_on_the_second_visible_sheet_and_in_a_cp1252_csv(cb, tmp_path):
    rows = [["Registro soci"], [], ["Partita IVA", "Ragione sociale", "Gruppo merceologico", "Numero di dipendenti"],
            [VATS[0], "Alfa", "Meccanica", 12], [VATS[1], "Beta", "Fonderie", "300"]]
    path = write_xlsx(tmp_path / "soci.xlsx", {"Nascosto": [["Partita IVA", "Gruppo merceologico", "Dipendenti"],
                                                           [VATS[2], "Meccaniche", 5]],
                                               "Soci": rows}, hidden=("Nascosto",))
    reg = weights.read_register(path, cb)
    assert (reg.read, reg.used) == (2, 2) and reg.members["source_row"].tolist() == [4, 5]
    assert reg.source == "soci.xlsx [Soci]"  # the hidden sheet is not read
    csv = write_csv_file(tmp_path / "soci.csv", [["Ragione sociale", "Gruppo merceologico", "Classe dimensionale"],
                                                 ["Città Srl", "Metallurgiche", "Piccola impresa"]],
                         delimiter=";", encoding="cp1252")
    reg = weights.read_register(csv, cb)
    assert reg.members[["gruppo_merceologico", "size_class"]].values.tolist() == [
        ["Metallurgiche, Siderurgiche e Fonderie", "piccola"]]


def test_weights_table_with_synonyms_and_a_flagged_weight(cb, tmp_path):
    path = write_csv_file(tmp_path / "pesi.csv", [
        ["Gruppo merceologico", "Dimensione", "Coefficiente"],
        ["Meccaniche", "Micro", "2,5"], ["Meccaniche", "Media", "tanto"], ["Fonderie", "250+", "0,5"]])
    resp = pd.DataFrame({"gruppo_merceologico": ["Meccaniche", "Meccaniche", "Metallurgiche, Siderurgiche e Fonderie"],
                         "size_class": ["micro", "media", "grande"]})
    w = weights.read_weights_table(path, resp, cb)
    assert w.weights.round(6).tolist() == pytest.approx([2.5, 1.0, 0.5] / pd.Series([2.5, 1.0, 0.5]).mean())
    assert len(w.cells) == 2  # the unreadable weight is not a cell
    with pytest.raises(FileProblem, match="tabella dei pesi"):
        weights.read_weights_table(write_csv_file(tmp_path / "x.csv", [["Peso"], ["1"]]), resp, cb)


def test_corrections_header_below_a_title_on_a_visible_sheet_values_kept_as_written(cb, tmp_path):
    path = write_xlsx(tmp_path / "corr.xlsx", {
        "Vecchio": [["azienda", "campo"], ["X", "escludi"]],
        "Correzioni": [["Correzioni alla rilevazione"], ["Azienda", "Campo", "Nuovo valore", "Nota"],
                       [VATS[0], "dipendenti", 45, "al telefono"], ["Beta srl", "Escludi", None, None],
                       ["Gamma", "colore preferito", "blu", None], [None, None, None, None]]},
        hidden=("Vecchio",))
    found = corrections.read_corrections(path, cb)
    assert [c.line for c in found] == [3, 4, 5]
    assert found[0].vat == VATS[0] and found[0].field == "dipendenti" and found[0].value == 45
    assert found[1].is_exclusion and found[2].problem.startswith("campo sconosciuto")
    with pytest.raises(FileProblem, match="azienda"):
        corrections.read_corrections(write_csv_file(tmp_path / "c.csv", [["nota"], ["x"]]), cb)


def test_a_project_codebook_adds_a_header_synonym_to_a_table(tmp_path):
    project = tmp_path / "cb.yaml"
    project.write_text("register_fields:\n  - {key: classe_dimensionale, aliases: [\"Fascia\"]}\n", encoding="utf-8")
    cb = load_codebook(project)
    path = write_csv_file(tmp_path / "soci.csv", [["Ragione sociale", "Gruppo merceologico", "Fascia"],
                                                  ["Alfa", "Meccaniche", "Grande"]])
    assert weights.read_register(path, cb).members["size_class"].tolist() == ["grande"]
    with pytest.raises(FileProblem):
        weights.read_register(path, load_codebook())


def test_every_row_of_a_table_is_read_empty_or_kept(cb, tmp_path):
    path = write_csv_file(tmp_path / "soci.csv", [["Gruppo merceologico", "Dipendenti"], ["Meccaniche", "3"],
                                                  ["", ""], ["Metallurgia", "x"]])
    t = tables.read_table(path, cb, "register")
    assert [(b.file, len(b.rows), sum(b.empty)) for b in t.blocks] == [("soci.csv", 3, 1)]
    assert any("riga 4, colonna Dipendenti" in p for p in t.cell_problems())


def test_counts_take_the_right_number_and_zero_has_no_sign():
    """Issue 15: '1 file letto', not '1 file letti'; '0,0', not '-0,0'."""
    from analysis.reporting import fmt_num
    from analysis.text import quantity

    assert quantity(1, "file letto", "file letti") == "1 file letto"
    assert quantity(0, "file letto", "file letti") == "0 file letti"
    assert quantity(1250, "risposta accettata", "risposte accettate") == "1.250 risposte accettate"
    assert fmt_num(-0.04, 1) == "0,0" and fmt_num(-0.4, 0) == "0" and fmt_num(-0.06, 1) == "-0,1"
    assert fmt_num(-1234.56, 1) == "-1.234,6"


def test_the_default_wave_name_reads_as_a_month_and_text_columns_align_left():
    from analysis.reporting import table, wave_label

    assert wave_label("2026-12") == "dicembre 2026" and wave_label("2026-autunno") == "2026-autunno"
    assert wave_label("2026-13") == "2026-13"
    html = table(pd.DataFrame({"Bisogno": ["Cybersecurity", "Digital twin"], "Quota": ["29%", "17%"]}), "t").to_html()
    aligned = " ".join(re.findall(r"([^{}]*)\{\s*text-align: left;\s*\}", html))
    assert "_col0" in aligned and "th.col0" in aligned  # the words and their heading...
    assert "col1" not in aligned  # ... not the numbers
