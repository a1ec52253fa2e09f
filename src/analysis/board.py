"""The board report: an executive summary first, then every section, in one offline HTML file.

The summary (notebook ``99_sintesi_consiglio``) reads what the analysis
steps wrote to the processed folder; every name in it goes through the
naming rule of :mod:`analysis.champions` / :mod:`analysis.confidentiality`.
:func:`combine` then joins the exported HTML of the summary and of every
section into ``rapporto_consiglio.html`` with a table of contents.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd

from analysis.codebook import Codebook
from analysis.confidentiality import CONSENT_TO_REQUEST
from analysis.reporting import fmt_int, fmt_pct, wave_label
from analysis.segmentation import NO_SEGMENTS
from analysis.text import markdown_text


def champion_lines(champions: pd.DataFrame, names: pd.Series) -> list[str]:
    """One line per Champion, by the naming rule, with its segment and its own reasons: what it asks for most,
    its place in the supply network, its readiness, whether the choice is robust (the segment's sentence is
    left out: the segment is in brackets)."""
    lines = []
    for row in champions.itertuples(index=False):
        reason = re.sub(r'^Segmento "[^"]*"\. ', "", row.reasons)
        segment = "" if row.segment == NO_SEGMENTS else f" ({markdown_text(row.segment)})"  # one group: no segment
        lines.append(f"- **{markdown_text(names[row.company_id])}**{segment}: {markdown_text(reason.rstrip('.'))}.")
    return lines


def champion_brief_lines(champions_: pd.DataFrame, candidates: pd.DataFrame, names: pd.Series, cb: Codebook,
                         resampled: bool) -> list[str]:
    """One short line per Champion for the summary, by the naming rule: its segment and, in a few words, why
    (:func:`analysis.champions.brief_reason`); the full reasons are in the Champion section."""
    from analysis import champions

    c = candidates.set_index("company_id")
    lines = []
    for row in champions_.itertuples(index=False):
        segment = "" if row.segment == NO_SEGMENTS else f", segmento «{markdown_text(row.segment)}»"
        why = champions.brief_reason(c.loc[row.company_id], cb, resampled)
        lines.append(f"- **{markdown_text(names[row.company_id])}**{segment}: {markdown_text(why)}.")
    return lines


def champions_to_confirm(champions: pd.DataFrame, candidates: pd.DataFrame | None) -> int:
    """Champions that answered "Da valutare" to being one: their availability is to be confirmed."""
    if candidates is None or not len(champions):
        return 0
    chosen = candidates[candidates["company_id"].isin(champions["company_id"])]
    return int((chosen["disponibilita_champion"] != "Sì").sum())


def champions_without_consent(champions: pd.DataFrame, names: pd.Series) -> int:
    """Champions the board sees by a pseudonym: their consent to be named is to be asked."""
    if not len(champions):
        return 0
    return int(names[champions["company_id"]].str.contains(CONSENT_TO_REQUEST, regex=False).sum())


def next_steps(champions: pd.DataFrame, candidates: pd.DataFrame | None, names: pd.Series,
               pilots: int, issues: int) -> list[str]:
    steps = []
    to_confirm = champions_to_confirm(champions, candidates)
    if to_confirm:
        steps.append("Confermare la disponibilità del Champion che ha risposto \"Da valutare\"." if to_confirm == 1
                     else f"Confermare la disponibilità dei {to_confirm} Champion che hanno risposto \"Da valutare\".")
    no_consent = champions_without_consent(champions, names)
    if no_consent:
        steps.append("Chiedere al Champion indicato con uno pseudonimo il consenso a essere citato." if no_consent == 1
                     else f"Chiedere ai {no_consent} Champion indicati con uno pseudonimo il consenso a essere citati.")
    if pilots:
        steps.append("Organizzare l'incontro per la proposta di sperimentazione tra Champion e startup." if pilots == 1
                     else f"Organizzare gli incontri per le {pilots} proposte di sperimentazione tra Champion e startup.")
    if issues:
        cells = "la cella segnalata" if issues == 1 else f"le {fmt_int(issues)} celle segnalate"
        steps.append(f"Verificare con le imprese {cells} come illeggibili nelle risposte.")
    steps.append("Condividere le priorità di filiera con i gruppi merceologici e pianificare la prossima "
                 "rilevazione.")
    return steps


def choices_line(settings: dict, weighted: bool) -> str:
    """The analysis choices every report states, in words (spec section 8): the number of segments and how it was
    chosen, the method, missing answers, weighting. The random seed and the full configuration stay in the analyst
    manifest."""
    from analysis.segmentation import METHOD_PLAIN

    k = int(settings["k"])
    if not settings.get("structured", k > 1) or k <= 1:
        segments = "nessuna divisione in segmenti (le imprese non si dividono in gruppi distinti)"
    elif settings.get("forced"):
        segments = f"{k} segmenti, numero fissato dagli analisti"
    else:
        segments = f"{k} segmenti, numero scelto automaticamente dai dati"
    parts = [segments, f"metodo: {METHOD_PLAIN.get(settings['method'], settings['method'])}",
             "risposte mancanti sostituite con la mediana del gruppo merceologico" if settings["imputation"] ==
             "sector_median" else "risposte mancanti sostituite con la media dell'impresa",
             "risposte ponderate sul registro dei soci" if weighted else "risposte non ponderate"]
    if settings.get("with_maturity"):
        parts.append("segmenti formati anche sulle risposte sulla maturità digitale")
    return "Scelte dell'analisi: " + "; ".join(parts) + "."


# --------------------------------------------------------------------------
# One HTML file

_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.DOTALL | re.IGNORECASE)
_HEAD = re.compile(r"<head[^>]*>(.*)</head>", re.DOTALL | re.IGNORECASE)
_TITLE = re.compile(r"<h1[^>]*>(.*?)</h1>", re.DOTALL | re.IGNORECASE)

_EXTRA_CSS = """
<style>
.board-toc {border:1px solid #BFBFBF; padding:10px 18px; margin:12px 0 24px 0; background:#F7F9FC;
             font-family: system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; font-size: 15px}
