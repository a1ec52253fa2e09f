"""Needs across the two sector groups (notebook 02).

* :func:`needs_long` builds, once, the long table every figure and test of
  the needs reads: one row per company and need it answered.
* :func:`need_summary` gives, per need and sector group (and for all
  companies), how many answered, the share rating it 4-5 and the mean
  importance with a 95% confidence interval; weighted when the rows carry
  post-stratification weights (see :mod:`analysis.weights`).
* :func:`compare_sectors` tests, need by need, whether the two groups rate it
  differently: Mann-Whitney U (scipy), rank-biserial correlation as effect
  size, Benjamini-Hochberg adjustment across the needs, and a verdict in
  words.
* :func:`need_families` groups needs that companies ask for together:
  average-linkage hierarchical clustering on 1 - Spearman correlation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.cluster import hierarchy
from scipy.spatial.distance import squareform

from analysis.codebook import Codebook
from analysis.disclosure import Gate, shown
from analysis.reporting import fmt_int, fmt_num, fmt_pct

HIGH = 4  # "Molto rilevante" or "Prioritario"
ALL_COMPANIES = "Tutte le imprese"
ALPHA = 0.05
MIN_PER_GROUP = 3  # answers per group below which the Mann-Whitney test says nothing useful (not a disclosure rule)


def needs_long(responses: pd.DataFrame, cb: Codebook, weights: pd.Series | None = None) -> pd.DataFrame:
    """One row per company and answered need: ``company_id``, ``gruppo_merceologico``, ``size_class``,
    ``need``, ``importance`` (1-5), ``high`` (rated 4-5) and ``weight`` (1 unless ``weights``, indexed like
    ``responses``, are given). Blank answers are left out, never counted as low."""
    keys = [k for k in cb.need_keys if k in responses]
    base = responses[["company_id", "gruppo_merceologico", "size_class"]].copy()
    base["weight"] = 1.0 if weights is None else weights.reindex(responses.index).astype(float).to_numpy()
    wide = responses[keys].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    rows, cols = np.nonzero(~np.isnan(wide))
    long = base.iloc[rows].reset_index(drop=True)
    long.insert(3, "need", pd.Categorical(np.asarray(keys)[cols], categories=keys))
    long.insert(4, "importance", wide[rows, cols])
    long.insert(5, "high", long["importance"] >= HIGH)
    return long


def _weighted_mean_ci(x: np.ndarray, w: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and t-interval; with unequal weights the standard error uses Kish's effective sample size."""
    n = len(x)
    if n == 0:
        return np.nan, np.nan, np.nan
    mean = float(np.average(x, weights=w))
    if n < 2:
        return mean, np.nan, np.nan
    n_eff = w.sum() ** 2 / (w ** 2).sum()
    var = float(np.average((x - mean) ** 2, weights=w)) * n / (n - 1)
    half = stats.t.ppf(0.5 + level / 2, df=max(n_eff - 1, 1)) * np.sqrt(var / n_eff)
    return mean, mean - half, mean + half


def need_summary(long: pd.DataFrame, cb: Codebook, by: str = "gruppo_merceologico",
                 include_all: bool = True) -> pd.DataFrame:
    """Per need and group: ``n`` (companies that answered), ``n_high`` (companies rating it 4-5, unweighted),
    ``share_high`` (the share rating 4-5), ``mean`` importance
    and its 95% interval ``ci_low``-``ci_high``. Weighted by the ``weight`` column. Groups follow the codebook
    order (sector groups, then size classes); ``include_all`` adds the group :data:`ALL_COMPANIES`."""
    parts = [long] + ([long.assign(**{by: ALL_COMPANIES})] if include_all else [])
    frame = pd.concat(parts, ignore_index=True)
    rows = []
    for (need, group), g in frame.groupby(["need", by], observed=True, sort=False):
        x, w = g["importance"].to_numpy(float), g["weight"].to_numpy(float)
        mean, lo, hi = _weighted_mean_ci(x, w)
        rows.append({"need": need, by: group, "n": len(g), "n_high": int(g["high"].sum()),
                     "share_high": float(np.average(g["high"], weights=w)),
                     "mean": mean, "ci_low": lo, "ci_high": hi})
    out = pd.DataFrame(rows, columns=["need", by, "n", "n_high", "share_high", "mean", "ci_low", "ci_high"])
    order = {**{s: i for i, s in enumerate(cb.sector_labels)}, **{s: 10 + i for i, s in enumerate(cb.size_labels)},
             ALL_COMPANIES: 99}
    need_order = {k: i for i, k in enumerate(cb.need_keys)}
    out = out.sort_values([by, "need"], key=lambda s: s.map(order if s.name == by else need_order).fillna(50))
    out["need"] = out["need"].astype(str)
    return out.reset_index(drop=True)


