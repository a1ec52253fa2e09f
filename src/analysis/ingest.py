"""Reading every survey under the raw folder (spec sections 1-6): ``python -m analysis ingest``.

:func:`ingest` reads the files, parses every cell, decides the outcome of
every row and returns an :class:`IngestResult`; :func:`write_outputs` writes
its four outputs through the catalog.

Row outcomes, in order (spec section 5):

1. rows read run from below the header to the last row with a non-blank
   cell in a matched column; a row whose matched cells are all blank is
   *empty*;
2. a company withdrawn in the corrections file: rejected ``excluded``, its
   cells not copied anywhere;
3. ``missing_identity``, ``out_of_scope``, ``no_needs``: the first that applies;
4. ``duplicate``: among the rows left, the same company (equal VAT number or
   equal normalised name) answered again; the latest submission wins.

For every file and sheet: rows read = accepted + rejected + empty.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.codebook import Codebook, Field, load_codebook
from analysis.corrections import Correction, read_corrections
from analysis.identity import IdentityIndex, company_id, company_name_key
from analysis.paths import DEFAULT_CORRECTIONS
from analysis.reading import Block, FileReport, read_files, read_in_worker
from analysis.text import quantity
from analysis.threads import background_priority
from analysis.values import KEPT, MISSING, DateValue, ateco_division, cell_text, is_blank
from analysis.workbooks import FileProblem, discover

REJECTION_REASONS = ("excluded", "missing_identity", "out_of_scope", "no_needs", "duplicate")
META_COLUMNS = ["source_file", "source_sheet", "source_row"]
PROGRESS_FROM_FILES = 3  # a progress bar is worth it from this many files on
ISSUE_COLUMNS = ["source_file", "source_sheet", "source_row", "column", "field", "value", "reason", "action"]
REJECTED_COLUMNS = ["source_file", "source_sheet", "source_row", "reason", "message", "original"]


# --------------------------------------------------------------------------
# Row outcomes

@dataclass
class IngestResult:
    responses: pd.DataFrame
    rejected: pd.DataFrame
    cell_issues: pd.DataFrame
    summary: dict
    processed: Path | None = None
    # The companies the corrections file erases: kept in memory only, so a run can remove them from the
    # previous wave's figures too (spec section 8: an erasure removes a company from every output).
    exclusions: list[Correction] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return len(self.responses)

    def exit_code(self) -> int:
        return 0 if self.accepted else 1


def _newer(a: tuple, b: tuple) -> bool:
    """Is submission ``a`` later than ``b``? Items: (DateValue|None, file, sheet order, row)."""
    da, db = a[0], b[0]
    if da is not None and db is not None:
        if da.has_time and db.has_time:
            if da.when != db.when:
                return da.when > db.when
        elif da.when.date() != db.when.date():
            return da.when.date() > db.when.date()
    elif da is not None or db is not None:
        return da is not None
    return a[1:] > b[1:]


def original_cells(block: Block, i: int) -> str:
    """The cells of row ``i`` as written, header -> text, as JSON (the `original` column of rejected rows)."""
    row = block.rows[i]
    out: dict[str, str] = {}
    for j, h in block.headers.items():
        key = h
        n = 2
        while key in out:
            key, n = f"{h} ({n})", n + 1
        out[key] = cell_text(row[j]) if j < len(row) else ""
    return json.dumps(out, ensure_ascii=False)


def _sector(block: Block, i: int, cb: Codebook) -> tuple[str | None, str | None, tuple | None]:
    """(group, rejection message, ATECO issue) of one row (spec section 3)."""
    stated = block.get("gruppo_merceologico")[i]
    ateco = block.get("codice_ateco")[i]
    raw_group = cell_text(block.raw_cell("gruppo_merceologico", i))
    raw_ateco = cell_text(block.raw_cell("codice_ateco", i))
    derived = cb.sector_by_division.get(ateco_division(ateco)) if ateco else None
    if stated is not None:
        issue = None
        if ateco is not None and derived != stated:
            issue = (i, block.field_headers["codice_ateco"], "codice_ateco", raw_ateco, "ateco_sector_conflict", KEPT)
        return stated, None, issue
    if derived is not None:
        return derived, None, None
    if raw_group:
        msg = f"altro settore: gruppo '{raw_group}'"
    else:
        msg = "gruppo merceologico vuoto"
    msg += f", codice ATECO '{raw_ateco}' fuori dai due gruppi" if ateco else (
        f", codice ATECO '{raw_ateco}' non leggibile" if raw_ateco else ", codice ATECO assente")
    return None, msg, None


def decide(blocks: list[Block], cb: Codebook, corrections: list[Correction]) -> tuple[list, list, list, dict]:
    """Outcome of every row: accepted rows, rejected rows, issues, applied corrections."""
    need_keys = cb.need_keys
    rows: list[dict] = []  # every non-empty row with what the decisions need
    index = IdentityIndex()
    for b_i, b in enumerate(blocks):
        names = b.values.get("ragione_sociale")
        keys = b.name_keys
        vats = b.values.get("partita_iva")
        dates = b.values.get("data_compilazione")
        needs = [b.values[k] for k in need_keys if k in b.values]
        # Whether a row has at least one readable need, for all rows at once (tuples built and counted in C).
        width = len(needs)
        has_needs = [t.count(None) != width for t in zip(*needs, strict=True)] if needs else [False] * len(b.rows)
        for i in range(len(b.rows)):
            if b.empty[i]:
                continue
            name = names[i] if names else None
            vat = vats[i] if vats else None
            key = keys[i] if keys is not None else company_name_key(name, cb.legal_forms) if name else ""
            token = index.add(vat, key) if (vat or key) else None
            rows.append(dict(block=b_i, i=i, vat=vat, name_key=key, token=token,
                             date=dates[i] if dates else None,
                             has_needs=has_needs[i]))

    groups_vat: dict[int, str] = {}
    for r in rows:
        if r["token"] is not None and r["vat"]:
            groups_vat.setdefault(index.group(r["token"]), r["vat"])

    # Corrections: which identity group each one names.
    lookup: dict[str, int] = {}
    for r in rows:
        if r["token"] is not None:
            g = index.group(r["token"])
            if r["vat"]:
                lookup.setdefault("v:" + r["vat"], g)
            if r["name_key"]:
                lookup.setdefault("n:" + r["name_key"], g)
    applied: dict = {"applied": [], "not_applied": []}
    excluded: dict[int, Correction] = {}
    fixes: list[tuple[int, Correction]] = []
    for c in corrections:
        g = lookup.get("v:" + c.vat) if c.vat else None
        if g is None and c.name_key:
            g = lookup.get("n:" + c.name_key)
        if c.problem:
            applied["not_applied"].append({**c.describe(), "motivo": c.problem})
        elif g is None:
            applied["not_applied"].append({**c.describe(), "motivo": "nessuna impresa corrispondente"})
        elif c.is_exclusion:
            excluded[g] = c
        else:
            fixes.append((g, c))

    accepted: list[dict] = []
    rejected: list[tuple[dict, str, str]] = []
    issues_extra: list[tuple[int, tuple]] = []
    candidates: dict[int, list[dict]] = {}
    for r in rows:
        b = blocks[r["block"]]
        g = index.group(r["token"]) if r["token"] is not None else None
        r["group"] = g
        if g is not None and g in excluded:
            note = excluded[g].note
            rejected.append((r, "excluded", "impresa esclusa dal file delle correzioni" + (f" ({note})" if note else "")))
            continue
        if r["token"] is None:
            rejected.append((r, "missing_identity", "né ragione sociale né partita IVA valida"))
            continue
        sector, msg, issue = _sector(b, r["i"], cb)
        if sector is None:
            rejected.append((r, "out_of_scope", msg))
            continue
        if issue is not None:
            issues_extra.append((r["block"], issue))
        r["sector"] = sector
        if not r["has_needs"]:
            rejected.append((r, "no_needs", "nessun bisogno con un'importanza leggibile"))
            continue
        candidates.setdefault(g, []).append(r)

    for g, group_rows in candidates.items():
        best = group_rows[0]
        for r in group_rows[1:]:
            if _newer(_when(r, blocks), _when(best, blocks)):
                best = r
        for r in group_rows:
            if r is not best:
                wb = blocks[best["block"]]
                where = f"{wb.file}" + (f", foglio '{wb.sheet}'" if wb.sheet else "") + f", riga {wb.source_rows[best['i']]}"
                rejected.append((r, "duplicate", f"la stessa impresa ha risposto di nuovo: vale {where}"))
        best["company_id"] = company_id(groups_vat.get(g), best["name_key"] if not groups_vat.get(g) else "")
        accepted.append(best)
        for c in [c for gg, c in fixes if gg == g]:
            applied["applied"].append({**c.describe(), "company_id": best["company_id"]})
            best.setdefault("fixes", []).append(c)
    excluded_rows = {(r["block"], r["i"]) for r, reason, _ in rejected if reason == "excluded"}
    for c in excluded.values():  # the erased company is not named again, not even here
        applied["applied"].append({**c.describe(), "azienda": f"(impresa della riga {c.line} del file delle correzioni)",
                                   "effetto": "esclusa"})
    return accepted, rejected, issues_extra, {"corrections": applied, "excluded_rows": excluded_rows}


def _when(r: dict, blocks: list[Block]) -> tuple:
    b = blocks[r["block"]]
    d = r["date"]
    return (d if isinstance(d, DateValue) else None, b.file, b.sheet_order, b.source_rows[r["i"]])


# --------------------------------------------------------------------------
# Frames

def _typed(values: list, f: Field) -> pd.Series:
    t = f.type
    if t == "date":
        return pd.Series([v.when if v is not None else None for v in values], dtype="datetime64[us]")
    if t in ("integer", "importance", "maturity"):
        return pd.Series(values, dtype="Int64")
    if t in ("number", "percent"):
        return pd.Series(values, dtype="Float64")
    if t in ("yes_no", "consent"):
        return pd.Series(values, dtype="boolean")
    if t == "multi":
        return pd.Series([list(v) if v is not None else None for v in values], dtype=object)
    return pd.Series(values, dtype="str")


def size_classes(employees: pd.Series, cb: Codebook) -> pd.Series:
    """EU size class of each head count (missing when unknown), vectorised over the column."""
    known = employees.notna().to_numpy()
    values = employees.to_numpy(dtype=float, na_value=np.nan)
    out = np.full(len(values), None, dtype=object)
    for sc in cb.size_classes:
        inside = known & (values >= sc.min) & ((values <= sc.max) if sc.max is not None else True)
        out[inside & pd.isna(out)] = sc.key
    return pd.Series(out, index=employees.index, dtype="str")


def responses_frame(accepted: list[dict], blocks: list[Block], cb: Codebook) -> pd.DataFrame:
    """One row per accepted company, columns as spec section 6, corrections applied."""
    from analysis.values import PARSERS

    # Ordered by company_id here, on Python strings: sorting the finished frame would reorder every column.
    accepted = sorted(accepted, key=lambda r: r["company_id"])

    data: dict[str, list] = {"company_id": [r["company_id"] for r in accepted]}
    # Positions of the accepted rows, grouped by block: each column is then gathered in C (itemgetter).
    by_block: dict[int, tuple[list[int], list[int]]] = {}
    for n, r in enumerate(accepted):
        pos, rows = by_block.setdefault(r["block"], ([], []))
        pos.append(n)
        rows.append(r["i"])
    for f in cb.fields:
        out: list = [None] * len(accepted)
        for b, (pos, rows) in by_block.items():
            col = blocks[b].get(f.key)
            picked = [col[rows[0]]] if len(rows) == 1 else itemgetter(*rows)(col)
            if len(by_block) == 1:
                out = list(picked)
            else:
                for n, v in zip(pos, picked, strict=True):
                    out[n] = v
        data[f.key] = out
    for n, r in enumerate(accepted):
        for c in r.get("fixes", []):
            f = cb.by_key[c.field]
            p = MISSING if is_blank(c.value) else PARSERS[f.type](c.value, f, cb)
            data[f.key][n] = p.value
            if f.key == "gruppo_merceologico" and p.value is not None:
                r["sector"] = p.value
    data["gruppo_merceologico"] = [r["sector"] for r in accepted]
    frame = pd.DataFrame({k: _typed(v, cb.by_key[k]) if k in cb.by_key else pd.Series(v, dtype="str")
                          for k, v in data.items()})
    frame["consenso_nominativo"] = frame["consenso_nominativo"].fillna(False)
    frame["size_class"] = size_classes(frame["dipendenti"], cb)
    frame["source_file"] = pd.Series([blocks[r["block"]].file for r in accepted], dtype="str")
    frame["source_sheet"] = pd.Series([blocks[r["block"]].sheet for r in accepted], dtype="str")
    frame["source_row"] = pd.Series([blocks[r["block"]].source_rows[r["i"]] for r in accepted], dtype="int64")
    return frame


# --------------------------------------------------------------------------

def resolve_corrections(path: Path | None) -> Path | None:
    if path is not None:
        return Path(path)
    return next((p for p in DEFAULT_CORRECTIONS if p.is_file()), None)


def _preload_schema(cb: Codebook) -> None:
    """Import the schema (pandera, about 0.3 s) and the parquet writer (pyarrow), and run the schema once on
    an empty frame (its first validation costs 0.15 s more than the next), in the background while the
    workers parse the files: this process only waits for them meanwhile."""
    import threading

    def load() -> None:
        background_priority()
        try:
            import pyarrow.parquet  # noqa: F401 - pandas imports it at the first parquet written

            from analysis.schema import validate_responses

            validate_responses(responses_frame([], [], cb), cb)
        except Exception:  # only a warm-up: the real validation reports any problem
            pass

    threading.Thread(target=load, daemon=True, name="preload-schema").start()


@contextmanager
def without_cyclic_gc():
    """Reading allocates millions of small objects that hold no reference cycles (cells, parsed values,
    rows): reference counting frees them, while the cyclic collector's full passes over them cost about a
    third of the reading time. It is switched off while reading and back on (as it was) afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def ingest(raw: Path, codebook: Codebook | None = None, corrections_path: Path | None = None,
           progress: bool | None = None, limits=None, reader=None) -> IngestResult:
    """Read every survey under ``raw`` and decide every row (no files written). Each file is read in a worker
    process within ``limits`` (:class:`analysis.isolation.Limits`; ``reader`` replaces the worker's task, for
    tests that make the parser fail)."""
    with without_cyclic_gc():
        return _ingest(raw, codebook, corrections_path, progress, limits, reader)


