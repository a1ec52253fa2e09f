"""Supply-chain (filiera) priorities: a score per need, for every segment and for all companies, with its
uncertainty.

Each component measures something the others do not (on the bundled sample no two correlate above 0.8
across needs; :func:`component_correlations` shows them, :func:`redundant_pairs` names any pair above
:data:`REDUNDANT`). For each need and scope (a segment, or all companies), on the answers as given (blanks
left out), each between 0 and 1:

* ``diffusione``: share of the companies that answered rating it 4-5 (how many ask);
* ``intensita``: among the companies rating it 4-5, the share rating it 5 (how strongly they ask);
* ``divario``: among the companies rating it 4-5, the mean distance from full maturity in the related
  dimension (``1 - answer / 5``; who asks is far behind);
* ``urgenza``: among them, how soon they mean to invest (the first option of ``orizzonte_investimento``,
  "Entro 12 mesi", is 1, the last 0, evenly between);
* ``filiera``: among them, the mean weight in the filiera: supply-chain position (the first option of
  ``posizione_filiera``, OEM, 1; the last, subcontractor, 0.5; 0.75 unknown) plus how many other surveyed
  companies are linked to it as customers or suppliers, relative to the most linked (0-1), rescaled 0-1.

The last four are means over the companies that ask, so a need two companies want would score on their
answers alone: each is shrunk towards the scope's mean over all needs by :data:`PRIOR` companies' worth
(``(sum + PRIOR x mean) / (companies + PRIOR)``). With a member register, companies count with their
post-stratification weights.

The score is ``100 x`` the weighted mean of the components (:data:`DEFAULT_WEIGHTS` unless the analyst
gives others). Ranks go from 1 (highest score) within each scope; ties follow the codebook's need order.

Uncertainty: the companies are resampled with replacement (``resamples`` times, seeded) and everything is
computed again: ``score_lo``/``score_hi`` and ``rank_lo``/``rank_hi`` are the 90% intervals,
``rank_median`` the median rank. **Tiers** read the ranks honestly: going down from the top, a tier is the
need with the best median rank plus every remaining need whose rank interval overlaps that need's interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis import scoring
from analysis.codebook import Codebook
from analysis.disclosure import shown
from analysis.reporting import fmt_num, fmt_pct
from analysis.text import markdown_text

ALL_SCOPE = "tutte"
COMPONENTS = ("diffusione", "intensita", "divario", "urgenza", "filiera")
COMPONENT_LABELS = {"diffusione": "Diffusione (voto 4-5)", "intensita": "Intensità (voto 5 tra chi lo chiede)",
                    "divario": "Divario di maturità di chi lo chiede", "urgenza": "Urgenza di chi lo chiede",
                    "filiera": "Peso nella filiera di chi lo chiede"}
DEFAULT_WEIGHTS = {"diffusione": 0.40, "intensita": 0.15, "divario": 0.15, "urgenza": 0.15, "filiera": 0.15}
HIGH = 4
PRIOR = 10  # companies' worth of the scope's mean that a component "among those who ask" is shrunk towards
REDUNDANT = 0.8  # two components correlating above this across needs measure the same thing
RESAMPLES = 200
BOOT_COMPANIES = 20_000
LEVEL = 0.90


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


@dataclass
class Inputs:
    """The answers the components read, one row per company (``responses`` order)."""

    values: np.ndarray  # companies x needs, 1-5 or NaN
    gap: np.ndarray  # companies x needs: 1 - related maturity / 5, or NaN
    urgency: np.ndarray  # companies: 0-1 or NaN
    filiera: np.ndarray  # companies: 0-1
    weights: np.ndarray  # companies: post-stratification weights (1 without a register)
    needs: list[str]

    def subset(self, rows: np.ndarray, filiera: np.ndarray) -> Inputs:
        """The companies ``rows``, with their weight in the filiera of the network they form among themselves."""
        return Inputs(self.values[rows], self.gap[rows], self.urgency[rows], filiera, self.weights[rows], self.needs)


def filiera_weight(responses: pd.DataFrame, cb: Codebook, linked: pd.Series) -> np.ndarray:
    """Each company's weight in the filiera (:func:`company_weights`) rescaled from 0.5-2 to 0-1."""
    return ((company_weights(responses, cb, linked) - 0.5) / 1.5).to_numpy(dtype=float)


