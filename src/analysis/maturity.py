"""Digital maturity: six 0-5 answers turned into 0-100 scores, an index and the EU bands.

The six dimensions follow the EU Digital Maturity Assessment (DMA). Each
answer 0-5 becomes ``answer / 5 * 100``; the overall index is the mean of
the dimensions the company answered, and is left missing when it answered
fewer than :data:`MIN_DIMENSIONS` of them (a mean of one or two answers
would not describe its overall maturity). Bands are the DMA's: Base 0-25,
Intermedio 26-50, Moderatamente avanzato 51-75, Avanzato 76-100.

:func:`need_gap` sets what companies say they need against how mature they
are in the dimension the codebook relates to that need.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.codebook import Codebook
from analysis.disclosure import Gate, Published, shown, with_note
from analysis.reporting import fmt_int, fmt_num

SCALE_MAX = 5
MIN_DIMENSIONS = 4
INDEX = "indice_maturita"
BANDS = [(25, "Base"), (50, "Intermedio"), (75, "Moderatamente avanzato"), (100, "Avanzato")]
BAND_LABELS = [label for _, label in BANDS]


def maturity_scores(responses: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """Per company (index of ``responses``): one 0-100 column per dimension (named by the dimension),
    :data:`INDEX`, the ``banda`` (ordered categorical) and ``dimensioni_risposte``."""
    keys = [f.key for f in cb.maturity if f.key in responses]
    raw = responses[keys].astype("Float64").astype(float)
    scores = raw / SCALE_MAX * 100
    scores.columns = [cb.by_key[k].dimension for k in keys]
    answered = scores.notna().sum(axis=1)
    index = scores.mean(axis=1).where(answered >= MIN_DIMENSIONS)
    out = scores.copy()
    out[INDEX] = index
    out["banda"] = band(index)
    out["dimensioni_risposte"] = answered
    return out


def band(index: pd.Series) -> pd.Series:
    """DMA band of a 0-100 index: up to 25 Base, up to 50 Intermedio, up to 75 Moderatamente avanzato, above
    that Avanzato (the DMA's 26-50 etc. are whole scores; a score between 25 and 26 counts as Intermedio)."""
    edges = [-np.inf] + [upper for upper, _ in BANDS[:-1]] + [np.inf]
    return pd.cut(index, bins=edges, labels=BAND_LABELS, right=True).astype(
        pd.CategoricalDtype(BAND_LABELS, ordered=True))


def weighted_mean(values: pd.Series, weights: pd.Series | None = None) -> float:
    """Mean of the non-missing values, weighted when ``weights`` (aligned on the index) are given."""
    v = values.astype(float)
    ok = v.notna()
    if not ok.any():
        return np.nan
    w = np.ones(int(ok.sum())) if weights is None else weights[ok].to_numpy(float)
    return float(np.average(v[ok].to_numpy(), weights=w))


def maturity_by_group(scores: pd.DataFrame, groups: pd.Series, order: list[str],
                      weights: pd.Series | None = None, index: str = INDEX, band: str = "banda",
                      labels: list[str] = BAND_LABELS) -> pd.DataFrame:
    """Per group: companies with an index, mean index (weighted when ``weights`` are given), and the count
    of companies in each band (group order kept). Any 0-100 index with bands: the maturity's by default, the
    governance's (:mod:`analysis.governance`) with its ``index``, ``band`` and ``labels``."""
    frame = scores[[index, band]].assign(group=groups.to_numpy())
    frame = frame[frame[index].notna()]
    counts = pd.crosstab(frame["group"], frame[band]).reindex(index=order, columns=labels, fill_value=0)
    out = counts.copy()
    means = {g: weighted_mean(part[index], None if weights is None else weights.loc[part.index])
             for g, part in frame.groupby("group")}
    out.insert(0, "indice_medio", pd.Series(means, dtype=float).reindex(order))
    out.insert(0, "n", counts.sum(axis=1))
    return out[out["n"] > 0]


def need_gap(responses: pd.DataFrame, cb: Codebook, scores: pd.DataFrame | None = None,
             high: int = 4, weights: pd.Series | None = None) -> pd.DataFrame:
    """Per need: the related dimension, how many companies rate the need 4-5 (``n_high``), the need's
    intensity (mean importance on a 0-100 scale, ``(importance - 1) / 4 * 100``), the mean maturity in the
    related dimension of the companies rating it 4-5 (``maturity_high``) and of all companies
    (``maturity_all``), ``gap = 100 - maturity_high``: how far the companies that want this most are from
    full maturity where it matters, and ``shortfall = maturity_all - maturity_high``: how much less mature
    they are than the average company. A need without a related dimension (or one the data lacks) gets
    no gap. Means are weighted when ``weights`` (indexed like ``responses``) are given."""
    scores = maturity_scores(responses, cb) if scores is None else scores
    w = weights
    lo, hi = cb.importance_range
    rows = []
    for f in cb.needs:
        if f.key not in responses:
            continue
        imp = responses[f.key].astype("Float64").astype(float)
        wants = imp >= high
        dim = f.maturity if f.maturity in scores else ""
        mat_high = weighted_mean(scores.loc[wants, dim], None if w is None else w[wants]) \
            if dim and wants.any() else np.nan
        rows.append({"need": f.key, "dimension": dim, "n_high": int(wants.sum()),
                     "intensity": weighted_mean((imp - lo) / (hi - lo) * 100, w),
                     "maturity_high": mat_high, "maturity_all": weighted_mean(scores[dim], w) if dim else np.nan,
                     "gap": 100 - mat_high})
    out = pd.DataFrame(rows)
    out["shortfall"] = out["maturity_all"] - out["maturity_high"]
    return out


def gap_table(gap: pd.DataFrame, cb: Codebook, gate: Gate) -> pd.DataFrame:
    """:func:`need_gap` for the report, largest gap first; for the board the maturity of fewer than 3
    companies rating a need 4-5 is not shown."""
    dims = {f.dimension: f.short for f in cb.maturity}
    hidden = np.asarray(gate.small(gap["n_high"].to_numpy()), dtype=bool)
    # Hidden rows last: their place in the order would bound their gap.
    g = pd.concat([gap[~hidden].sort_values("gap", ascending=False, kind="stable"), gap[hidden]])
    hide = np.asarray(gate.small(g["n_high"].to_numpy()), dtype=bool)

    def col(values, fmt):
        return shown(values, hide, fmt)

    return pd.DataFrame({
        "Bisogno": [cb.by_key[k].short for k in g["need"]],
        "Dimensione collegata": [dims.get(d, "–") for d in g["dimension"]],
        "Imprese con voto 4-5": col(g["n_high"], fmt_int),
        "Maturità di chi lo chiede": col(g["maturity_high"], fmt_num),
        "Maturità media": [fmt_num(v) for v in g["maturity_all"]],
        "Divario (100 - maturità)": col(g["gap"], fmt_num),
        "Sotto la media di": col(g["shortfall"], fmt_num),
    })


NO_INDEX = "Senza indice"


def board_groups(scores: pd.DataFrame, groups: pd.Series, categories, weights: pd.Series | None = None,
                 index: str = INDEX, band: str = "banda", bands: list[str] = BAND_LABELS) -> pd.DataFrame:
    """:func:`maturity_by_group` over the categories the board sees (``categories``, from
    :meth:`analysis.disclosure.Gate.categories`: small ones merged), with the companies of each group that
    have no index (:data:`NO_INDEX`), so that the bands add up to the group sizes the report shows. Another
    index with bands (the governance's) names its ``index``, ``band`` and ``bands``."""
    labels = categories.labels(groups)
    out = maturity_by_group(scores, labels, categories.order, weights, index, band, bands).reindex(categories.order)
    out[bands + ["n"]] = out[bands + ["n"]].fillna(0).astype(int)
    out[NO_INDEX] = labels.value_counts().reindex(categories.order).fillna(0).astype(int) - out["n"]
    return out


def band_counts(by_group: pd.DataFrame, gate: Gate, caption: str, bands: list[str] = BAND_LABELS) -> Published:
    """The band counts of :func:`board_groups` (with the companies without an index) as the board may see
    them: each group's size and each band's total are shown (here, in the other breakdown and in the data
    quality section), so small cells are protected against both."""
    return gate.counts(by_group[bands + [NO_INDEX]], caption)


def mean_hidden(by_group: pd.DataFrame, published: Published, gate: Gate) -> np.ndarray:
    """Which groups' mean index the board may not see: with the group's size, with its companies without an
    index (the mean is over the others: their number would follow), or under 3 companies."""
    row_hidden = published.row_hidden if published.row_hidden is not None else pd.Series(False, index=by_group.index)
    return np.asarray(row_hidden, dtype=bool) | published.hidden[NO_INDEX].to_numpy() | np.asarray(
        gate.small(by_group["n"].to_numpy()), dtype=bool)


def mean_labels(by_group: pd.DataFrame, published: Published, gate: Gate) -> dict[str, str]:
    """Each group's name with its mean index where the board may see it (:func:`mean_hidden`), for the rows of
    a band figure: "Meccaniche (indice medio 24)"."""
    hidden = mean_hidden(by_group, published, gate)
    return {g: g if hide else f"{g} (indice medio {fmt_num(m, 0)})"
            for g, m, hide in zip(by_group.index, by_group["indice_medio"], hidden, strict=True)}


def band_table(by_group: pd.DataFrame, published: Published, gate: Gate) -> pd.DataFrame:
    """Companies, mean index and band counts per group (and those without an index), as ``published``
    (:func:`band_counts`) allows; the mean index as :func:`mean_hidden` allows."""
    out = published.show()
    out.insert(0, "Indice medio", shown(by_group["indice_medio"], mean_hidden(by_group, published, gate), fmt_num))
    out.insert(0, "Imprese", published.row_total_text())
    out.insert(0, "Gruppo", list(by_group.index))
    return with_note(out.reset_index(drop=True), published.omitted)
