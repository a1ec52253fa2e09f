"""Data quality of a reading (notebook 01): files, balance, rejections, flagged cells, completeness.

Each function takes what reading wrote (see :class:`analysis.reporting.Processed`)
and returns a small frame ready to show; every count the board sees goes
through the disclosure gate, and file names stay with the analysts.
"""

from __future__ import annotations

import pandas as pd

from analysis.codebook import Codebook
from analysis.disclosure import SUPPRESSED, Gate, with_note
from analysis.reporting import fmt_int, fmt_pct
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


# Why a file was left out, in words for the board: the reasons reading writes can quote sheet names, column
# headers or system messages, which can carry names, so the board sees only the kind of problem.
REASON_KINDS = (
    # The reasons that quote headers as written come first, so a header's own words cannot pick the kind.
    ("nessun foglio con un'intestazione", "nessun foglio riconosciuto come questionario"),
    ("due colonne per lo stesso campo", "due colonne per la stessa domanda"),
    ("protetto da password", "protetto da password"),
    ("senza una vera password", "cifrato senza una vera password (da salvare di nuovo)"),
    ("formato Excel 2-4", "formato Excel obsoleto (da salvare come .xlsx)"),
    ("vuoto", "file vuoto"),
    ("area usata enorme", "foglio con un'area usata enorme (una cella lontana dai dati)"),
    ("una volta decompresso", "file troppo grande una volta decompresso"),
    ("lettura interrotta dopo", "lettura troppo lunga (file troppo grande o danneggiato)"),
    ("il lettore", "file danneggiato (il lettore si è fermato)"),
    ("memoria", "file troppo grande per la memoria"),
    ("nessun foglio di dati visibile", "nessun foglio visibile"),
    ("non è un file di testo", "formato non riconosciuto"),
    ("non è un foglio di calcolo", "file danneggiato o in un formato non riconosciuto"),
    ("", "file non leggibile"),
)


def reason_in_words(reason: str) -> str:
    """The kind of problem behind a file's reason, without quoting the file (see :data:`REASON_KINDS`)."""
    text = str(reason or "")
    return next(words for mark, words in REASON_KINDS if mark in text)


def files_overview(summary: dict) -> pd.DataFrame:
    """For the board: how many files were read, left out or ignored, and why, in words (raw file names can
    carry company names, so they stay with the analysts)."""
    rows = [("letti", "–") for f in summary["files"] if f["status"] == "read"]
    rows += [("esclusi", reason_in_words(f.get("reason"))) for f in summary["files"] if f["status"] != "read"]
    rows += [("ignorati", ig["reason"].split(" (")[0]) for ig in summary.get("ignored_files", [])]
    frame = pd.DataFrame(rows, columns=["Esito", "Motivo"])
    out = frame.groupby(["Esito", "Motivo"], sort=False).size().rename("File").reset_index()
    out["File"] = out["File"].map(fmt_int)
    return out


def rejections_by_reason(summary: dict, gate: Gate) -> pd.DataFrame:
    """Rejected rows per reason; the total is in every report's header, and only reasons that occur are
    listed, so the gate protects each small count against both."""
    counts = summary["totals"]["rejected_by_reason"]
    frame = pd.DataFrame({"Motivo": [REJECTION_LABELS.get(k, k) for k in counts],
                          "Righe": list(counts.values())})
    frame = frame[frame["Righe"] > 0].reset_index(drop=True)
    if frame.empty:
        return frame
    shown = gate.counts(frame[["Righe"]], "Righe scartate per motivo", row_totals=False, listed_only=True)
    return without_counts(with_note(frame.assign(Righe=shown.show()["Righe"]), shown.omitted), "Righe", "motivo")