.board-toc li {margin:3px 0}
.board-section {border-top:4px solid #1F4E79; margin-top:36px; padding-top:8px}
/* Tables and figures fit the window (800 px) and the A4 page: cells wrap, nothing scrolls or is cut. */
.jp-RenderedHTMLCommon table {max-width:100%; table-layout:auto}
.jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th {white-space:normal; overflow-wrap:break-word}
/* A name with no spaces (80 letters) breaks where it must instead of running off the page (in tables a long
   word gets break opportunities: reporting.table). */
.jp-RenderedHTMLCommon p, .jp-RenderedHTMLCommon li {overflow-wrap:anywhere}
.jp-OutputArea-output {overflow:visible; display:block; width:auto; max-width:100%; box-sizing:border-box}
.jp-MarkdownOutput.jp-RenderedHTMLCommon {overflow:visible}  /* printed, it showed a scroll bar */
.jp-RenderedImage img, .jp-RenderedHTMLCommon img {max-width:100%; height:auto}
@media (max-width: 900px) {
  .jp-RenderedHTMLCommon table {font-size:12px}
  .jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th {padding:3px 4px}
}
@media print {
  body {font-size:10pt}
  .board-section {break-before: page; border-top:none; margin-top:0}
  .board-toc + .board-section {break-before: auto}  /* the summary follows the contents on the first page */
  .jp-RenderedHTMLCommon table {width:100%; font-size:8pt}
  .jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th {padding:2px 4px}
  .jp-RenderedHTMLCommon tr, .jp-RenderedImage {break-inside: avoid}
  .jp-RenderedImage img {max-height:23cm; width:auto}
  .jp-RenderedHTMLCommon h1, .jp-RenderedHTMLCommon h2, .jp-RenderedHTMLCommon h3 {break-after: avoid}
  .jp-Cell, .jp-OutputArea, .jp-Cell-outputWrapper {break-inside: auto}
  /* Jupyter keeps each output on one page (and a table-cell cannot break): a long list or table would jump
     whole to the next page, leaving a blank one. */
  .jp-OutputArea-child, .jp-Cell-outputWrapper, .jp-OutputArea {display:block; break-inside:auto}
}
</style>
"""


def combine(parts: list[Path], out: Path, title: str, wave: str) -> Path:
    """Join exported notebooks (summary first) into one offline HTML page with a table of contents."""
    from analysis.outputs import atomic_write_text

    texts = [p.read_text("utf-8") for p in parts]
    head = _HEAD.search(texts[0])
    bodies, toc = [], []
    for i, (path, text) in enumerate(zip(parts, texts, strict=True)):
        body = _BODY.search(text)
        content = body.group(1) if body else text
        h1 = _TITLE.search(content)
        name = re.sub(r"<[^>]+>", "", h1.group(1)).strip() if h1 else path.stem
        anchor = f"sezione-{i}"
        toc.append(f"<li><a href='#{anchor}'>{html.escape(name)}</a></li>")
        bodies.append(f"<section class='board-section' id='{anchor}'>{content}</section>")
    head_text = re.sub(r"<title>.*?</title>", "", head.group(1), flags=re.DOTALL) if head else \
        "<meta charset='utf-8'>"
    page = ["<!DOCTYPE html><html lang='it'><head>", head_text,
            f"<title>{html.escape(title)} - {html.escape(wave_label(wave))}</title>", _EXTRA_CSS, "</head><body>",
            f"<nav class='board-toc'><b>{html.escape(title)} - rilevazione {html.escape(wave_label(wave))}</b><ol>",
            *toc, "</ol></nav>", *bodies, "</body></html>"]
    return atomic_write_text(out, "".join(page))


def weak_champions(champions_: pd.DataFrame, candidates: pd.DataFrame) -> list[str]:
    """The Champions that stay Champions in less than :data:`analysis.champions.ROBUST` of the subsamples."""
    from analysis import champions

    kept = candidates.set_index("company_id")["frequenza_ricampionamento"]
    return [c for c in champions_["company_id"] if kept.get(c, 0) < champions.ROBUST]


def fragility(champions_: pd.DataFrame, candidates: pd.DataFrame, resampled: bool) -> dict[str, str]:
    """The Champions whose choice is not robust (:func:`fragile_champions`), each with what it depends on:
    ``pesi`` (the weights of the criteria), ``dati`` (the subsamples of the companies) or ``pesi e dati``."""
    from analysis import champions

    c = candidates.set_index("company_id")
    out = {}
    for cid in fragile_champions(champions_, candidates, resampled):
        weights = not champions.is_robust(c["frequenza_selezione"].get(cid, 0.0), None)
        data = resampled and c["frequenza_ricampionamento"].get(cid, 0.0) < champions.ROBUST
        out[cid] = "pesi e dati" if weights and data else "pesi" if weights else "dati"
    return out


def fragile_champions(champions_: pd.DataFrame, candidates: pd.DataFrame, resampled: bool) -> list[str]:
    """The Champions whose choice is not robust by the rule of
    :func:`analysis.champions.robustness_sentence`: under other weights of the criteria or (``resampled``) on
    subsamples of the companies."""
    from analysis import champions

    c = candidates.set_index("company_id")
    return [cid for cid in champions_["company_id"]
            if not champions.is_robust(c["frequenza_selezione"].get(cid, 0.0),
                                       c["frequenza_ricampionamento"].get(cid, 0.0) if resampled else None)]


def robustness_lines(champions_: pd.DataFrame, candidates: pd.DataFrame, names: pd.Series, per_segment: int,
                     resampling: dict | None) -> list[str]:
    """How robust the Champions are to the data: how many stay Champions on most subsamples of the companies,
    which do not, and the alternates of their segment (the same alternates the Champion section shows)."""
    from analysis import champions

    if not resampling or not resampling.get("resamples"):
        return []
    chosen = champions_["company_id"].tolist()
    weak = weak_champions(champions_, candidates)
    share = fmt_pct(resampling["share"], 0)
    lines = [f"**Robustezza ai dati**: rifacendo segmentazione, priorità e scelta su {fmt_int(resampling['resamples'])} "
             f"sottocampioni del {share} delle imprese, "
             + ("il Champion resta tale" if len(chosen) == 1 and not weak else
                f"tutti i {len(chosen)} Champion restano tali" if not weak else
                f"{len(chosen) - len(weak)} dei {len(chosen)} Champion restano tali")
             + f" in almeno il {fmt_pct(champions.ROBUST, 0)} dei casi."]
    if weak:
        alt = champions.alternates(candidates, candidates["score"], chosen,
                                   candidates.set_index("company_id")["frequenza_selezione"], per_segment)
        segment_of = champions_.set_index("company_id")["segment"]
        for c in weak:
            others = alt[alt["segment"] == segment_of[c]]["company_id"]
            instead = (f"; alternative nello stesso segmento: {markdown_text(', '.join(names[o] for o in others))}"
                       if len(others) else "")
            kept = candidates.set_index("company_id")["frequenza_ricampionamento"].get(c, 0)
            lines.append(f"- {markdown_text(names[c])}: Champion nel {fmt_pct(kept, 0)} dei "
                         f"sottocampioni{instead}.")
    return lines
