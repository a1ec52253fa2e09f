"""``python -m analysis run`` (spec section 9): reading, notebooks, board reports.

1. Reads every survey under the raw folder (the bundled sample when
   ``data/raw/`` holds no survey file) into ``OUT/processed/``.
2. Executes the numbered notebooks of ``notebooks/`` in order with
   papermill, each with the parameters its ``parameters`` cell declares,
   into ``OUT/reports/WAVE/``.
3. Exports each executed notebook to HTML without code (nbconvert
   ``exclude_input``), images embedded, no script from the internet.
"""

from __future__ import annotations

import hashlib
import platform
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path

import yaml

from analysis import paths
from analysis.cli import UsageError
from analysis.ingest import run_ingest
from analysis.outputs import atomic_write_text, write_json
from analysis.workbooks import discover

EXECUTION_TIMEOUT = 900  # seconds per cell
KERNEL = "python3"
# The kernel's own start-up warnings (transport notices) would drown the per-notebook progress lines.
KERNEL_QUIET = ["--IPKernelApp.log_level=ERROR"]
# Parameters set by the pipeline itself, never by -p.
RUN_PARAMETERS = ("processed_dir", "raw_dir", "wave", "sample_run", "codebook_path", "audience", "reports_dir")


@dataclass
class RunPlan:
    raw: Path
    processed: Path
    reports: Path
    wave: str
    sample_run: bool
    parameters: dict = field(default_factory=dict)


def notebook_paths(folder: Path = paths.NOTEBOOKS) -> list[Path]:
    """The pipeline's notebooks, in their numbered order."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def declared_parameters(nb_path: Path) -> dict:
    """Names and defaults of a notebook's ``parameters`` cell."""
    import papermill

    return {name: info["default"] for name, info in papermill.inspect_notebook(str(nb_path)).items()}


def known_parameters(notebooks: list[Path]) -> dict[str, list[str]]:
    """Parameter name -> notebooks that declare it."""
    known: dict[str, list[str]] = {}
    for nb in notebooks:
        for name in declared_parameters(nb):
            known.setdefault(name, []).append(nb.name)
    return known


