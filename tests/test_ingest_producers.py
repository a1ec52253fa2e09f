"""Every producer of spec sections 1 and 4, each with planted faults and the exact outcome of every row."""

from __future__ import annotations

from datetime import datetime

import pytest

from analysis.ingest import ingest
from conftest import VATS, write_csv_file, write_ods, write_xls, write_xlsx

MECC, METAL = "Meccaniche", "Metallurgiche, Siderurgiche e Fonderie"


def outcomes(result) -> dict[tuple[str, int], str]:
    """(file, row) -> 'accepted' or the rejection reason."""
    out = {(f, int(r)): "accepted" for f, r in zip(result.responses["source_file"], result.responses["source_row"],
                                                     strict=True)}
    for f, r, reason in zip(result.rejected["source_file"], result.rejected["source_row"], result.rejected["reason"],
                            strict=True):
        out[(f, int(r))] = reason
    return out


def issues(result) -> dict[tuple[int, str], tuple[str, str]]:
    ci = result.cell_issues
    return {(int(r), f): (reason, action) for r, f, reason, action in
            zip(ci["source_row"], ci["field"], ci["reason"], ci["action"], strict=True)}


def row_of(result, file, row):
    frame = result.responses
    hit = frame[(frame["source_file"] == file) & (frame["source_row"] == row)]
    assert len(hit) == 1, f"{file} row {row} not accepted"
    return hit.iloc[0]


TEMPLATE_HEADER = ["Data di compilazione", "Ragione sociale", "Partita IVA", "Codice ATECO", "Gruppo merceologico",
                   "Numero di dipendenti", "Quota export (%)", "Manutenzione predittiva", "Cybersecurity industriale",
                   "Mercati di sbocco [Automotive]", "Mercati di sbocco [Energia]", "Consenso a essere citati nei report",
                   "Note interne"]


