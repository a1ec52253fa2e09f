"""Champion selection (notebook 04): explainable criteria, an exact integer program, robustness.

Candidates
    Accepted companies that answered yes or "Da valutare" (to be confirmed)
    to ``disponibilita_champion``; never one that said no or left it blank.

Criteria, each 0-1
    * ``rappresentativita``: ``1 - d / d_max``, with ``d`` the distance of the
      company's need vector from its segment's centre and ``d_max`` the largest
      such distance in the segment;
    * ``copertura``: share of its segment's top priorities (default 3) it
      rates 4-5;
    * ``prontezza``: mean of the maturity index (0-1), in-house R&D (1/0), an
      innovation manager (1/0) and open-innovation experience (none 0,
      occasional 0.5, structured 1); an unanswered item counts 0;
    * ``influenza``: 0.7 x PageRank in the local supply network (undirected:
      being a key supplier matters as much as being a key customer), relative
      to the highest, + 0.3 x size, ``log(1 + employees)`` relative to the
      largest candidate;
    * ``disponibilita``: yes 1, to be confirmed 0.5.

    The score is the weighted mean of the criteria (:data:`DEFAULT_WEIGHTS`).

Selection
    Maximise the total score of the chosen set (at most ``max_total``), an
    integer program solved exactly with HiGHS (its linear relaxation is
    integral here: see :func:`_integer_optimum`), subject to: every segment gets at least
    ``min_per_segment`` Champions plus one for every full ``extra_share`` of
    the companies it holds, no segment more than ``max_per_segment``, each
    sector group at least one. Constraints no candidate set can meet are
    relaxed and reported in words.

    Candidates are first reduced to the best ``min(max_total, max_per_segment)``
    of every (segment, sector group) cell: swapping a chosen company for a
    better one of the same cell changes no constraint and raises the total,
    so some optimal solution uses only those, and the reduced problem has the
    same optimum (a test checks it against the full problem).

Robustness
    The weights are drawn again and again, each multiplied by a uniform
    factor in ``1 +- spread``; the selection is solved for every draw and each
    Champion's selection frequency is reported, with the best alternates per
    segment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from analysis import scoring
from analysis.codebook import Codebook
from analysis.maturity import INDEX, maturity_scores
from analysis.reporting import fmt_num
from analysis.values import STORED_ANSWER

CRITERIA = ("rappresentativita", "copertura", "prontezza", "influenza", "disponibilita")
CRITERIA_LABELS = {"rappresentativita": "Rappresentatività", "copertura": "Copertura delle priorità",
                   "prontezza": "Prontezza all'innovazione", "influenza": "Influenza nella filiera",
                   "disponibilita": "Disponibilità"}
DEFAULT_WEIGHTS = {"rappresentativita": 0.25, "copertura": 0.25, "prontezza": 0.20, "influenza": 0.20,
                   "disponibilita": 0.10}
YES, MAYBE = STORED_ANSWER["yes"], STORED_ANSWER["maybe"]


def check_weights(weights: dict) -> dict[str, float]:
    return scoring.check_weights(weights, CRITERIA, "Champion")


def influence_centrality(graph: nx.DiGraph) -> dict[str, float]:
    """PageRank on the undirected supply network (every company a node, isolated ones included)."""
    if graph.number_of_nodes() == 0:
        return {}
    return nx.pagerank(graph.to_undirected() if graph.is_directed() else graph, alpha=0.85, tol=1e-10, max_iter=500)


def readiness(responses: pd.DataFrame, cb: Codebook) -> pd.Series:
    """The readiness criterion of every company (index of ``responses``): mean of the maturity index (0-1),
    in-house R&D, an innovation manager and open-innovation experience; an unanswered item counts 0."""
    mat = maturity_scores(responses, cb)[INDEX].fillna(0) / 100
    oi_options = cb.by_key["open_innovation"].options
    oi = responses["open_innovation"].map({o: i / (len(oi_options) - 1) for i, o in enumerate(oi_options)}).fillna(0)
    return (mat + responses["funzione_rs"].fillna(False).astype(float)
            + responses["innovation_manager"].fillna(False).astype(float) + oi.astype(float)) / 4


def candidate_table(responses: pd.DataFrame, cb: Codebook, segments: pd.Series, X: np.ndarray,
                    priorities: pd.DataFrame, pagerank: dict[str, float], linked: pd.Series,
                    top_priorities: int = 3, ready: pd.Series | None = None) -> pd.DataFrame:
    """Every candidate with its segment, sector group, willingness and the five criteria (0-1).

    ``segments`` holds segment names (index of ``responses``), ``X`` the feature matrix of the segmentation
    (rows in the order of ``responses``), ``priorities`` the table of :mod:`analysis.priorities`; ``ready``:
    :func:`readiness` when already computed (it does not depend on the other companies).
    """
    seg = segments.to_numpy()
    # Representativeness is measured against every company of the segment, candidates or not.
    dist = np.zeros(len(responses))
    for s in pd.unique(seg):
        rows = seg == s
        d = np.sqrt(((X[rows] - X[rows].mean(axis=0)) ** 2).sum(axis=1))
        dist[rows] = 1 - d / d.max() if d.max() > 0 else 1.0
    willing = responses["disponibilita_champion"]
    mask = willing.isin([YES, MAYBE]).to_numpy()
    r = responses[mask]
    best = priorities[priorities["rank"] <= top_priorities].sort_values("rank", kind="stable")
    top = {s: needs.tolist() for s, needs in best.groupby("scope", sort=False)["need"]}
    covered = [[k for k in top.get(name, []) if _high(getattr(row, k))]
               for name, row in zip(seg[mask], r.itertuples(index=False), strict=True)]
    coverage = [len(cov) / max(1, len(top.get(name, []))) for cov, name in zip(covered, seg[mask], strict=True)]
    ready = (readiness(responses, cb) if ready is None else ready)[mask]
    # Each candidate's own top needs (rated 4-5, highest first; ties by the segment's priority order): its reason
    # to be a Champion in words, not only its segment's.
    rank = {(scope, k): r for scope, k, r in zip(priorities["scope"], priorities["need"], priorities["rank"],
                                                 strict=True)}
    ratings = r[list(cb.need_keys)]
    own = []
    for name, row in zip(seg[mask], ratings.itertuples(index=False), strict=True):
        rated = [(v, k) for k, v in zip(cb.need_keys, row, strict=True) if _high(v)]
        rated.sort(key=lambda t: (-t[0], rank.get((name, t[1]), 999), cb.need_keys.index(t[1])))
        own.append([k for _, k in rated[:3]])
    pr = r["company_id"].map(pagerank).fillna(0.0).astype(float)
    pr_scaled = pr / pr.max() if pr.max() > 0 else pr
    size = np.log1p(r["dipendenti"].astype("Float64").fillna(0).astype(float))
    size_scaled = size / size.max() if size.max() > 0 else size
    out = pd.DataFrame({
        "company_id": r["company_id"].to_numpy(),
        "ragione_sociale": r["ragione_sociale"].to_numpy(),
        "gruppo_merceologico": r["gruppo_merceologico"].to_numpy(),
        "segment": seg[mask],
        "disponibilita_champion": willing[mask].to_numpy(),
        "consenso": r["consenso_nominativo"].fillna(False).astype(bool).to_numpy(),
        "posizione_filiera": r["posizione_filiera"].to_numpy(),
        "imprese_collegate": linked[mask].to_numpy(),
        "priorita_coperte": covered,
        "bisogni_propri": own,
        "indice_maturita": maturity_scores(r, cb)[INDEX].to_numpy(dtype=float),
        "funzione_rs": r["funzione_rs"].fillna(False).astype(bool).to_numpy(),
        "innovation_manager": r["innovation_manager"].fillna(False).astype(bool).to_numpy(),
        "rappresentativita": dist[mask],
        "copertura": coverage,
        "prontezza": ready.to_numpy(dtype=float),
        "influenza": (0.7 * pr_scaled + 0.3 * size_scaled).to_numpy(),
        "disponibilita": np.where(willing[mask] == YES, 1.0, 0.5),
    })
    return out.sort_values("company_id", kind="stable").reset_index(drop=True)


def _high(v) -> bool:
    return v is not None and v is not pd.NA and v >= 4


def score(cands: pd.DataFrame, weights: dict | None = None) -> pd.Series:
    """Weighted mean of the criteria, 0-1."""
    w = check_weights(DEFAULT_WEIGHTS if weights is None else weights)
    total = sum(w.values())
    return sum(cands[c] * w[c] for c in CRITERIA) / total


# --------------------------------------------------------------------------
# The integer program

@dataclass
class Rules:
    """The constraints of the selection."""

    max_total: int = 12
    max_per_segment: int = 4
    min_per_segment: int = 1
    extra_share: float = 0.2  # one more Champion for every full 20% of the companies in a segment

    def minimum(self, share: float) -> int:
        extra = int(np.floor(share / self.extra_share + 1e-9)) if self.extra_share > 0 else 0
        return min(self.max_per_segment, self.min_per_segment + extra)


@dataclass
class Selection:
    chosen: list[str]  # company_ids, best score first
    objective: float
    messages: list[str] = field(default_factory=list)  # relaxed constraints, in words
    minimum: dict[str, int] = field(default_factory=dict)  # Champions required per segment (after relaxing)


@dataclass
class _Problem:
    """The candidates as arrays, built once per table: the selection runs hundreds of times in the robustness
    check, and only the scores change between runs."""

    ids: np.ndarray
    id_rank: np.ndarray  # position of each company_id in sorted order (ties resolve by it)
    segment: np.ndarray  # code of the segment in ``segments`` (-1: not listed)
    group: np.ndarray  # code of the sector group in ``present``
    cell: np.ndarray  # code of the (segment, sector group) cell
    segments: list[str]
    present: list[str]


def _problem(cands: pd.DataFrame, segments: list[str], sectors: list[str]) -> _Problem:
    ids = cands["company_id"].to_numpy()
    id_rank = np.empty(len(ids), dtype=np.int64)
    id_rank[np.argsort(ids, kind="stable")] = np.arange(len(ids))
    seg_code = {s: i for i, s in enumerate(segments)}
    seg = np.array([seg_code.get(v, -1) for v in cands["segment"]], dtype=np.int64)
    groups = cands["gruppo_merceologico"].to_numpy()
    present = [g for g in sectors if (groups == g).any()]
    g_code = {g: i for i, g in enumerate(present)}
    group = np.array([g_code.get(v, -1) for v in groups], dtype=np.int64)
    cell = pd.factorize(pd.Series(cands["segment"].astype(str).to_numpy()) + "\0" + pd.Series(groups).astype(str))[0]
    return _Problem(ids, id_rank, seg, group, np.asarray(cell, dtype=np.int64), list(segments), present)


def _reduce(p: _Problem, scores: np.ndarray, keep: int) -> np.ndarray:
    """Positions (sorted) of the best ``keep`` candidates of every cell by score, ties by company_id."""
    n = len(scores)
    if n == 0:
        return np.arange(0)
    order = np.lexsort((p.id_rank, -scores))
    cells = p.cell[order]
    by_cell = np.argsort(cells, kind="stable")
    sorted_cells = cells[by_cell]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_cells)) + 1]
    within = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    position = np.empty(n, dtype=np.int64)
    position[by_cell] = within
    return np.sort(order[position < keep])


def reduce(cands: pd.DataFrame, scores: pd.Series, rules: Rules) -> pd.Index:
    """Indices of the candidates that can be in an optimal selection: the best ``min(max_total,
    max_per_segment)`` of every (segment, sector group) cell (ties by company_id)."""
    p = _problem(cands, sorted(cands["segment"].astype(str).unique()), [])
    return cands.index[_reduce(p, scores.to_numpy(float), min(rules.max_total, rules.max_per_segment))]


def _minimums(p: _Problem, segment_shares: dict[str, float], sectors: list[str],
              rules: Rules) -> tuple[dict[str, int], list[str]]:
    """Champions required per segment and the constraints that had to be relaxed, in words. The reduction
    keeps ``min(keep, size)`` candidates of every cell whatever the scores, so this holds for every draw."""
    keep = min(rules.max_total, rules.max_per_segment)
    messages: list[str] = []
    minimum = {}
    for code, seg in enumerate(p.segments):
        cells = np.bincount(p.cell[p.segment == code]) if (p.segment == code).any() else np.zeros(0, int)
        have = int(np.minimum(cells[cells > 0], keep).sum())
        need = rules.minimum(segment_shares[seg])
        if have < need:
            messages.append(f"il segmento \"{seg}\" ha {have} candidati disponibili: ne servirebbero {need}"
                            if have else f"il segmento \"{seg}\" non ha nessuna impresa disponibile a essere "
                                         "Champion: resta senza Champion")
        minimum[seg] = min(need, have)
    if sum(minimum.values()) > rules.max_total:
        messages.append(f"i minimi per segmento ({sum(minimum.values())}) superano il numero massimo di Champion "
                        f"({rules.max_total}): si chiede un solo Champion per segmento")
        minimum = {k: min(v, 1) for k, v in minimum.items()}
    for g in sectors:
        if g not in p.present:
            messages.append(f"nessuna impresa del gruppo {g} è disponibile a essere Champion")
    return minimum, messages


def _integer_optimum(objective: np.ndarray, rows: np.ndarray, lower: np.ndarray,
                     upper: np.ndarray) -> tuple[np.ndarray | None, str]:
    """The 0-1 vector minimising ``objective`` with ``lower <= rows @ x <= upper``.

    Every variable is in one segment and one sector group, and the total row is the sum of the segment rows:
    the rows are two laminar families, so the matrix is totally unimodular and the linear relaxation has an
    integral optimal vertex, unique thanks to the tie-breaking term. The simplex finds it in a third of the
    time of the integer solver (which matters over hundreds of robustness draws); a solution that is not
    integral (a tie the perturbation did not break) goes to the integer solver.
    """
    from scipy.optimize import linprog

    a_ub = np.vstack([rows, -rows])
    b_ub = np.concatenate([upper, -lower])
    finite = np.isfinite(b_ub)
    res = linprog(objective, A_ub=a_ub[finite], b_ub=b_ub[finite], bounds=(0, 1), method="highs-ds")
    if res.status == 0 and np.allclose(res.x, np.round(res.x), atol=1e-7):
        return res.x, ""
    res = milp(objective, constraints=LinearConstraint(rows, lower, upper), integrality=np.ones(len(objective)),
               bounds=Bounds(0, 1), options={"presolve": True})
    return (res.x, "") if res.status == 0 and res.x is not None else (None, str(res.message))


def _solve(p: _Problem, scores: np.ndarray, idx: np.ndarray, minimum: dict[str, int],
           rules: Rules) -> tuple[list[str], float, str | None]:
    """The integer program on the candidates at positions ``idx``: chosen ids (best first), objective, error."""
    s = scores[idx]
    n = len(idx)
    if n == 0:
        return [], 0.0, None
    seg, grp = p.segment[idx], p.group[idx]
    rows, lower, upper = [np.ones(n)], [0], [rules.max_total]
    for code, name in enumerate(p.segments):
        rows.append((seg == code).astype(float))
        lower.append(minimum[name])
        upper.append(rules.max_per_segment)
    for code in range(len(p.present)):
        rows.append((grp == code).astype(float))
        lower.append(1)
        upper.append(np.inf)
    # A tiny preference for earlier company_ids makes the optimum unique, so ties resolve the same every run.
    order = np.empty(n)
    order[np.argsort(p.id_rank[idx], kind="stable")] = np.arange(1, n + 1)
    objective = -(s + 1e-9 * (n - order) / n)
    x, message = _integer_optimum(objective, np.array(rows), np.array(lower, float), np.array(upper, float))
    if x is None:
        return [], 0.0, f"il problema di selezione non ha soluzione con questi vincoli ({message})"
    picked = np.round(x).astype(bool)
    chosen = idx[picked]
    best_first = chosen[np.lexsort((p.id_rank[chosen], -scores[chosen]))]
    return p.ids[best_first].tolist(), float(s[picked].sum()), None


def select(cands: pd.DataFrame, scores: pd.Series, segment_shares: dict[str, float], sectors: list[str],
           rules: Rules | None = None, reduce_first: bool = True) -> Selection:
    """The set of Champions with the highest total score under ``rules`` (see the module notes)."""
    rules = rules or Rules()
    p = _problem(cands, list(segment_shares), sectors)
    return _select(p, scores.to_numpy(float), segment_shares, sectors, rules, reduce_first)


def _select(p: _Problem, scores: np.ndarray, segment_shares: dict[str, float], sectors: list[str], rules: Rules,
            reduce_first: bool = True, fixed: tuple | None = None) -> Selection:
    minimum, messages = fixed or _minimums(p, segment_shares, sectors, rules)
    idx = _reduce(p, scores, min(rules.max_total, rules.max_per_segment)) if reduce_first \
        else np.arange(len(scores))
    chosen, objective, error = _solve(p, scores, idx, minimum, rules)
    return Selection(chosen, objective, messages + ([error] if error else []), minimum)


def robustness(cands: pd.DataFrame, segment_shares: dict[str, float], sectors: list[str], rules: Rules,
               weights: dict | None = None, draws: int = 300, spread: float = 0.25, seed: int = 42) -> pd.Series:
    """How often each candidate is selected when every weight is multiplied by a factor drawn uniformly in
    ``[1 - spread, 1 + spread]`` (``draws`` times). Indexed by company_id, 0-1."""
    w = check_weights(DEFAULT_WEIGHTS if weights is None else weights)
    rng = np.random.default_rng(seed)
    matrix = cands[list(CRITERIA)].to_numpy(float)
    base = np.array([w[k] for k in CRITERIA])
    counts = pd.Series(0, index=cands["company_id"].to_numpy(), dtype=float)
    if draws <= 0:
        return counts
    p = _problem(cands, list(segment_shares), sectors)
    fixed = _minimums(p, segment_shares, sectors, rules)
    for _ in range(draws):
        drawn = base * rng.uniform(1 - spread, 1 + spread, size=len(base))
        sel = _select(p, matrix @ drawn / drawn.sum(), segment_shares, sectors, rules, fixed=fixed)
        counts[sel.chosen] += 1
    return counts / draws


RESAMPLE_SHARE = 0.9  # of the companies in each subsample of the data-robustness check
ROBUST = 0.7  # a Champion kept in at least this share of the subsamples holding it is robust to the data


@dataclass
class Resampled:
    """How often each company is chosen when the whole analysis is redone on subsamples of the companies."""

    kept: pd.Series  # company_id -> share of the subsamples holding it in which it was chosen (0-1)
    resamples: int
    share: float  # of the companies in each subsample
    seconds: float


def resampling_frequency(ids: pd.Series, choose, resamples: int = 100, share: float = 0.9, seed: int = 42
                         ) -> Resampled:
    """Redo the selection on ``resamples`` subsamples of ``share`` of the companies (drawn without replacement,
    seeded): ``choose(rows)`` gets the positions of the companies kept and returns the company_ids chosen.
    Each company's frequency counts only the subsamples that hold it: one left out cannot be chosen."""
    import time

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    n = len(ids)
    values = ids.to_numpy()
    chosen = pd.Series(0, index=values, dtype=float)
    present = pd.Series(0, index=values, dtype=float)
    for _ in range(resamples if n else 0):
        rows = np.sort(rng.choice(n, max(1, int(round(share * n))), replace=False))
        present.iloc[rows] += 1
        picked = list(choose(rows))
        chosen[picked] += 1
    kept = (chosen / present.where(present > 0)).fillna(0.0)
    return Resampled(kept, resamples, share, time.perf_counter() - start)