def rank_biserial(u: float, n1: int, n2: int) -> float:
    """Rank-biserial correlation from the U of the first sample: +1 when every value of the first sample
    beats every value of the second, -1 the reverse, 0 no tendency (Kerby's simple difference formula)."""
    return 2.0 * u / (n1 * n2) - 1.0


# The rank-biserial correlation of two groups is Cliff's delta: its usual thresholds (Romano et al., 2006).
CLIFF_THRESHOLDS = (0.147, 0.33, 0.474)


def effect_words(r: float) -> str:
    """Size of a rank-biserial correlation (Cliff's delta) in words: under 0.147 negligible, under 0.33
    small, under 0.474 medium, else large."""
    a = abs(r)
    small, medium, large = CLIFF_THRESHOLDS
    return "trascurabile" if a < small else "piccola" if a < medium else "media" if a < large else "grande"


SECTOR_TESTS = ("mannwhitney", "brunnermunzel")


def compare_sectors(long: pd.DataFrame, cb: Codebook, alpha: float = ALPHA, test: str = "mannwhitney"
                    ) -> pd.DataFrame:
    """Need by need, the first sector group against the second.

    Mann-Whitney U (two-sided, scipy's default method) or, with ``test="brunnermunzel"``, the Brunner-Munzel
    test, which stays valid when the two groups differ in spread (Mann-Whitney then rejects equal medians too
    often). The effect is Cliff's delta (the rank-biserial correlation, positive: the first group rates the
    need higher), p-values adjusted across the needs with Benjamini-Hochberg, and a ``verdict``. The test is
    on the companies as they answered (unweighted): weights change what is representative, not how strong
    the evidence is. Needs with fewer than 3 answers in a group get no test.
    """
    if test not in SECTOR_TESTS:
        raise ValueError(f"test must be one of {SECTOR_TESTS}, not {test!r}")
    first, second = cb.sector_labels[:2]
    rows = []
    for need in cb.need_keys:
        part = long[long["need"] == need]
        x = part.loc[part["gruppo_merceologico"] == first, "importance"].to_numpy(float)
        y = part.loc[part["gruppo_merceologico"] == second, "importance"].to_numpy(float)
        row = {"need": need, "n_first": len(x), "n_second": len(y),
               "mean_first": x.mean() if len(x) else np.nan, "mean_second": y.mean() if len(y) else np.nan,
               "u": np.nan, "p": np.nan, "rank_biserial": np.nan}
        if len(x) >= MIN_PER_GROUP and len(y) >= MIN_PER_GROUP and np.ptp(np.concatenate([x, y])) > 0:
            res = stats.mannwhitneyu(x, y, alternative="two-sided")
            row.update(u=float(res.statistic), p=float(res.pvalue),
                       rank_biserial=rank_biserial(float(res.statistic), len(x), len(y)))
            if test == "brunnermunzel":
                # With no overlap at all the statistic is infinite and scipy returns no p-value: the groups
                # then differ as much as they can, as Mann-Whitney says too.
                bm = stats.brunnermunzel(x, y, alternative="two-sided")
                row["p"] = float(bm.pvalue) if np.isfinite(bm.pvalue) else float(res.pvalue)
        rows.append(row)
    out = pd.DataFrame(rows)
    tested = out["p"].notna()
    out["p_adj"] = np.nan
    if tested.any():
        out.loc[tested, "p_adj"] = stats.false_discovery_control(out.loc[tested, "p"].to_numpy(), method="bh")
    out["credible"] = out["p_adj"] < alpha
    out["verdict"] = [_verdict(r, cb, alpha) for r in out.itertuples()]
    return out


def _verdict(r, cb: Codebook, alpha: float) -> str:
    if np.isnan(r.p):
        return "Non verificabile (meno di 3 risposte in un gruppo)"
    if r.p_adj >= alpha:
        return "Nessuna differenza credibile"
    higher = cb.sector_short[cb.sector_labels[0] if r.rank_biserial > 0 else cb.sector_labels[1]]
    return f"Differenza credibile, {effect_words(r.rank_biserial)}: più sentito da {higher}"


@dataclass
class NeedFamilies:
    """Needs grouped by how companies ask for them together."""

    correlation: pd.DataFrame  # Spearman, need x need, in dendrogram order
    linkage: np.ndarray  # optimally ordered: its leaves are ``order``
    order: list[str]  # need keys in dendrogram leaf order
    family: pd.Series  # need key -> family number (1..), numbered in dendrogram order
    threshold: float

    def members(self) -> dict[int, list[str]]:
        return {int(f): [k for k in self.order if self.family[k] == f] for f in sorted(self.family.unique())}


