"""``python -m analysis run`` and ``ingest`` (spec section 9): one run, all or nothing.

1. Check every option and parameter (nothing is read or written before).
2. Take the output folder's lock; finish or clean up what a killed run left.
3. In staging folders: read the surveys, run the analysis steps in this process (:mod:`analysis.steps`),
   write every output through the catalog with the analyst manifest, render the board notebooks in one
   kernel (they only read and show), join the board report and write the board manifest.
4. Commit (:mod:`analysis.transaction`): the processed set and the wave's board folder are replaced
   together. A failure leaves the previous set untouched and the run's diagnostics in an attempt folder
   named on stderr.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path

from analysis import catalog, paths, render
from analysis.config import Config
from analysis.errors import RunFailed, UsageError, one_line, os_reason
from analysis.text import visible
from analysis.transaction import (
    Lock,
    Transaction,
    attempts_dir,
    check_name_fits,
    new_run_id,
    recover,
    state_dir,
)
from analysis.workbooks import discover

# Notebook parameters the pipeline sets itself (every other one comes from the configuration).
RUN_PARAMETERS = ("processed_dir", "wave", "sample_run", "audience", "codebook_path")
SUMMARY_NOTEBOOK = "99_sintesi_consiglio"
COMPARISON_SECTIONS = ("06_confronto_rilevazioni",)  # rendered only with --compare-to
RENDER_KERNELS = 2  # notebooks rendered side by side (at most one kernel per usable core)
# Sections that show only what reading produced: they render while the analysis steps run.
READING_SECTIONS = ("01_qualita_dati",)
# Rough seconds each section takes (measured by benchmarks/bench_run.py): the longest are queued first.
RENDER_COST = {"04_champion": 4, "02_bisogni_settori": 6, "03_segmenti_priorita": 4, "01_qualita_dati": 3}


@dataclass(frozen=True)
class RunOptions:
    """What a run is asked to do (the command line's options, as an object)."""

    raw: Path | None = None
    out: Path | None = None
    wave: str | None = None
    codebook: Path | None = None
    corrections: Path | None = None
    verdicts: Path | None = None  # the scouts' verdicts on startups (default data/verdetti_startup.csv/.xlsx)
    members: Path | None = None
    startups: Path | None = None
    compare_to: Path | None = None
    config: Config = field(default_factory=Config)


@dataclass(frozen=True)
class RunPlan:
    options: RunOptions
    raw: Path
    processed: Path
    reports: Path  # the wave's board folder
    wave: str
    sample_run: bool
    startups: Path | None
    previous: Path | None  # the previous wave's processed folder


def plan_run(opts: RunOptions) -> RunPlan:
    """Every check that needs no reading, with a one-line reason when something is wrong."""
    raw = Path(opts.raw) if opts.raw else paths.RAW
    sample_run = False
    if opts.raw is None and (not raw.is_dir() or not discover(raw).files):
        raw, sample_run = paths.SAMPLE_SURVEY_DIR, True
    if not raw.is_dir():
        raise UsageError(f"cartella delle risposte non trovata: {raw}")
    processed = Path(opts.out) / "processed" if opts.out else paths.PROCESSED
    wave = datetime.now().strftime("%Y-%m") if opts.wave is None else opts.wave
    check_wave(wave)
    reports = (Path(opts.out) / "reports" if opts.out else paths.REPORTS) / wave
    check_name_fits(reports.parent, wave, "--wave")
    for what, p in (("--codebook", opts.codebook), ("--corrections", opts.corrections), ("--verdicts", opts.verdicts),
                    ("--members", opts.members), ("--startups", opts.startups),
                    ("parametro pesi.file_pesi", opts.config["pesi.file_pesi"] or None)):
        if p is not None and not Path(p).exists():
            raise UsageError(f"{what}: {p} non esiste")
    from analysis.codebook import load_codebook

    load_codebook(opts.codebook)  # a bad project codebook is refused before any work
    refuse_foreign(processed, board=False)
    refuse_foreign(reports, board=True)
    previous = None
    if opts.compare_to is not None:
        from analysis.waves import processed_folder

        try:
            previous = processed_folder(opts.compare_to)
            catalog.check_set(previous, need=("responses",))
        except (FileNotFoundError, UsageError) as exc:
            raise UsageError(f"--compare-to: {one_line(exc)}") from exc
    return RunPlan(opts, raw.resolve(), processed.resolve(), reports.resolve(), wave, sample_run,
                   startup_source(opts.startups, sample_run), previous.resolve() if previous else None)


def refuse_foreign(folder: Path, board: bool) -> None:
    """A run replaces its folders whole: one holding anything a run did not write is refused before any work."""
    foreign = catalog.foreign_entries(folder, board)
    if foreign:
        raise UsageError(f"{folder} contiene file che non sono risultati di un'esecuzione ({', '.join(foreign[:3])}"
                         f"{', ...' if len(foreign[3:]) else ''}): un'esecuzione sostituisce la cartella intera, "
                         "quindi non la uso; scegliete un'altra cartella o spostate quei file")


def check_wave(wave: str) -> None:
    """A wave name that is one folder name, printable, and the file system can hold."""
    try:
        wave.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"--wave {wave!r}: il nome della rilevazione contiene caratteri non validi") from None
    if (not wave.strip() or any(c in wave for c in "/\\") or wave.startswith(".") or wave != wave.strip()
            or any(ord(c) < 32 or ord(c) == 127 for c in wave)):
        raise UsageError(f"--wave {wave!r}: il nome della rilevazione non può essere vuoto, contenere '/', '\\' o "
                         "caratteri di controllo, né iniziare con '.' o con uno spazio")