def issues_by_field(cell_issues: pd.DataFrame, cb: Codebook, gate: Gate) -> pd.DataFrame:
    """Flagged cells per question, most flagged first; analysts also see the reason (question x reason)."""
    if cell_issues.empty:
        return pd.DataFrame(columns=["Domanda"])
    labels = {f.key: f.short if f.group == "need" else f.it for f in cb.fields}
    counts = pd.crosstab(cell_issues["field"], cell_issues["reason"])
    counts = counts.loc[counts.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    if gate.board:  # per question only: the total of flagged cells is public, each question is listed if it occurs
        counts = counts.sum(axis=1).to_frame("Celle segnalate")
        published = gate.counts(counts, "Celle segnalate per domanda", row_totals=False, listed_only=True)
    else:
        counts.columns = [REASONS.get(c, c) for c in counts.columns]
        published = gate.counts(counts, "Celle segnalate per domanda e motivo")
    shown = published.show()
    shown.index = [labels.get(k, k) for k in shown.index]
    return without_counts(with_note(shown.rename_axis("Domanda").reset_index(), published.omitted), "Celle segnalate",
                          "domanda")


def without_counts(frame: pd.DataFrame, column: str, what: str) -> pd.DataFrame:
    """A list whose every count the gate hid: the list alone, and one sentence instead of a column of n.p."""
    if column in frame and len(frame) and frame[column].eq(SUPPRESSED).all():
        frame = frame.drop(columns=[column])
        frame.attrs["note"] = (f"I numeri per {what} non sono pubblicabili: riguardano meno di 3 casi, o si "
                               "ricaverebbero per differenza dal totale.")
    return frame


def issues_by_file(cell_issues: pd.DataFrame) -> pd.DataFrame:
    """Flagged cells per file (analysts only: file names)."""
    if cell_issues.empty:
        return pd.DataFrame(columns=["File", "Celle segnalate"])
    counts = cell_issues.groupby("source_file").size().to_frame("Celle segnalate")
    return counts.rename_axis("File").reset_index()


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


def completeness_sentence(comp: pd.DataFrame, n: int = 5) -> str:
    """The ``n`` questions with the fewest answers and the lowest share among the others, in one sentence."""
    if comp.empty:
        return "Nessuna domanda del questionario è stata letta."
    order = comp.sort_values(["Quota", "Domanda"], kind="stable")
    lowest, rest = order.head(n), order.iloc[n:]
    text = "Domande con meno risposte: " + "; ".join(
        f"{d} ({fmt_pct(q)})" for d, q in zip(lowest["Domanda"], lowest["Quota"], strict=True)) + "."
    if len(rest):
        text += f" A ciascuna delle altre {len(rest)} domande ha risposto almeno il {fmt_pct(rest['Quota'].min())} " \
                "delle imprese."
    return text


def sector_size_table(responses: pd.DataFrame, cb: Codebook, gate: Gate) -> pd.DataFrame:
    """Companies by sector group and size class, with totals, as the gate lets the board see them (small
    categories merged, small cells hidden)."""
    sizes, sectors = board_sizes(responses, cb, gate), board_sectors(responses, cb, gate)
    size_col = sizes.labels(responses["size_class"].fillna("n.d."))
    if sectors.omitted:
        rows = pd.Series("Tutte le imprese", index=responses.index)
    else:
        rows = sectors.labels(responses["gruppo_merceologico"])
    counts = pd.crosstab(rows, size_col).reindex(columns=sizes.order, fill_value=0)
    if not sectors.omitted:
        counts = counts.reindex(sectors.order, fill_value=0)
    published = gate.counts(counts, "Imprese per gruppo merceologico e dimensione")
    shown = published.show()
    shown["Totale"] = published.row_total_text()
    out = with_note(shown.rename_axis("Gruppo merceologico").reset_index(), published.omitted or sizes.omitted)
    if sectors.omitted:
        out.attrs["note"] = sectors.omitted
    return out


def size_counts(responses: pd.DataFrame, cb: Codebook) -> pd.Series:
    """Companies per size class in the codebook's order, "n.d." (not given) last."""
    counts = responses["size_class"].fillna("n.d.").value_counts()
    return counts.reindex([s.key for s in cb.size_classes] + ["n.d."], fill_value=0)


def board_sizes(responses: pd.DataFrame, cb: Codebook, gate: Gate):
    """The size classes as every section shows them (a class under 3 companies merged with a neighbour)."""
    return gate.categories(size_counts(responses, cb), {**cb.size_labels, "n.d.": "Non indicata"}, ordered=True,
                           what="classe dimensionale")


def board_sectors(responses: pd.DataFrame, cb: Codebook, gate: Gate):
    """The sector groups as every section shows them (left out, with the reason, when one is under 3)."""
    counts = responses["gruppo_merceologico"].value_counts().reindex(cb.sector_labels, fill_value=0)
    return gate.categories(counts, cb.sector_short, what="gruppo merceologico")


def sector_names(responses: pd.DataFrame, cb: Codebook, gate: Gate) -> dict[str, str]:
    """Each sector group as the board may name it beside an individual company (a Champion, an alternate): its
    short name, or ``n.p.`` when the sector breakdown is left out (a group of 1-2 companies: naming a Champion's
    group would place it in that group)."""
    from analysis.disclosure import SUPPRESSED

    groups = board_sectors(responses, cb, gate)
    return {g: (SUPPRESSED if groups.omitted or groups.board.get(g) is None else groups.board[g])
            for g in cb.sector_labels}


def format_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Integers as Italian text (``1.250``), suppressed cells kept as they are."""
    return frame.map(lambda v: fmt_int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)

