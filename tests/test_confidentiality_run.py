"""The whole pipeline on a survey full of personal data and names without consent: none of it may appear
anywhere under the reports folder (HTML, executed notebooks, figures rendered as SVG, manifest, any file)."""

import base64
import html
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
SECRET, PAIR = "codiceriservato", "partnercoppia"  # words one company, or two, use in its challenge


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
            # A word of this company alone, one it shares with one other company, and words many share.
            ws.cell(row, challenge_col).value = (f"Secondo l'ing. {PLANTED} ({referente}) serve un forno nuovo per "
                                                 f"il progetto {SECRET}{row:04d} con i {PAIR}{row // 2:04d}.")
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
def test_no_challenge_text_of_a_company_without_consent_reaches_the_board_folder(planted_run):
    """The challenges are read for themes (issue 18): the board sees a theme's words only when 3 or more
    companies use them, never a text, a word of one or two companies, or a name."""
    root, survey = planted_run
    text = _reports_text(root).lower()
    said = pd.read_csv(root / "out" / "processed" / "challenge_themes.csv")
    assert len(said), "no challenge read"
    consent = survey["Consenso a essere citati nei report"].fillna("").str.strip().str.lower().isin(["sì", "si"])
    hidden = survey.loc[~consent, "Principale sfida tecnologica"].dropna()
    assert len(hidden) > 10
    assert SECRET not in text and PAIR not in text
    # The analysts do read those texts, so the search above looks for words that exist.
    analysts = pd.read_excel(root / "out" / "processed" / "results.xlsx", sheet_name="Temi delle sfide", dtype=str)
    assert analysts["sfida_principale"].str.contains(SECRET).sum() > 10
    assert not [t for t in hidden if t.lower() in text or t.split(" serve ")[1].lower() in text]


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


# --------------------------------------------------------------------------
# Hostile text: HTML, script, Markdown and control characters in every text field that can reach a report