def startup_source(given: Path | None, sample_run: bool) -> Path | None:
    """The startup list a run uses: the one given, else the bundled synthetic list when the run uses the
    sample survey, else ``data/startups/`` when it holds a spreadsheet (None: no startup scouting)."""
    if given is not None:
        return Path(given).resolve()
    if sample_run:
        return paths.SAMPLE_STARTUPS_DIR
    return paths.STARTUPS if paths.STARTUPS.is_dir() and discover(paths.STARTUPS).files else None


# --------------------------------------------------------------------------
# The transaction around a run

def transactional(processed: Path, finals: list[Path], build) -> tuple[str, object]:
    """Run ``build(run_id, staged folders)`` under the lock and commit its folders, or leave the previous set
    as it was and raise :class:`RunFailed` naming the attempt folder."""
    run_id = new_run_id()
    state = state_dir(processed)
    try:
        lock = Lock(state).acquire(run_id)
    except OSError as exc:
        raise UsageError(f"{state}: impossibile scrivere nella cartella dei risultati ({os_reason(exc)})") from exc
    with lock:
        try:
            for line in recover(state, finals):
                print(visible(f"Nota: {line}"), flush=True)
        except (OSError, ValueError) as exc:
            reason = os_reason(exc) if isinstance(exc, OSError) else one_line(exc)
            raise UsageError(f"impossibile completare l'esecuzione interrotta in {state.parent} ({reason}); "
                             "i risultati restano com'erano") from exc
        txn = Transaction(state, run_id, finals)
        try:
            staged = txn.stage()
            result = build(run_id, staged)
        except BaseException as exc:
            attempt = _abandon(txn, processed)
            if isinstance(exc, KeyboardInterrupt):
                raise
            message = exc.args[0] if isinstance(exc, RunFailed) else _failure(exc)
            raise RunFailed(message, attempt) from exc
        try:
            txn.commit()
        except OSError as exc:
            if not txn.journal.exists():  # nothing replaced yet: the previous set stands
                attempt = _abandon(txn, processed)
                raise RunFailed(f"sostituzione dei risultati non riuscita ({os_reason(exc)})", attempt) from exc
            raise RunFailed(f"sostituzione dei risultati interrotta ({os_reason(exc)}); la cartella resta bloccata "
                            "per i lettori finché un'esecuzione successiva la completa") from exc
    return run_id, result


def _abandon(txn: Transaction, processed: Path) -> str | None:
    try:
        return str(txn.abandon(attempts_dir(processed)))
    except OSError:
        return None


