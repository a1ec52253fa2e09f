"""The whole pipeline on a survey full of personal data and names without consent: none of it may appear
anywhere under the reports folder (HTML, executed notebooks, figures rendered as SVG, manifest, any file)."""

import base64
import re
import subprocess
import sys

import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis.paths import PROJECT_ROOT, SAMPLE_STARTUPS_DIR
from analysis.sample import write_sample
from analysis.template import HEADER_ROW, RESPONSES_SHEET

PLANTED = "Zanzottera"  # a person named in the challenge of companies without consent


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("confidential")
    raw = root / "raw" / "wave.xlsx"
    write_sample(raw, companies=120, seed=5)
    wb = load_workbook(raw)
    ws = wb[RESPONSES_SHEET]
    head = {c.value: c.column for c in ws[HEADER_ROW]}
    consent_col, challenge_col = head["Consenso a essere citati nei report"], head["Principale sfida tecnologica"]
    for row in range(HEADER_ROW + 1, ws.max_row + 1):
        if str(ws.cell(row, consent_col).value).strip().lower() not in ("sì", "si", "yes"):
            referente = ws.cell(row, head["Referente"]).value
            ws.cell(row, challenge_col).value = f"Secondo l'ing. {PLANTED} ({referente}) serve un forno nuovo."
    wb.save(raw)
    proc = subprocess.run([sys.executable, "-m", "analysis", "run", "--raw", str(root / "raw"), "--out",
                           str(root / "out"), "--wave", "riservata", "--startups", str(SAMPLE_STARTUPS_DIR),
                           "-p", "report.formato_figure", "svg"], capture_output=True, text=True, cwd=PROJECT_ROOT,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    survey = pd.read_excel(raw, sheet_name=RESPONSES_SHEET, header=HEADER_ROW - 1, engine="calamine", dtype=str)
    return root, survey


def _reports_text(root) -> str:
    """Every file under reports/, with the SVG figures the HTML embeds as base64 decoded, so their text is
    searched too."""
    files = [p for p in (root / "out" / "reports").rglob("*") if p.is_file()]
    assert files
    text = "\n".join(p.read_text("utf-8", errors="replace") for p in files)
    figures = [base64.b64decode(m).decode("utf-8") for m in re.findall(r'data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"',
                                                                      text)]
    return text + "\n".join(figures)


@pytest.mark.slow
def test_no_personal_data_nor_names_without_consent_under_reports(planted_run):
    root, survey = planted_run
    text = _reports_text(root)
    assert "<svg" in text and 'src="data:image/png' not in text  # figures rendered as SVG: their text is searched
    responses = pd.read_parquet(root / "out" / "processed" / "responses.parquet")
    named = set(responses.loc[responses["consenso_nominativo"].fillna(False), "ragione_sociale"])
    leaks = []
    for col in ("Referente", "Email referente"):
        leaks += [v for v in survey[col].dropna().unique() if v in text]
    leaks += [v for v in survey["Ragione sociale"].dropna().unique() if v not in named and v in text]
    vats = {re.sub(r"\D", "", v) for v in survey["Partita IVA"].dropna()}
    leaks += [v for v in vats if len(v) >= 9 and v.zfill(11) in text]
    leaks += [PLANTED] if PLANTED in text else []
    assert not leaks, f"found under reports/: {leaks[:10]}"
    assert "Impresa " in text  # pseudonyms stand in for the companies without consent
    assert any(name in text for name in named)  # the search does find names where they are allowed


@pytest.mark.slow
def test_board_report_has_the_summary_first_and_the_analysts_workbook_stays_outside(planted_run):
    root, _ = planted_run
    reports = root / "out" / "reports" / "riservata"
    board = (reports / "rapporto_consiglio.html").read_text("utf-8")
    assert board.index("Sintesi per il Consiglio") < board.index("Qualità dei dati del questionario")
    assert "riservata" in board and "import " not in board
    assert not list((root / "out" / "reports").rglob("*.xlsx")) and not list((root / "out" / "reports").rglob("*.key"))


def test_report_tables_show_text_from_the_data_as_text():
    """A company, startup or file named with HTML is shown as its characters, never as live markup."""
    from analysis.reporting import table

    hostile = ["<img src=x onerror=alert(1)>", "</table><h1>titolo</h1>", "<script>alert(1)</script>"]
    page = table(pd.DataFrame({"Champion": hostile, "<b>Colonna</b>": ["a & b", "1,5", "x"]}),
                 "Priorità: <i>nome</i>").to_html()
    for text in hostile + ["<b>Colonna</b>", "<i>nome</i>"]:
        assert text not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;script&gt;" in page and "a &amp; b" in page