def _ingest(raw: Path, codebook: Codebook | None, corrections_path: Path | None,
            progress: bool | None, limits, reader) -> IngestResult:
    cb = codebook or load_codebook()
    raw = Path(raw)
    if not raw.is_dir():
        raise FileNotFoundError(f"cartella delle risposte non trovata: {raw}")
    t0 = time.perf_counter()
    _preload_schema(cb)
    found = discover(raw)
    blocks: list[Block] = []
    reports: list[FileReport] = []
    files = found.files
    show = (sys.stderr.isatty() and len(files) > PROGRESS_FROM_FILES) if progress is None else progress
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=len(files), desc="Lettura file", unit="file", file=sys.stderr)
    try:
        read = read_files([(path, path.relative_to(raw).as_posix()) for path in files], cb, limits,
                          progress=bar.update if bar is not None else None, reader=reader or read_in_worker)
    finally:
        if bar is not None:
            bar.close()
    for b, rep in read:
        blocks.extend(b)
        reports.append(rep)

    corrections: list[Correction] = []
    corrections_report: dict = {"file": None}
    cpath = resolve_corrections(corrections_path)
    if cpath is not None:
        corrections_report["file"] = str(cpath)
        try:
            corrections = read_corrections(cpath, cb)
        except FileProblem as exc:
            corrections_report["error"] = f"{cpath}: {exc}"
        except OSError as exc:
            corrections_report["error"] = f"{cpath}: non leggibile ({exc})"

    accepted, rejected, extra_issues, decided = decide(blocks, cb, corrections)
    corrections_report.update(decided["corrections"])
    excluded_rows = decided["excluded_rows"]

    issues = []
    for b_i, b in enumerate(blocks):
        for (i, col, key, value, reason, action) in b.issues:
            if (b_i, i) not in excluded_rows and not b.empty[i]:
                issues.append((b.file, b.sheet, b.source_rows[i], col, key, value, reason, action))
    for b_i, (i, col, key, value, reason, action) in extra_issues:
        b = blocks[b_i]
        issues.append((b.file, b.sheet, b.source_rows[i], col, key, value, reason, action))
    cell_issues = pd.DataFrame(issues, columns=ISSUE_COLUMNS).sort_values(
        ["source_file", "source_sheet", "source_row", "column"], kind="stable").reset_index(drop=True)

    rej_rows = []
    for r, reason, message in rejected:
        b = blocks[r["block"]]
        original = "{}" if reason == "excluded" else original_cells(b, r["i"])
        rej_rows.append((b.file, b.sheet, b.source_rows[r["i"]], reason, message, original))
    rejected_df = pd.DataFrame(rej_rows, columns=REJECTED_COLUMNS).sort_values(
        ["source_file", "source_sheet", "source_row"], kind="stable").reset_index(drop=True)

    responses = responses_frame(accepted, blocks, cb)
    summary = _summary(found, reports, blocks, accepted, rejected, cell_issues, corrections_report, raw, cb)
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    return IngestResult(responses, rejected_df, cell_issues, summary,
                        exclusions=[c for c in corrections if c.is_exclusion])