def need_families(responses: pd.DataFrame, cb: Codebook, min_correlation: float = 0.3) -> NeedFamilies:
    """Hierarchical clustering of the needs (average linkage on 1 - Spearman correlation, pairwise complete).

    Two needs fall in the same family when the average correlation between the two groups being joined is
    at least ``min_correlation``. A need nobody differentiates (constant answers) correlates with nothing and
    stays a family of its own.
    """
    keys = [k for k in cb.need_keys if k in responses]
    wide = responses[keys].astype("Float64").astype(float)
    values = wide.corr(method="spearman", min_periods=3).fillna(0.0).to_numpy(copy=True)
    np.fill_diagonal(values, 1.0)
    corr = pd.DataFrame(values, index=keys, columns=keys)
    dist = np.clip(1.0 - values, 0.0, 2.0)
    dist = (dist + dist.T) / 2
    np.fill_diagonal(dist, 0.0)
    condensed = squareform(dist, checks=False)
    # Optimal leaf ordering puts the most similar needs next to each other (same tree, same families).
    link = hierarchy.optimal_leaf_ordering(hierarchy.linkage(condensed, method="average"), condensed)
    order = [keys[i] for i in hierarchy.leaves_list(link)]
    raw = pd.Series(hierarchy.fcluster(link, t=1.0 - min_correlation, criterion="distance"), index=keys)
    # Renumber in reading order of the dendrogram so family 1 is the top block of the heatmap.
    renumber = {old: new for new, old in enumerate(dict.fromkeys(raw[order]), start=1)}
    return NeedFamilies(correlation=corr.loc[order, order], linkage=link, order=order,
                        family=raw.map(renumber), threshold=min_correlation)


