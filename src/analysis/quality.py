"""Data quality of a reading (notebook 01): files, balance, rejections, flagged cells, completeness.

Each function takes what reading wrote (see :class:`analysis.reporting.Processed`)
and returns a small frame ready to show; counts that describe fewer than 3
companies are suppressed for the board.
"""

from __future__ import annotations

import pandas as pd

from analysis.codebook import Codebook
from analysis.confidentiality import suppress_counts
from analysis.reporting import fmt_int
from analysis.values import REASONS

REJECTION_LABELS = {
    "excluded": "esclusa su richiesta (correzioni)",
    "missing_identity": "senza ragione sociale né partita IVA",
    "out_of_scope": "fuori dai due gruppi merceologici",
    "no_needs": "nessun bisogno leggibile",
    "duplicate": "risposta ripetuta (vale la più recente)",
}


def files_table(summary: dict) -> pd.DataFrame:
    """One row per file: read or left out (with the reason), and its balance."""
    rows = []
    for f in summary["files"]:
        sheets = f.get("sheets", [])
        rows.append({
            "File": f["file"],
            "Esito": "letto" if f["status"] == "read" else "escluso",
            "Fogli letti": ", ".join(s["sheet"] or "(CSV)" for s in sheets) or "–",
            "Righe lette": sum(s["rows_read"] for s in sheets),
            "Accettate": sum(s["accepted"] for s in sheets),
            "Scartate": sum(sum(s["rejected"].values()) for s in sheets),
            "Vuote": sum(s["empty"] for s in sheets),
            "Motivo": f.get("reason", ""),
        })
    for ig in summary.get("ignored_files", []):
        rows.append({"File": ig["file"], "Esito": "ignorato", "Fogli letti": "–", "Righe lette": 0,
                     "Accettate": 0, "Scartate": 0, "Vuote": 0, "Motivo": ig["reason"]})
    return pd.DataFrame(rows)


def balance_table(summary: dict) -> pd.DataFrame:
    """Per file and sheet: read = accepted + rejected + empty, with a check column."""
    rows = []
    for f in summary["files"]:
        for s in f.get("sheets", []):
            rej = sum(s["rejected"].values())
            rows.append({"File": f["file"], "Foglio": s["sheet"] or "(CSV)", "Riga intestazione": s["header_row"],
                         "Lette": s["rows_read"], "Accettate": s["accepted"], "Scartate": rej, "Vuote": s["empty"],
                         "Quadra": "sì" if s["rows_read"] == s["accepted"] + rej + s["empty"] else "NO",
                         "Celle segnalate": s["flagged_cells"],
                         "Colonne non riconosciute": len(s["unmatched_columns"])})
    return pd.DataFrame(rows)


def rejections_by_reason(summary: dict, audience: str = "board") -> pd.DataFrame:
    counts = summary["totals"]["rejected_by_reason"]
    frame = pd.DataFrame({"Motivo": [REJECTION_LABELS.get(k, k) for k in counts],
                          "Righe": list(counts.values())})
    frame = frame[frame["Righe"] > 0].reset_index(drop=True)
    if frame.empty:
        return frame
    frame["Righe"] = suppress_counts(frame[["Righe"]], audience)["Righe"]
    return frame


def issues_by_field(cell_issues: pd.DataFrame, cb: Codebook, audience: str = "board") -> pd.DataFrame:
    """Flagged cells: field x reason, most flagged fields first."""
    if cell_issues.empty:
        return pd.DataFrame(columns=["Domanda"])
    labels = {f.key: f.short if f.group == "need" else f.it for f in cb.fields}
    counts = pd.crosstab(cell_issues["field"], cell_issues["reason"])
    counts = counts.loc[counts.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    shown = suppress_counts(counts, audience)
    shown.index = [labels.get(k, k) for k in shown.index]
    shown.columns = [REASONS.get(c, c) for c in shown.columns]
    return shown.rename_axis("Domanda").reset_index()


def issues_by_file(cell_issues: pd.DataFrame, audience: str = "board") -> pd.DataFrame:
    if cell_issues.empty:
        return pd.DataFrame(columns=["File", "Celle segnalate"])
    counts = cell_issues.groupby("source_file").size().to_frame("Celle segnalate")
    shown = suppress_counts(counts, audience)
    return shown.rename_axis("File").reset_index()


def completeness(responses: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """Share of accepted companies that answered each question (personal-data fields left out)."""
    rows = []
    n = len(responses)
    for f in cb.fields:
        if f.pd or f.form_only or f.key not in responses:
            continue
        col = responses[f.key]
        answered = int(col.map(lambda v: v is not None and not (isinstance(v, float) and v != v)
                               and (not hasattr(v, "__len__") or isinstance(v, str) or len(v) > 0)).sum()) \
            if col.dtype == object else int(col.notna().sum())
        group = {"need": "Bisogni", "maturity": "Maturità digitale"}.get(f.group, "Profilo")
        rows.append({"Sezione": group, "Domanda": f.short if f.group == "need" else f.it,
                     "Risposte": answered, "Quota": answered / n if n else float("nan")})
    return pd.DataFrame(rows)


def sector_size_table(responses: pd.DataFrame, cb: Codebook, audience: str = "board") -> pd.DataFrame:
    """Companies by sector group and size class, with totals, small cells suppressed."""
    sizes = [s.key for s in cb.size_classes]
    size_col = responses["size_class"].fillna("n.d.")
    counts = pd.crosstab(responses["gruppo_merceologico"], size_col)
    counts = counts.reindex(columns=[s for s in sizes if s in counts.columns]
                            + [c for c in counts.columns if c not in sizes], fill_value=0)
    counts = counts.reindex([s for s in cb.sector_labels if s in counts.index])
    shown = suppress_counts(counts, audience)
    shown.columns = [cb.size_labels.get(c, "Non indicata") for c in shown.columns]
    shown["Totale"] = [fmt_int(v) for v in counts.sum(axis=1)]
    shown = shown.map(lambda v: fmt_int(v) if isinstance(v, (int, float)) else v)
    return shown.rename_axis("Gruppo merceologico").reset_index()


def format_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Integers as Italian text (``1.250``), suppressed cells kept as they are."""
    return frame.map(lambda v: fmt_int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)

