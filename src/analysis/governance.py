"""Innovation governance: the programme's first phase, measured from the survey (issue 18).

Before Champions and startups, companies learn to organise innovation. Six
answers say how far each one has come: an innovation manager, an in-house R&D
function, R&D spend, open-innovation experience, the investment horizon and
the willingness to pilot with startups. The codebook's ``governance`` section
says how each answer scores (0-1); the **index** is 100 times the mean of the
answered components when at least ``min_answered`` are answered (a mean of
two answers would not describe a company's governance), else missing; the
**bands** are read from below (Iniziale 0-25, In sviluppo 25-50, Strutturata
50-75, Avanzata 75-100 by default).

Everything here is per company or per group; what the board may see of it
goes through the disclosure gate in the notebook (``07_governance``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.codebook import Codebook
from analysis.governance_definition import Definition, definition

INDEX = "indice_governance"
BAND = "banda_governance"
ANSWERED = "componenti_risposte"
MIN_PAIRS = 3  # companies with both indices for a rank correlation to mean anything


def component_scores(responses: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """Per company (index of ``responses``), each component's score 0-1 (missing when not answered or answered
    outside what the codebook scores), one column per field."""
    d = definition(cb)
    out = {}
    for c in d.components:
        col = responses[c.field] if c.field in responses else pd.Series(pd.NA, index=responses.index)
        if c.linear is not None:
            zero, full = c.linear
            x = pd.to_numeric(col, errors="coerce").astype(float)
            out[c.field] = ((x - zero) / (full - zero)).clip(0, 1)
        else:
            out[c.field] = col.astype(object).map(lambda v, s=c.scores: np.nan if v is None or v is pd.NA
                                                  or (isinstance(v, float) and v != v) else s.get(v, np.nan))
    return pd.DataFrame(out, index=responses.index).astype(float)


def band(index: pd.Series, d: Definition) -> pd.Series:
    """The band of a 0-100 index, read from below: a value equal to a bound starts the next band (25 is In
    sviluppo); 100 is in the last band. Missing stays missing."""
    edges = [-np.inf] + [u for u, _ in d.bands[:-1]] + [np.inf]
    return pd.cut(index, bins=edges, labels=d.labels, right=False).astype(
        pd.CategoricalDtype(d.labels, ordered=True))


def scores(responses: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """Per company: the components (0-1), :data:`ANSWERED`, the index 0-100 (:data:`INDEX`, missing under the
    codebook's ``min_answered``) and its band (:data:`BAND`)."""
    d = definition(cb)
    comp = component_scores(responses, cb)
    answered = comp.notna().sum(axis=1)
    out = comp.copy()
    out[ANSWERED] = answered
    out[INDEX] = (comp.mean(axis=1) * 100).where(answered >= d.min_answered)
    out[BAND] = band(out[INDEX], d)
    return out


def by_group(scores_: pd.DataFrame, groups: pd.Series, categories, weights: pd.Series | None, d: Definition
             ) -> pd.DataFrame:
    """Per category the board sees (``categories`` from :meth:`analysis.disclosure.Gate.categories`): companies
    with an index, the mean index (weighted when ``weights`` are given), the companies in each band and those
    without an index (the maturity's tables, for this index)."""
    from analysis import maturity

    return maturity.board_groups(scores_, groups, categories, weights, INDEX, BAND, d.labels)


def targets(scores_: pd.DataFrame, rows: pd.Series, columns: pd.Series, gate, weights: pd.Series | None = None
            ) -> pd.DataFrame:
    """The workshops' targets: each cell of two breakdowns the board sees (``rows`` x ``columns``, for example
    sector group x size class, labels per company as the board reads them) with its companies, its companies
    with an index and its mean index, weakest first.

    A mean over 1-2 companies is not shown; and since each row's and each column's mean is shown elsewhere, a
    cell whose mean is hidden never stands alone in its row or column (the next smallest cell is hidden with it),
    so that no hidden mean follows from the others by difference. Cells the board does not see (a row or column
    label ``None``) are left out."""
    from analysis.maturity import weighted_mean

    frame = pd.DataFrame({"row": rows.to_numpy(), "col": columns.to_numpy(), "index": scores_[INDEX].to_numpy()},
                         index=scores_.index).dropna(subset=["row", "col"])
    cells = []
    for (r, c), part in frame.groupby(["row", "col"], sort=False):
        with_index = part["index"].notna()
        cells.append({"row": r, "col": c, "companies": len(part), "with_index": int(with_index.sum()),
                      "mean": weighted_mean(part["index"], None if weights is None else weights.loc[part.index])})
    out = pd.DataFrame(cells, columns=["row", "col", "companies", "with_index", "mean"])
    out["hidden"] = np.asarray(gate.small(out["with_index"].to_numpy()), dtype=bool) if len(out) else []
    changed = True
    while changed:  # secondary suppression against the rows' and columns' means
        changed = False
        for key in ("row", "col"):
            for _, part in out.groupby(key):
                hidden = part[part["hidden"]]
                if len(hidden) == 1 and (~part["hidden"]).any():
                    partner = part[~part["hidden"]].sort_values(["with_index", "mean"]).index[0]
                    out.loc[partner, "hidden"] = True
                    changed = True
    return out.sort_values(["hidden", "mean"], kind="stable").reset_index(drop=True)


def weak_needs(responses: pd.DataFrame, scores_: pd.DataFrame, cb: Codebook, gate, d: Definition,
               high: int = 4) -> pd.DataFrame:
    """For each need, the share rating it ``high`` or more among companies with a weak governance (the bands
    under :data:`analysis.governance_definition.WEAK_BELOW`) and among the others, and the difference; a share the gate would not show (1-2
    companies on either side) is missing and so is the difference. Largest difference first."""
    weak = scores_[BAND].isin(d.weak) & scores_[INDEX].notna()
    strong = ~scores_[BAND].isin(d.weak) & scores_[INDEX].notna()
    rows = []
    for k in cb.need_keys:
        answers = pd.to_numeric(responses[k], errors="coerce") if k in responses else pd.Series(dtype=float)
        shares = {}
        for name, members in (("weak", weak), ("others", strong)):
            a = answers[members].dropna()
            share = float((a >= high).mean()) if len(a) else np.nan
            shares[name] = np.nan if len(a) == 0 or bool(gate.share(share, len(a))) else share
        rows.append({"need": k, "share_weak": shares["weak"], "share_others": shares["others"]})
    out = pd.DataFrame(rows)
    out["difference"] = out["share_weak"] - out["share_others"]
    return out.sort_values("difference", ascending=False, na_position="last", kind="stable").reset_index(drop=True)


def maturity_link(scores_: pd.DataFrame, maturity_index: pd.Series) -> tuple[float, int]:
    """Spearman's correlation between the governance index and the digital maturity index, over the companies
    with both, and their number (nan under 3 companies)."""
    from scipy.stats import spearmanr

    both = pd.DataFrame({"g": scores_[INDEX].to_numpy(), "m": maturity_index.to_numpy()}).dropna()
    if len(both) < MIN_PAIRS or both["g"].nunique() < 2 or both["m"].nunique() < 2:
        return np.nan, len(both)
    return float(spearmanr(both["g"], both["m"]).statistic), len(both)


TARGETS_SHOWN = 4  # groups listed as the workshops' targets, weakest first


def segment_means(scores_: pd.DataFrame, segment_of: pd.Series, gate, weights: pd.Series | None = None
                  ) -> dict[str, float] | None:
    """The mean index of each segment as the board names it (``segment_of``: per company; None outside the
    segments), or None when any segment has 1-2 companies with an index: with the overall mean shown, one hidden
    segment's mean would follow from the others."""
    from analysis.maturity import weighted_mean

    frame = pd.DataFrame({"segment": segment_of.to_numpy(), "index": scores_[INDEX].to_numpy()},
                         index=scores_.index).dropna()
    if frame.empty:
        return None
    counts = frame.groupby("segment").size()
    if np.asarray(gate.small(counts.to_numpy()), dtype=bool).any():
        return None
    return {s: weighted_mean(part["index"], None if weights is None else weights.loc[part.index])
            for s, part in frame.groupby("segment", sort=True)}


def maturity_sentence(rho: float, n: int) -> str:
    """The link between governance and digital maturity, in words, with the rank correlation."""
    from analysis.reporting import fmt_int, fmt_num

    strength = ("forte" if abs(rho) >= 0.5 else "moderato" if abs(rho) >= 0.3 else "debole" if abs(rho) >= 0.1
                else "quasi nullo")
    way = ("le imprese con una governance più organizzata sono anche più mature nel digitale" if rho > 0 else
           "le imprese con una governance più organizzata sono meno mature nel digitale")
    return (f"Legame con la maturità digitale: {strength} (correlazione dei ranghi {fmt_num(rho, 2)}, "
            f"{fmt_int(n)} imprese)" + (f": {way}." if abs(rho) >= 0.3 else "."))


def weak_needs_sentence(weak: pd.DataFrame, cb: Codebook, d: Definition, at_least: float = 0.05, named: int = 2
                        ) -> str:
    """The needs that companies with a weak governance state more than the others (by at least ``at_least`` of
    companies rating them 4-5), both shares as the gate allows (:func:`weak_needs`)."""
    from analysis.reporting import fmt_pct
    from analysis.text import and_list

    top = weak.dropna(subset=["difference"])
    top = top[top["difference"] >= at_least].head(named)
    who = f"Le imprese con governance debole ({and_list(d.weak)})"
    if top.empty:
        return f"{who} non chiedono bisogni diversi dalle altre."
    return (f"{who} segnalano più delle altre "
            + and_list([f"{cb.by_key[r.need].short} ({fmt_pct(r.share_weak, 0)} contro {fmt_pct(r.share_others, 0)})"
                        for r in top.itertuples(index=False)])
            + " (quota con voto 4-5): temi da portare nei loro workshop.")