def parse_overrides(pairs: list[list[str]], params_file: Path | None) -> dict:
    """``--params FILE`` then ``-p NAME VALUE`` (YAML scalars: ``-p k 4`` is 4, ``-p wave "2025"`` a string)."""
    values: dict = {}
    if params_file is not None:
        try:
            loaded = yaml.safe_load(Path(params_file).read_text("utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise UsageError(f"{params_file}: cannot read the parameters file ({exc})") from exc
        if not isinstance(loaded, dict):
            raise UsageError(f"{params_file}: the parameters file must be a mapping of name: value")
        values.update(loaded)
    for name, raw in pairs:
        try:
            values[name] = yaml.safe_load(raw) if raw != "" else ""
        except yaml.YAMLError:
            values[name] = raw
    return values


def plan_run(args) -> RunPlan:
    raw = Path(args.raw) if args.raw else paths.RAW
    sample_run = False
    if args.raw is None and (not raw.is_dir() or not discover(raw).files):
        raw, sample_run = paths.SAMPLE_SURVEY_DIR, True
    if not raw.is_dir():
        raise UsageError(f"raw folder not found: {raw}")
    out = Path(args.out) if args.out else None
    processed = out / "processed" if out else paths.PROCESSED
    wave = args.wave or datetime.now().strftime("%Y-%m")
    if not wave or any(c in wave for c in "/\\") or wave.startswith("."):
        raise UsageError(f"--wave {wave!r}: a wave name cannot hold '/' or start with '.'")
    reports = (out / "reports" if out else paths.REPORTS) / wave
    return RunPlan(raw.resolve(), processed.resolve(), reports.resolve(), wave, sample_run)


def startup_source(given: Path | None, sample_run: bool) -> Path | None:
    """The startup list a run uses: the one given, else the bundled synthetic list when the run uses the
    sample survey, else ``data/startups/`` when it holds a spreadsheet (None: no startup scouting)."""
    if given is not None:
        return Path(given)
    if sample_run:
        return paths.SAMPLE_STARTUPS_DIR
    return paths.STARTUPS if paths.STARTUPS.is_dir() and discover(paths.STARTUPS).files else None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_html(executed: Path, html: Path, title: str | None = None) -> Path:
    """HTML without code, images embedded, no script from the internet."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(executed), as_version=4)
    title = title or _first_heading(nb) or executed.stem
    nb.metadata["title"] = title
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, embed_images=True)
    # The lab template links MathJax and require.js from a CDN: the reports use neither.
    exporter.mathjax_url = ""
    exporter.require_js_url = ""
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return atomic_write_text(html, offline_html(body))


_SCRIPT_PATTERNS = [
    re.compile(r'<script[^>]*\ssrc="[^"]*"[^>]*>\s*</script>'),  # empty or remote src
    re.compile(r'<script type="text/x-mathjax-config">.*?</script>', re.DOTALL),
    re.compile(r'<script type="module">(?:(?!</script>).)*?mermaid.*?</script>', re.DOTALL),  # loads from a CDN
]


def offline_html(body: str) -> str:
    """Drop the template's scripts that would fetch from the internet (the reports need none)."""
    for pattern in _SCRIPT_PATTERNS:
        body = pattern.sub("", body)
    return body


def _first_heading(nb) -> str | None:
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/html", "")
            m = re.search(r"<h1[^>]*>(.*?)</h1>", "".join(text) if isinstance(text, list) else text, re.DOTALL)
            if m:
                return re.sub(r"<[^>]+>", "", m.group(1)).strip()
    return None


def _versions() -> dict:
    names = ["pandas", "numpy", "scikit-learn", "scipy", "matplotlib", "seaborn", "python-calamine", "pyarrow",
             "papermill", "nbconvert", "pandera", "networkx", "openpyxl"]
    out = {"python": platform.python_version()}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            pass
    return out


def run_pipeline(args) -> int:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    plan = plan_run(args)
    notebooks = notebook_paths()
    known = known_parameters(notebooks)
    overrides = parse_overrides(args.p, args.params)
    unknown = sorted(set(overrides) - set(known))
    fixed = sorted(set(overrides) & set(RUN_PARAMETERS))
    if unknown:
        raise UsageError(f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(set(known) - set(RUN_PARAMETERS)))}")
    if fixed:
        raise UsageError(f"parameter(s) {', '.join(fixed)} are set by the command line options, not by -p")
    if args.compare_to is not None:
        from analysis.waves import processed_folder

        try:
            processed_folder(args.compare_to)
        except FileNotFoundError as exc:
            raise UsageError(f"--compare-to: {exc}") from exc
    # A notebook that needs a previous wave runs only when one is given.
    notebooks = [nb for nb in notebooks if args.compare_to is not None or nb.name not in known.get("compare_to", [])]

    t0 = time.perf_counter()
    if plan.sample_run:
        print(f"data/raw/ holds no survey: running on the bundled SAMPLE survey ({plan.raw})")
    print(f"Reading surveys from {plan.raw}")
    result = run_ingest(plan.raw, plan.processed, codebook_path=args.codebook, corrections_path=args.corrections)
    timings = {"ingest": round(time.perf_counter() - t0, 2)}
    if not result.accepted:
        return 1
    from analysis.confidentiality import pseudonym_key

    pseudonym_key(plan.processed, args.compare_to)

    plan.reports.mkdir(parents=True, exist_ok=True)
    base = {
        "raw_dir": str(plan.raw), "processed_dir": str(plan.processed), "reports_dir": str(plan.reports),
        "wave": str(plan.wave), "sample_run": plan.sample_run, "audience": "board",
        "codebook_path": str(Path(args.codebook).resolve()) if args.codebook else "",
    }
    extra = {"members_path": args.members, "startups_path": startup_source(args.startups, plan.sample_run),
             "compare_to": args.compare_to, "corrections_path": args.corrections}
    base.update({k: str(Path(v).resolve()) for k, v in extra.items() if v is not None and k in known})
    failed = None
    executed_files = []
    for nb in notebooks:
        declared = {name for name, where in known.items() if nb.name in where}
        params = {k: v for k, v in {**base, **overrides}.items() if k in declared}
        out_nb = plan.reports / nb.name
        print(f"[{len(executed_files) + 1}/{len(notebooks)}] {nb.name} ...", flush=True)
        t = time.perf_counter()
        try:
            papermill.execute_notebook(str(nb), str(out_nb), parameters=params, kernel_name=KERNEL,
                                       cwd=str(paths.PROJECT_ROOT), execution_timeout=EXECUTION_TIMEOUT,
                                       progress_bar=False, log_output=False, extra_arguments=KERNEL_QUIET)
        except PapermillExecutionError as exc:
            failed = f"notebook {nb.name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
            timings[nb.name] = round(time.perf_counter() - t, 2)
            break
        except Exception as exc:  # kernel death, timeout, missing kernel
            failed = f"notebook {nb.name} could not run: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            timings[nb.name] = round(time.perf_counter() - t, 2)
            break
        html = export_html(out_nb, out_nb.with_suffix(".html"))
        executed_files.append(out_nb)
        timings[nb.name] = round(time.perf_counter() - t, 2)
        print(f"      done in {timings[nb.name]:.1f} s -> {html}", flush=True)

    if not failed and executed_files:
        board_html = build_board_report(executed_files, plan)
        print(f"Board report: {board_html}", flush=True)
        from analysis import results_workbook
        from analysis.codebook import load_codebook

        xlsx = results_workbook.build(plan.processed, load_codebook(args.codebook))
        print(f"Analyst workbook (real names, keep outside reports/): {xlsx}", flush=True)
    timings["total"] = round(time.perf_counter() - t0, 2)
    _write_manifest(plan, result, overrides, timings, executed_files, failed)
    if failed:
        print(f"error: {failed} (executed notebook kept in {plan.reports})", file=sys.stderr)
        return 1
    print(f"Reports in {plan.reports}  ({timings['total']:.1f} s)")
    return 0


def build_board_report(executed: list[Path], plan: RunPlan) -> Path:
    """One HTML file for the board: the executive summary first, then every section in pipeline order."""
    from analysis.board import BOARD_REPORT, SUMMARY_NOTEBOOK, combine

    htmls = [p.with_suffix(".html") for p in executed]
    summary = [h for h in htmls if h.stem == SUMMARY_NOTEBOOK]
    ordered = summary + [h for h in htmls if h.stem != SUMMARY_NOTEBOOK]
    return combine(ordered, plan.reports / BOARD_REPORT, "Rapporto per il Consiglio - Programma filiere "
                   "metalmeccaniche", plan.wave)


def _write_manifest(plan: RunPlan, result, overrides: dict, timings: dict, executed: list[Path],
                    failed: str | None) -> None:
    inputs = [{"file": p.relative_to(plan.raw).as_posix(), "sha256": _sha256(p)}
              for p in discover(plan.raw).files]
    manifest = {
        "wave": plan.wave, "generated": datetime.now().isoformat(timespec="seconds"),
        "sample_run": plan.sample_run, "inputs": inputs, "parameters": overrides,
        "accepted": result.accepted, "rejected": len(result.rejected),
        "notebooks": [p.name for p in executed], "failed": failed, "timings_s": timings, "versions": _versions(),
    }
    write_json(plan.reports / "manifest.json", manifest)
