"""Supply-chain (filiera) priorities: a score per need, for every segment and for all companies.

For each need and scope (a segment, or all companies) five components, each
between 0 and 1, computed on the answers as given (blanks left out):

* ``diffusione``: share of the companies that answered rating it 4-5;
* ``intensita``: mean importance rescaled from 1-5 to 0-1;
* ``divario``: the maturity gap: each company rating it 4-5 counts its
  distance from full maturity in the related dimension (``1 - answer / 5``),
  every other company 0, averaged over the companies that answered (so a
  need two companies want does not score high on their gap alone);
* ``urgenza``: likewise the urgency of the investment horizon of the
  companies rating it 4-5 (the first option of ``orizzonte_investimento``,
  "Entro 12 mesi", is 1, the last 0, evenly between; a blank horizon 0);
* ``filiera``: the share rating it 4-5 with every company weighted by its
  place in the filiera: its supply-chain position (the first option of
  ``posizione_filiera``, OEM, 1; the last, subcontractor, 0.5; evenly
  between) plus how many other surveyed companies are linked to it as
  customers or suppliers, relative to the most linked company (0-1).

The score is ``100 x`` the weighted mean of the components, with the
weights of :data:`DEFAULT_WEIGHTS` unless the analyst gives others. Ranks
go from 1 (highest score) within each scope; ties follow the codebook's need
order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import scoring
from analysis.codebook import Codebook
from analysis.disclosure import shown
from analysis.reporting import fmt_num, fmt_pct
from analysis.text import markdown_text

ALL_SCOPE = "tutte"
COMPONENTS = ("diffusione", "intensita", "divario", "urgenza", "filiera")
COMPONENT_LABELS = {"diffusione": "Diffusione (voto 4-5)", "intensita": "Intensità media", "divario": "Divario di "
                    "maturità", "urgenza": "Urgenza dell'investimento", "filiera": "Peso nella filiera"}
DEFAULT_WEIGHTS = {"diffusione": 0.30, "intensita": 0.20, "divario": 0.15, "urgenza": 0.15, "filiera": 0.20}
HIGH = 4


def check_weights(weights: dict) -> dict[str, float]:
    return scoring.check_weights(weights, COMPONENTS, "priority")


def _option_scale(series: pd.Series, options: tuple[str, ...], low: float) -> pd.Series:
    """First option 1, last ``low``, evenly between; anything else missing."""
    if len(options) < 2:
        return pd.Series(np.nan, index=series.index)
    steps = {o: 1 - (1 - low) * i / (len(options) - 1) for i, o in enumerate(options)}
    return series.map(steps).astype(float)


def company_weights(responses: pd.DataFrame, cb: Codebook, linked: pd.Series) -> pd.Series:
    """Weight of each company in the filiera: position (0.5-1, 0.75 when unknown) + links (0-1)."""
    position = _option_scale(responses["posizione_filiera"], cb.by_key["posizione_filiera"].options, 0.5)
    links = linked / linked.max() if len(linked) and linked.max() > 0 else linked * 0.0
    return position.fillna(0.75) + links.astype(float)


def _components(values: np.ndarray, maturity: np.ndarray, urgency: np.ndarray, weight: np.ndarray,
                lo: float, hi: float) -> dict[str, float]:
    answered = ~np.isnan(values)
    if not answered.any():
        return dict.fromkeys(COMPONENTS, 0.0) | {"n": 0, "n_high": 0, "gap_high": np.nan}
    v = values[answered]
    high = values >= HIGH
    n = answered.sum()
    # A company rating the need 4-5 with a blank maturity answer counts the mean gap of the others.
    gap = 1 - maturity[high]
    gap = np.where(np.isnan(gap), np.nanmean(gap) if (~np.isnan(gap)).any() else 0.0, gap)
    return {"n": int(n), "n_high": int(high.sum()),
            "gap_high": float(gap.mean()) if len(gap) else np.nan,
            "diffusione": float(high.sum() / n),
            "intensita": float((v.mean() - lo) / (hi - lo)),
            "divario": float(gap.sum() / n),
            "urgenza": float(np.nan_to_num(urgency[high]).sum() / n),
            "filiera": float(weight[high].sum() / weight[answered].sum()) if weight[answered].sum() > 0 else 0.0}


def priority_table(responses: pd.DataFrame, cb: Codebook, segments: pd.Series | None, linked: pd.Series,
                   weights: dict | None = None, segment_names: dict[int, str] | None = None) -> pd.DataFrame:
    """Components, ``score`` and ``rank`` per scope and need: :data:`ALL_SCOPE` first, then the segments in
    their order. ``gap_high`` is the mean distance from full maturity (0-1) of the companies rating the
    need 4-5 (the maturity gap before weighting by how many they are). ``segments`` holds segment numbers (index of ``responses``) named by ``segment_names``."""
    w = check_weights(DEFAULT_WEIGHTS if weights is None else weights)
    lo, hi = cb.importance_range
    maturity_keys = cb.maturity_by_dimension
    urgency = _option_scale(responses["orizzonte_investimento"], cb.by_key["orizzonte_investimento"].options,
                            0.0).to_numpy()
    cw = company_weights(responses, cb, linked).to_numpy()
    scopes = [(ALL_SCOPE, np.ones(len(responses), bool))]
    if segments is not None:
        names = segment_names or {}
        scopes += [(names.get(s, str(s)), (segments == s).to_numpy()) for s in sorted(segments.unique())]
    rows = []
    for need_order, f in enumerate(cb.needs):
        if f.key not in responses:
            continue
        values = responses[f.key].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        mkey = maturity_keys.get(f.maturity)
        maturity = (responses[mkey].astype("Float64").to_numpy(dtype=float, na_value=np.nan) / 5
                    if mkey and mkey in responses else np.full(len(responses), np.nan))
        for scope_order, (scope, mask) in enumerate(scopes):
            comp = _components(values[mask], maturity[mask], urgency[mask], cw[mask], lo, hi)
            rows.append({"scope": scope, "need": f.key, "_scope_order": scope_order, "_need_order": need_order,
                         **comp})
    out = pd.DataFrame(rows)
    total = sum(w.values())
    out["score"] = 100 * sum(out[c] * w[c] for c in COMPONENTS) / total
    out["score"] = out["score"].round(6)  # the same figures on every machine, byte for byte in the CSV
    out = out.sort_values(["_scope_order", "score", "_need_order"], ascending=[True, False, True], kind="stable")
    out["rank"] = out.groupby("_scope_order").cumcount() + 1
    out = out.drop(columns=["_scope_order", "_need_order"]).reset_index(drop=True)
    first = ["scope", "need", "score", "rank"]
    return out[first + [c for c in out.columns if c not in first]]


def weights_table(weights: dict) -> pd.DataFrame:
    """The weights as shares of their total, for the report."""
    w = check_weights(weights)
    total = sum(w.values())
    return pd.DataFrame({"Componente": [COMPONENT_LABELS[c] for c in COMPONENTS],
                         "Peso": [fmt_pct(w[c] / total, 0) for c in COMPONENTS]})


def top_table(table: pd.DataFrame, cb: Codebook, scope: str, gate, top: int = 5) -> pd.DataFrame:
    """The ``top`` priorities of a scope, for the report; a share rating 4-5 that counts fewer than 3
    companies on either side (4-5 or not) is not shown (share times companies would give the count)."""
    t = table[table["scope"] == scope].head(top)
    hide = gate.share(t["n_high"] / t["n"].where(t["n"] > 0), t["n"])
    return pd.DataFrame({"Posizione": t["rank"].to_numpy(), "Bisogno": [cb.by_key[k].short for k in t["need"]],
                         "Punteggio": [fmt_num(v, 1) for v in t["score"]],
                         "Voto 4-5": shown(t["diffusione"], hide, fmt_pct)})


def segment_lines(table: pd.DataFrame, cb: Codebook, names: dict[int, str], top: int = 3) -> str:
    """A Markdown list: each segment with its ``top`` priorities and their scores."""
    lines = []
    for s in sorted(names):
        part = table[table["scope"] == names[s]].head(top)
        lines.append(f"- **{s}. {markdown_text(names[s])}**: " + "; ".join(
            f"{cb.by_key[n].short} ({fmt_num(v, 0)})" for n, v in zip(part["need"], part["score"], strict=True)))
    return "\n".join(lines)
