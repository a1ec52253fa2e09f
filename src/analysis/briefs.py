"""One page per Champion (issue 15), for PoliHub's first meeting with it, in two versions.

* **Analysts** (``schede_champion_analisti.html`` in the processed folder, never in the board folder): the
  company's real name and contact person, its own top needs and digital maturity.
* **Board** (``schede_champion.html`` beside the board report): the same page under the naming rule; the
  company's own answers (top needs, maturity) only when it consented to be named.

Both show the needs of the companies linked to it in the supply network, aggregated over at least 3 companies
and never naming them, its segment's priorities, the startups that fit its needs and the proposed pilots. The
pages read the run's outputs (as the notebooks do) and are printed to PDF with the board report.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import catalog, network, priorities, quality, segmentation
from analysis.codebook import Codebook
from analysis.disclosure import Gate
from analysis.maturity import band
from analysis.reporting import fmt_num, wave_label
from analysis.text import and_list, html_text, quantity

_CSS = """
<style>
body {font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; font-size: 10pt; color: #1F1F1F; margin: 0}
.brief {break-after: page; padding: 4mm 2mm}
.brief:last-child {break-after: auto}
.brief h1 {font-size: 16pt; margin: 0 0 2mm 0; color: #1F4E79}
.brief .who {color: #555; margin-bottom: 4mm}
.brief h2 {font-size: 11pt; margin: 4mm 0 1.5mm 0; border-bottom: 1px solid #BFBFBF; color: #1F4E79}
.brief ul {margin: 0; padding-left: 5mm}
.brief li {margin: 0.8mm 0}
.brief .note {color: #555; font-size: 9pt}
.banner {background: #FFF2CC; border: 2px solid #BF9000; padding: 2mm; font-weight: bold; margin-bottom: 3mm}
@media screen {body {max-width: 900px; margin: 12px auto} .brief {border-bottom: 3px solid #1F4E79}}
</style>
"""


def _linked(edges: pd.DataFrame) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for a, b in zip(edges["supplier"], edges["customer"], strict=True):
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return out


def linked_needs(ids: set[str], responses: pd.DataFrame, cb: Codebook, gate: Gate, top: int = 3) -> list[str]:
    """The needs the linked companies rate 4-5 most often, over at least 3 companies; empty when they are too
    few. Named without their shares: two Champions linked to sets that differ by one company would give that
    company's answers away by difference."""
    part = responses[responses["company_id"].isin(ids)]
    if gate.small(len(part)):
        return []
    rows = []
    for k in cb.need_keys:
        answered = part[k].dropna()
        if not len(answered) or gate.small(len(answered)):  # the analysts' gate hides nothing: skip the empty
            continue
        share = float((answered >= 4).mean())
        if share > 0:
            rows.append((share, k))
    rows.sort(key=lambda t: (-t[0], cb.need_keys.index(t[1])))
    return [cb.by_key[k].short for _, k in rows[:top]]


def _startups(matches: pd.DataFrame | None, needs: list[str], cb: Codebook, per_need: int = 2) -> list[str]:
    if matches is None:
        return []
    out = []
    for k in needs:
        listed = matches[(matches["need"] == k) & (matches["scope"] == priorities.ALL_SCOPE)].nsmallest(per_need, "rank")
        names = [f"{html_text(s)} (TRL {int(t)})" for s, t in zip(listed["startup"], listed["trl"], strict=True)]
        out.append(f"{html.escape(cb.by_key[k].short)}: " + (", ".join(names) if names else
                                                             "nessuna startup dell'elenco risponde"))
    return out


@dataclass(frozen=True)
class Tables:
    """What the pages read from a run, read once."""

    responses: pd.DataFrame
    candidates: pd.DataFrame  # indexed by company_id
    priorities: pd.DataFrame
    matches: pd.DataFrame | None
    pilots: pd.DataFrame | None


def brief(cid: str, t: Tables, cb: Codebook, gate: Gate, names: pd.Series, board_segments: dict[str, str],
          linked: dict[str, set[str]], contacts: bool, sectors: dict[str, str]) -> str:
    """The HTML of one Champion's page. ``contacts``: the analyst version (real name, contact person)."""
    row = t.candidates.loc[cid]
    responses = t.responses
    answers = responses.set_index("company_id").loc[cid]
    prio, matches, pilots = t.priorities, t.matches, t.pilots
    own_shown = contacts or bool(row["consenso"])
    segment = board_segments.get(row["segment"], row["segment"])
    parts = [f"<section class='brief'><h1>{html_text(names[cid])}</h1>",
             f"<div class='who'>{html_text(sectors.get(row['gruppo_merceologico'], row['gruppo_merceologico']))}"
             f" &middot; segmento «{html_text(segment)}» &middot; "
             f"{html_text(row['posizione_filiera'] if isinstance(row['posizione_filiera'], str) else 'posizione nella filiera non indicata')}"
             "</div>"]
    if contacts:
        who = [html_text(answers.get(k)) for k in ("referente", "email_referente") if isinstance(answers.get(k), str)]
        parts.append(f"<div class='who'><b>Referente</b>: {' &middot; '.join(who) or 'non indicato'}</div>")
    own = [k for k in str(row["bisogni_propri"] or "").split(";") if k in cb.by_key]
    parts.append("<h2>I suoi bisogni principali</h2>")
    if own_shown:
        items = [f"<li>{html.escape(cb.by_key[k].it)} (voto {int(answers[k])})</li>" for k in own]
        parts.append(f"<ul>{''.join(items)}</ul>" if items else "<p>Nessun bisogno giudicato 4-5.</p>")
        index = row["indice_maturita"]
        parts.append("<p>Maturità digitale: " + (f"{band(pd.Series([index])).iloc[0]} ({fmt_num(index, 0)} su 100)"
                                                  if index == index else "non indicata") + ".</p>")
    else:
        parts.append("<p class='note'>Le risposte dell'impresa non sono mostrate: consenso a essere citata da "
                     "richiedere.</p>")
    ids = linked.get(cid, set())
    parts.append("<h2>Le imprese collegate nella filiera</h2>")
    found = linked_needs(ids, responses, cb, gate)
    parts.append(f"<p>Collegata come cliente o fornitore a {quantity(len(ids), 'impresa rispondente', 'imprese rispondenti')}"
                 + (f"; i bisogni che segnalano più spesso come rilevanti: {and_list(found)}.</p>" if found else
                    ": troppo poche per riassumerne i bisogni senza descriverle.</p>" if ids else ".</p>"))
    parts.append("<h2>Le priorità del suo segmento</h2>")
    if segment == row["segment"] or not gate.board:
        top = prio[prio["scope"] == row["segment"]].nsmallest(3, "rank")["need"]
        parts.append("<ul>" + "".join(f"<li>{html.escape(cb.by_key[k].it)}</li>" for k in top) + "</ul>")
    else:
        parts.append("<p class='note'>Segmento riunito con altri per il consiglio: priorità non mostrate.</p>")
    # Without consent its own needs stay out of the board's page: the startups follow its segment's priorities.
    mine_shown = own_shown and bool(own)
    fit = own if mine_shown else prio[prio["scope"] == row["segment"]].nsmallest(2, "rank")["need"].tolist()
    listed = _startups(matches, fit, cb)
    if listed:
        parts.append(f"<h2>Startup per {'i suoi bisogni' if mine_shown else 'le priorità del suo segmento'}</h2><ul>"
                     + "".join(f"<li>{x}</li>" for x in listed) + "</ul>")
    if pilots is not None:
        mine = pilots[(pilots["company_id"] == cid) & pilots["startup"].notna()]
        parts.append("<h2>Proposte di sperimentazione</h2>")
        if len(mine):
            parts.append("<ul>" + "".join(f"<li>{html_text(s)} per {html.escape(cb.by_key[k].short)}</li>"
                                          for s, k in zip(mine["startup"], mine["need"], strict=True)) + "</ul>")
        else:
            note = pilots.loc[pilots["company_id"] == cid, "note"].dropna()
            text = str(note.iloc[0]) if len(note) else "nessuna proposta"
            parts.append(f"<p class='note'>{html_text(text[:1].upper() + text[1:])}.</p>")
    return "".join(parts) + "</section>"


def write_briefs(processed: Path, reports: Path, wave: str, sample_run: bool, codebook_path=None) -> list[Path]:
    """Both versions of the Champions' pages, from a run's outputs; returns the files written (none without
    Champions)."""
    from analysis.outputs import atomic_write_text
    from analysis.reporting import load_processed

    data = load_processed(processed, codebook_path, need=("champions", "champion_candidates", "priorities",
                                                          "segmentation", "segments"))
    cb = data.codebook
    champs = data.read("champions")
    if not len(champs):
        return []
    seg = data.segmentation()
    edges, _ = network.supply_edges(data.responses, cb)
    linked = _linked(edges)
    tables = Tables(data.responses, data.read("champion_candidates").set_index("company_id"), data.read("priorities"),
                    data.read("startup_matches") if data.has("startup_matches") else None,
                    data.read("startup_pilots") if data.has("startup_pilots") else None)
    written = []
    for view, folder, file in (("board", reports, catalog.BOARD_BRIEFS), ("analyst", processed, catalog.ANALYST_BRIEFS)):
        gate = Gate(view)
        names = gate.names(data.responses, data.key(), mark=True)
        board_segments = segmentation.board_segment_names(seg, segmentation.board_segments(seg, gate))
        title = f"Schede Champion - rilevazione {wave_label(wave)}"
        banner = ("<div class='banner'>DATI DI ESEMPIO: schede costruite sul questionario sintetico incluso nel "
                  "progetto.</div>" if sample_run else "")
        warn = ("" if gate.board else "<div class='banner'>SCHEDE PER GLI ANALISTI: nomi reali e referenti, da non "
                                      "inoltrare al consiglio.</div>")
        sectors = quality.sector_names(data.responses, cb, gate)
        pages = [brief(c, tables, cb, gate, names, board_segments, linked, contacts=not gate.board, sectors=sectors)
                 for c in champs["company_id"]]
        # The banners on every brief: a brief is handed out on its own.
        doc = (f"<!DOCTYPE html><html lang='it'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
               f"{_CSS}</head><body>"
               + "".join(p.replace("<section class='brief'>", f"<section class='brief'>{warn}{banner}", 1) for p in pages)
               + "</body></html>")
        written.append(atomic_write_text(folder / file, doc))
    return written

