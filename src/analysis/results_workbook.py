"""``results.xlsx`` for the analysts (processed folder, never under reports: it holds real names).

One formatted sheet per table: priorities, segment profiles, Champions,
candidates, startup matches and data quality (files, balance, rejected rows,
flagged cells). Header style, column widths, frozen header row, number
formats. Any text starting with ``=``, ``+``, ``-`` or ``@`` is written as
text, never as a formula (a company name or an answer cannot run in Excel).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from analysis import catalog, quality
from analysis.codebook import Codebook
from analysis.outputs import save_workbook
from analysis.text import visible

FORMULA_START = ("=", "+", "-", "@")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
HEADER_FONT = Font(bold=True, color="FFFFFF")


def write_sheet(wb: Workbook, title: str, frame: pd.DataFrame, formats: dict[str, str] | None = None) -> None:
    """One formatted sheet: styled header, frozen first row, widths from the content, number formats by column,
    every text cell written as text."""
    ws = wb.create_sheet(title[:31])
    ws.append([visible(c) for c in frame.columns])
    for cell in ws[1]:
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in frame.itertuples(index=False):
        ws.append([_cell(v) for v in row])
    for r in ws.iter_rows(min_row=2):
        for cell in r:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                cell.data_type = "s"  # text, not a formula
    formats = formats or {}
    for j, col in enumerate(frame.columns, start=1):
        letter = get_column_letter(j)
        values = [str(col)] + [str(v) for v in frame[col].head(500) if v is not None]
        ws.column_dimensions[letter].width = min(60, max(8, max(len(v) for v in values) + 2))
        if col in formats:
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = formats[col]
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions


def _cell(v):
    if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
        return None
    if isinstance(v, (list, tuple)):
        return visible("; ".join(map(str, v)))
    if isinstance(v, str):
        return visible(v)  # control characters from the data, shown (Excel refuses them raw)
    if hasattr(v, "item"):
        return v.item()
    return v


def build(folder: str | Path, cb: Codebook) -> Path:
    """Write ``results.xlsx`` from the outputs in the processed ``folder`` (read through the catalog)."""
    folder = Path(folder)

    def read(name: str) -> pd.DataFrame | None:
        return catalog.read(name, folder, cb) if catalog.exists(name, folder) else None

    wb = Workbook()
    wb.remove(wb.active)
    label = {f.key: f.it for f in cb.needs}
    prio = read("priorities")
    if prio is not None:
        # Intervals and tiers are missing in the outputs of earlier versions.
        extra = [c for c in ("tier", "score_lo", "score_hi", "rank_lo", "rank_median", "rank_hi", "n", "n_high",
                             "diffusione", "intensita", "divario", "urgenza", "filiera") if c in prio]
        write_sheet(wb, "Priorità", prio.assign(bisogno=prio["need"].map(label))[
            ["scope", "rank", "need", "bisogno", "score", *extra]],
            {"score": "0.0", "score_lo": "0.0", "score_hi": "0.0",
             **dict.fromkeys(("diffusione", "intensita", "divario", "urgenza", "filiera"), "0.000")})
    segments = read("segments")
    responses = catalog.read("responses", folder, cb)
    if segments is not None:
        write_sheet(wb, "Profili dei segmenti", segment_profiles(responses, segments, cb),
                    {**{label[k]: "0.00" for k in cb.need_keys}, "quota": "0.0%"})
        write_sheet(wb, "Segmenti", segments.merge(responses[["company_id", "ragione_sociale",
                                                              "gruppo_merceologico"]], on="company_id", how="left"))
    for name, title, fmt in [("champions", "Champion", {"score": "0.000"}),
                             ("champion_candidates", "Candidati Champion",
                              {c: "0.000" for c in ("score", "rappresentativita", "copertura", "prontezza",
                                                    "influenza", "disponibilita")}
                              | {"frequenza_selezione": "0%", "frequenza_ricampionamento": "0%"}),
                             ("startup_matches", "Startup", {"score": "0.0"})]:
        frame = read(name)
        if frame is not None:
            write_sheet(wb, title, frame, fmt)
    gov = read("governance_scores")
    if gov is not None:  # issue 18: the innovation governance of every company, with its name
        gov = responses[["company_id", "ragione_sociale", "gruppo_merceologico"]].merge(gov, on="company_id",
                                                                                        how="right")
        write_sheet(wb, "Governance", gov, {"indice_governance": "0.0"})
    found = read("challenge_themes")
    if found is not None:  # issue 18: what each challenge speaks of, with the text itself (analysts only)
        short = {k: cb.by_key[k].short for k in cb.need_keys}
        found = found.assign(tema=[short.get(t, t) if k == "bisogno" else t
                                   for k, t in zip(found["tipo"], found["tema"], strict=True)])
        write_sheet(wb, "Temi delle sfide", found.merge(
            responses[["company_id", "ragione_sociale", "gruppo_merceologico", "sfida_principale"]],
            on="company_id", how="left"))
    summary = catalog.read("ingest_summary", folder, cb)
    write_sheet(wb, "Qualità - file", quality.files_table(summary))
    write_sheet(wb, "Qualità - bilancio", quality.balance_table(summary))
    for name, title in [("rejected", "Qualità - scartate"), ("cell_issues", "Qualità - celle")]:
        frame = read(name)
        if frame is not None:
            write_sheet(wb, title, frame)
    return save_workbook(wb, catalog.path("results", folder))


def segment_profiles(responses: pd.DataFrame, segments: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """Per segment: companies, share, companies per sector group, and mean importance of every need."""
    seg = responses["company_id"].map(segments.set_index("company_id")["segment"])
    needs = responses[cb.need_keys].astype("Float64").astype(float).groupby(seg.to_numpy()).mean()
    needs.columns = [cb.by_key[k].it for k in cb.need_keys]
    sectors = pd.crosstab(seg, responses["gruppo_merceologico"]).reindex(columns=cb.sector_labels, fill_value=0)
    out = pd.DataFrame({"imprese": seg.value_counts()})
    out["quota"] = out["imprese"] / len(responses)
    out = out.join(sectors).join(needs)
    return out.sort_values("imprese", ascending=False).reset_index(names="segmento")
