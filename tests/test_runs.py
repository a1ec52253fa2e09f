"""Runs are transactions: killed at any point of the commit, failed, or run twice at once, a run leaves one
complete set of outputs, the previous one or its own, never a mix and never a stray temporary file."""

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from analysis import catalog, transaction
from analysis.errors import IncompleteSet
from analysis.paths import PROJECT_ROOT, SAMPLE_STARTUPS_DIR

# A run reduced to its commit: two folders (processed set and board folder), each with a manifest.
DRIVER = """
import json, sys, time
from pathlib import Path
from analysis.errors import UsageError
from analysis.pipeline import transactional
root, tag, pause = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
processed, board = root / "processed", root / "reports" / "w"

def build(run_id, staged):
    for folder in staged:
        for i in range(3):
            (folder / f"f{i}.txt").write_text(f"{tag} {i}")
        (folder / "manifest.json").write_text(json.dumps({"run_id": run_id, "tag": tag, "outputs": {}}))
    end = time.monotonic() + pause  # a slow run: it goes on when the test says so (or after `pause` s)
    while time.monotonic() < end and not (root / "go").exists():
        time.sleep(0.05)

try:
    transactional(processed, [processed, board], build)
except UsageError as exc:
    print(f"errore: {exc}", file=sys.stderr)
    sys.exit(2)
"""


def drive(root: Path, tag: str, kill_at: str | None = None, pause: float = 0.0, wait: bool = True):
    env = {k: v for k, v in os.environ.items() if k != "ANALYSIS_KILL_AT"}
    if kill_at:
        env["ANALYSIS_KILL_AT"] = kill_at
    args = [sys.executable, "-c", DRIVER, str(root), tag, str(pause)]
    if not wait:
        return subprocess.Popen(args, env=env, cwd=PROJECT_ROOT, stderr=subprocess.PIPE, text=True)
    return subprocess.run(args, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)


def tags(root: Path) -> tuple[str, str]:
    """The run each folder comes from; every file of a folder must come from the same run."""
    out = []
    for folder in (root / "processed", root / "reports" / "w"):
        seen = {p.read_text().split()[0] for p in folder.glob("f*.txt")}
        manifest = json.loads((folder / "manifest.json").read_text())
        assert seen == {manifest["tag"]} and len(list(folder.glob("f*.txt"))) == 3, f"{folder}: mixed files"
        out.append(manifest["tag"])
    return tuple(out)


def leftovers(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if transaction.STAGING_MARK in p.name or transaction.OLD_MARK in p.name or p.name.endswith(".tmp")
                  or p.name == "commit.json")


@pytest.mark.parametrize("point", transaction.KILL_POINTS)
def test_a_run_killed_at_any_point_of_the_commit_never_leaves_a_mixed_set(tmp_path, point):
    assert drive(tmp_path, "A").returncode == 0
    assert tags(tmp_path) == ("A", "A") and not leftovers(tmp_path)
    killed = drive(tmp_path, "B", kill_at=point)
    assert killed.returncode == -9, killed.stderr
    journaled = point not in ("staged",)
    finished = point in ("journal-removed", "done")
    # Readers see one run's set, or refuse while the commit is half done.
    if journaled and not finished:
        with pytest.raises(IncompleteSet, match="interrotta"):
            catalog.check_set(tmp_path / "processed", tmp_path / "reports" / "w")
    else:
        catalog.check_set(tmp_path / "processed", tmp_path / "reports" / "w")
        assert tags(tmp_path) == (("B", "B") if finished else ("A", "A"))
    # The next run first finishes (or discards) what the killed one left, then commits its own.
    transaction.recover(tmp_path / catalog.STATE_DIR, [tmp_path / "processed", tmp_path / "reports" / "w"])
    assert tags(tmp_path) == (("B", "B") if journaled else ("A", "A"))
    assert not leftovers(tmp_path)
    assert drive(tmp_path, "C").returncode == 0
    assert tags(tmp_path) == ("C", "C") and not leftovers(tmp_path)


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_runs(tmp_path):
    first = drive(tmp_path, "A", pause=60, wait=False)
    lock = tmp_path / catalog.STATE_DIR / "lock"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (lock.is_file() and lock.read_text()):
        time.sleep(0.05)
    second = drive(tmp_path, "B")
    (tmp_path / "go").touch()
    assert first.wait(60) == 0
    assert second.returncode == 2
    assert len(second.stderr.strip().splitlines()) == 1 and "un'altra esecuzione" in second.stderr
    assert "processo" in second.stderr  # names the running one
    assert tags(tmp_path) == ("A", "A") and not leftovers(tmp_path)
    # The lock of a finished (or killed) run is not stale: the kernel released it with the process.
    assert drive(tmp_path, "C").returncode == 0 and tags(tmp_path) == ("C", "C")