def inputs(responses: pd.DataFrame, cb: Codebook, linked: pd.Series, weights: pd.Series | None = None) -> Inputs:
    keys = [f.key for f in cb.needs if f.key in responses]
    maturity = cb.maturity_by_dimension
    values = responses[keys].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    gap = np.full(values.shape, np.nan)
    for j, key in enumerate(keys):
        mkey = maturity.get(cb.by_key[key].maturity)
        if mkey and mkey in responses:
            gap[:, j] = 1 - responses[mkey].astype("Float64").to_numpy(dtype=float, na_value=np.nan) / 5
    urgency = _option_scale(responses["orizzonte_investimento"], cb.by_key["orizzonte_investimento"].options,
                            0.0).to_numpy()
    filiera = filiera_weight(responses, cb, linked)
    w = np.ones(len(responses)) if weights is None else weights.reindex(responses.index).fillna(1.0).to_numpy(float)
    return Inputs(values, gap, urgency, filiera, w, keys)


def _among_askers(x: np.ndarray, asks: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per need, the weighted mean of ``x`` over the companies rating it 4-5 (``asks``) with an answer, shrunk
    towards the mean over all needs by :data:`PRIOR` companies."""
    x = np.broadcast_to(x[:, None] if x.ndim == 1 else x, asks.shape)
    ok = asks & ~np.isnan(x)
    weight = w[:, None] * ok
    total = (weight * np.where(ok, x, 0.0)).sum(axis=0)
    count = weight.sum(axis=0)
    pooled = total.sum() / count.sum() if count.sum() > 0 else 0.5
    return (total + PRIOR * pooled) / (count + PRIOR)


def components(data: Inputs, rows: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The five components (needs x :data:`COMPONENTS`) over the companies ``rows``, each counted ``w`` times
    (post-stratification weight times bootstrap draws)."""
    v = data.values[rows]
    answered = ~np.isnan(v)
    asks = v >= HIGH
    wa = (w[:, None] * answered).sum(axis=0)
    spread = np.divide((w[:, None] * asks).sum(axis=0), wa, out=np.zeros(v.shape[1]), where=wa > 0)
    return np.column_stack([spread,
                            _among_askers((v == 5).astype(float), asks, w),
                            _among_askers(data.gap[rows], asks, w),
                            _among_askers(data.urgency[rows], asks, w),
                            _among_askers(data.filiera[rows], asks, w)])


def _score(comp: np.ndarray, w: dict[str, float]) -> np.ndarray:
    weights = np.array([w[c] for c in COMPONENTS])
    return 100 * comp @ weights / weights.sum()


def _ranks(scores: np.ndarray) -> np.ndarray:
    """Rank 1 for the highest score along the last axis; ties in need order (a stable sort)."""
    return np.argsort(np.argsort(-scores, axis=-1, kind="stable"), axis=-1, kind="stable") + 1


def priority_table(responses: pd.DataFrame, cb: Codebook, segments: pd.Series | None, linked: pd.Series,
                   weights: dict | None = None, segment_names: dict[int, str] | None = None,
                   survey_weights: pd.Series | None = None, resamples: int = RESAMPLES, seed: int = 42,
                   refit=None) -> pd.DataFrame:
    """Per scope and need: ``score``, ``rank``, the 90% intervals of both over ``resamples`` bootstrap
    resamples of the companies (``score_lo``, ``score_hi``, ``rank_lo``, ``rank_median``, ``rank_hi``), the
    ``tier``, the components, ``n`` (companies that answered) and ``n_high`` (rating it 4-5).
    :data:`ALL_SCOPE` first, then the segments in their order (``segments``: segment numbers, index of
    ``responses``, named by ``segment_names``); ``survey_weights``: post-stratification weights.

    ``refit(rows, counts)``, when given, returns the segment numbers of the companies ``rows`` drawn ``counts``
    times: the segments are formed again on every resample (they come from the same answers), so a segment's
    interval also carries the uncertainty of who is in it.

    Over :data:`BOOT_COMPANIES` companies each resample draws that many (an m-out-of-n bootstrap) and the
    deviations from the estimate are scaled by the square root of m/n, so a million companies cost what
    20,000 do."""
    w = check_weights(DEFAULT_WEIGHTS if weights is None else weights)
    data = inputs(responses, cb, linked, survey_weights)
    numbers = segments.to_numpy() if segments is not None else None
    scopes = _scopes(numbers, segment_names or {}, len(responses))
    rng = np.random.default_rng(seed)
    n = len(responses)
    m = min(n, BOOT_COMPANIES)
    # One draw of the companies per resample, shared by every scope (segments keep their members): the companies
    # drawn and how many times.
    draws = [np.unique(rng.integers(0, n, m), return_counts=True) for _ in range(resamples if n else 0)]
    # Each draw's segment of every drawn company: refitted on the draw, or the segment of the estimate.
    drawn = [None if numbers is None else refit(idx, k) if refit is not None else numbers[idx] for idx, k in draws]
    frames = []
    for scope_order, (scope, number, rows) in enumerate(scopes):
        comp = components(data, rows, data.weights[rows])
        score = _score(comp, w)
        boot = []
        for (idx, k), labels in zip(draws, drawn, strict=True):
            keep = np.ones(len(idx), dtype=bool) if number is None else labels == number
            boot.append(_score(components(data, idx[keep], data.weights[idx[keep]] * k[keep]), w))
        boot = np.array(boot) if boot else score[None, :]
        boot = score + (boot - score) * np.sqrt(m / n) if n else boot
        ranks = _ranks(boot)
        v = data.values[rows]
        tail = (1 - LEVEL) / 2
        part = pd.DataFrame({"scope": scope, "need": data.needs, "score": score, "_scope_order": scope_order,
                             "_need_order": np.arange(len(data.needs)),
                             "score_lo": np.quantile(boot, tail, axis=0), "score_hi": np.quantile(boot, 1 - tail, axis=0),
                             "rank_lo": np.quantile(ranks, tail, axis=0, method="inverted_cdf"),
                             "rank_median": np.quantile(ranks, 0.5, axis=0, method="inverted_cdf"),
                             "rank_hi": np.quantile(ranks, 1 - tail, axis=0, method="inverted_cdf"),
                             "n": (~np.isnan(v)).sum(axis=0), "n_high": (v >= HIGH).sum(axis=0)})
        for j, c in enumerate(COMPONENTS):
            part[c] = comp[:, j]
        frames.append(part)
    out = pd.concat(frames, ignore_index=True)
    rounded = ["score", "score_lo", "score_hi", *COMPONENTS]
    out[rounded] = out[rounded].round(6)  # the same figures on every machine, byte for byte in the CSV
    out = out.sort_values(["_scope_order", "score", "_need_order"], ascending=[True, False, True], kind="stable")
    out["rank"] = out.groupby("_scope_order").cumcount() + 1
    out["tier"] = 0
    for _, part in out.groupby("_scope_order"):
        out.loc[part.index, "tier"] = tiers(part)
    out = out.drop(columns=["_scope_order", "_need_order"]).reset_index(drop=True)
    for c in ("rank_lo", "rank_median", "rank_hi", "n", "n_high", "tier"):
        out[c] = out[c].astype(int)
    first = ["scope", "need", "score", "rank", "tier", "score_lo", "score_hi", "rank_lo", "rank_median", "rank_hi"]
    return out[first + [c for c in out.columns if c not in first]]


def _scopes(numbers: np.ndarray | None, names: dict, n: int) -> list[tuple[str, object, np.ndarray]]:
    """(name, segment number or None, rows) per scope: :data:`ALL_SCOPE` first, then each segment of
    ``numbers`` in order, named by ``names``."""
    scopes = [(ALL_SCOPE, None, np.arange(n))]
    if numbers is not None:
        scopes += [(names.get(s, str(s)), s, np.flatnonzero(numbers == s)) for s in sorted(np.unique(numbers))]
    return scopes


def scope_ranks(data: Inputs, labels: np.ndarray, names: dict, weights: dict | None = None) -> pd.DataFrame:
    """Score and rank per scope (all companies, then each segment of ``labels`` named by ``names``) and need,
    without intervals: what the Champion selection reads, quick enough to redo on every subsample."""
    w = check_weights(DEFAULT_WEIGHTS if weights is None else weights)
    frames = []
    for scope, _, rows in _scopes(labels, names, len(labels)):
        score = _score(components(data, rows, data.weights[rows]), w)
        frames.append(pd.DataFrame({"scope": scope, "need": data.needs, "score": score, "rank": _ranks(score)}))
    return pd.concat(frames, ignore_index=True)


def tiers(part: pd.DataFrame) -> pd.Series:
    """Tier per need of one scope: going down from the top, a tier is the need with the best median rank (ties:
    the better rank) plus every remaining need whose rank interval overlaps that need's interval."""
    lo, hi = part["rank_lo"].to_numpy(), part["rank_hi"].to_numpy()
    tier = np.zeros(len(part), dtype=int)
    left = np.ones(len(part), dtype=bool)
    for head in np.lexsort((part["rank"].to_numpy(), part["rank_median"].to_numpy())):
        if left[head]:
            members = left & (lo <= hi[head]) & (hi >= lo[head])
            tier[members] = tier.max() + 1
            left &= ~members
    return pd.Series(tier, index=part.index)


def component_correlations(table: pd.DataFrame, scope: str = ALL_SCOPE) -> pd.DataFrame:
    """Correlations of the components across the needs of a scope (Pearson)."""
    return table[table["scope"] == scope][list(COMPONENTS)].corr()


def redundant_pairs(corr: pd.DataFrame, limit: float = REDUNDANT) -> list[tuple[str, str, float]]:
    """Pairs of components correlating above ``limit`` across needs: they measure the same thing."""
    return [(a, b, float(corr.at[a, b])) for i, a in enumerate(corr.index) for b in corr.columns[i + 1:]
            if abs(corr.at[a, b]) > limit]


def weights_table(weights: dict) -> pd.DataFrame:
    """The weights as shares of their total, for the report."""
    w = check_weights(weights)
    total = sum(w.values())
    return pd.DataFrame({"Componente": [COMPONENT_LABELS[c] for c in COMPONENTS],
                         "Peso": [fmt_pct(w[c] / total, 0) for c in COMPONENTS]})


def top_table(table: pd.DataFrame, cb: Codebook, scope: str, gate, top: int = 5) -> pd.DataFrame:
    """The first priorities of a scope (:func:`leading`: whole tiers until ``top``), for the report, with the
    score's 90% interval, the positions the need can take over the resamples and its tier; a share rating 4-5
    that counts fewer than 3 companies on either side (4-5 or not) is not shown (share times companies would give
    the count)."""
    t = table[table["scope"] == scope].sort_values("rank", kind="stable")
    t = t[t["need"].isin(leading(table, scope, top))]
    hide = gate.share(t["n_high"] / t["n"].where(t["n"] > 0), t["n"])
    return pd.DataFrame({"Fascia": [tier_name(k) for k in t["tier"]], "Bisogno": [cb.by_key[k].short for k in t["need"]],
                         "Punteggio": [fmt_num(v, 1) for v in t["score"]],
                         "Intervallo al 90%": [f"{fmt_num(a, 1)} - {fmt_num(b, 1)}"
                                               for a, b in zip(t["score_lo"], t["score_hi"], strict=True)],
                         "Posizione (possibili)": [f"{r} ({a}-{b})" if a != b else f"{r}" for r, a, b in
                                                   zip(t["rank"], t["rank_lo"], t["rank_hi"], strict=True)],
                         "Voto 4-5": shown(t["diffusione"], hide, fmt_pct)})


def correlation_table(corr: pd.DataFrame) -> pd.DataFrame:
    """The components' correlations across needs, for the report (0 shown without a sign)."""
    labels = [COMPONENT_LABELS[c] for c in corr.index]
    out = corr.map(lambda v: fmt_num(v + 0.0, 2).replace("-0,00", "0,00"))
    out.index, out.columns = labels, labels
    return out.reset_index(names="Componente")


def redundancy_sentence(corr: pd.DataFrame) -> str:
    """One sentence: no two components measure the same thing, or which do (and that the score counts them
    twice)."""
    pairs = redundant_pairs(corr)
    if not pairs:
        return (f"Nessuna coppia di componenti ha una correlazione sopra {fmt_num(REDUNDANT, 1)} tra i bisogni: "
                "ognuna aggiunge un'informazione che le altre non danno.")
    said = "; ".join(f"{COMPONENT_LABELS[a]} e {COMPONENT_LABELS[b]} ({fmt_num(r, 2)})" for a, b, r in pairs)
    return (f"**Attenzione**: in questi dati alcune componenti misurano quasi la stessa cosa (correlazione sopra "
            f"{fmt_num(REDUNDANT, 1)} tra i bisogni): {said}. Il punteggio le conta due volte; conviene azzerare il "
            "peso di una delle due (parametri `priorita.peso_...`).")


TIER_NAMES = {1: "Prima fascia", 2: "Seconda fascia", 3: "Terza fascia", 4: "Quarta fascia", 5: "Quinta fascia"}


def tier_name(tier: int) -> str:
    return TIER_NAMES.get(int(tier), f"Fascia {int(tier)}")


def leading(table: pd.DataFrame, scope: str = ALL_SCOPE, at_least: int = 5, at_most: int | None = None) -> list[str]:
    """The needs at the head of a scope's priorities, by rank: whole tiers from the top until ``at_least`` needs
    are in (a tier is not cut: the data cannot order its needs), but no more than ``at_most`` (by rank) where
    a tier is so large that a list per need would be too long. Every list, table and figure of "the first
    priorities" takes these, so they all name the same needs."""
    part = table[table["scope"] == scope].sort_values("rank", kind="stable")
    keep = part["tier"] <= part["tier"].iloc[min(at_least, len(part)) - 1] if len(part) else part["tier"] > 0
    return part.loc[keep, "need"].tolist()[:at_most]


def tier_sentence() -> str:
    """What a tier means, for the board."""
    return (f"Ogni bisogno ha un intervallo di posizioni possibili (al {fmt_pct(LEVEL, 0)}, ricampionando le imprese): "
            "una fascia raccoglie il bisogno con la posizione mediana migliore e tutti quelli il cui intervallo si "
            "sovrappone al suo, che i dati non permettono di ordinare tra loro; dentro una fascia l'ordine è "
            "alfabetico.")


def segment_lines(table: pd.DataFrame, cb: Codebook, names: dict[int, str], top: int = 3) -> str:
    """A Markdown list: each segment with its ``top`` priorities and their scores."""
    lines = []
    for s in sorted(names):
        part = table[table["scope"] == names[s]].head(top)
        lines.append(f"- **{s}. {markdown_text(names[s])}**: " + "; ".join(
            f"{cb.by_key[n].short} ({fmt_num(v, 0)})" for n, v in zip(part["need"], part["score"], strict=True)))
    return "\n".join(lines)