HOSTILE = [
    "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">",
    "</table><h1>titolo-ostile</h1>",
    "<script>document.body.setAttribute('data-pwned','2')</script>",
    "[clicca](http://evil.example/x) **grassetto-ostile**",
    "Ditta\x07 Campanello\x1b[31m Rossa",
    "$x^2$ _corsivo_ `codice` # titolo",
]
HOSTILE_FILE = "<b onmouseover=alert(1)>Officina & figli.csv"  # a file name cannot hold "/"


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """A survey whose consenting companies all carry hostile names (one consenting company has a VAT number and
    no name), read from a CSV whose file name is HTML, with a startup list of hostile names."""
    root = tmp_path_factory.mktemp("hostile")
    sample = root / "sample.xlsx"
    write_sample(sample, companies=90, seed=11)
    survey = pd.read_excel(sample, sheet_name=RESPONSES_SHEET, header=HEADER_ROW - 1, engine="calamine", dtype=str)
    consent = survey["Consenso a essere citati nei report"].fillna("").str.strip().str.lower().isin(["sì", "si"])
    rows = survey.index[consent]
    for n, i in enumerate(rows):
        survey.at[i, "Ragione sociale"] = f"{HOSTILE[n % len(HOSTILE)]} {n}"
        survey.at[i, "Principale sfida tecnologica"] = HOSTILE[(n + 1) % len(HOSTILE)]
    nameless = rows[0]
    survey.at[nameless, "Ragione sociale"] = None
    (root / "raw").mkdir()
    survey.to_csv(root / "raw" / HOSTILE_FILE, index=False)
    startups = root / "startups.xlsx"
    wb = load_workbook(SAMPLE_STARTUPS_DIR / "startups_sample.xlsx")
    ws = wb.worksheets[0]
    for n, row in enumerate(range(3, ws.max_row + 1)):
        ws.cell(row, 1).value = f"{HOSTILE[n % 4]} {n}"  # openpyxl refuses control characters: the first four
    wb.save(startups)
    proc = subprocess.run([sys.executable, "-m", "analysis", "run", "--raw", str(root / "raw"), "--out",
                           str(root / "out"), "--wave", "ostile", "--startups", str(startups)],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root, survey, nameless, proc


@pytest.mark.slow
def test_hostile_text_never_reaches_the_terminal_raw_and_no_vat_number_or_file_name_reaches_the_board(hostile_run):
    root, survey, nameless, proc = hostile_run
    assert "\x07" not in proc.stdout + proc.stderr and "\x1b" not in proc.stdout + proc.stderr
    text = _reports_text(root)
    vats = {re.sub(r"\D", "", v) for v in survey["Partita IVA"].dropna()}
    assert not [v for v in vats if len(v) >= 9 and v.zfill(11) in text]
    assert "Officina" not in text  # raw file names stay with the analysts
    responses = pd.read_parquet(root / "out" / "processed" / "responses.parquet")
    vat = re.sub(r"\D", "", survey.at[nameless, "Partita IVA"]).zfill(11)
    row = responses.loc[responses["partita_iva"] == vat]
    assert len(row) == 1 and row["consenso_nominativo"].item() and row["ragione_sociale"].isna().item()


def _dom(path, tmp_path) -> str:
    from test_browser import BROWSER, FLAGS

    if BROWSER is None:
        pytest.skip("chromium is not installed")
    proc = subprocess.run([BROWSER, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", path.as_uri()],
                          capture_output=True, text=True, timeout=180)
    assert proc.stdout, proc.stderr[-2000:]
    return proc.stdout


class _Elements:
    """Every element of a DOM with its attributes and text (Python's own HTML parser)."""

    def __init__(self, dom: str):
        from html.parser import HTMLParser

        self.elements, self.text = [], []
        outer = self

        class Parser(HTMLParser):
            def handle_starttag(self, tag, attrs):
                outer.elements.append((tag, dict(attrs), []))

            def handle_data(self, data):
                outer.text.append(data)
                if outer.elements:
                    outer.elements[-1][2].append(data)

        Parser(convert_charrefs=True).feed(dom)

    def find(self, tag=None, **attrs):
        return [(t, a, "".join(x)) for t, a, x in self.elements
                if (tag is None or t == tag) and all(a.get(k) == v for k, v in attrs.items())]


def _assert_nothing_from_the_data_is_markup(dom: str):
    page = _Elements(dom)
    body = page.find("body")
    assert body and "data-pwned" not in body[0][1], "a script from the data ran"
    assert not [a for _, a, _ in page.find() if any(k.startswith("on") for k in a)], "an event handler attribute"
    assert not page.find("img", src="x") and not [x for t, _, x in page.find() if t == "h1" and "titolo-ostile" in x]
    assert not [a for t, a, _ in page.find() if t == "a" and "evil.example" in (a.get("href") or "")]
    assert not [x for t, _, x in page.find() if t in ("b", "strong", "em", "i", "code")
                and x.startswith(("grassetto-ostile", "corsivo", "codice", "Officina"))]
    assert not [x for t, _, x in page.find() if t == "script" and "data-pwned" in x]
    return "".join(page.text)


@pytest.mark.slow
def test_board_report_in_chromium_holds_no_element_from_the_data_and_shows_it_as_text(hostile_run, tmp_path):
    root, *_ = hostile_run
    text = _assert_nothing_from_the_data_is_markup(
        _dom(root / "out" / "reports" / "ostile" / "rapporto_consiglio.html", tmp_path))
    # The names are there, as the characters they are.
    assert "<img src=x onerror=" in text or "</table><h1>titolo-ostile</h1>" in text or "<script>" in text
    assert "[clicca](http://evil.example/x)" in text or "**grassetto-ostile**" in text


@pytest.mark.slow
def test_analyst_notebooks_in_chromium_hold_no_element_from_the_data(hostile_run, tmp_path):
    from analysis.paths import NOTEBOOKS
    from analysis.render import Kernel, export_html

    root, *_ = hostile_run
    processed = root / "out" / "processed"
    with Kernel() as kernel:
        for name in ("01_qualita_dati", "04_champion", "05_startup"):
            nb = kernel.run(NOTEBOOKS / f"{name}.ipynb", {"processed_dir": str(processed), "audience": "analyst",
                                                          "wave": "<b>ostile</b>"})
            html = export_html(nb, tmp_path / f"{name}.html")
            text = _assert_nothing_from_the_data_is_markup(_dom(html, tmp_path))
            assert "VISTA ANALISTA" in text
            if name == "01_qualita_dati":
                assert HOSTILE_FILE in text  # analysts see the file's name, as text
            if name == "04_champion":
                assert "␇" in text or "$x^2$" in text or "<img src=x" in text or "**grassetto" in text


@pytest.mark.slow
def test_figure_numbers_are_in_italian_form(planted_run):
    """Issue 15: read the text of every board figure (SVG): numbers on axes and colour bars use the decimal comma,
    and no number is a negative zero."""
    root, _ = planted_run
    text = "\n".join(p.read_text("utf-8") for p in (root / "out" / "reports").rglob("*.html"))
    figures = [base64.b64decode(m).decode("utf-8") for m in re.findall(r'data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"',
                                                                      text)]
    assert len(figures) >= 10
    labels = [html.unescape(t).strip() for svg in figures for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    numbers = [t for t in labels if re.fullmatch(r"[-−]?[\d.,]+%?\*?", t)]
    assert len(numbers) > 50
    english = [t for t in numbers if re.search(r"\d\.\d{1,2}(?!\d)", t)]
    negative_zero = [t for t in numbers if re.fullmatch(r"[-−]0([,.]0+)?%?", t)]
    assert not english and not negative_zero, (english[:10], negative_zero[:10])


def test_every_board_figure_passes_through_the_italian_number_rule():
    import inspect

    import matplotlib
    import matplotlib.pyplot as plt

    from analysis import figures
    from analysis.reporting import italian_ticks

    helpers = {"annotate_points", "block_order", "italian"}
    public = [f for name, f in inspect.getmembers(figures, inspect.isfunction)
              if f.__module__ == figures.__name__ and not name.startswith("_") and name not in helpers]
    assert public and all(hasattr(f, "__wrapped__") for f in public), [f.__name__ for f in public
                                                                       if not hasattr(f, "__wrapped__")]
    matplotlib.use("Agg")
    fig, (ax, other) = plt.subplots(1, 2)
    ax.plot([0, 0.325], [-0.04, 1500])
    image = other.imshow([[0.0, 4.5], [1.0, 2.0]])
    fig.colorbar(image)
    italian_ticks(fig)
    fig.canvas.draw()
    shown = [t.get_text() for a in fig.get_axes() for t in a.get_xticklabels() + a.get_yticklabels()]
    assert "0,30" in shown or "0,3" in shown
    assert "1.000" in shown and "4,5" in shown
    assert not [t for t in shown if re.search(r"\d\.\d{1,2}(?!\d)", t) or t in ("-0", "−0", "-0,0")]
    plt.close(fig)


@pytest.mark.slow
def test_every_figure_says_in_italian_what_it_shows(planted_run):
    """Issue 15: no English placeholder; each image's alternative text names the figure's title and axes."""
    root, _ = planted_run
    for page in (root / "out" / "reports").rglob("*.html"):
        text = page.read_text("utf-8")
        images = re.findall(r"<img\b[^>]*>", text)
        alts = [html.unescape(m) for img in images for m in re.findall(r'\balt="([^"]*)"', img)]
        assert len(alts) == len(images), page.name
        assert "No description" not in text, page.name
        assert all(a.startswith("Grafico") for a in alts), page.name
        assert sum(len(a) > 40 for a in alts) >= len(alts) - 1, (page.name, alts)


def test_point_labels_never_overlap_and_stay_inside_the_axes():
    """Issue 15 ('no overlapping labels'): 17 bubbles packed in a small corner, as the needs-and-maturity figure
    draws them on the sample; every label lands inside the axes, clear of the other labels and of the legend."""
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np
    from matplotlib.text import Annotation, Text

    from analysis import figures
    from analysis.codebook import load_codebook
    from analysis.disclosure import Gate
    from analysis.reporting import setup_plots

    cb = load_codebook()
    setup_plots()
    rng = np.random.default_rng(4)
    gap = pd.DataFrame({"need": cb.need_keys, "maturity_high": rng.uniform(8, 16, len(cb.need_keys)),
                        "intensity": rng.uniform(34, 45, len(cb.need_keys)),
                        "n_high": rng.integers(40, 90, len(cb.need_keys))})
    fig = figures.need_gap(gap, cb, Gate())
    fig.canvas.draw()
    renderer, ax = fig.canvas.get_renderer(), fig.axes[0]
    boxes = [Text.get_window_extent(t, renderer) for t in ax.texts if isinstance(t, Annotation)]
    frame, legend = ax.get_window_extent(renderer), ax.get_legend().get_window_extent(renderer)
    assert len(boxes) == len(cb.need_keys)
    assert not [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])]
    assert all(b.x0 >= frame.x0 and b.x1 <= frame.x1 and b.y0 >= frame.y0 and b.y1 <= frame.y1 for b in boxes)
    assert not any(b.overlaps(legend) for b in boxes)
