"""Every notebook: paired with its jupytext file, committed without outputs, run top to bottom on small data."""

import json

import jupytext
import pytest

from analysis.paths import NOTEBOOKS
from analysis.pipeline import COMPARISON_SECTIONS
from analysis.render import declared_parameters, notebook_paths

NOTEBOOK_FILES = notebook_paths()


def test_there_are_numbered_notebooks():
    assert NOTEBOOK_FILES and NOTEBOOK_FILES[0].name.startswith("01_")


@pytest.mark.parametrize("nb", NOTEBOOK_FILES, ids=lambda p: p.name)
def test_notebook_is_output_free_and_in_sync_with_its_py_pair(nb):
    data = json.loads(nb.read_text())
    assert all(not c.get("outputs") and not c.get("execution_count") for c in data["cells"] if c["cell_type"] == "code")
    assert data["metadata"]["kernelspec"]["name"] == "python3"
    tagged = [c for c in data["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1 and data["cells"].index(tagged[0]) == 0
    pair = nb.with_suffix(".py")
    assert pair.is_file(), f"{pair.name} missing: run jupytext --sync"
    from_py = jupytext.read(pair)
    assert [c.source for c in from_py.cells] == [c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                                                 for c in data["cells"]], f"{nb.name} and {pair.name} differ"


@pytest.mark.parametrize("nb", NOTEBOOK_FILES, ids=lambda p: p.name)
def test_parameters_are_plain_literals_with_board_default(nb):
    params = declared_parameters(nb)
    assert params.get("audience") == "'board'" or params.get("audience") == '"board"'


@pytest.mark.slow
def test_run_executes_every_notebook_and_exports_html_without_code(small_run):
    root, proc = small_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    reports = root / "out" / "reports" / "test-wave"
    for nb in NOTEBOOK_FILES:
        if nb.stem in COMPARISON_SECTIONS:  # runs only with --compare-to (see test_waves)
            assert not (reports / nb.name).exists()
            continue
        html = (reports / nb.name).with_suffix(".html").read_text()
        if nb.stem not in ("01_qualita_dati", "05_startup"):  # for the board, text and tables (issue 15)
            assert "<img" in html and "data:image/png;base64" in html
        assert "import " not in html and "check_audience(" not in html  # no code
        assert "<script src=" not in html and "cdn." not in html  # nothing fetched from the internet
        assert "test-wave" in html
    board = json.loads((reports / "manifest.json").read_text())
    analyst = json.loads((root / "out" / "processed" / "manifest.json").read_text())
    assert board["run_id"] == analyst["run_id"]
    # The board manifest lists inputs by checksum only; names and the configuration stay with the analysts.
    assert board["inputs_sha256"] == [analyst["inputs"][0]["sha256"]] and "wave.xlsx" not in json.dumps(board)
    assert analyst["inputs"][0]["file"] == "wave.xlsx" and analyst["configuration"]["segmentazione.metodo"] == "kmeans"
    assert not list(reports.glob("*.ipynb"))  # executed notebooks are analyst material
    assert (root / "out" / "processed" / "notebook_eseguiti" / NOTEBOOK_FILES[0].name).is_file()
    assert (root / "out" / "processed" / "responses.parquet").is_file()
    for name in ("segments.csv", "priorities.csv", "champions.csv", "startup_matches.csv", "results.xlsx"):
        assert (root / "out" / "processed" / name).is_file(), name
    assert (reports / "rapporto_consiglio.html").is_file()
    assert "DATI DI ESEMPIO" not in (reports / NOTEBOOK_FILES[0].name).with_suffix(".html").read_text()


def test_notebooks_folder_holds_only_pairs():
    stray = [p.name for p in NOTEBOOKS.glob("*.ipynb") if p not in NOTEBOOK_FILES]
    assert not stray, f"notebooks not in the pipeline order: {stray}"


def test_the_board_html_has_nothing_a_cell_wrote_to_its_error_stream(tmp_path):
    """From the hostile review: a library warning (with the server's paths) was printed in the board report."""
    import nbformat

    from analysis import render

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text="/srv/x.py:1: UserWarning: Glyph missing"),
                    nbformat.v4.new_output("stream", name="stdout", text="visibile")]
    nb.cells = [nbformat.v4.new_markdown_cell("# Titolo"), cell]
    html = render.export_html(nb, tmp_path / "s.html").read_text("utf-8")
    assert "visibile" in html and "UserWarning" not in html and "/srv/" not in html
    assert nb.cells[1].outputs[0]["name"] == "stderr"  # the analysts' executed notebook keeps it
