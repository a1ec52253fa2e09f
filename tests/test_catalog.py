"""The catalog: the one place that names outputs; schemas checked on write and read; sets checked whole."""

import ast
import json
import re

import pandas as pd
import pytest

from analysis import catalog
from analysis.catalog import OutputError
from analysis.errors import IncompleteSet
from analysis.paths import NOTEBOOKS, PROJECT_ROOT


def _code_strings(path):
    """Every string literal of a module that is not a docstring (docstrings and comments may mention files)."""
    tree = ast.parse(path.read_text("utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings]


def test_no_other_module_or_notebook_spells_an_output_file_name():
    names = [d.file for d in catalog.DATASETS] + [catalog.RUN_MANIFEST, catalog.BOARD_REPORT, catalog.KEY_FILE,
                                                  catalog.EXECUTED_NOTEBOOKS]
    pattern = re.compile("|".join(re.escape(n) for n in names))
    offenders = [f"{path.name}:{line}: {text!r}"
                 for path in [*(PROJECT_ROOT / "src" / "analysis").glob("*.py"), *NOTEBOOKS.glob("*.py")]
                 if path.name != "catalog.py"
                 for line, text in _code_strings(path) if pattern.search(text)]
    assert not offenders, "\n".join(offenders)


def test_the_docs_page_lists_every_output():
    page = (PROJECT_ROOT / "docs" / "contratto-dati.md").read_text("utf-8")
    assert catalog.reference_table() in page, "docs/contratto-dati.md: regenerate the outputs table"


def test_a_table_that_breaks_its_schema_is_refused_on_write_and_on_read(tmp_path, cb):
    good = pd.DataFrame({"scope": ["tutte"], "need": [cb.need_keys[0]], "score": [50.0], "rank": [1]})
    catalog.write("priorities", good, tmp_path, cb)
    pd.testing.assert_frame_equal(catalog.read("priorities", tmp_path, cb), good, check_dtype=False)
    with pytest.raises(OutputError, match="priorities.csv"):
        catalog.write("priorities", good.assign(score=[150.0]), tmp_path, cb)
    with pytest.raises(OutputError):
        catalog.write("priorities", good.assign(need=["bisogno_inventato"]), tmp_path, cb)
    with pytest.raises(OutputError):
        catalog.write("segments", pd.DataFrame({"company_id": ["a", "a"], "segment": ["S", "S"]}), tmp_path, cb)
    catalog.path("priorities", tmp_path).write_text("scope,need,score,rank\ntutte,bisogno_robotica,50,zero\n")
    with pytest.raises(OutputError, match="in lettura"):
        catalog.read("priorities", tmp_path, cb)
    with pytest.raises(OutputError, match="segmentation.json"):
        catalog.write("segmentation", {"method": "kmeans"}, tmp_path, cb)


def _set(folder, run_id="r1"):
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"company_id": ["a"], "segment": ["S"]}).to_csv(folder / "segments.csv", index=False)
    (folder / catalog.RUN_MANIFEST).write_text(json.dumps({"run_id": run_id, "outputs": catalog.listing(folder)}))


def test_check_set_refuses_anything_but_one_runs_complete_set(tmp_path):
    processed, board = tmp_path / "processed", tmp_path / "reports" / "w"
    _set(processed)
    _set(board)
    assert catalog.check_set(processed, board)["run_id"] == "r1"
    with pytest.raises(IncompleteSet, match="non ha prodotto priorities.csv"):
        catalog.check_set(processed, need=("priorities",))
    _set(board, "r2")
    with pytest.raises(IncompleteSet, match="insieme misto"):
        catalog.check_set(processed, board)
    (processed / "segments.csv").write_text("company_id,segment\nb,T\n")
    with pytest.raises(IncompleteSet, match="cambiato"):
        catalog.check_set(processed)
    (processed / "segments.csv").unlink()
    with pytest.raises(IncompleteSet, match="manca segments.csv"):
        catalog.check_set(processed)
    (processed / catalog.RUN_MANIFEST).unlink()
    with pytest.raises(IncompleteSet, match="non è l'insieme completo"):
        catalog.check_set(processed)


def test_the_needs_step_round_trips_through_the_catalog(cb, sample_processed, tmp_path):
    """What section 02 shows, read back from the outputs, equals what the step computed."""
    import shutil

    import numpy as np

    from analysis import steps
    from analysis.config import Config
    from analysis.reporting import load_processed

    processed, responses, _ = sample_processed
    folder = tmp_path / "processed"
    shutil.copytree(processed, folder)
    cfg = Config()
    result = steps.needs_step(responses, cb, cfg, steps.weights_step(responses, cb, cfg))
    for name, obj in steps.needs_outputs(result, responses).items():
        catalog.write(name, obj, folder, cb)
    manifest = json.loads((folder / catalog.RUN_MANIFEST).read_text())
    (folder / catalog.RUN_MANIFEST).write_text(json.dumps({**manifest, "outputs": catalog.listing(folder)}))
    back = steps.restore_needs(load_processed(folder))
    pd.testing.assert_frame_equal(back.summary, result.summary, check_dtype=False)
    pd.testing.assert_frame_equal(back.comparison, result.comparison, check_dtype=False)
    pd.testing.assert_frame_equal(back.gap.fillna({"dimension": ""}), result.gap, check_dtype=False)
    pd.testing.assert_frame_equal(back.by_sector, result.by_sector, check_dtype=False, check_names=False,
                                  check_index_type=False, check_column_type=False)
    pd.testing.assert_frame_equal(back.scores, result.scores, check_dtype=False)
    assert back.families.order == result.families.order
    assert np.allclose(back.families.correlation.to_numpy(), result.families.correlation.to_numpy())
    assert back.weighting.weights.tolist() == result.weighting.weights.tolist()


def test_json_outputs_are_checked_for_types_and_shapes(tmp_path, cb):
    seg = {"method": "kmeans", "seed": 1, "k": 2, "imputation": "sector_median", "with_maturity": False,
           "names": {"1": "A"}, "criteria": [], "reason": "x"}
    with pytest.raises(OutputError, match="uno per segmento"):
        catalog.write("segmentation", seg, tmp_path, cb)
    with pytest.raises(OutputError, match="seed di tipo str"):
        catalog.write("segmentation", {**seg, "seed": "1", "names": {"1": "A", "2": "B"}}, tmp_path, cb)
    fam = {"order": ["a", "b"], "threshold": 0.3, "family": {"a": 1, "b": 1}, "correlation": [[1, 0]],
           "linkage": [[0, 1, 0.5, 2]]}
    with pytest.raises(OutputError, match="quadrata"):
        catalog.write("need_families", fam, tmp_path, cb)
    catalog.path("wave_comparison", tmp_path).write_text('{"previous_wave": "x"')
    with pytest.raises(IncompleteSet, match="JSON illeggibile"):
        catalog.read("wave_comparison", tmp_path, cb)


def test_an_empty_table_is_written_with_the_schema_types(cb, tmp_path):
    """From the hostile review: with no company willing to be a Champion the candidates table is empty, its
    columns untyped (object), and the run stopped on the schema; an empty column now takes the schema's type."""
    from analysis import schema

    ds = catalog.dataset("champion_candidates")
    columns = getattr(schema, f"{ds.schema}_schema")(cb).columns
    empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    assert catalog.write("champion_candidates", empty, tmp_path, cb).is_file()
    assert catalog.read("champion_candidates", tmp_path, cb).empty
