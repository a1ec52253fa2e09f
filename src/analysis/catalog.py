"""The catalog: every output of a run, by name, with its file, schema, reader and writer.

No other module spells an output file name. Steps receive and return data frames; the pipeline writes
them here, and notebooks, the analyst workbook and the wave comparison read them back here. Every table
one step hands to another has a pandera schema, checked when it is written and when it is read.

A *set* is what one run leaves in a processed folder: the outputs, and ``manifest.json`` (the analyst
manifest) listing every output with its checksum and the run id. :func:`check_set` refuses a folder that
is not one complete, consistent set, in one line.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import IncompleteSet
from analysis.outputs import atomic_write_bytes, write_csv, write_json

# --------------------------------------------------------------------------
# Names outside the processed set

KEY_FILE = "pseudonym.key"  # beside the processed folder: outside what a run replaces or `make clean` removes
STATE_DIR = ".analysis-run"  # beside the processed folder: lock, commit journal
ATTEMPTS_DIR = "tentativi"  # beside the processed folder: diagnostics of failed runs
SCRATCH_DIR = "scratch"  # beside the processed folder: what interactive notebooks save on request
RUN_MANIFEST = "manifest.json"  # in the processed folder (analyst manifest) and the board folder (board manifest)
EXECUTED_NOTEBOOKS = "notebook_eseguiti"  # in the processed folder: executed notebooks are analyst material
BOARD_REPORT = "rapporto_consiglio.html"
BOARD_PDF = "rapporto_consiglio.pdf"  # the board report printed on A4
BOARD_BRIEFS = "schede_champion.html"  # one page per Champion under the naming rule (analysis.briefs)
ANALYST_BRIEFS = "schede_champion_analisti.html"  # the same with real names and contacts: processed folder only


def key_path(processed: str | Path) -> Path:
    """The pseudonym key of the runs that write ``processed``."""
    return Path(processed).resolve().parent / KEY_FILE


def section_html(notebook: str | Path) -> str:
    """The board file of one notebook section (``03_segmenti_priorita.html``)."""
    return Path(notebook).with_suffix(".html").name


# --------------------------------------------------------------------------
# Datasets

@dataclass(frozen=True)
class Dataset:
    name: str
    file: str
    kind: str  # parquet, csv, json, xlsx
    step: str  # the step that writes it
    description: str
    schema: str | None = None  # the name of its schema in analysis.schema (``NAME_schema(codebook)``)
    dtypes: dict | None = None  # how a CSV is read back
    required: tuple[str, ...] = ()  # JSON keys that must be there


DATASETS: tuple[Dataset, ...] = (
    Dataset("responses", "responses.parquet", "parquet", "lettura", "una riga per impresa accettata",
            "responses"),
    Dataset("rejected", "rejected.csv", "csv", "lettura", "righe scartate con il motivo e le celle originali",
            "rejected", {"source_file": str, "source_sheet": str, "source_row": "int64", "reason": str,
                               "message": str, "original": str}),
    Dataset("cell_issues", "cell_issues.csv", "csv", "lettura", "celle segnalate",
            "issues", {"source_file": str, "source_sheet": str, "source_row": "int64", "column": str,
                             "field": str, "value": str, "reason": str, "action": str}),
    Dataset("ingest_summary", "ingest_summary.json", "json", "lettura",
            "bilancio per file e foglio, file esclusi e ignorati, correzioni", required=("totals", "files")),
    Dataset("weights", "weights.csv", "csv", "pesi", "peso di post-stratificazione di ogni impresa accettata (1 "
            "senza registro dei soci né tabella dei pesi)", "weights", {"company_id": str}),
    Dataset("weighting", "weighting.json", "json", "pesi",
            "fonte dei pesi, celle di ponderazione, lettura del registro soci, tassi di risposta",
            required=("source", "cells", "register", "rates", "outside")),
    Dataset("needs_summary", "needs_summary.csv", "csv", "bisogni",
            "per bisogno e gruppo: risposte, imprese e quota con voto 4-5, importanza media e intervallo al 95%",
            "needs_summary", {"need": str, "group": str}),
    Dataset("sector_comparison", "sector_comparison.csv", "csv", "bisogni",
            "i due gruppi merceologici a confronto, bisogno per bisogno (Mann-Whitney, rank-biserial, BH)",
            "comparison", {"need": str, "verdict": str}),
    Dataset("need_families", "need_families.json", "json", "bisogni",
            "famiglie di bisogni: correlazioni, albero e famiglia di ogni bisogno",
            required=("order", "threshold", "family", "correlation", "linkage")),
    Dataset("maturity_scores", "maturity_scores.csv", "csv", "bisogni",
            "maturità digitale di ogni impresa: dimensioni 0-100, indice, fascia", "maturity_scores",
            {"company_id": str, "banda": str}),
    Dataset("governance_scores", "governance_scores.csv", "csv", "bisogni",
            "governance dell'innovazione di ogni impresa: componenti 0-1, indice 0-100, fascia", "governance_scores",
            {"company_id": str, "banda_governance": str}),
    Dataset("challenge_themes", "challenge_themes.csv", "csv", "bisogni",
            "di cosa parla la sfida principale di ogni impresa: un bisogno del questionario o un tema nuovo con il "
            "suo nome e le sue parole", "challenge_themes", {"company_id": str, "tipo": str, "tema": str, "etichetta": str, "parole": str}),
    Dataset("maturity_by_sector", "maturity_by_sector.csv", "csv", "bisogni",
            "indice medio e imprese per fascia di maturità, per gruppo merceologico", "maturity_groups",
            {"group": str}),
    Dataset("maturity_by_size", "maturity_by_size.csv", "csv", "bisogni",
            "indice medio e imprese per fascia di maturità, per classe dimensionale", "maturity_groups",
            {"group": str}),
    Dataset("need_gap", "need_gap.csv", "csv", "bisogni",
            "per bisogno: intensità e maturità collegata di chi lo giudica 4-5 (divario)", "need_gap",
            {"need": str, "dimension": str}),
    Dataset("segmentation", "segmentation.json", "json", "segmentazione",
            "scelte e criteri della segmentazione (metodo, k, stabilità, nomi)",
            required=("method", "seed", "k", "imputation", "with_maturity", "names", "criteria", "reason")),
    Dataset("segments", "segments.csv", "csv", "segmentazione", "segmento di ogni impresa accettata",
            "segments", {"company_id": str, "segment": str}),
    Dataset("priorities", "priorities.csv", "csv", "priorita",
            "punteggio e posizione di ogni bisogno, per tutte le imprese e per segmento, con le cinque componenti",
            "priorities", {"scope": str, "need": str}),
    Dataset("champions", "champions.csv", "csv", "champion", "le imprese Champion e perché",
            "champions", {"company_id": str, "ragione_sociale": str, "gruppo_merceologico": str,
                                "segment": str, "reasons": str}),
    Dataset("champion_candidates", "champion_candidates.csv", "csv", "champion",
            "ogni candidata con i cinque criteri e la frequenza nei sorteggi", "candidates",
            {"company_id": str, "segment": str, "ragione_sociale": str, "priorita_coperte": str}),
    Dataset("champion_selection", "champion_selection.json", "json", "champion",
            "vincoli della scelta e vincoli allentati", required=("minimum", "messages")),
    Dataset("startup_matches", "startup_matches.csv", "csv", "startup", "startup per bisogno e ambito",
            "matches", {"startup": str, "need": str, "scope": str, "explanation": str, "trl": "Int64"}),
    Dataset("startups_below_trl", "startups_below_trl.csv", "csv", "startup",
            "startup sotto la soglia di TRL con il bisogno più vicino", "below_trl",
            {"nome_startup": str, "paese": str, "best_need": str, "trl": "Int64"}),
    Dataset("startup_pilots", "startup_pilots.csv", "csv", "startup", "proposte di sperimentazione per i Champion",
            "pilots", {"company_id": str, "segment": str, "need": str, "startup": str, "explanation": str,
                             "note": str, "disponibilita_startup": str}),
    Dataset("startups_summary", "startups_summary.json", "json", "startup",
            "lettura dell'elenco startup: bilancio, righe scartate, celle segnalate, soglia di TRL",
            required=("totals", "balance", "left_out", "rejected", "cell_issues")),
    Dataset("wave_comparison", "wave_comparison.json", "json", "confronto",
            "rilevazione precedente: imprese in entrambe, nuove, uscite, risposte accettate allora e ora",
            required=("previous_wave", "both", "new", "gone", "accepted_before", "accepted_now")),
    Dataset("wave_needs", "wave_needs.csv", "csv", "confronto", "quota con voto 4-5 di ogni bisogno, allora e ora",
            "wave_needs", {"need": str}),
    Dataset("wave_priorities", "wave_priorities.csv", "csv", "confronto",
            "punteggio e posizione di ogni priorità, allora e ora", None, {"need": str}),
    Dataset("wave_segment_moves", "wave_segment_moves.csv", "csv", "confronto",
            "imprese presenti in entrambe per segmento precedente e attuale", "wave_moves",
            {"prima": str, "ora": str}),
    Dataset("wave_champions", "wave_champions.csv", "csv", "confronto",
            "Champion confermati, nuovi e non più Champion", "wave_champions",
            {"company_id": str, "ragione_sociale": str, "status": str}),
    Dataset("results", "results.xlsx", "xlsx", "cartella_analisti", "ogni tabella, formattata, con i nomi reali"),
)
BY_NAME: dict[str, Dataset] = {d.name: d for d in DATASETS}


def dataset(name: str) -> Dataset:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown output {name!r}; the catalog holds {', '.join(BY_NAME)}") from None


def path(name: str, folder: str | Path) -> Path:
    return Path(folder) / dataset(name).file


def exists(name: str, folder: str | Path) -> bool:
    return path(name, folder).is_file()


class OutputError(ValueError):
    """An output that breaks its schema: a bug in a step when written, a damaged set when read."""


def _validate(ds: Dataset, frame: pd.DataFrame, cb, when: str) -> pd.DataFrame:
    if ds.schema is None:
        return frame
    import pandera.pandas as pa

    from analysis import schema

    checked = getattr(schema, f"{ds.schema}_schema")(cb)
    if frame.empty:  # an empty column has no values to type it: it takes the schema's type (no candidates, ...)
        frame = frame.astype({c: col.dtype.type for c, col in checked.columns.items()
                              if c in frame and col.dtype is not None and frame[c].dtype == object})
    try:
        return checked.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases[["column", "check", "failure_case"]].head(10).to_string(index=False)
        raise OutputError(f"{ds.file} {when}: {len(exc.failure_cases)} valori fuori schema:\n{cases}") from exc


def _json_problems(ds: Dataset, obj) -> list[str]:
    from analysis.schema import json_problems

    missing = [f"manca {k}" for k in ds.required if not isinstance(obj, dict) or k not in obj]
    return missing or json_problems(ds.name, obj)


# --------------------------------------------------------------------------
# Writing

def write(name: str, obj: Any, folder: str | Path, cb=None) -> Path:
    """Check ``obj`` against the dataset's schema and write it atomically."""
    ds = dataset(name)
    target = path(name, folder)
    if ds.kind == "json":
        problems = _json_problems(ds, obj)
        if problems:
            raise OutputError(f"{ds.file} in scrittura: {'; '.join(problems)}")
        return write_json(target, obj)
    if ds.kind == "csv":
        return write_csv(target, _validate(ds, obj, cb, "in scrittura"))
    if ds.kind == "parquet":
        return write_parquet_checked(ds, obj, target, cb)
    raise TypeError(f"{ds.file}: written by its own builder")