def test_template_workbook_with_title_rows_blank_column_and_blank_row(tmp_path):
    d = datetime(2026, 10, 5, 9, 30)
    rows = [
        [None, "Questionario bisogni 2026"],                       # 1 title
        [None, "Compilare una riga per impresa"],                  # 2
        [],                                                        # 3
        [None] + TEMPLATE_HEADER,                                  # 4 header, from column B
        [None, d, "Alfa Meccanica S.r.l.", VATS[0], "25.62.00", MECC, 12, 0.35, "4 - Molto rilevante", 5, "Sì", None, "Sì", "ok"],
        [None, d, "Beta Torneria snc", None, "2562", "Meccanica", "50-249", 0.5, "Prioritario", "3", None, "Sì", "No"],
        [],                                                        # 7 blank row inside the data
        [None, d, "Gamma Fonderia SpA", VATS[1], "C24.51", None, 80, 1, 2, 4, "No", "No", None],
        [None, d, "Delta Acciai S.p.A.", VATS[2], "24.10.00", "Meccaniche", 300, None, 5, 5, None, None, "Si'"],
        [None, d, None, None, "25.62", MECC, 5, None, 3, 3, None, None, None, "solo note"],  # 10 no identity
        [None, d, "Chimica Srl", VATS[5], "20.16.00", "Chimico", 40, None, 4, 4, None, None, None],  # 11 out of scope
        [None, d, "Epsilon SRL", None, "25.11", MECC, 20, None, "n.d.", "7", None, None, None],  # 12 no needs
        [None, d, "Zeta Minuterie", 743110157, "25.73", MECC, 15, None, 4, 1, None, None, None],  # 13 VAT lost zeros
        [None, datetime(2026, 10, 20, 8, 0), "Alfa Meccanica srl", None, "25.62", MECC, 13, None, 5, 5, None, None, None],
        [],
        [None, None, None, None, None, None, None, None, None, None, None, None, None, "appunto fuori tabella"],
    ]
    path = write_xlsx(tmp_path / "raw" / "template.xlsx", {"Risposte": rows},
                      formats={("Risposte", r, 8): "0%" for r in range(5, 15)})
    result = ingest(tmp_path / "raw")
    f = "template.xlsx"
    assert outcomes(result) == {
        (f, 5): "duplicate", (f, 6): "accepted", (f, 8): "accepted", (f, 9): "accepted",
        (f, 10): "missing_identity", (f, 11): "out_of_scope", (f, 12): "no_needs", (f, 13): "accepted",
        (f, 14): "accepted",
    }
    sheet = result.summary["files"][0]["sheets"][0]
    assert sheet["header_row"] == 4
    assert (sheet["rows_read"], sheet["accepted"], sheet["empty"]) == (10, 5, 1)  # rows 5-14
    assert sheet["unmatched_columns"] == ["Note interne"]
    flagged = issues(result)
    assert flagged[(6, "dipendenti")] == ("number_range", "dropped")
    assert flagged[(9, "codice_ateco")] == ("ateco_sector_conflict", "kept")
    assert flagged[(11, "gruppo_merceologico")] == ("unknown_sector", "dropped")
    assert flagged[(12, "bisogno_manutenzione_predittiva")] == ("unknown_answer", "dropped")
    assert flagged[(12, "bisogno_cybersecurity")] == ("out_of_range", "dropped")
    beta = row_of(result, f, 6)
    assert beta["quota_export"] == 50  # percent-formatted 0.5 shown as 50%
    assert beta["gruppo_merceologico"] == MECC and beta["codice_ateco"] == "25.62"
    assert list(beta["mercati_sbocco"]) == ["Energia"] and not beta["consenso_nominativo"]
    assert beta["company_id"] == "NOME:beta torneria"
    gamma = row_of(result, f, 8)
    assert gamma["gruppo_merceologico"] == METAL and gamma["quota_export"] == 100
    assert list(gamma["mercati_sbocco"]) == []  # answered "No" to every option
    delta = row_of(result, f, 9)
    assert delta["gruppo_merceologico"] == MECC and delta["consenso_nominativo"] and delta["size_class"] == "grande"
    assert row_of(result, f, 13)["partita_iva"] == "00743110157"
    alfa = row_of(result, f, 14)  # the later answer, by name only, linked to the VAT of row 5
    assert alfa["company_id"] == f"IT{VATS[0]}" and alfa["dipendenti"] == 13
    assert "riga 14" in result.rejected.set_index("source_row").loc[5, "message"]
    original = result.rejected.set_index("source_row").loc[10, "original"]
    assert '"Note interne": "solo note"' in original
    assert path.read_bytes()  # untouched (checked by checksum in another test)


def test_percent_format_only_changes_percent_formatted_cells(tmp_path):
    header = ["Ragione sociale", "Gruppo merceologico", "Quota export (%)", "Spesa in R&S (% del fatturato)",
              "Manutenzione predittiva", "Codice ATECO"]
    rows = [header, ["A srl", MECC, 0.35, 0.5, 4, "25"], ["B srl", MECC, 0.5, 1, 4, "25"],
            ["C srl", MECC, "35 %", "2,5%", 4, "25"], ["D srl", MECC, 35, 120, 4, "25"]]
    write_xlsx(tmp_path / "raw" / "p.xlsx", {"S": rows}, formats={("S", 2, 3): "0.0%"})
    r = ingest(tmp_path / "raw").responses.set_index("ragione_sociale")
    assert r.loc["A srl", "quota_export"] == 35 and r.loc["A srl", "spesa_rs_pct"] == 0.5
    assert r.loc["B srl", "quota_export"] == 0.5 and r.loc["B srl", "spesa_rs_pct"] == 1
    assert r.loc["C srl", "quota_export"] == 35 and r.loc["C srl", "spesa_rs_pct"] == 2.5
    assert r.loc["D srl", "quota_export"] == 35 and r.loc["D srl"].isna()["spesa_rs_pct"]  # 120 flagged