def test_the_command_line_refuses_a_locked_folder_in_one_line(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    state = tmp_path / catalog.STATE_DIR
    state.mkdir()
    fd = os.open(state / "lock", os.O_RDWR | os.O_CREAT)
    os.write(fd, json.dumps({"run_id": "r1", "pid": os.getpid(), "started": "oggi"}).encode())
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        proc = subprocess.run([sys.executable, "-m", "analysis", "ingest", "--raw", str(raw), "--processed",
                               str(tmp_path / "processed")], capture_output=True, text=True, cwd=PROJECT_ROOT)
    finally:
        os.close(fd)
    assert proc.returncode == 2 and "un'altra esecuzione" in proc.stderr and "r1" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "processed").exists()


@pytest.mark.parametrize("args, words", [
    (["-p", "segmentazione.k", "banana"], ["segmentazione.k", "banana", "numero intero"]),
    (["-p", "k", "4"], ["sconosciuto", "segmentazione.k"]),
    (["--wave", "a/b"], ["--wave"]),
    (["--wave", "x" * 300], ["--wave", "troppo lungo"]),
])
def test_bad_options_are_refused_before_any_work(tmp_path, args, words):
    proc = subprocess.run([sys.executable, "-m", "analysis", "run", "--raw", str(tmp_path), "--out",
                           str(tmp_path / "out"), *args], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    for w in words:
        assert w in proc.stderr
    assert not (tmp_path / "out").exists() and proc.stdout == ""


def test_an_output_folder_that_cannot_be_written_is_one_line(tmp_path):
    """A file where the output folder should be (as a read-only or full disk, the run cannot write)."""
    (tmp_path / "blocked").write_text("a file, not a folder")
    proc = subprocess.run([sys.executable, "-m", "analysis", "ingest", "--raw", str(tmp_path), "--processed",
                           str(tmp_path / "blocked" / "p")], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "blocked" in proc.stderr and "Traceback" not in proc.stderr


# --------------------------------------------------------------------------
# Whole runs

def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def previous_run(small_run, tmp_path):
    """A copy of a complete run's output folder, to fail or kill a second run into."""
    root, proc = small_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = tmp_path / "out"
    shutil.copytree(root / "out", out, symlinks=True)
    shutil.copy(root / "out" / catalog.KEY_FILE, out / catalog.KEY_FILE)
    return root, out


@pytest.mark.slow
def test_a_failed_run_leaves_the_previous_set_byte_identical(previous_run, monkeypatch, capsys):
    from analysis import pipeline, render
    from analysis.config import Config

    root, out = previous_run
    before = _digests(out / "processed") | {f"reports/{k}": v for k, v in _digests(out / "reports").items()}
    key = (out / catalog.KEY_FILE).read_bytes()
    broken = out.parent / "notebooks"
    broken.mkdir()
    nb = nbformat.read(str(render.notebook_paths()[0]), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell('raise RuntimeError("guasto di prova")'))
    nbformat.write(nb, str(broken / "50_rotto.ipynb"))
    real = render.notebook_paths()
    monkeypatch.setattr(render, "notebook_paths", lambda: [*real, broken / "50_rotto.ipynb"])
    code = pipeline.run_pipeline(pipeline.RunOptions(raw=root / "raw", out=out, wave="test-wave",
                                                     startups=SAMPLE_STARTUPS_DIR, config=Config({"seed": 42})))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1
    assert "50_rotto.ipynb" in err[0] and "RuntimeError" in err[0] and "guasto di prova" in err[0]
    after = _digests(out / "processed") | {f"reports/{k}": v for k, v in _digests(out / "reports").items()}
    assert after == before and (out / catalog.KEY_FILE).read_bytes() == key
    attempt = Path(err[0].split("diagnostica in ")[1].split(";")[0])
    assert attempt.parent == out / catalog.ATTEMPTS_DIR
    kept = (attempt / "processed" / catalog.EXECUTED_NOTEBOOKS / "50_rotto.ipynb").read_text()
    assert "guasto di prova" in kept
    for name in ("ingest_summary", "rejected", "cell_issues"):
        assert catalog.exists(name, attempt / "processed")
    assert not leftovers(out.parent)


@pytest.mark.slow
def test_a_real_run_killed_between_its_two_folders_is_finished_by_the_next_and_is_deterministic(previous_run):
    root, out = previous_run
    old = catalog.read_manifest(out / "processed")["run_id"]
    env = {**os.environ, "ANALYSIS_KILL_AT": "first-swap"}
    proc = subprocess.run([sys.executable, "-m", "analysis", "run", "--raw", str(root / "raw"), "--out", str(out),
                           "--wave", "test-wave", "--startups", str(SAMPLE_STARTUPS_DIR)], env=env,
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=900)
    assert proc.returncode == -9, proc.stderr[-2000:]
    processed, board = out / "processed", out / "reports" / "test-wave"
    with pytest.raises(IncompleteSet):
        catalog.check_set(processed, board)
    transaction.recover(out / catalog.STATE_DIR, [processed, board])
    new = catalog.check_set(processed, board)["run_id"]
    assert new != old and not leftovers(out)
    # Same input and seed: the analysis outputs are byte-identical to the first run's.
    first = root / "out" / "processed"
    for ds in catalog.DATASETS:
        if ds.kind in ("csv", "parquet", "xlsx") and catalog.exists(ds.name, first):
            assert catalog.path(ds.name, processed).read_bytes() == catalog.path(ds.name, first).read_bytes(), ds.file
    # The board pages too, once the generation time is set aside (same key, so the same pseudonyms).
    stamp = re.compile(rb"generato il [0-9/]+ [0-9:]+")
    for page in sorted((root / "out" / "reports" / "test-wave").glob("*.html")):
        assert stamp.sub(b"", (board / page.name).read_bytes()) == stamp.sub(b"", page.read_bytes()), page.name


@pytest.mark.slow
def test_interactive_recomputation_saves_apart_from_the_run(previous_run):
    from analysis import scratch
    from analysis.reporting import load_processed

    _, out = previous_run
    before = _digests(out / "processed")
    data = load_processed(out / "processed")
    alt = scratch.recompute(data, {"segmentazione.k": 3, "champion.sorteggi": 10}, with_startups=False)
    assert alt.segmentation.k == 3 and alt.startups is None
    folder = scratch.save(alt, data, "k3")
    assert folder == out / catalog.SCRATCH_DIR / "k3"
    assert catalog.read("segments", folder)["segment"].nunique() == 3
    assert _digests(out / "processed") == before  # the run's set is untouched and still complete
    catalog.check_set(out / "processed")
    with pytest.raises(ValueError):
        scratch.save(alt, data, "../processed")
    with pytest.raises(Exception, match="segmentazione.k"):
        scratch.recompute(data, {"segmentazione.k": "tre"})


def test_a_damaged_commit_journal_stops_the_next_run_in_one_line_and_touches_nothing(tmp_path):
    assert drive(tmp_path, "A").returncode == 0
    journal = tmp_path / catalog.STATE_DIR / "commit.json"
    for content in ("", "garbage", "{}", "[]"):
        journal.write_text(content)
        proc = drive(tmp_path, "B")
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "giornale di commit danneggiato" in proc.stderr and "Traceback" not in proc.stderr
        assert tags(tmp_path) == ("A", "A")
    journal.unlink()
    assert drive(tmp_path, "C").returncode == 0 and tags(tmp_path) == ("C", "C")


def test_a_folder_holding_other_files_is_never_replaced(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(PROJECT_ROOT / "data" / "sample" / "survey", raw)
    for target, args in ((tmp_path / "mine", ["ingest", "--raw", str(raw), "--processed", str(tmp_path / "mine")]),
                         (tmp_path / "out" / "processed", ["run", "--raw", str(raw), "--out", str(tmp_path / "out")]),
                         (tmp_path / "out" / "reports" / "w", ["run", "--raw", str(raw), "--out", str(tmp_path / "out"),
                                                                "--wave", "w"])):
        target.mkdir(parents=True, exist_ok=True)
        (target / "tesi.docx").write_text("not an output")
        proc = subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True,
                              cwd=PROJECT_ROOT, timeout=120)
        assert proc.returncode == 2 and "tesi.docx" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
        assert (target / "tesi.docx").read_text() == "not an output"
        (target / "tesi.docx").unlink()


def test_an_empty_or_short_pseudonym_key_is_refused(tmp_path, cb):
    from analysis.confidentiality import KeyProblem, ensure_key, read_key

    processed = tmp_path / "processed"
    (tmp_path / catalog.KEY_FILE).write_text("")
    with pytest.raises(KeyProblem, match="troppo corta"):
        read_key(processed)
    (tmp_path / catalog.KEY_FILE).write_text("zz")
    with pytest.raises(KeyProblem):
        read_key(processed)
    (tmp_path / catalog.KEY_FILE).unlink()
    assert len(ensure_key(processed)) == 32 and oct((tmp_path / catalog.KEY_FILE).stat().st_mode)[-3:] == "600"