def _failure(exc: BaseException) -> str:
    """A failure in one line: our own errors say what happened; others are named by their type."""
    from analysis.confidentiality import KeyProblem
    from analysis.workbooks import FileProblem

    if isinstance(exc, render.NotebookFailed | KeyProblem | FileProblem | UsageError):
        return one_line(exc)
    if isinstance(exc, OSError):
        return os_reason(exc)
    return f"{type(exc).__name__}: {one_line(exc)}"


# --------------------------------------------------------------------------
# ingest

def run_ingest_command(raw: Path, processed: Path, codebook: Path | None = None,
                       corrections: Path | None = None, config: Config | None = None) -> int:
    """``python -m analysis ingest``: reading alone, as a transaction of the processed folder."""
    from analysis.codebook import load_codebook
    from analysis.isolation import Limits, pool

    pool(Limits.from_params(config or Config()))

    raw, processed = Path(raw), Path(processed).resolve()
    if not raw.is_dir():
        raise UsageError(f"cartella delle risposte non trovata: {raw}")
    refuse_foreign(processed, board=False)
    cb = load_codebook(codebook)

    def build(run_id: str, staged: list[Path]):
        result = read_surveys(raw, staged[0], cb, corrections)
        write_analyst_manifest(staged[0], run_id, {"raw": str(raw), "inputs": _inputs(raw)}, result)
        return result

    try:
        transactional(processed, [processed], build)
    except RunFailed as exc:
        _report_failure(exc)
        return 1
    return 0


def read_surveys(raw: Path, folder: Path, cb, corrections: Path | None):
    """Read the surveys into ``folder`` and print the balance; :class:`RunFailed` when nothing was accepted."""
    from analysis.ingest import balance_lines, ingest, write_outputs

    result = ingest(raw, cb, corrections)
    write_outputs(result, folder, cb)
    # File and sheet names can carry control characters: the terminal sees them shown, never raw.
    print("\n".join(visible(line) for line in balance_lines(result.summary)), flush=True)
    if not result.accepted:
        raise RunFailed(f"nessuna risposta accettata in {raw}: il motivo è nel bilancio qui sopra e in "
                        f"{catalog.dataset('ingest_summary').file}")
    return result


