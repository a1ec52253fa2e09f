"""Issue 17: answers never lost without a flag (formulas without a value), dates read per column as spec v2
section 3 says (per producer), and the sheet scan that streams."""

from __future__ import annotations

import re

import openpyxl
import pytest

from analysis import workbooks
from analysis.ingest import ingest
from analysis.values import date_reading, parse_date
from conftest import VATS, write_csv_file

MECC = "Meccaniche"
NEEDS = ["Manutenzione predittiva", "Cybersecurity industriale"]


def _formula_workbook(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Risposte"
    ws.append(["Ragione sociale", "Partita IVA", "Gruppo merceologico", "Codice ATECO", *NEEDS,
               "Numero di dipendenti"])
    ws.append(["Alfa", VATS[0], MECC, "25", 4, "=2+3", "=SUM(A1:A2)"])
    ws.append(["Beta", VATS[1], MECC, "25", 3, 2, 12])
    ws.append(['="Gamma"', None, None, None, None, None, None])  # a row of formulas only, past the used range
    wb.save(path)  # openpyxl keeps formulas and writes no value for them
    return path


def test_formula_cells_without_a_saved_value_are_flagged_never_silently_blank(tmp_path, cb):
    (tmp_path / "raw").mkdir()
    _formula_workbook(tmp_path / "raw" / "formule.xlsx")
    result = ingest(tmp_path / "raw", cb)
    flagged = result.cell_issues[result.cell_issues["reason"] == "formula_without_value"]
    assert list(zip(flagged["source_row"], flagged["column"], flagged["value"], strict=True)) == [
        (2, "Cybersecurity industriale", "=2+3"), (2, "Numero di dipendenti", "=SUM(A1:A2)"),
        (4, "Ragione sociale", '="Gamma"')]
    totals = result.summary["totals"]
    assert totals["rows_read"] == 3 and totals["rejected_by_reason"]["missing_identity"] == 1
    alfa = result.responses.set_index("ragione_sociale").loc["Alfa"]
    assert str(alfa["bisogno_cybersecurity"]) == "<NA>" and str(alfa["dipendenti"]) == "<NA>"


@pytest.mark.parametrize("chunk", [64, 1000, 1 << 22])
def test_the_sheet_scan_streams_and_cuts_at_row_ends_whatever_the_piece_size(tmp_path, monkeypatch, chunk):
    path = _formula_workbook(tmp_path / "f.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    for r in range(2, 200):
        ws.cell(r + 3, 3, 0.25).number_format = "0%"
    wb.save(path)
    monkeypatch.setattr(workbooks, "CHUNK", chunk)
    found = workbooks._xlsx_scan(path, "Risposte")
    assert set(found.formulas) == {(1, 5), (1, 6), (3, 0)}
    assert found.percent == {2: set(range(4, 202))}


def _survey_rows(dates):
    rows = [["Timestamp", "Ragione sociale", "Partita IVA", "Gruppo merceologico", "Codice ATECO", *NEEDS]]
    for i, d in enumerate(dates):
        rows.append([d, f"Impresa {i}", VATS[i], MECC, "25", 4, 3])
    return rows


def test_microsoft_forms_us_dates_in_an_english_export_are_month_first_even_when_ambiguous(tmp_path, cb):
    rows = _survey_rows(["9/1/2024 11:27", "10/2/2024 9:05", "12/11/2024 18:40"])
    rows[0][0] = "Completion time"
    write_csv_file(tmp_path / "raw" / "ms.csv", rows)
    result = ingest(tmp_path / "raw", cb)
    dates = sorted(result.responses["data_compilazione"].dt.strftime("%Y-%m-%d"))
    assert dates == ["2024-09-01", "2024-10-02", "2024-12-11"]
    [sheet] = result.summary["files"][0]["sheets"]
    assert sheet["date_readings"] == {"Completion time": "mese/giorno (ambigua: file esportato da un modulo in inglese)"}


def test_an_ambiguous_column_of_an_italian_file_is_day_first_and_says_so(tmp_path, cb):
    rows = _survey_rows(["09/01/2024", "10/02/2024"])
    rows[0][0] = "Data di compilazione"
    write_csv_file(tmp_path / "raw" / "it.csv", rows, delimiter=";")
    result = ingest(tmp_path / "raw", cb)
    assert sorted(result.responses["data_compilazione"].dt.strftime("%Y-%m-%d")) == ["2024-01-09", "2024-02-10"]
    assert "giorno/mese (ambigua" in result.summary["files"][0]["sheets"][0]["date_readings"]["Data di compilazione"]


def test_a_column_that_fits_one_reading_takes_it_in_any_file(tmp_path, cb):
    write_csv_file(tmp_path / "raw" / "a.csv", _survey_rows(["9/1/2024 11:27", "9/25/2024 10:00"]))
    result = ingest(tmp_path / "raw", cb)
    assert sorted(result.responses["data_compilazione"].dt.strftime("%m-%d")) == ["09-01", "09-25"]
    assert result.cell_issues.empty


def test_google_forms_csv_download_dates_read_on_every_row(tmp_path, cb):
    write_csv_file(tmp_path / "raw" / "g.csv", _survey_rows(["2026/10/30 3:08:44 PM GMT+1", "2026/11/02 9:01:02 AM CET",
                                                           "2026/11/03 12:30:00 AM GMT"]))
    result = ingest(tmp_path / "raw", cb)
    assert result.cell_issues.empty
    assert sorted(result.responses["data_compilazione"].astype(str)) == [
        "2026-10-30 15:08:44", "2026-11-02 09:01:02", "2026-11-03 00:30:00"]


def test_date_reading_rules():
    assert date_reading(["13/01/2024", "01/02/2024"]) == (False, "giorno/mese (l'unica lettura possibile)")
    assert date_reading(["01/13/2024"])[0] is True
    assert date_reading(["01/02/2024 3:00 PM"])[0] is True  # AM/PM: an English export
    assert date_reading(["13/01/2024", "01/13/2024", "14/01/2024"])[0] is False  # the reading more cells fit
    assert parse_date("2026/10/30 3:08:44 PM GMT+1").value.when.hour == 15


def _xls_with_filepass(path, verifier):
    """An .xls whose workbook stream starts with an XOR-obfuscation FILEPASS record (as Excel 97-2003 writes
    one when it encrypts a workbook)."""
    import struct

    import xlwt
    from xlwt.CompoundDoc import XlsDoc

    wb = xlwt.Workbook()
    wb.add_sheet("Risposte").write(0, 0, "Ragione sociale")
    stream = wb.get_biff_data()
    _, length = struct.unpack_from("<HH", stream, 0)
    record = struct.pack("<HHHHH", 0x2F, 6, 0, 0x1234, verifier)
    XlsDoc().save(str(path), stream[:4 + length] + record + stream[4 + length:])
    return path


def test_xor_encrypted_xls_is_named_with_or_without_a_real_password(tmp_path, cb):
    from analysis.workbooks import _xor_verifier

    raw = tmp_path / "raw"
    raw.mkdir()
    _xls_with_filepass(raw / "predefinita.xls", _xor_verifier("VelvetSweatshop"))
    _xls_with_filepass(raw / "segreta.xls", _xor_verifier("segreto"))
    reasons = {f["file"]: f["reason"] for f in ingest(raw, cb).summary["files"]}
    assert "senza una vera password" in reasons["predefinita.xls"] and "XOR" in reasons["predefinita.xls"]
    assert reasons["segreta.xls"].startswith("protetto da password (cifratura XOR")


def test_an_xlsm_with_an_excel_4_macro_sheet_reads_its_worksheets(tmp_path, cb):
    import re
    import zipfile

    from conftest import write_xlsx

    plain = write_xlsx(tmp_path / "plain.xlsx", {"Risposte": _survey_rows(["01/02/2024", "13/02/2024"])})
    raw = tmp_path / "raw"
    raw.mkdir()
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(raw / "macro.xlsm", "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.microsoft.'
                                    b'com/office/2006/relationships/xlMacrosheet" Target="macrosheets/sheet9.xml"/>'
                                    b"</Relationships>")
            if item.filename == "xl/workbook.xml":
                data = re.sub(rb"(<sheet [^>]*/>)", rb'\1<sheet name="Macro1" sheetId="9" r:id="rId99"/>', data, count=1)
            zout.writestr(item, data)
        zout.writestr("xl/macrosheets/sheet9.xml", b'<?xml version="1.0"?><xm:macrosheet xmlns="http://schemas.'
                      b'openxmlformats.org/spreadsheetml/2006/main" xmlns:xm="http://schemas.microsoft.com/office/'
                      b'excel/2006/main"><sheetData/></xm:macrosheet>')
    result = ingest(raw, cb)
    [entry] = result.summary["files"]
    assert entry["status"] == "read" and result.accepted == 2
    assert {"sheet": "Macro1", "reason": "foglio macro di Excel 4 (non è un foglio di dati)"} in entry["sheets_not_matched"]


def _rewrite_sheet(src, dst, change):
    import zipfile

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            zout.writestr(item.filename, change(item.filename, data))
    return dst


def test_excel_errors_header_formulas_and_odd_cell_spellings_are_never_silent(tmp_path, cb):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Risposte"
    ws.append(["Ragione sociale", "Partita IVA", "Gruppo merceologico", "Codice ATECO", *NEEDS, '=CONCAT("Dip","enti")'])
    ws.append(["Alfa", VATS[0], MECC, "25", 4, "#N/A", 12])
    ws.append(["Beta", VATS[1], MECC, "25", 3, "=1/0", 12])
    wb.save(tmp_path / "base.xlsx")
    raw = tmp_path / "raw"
    raw.mkdir()
    # A writer that breaks the cell tag over two lines (valid XML).
    _rewrite_sheet(tmp_path / "base.xlsx", raw / "e.xlsx",
                   lambda n, d: d.replace(b'<c r="F3"', b'<c\n r="F3"') if n.endswith("sheet1.xml") else d)
    result = ingest(raw, cb)
    flagged = result.cell_issues.set_index("source_row")
    assert flagged.loc[2, "reason"] == "excel_error" and flagged.loc[2, "value"] == "#N/A"
    assert flagged.loc[3, "reason"] == "formula_without_value" and flagged.loc[3, "value"] == "=1/0"
    [sheet] = result.summary["files"][0]["sheets"]
    assert any("G1" in note and "formula" in note for note in sheet["notes"])


def test_a_stray_formula_far_below_and_a_huge_csv_row_cost_nothing(tmp_path, cb):
    raw = tmp_path / "raw"
    raw.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Risposte"
    ws.append(["Ragione sociale", "Partita IVA", "Gruppo merceologico", "Codice ATECO", *NEEDS])
    ws.append(["Alfa", VATS[5], MECC, "25", 4, 5])
    ws["E1048576"] = "=1+1"  # a formula without a value, a million rows down, in a matched column
    wb.save(tmp_path / "lontana.xlsx")
    # Without the declared used range (which the guard would refuse), as some writers save it.
    _rewrite_sheet(tmp_path / "lontana.xlsx", raw / "lontana.xlsx",
                   lambda n, d: re.sub(rb"<dimension [^>]*/>", b"", d) if n.endswith("sheet1.xml") else d)
    rows = _survey_rows(["01/02/2024"])
    rows[1] += [""] * 1_000_000  # one row of a million empty fields
    write_csv_file(raw / "larga.csv", rows)
    result = ingest(raw, cb)
    files = {f["file"]: f for f in result.summary["files"]}
    assert files["lontana.xlsx"]["sheets"][0]["rows_read"] == 1
    assert any("E1048576" in n for n in files["lontana.xlsx"]["sheets"][0]["notes"])
    assert files["larga.csv"]["status"] == "read" and result.accepted == 2


def test_a_sheet_beyond_the_cell_limit_is_left_out_before_its_cells_are_converted(tmp_path, cb):
    from analysis.isolation import Limits

    raw = tmp_path / "raw"
    raw.mkdir()
    write_csv_file(raw / "grande.csv", _survey_rows(["01/02/2024"] * 3))
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in _survey_rows(["01/02/2024"] * 3):
        ws.append(row)
    wb.save(raw / "grande.xlsx")
    result = ingest(raw, cb, limits=Limits(cells=10))
    reasons = {f["file"]: f.get("reason", "") for f in result.summary["files"]}
    assert all("lettura.celle_massime" in r for r in reasons.values()), reasons


def test_reasons_are_one_line_and_never_quote_the_cell_a_parser_choked_on(tmp_path, cb):
    raw = tmp_path / "raw"
    raw.mkdir()
    wb = openpyxl.Workbook()
    wb.active.append(["Ragione sociale", "x"])
    wb.active.append(["Alfa", True])
    wb.save(tmp_path / "b.xlsx")
    _rewrite_sheet(tmp_path / "b.xlsx", raw / "bool.xlsx",
                   lambda n, d: re.sub(rb'(<c r="B2" t="b"><v>)1(</v>)', rb"\1Mario Rossi mario.rossi@example.it\2", d)
                   if n.endswith("sheet1.xml") else d)
    result = ingest(raw, cb)
    reason = result.summary["files"][0].get("reason") or ""
    assert "\n" not in reason and "mario" not in reason.lower()


def test_two_digit_years_read_as_python_does():
    assert parse_date("1/2/99").value.when.year == 1999
    assert parse_date("1/2/26").value.when.year == 2026


def test_strict_open_xml_percent_cells_are_scaled(tmp_path, cb):
    from analysis.workbooks import _xlsx_percent_styles

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = 0.35
    ws["A1"].number_format = "0%"
    wb.save(tmp_path / "t.xlsx")
    strict = _rewrite_sheet(tmp_path / "t.xlsx", tmp_path / "s.xlsx", lambda n, d: d.replace(
        b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", b"http://purl.oclc.org/ooxml/spreadsheetml/main")
        .replace(b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
                 b"http://purl.oclc.org/ooxml/officeDocument/relationships"))
    import zipfile

    with zipfile.ZipFile(strict) as z:
        assert _xlsx_percent_styles(z)  # the percent style is found whatever the namespace
    found = workbooks._xlsx_scan(strict, "Sheet")
    assert found.percent == {0: {0}}
