"""Cases a shortcut would get wrong, file-level failures, corrections, raw files left untouched."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import catalog
from analysis.codebook import load_codebook
from analysis.ingest import ingest
from analysis.paths import PROJECT_ROOT
from analysis.pipeline import run_ingest_command
from conftest import VATS, write_csv_file, write_xlsx

MECC = "Meccaniche"
HEADER = ["Data di compilazione", "Ragione sociale", "Partita IVA", "Gruppo merceologico", "Codice ATECO",
          "Manutenzione predittiva", "Cybersecurity industriale"]
REAL_FILES = PROJECT_ROOT.parent / "shared" / "real-files"


def survey(path: Path, rows: list[list], sheet: str = "Risposte", **kw) -> Path:
    return write_xlsx(path, {sheet: [HEADER, *rows]}, **kw)


def test_two_headers_naming_one_field_leave_the_file_out_naming_both(tmp_path):
    write_xlsx(tmp_path / "raw" / "doppio.xlsx",
               {"R": [HEADER + ["Company name"], [None, "Alfa", VATS[0], MECC, "25", 4, 4, "Alfa bis"]]})
    survey(tmp_path / "raw" / "buono.xlsx", [[None, "Beta", VATS[1], MECC, "25", 4, 4]])
    result = ingest(tmp_path / "raw")
    left = {f["file"]: f for f in result.summary["files"]}["doppio.xlsx"]
    assert left["status"] == "left_out"
    assert "'Ragione sociale'" in left["reason"] and "'Company name'" in left["reason"]
    assert result.accepted == 1


def test_a_later_file_with_an_earlier_date_loses(tmp_path):
    survey(tmp_path / "raw" / "a.xlsx", [[datetime(2026, 10, 20, 10), "Alfa", VATS[0], MECC, "25", 5, 5]])
    survey(tmp_path / "raw" / "b.xlsx", [[datetime(2026, 10, 10, 10), "Alfa", VATS[0], MECC, "25", 1, 1]])
    result = ingest(tmp_path / "raw")
    assert result.responses.loc[0, "source_file"] == "a.xlsx"
    assert result.rejected.loc[0, "source_file"] == "b.xlsx" and result.rejected.loc[0, "reason"] == "duplicate"


def test_same_day_without_time_falls_back_to_the_later_path_then_row(tmp_path):
    survey(tmp_path / "raw" / "a.xlsx", [["20/10/2026", "Alfa", VATS[0], MECC, "25", 5, 5]])
    survey(tmp_path / "raw" / "b.xlsx", [[datetime(2026, 10, 20, 8), "Alfa", VATS[0], MECC, "25", 1, 1],
                                         [None, "Alfa", VATS[0], MECC, "25", 2, 2]])
    result = ingest(tmp_path / "raw")
    winner = result.responses.iloc[0]
    assert (winner["source_file"], winner["source_row"]) == ("b.xlsx", 2)  # undated row 3 loses to dated ones


def test_same_company_by_vat_and_by_name_only_is_one_company(tmp_path):
    survey(tmp_path / "raw" / "a.xlsx", [[datetime(2026, 10, 1), "Fonderia Rossi S.p.A.", VATS[0], MECC, "24", 3, 3],
                                         [datetime(2026, 10, 2), "FONDERIA ROSSI spa", None, MECC, "24", 4, 4],
                                         [datetime(2026, 10, 3), "Altro nome", f"IT{VATS[0]}", MECC, "24", 5, 5]])
    result = ingest(tmp_path / "raw")
    assert result.accepted == 1 and result.responses.loc[0, "source_row"] == 4
    assert list(result.rejected["reason"]) == ["duplicate", "duplicate"]


def test_latest_row_without_needs_keeps_the_earlier_answer(tmp_path):
    survey(tmp_path / "raw" / "a.xlsx", [[datetime(2026, 10, 1), "Alfa", VATS[0], MECC, "25", 4, 4],
                                         [datetime(2026, 10, 9), "Alfa", VATS[0], MECC, "25", None, "n.d."]])
    result = ingest(tmp_path / "raw")
    assert result.responses.loc[0, "source_row"] == 2
    assert result.rejected.loc[0, "reason"] == "no_needs"


def test_corrupt_fake_empty_and_second_sheet_workbooks(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "finto.xlsx").write_text("questo non è un foglio di calcolo")
    good = survey(tmp_path / "tmp.xlsx", [[None, "Alfa", VATS[0], MECC, "25", 4, 4]])
    data = good.read_bytes()
    (raw / "rotto.xlsx").write_bytes(data[: len(data) // 2])
    write_xlsx(raw / "vuoto.xlsx", {"Foglio1": []})
    write_xlsx(raw / "secondo.xlsx", {"Istruzioni": [["Compilare il foglio Risposte"]],
                                      "Risposte": [HEADER, [None, "Beta", VATS[1], MECC, "25", 4, 4]]})
    (raw / "vuoto.csv").write_bytes(b"")
    (raw / "~$secondo.xlsx").write_bytes(b"lock")
    (raw / ".nascosto.xlsx").write_bytes(b"x")
    (raw / "note.pdf").write_bytes(b"%PDF-1.4")
    result = ingest(raw)
    files = {f["file"]: f for f in result.summary["files"]}
    assert files["finto.xlsx"]["status"] == "left_out" and "non è un foglio di calcolo" in files["finto.xlsx"]["reason"]
    assert files["rotto.xlsx"]["status"] == "left_out"
    assert files["vuoto.xlsx"]["status"] == "left_out" and "nessun foglio" in files["vuoto.xlsx"]["reason"]
    assert files["vuoto.csv"]["status"] == "left_out"
    assert files["secondo.xlsx"]["status"] == "read"
    assert files["secondo.xlsx"]["sheets_not_matched"][0]["sheet"] == "Istruzioni"
    assert {i["file"] for i in result.summary["ignored_files"]} == {"~$secondo.xlsx", ".nascosto.xlsx", "note.pdf"}
    assert result.accepted == 1
    for f in result.summary["files"]:
        assert "\n" not in f.get("reason", "")


def test_password_protected_workbook_is_named_as_such(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    # Office stores an encrypted xlsx inside an OLE compound file.
    ole = bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 504 + b"EncryptedPackage" + b"\x00" * 1000
    (raw / "segreto.xlsx").write_bytes(ole)
    result = ingest(raw)
    assert "password" in result.summary["files"][0]["reason"]


@pytest.mark.parametrize("name", ["google-sheets-responses-favorite-pokemon.xlsx",
                                  "google-forms-export-alcohol-survey.csv"])
def test_real_files_from_other_tools_are_left_out_quickly(tmp_path, name):
    if not (REAL_FILES / name).is_file():
        pytest.skip(f"{REAL_FILES / name} not available")
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(REAL_FILES / name, raw / name)
    started = time.perf_counter()
    result = ingest(raw)
    elapsed = time.perf_counter() - started
    entry = result.summary["files"][0]
    assert entry["status"] == "left_out" and "nessun foglio" in entry["reason"]
    assert elapsed < 5.0, f"{name} took {elapsed:.2f} s"  # catches a read of the whole used range, not a benchmark


def test_corrections_fix_exclude_and_report_unmatched(tmp_path):
    survey(tmp_path / "raw" / "a.xlsx", [[None, "Alfa Srl", VATS[0], MECC, "25", 4, 4],
                                         [None, "Beta Srl", VATS[1], MECC, "25", 4, 4],
                                         [None, "Gamma Srl", None, MECC, "25", "boh", 2]])
    write_csv_file(tmp_path / "corr.csv", [
        ["azienda", "campo", "valore", "nota"],
        [VATS[0], "Cybersecurity industriale", "1", "telefonata"],
        ["Gamma S.r.l.", "gruppo_merceologico", "Fonderie", ""],
        ["Beta srl", "escludi", "", "ritirata"],
        ["Inesistente spa", "dipendenti", "3", ""],
        [VATS[0], "campo_che_non_esiste", "3", ""],
    ])
    result = ingest(tmp_path / "raw", corrections_path=tmp_path / "corr.csv")
    r = result.responses.set_index("ragione_sociale")
    assert r.loc["Alfa Srl", "bisogno_cybersecurity"] == 1
    assert r.loc["Gamma Srl", "gruppo_merceologico"] == "Metallurgiche, Siderurgiche e Fonderie"
    assert "Beta Srl" not in r.index
    beta = result.rejected[result.rejected["reason"] == "excluded"].iloc[0]
    assert beta["original"] == "{}" and "ritirata" in beta["message"]
    corr = result.summary["corrections"]
    assert len(corr["applied"]) == 3 and len(corr["not_applied"]) == 2
    assert {c["motivo"].split(":")[0] for c in corr["not_applied"]} == {"nessuna impresa corrispondente", "campo sconosciuto"}


def _checksums(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_raw_folder_is_unchanged_and_outputs_are_complete(tmp_path):
    raw = tmp_path / "raw"
    survey(raw / "a.xlsx", [[None, "Alfa", VATS[0], MECC, "25", 4, 4], [None, None, None, None, None, None, None]])
    write_csv_file(raw / "sub" / "b.csv", [HEADER, ["", "Beta", VATS[1], MECC, "25", "3", "x"]], delimiter=";")
    before = _checksums(raw)
    stat_before = {p: (raw / p).stat().st_mtime_ns for p in before}
    assert run_ingest_command(raw, tmp_path / "out") == 0
    assert _checksums(raw) == before
    assert {p: (raw / p).stat().st_mtime_ns for p in before} == stat_before
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["cell_issues.csv", "ingest_summary.json", "manifest.json", "rejected.csv", "responses.parquet"]
    manifest = catalog.check_set(tmp_path / "out", need=("responses",))
    assert manifest["accepted"] == 2 and [i["file"] for i in manifest["inputs"]] == ["a.xlsx", "sub/b.csv"]
    summary = json.loads((tmp_path / "out" / "ingest_summary.json").read_text())
    assert summary["totals"]["accepted"] == 2
    # Nothing else beside the set: no staging folder, no temporary file; the lock and key live apart.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".analysis-run", "out", "raw"]


# --------------------------------------------------------------------------
# Property-based: garbage in any cell never raises, and the balance holds.

cells = st.one_of(
    st.none(), st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12), st.integers(-10**12, 10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)),
    st.sampled_from(["Sì", "no", "4 - Molto rilevante", "n.d.", "50-249", "1.250,5", "IT 012", "25.62", "%", ";;"]),
)
FULL_HEADER = HEADER + ["Numero di dipendenti", "Quota export (%)", "Mercati di sbocco",
                        "Consenso a essere citati nei report", "Funzione R&S interna",
                        "Maturità: gestione dei dati", "Posizione nella filiera"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(cells, min_size=len(FULL_HEADER), max_size=len(FULL_HEADER)), min_size=1, max_size=8))
def test_garbage_never_raises_and_every_row_is_accounted_for(tmp_path_factory, rows):
    from analysis.schema import validate_responses

    raw = tmp_path_factory.mktemp("raw")
    write_xlsx(raw / "g.xlsx", {"R": [FULL_HEADER, *rows]})
    result = ingest(raw)
    for f in result.summary["files"]:
        for s in f["sheets"]:
            assert s["rows_read"] == s["accepted"] + sum(s["rejected"].values()) + s["empty"]
    validate_responses(result.responses, load_codebook())


def test_an_xlsx_zip_without_workbook_part_is_left_out(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    with zipfile.ZipFile(raw / "zip.xlsx", "w") as z:
        z.writestr("hello.txt", "hi")
    result = ingest(raw)
    assert result.summary["files"][0]["status"] == "left_out"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=12), st.integers(-5, 300), st.floats(allow_nan=True),
                          st.booleans(), st.sampled_from(["Sì", "no", "4 - Molto rilevante", "25.62", "1.250",
                                                          "35%", "12/03/2026", "IT01234567897"])), max_size=30))
def test_column_values_match_the_per_cell_results(cb, column):
    """The fast path (values and flagged cells only) says exactly what the per-cell results say."""
    from analysis.values import parse_column, parse_column_values

    for f in cb.fields:
        parsed = parse_column(column, f, cb)
        values, flagged = parse_column_values(column, f, cb)
        assert values == [p.value for p in parsed], f.key
        assert flagged == [(i, p) for i, p in enumerate(parsed) if p.reason is not None], f.key


def test_progress_bar_only_when_asked_or_on_a_terminal(cb, tmp_path, capsys):
    from analysis.sample import write_sample

    for k in range(4):
        write_sample(tmp_path / "raw" / f"f{k}.xlsx", companies=8, seed=k)
    ingest(tmp_path / "raw", cb, progress=True)
    assert "Lettura file" in capsys.readouterr().err
    ingest(tmp_path / "raw", cb)  # stderr is not a terminal under pytest: no bar
    assert "Lettura file" not in capsys.readouterr().err


def test_huge_numbers_and_control_characters_are_flagged_never_a_crash(tmp_path):
    """Employees of 2^63 and more (as a number, as text, with thousands dots) and a company name with control
    characters: the cells are flagged, the name is kept without them, every row is read, and the analyst
    workbook holds the flagged cells (a spreadsheet cannot hold control characters)."""
    header = HEADER + ["Numero di dipendenti"]
    write_xlsx(tmp_path / "raw" / "grandi.xlsx", {"Risposte": [header, [None, "Alfa", VATS[0], MECC, "25", 4, 4, 2.0 ** 63]]})
    # A spreadsheet cannot hold control characters; a CSV export can.
    write_csv_file(tmp_path / "raw" / "export.csv", [header, [None, "Beta", VATS[1], MECC, "25", 4, 4, "9223372036854775808"],
                                                     [None, "Gamma", VATS[2], MECC, "25", 4, 4, "100.000.000.000.000.000.000"],
                                                     [None, "Delta\x01\x07 S.r.l.", VATS[3], MECC, "25", 4, 4, 12]])
    result = ingest(tmp_path / "raw")
    assert len(result.responses) == 4
    issues = result.cell_issues
    assert (issues.loc[issues["field"] == "dipendenti", "reason"] == "out_of_range").sum() == 3
    named = issues[issues["reason"] == "control_characters"]
    assert len(named) == 1 and named["action"].iloc[0] == "kept"
    assert "Delta S.r.l." in set(result.responses["ragione_sociale"])
    assert result.responses["dipendenti"].isna().sum() == 3
    assert run_ingest_command(tmp_path / "raw", tmp_path / "processed") == 0
    from analysis import results_workbook

    results_workbook.build(tmp_path / "processed", load_codebook())
    assert (tmp_path / "processed" / "results.xlsx").stat().st_size > 0


def test_special_files_links_and_unreadable_folders_are_listed_not_lost(tmp_path, monkeypatch):
    """A pipe named like a survey (reading it would block), a link to a folder and a sub-folder that cannot be
    read are each listed with a reason; the survey beside them is read as when alone."""
    import os

    raw = tmp_path / "raw"
    survey(raw / "buono.xlsx", [[None, "Beta", VATS[1], MECC, "25", 4, 4]])
    os.mkfifo(raw / "risposte.csv")
    (tmp_path / "altrove").mkdir()
    os.symlink(tmp_path / "altrove", raw / "collegata")
    (raw / "chiusa").mkdir()
    survey(raw / "chiusa" / "dentro.xlsx", [[None, "Gamma", VATS[2], MECC, "25", 4, 4]])
    real_scandir = os.scandir

    def scandir(path="."):  # root reads every folder: make this one unreadable as for another user
        if str(path).endswith("chiusa"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = ingest(raw)
    reasons = {f["file"]: f["reason"] for f in result.summary["ignored_files"]}
    assert "pipe" in reasons["risposte.csv"]
    assert "cartella" in reasons["collegata"] and "non leggibile" in reasons["chiusa/"]
    assert list(result.responses["ragione_sociale"]) == ["Beta"]


def _csv_bytes(rows: list[list], delimiter: str = ",") -> str:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


CSV_HEADER = ["Ragione sociale", "Partita IVA", "Gruppo merceologico", "Codice ATECO", "Manutenzione predittiva",
              "Cybersecurity industriale", "Disponibilità a essere impresa Champion"]


def test_csv_encodings_delimiters_long_fields_and_nul_bytes(tmp_path):
    """A UTF-8 file with one stray cp1252 byte stays UTF-8 (only that cell is flagged, every 'Sì' is kept);
    UTF-16 and tab-separated files are read; a field over 131,072 characters is read; a stray NUL byte is
    handled the same at the start and at the end of a file."""
    rows = [[f"Impresa {i}", VATS[i], MECC, "25", 4, 4, "Sì"] for i in range(4)]
    text = _csv_bytes([CSV_HEADER, *rows])
    raw = tmp_path / "raw"
    raw.mkdir()
    stray = text.encode("utf-8").replace(b"Impresa 2", "Impresa \x922".encode("latin-1"))
    (raw / "stray.csv").write_bytes(stray)
    result = ingest(raw)
    assert list(result.responses["disponibilita_champion"]) == ["Sì"] * 4
    flagged = result.cell_issues[result.cell_issues["reason"] == "unreadable_characters"]
    assert len(flagged) == 1 and "Impresa 2" in set(result.responses["ragione_sociale"])
    for name, data in [("utf16.csv", text.encode("utf-16")), ("tab.csv", _csv_bytes([CSV_HEADER, *rows], "\t")
                                                                       .encode("utf-8")),
                       ("nul_start.csv", b"\x00" + text.encode("utf-8")),
                       ("nul_end.csv", text.encode("utf-8") + b"\x00")]:
        (raw / "stray.csv").unlink(missing_ok=True)
        for old in raw.iterdir():
            old.unlink()
        (raw / name).write_bytes(data)
        result = ingest(raw)
        assert list(result.responses["disponibilita_champion"]) == ["Sì"] * 4, name
    for old in raw.iterdir():
        old.unlink()
    long = [[*rows[0][:-1], "Sì"]]
    header = [*CSV_HEADER, "Sfida principale"]
    (raw / "lungo.csv").write_text(_csv_bytes([header, [*long[0], "x" * 200_000]]), "utf-8")
    result = ingest(raw)
    assert len(result.responses) == 1 and len(result.responses["sfida_principale"].iloc[0]) == 200_000


def test_survey_detection_and_headers_of_spec_v2(tmp_path):
    """Form metadata does not count towards a survey header and a need is required (a registration export
    with 'Azienda' is not a survey, and its reason names what its best row matched); LimeSurvey code headers
    (field keys, code[key] for array rows, submitdate) read back exactly; account header variants and
    Microsoft Forms Likert rows headed by the row label alone are recognised."""
    cb = load_codebook()
    raw = tmp_path / "raw"
    # Microsoft Forms metadata plus a company name: 1 counted field, no need.
    write_xlsx(raw / "registrazioni.xlsx", {"Foglio1": [["ID", "Start time", "Completion time", "Email", "Name",
                                                         "Azienda"], [1, None, None, "a@b.it", "Anna", "Alfa"]]})
    maturity = [f.it.split(": ", 1)[1] for f in cb.maturity if f.key != "maturita_dati"]
    write_xlsx(raw / "lime.xlsx", {"results": [
        ["id", "submitdate", "startdate", "datestamp", "ragione_sociale", "partita_iva", "gruppo_merceologico",
         "codice_ateco", "bisogno_robotica", "maturita[maturita_dati]", "Nome utente", "E-mail", *maturity],
        [7, "2026-10-01 10:00:00", None, None, "Beta", VATS[1], MECC, "25.62", 5, 3, "utente7", "x@y.it",
         *[2] * len(maturity)]]})
    result = ingest(raw)
    files = {f["file"]: f for f in result.summary["files"]}
    left = files["registrazioni.xlsx"]
    assert left["status"] == "left_out" and "'Azienda'" in left["reason"] and "senza contare" in left["reason"]
    assert files["lime.xlsx"]["status"] == "read"
    row = result.responses.iloc[0]
    assert row["ragione_sociale"] == "Beta" and row["bisogno_robotica"] == 5 and row["maturita_dati"] == 3
    assert row["email_rispondente"] == "x@y.it" and row["nome_rispondente"] == "utente7"
    assert all(row[f.key] == 2 for f in cb.maturity if f.key != "maturita_dati")


def test_a_workbook_under_another_extension_is_read_by_its_content(tmp_path):
    """An Excel 97-2003 workbook saved with an .xlsx name is read (it was called password protected), and an
    .xlsx named .xls too."""
    import xlwt

    raw = tmp_path / "raw"
    raw.mkdir()
    book = xlwt.Workbook()
    sheet = book.add_sheet("Risposte")
    for r, row in enumerate([HEADER, [None, "Alfa", VATS[0], MECC, "25", 4, 5]]):
        for c, v in enumerate(row):
            if v is not None:
                sheet.write(r, c, v)
    book.save(str(raw / "vecchio.xlsx"))
    survey(raw / "nuovo.xls", [[None, "Beta", VATS[1], MECC, "25", 4, 4]])
    result = ingest(raw)
    assert {f["file"]: f["status"] for f in result.summary["files"]} == {"nuovo.xls": "read", "vecchio.xlsx": "read"}
    assert sorted(result.responses["ragione_sociale"]) == ["Alfa", "Beta"]


def test_obsolete_and_unsupported_excel_formats_say_what_to_do(tmp_path):
    """An Excel 4 worksheet (BIFF4) is left out as obsolete, to be saved as .xlsx; an .xlsb file is listed as
    not read, to be saved as .xlsx; the survey beside them is read."""
    from analysis.quality import reason_in_words

    raw = tmp_path / "raw"
    survey(raw / "buono.xlsx", [[None, "Beta", VATS[1], MECC, "25", 4, 4]])
    (raw / "vecchio.xls").write_bytes(b"\x09\x04\x06\x00\x00\x00\x10\x00" + b"\x00" * 200)
    (raw / "binario.xlsb").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    result = ingest(raw)
    files = {f["file"]: f for f in result.summary["files"]}
    assert files["vecchio.xls"]["status"] == "left_out" and ".xlsx" in files["vecchio.xls"]["reason"]
    assert reason_in_words(files["vecchio.xls"]["reason"]).startswith("formato Excel obsoleto")
    ignored = {f["file"]: f["reason"] for f in result.summary["ignored_files"]}
    assert "xlsb" in ignored["binario.xlsb"] and ".xlsx" in ignored["binario.xlsb"]
    assert list(result.responses["ragione_sociale"]) == ["Beta"]