def _report_failure(exc: RunFailed) -> None:
    where = f" (diagnostica in {exc.attempt}; i risultati precedenti sono intatti)" if exc.attempt else ""
    print(visible(f"errore: {exc}{where}"), file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# run

def run_pipeline(opts: RunOptions) -> int:
    plan = plan_run(opts)
    t0 = time.perf_counter()
    if plan.sample_run:
        print(f"data/raw/ non contiene risposte: uso il questionario di ESEMPIO incluso ({plan.raw})")
    print(f"Lettura delle risposte da {plan.raw}", flush=True)
    try:
        run_id, timings = transactional(plan.processed, [plan.processed, plan.reports],
                                        lambda run_id, staged: _build(plan, run_id, *staged, t0))
    except RunFailed as exc:
        _report_failure(exc)
        return 1
    print(f"Rapporto per il Consiglio: {plan.reports / catalog.BOARD_REPORT}")
    print(f"Cartella per gli analisti (nomi reali, da non inoltrare): {catalog.path('results', plan.processed)}")
    print(f"Esecuzione {run_id} completata in {time.perf_counter() - t0:.1f} s "
          f"(passi {timings['steps']:.1f} s, notebook {timings['render']:.1f} s)")
    return 0


def _build(plan: RunPlan, run_id: str, processed: Path, reports: Path, t0: float) -> dict:
    from analysis.threads import kernel_environment, usable_cores

    # The kernels start and import while the surveys are read and the steps run.
    with render.RenderPool(min(RENDER_KERNELS, usable_cores()), kernel_environment()) as pool:
        return _build_in(plan, run_id, processed, reports, t0, pool)


def _build_in(plan: RunPlan, run_id: str, processed: Path, reports: Path, t0: float, pool) -> dict:
    from analysis import results_workbook, steps
    from analysis.codebook import load_codebook
    from analysis.confidentiality import ensure_key
    from analysis.threads import cores_for_steps, usable_cores

    opts, cfg = plan.options, plan.options.config
    cb = load_codebook(opts.codebook)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    from analysis.isolation import Limits
    from analysis.isolation import pool as readers

    readers(Limits.from_params(cfg))  # the reading limits of this run, for the surveys and every other table
    result = read_surveys(plan.raw, processed, cb, opts.corrections)
    timings["ingest"] = round(time.perf_counter() - t, 2)
    ensure_key(plan.processed, plan.previous)
    context = {"raw": str(plan.raw), "sample_run": plan.sample_run, "wave": plan.wave,
               "inputs": _inputs(plan.raw), "codebook": str(opts.codebook or "package"),
               "corrections": str(opts.corrections or ""), "members": str(opts.members or ""),
               "startups": str(plan.startups or ""), "compare_to": str(plan.previous or ""),
               "configuration": cfg.as_dict(), "parameters_given": cfg.given}
    # The section that shows only what reading produced renders while the steps run.
    write_analyst_manifest(processed, run_id, context, result)
    renderer = Renderer(plan, processed, reports, pool)
    renderer.submit(lambda nb: nb.stem in READING_SECTIONS)

    t = time.perf_counter()
    slist, register, table = read_other_tables(plan, cb)
    # The kernels render the reading sections meanwhile: one thread per pool here, not one per core.
    previous = None
    if plan.previous is not None:
        from analysis.waves import load_wave, without

        previous = without(load_wave(plan.previous, cb), result.exclusions, cb)
    with cores_for_steps(max(1, usable_cores() - pool.size + 1)):
        analysis = steps.analyse(result.responses, cb, cfg, slist, register, table, previous)
    write_analysis(analysis, processed, cb, result.responses)
    timings["steps"] = round(time.perf_counter() - t, 2)
    if analysis.champions.resampled is not None:  # run metadata: in the manifest, not in the outputs
        timings["champion_resampling"] = round(analysis.champions.resampled.seconds, 2)
    # The timings so far go in now: the Champion section's analyst view quotes the resampling's time.
    write_analyst_manifest(processed, run_id, {**context, "timings_s": dict(timings)}, result)

    t = time.perf_counter()
    renderer.submit(lambda nb: nb.stem not in READING_SECTIONS)
    results_workbook.build(processed, cb)  # while the kernels render (no notebook reads it)
    executed = renderer.wait()
    board = build_board_report(executed, reports, plan.wave)
    from analysis.briefs import write_briefs

    briefs = write_briefs(processed, reports, plan.wave, plan.sample_run, opts.codebook)
    timings["render"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    printed = print_board_report([board, *briefs], plan.wave)
    timings["pdf"] = round(time.perf_counter() - t, 2)
    write_board_manifest(reports, run_id, plan, result, context["inputs"], printed)
    timings["total"] = round(time.perf_counter() - t0, 2)
    write_analyst_manifest(processed, run_id, {**context, "notebooks": [p.name for p in executed],
                                               "timings_s": timings}, result)
    return timings


def _read_verdicts(slist, given: Path | None, cb) -> None:
    """The scouts' verdicts (``--verdicts`` or ``data/verdetti_startup.csv``/``.xlsx``), onto the startup list; a
    file that cannot be read is reported with the startups, never a failed run."""
    from analysis.startups import read_verdicts
    from analysis.workbooks import FileProblem

    path = Path(given) if given else next((p for p in paths.DEFAULT_VERDICTS if p.is_file()), None)
    if path is None:
        return
    slist.verdicts_file = {"file": path.name}
    try:
        slist.verdicts = read_verdicts(path, cb)
    except (FileProblem, OSError) as exc:
        slist.verdicts_file["error"] = one_line(exc)


def read_other_tables(plan: RunPlan, cb):
    """The startup list, the member register and the weights table a run uses (None when not given)."""
    from analysis import weights
    from analysis.startups import read_startups
    from analysis.workbooks import FileProblem

    opts, cfg = plan.options, plan.options.config
    slist = read_startups(plan.startups, cb) if plan.startups is not None else None
    if slist is not None:
        _read_verdicts(slist, opts.verdicts, cb)
    register = table = None
    try:
        if opts.members:
            register = weights.read_register(opts.members, cb)
        elif cfg["pesi.file_pesi"]:
            table = weights.read_weights_cells(cfg["pesi.file_pesi"], cb)
    except FileProblem as exc:
        raise RunFailed(str(exc)) from exc
    return slist, register, table


def write_analysis(analysis, folder: Path, cb, responses) -> None:
    """Every output of the analysis steps, through the catalog."""
    from analysis import steps

    for name, obj in steps.needs_outputs(analysis.needs, responses).items():
        catalog.write(name, obj, folder, cb)
    seg = analysis.segmentation
    catalog.write("segments", steps.segments_table(seg), folder, cb)
    catalog.write("segmentation", steps.segmentation_record(seg), folder, cb)
    catalog.write("priorities", analysis.priorities, folder, cb)
    catalog.write("champions", analysis.champions.table, folder, cb)
    catalog.write("champion_candidates", analysis.champions.candidates, folder, cb)
    resampled = analysis.champions.resampled
    catalog.write("champion_selection", {"minimum": analysis.champions.minimum,
                                         "messages": analysis.champions.messages,
                                         "resampling": {"resamples": resampled.resamples, "share": resampled.share}
                                         if resampled is not None else None}, folder, cb)
    if analysis.comparison is not None:
        c = analysis.comparison
        catalog.write("wave_comparison", c.info, folder, cb)
        catalog.write("wave_needs", c.needs, folder, cb)
        if c.priorities is not None:
            catalog.write("wave_priorities", c.priorities, folder, cb)
        catalog.write("wave_segment_moves", c.moves, folder, cb)
        catalog.write("wave_champions", c.champions, folder, cb)
    if analysis.startups is not None:
        catalog.write("startup_matches", analysis.startups.matches, folder, cb)
        catalog.write("startups_below_trl", analysis.startups.below_trl, folder, cb)
        catalog.write("startup_pilots", analysis.startups.pilots, folder, cb)
        catalog.write("startups_summary", analysis.startups.summary, folder, cb)


def notebooks_for(plan: RunPlan) -> list[Path]:
    """The notebooks a run renders: every numbered one, the wave comparison only with ``--compare-to``."""
    chosen = []
    for nb in render.notebook_paths():
        if nb.stem in COMPARISON_SECTIONS and plan.previous is None:
            continue
        chosen.append(nb)
    return chosen


def notebook_parameters(plan: RunPlan, processed: Path, declared: set[str]) -> dict:
    opts = plan.options
    base = {"processed_dir": str(processed), "wave": plan.wave, "sample_run": plan.sample_run,
            "audience": "board", "codebook_path": str(Path(opts.codebook).resolve()) if opts.codebook else ""}
    return {k: v for k, v in {**base, **opts.config.for_notebook(declared)}.items() if k in declared}


class Renderer:
    """The board notebooks of a run, executed in the pool's kernels: executed notebooks stay with the analyst
    material, their HTML (no code) goes to the board folder."""

    def __init__(self, plan: RunPlan, processed: Path, reports: Path, pool: render.RenderPool):
        self.plan, self.processed, self.reports, self.pool = plan, processed, reports, pool
        self.notebooks = notebooks_for(plan)
        self.executed_dir = processed / catalog.EXECUTED_NOTEBOOKS
        self.executed_dir.mkdir(parents=True, exist_ok=True)
        self.submitted: set[str] = set()

    def submit(self, which) -> None:
        """Queue the notebooks ``which(path)`` selects, the longest first (the kernels share the work)."""
        chosen = [nb for nb in self.notebooks if which(nb) and nb.name not in self.submitted]
        for nb in sorted(chosen, key=lambda p: -RENDER_COST.get(p.stem, 1)):
            self.submitted.add(nb.name)
            self.pool.submit(nb, notebook_parameters(self.plan, self.processed, set(render.declared_parameters(nb))),
                             self._keep)

    def _keep(self, source: Path, nb, error) -> None:
        """The executed notebook with the analyst material (a failing one too); its HTML for the board."""
        import nbformat

        if nb is not None:
            nbformat.write(nb, str(self.executed_dir / source.name))
        if error is None:
            html = render.export_html(nb, self.reports / catalog.section_html(source))
            print(f"  {source.name} -> {html.name}", flush=True)

    def wait(self) -> list[Path]:
        """Every section's HTML, in notebook order, once all have rendered (the first failure is raised)."""
        self.pool.collect()
        return [self.reports / catalog.section_html(nb) for nb in self.notebooks]


def build_board_report(sections: list[Path], reports: Path, wave: str) -> Path:
    """One HTML file for the board: the executive summary first, then every section in pipeline order."""
    from analysis.board import combine

    summary = [h for h in sections if h.stem == SUMMARY_NOTEBOOK]
    ordered = summary + [h for h in sections if h.stem != SUMMARY_NOTEBOOK]
    return combine(ordered, reports / catalog.BOARD_REPORT,
                   "Rapporto per il Consiglio - Programma filiere metalmeccaniche", wave)


def print_board_report(pages: list[Path], wave: str) -> dict:
    """The board report and the Champions' pages as A4 PDFs beside their HTML, in one browser session
    (:mod:`analysis.printing`). Where they cannot be printed the run says why, on the terminal and in the board
    manifest, and the HTML stands alone."""
    from analysis.printing import Job, PrintUnavailable, print_pdfs
    from analysis.reporting import wave_label

    titles = {catalog.BOARD_REPORT: "Rapporto per il Consiglio", catalog.BOARD_BRIEFS: "Schede Champion",
              catalog.ANALYST_BRIEFS: "Schede Champion per gli analisti (nomi reali, da non inoltrare)"}
    jobs = [Job(p, p.with_suffix(".pdf"), f"{titles.get(p.name, p.stem)} - rilevazione {wave_label(wave)}")
            for p in pages]
    try:
        print_pdfs(jobs)
    except PrintUnavailable as exc:
        print(visible(f"Nota: i PDF non sono stati stampati ({exc}); i rapporti HTML sono completi."), flush=True)
        return {"file": catalog.BOARD_PDF, "printed": False, "reason": str(exc)}
    return {"file": catalog.BOARD_PDF, "printed": True}


# --------------------------------------------------------------------------
# Manifests

def _inputs(raw: Path) -> list[dict]:
    return [{"file": p.relative_to(raw).as_posix(), "sha256": catalog.sha256(p)} for p in discover(raw).files]


def write_analyst_manifest(folder: Path, run_id: str, context: dict, result) -> Path:
    """The analyst manifest: run id, the whole configuration, inputs by name and checksum, every output."""
    from analysis.outputs import write_json

    manifest = {"run_id": run_id, "generated": datetime.now().isoformat(timespec="seconds"), **context,
                "accepted": result.accepted, "rejected": len(result.rejected),
                "outputs": catalog.listing(folder), "versions": _versions()}
    return write_json(folder / catalog.RUN_MANIFEST, manifest)


def write_board_manifest(reports: Path, run_id: str, plan: RunPlan, result, inputs: list[dict],
                         pdf: dict | None = None) -> Path:
    """The board manifest: inputs by checksum only (raw file names can carry company names), and whether the PDF
    was printed (why not, when it was not)."""
    from analysis.outputs import write_json

    files = {p.name: catalog.sha256(p) for p in sorted(reports.iterdir()) if p.is_file()
             and p.name != catalog.RUN_MANIFEST}
    manifest = {"run_id": run_id, "wave": plan.wave, "generated": datetime.now().isoformat(timespec="seconds"),
                "sample_run": plan.sample_run, "inputs_sha256": sorted(i["sha256"] for i in inputs),
                "accepted": result.accepted, "rejected": len(result.rejected), "outputs": files, "pdf": pdf}
    return write_json(reports / catalog.RUN_MANIFEST, manifest)


def _versions() -> dict:
    names = ["pandas", "numpy", "scikit-learn", "scipy", "matplotlib", "seaborn", "python-calamine", "pyarrow",
             "papermill", "nbconvert", "pandera", "networkx", "openpyxl"]
    out = {"python": platform.python_version(), "machine": platform.machine(), "cores": os.cpu_count()}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            pass
    return out
