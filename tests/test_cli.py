import subprocess
import sys
from pathlib import Path

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


def test_ingest_with_no_accepted_answer_fails_with_its_diagnostics_in_an_attempt_folder(tmp_path):
    """The previous set stays as it was; the failed attempt's summary, rejected rows and flagged cells are in
    the folder that the one line on stderr names."""
    from analysis.paths import SAMPLE_SURVEY_DIR

    good = subprocess.run([sys.executable, "-m", "analysis", "ingest", "--raw", str(SAMPLE_SURVEY_DIR), "--processed",
                           str(tmp_path / "p")], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert good.returncode == 0, good.stderr
    before = {p.name: p.read_bytes() for p in (tmp_path / "p").iterdir()}
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "note.txt").write_text("not a survey")
    (raw / "finto.xlsx").write_text("not a workbook either")
    proc = subprocess.run([sys.executable, "-m", "analysis", "ingest", "--raw", str(raw), "--processed",
                           str(tmp_path / "p")], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1
    attempt = Path(proc.stderr.split("diagnostica in ")[1].split(";")[0])
    assert attempt.parent == tmp_path / "tentativi"
    for name in ("ingest_summary.json", "rejected.csv", "cell_issues.csv"):
        assert (attempt / "p" / name).is_file()
    assert {p.name: p.read_bytes() for p in (tmp_path / "p").iterdir()} == before
    assert "finto.xlsx" in proc.stdout and "note.txt" in proc.stdout


def test_sample_and_template_commands_write_workbooks(tmp_path, capsys):
    assert main(["sample", "--out", str(tmp_path / "s.xlsx"), "--companies", "20", "--seed", "1",
                 "--truth", str(tmp_path / "t.csv")]) == 0
    assert main(["template", "--out", str(tmp_path / "t.xlsx")]) == 0
    assert (tmp_path / "s.xlsx").stat().st_size > 0 and (tmp_path / "t.csv").is_file()
    assert main(["sample", "--out", str(tmp_path / "s.csv")]) == 2
    assert "xlsx" in capsys.readouterr().err


def test_run_refuses_unknown_parameters_naming_the_close_ones(tmp_path, capsys):
    code = main(["run", "--out", str(tmp_path), "-p", "segmentazione.kk", "4"])
    assert code == 2
    err = capsys.readouterr().err
    assert "segmentazione.kk" in err and "segmentazione.k" in err and len(err.strip().splitlines()) == 1
    assert not tmp_path.exists() or not any(tmp_path.iterdir())  # refused before any work


@pytest.mark.parametrize("argv, words", [
    (["run", "-p", "seed"], "servono due valori"), (["ingest"], "obbligatorie mancanti"),
    (["sample", "--out", "x.xlsx", "--companies", "tre"], "numero intero non valido"), (["foo"], "scelta non valida"),
])
def test_option_errors_are_one_italian_line(argv, words, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.startswith("errore: ") and words in err and len(err.strip().splitlines()) == 1