def test_google_forms_csv_english_month_first(tmp_path):
    header = ["Timestamp", "Email Address", "Company name", "VAT number", "ATECO code", "Sector group", "End markets",
              "How important is each need? [Predictive maintenance]", "How important is each need? [Industrial cybersecurity]",
              "Digital maturity [digital business strategy]", "Digital maturity [data management]",
              "Consent to be named in reports"]
    rows = [header,
            ["10/5/2026 14:03:22", "a@x.it", "Alfa Srl", VATS[0], "25.62", "Mechanical", "Automotive, Energia", "Very relevant", "5", "3", "2", "Yes"],
            ["10/25/2026 9:00:00", "b@x.it", "Beta SpA", VATS[1], "24.51", "Metallurgy, steel and foundries", "Ferroviario", "4 - Molto rilevante", "1", "6", "2", "No"],
            ["10/7/2026 9:00:00", "c@x.it", "Alfa S.r.l.", "", "25.62", "", "", "Not relevant", "2", "", "", ""]]
    write_csv_file(tmp_path / "raw" / "google.csv", rows)
    result = ingest(tmp_path / "raw")
    assert outcomes(result) == {("google.csv", 2): "duplicate", ("google.csv", 3): "accepted", ("google.csv", 4): "accepted"}
    r = result.responses.set_index("company_id")
    alfa = r.loc[f"IT{VATS[0]}"]
    assert alfa["data_compilazione"] == datetime(2026, 10, 7, 9, 0)  # month-first: 10/7 is 7 October, the later
    assert alfa["bisogno_manutenzione_predittiva"] == 1 and pd_isna(alfa["mercati_sbocco"])
    beta = r.loc[f"IT{VATS[1]}"]
    assert beta["gruppo_merceologico"] == METAL and beta["data_compilazione"] == datetime(2026, 10, 25, 9, 0)
    assert pd_isna(beta["maturita_strategia"]) and beta["maturita_dati"] == 2
    assert issues(result)[(3, "maturita_strategia")] == ("out_of_range", "dropped")
    assert result.summary["files"][0]["sheets"][0]["matched_fields"][:3] == [
        "data_compilazione", "email_rispondente", "ragione_sociale"]


def pd_isna(v) -> bool:
    return v is None or (isinstance(v, float) and v != v) or v is __import__("pandas").NA


def test_microsoft_forms_xlsx_likert_and_semicolons(tmp_path):
    header = ["ID", "Start time", "Completion time", "Email", "Name", "Last modified time", "Ragione sociale",
              "Partita IVA", "Gruppo merceologico", "Mercati di sbocco",
              "Quanto sono importanti questi temi?.Manutenzione predittiva",
              "Quanto sono importanti questi temi?.Cybersecurity industriale",
              "Livello di maturità.gestione dei dati"]
    rows = [header,
            [1, datetime(2026, 10, 1, 9), datetime(2026, 10, 1, 9, 12), "anonymous", None, None, "Omega Srl", VATS[3],
             "Meccaniche", "Automotive;Medicale;", "Prioritario", "Rilevante", 4],
            [2, datetime(2026, 10, 2, 9), datetime(2026, 10, 2, 9, 12), "x@y.it", "Mario Rossi", None, "Sigma SpA",
             VATS[4], "Fonderie", "Automotive;Spaziale;", "Non rilevante", "Poco rilevante", 3.5]]
    write_xlsx(tmp_path / "raw" / "sub" / "msforms.xlsx", {"Sheet1": rows})
    result = ingest(tmp_path / "raw")
    f = "sub/msforms.xlsx"
    assert outcomes(result) == {(f, 2): "accepted", (f, 3): "accepted"}
    r = result.responses.set_index("ragione_sociale")
    assert list(r.loc["Omega Srl", "mercati_sbocco"]) == ["Automotive", "Medicale"]
    assert list(r.loc["Sigma SpA", "mercati_sbocco"]) == ["Automotive"]
    assert r.loc["Omega Srl", "id_risposta"] == "1" and r.loc["Sigma SpA", "nome_rispondente"] == "Mario Rossi"
    assert r.loc["Omega Srl", "bisogno_manutenzione_predittiva"] == 5 and r.loc["Omega Srl", "maturita_dati"] == 4
    flagged = issues(result)
    assert flagged[(3, "mercati_sbocco")] == ("unknown_option", "kept")
    assert flagged[(3, "maturita_dati")] == ("not_whole", "dropped")
    assert result.summary["files"][0]["sheets"][0]["unmatched_columns"] == ["Start time", "Last modified time"]