def _summary(found, reports, blocks, accepted, rejected, cell_issues, corrections, raw, cb) -> dict:
    per_sheet: dict[tuple[str, str], dict] = {}
    for b in blocks:
        per_sheet[(b.file, b.sheet)] = {
            "sheet": b.sheet, "header_row": b.header_row, "rows_read": len(b.rows), "accepted": 0,
            "rejected": dict.fromkeys(REJECTION_REASONS, 0), "empty": sum(b.empty), "flagged_cells": 0,
            "unmatched_columns": b.unmatched, "date_readings": b.date_readings, "notes": b.notes,
            "matched_fields": sorted(b.field_headers, key=list(cb.by_key).index),
        }
    for r in accepted:
        b = blocks[r["block"]]
        per_sheet[(b.file, b.sheet)]["accepted"] += 1
    for r, reason, _ in rejected:
        b = blocks[r["block"]]
        per_sheet[(b.file, b.sheet)]["rejected"][reason] += 1
    for (f, s), n in cell_issues.groupby(["source_file", "source_sheet"]).size().items():
        per_sheet[(f, s)]["flagged_cells"] = int(n)
    files = []
    for rep in reports:
        entry = {"file": rep.file, "status": rep.status}
        if rep.reason:
            entry["reason"] = rep.reason
        entry["sheets"] = [v for (f, _), v in per_sheet.items() if f == rep.file]
        entry["sheets_not_matched"] = rep.sheets_not_matched
        files.append(entry)
    totals = {"files_read": sum(r.status == "read" for r in reports),
              "files_left_out": sum(r.status == "left_out" for r in reports),
              "files_ignored": len(found.ignored),
              "rows_read": sum(len(b.rows) for b in blocks), "accepted": len(accepted),
              "rejected": len(rejected), "empty": sum(sum(b.empty) for b in blocks),
              "flagged_cells": len(cell_issues)}
    totals["rejected_by_reason"] = {k: sum(s["rejected"][k] for s in per_sheet.values()) for k in REJECTION_REASONS}
    return {"raw_folder": str(raw), "generated": datetime.now().isoformat(timespec="seconds"),
            "codebook": cb.source, "totals": totals, "files": files, "ignored_files": found.ignored,
            "corrections": corrections}


