"""Comparing two survey waves (``analysis run --compare-to DIR``, notebook 06).

``DIR`` is a previous run's output folder (``DIR/processed/``) or its
processed folder itself. Companies are matched across waves by
``company_id`` (VAT number, else normalised name), the same identity as
reading; the pseudonym key is carried over from the previous wave, so a
company keeps its pseudonym.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import catalog
from analysis.codebook import Codebook
from analysis.disclosure import Gate, with_note


@dataclass
class Wave:
    folder: Path
    responses: pd.DataFrame
    priorities: pd.DataFrame | None
    segments: pd.Series | None  # segment name per company_id
    champions: pd.DataFrame | None
    wave: str


def processed_folder(path: str | Path) -> Path:
    """The processed folder of a previous run's output folder (or the processed folder itself)."""
    p = Path(path)
    for candidate in (p / "processed", p):
        if (candidate / catalog.RUN_MANIFEST).is_file() or catalog.exists("responses", candidate):
            return candidate
    raise FileNotFoundError(f"{p}: non contiene i risultati di un'esecuzione precedente (né in {p / 'processed'})")


def load_wave(path: str | Path, cb: Codebook | None = None) -> Wave:
    """A previous run's set, refused unless complete and consistent; steps it did not run are None."""
    folder = processed_folder(path)
    manifest = catalog.check_set(folder, need=("responses",))
    listed = manifest["outputs"]

    def maybe(name: str):
        return catalog.read(name, folder, cb) if catalog.dataset(name).file in listed else None

    segments = maybe("segments")
    summary = maybe("ingest_summary") or {}
    return Wave(folder, catalog.read("responses", folder, cb), maybe("priorities"),
                segments.set_index("company_id")["segment"] if segments is not None else None, maybe("champions"),
                str(manifest.get("wave") or str(summary.get("generated", ""))[:10]))