def shown_one_by_one(champions: pd.DataFrame, cands: pd.DataFrame, per_segment: int) -> pd.Index:
    """The companies the Champion section shows individually (with segment and group): the Champions and the
    alternatives per segment (see :func:`alternates`)."""
    chosen = champions["company_id"].tolist()
    frequency = cands.set_index("company_id")["frequenza_selezione"]
    alt = alternates(cands, cands["score"], chosen, frequency, per_segment)
    return pd.Index(chosen + alt["company_id"].tolist())


def board_view(table: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """A Champion or alternative table with each segment named as the board sees it (``names`` from
    :func:`analysis.segmentation.board_segment_names`: a merged segment is "altre imprese"), in the reasons
    too."""
    out = table.assign(segment=table["segment"].map(lambda s: names.get(s, s)))
    if "reasons" in out:
        out["reasons"] = [r.replace(f'Segmento "{s}"', f'Segmento "{names.get(s, s)}"')
                          for r, s in zip(out["reasons"], table["segment"], strict=True)]
    return out


def alternates(cands: pd.DataFrame, scores: pd.Series, chosen: list[str], frequency: pd.Series,
               per_segment: int = 2) -> pd.DataFrame:
    """The best candidates not chosen, per segment: most often selected under other weights, then score."""
    rest = cands[~cands["company_id"].isin(chosen)].assign(
        score=scores, frequenza=lambda t: t["company_id"].map(frequency).fillna(0))
    rest = rest.sort_values(["segment", "frequenza", "score", "company_id"], ascending=[True, False, False, True])
    return rest.groupby("segment", sort=False).head(per_segment).reset_index(drop=True)


# --------------------------------------------------------------------------
# Explanations and outputs

def _profile(row: pd.Series, cb: Codebook) -> tuple[list[str], str, int, list[str]]:
    """A candidate's own top needs, position in the supply chain, links to answering companies and readiness
    (digital maturity band and index, in-house R&D, innovation manager), in words."""
    from analysis.maturity import band

    keys = row["bisogni_propri"]  # a list in the step, ";"-joined in champion_candidates.csv
    keys = keys.split(";") if isinstance(keys, str) else keys if isinstance(keys, list | tuple) else []
    own = [cb.by_key[k].short for k in keys if k in cb.by_key]
    position = row["posizione_filiera"] if isinstance(row["posizione_filiera"], str) else "posizione non indicata"
    index = row["indice_maturita"]
    ready = ([f"maturità digitale di livello {band(pd.Series([index])).iloc[0]} ({fmt_num(index, 0)} su 100)"]
             if index == index else ["maturità digitale non indicata"])
    ready += ["funzione R&S interna"] * bool(row["funzione_rs"]) + ["innovation manager"] * bool(
        row["innovation_manager"])
    return own, position[:1].lower() + position[1:], int(row["imprese_collegate"]), ready


def reasons(row: pd.Series, cb: Codebook) -> str:
    """Why a Champion was chosen, in Italian and specific to the company: its own top needs and how many of its
    segment's first priorities it shares, its place in the supply network, its readiness to innovate."""
    from analysis.text import and_list

    own, position, links, ready = _profile(row, cb)
    parts = [f"Segmento \"{row['segment']}\"."]
    shared = len(row["priorita_coperte"])
    parts.append((f"Chiede soprattutto {and_list(own)}" if own else "Non giudica prioritario nessun bisogno")
                 + f"; condivide {shared} delle prime priorità del suo segmento.")
    network = ("non collegata ad altre imprese rispondenti" if links == 0 else
               f"collegata come cliente o fornitore a {links} "
               f"{'impresa rispondente' if links == 1 else 'imprese rispondenti'}")
    parts.append(f"Nella filiera: {position}, {network}.")
    parts.append(f"Prontezza: {and_list(ready)}.")
    if row["disponibilita_champion"] == MAYBE:
        parts.append("Disponibilità da confermare.")
    return " ".join(parts)


def brief_reason(row: pd.Series, cb: Codebook, data_checked: bool) -> str:
    """The reasons of :func:`reasons` in one short clause list, for the board's summary: own top needs, place in
    the supply chain, readiness, whether the choice is robust (:func:`is_robust`; on subsamples only when
    ``data_checked``) and whether its availability is to be confirmed. A Champion without consent to be named
    shows no answers of its own (as in its board brief)."""
    from analysis.text import and_list, quantity

    solid = is_robust(row["frequenza_selezione"], row["frequenza_ricampionamento"] if data_checked else None)
    if not row["consenso"]:  # as in its brief: its own answers wait for its consent
        return ("le sue risposte non sono mostrate finché non dà il consenso; "
                + ("scelta solida" if solid else "scelta da verificare"))
    own, position, links, ready = _profile(row, cb)
    parts = [f"chiede soprattutto {and_list(own)}" if own else "nessun bisogno prioritario",
             f"{position}, {quantity(links, 'legame', 'legami')} nella filiera locale",
             and_list([r.replace(" digitale", "") for r in ready]),
             "scelta solida" if solid else "scelta da verificare"]
    parts += ["disponibilità a fare da Champion da confermare"] * (row["disponibilita_champion"] == MAYBE)
    return "; ".join(parts)


WEIGHTS_ROBUST = 0.8  # a Champion kept in at least this share of the weight draws is robust to the weights


def is_robust(weights_share: float, data_share: float | None) -> bool:
    """A Champion's choice holds under other weights of the criteria and (when checked) on subsamples."""
    return weights_share >= WEIGHTS_ROBUST and (data_share is None or data_share >= ROBUST)


def robustness_sentence(weights_share: float, data_share: float | None) -> str:
    """Whether a Champion's choice is robust, in one sentence: kept under other weights of the criteria and on
    subsamples of the companies."""
    solid = is_robust(weights_share, data_share)
    text = f"Resta Champion nel {fmt_num(weights_share * 100, 0)}% dei sorteggi dei pesi"
    text += "" if data_share is None else f" e nel {fmt_num(data_share * 100, 0)}% dei sottocampioni delle imprese"
    return f"Scelta {'solida' if solid else 'da verificare'}: {text.lower()[0]}{text[1:]}."


def champions_table(cands: pd.DataFrame, scores: pd.Series, selection: Selection, cb: Codebook) -> pd.DataFrame:
    """``champions.csv`` (spec section 6): company_id, ragione_sociale, gruppo_merceologico, segment, score,
    reasons; best score first."""
    chosen = cands.set_index("company_id").loc[selection.chosen].reset_index()
    s = scores.set_axis(cands["company_id"]).loc[selection.chosen].to_numpy()
    return pd.DataFrame({
        "company_id": chosen["company_id"], "ragione_sociale": chosen["ragione_sociale"],
        "gruppo_merceologico": chosen["gruppo_merceologico"], "segment": chosen["segment"],
        "score": np.round(s, 6), "reasons": [reasons(r, cb) for _, r in chosen.iterrows()]})


def candidates_table(cands: pd.DataFrame, scores: pd.Series, frequency: pd.Series,
                     champions: pd.DataFrame, kept: pd.Series | None = None) -> pd.DataFrame:
    """``champion_candidates.csv``: every candidate with every criterion, its score, how often it was chosen in
    the weight draws (``frequenza_selezione``) and on subsamples of the companies (``frequenza_ricampionamento``)
    and whether it is a Champion; best score first."""
    kept = pd.Series(dtype=float) if kept is None else kept
    full = cands.assign(score=scores.round(6).to_numpy(), frequenza_selezione=cands["company_id"].map(frequency)
                        .fillna(0).round(4).to_numpy(),
                        frequenza_ricampionamento=cands["company_id"].map(kept).fillna(0).round(4).to_numpy(),
                        priorita_coperte=cands["priorita_coperte"].map(";".join),
                        bisogni_propri=cands["bisogni_propri"].map(";".join),
                        champion=cands["company_id"].isin(set(champions["company_id"])))
    for c in CRITERIA:
        full[c] = full[c].round(6)
    return full.sort_values(["score", "company_id"], ascending=[False, True]).reset_index(drop=True)


def champions_report(table: pd.DataFrame, frequency: pd.Series, names: pd.Series, cb: Codebook,
                     kept: pd.Series | None = None, sectors: dict[str, str] | None = None) -> pd.DataFrame:
    """The Champions for the report: name by the naming rule, sector group, segment, score, how often chosen
    under other weights and on subsamples of the companies (``kept``); the reasons go below it
    (:func:`analysis.board.champion_lines`)."""
    out = pd.DataFrame({
        "Champion": table["company_id"].map(names).to_numpy(),
        "Gruppo": table["gruppo_merceologico"].map(sectors or cb.sector_short).to_numpy(),
        "Segmento": table["segment"].to_numpy(),
        "Punteggio (0-100)": [fmt_num(v * 100, 0) for v in table["score"]],
        "Scelto nei sorteggi dei pesi": [f"{fmt_num(v * 100, 0)}%" for v in table["company_id"].map(frequency).fillna(0)]})
    if kept is not None:
        out["Scelto nei sottocampioni"] = [f"{fmt_num(v * 100, 0)}%" for v in table["company_id"].map(kept).fillna(0)]
    return out


def alternates_report(alt: pd.DataFrame, names: pd.Series, cb: Codebook,
                      sectors: dict[str, str] | None = None) -> pd.DataFrame:
    out = pd.DataFrame({
        "Segmento": alt["segment"].to_numpy(), "Alternativa": alt["company_id"].map(names).to_numpy(),
        "Gruppo": alt["gruppo_merceologico"].map(sectors or cb.sector_short).to_numpy(),
        "Punteggio (0-100)": [fmt_num(v * 100, 0) for v in alt["score"]],
        "Scelta nei sorteggi dei pesi": [f"{fmt_num(v * 100, 0)}%" for v in alt["frequenza"]]})
    if "frequenza_ricampionamento" in alt:
        out["Scelta nei sottocampioni"] = [f"{fmt_num(v * 100, 0)}%" for v in alt["frequenza_ricampionamento"]]
    return out


def rules_sentence(rules: Rules, minimum: dict[str, int], weights: dict) -> str:
    """The constraints and weights of the selection, in words, for the report (two sentences)."""
    from analysis.text import and_list

    w = check_weights(weights)
    total = sum(w.values())
    least = [f"{n} nel segmento \"{seg}\"" for seg, n in minimum.items()]
    return (f"Vincoli: al massimo {rules.max_total} Champion e {rules.max_per_segment} per segmento"
            + (f"; almeno {and_list(least)}" if least else "") + "; almeno un Champion per gruppo merceologico. "
            + "Pesi dei criteri: " + and_list([f"{CRITERIA_LABELS[c].lower()} {fmt_num(w[c] / total * 100, 0)}%"
                                              for c in CRITERIA]) + ".")