def family_table(families: NeedFamilies, summary: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """One row per family: its needs (short labels), their mean share rating 4-5 over all companies,
    and the mean correlation inside the family. With ``summary`` from :func:`published_summary`, the mean
    share is left out (NaN, listed last) when any of its needs' shares is hidden: the mean and the other
    shares would give it away."""
    overall = summary[summary.iloc[:, 1] == ALL_COMPANIES].set_index("need")
    hidden = overall["share_hidden"] if "share_hidden" in overall else pd.Series(False, index=overall.index)
    rows = []
    for fam, keys in families.members().items():
        block = families.correlation.loc[keys, keys].to_numpy()
        inner = block[np.triu_indices(len(keys), 1)]
        secret = bool(hidden.reindex(keys).fillna(True).any())
        rows.append({"family": fam, "needs": [cb.by_key[k].short for k in keys], "size": len(keys),
                     "share_high": np.nan if secret else float(overall["share_high"].reindex(keys).mean()),
                     "mean_correlation": float(inner.mean()) if len(inner) else np.nan})
    return pd.DataFrame(rows).sort_values(["share_high", "family"], ascending=[False, True],
                                          na_position="last").reset_index(drop=True)


# --------------------------------------------------------------------------
# Tables for the report (Italian formats, suppression for the board)

def published_summary(summary: pd.DataFrame, gate: Gate, breakdown: bool = True) -> pd.DataFrame:
    """:func:`need_summary` as the board may see it, with two columns the tables and figures follow:

    * ``hidden``: the group's companies and mean importance are not shown: fewer than 3 companies answered,
      or another group's would give it away beside the figure over all companies;
    * ``share_hidden``: its share rating 4-5 is not shown either: the share times the companies that answered
      is a count, so the companies rating it 4-5 and the others are protected like any count table (groups
      x {4-5, other}, against the group sizes and the figures over all companies);
    * ``mean_hidden``: its mean importance and interval are not shown (hidden, or the share is).

    ``breakdown=False`` keeps only the figures over all companies (a group under 3 companies that merging
    cannot help)."""
    by = summary.columns[1]
    s = summary if breakdown else summary[summary[by] == ALL_COMPANIES]
    n = s.pivot(index="need", columns=by, values="n")
    high = s.pivot(index="need", columns=by, values="n_high")
    total = n[ALL_COMPANIES] if ALL_COMPANIES in n else None
    groups = [c for c in n.columns if c != ALL_COMPANIES]
    hidden = gate.bases(n[groups], total, "Bisogni per gruppo merceologico") if groups else pd.DataFrame(index=n.index)
    if total is not None:
        hidden[ALL_COMPANIES] = gate.small(total.fillna(0).to_numpy())
    shares = hidden.copy()
    for need in n.index:
        rows = groups or [ALL_COMPANIES]
        split = pd.DataFrame({"4-5": high.loc[need, rows].fillna(0).to_numpy(),
                              "altro": (n.loc[need, rows] - high.loc[need, rows]).fillna(0).to_numpy()}, index=rows)
        published = gate.counts(split, f"Voto 4-5 per gruppo: {need}", column_totals=bool(groups))
        for g in rows:
            shares.loc[need, g] = bool(shares.loc[need, g]) or bool(published.hidden.loc[g].any())
        if groups and ALL_COMPANIES in shares:
            shares.loc[need, ALL_COMPANIES] = bool(shares.loc[need, ALL_COMPANIES]) or bool(
                published.column_hidden.any())
    flags, share_flags = hidden.stack(), shares.stack()
    keys = list(zip(s["need"], s[by], strict=True))
    out = s.assign(hidden=[bool(flags.get(k, True)) for k in keys],
                   share_hidden=[bool(share_flags.get(k, True)) for k in keys])
    # Over a few companies the mean and its interval together pin down the ratings, and so the count rating
    # 4-5: they are hidden wherever the share is.
    return out.assign(mean_hidden=out["hidden"] | out["share_hidden"])


def display_order(summary: pd.DataFrame) -> list[str]:
    """Needs by their share rating 4-5 over all companies, highest first; needs whose share is hidden come
    last, in the codebook's order (their place in a sorted list would bound the hidden share)."""
    by = summary.columns[1]
    overall = summary[summary[by] == ALL_COMPANIES].set_index("need")
    if overall.empty:
        return list(dict.fromkeys(summary["need"]))
    hidden = overall["share_hidden"] if "share_hidden" in overall else pd.Series(False, index=overall.index)
    shown = overall.loc[~hidden, "share_high"].sort_values(ascending=False, kind="stable").index.tolist()
    return shown + overall.index[hidden.to_numpy()].tolist()


def summary_table(summary: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """Per need (rows, sorted by the share over all companies) and group: the share rating it 4-5 with the
    companies that answered, mean importance with its 95% interval; ``summary`` from :func:`published_summary`."""
    by = summary.columns[1]
    groups = list(dict.fromkeys(summary[by]))
    order = display_order(summary)
    out = pd.DataFrame({"Bisogno": [cb.by_key[k].short for k in order]})
    for g in groups:
        part = summary[summary[by] == g].set_index("need").reindex(order)
        name = cb.sector_short.get(g, cb.size_labels.get(g, g))
        hide = part["hidden"].fillna(True).astype(bool).to_numpy()
        hide_share = part["share_hidden"].fillna(True).astype(bool).to_numpy()
        hide_mean = part["mean_hidden"].fillna(True).astype(bool).to_numpy()
        # Share and companies in one column, so that three groups fit a printed page.
        counts = shown(part["n"], hide, fmt_int)
        shares = shown(part["share_high"], hide_share, fmt_pct)
        out[f"{name}: voto 4-5 (imprese)"] = [f"{a} ({b})" for a, b in zip(shares, counts, strict=True)]
        out[f"{name}: media (IC 95%)"] = shown(
            zip(part["mean"], part["ci_low"], part["ci_high"], strict=True), hide_mean,
            lambda m: f"{fmt_num(m[0], 2)} ({fmt_num(m[1], 2)}-{fmt_num(m[2], 2)})")
    return out


def comparison_table(comparison: pd.DataFrame, summary: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """The sector comparison in words, credible differences first (largest effect first); a need whose group
    figures the board may not see (``summary`` from :func:`published_summary`) shows none of its test."""
    by = summary.columns[1]
    hidden = summary[summary[by] != ALL_COMPANIES].groupby("need")["mean_hidden"].any()
    first, second = (cb.sector_short[s] for s in cb.sector_labels[:2])
    c = comparison.assign(_abs=comparison["rank_biserial"].abs()).sort_values(
        ["credible", "_abs"], ascending=[False, False], kind="stable")
    hide = c["need"].map(hidden).fillna(True).astype(bool).to_numpy()

    def col(values, fmt):
        return shown(values, hide, fmt)

    return pd.DataFrame({
        "Bisogno": [cb.by_key[k].short for k in c["need"]],
        f"Media {first}": col(c["mean_first"], lambda v: fmt_num(v, 2)),
        f"Media {second}": col(c["mean_second"], lambda v: fmt_num(v, 2)),
        "Ampiezza (da -1 a +1)": col(c["rank_biserial"], lambda v: fmt_num(v, 2)),
        "Giudizio": col(c["verdict"], str),
    })