def write_parquet_checked(ds: Dataset, frame: pd.DataFrame, target: Path, cb) -> Path:
    """The speed mechanism of writing responses: the parquet bytes are encoded (pyarrow, mostly outside the
    GIL) in a thread while the schema checks the same frame; they reach the disk only once it has passed."""
    encoded: list = []
    encoder = threading.Thread(target=lambda: encoded.append(_parquet_bytes(frame)), daemon=True)
    encoder.start()
    try:
        _validate(ds, frame, cb, "in scrittura")
    finally:
        encoder.join()
    if not encoded:  # encoding failed in the thread: encode here, so the error surfaces with its traceback
        encoded.append(_parquet_bytes(frame))
    return atomic_write_bytes(target, encoded[0])


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    """The bytes ``frame.to_parquet(index=False)`` writes, through pyarrow directly (the same bytes; pandas'
    wrapper cost about 0.06 s more on 20,000 responses)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buf)
    return buf.getvalue()


# --------------------------------------------------------------------------
# Reading

def read(name: str, folder: str | Path, cb=None, manifest: dict | None = None) -> Any:
    """An output as its step wrote it, checked against its schema. With the set's ``manifest``, a file whose
    checksum is the one the run recorded is the very content the schema passed when it was written, and is
    not checked again (every notebook reads the responses: 0.5 s each on the sample)."""
    ds = dataset(name)
    p = path(name, folder)
    if not p.is_file():
        raise IncompleteSet(f"{folder}: manca {ds.file} ({ds.description}); eseguite di nuovo `python -m "
                            f"analysis run`")
    data = p.read_bytes()
    if ds.kind == "json":
        try:
            loaded = json.loads(data.decode("utf-8"))
        except ValueError as exc:
            raise IncompleteSet(f"{p}: JSON illeggibile ({exc})") from exc
        problems = _json_problems(ds, loaded)
        if problems:
            raise IncompleteSet(f"{p}: {'; '.join(problems)}")
        return loaded
    recorded = (manifest or {}).get("outputs", {}).get(ds.file)
    trusted = recorded is not None and hashlib.sha256(data).hexdigest() == recorded
    if ds.kind == "parquet":
        frame = pd.read_parquet(io.BytesIO(data))
    elif ds.kind == "csv":
        frame = pd.read_csv(io.BytesIO(data), dtype=ds.dtypes, keep_default_na=False, na_values=[""])
        for col, t in (ds.dtypes or {}).items():
            if t is str and col in frame:
                frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
        if "source_sheet" in frame:  # a CSV file has no sheet: its sheet is the empty text, not missing
            frame["source_sheet"] = frame["source_sheet"].fillna("")
    else:
        raise TypeError(f"{ds.file}: not read back by the pipeline")
    return frame if trusted else _validate(ds, frame, cb, "in lettura")


# --------------------------------------------------------------------------
# Sets

def sha256(p: Path) -> str:
    h = hashlib.sha256()
    with p.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def listing(folder: str | Path) -> dict[str, str]:
    """Every catalog output present in ``folder`` -> its checksum (what a manifest records)."""
    folder = Path(folder)
    return {d.file: sha256(folder / d.file) for d in DATASETS if (folder / d.file).is_file()}


def read_manifest(folder: str | Path) -> dict:
    p = Path(folder) / RUN_MANIFEST
    if not p.is_file():
        raise IncompleteSet(f"{folder}: nessun {RUN_MANIFEST}: non è l'insieme completo di un'esecuzione")
    try:
        manifest = json.loads(p.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise IncompleteSet(f"{p}: manifesto illeggibile ({exc})") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("run_id"), str) \
            or not isinstance(manifest.get("outputs"), dict) \
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in manifest["outputs"].items()):
        raise IncompleteSet(f"{p}: manifesto senza run_id o elenco degli output")
    return manifest


def check_set(folder: str | Path, board: str | Path | None = None, need: tuple[str, ...] = ()) -> dict:
    """The analyst manifest of ``folder`` when it is one run's complete set (every output it lists present
    with its checksum, each of ``need`` among them, no commit half done, and, when ``board`` is given, a
    board folder written by the same run); :class:`IncompleteSet` in one line otherwise."""
    folder = Path(folder)
    journal = folder.resolve().parent / STATE_DIR / "commit.json"
    if journal.is_file():
        raise IncompleteSet(f"{folder}: un'esecuzione si è interrotta mentre sostituiva i risultati; la prossima "
                            "`python -m analysis run` sulla stessa cartella la completa")
    manifest = read_manifest(folder)
    for file, digest in manifest["outputs"].items():
        p = folder / file
        if Path(file).name != file or file not in {d.file for d in DATASETS}:
            raise IncompleteSet(f"{folder}: il manifesto elenca {file!r}, che non è un output dell'analisi")
        if not p.is_file():
            raise IncompleteSet(f"{folder}: manca {file}, elencato dal manifesto dell'esecuzione "
                                f"{manifest['run_id']}")
        if sha256(p) != digest:
            raise IncompleteSet(f"{folder}: {file} è cambiato dopo l'esecuzione {manifest['run_id']}")
    absent = [dataset(n).file for n in need if dataset(n).file not in manifest["outputs"]]
    if absent:
        raise IncompleteSet(f"{folder}: l'esecuzione {manifest['run_id']} non ha prodotto {', '.join(absent)}")
    if board is not None:
        other = read_manifest(board).get("run_id")
        if other != manifest["run_id"]:
            raise IncompleteSet(f"{board}: scritto dall'esecuzione {other}, i dati elaborati da "
                                f"{manifest['run_id']}: insieme misto")
    return manifest


def foreign_entries(folder: Path, board: bool) -> list[str]:
    """What in ``folder`` a run did not write (a run replaces the folder whole: it must not hold anything else).
    ``board``: a wave's board folder; else a processed folder (an older layout's key and temporary files too)."""
    if not folder.exists():
        return []
    if not folder.is_dir():
        return [folder.name]
    known = {RUN_MANIFEST, ".gitkeep"}
    pdf = {Path(f).with_suffix(".pdf").name for f in (BOARD_REPORT, BOARD_BRIEFS, ANALYST_BRIEFS)}
    known |= pdf if board else {d.file for d in DATASETS} | {EXECUTED_NOTEBOOKS, KEY_FILE, ANALYST_BRIEFS} | pdf
    return sorted(p.name for p in folder.iterdir()
                  if p.name not in known and not (board and p.suffix in (".html", ".ipynb"))
                  and not (p.name.startswith(".") and p.name.endswith(".tmp")))


def reference_table() -> str:
    """Every output as a Markdown table (the docs page holds this table; a test keeps them in step)."""
    lines = ["| output | file | written by | checked by a schema | content |", "|---|---|---|---|---|"]
    for d in DATASETS:
        check = "sì" if d.schema else ("voci: " + ", ".join(d.required) if d.required else "no")
        lines.append(f"| `{d.name}` | `{d.file}` | {d.step} | {check} | {d.description} |")
    return "\n".join(lines)
