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