def needs_then_and_now(before: pd.DataFrame, now: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """Per need: share rating it 4-5 in each wave (of the companies that answered it) and the change."""
    rows = []
    for k in cb.need_keys:
        shares = []
        for frame in (before, now):
            v = frame[k].astype("Float64").astype(float).dropna() if k in frame else pd.Series(dtype=float)
            shares.append((float((v >= 4).mean()) if len(v) else np.nan, len(v)))
        rows.append({"need": k, "share_before": shares[0][0], "n_before": shares[0][1],
                     "share_now": shares[1][0], "n_now": shares[1][1]})
    out = pd.DataFrame(rows)
    out["change"] = out["share_now"] - out["share_before"]
    return out


def priorities_then_and_now(before: pd.DataFrame, now: pd.DataFrame, scope: str = "tutte") -> pd.DataFrame:
    """Per need: score and rank in each wave (all companies) and how many places it moved (positive: up)."""
    b = before[before["scope"] == scope].set_index("need")[["score", "rank"]].add_suffix("_before")
    n = now[now["scope"] == scope].set_index("need")[["score", "rank"]].add_suffix("_now")
    out = n.join(b, how="outer")
    out["moved"] = out["rank_before"] - out["rank_now"]
    return out.sort_values("rank_now").reset_index()


def companies_in_both(before: pd.DataFrame, now: pd.DataFrame) -> dict[str, int]:
    b, n = set(before["company_id"]), set(now["company_id"])
    return {"both": len(b & n), "new": len(n - b), "gone": len(b - n)}


def segment_moves(before: pd.Series, now: pd.Series) -> pd.DataFrame:
    """Companies in both waves by previous (``prima``) and current (``ora``) segment: ``imprese`` per pair."""
    common = before.index.intersection(now.index)
    if not len(common):
        return pd.DataFrame({"prima": pd.Series(dtype=str), "ora": pd.Series(dtype=str),
                             "imprese": pd.Series(dtype=int)})
    pairs = pd.DataFrame({"prima": before.loc[common].to_numpy(), "ora": now.loc[common].to_numpy()})
    return pairs.value_counts().rename("imprese").reset_index().sort_values(["prima", "ora"]).reset_index(drop=True)


def champion_changes(before: pd.DataFrame | None, now: pd.DataFrame | None) -> pd.DataFrame:
    """Every Champion of either wave: ``kept``, ``new`` or ``no longer``."""
    b = set(before["company_id"]) if before is not None else set()
    n = set(now["company_id"]) if now is not None else set()
    rows = [{"company_id": c, "status": "confermato" if c in b else "nuovo"} for c in sorted(n)]
    rows += [{"company_id": c, "status": "non più Champion"} for c in sorted(b - n)]
    return pd.DataFrame(rows, columns=["company_id", "status"])


@dataclass
class Comparison:
    """This wave against the previous one (the ``confronto`` step): what section 06 shows."""

    info: dict  # previous wave, companies in both, new, gone, accepted then and now
    needs: pd.DataFrame  # needs_then_and_now
    priorities: pd.DataFrame | None  # priorities_then_and_now
    moves: pd.DataFrame  # prima, ora, imprese: companies in both waves by previous and current segment
    champions: pd.DataFrame  # company_id, ragione_sociale, status


def without(wave: Wave, exclusions: list, cb: Codebook) -> Wave:
    """The wave without the companies the corrections file of this run erases (matched by VAT number or
    normalised name, as reading matches them), so the comparison never shows them."""
    from analysis.identity import CompanyLookup

    if not exclusions:
        return wave
    lookup = CompanyLookup(wave.responses, cb.legal_forms)
    gone = {cid for c in exclusions if (cid := lookup.find(c.company, c.vat)) is not None}
    if not gone:
        return wave
    keep = ~wave.responses["company_id"].isin(gone)
    return Wave(wave.folder, wave.responses[keep].reset_index(drop=True), wave.priorities,
                None if wave.segments is None else wave.segments[~wave.segments.index.isin(gone)],
                None if wave.champions is None else wave.champions[~wave.champions["company_id"].isin(gone)],
                wave.wave)


def compare(before: Wave, now: Wave, cb: Codebook) -> Comparison:
    """Every comparison of two waves, unsuppressed (the section applies the disclosure rules)."""
    both = companies_in_both(before.responses, now.responses)
    info = {"previous_wave": before.wave, **both, "accepted_before": len(before.responses),
            "accepted_now": len(now.responses)}
    prio = priorities_then_and_now(before.priorities, now.priorities) \
        if before.priorities is not None and now.priorities is not None else None
    none = pd.Series(dtype=str)
    moves = segment_moves(before.segments if before.segments is not None else none,
                          now.segments if now.segments is not None else none)
    changes = champion_changes(before.champions, now.champions)
    names = pd.concat([before.responses, now.responses]).drop_duplicates("company_id", keep="last") \
        .set_index("company_id")["ragione_sociale"]
    changes.insert(1, "ragione_sociale", changes["company_id"].map(names))
    return Comparison(info, needs_then_and_now(before.responses, now.responses, cb), prio, moves, changes)


def published_needs(needs: pd.DataFrame, gate: Gate) -> pd.DataFrame:
    """:func:`needs_then_and_now` as the board may see it: a share is a count once multiplied by the companies
    that answered, so shares of 1 or 2 companies are left out."""
    return needs.assign(share_before=needs["share_before"].mask(gate.share(needs["share_before"], needs["n_before"])),
                        share_now=needs["share_now"].mask(gate.share(needs["share_now"], needs["n_now"])))


def moves_table(moves: pd.DataFrame, gate: Gate) -> pd.DataFrame:
    """Previous segment (rows) x current segment (columns): the segment sizes of both waves are published in
    their reports, so small cells are protected against both."""
    if moves.empty:
        return pd.DataFrame()
    table = moves.pivot_table(index="prima", columns="ora", values="imprese", aggfunc="sum", fill_value=0)
    before = gate.categories(table.sum(axis=1), what="segmento precedente")
    now = gate.categories(table.sum(axis=0), what="segmento attuale")
    if before.omitted or now.omitted:
        return with_note(pd.DataFrame(columns=["Segmento prima"]), before.omitted or now.omitted)
    table = table.groupby(before.board).sum().reindex(before.order)
    table = table.T.groupby(now.board).sum().reindex(now.order).T
    published = gate.counts(table, "Imprese per segmento nelle due rilevazioni")
    return with_note(published.show().rename_axis(None, axis=1).rename_axis("Segmento prima").reset_index(),
                     published.omitted)
