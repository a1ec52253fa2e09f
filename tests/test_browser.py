"""The board report seen in a real browser: headless Chromium renders it with its figures and no code, and a
screenshot is saved (``make test`` installs Debian's chromium when missing)."""

import shutil
import subprocess

import pytest

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.mark.slow
@pytest.mark.skipif(BROWSER is None, reason="chromium is not installed and could not be installed by `make test`")
def test_board_report_renders_in_chromium_with_figures_and_no_code(small_run, tmp_path):
    import matplotlib.image as mpimg
    import numpy as np

    root, proc = small_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = root / "out" / "reports" / "test-wave" / "rapporto_consiglio.html"
    common = [BROWSER, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*common, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=180).stdout
    assert "Sintesi per il Consiglio" in dom and "Le imprese Champion" in dom
    assert dom.count("<img") >= 8 and "import " not in dom
    assert 'class="highlight' not in dom and 'jp-CodeMirrorEditor' not in dom.split("</head>")[-1]  # no code
    shot = root / "board_report.png"
    subprocess.run([*common, "--window-size=1300,2400", f"--screenshot={shot}", report.as_uri()],
                   capture_output=True, timeout=180, cwd=tmp_path)
    image = mpimg.imread(shot)
    assert image.shape[0] == 2400 and image.shape[1] == 1300
    ink = (image[..., :3] < 0.6).any(axis=2)
    assert ink.mean() > 0.02  # text and figures were painted, not a blank page
    assert np.unique((image[..., :3] * 255).astype(int).reshape(-1, 3), axis=0).shape[0] > 50  # colours: figures
    print(f"screenshot: {shot}")


@pytest.mark.slow
@pytest.mark.skipif(BROWSER is None, reason="chromium is not installed and could not be installed by `make test`")
@pytest.mark.parametrize("width, media", [(1280, "screen"), (800, "screen"), ("print", "print")])
def test_no_table_or_figure_is_cut_at_1280_px_800_px_or_on_the_printed_page(small_run, width, media):
    """Issue 15: from the DOM, every table and figure fits the window (or the A4 page less its margins), none sits
    in a container that scrolls or hides it, and no text is smaller than 8 pt once printed."""
    from browser_dom import PRINT_WIDTH, Page

    root, proc = small_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = root / "out" / "reports" / "test-wave" / "rapporto_consiglio.html"
    px = PRINT_WIDTH if width == "print" else width
    with Page(report, px, media) as page:
        found = page.measure()
        page.screenshot(root / f"board_report_{width}.png")
    assert found["width"] <= px and not found["beyond"], found["beyond"][:5]
    assert not found["clipped"], found["clipped"][:5]
    smallest_pt = found["smallest"] * 72 / 96
    assert smallest_pt >= 8 - 1e-6, (smallest_pt, found["smallest_text"])
    assert len(found["figures"]) >= 8  # every figure says how small its text is
    if media == "print":  # on the page, the text inside the figures too
        small = [f for f in found["figures"] if f["pt"] < 8 - 0.05]
        assert not small, small[:5]


@pytest.mark.slow
@pytest.mark.skipif(BROWSER is None, reason="chromium is not installed and could not be installed by `make test`")
def test_the_run_prints_the_board_report_on_a4_with_the_wave_and_page_numbers(small_run):
    """Issue 15: the run writes rapporto_consiglio.pdf beside the HTML, A4, every page with the wave and 'pagina
    N di M'; its first pages are saved as PNG to look at."""
    import json
    import re

    import pypdfium2 as pdfium

    root, proc = small_run
    board = root / "out" / "reports" / "test-wave"
    manifest = json.loads((board / "manifest.json").read_text())
    assert manifest["pdf"] == {"file": "rapporto_consiglio.pdf", "printed": True}
    assert "rapporto_consiglio.pdf" in manifest["outputs"]
    pdf = pdfium.PdfDocument(board / "rapporto_consiglio.pdf")
    pages = len(pdf)
    assert pages >= 5
    for i in range(pages):
        width, height = pdf[i].get_size()
        assert abs(width - 595.3) < 2 and abs(height - 841.9) < 2  # A4 in points
        text = pdf[i].get_textpage().get_text_range()
        assert re.search(rf"pagina {i + 1} di {pages}\b", text) and "test-wave" in text, (i, text[-200:])
    for i in range(min(2, pages)):
        pdf[i].render(scale=1.5).to_pil().save(root / f"board_report_page{i + 1}.png")
    sections = [i for i in range(pages) if "Sintesi per il Consiglio" in pdf[i].get_textpage().get_text_range()]
    assert sections, "the summary is printed"
    print(f"PDF: {pages} pages; pictures in {root}")


@pytest.mark.slow
@pytest.mark.skipif(BROWSER is None, reason="chromium is not installed and could not be installed by `make test`")
def test_the_board_report_of_the_bundled_sample_prints_on_at_most_30_pages(tmp_path):
    """Issue 15: at most 30 A4 pages on the bundled sample (as `make report` runs it), the figures' text no smaller
    than 8 pt once printed (measured above on the small run)."""
    import subprocess
    import sys

    import pypdfium2 as pdfium

    from analysis.paths import PROJECT_ROOT, SAMPLE_STARTUPS_DIR, SAMPLE_SURVEY_DIR

    proc = subprocess.run([sys.executable, "-m", "analysis", "run", "--raw", str(SAMPLE_SURVEY_DIR), "--startups",
                           str(SAMPLE_STARTUPS_DIR), "--out", str(tmp_path / "out"), "--wave", "2026-12"],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    pages = len(pdfium.PdfDocument(tmp_path / "out" / "reports" / "2026-12" / "rapporto_consiglio.pdf"))
    assert 15 <= pages <= 30, pages