def balance_lines(summary: dict) -> list[str]:
    """The per-file and per-sheet balance ``read = accepted + rejected + empty``, for the terminal."""
    lines = ["Bilancio righe (lette = accettate + scartate + vuote):"]
    for f in summary["files"]:
        if f["status"] != "read":
            lines.append(f"  {f['file']}: ESCLUSO - {f['reason']}")
            continue
        for s in f["sheets"]:
            rej = sum(s["rejected"].values())
            ok = "ok" if s["rows_read"] == s["accepted"] + rej + s["empty"] else "ERRORE"
            where = f"{f['file']}" + (f" [{s['sheet']}]" if s["sheet"] else "")
            lines.append(f"  {where}: {s['rows_read']} = {s['accepted']} + {rej} + {s['empty']} ({ok})")
    for ig in summary["ignored_files"]:
        lines.append(f"  {ig['file']}: ignorato - {ig['reason']}")
    t = summary["totals"]
    lines.append(f"Totale: {quantity(t['rows_read'], 'riga letta', 'righe lette')}, "
                 f"{quantity(t['accepted'], 'accettata', 'accettate')}, {quantity(t['rejected'], 'scartata', 'scartate')}, "
                 f"{quantity(t['empty'], 'vuota', 'vuote')}; {quantity(t['flagged_cells'], 'cella segnalata', 'celle segnalate')}; "
                 f"{quantity(t['files_read'], 'file letto', 'file letti')}, {quantity(t['files_left_out'], 'escluso', 'esclusi')}, "
                 f"{quantity(t['files_ignored'], 'ignorato', 'ignorati')}.")
    corr = summary.get("corrections") or {}
    if corr.get("file"):
        lines.append(f"Correzioni ({corr['file']}): {len(corr.get('applied', []))} applicate, "
                     f"{len(corr.get('not_applied', []))} non applicate" + (f"; {corr['error']}" if corr.get("error") else ""))
        for c in corr.get("not_applied", []):
            lines.append(f"  riga {c['riga']} ({c['azienda']}, {c['campo']}): {c['motivo']}")
    return lines


def write_outputs(result: IngestResult, folder: Path, cb: Codebook) -> None:
    """The four outputs of reading, through the catalog (each checked and written atomically)."""
    from analysis import catalog

    with without_cyclic_gc():
        catalog.write("rejected", result.rejected, folder, cb)
        catalog.write("cell_issues", result.cell_issues, folder, cb)
        catalog.write("ingest_summary", result.summary, folder, cb)
        catalog.write("responses", result.responses, folder, cb)
    result.processed = Path(folder)