def test_limesurvey_semicolon_cp1252_csv(tmp_path):
    header = ["ID risposta", "Data invio", "Ragione sociale", "Partita IVA", "Gruppo merceologico", "Codice ATECO",
              "Importanza [Manutenzione predittiva]", "Importanza [Cybersecurity industriale]",
              "Mercati di sbocco [Automotive]", "Mercati di sbocco [Ferroviario]", "Maturità [digitale sostenibile]"]
    rows = [header,
            ["11", "05/10/2026 10:00", "Caffè Meccanica Srl", "IT 012 3456 7897", "Meccaniche", "25.62.00 - Lavori di meccanica generale",
             "4 – Molto rilevante", "2", "Sì", "No", "2"],
            ["12", "06/10/2026", "Però Fusioni Spa", "", "Siderurgia", "24.10", "5", "1", "", "SÌ", "4"]]
    write_csv_file(tmp_path / "raw" / "lime.csv", rows, delimiter=";", encoding="cp1252")
    result = ingest(tmp_path / "raw")
    assert outcomes(result) == {("lime.csv", 2): "accepted", ("lime.csv", 3): "accepted"}
    r = result.responses.set_index("ragione_sociale")
    cafe = r.loc["Caffè Meccanica Srl"]
    assert cafe["partita_iva"] == VATS[0] and cafe["codice_ateco"] == "25.62.00"
    assert cafe["data_compilazione"] == datetime(2026, 10, 5, 10, 0)  # day-first
    assert cafe["bisogno_manutenzione_predittiva"] == 4 and list(cafe["mercati_sbocco"]) == ["Automotive"]
    pero = r.loc["Però Fusioni Spa"]
    assert pero["gruppo_merceologico"] == METAL and list(pero["mercati_sbocco"]) == ["Ferroviario"]
    assert pero["maturita_green"] == 4


@pytest.mark.parametrize("kind", ["ods", "xls"])
def test_ods_and_xls_with_percent_cells(tmp_path, kind):
    header = ["Ragione sociale", "Partita IVA", "Gruppo merceologico", "Codice ATECO", "Numero di dipendenti",
              "Quota export (%)", "Manutenzione predittiva", "Cybersecurity industriale"]
    rows = [["Titolo del foglio"], header,
            ["Alfa Srl", VATS[0], MECC, 25.1, 12, 0.35, 4, 3],
            ["Beta Srl", VATS[1], MECC, "25.62", "1.250", 0.5, "Prioritario", 1]]
    percent = {("Dati", 2, 5)}
    writer = write_ods if kind == "ods" else write_xls
    writer(tmp_path / "raw" / f"f.{kind}", {"Vuoto": [["niente"]], "Dati": rows}, percent=percent)
    result = ingest(tmp_path / "raw")
    f = f"f.{kind}"
    assert outcomes(result) == {(f, 3): "accepted", (f, 4): "accepted"}
    r = result.responses.set_index("ragione_sociale")
    assert r.loc["Alfa Srl", "quota_export"] == pytest.approx(35) and r.loc["Beta Srl", "quota_export"] == 0.5
    assert r.loc["Alfa Srl", "codice_ateco"] == "25.10" and r.loc["Beta Srl", "dipendenti"] == 1250
    assert [s["sheet"] for s in result.summary["files"][0]["sheets_not_matched"]] == ["Vuoto"]
