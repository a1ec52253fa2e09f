import subprocess
import sys

import pytest

from analysis.cli import main
from analysis.paths import PROJECT_ROOT


@pytest.mark.parametrize("command", ["run", "ingest", "sample", "startups-sample", "template"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_ingest_of_a_missing_folder_is_one_line_on_stderr(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "analysis", "ingest", "--raw", str(tmp_path / "nope"),
                           "--processed", str(tmp_path / "p")], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1 and "nope" in proc.stderr


def test_ingest_with_no_accepted_answer_fails_after_writing_the_summary(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "note.txt").write_text("not a survey")
    (raw / "finto.xlsx").write_text("not a workbook either")
    proc = subprocess.run([sys.executable, "-m", "analysis", "ingest", "--raw", str(raw), "--processed",
                           str(tmp_path / "p")], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1
    for name in ("ingest_summary.json", "rejected.csv", "cell_issues.csv"):
        assert (tmp_path / "p" / name).is_file()
    assert "finto.xlsx" in proc.stdout and "note.txt" in proc.stdout


def test_sample_and_template_commands_write_workbooks(tmp_path, capsys):
    assert main(["sample", "--out", str(tmp_path / "s.xlsx"), "--companies", "20", "--seed", "1",
                 "--truth", str(tmp_path / "t.csv")]) == 0
    assert main(["template", "--out", str(tmp_path / "t.xlsx")]) == 0
    assert (tmp_path / "s.xlsx").stat().st_size > 0 and (tmp_path / "t.csv").is_file()
    assert main(["sample", "--out", str(tmp_path / "s.csv")]) == 2
    assert "xlsx" in capsys.readouterr().err


def test_run_refuses_unknown_parameters_listing_the_known_ones(tmp_path, capsys):
    code = main(["run", "--out", str(tmp_path), "-p", "numero_segmenti_sbagliato", "4"])
    assert code == 2
    err = capsys.readouterr().err
    assert "numero_segmenti_sbagliato" in err and "known:" in err


@pytest.mark.slow
def test_a_failing_notebook_is_named_with_its_error_and_kept(tmp_path):
    """A parameters file sets a whole configuration; a bad value makes notebook 03 fail: the run says which
    notebook and cell failed and why, keeps the executed notebook, and exits non-zero."""
    from analysis.sample import write_sample

    write_sample(tmp_path / "raw" / "w.xlsx", companies=40, seed=2)
    params = tmp_path / "params.yaml"
    params.write_text('seed: 3\nmethod: dbscan\nsegment_names: {1: "Primo"}\n', encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "analysis", "run", "--raw", str(tmp_path / "raw"), "--out",
                           str(tmp_path / "out"), "--wave", "w", "--params", str(params)],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=600)
    assert proc.returncode == 1
    err = proc.stderr.strip().splitlines()[-1]
    assert "03_segmenti_priorita.ipynb failed in cell" in err and "ValueError" in err and "dbscan" in err
    kept = tmp_path / "out" / "reports" / "w" / "03_segmenti_priorita.ipynb"
    assert kept.is_file() and "dbscan" in kept.read_text()
    assert (tmp_path / "out" / "reports" / "w" / "02_bisogni_settori.html").is_file()
