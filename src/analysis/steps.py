"""The analysis steps: functions of data frames and the run configuration, no files, no formatting.

``python -m analysis run`` calls them in order (:func:`analyse`) and writes what they return through the
catalog; a notebook can call any of them again with other parameters (see :mod:`analysis.interactive`).

0. :func:`weights_step` and :func:`needs_step`: weights from the member register (or a weights table), needs by
   sector group with the tests of their differences, need families, digital maturity and the need-maturity gap;
1. :func:`segment_step`: features, choice of k, segments and their names;
2. :func:`network_step` and :func:`priorities_step`: the supply network (once, for priorities and Champions)
   and the priority score of every need, overall and per segment;
3. :func:`champions_step`: candidates, the exact selection, robustness over weight draws, alternates;
4. :func:`startups_step`: startup matches, startups under the TRL threshold, pilot proposals;
5. with a previous wave, :func:`analysis.waves.compare`: needs, priorities, segments and Champions then and now.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis import (
    champions,
    governance,
    maturity,
    needs,
    network,
    priorities,
    segmentation,
    startups,
    themes,
    waves,
    weights,
)
from analysis.codebook import Codebook
from analysis.config import Config
from analysis.disclosure import Gate

# --------------------------------------------------------------------------
# Weights, needs and maturity

def weights_step(responses: pd.DataFrame, cb: Codebook, cfg: Config, register: weights.Register | None = None,
                 table: dict | None = None) -> weights.Weighting:
    """Post-stratification weights from the member register, else from a weights table, else none."""
    if register is not None:
        return weights.poststratify(responses, weights.register_population(register), cb,
                                    cfg["pesi.min_rispondenti_cella"], cfg["pesi.limite"])
    if table is not None:
        return weights.apply_weights_table(table, responses, cb, cfg["pesi.limite"])
    return weights.unweighted(responses)


@dataclass
class NeedsResult:
    weighting: weights.Weighting
    register: weights.Register | None
    rates: pd.DataFrame | None  # response rates by sector group and size class (with a register)
    outside: int | None  # respondents not found in the register
    summary: pd.DataFrame  # needs by sector group (and all companies)
    comparison: pd.DataFrame  # the sector groups compared need by need
    families: needs.NeedFamilies
    scores: pd.DataFrame  # maturity per company (index of the responses)
    by_sector: pd.DataFrame
    by_size: pd.DataFrame
    gap: pd.DataFrame
    governance: pd.DataFrame  # innovation governance per company (index of the responses; analysis.governance)
    themes: pd.DataFrame  # what each company's challenge speaks of: a codebook need or a new theme (analysis.themes)


def needs_step(responses: pd.DataFrame, cb: Codebook, cfg: Config, weighting: weights.Weighting,
               register: weights.Register | None = None) -> NeedsResult:
    p = cfg.step("bisogni")
    long = needs.needs_long(responses, cb, weighting.weights)
    scores = maturity.maturity_scores(responses, cb)
    w = weighting.weights
    rates, outside = weights.response_rates(responses, register, cb) if register is not None else (None, None)
    return NeedsResult(
        weighting, register, rates, outside, needs.need_summary(long, cb), needs.compare_sectors(long, cb, p["alfa"], p["test_settori"]),
        needs.need_families(responses, cb, p["correlazione_famiglie"]), scores,
        maturity.maturity_by_group(scores, responses["gruppo_merceologico"], cb.sector_labels, w),
        maturity.maturity_by_group(scores, responses["size_class"], list(cb.size_labels), w),
        maturity.need_gap(responses, cb, scores, weights=w), governance.scores(responses, cb),
        # A new theme and each of its words hold at least 3 companies for every audience: the words are shown.
        themes.themes_table(responses, cb, Gate("board")))


def needs_outputs(r: NeedsResult, responses: pd.DataFrame) -> dict[str, object]:
    """What the catalog keeps of the needs step, by output name."""
    ids = responses["company_id"].to_numpy()
    reg = r.register
    f = r.families
    return {
        "weights": pd.DataFrame({"company_id": ids, "weight": r.weighting.weights.round(10).to_numpy()}),
        "weighting": {
            "source": r.weighting.source, "cells": _records(r.weighting.cells), "cap": r.weighting.cap,
            "trimmed": r.weighting.trimmed, "effective": round(r.weighting.effective, 6),
            "register": None if reg is None else {"read": reg.read, "used": reg.used, "left_out": reg.left_out,
                                                  "empty": reg.empty, "problems": reg.problems, "source": reg.source},
            "rates": None if r.rates is None else _records(r.rates), "outside": r.outside},
        "needs_summary": r.summary.rename(columns={r.summary.columns[1]: "group"}),
        "sector_comparison": r.comparison,
        "need_families": {"order": f.order, "threshold": f.threshold, "family": {k: int(v) for k, v in f.family.items()},
                          "correlation": [[_num(x) for x in row] for row in f.correlation.to_numpy()],
                          "linkage": [[float(x) for x in row] for row in f.linkage]},
        "maturity_scores": r.scores.assign(banda=r.scores["banda"].astype(object)).round(10)
        .reset_index(drop=True).assign(company_id=ids)[["company_id", *r.scores.columns]],
        "maturity_by_sector": _groups(r.by_sector), "maturity_by_size": _groups(r.by_size), "need_gap": r.gap,
        "governance_scores": r.governance.assign(**{governance.BAND: r.governance[governance.BAND].astype(object)})
        .round(10).reset_index(drop=True).assign(company_id=ids)[["company_id", *r.governance.columns]],
        "challenge_themes": r.themes,
    }


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v.item() if hasattr(v, "item") else v)
             for k, v in row.items()} for row in frame.to_dict("records")]


def _groups(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reset_index()
    out.columns = ["group", *[str(c) for c in frame.columns]]
    return out


def restore_needs(data) -> NeedsResult:
    """The needs step of a run, from its outputs (``data``: :class:`analysis.reporting.Processed`)."""
    responses = data.responses
    by_id = pd.Index(responses["company_id"])
    w = data.read("weights").set_index("company_id")["weight"].reindex(by_id).to_numpy()
    info = data.read("weighting")
    weighting = weights.Weighting(pd.Series(w, index=responses.index, dtype=float), pd.DataFrame(info["cells"]),
                                  info["source"], info.get("cap"), info.get("trimmed", 0))
    reg = None
    if info["register"] is not None:
        reg = weights.Register(pd.DataFrame(), **info["register"])
    fam = data.read("need_families")
    order = fam["order"]
    families = needs.NeedFamilies(pd.DataFrame(fam["correlation"], index=order, columns=order, dtype=float),
                                  np.array(fam["linkage"], dtype=float), order, pd.Series(fam["family"]).loc[order],
                                  fam["threshold"])
    scores = data.read("maturity_scores").set_index("company_id").reindex(by_id)
    scores.index = responses.index
    scores["banda"] = scores["banda"].astype(pd.CategoricalDtype(maturity.BAND_LABELS, ordered=True))
    summary = data.read("needs_summary").rename(columns={"group": "gruppo_merceologico"})

    def groups(name: str) -> pd.DataFrame:
        frame = data.read(name).set_index("group")
        frame.index.name = None
        return frame

    return NeedsResult(weighting, reg, None if info["rates"] is None else pd.DataFrame(info["rates"]),
                       info["outside"], summary, data.read("sector_comparison"), families, scores,
                       groups("maturity_by_sector"), groups("maturity_by_size"),
                       data.read("need_gap").fillna({"dimension": ""}), restore_governance(data),
                       data.read("challenge_themes").fillna({"etichetta": "", "parole": ""}))


def restore_governance(data) -> pd.DataFrame:
    """The governance scores of a run, on the responses' index, the band as its ordered categories."""
    responses = data.responses
    frame = data.read("governance_scores").set_index("company_id").reindex(pd.Index(responses["company_id"]))
    frame.index = responses.index
    labels = governance.definition(data.codebook).labels
    frame[governance.BAND] = frame[governance.BAND].astype(pd.CategoricalDtype(labels, ordered=True))
    return frame


# --------------------------------------------------------------------------
# Segments

def segment_step(responses: pd.DataFrame, cb: Codebook, cfg: Config) -> segmentation.Segmentation:
    """The segmentation, then (unless switched off) its cross-check with latent class models."""
    p = cfg.step("segmentazione")
    seg = segmentation.segment(responses, cb, method=p["metodo"], k_min=p["k_min"], k_max=p["k_max"],
                                force_k=p["k"] or None, seed=cfg["seed"], with_maturity=p["con_maturita"],
                                imputation=p["imputazione"], min_share=p["quota_minima"],
                                small_policy=p["segmenti_piccoli"], n_boot=p["ricampionamenti"], names=p["nomi"],
                                centred=p["centra_voti"])
    if p["classi_latenti"]:
        seg.latent = segmentation.latent_class_check(responses, cb, seg.labels, p["k_min"], p["k_max"], cfg["seed"])
    return seg


def segmentation_record(seg: segmentation.Segmentation) -> dict:
    """What the catalog keeps of a segmentation beside ``segments.csv`` (and what rebuilds it)."""
    crit = seg.selection.criteria
    return {
        "method": seg.method, "seed": seg.seed, "k": seg.k, "imputation": seg.features.imputation,
        "with_maturity": seg.features.with_maturity, "centred": seg.features.centred,
        "names": {str(k): v for k, v in seg.names.items()},
        "criteria": [{"k": int(r.k), "silhouette": _num(r.silhouette), "calinski_harabasz": _num(r.calinski_harabasz),
                      "bic": _num(r.bic), "stability": _num(r.stability), "stable": bool(r.stable),
                      "gap": _num(r.gap), "gap_se": _num(r.gap_se)} for r in crit.itertuples()],
        "one_group": [_num(v) for v in seg.selection.one_group],
        "chosen_k": int(seg.selection.k), "forced": bool(seg.selection.forced), "stable": bool(seg.selection.stable),
        "reason": seg.selection.reason, "merged": list(seg.merged), "small": [int(s) for s in seg.small],
        "segment_stability": {str(k): _num(v) for k, v in seg.stability.items()},
        "assigned_afterwards": seg.assigned_afterwards,
        "latent_class": None if seg.latent is None else {
            "k": seg.latent.k, "agreement": _num(seg.latent.agreement), "companies": seg.latent.companies,
            "criteria": [{"k": int(r.k), "bic": _num(r.bic), "agreement": _num(r.agreement)}
                         for r in seg.latent.criteria.itertuples()]},
        "imputed_cells": int(seg.features.imputed.sum()), "imputed_companies": int(seg.features.imputed_companies),
    }


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else round(float(v), 10)


def segments_table(seg: segmentation.Segmentation) -> pd.DataFrame:
    """``segments.csv``: company_id, segment name; by company."""
    out = pd.DataFrame({"company_id": seg.features.company_id, "segment": seg.named().to_numpy()})
    return out.sort_values("company_id", kind="stable").reset_index(drop=True)


def restore_segmentation(record: dict, segments: pd.DataFrame, responses: pd.DataFrame,
                         cb: Codebook) -> segmentation.Segmentation:
    """The segmentation a run chose, rebuilt from its record and ``segments.csv`` without clustering again."""
    names = {int(k): v for k, v in record["names"].items()}
    number = {v: k for k, v in names.items()}
    seg_by_id = segments.set_index("company_id")["segment"]
    named = responses["company_id"].map(seg_by_id)
    if named.isna().any():
        raise ValueError("i segmenti salvati non coprono ogni impresa accettata")
    labels = named.map(number).astype(int).rename("segment")
    feats = segmentation.build_features(responses, cb, record["with_maturity"], record["imputation"],
                                        record.get("centred", False))
    centres = np.array([feats.X[(labels == n).to_numpy()].mean(axis=0) for n in sorted(names)])
    crit = pd.DataFrame(record["criteria"], columns=["k", "silhouette", "calinski_harabasz", "bic", "stability",
                                                     "stable", "gap", "gap_se"])
    numbers = ["silhouette", "calinski_harabasz", "bic", "stability", "gap", "gap_se"]
    crit[numbers] = crit[numbers].astype(float)
    one = tuple(float("nan") if v is None else v for v in record.get("one_group", [None, None]))
    selection = segmentation.Selection(crit, record["chosen_k"], record["forced"], record["stable"], record["reason"],
                                       one)
    latent = record.get("latent_class")
    if latent is not None:
        latent = segmentation.LatentCheck(pd.DataFrame(latent["criteria"], columns=["k", "bic", "agreement"]),
                                          latent["k"], float("nan") if latent["agreement"] is None
                                          else latent["agreement"], latent["companies"])
    return segmentation.Segmentation(labels, names, record["method"], record["seed"], selection, feats, centres,
                                     list(record["merged"]), list(record["small"]),
                                     {int(k): float("nan") if v is None else v
                                      for k, v in record.get("segment_stability", {}).items()}, latent)


# --------------------------------------------------------------------------
# Supply network and priorities

@dataclass
class Network:
    edges: pd.DataFrame  # client-supplier links between respondents
    linked: pd.Series  # per company: how many other respondents it is linked to
    graph: object  # networkx.DiGraph, supplier -> client


def network_step(responses: pd.DataFrame, cb: Codebook) -> Network:
    """The local supply network the priorities and the Champions both use (built once)."""
    edges, _ = network.supply_edges(responses, cb)
    return Network(edges, network.linked_companies(responses, edges), network.supply_graph(responses, edges))


def priorities_step(responses: pd.DataFrame, cb: Codebook, seg: segmentation.Segmentation, net: Network,
                    cfg: Config, weighting: weights.Weighting | None = None) -> pd.DataFrame:
    """Every need's score, rank, intervals and tier, for all companies and for each segment, with its five
    components; companies count with their post-stratification weights when a register gives them. On every
    resample the segments are refitted from the chosen centres, so a segment's intervals include who is in it."""
    X, centres = seg.features.X, seg.centres

    def refit(rows: np.ndarray, counts: np.ndarray) -> np.ndarray:
        return segmentation.refit(X[rows], centres, counts)

    return priorities.priority_table(responses, cb, seg.labels, net.linked, cfg.weights("priorita"), seg.names,
                                     weighting.weights if weighting is not None and weighting.weighted else None,
                                     cfg["priorita.ricampionamenti"], cfg["seed"], refit if seg.k > 1 else None)


# --------------------------------------------------------------------------
# Champions

@dataclass
class ChampionResult:
    table: pd.DataFrame  # champions.csv
    candidates: pd.DataFrame  # champion_candidates.csv
    minimum: dict[str, int]
    messages: list[str]
    resampled: champions.Resampled | None = None


def champion_rules(cfg: Config, segments: int = 2) -> champions.Rules:
    """The selection's constraints; with one group of companies (no distinct segments) the per-segment limit
    does not apply: the Champions cover the priorities and both sector groups."""
    p = cfg.step("champion")
    per_segment = p["max_per_segmento"] if segments > 1 else p["max_totale"]
    return champions.Rules(p["max_totale"], per_segment, p["min_per_segmento"], p["extra_per_quota"])


def _choose(responses: pd.DataFrame, X: np.ndarray, labels: np.ndarray, cb: Codebook,
            seg: segmentation.Segmentation, net: Network, cfg: Config, ready: pd.Series, undirected,
            prio: pd.DataFrame | None = None, data: priorities.Inputs | None = None, rows: np.ndarray | None = None
            ) -> tuple[pd.DataFrame, pd.Series, champions.Selection, dict]:
    """Candidates, scores and the selection for ``responses`` (features ``X``, segment numbers ``labels``,
    readiness ``ready``, the undirected supply network ``undirected``). On a subsample (``rows``, with
    ``data``: the priorities' inputs for all companies) the network, PageRank and priorities are those of the
    companies it holds, so it is judged on its own data; on all companies the priorities ``prio`` are given."""
    p = cfg.step("champion")
    numbers = pd.Series(labels, index=responses.index)
    names = numbers.map(seg.names)
    if rows is None:  # all companies: the network as built
        graph, linked = undirected, net.linked
    else:  # a subsample: the links among the companies it holds
        graph = undirected.subgraph(set(responses["company_id"]))
        linked = responses["company_id"].map(dict(graph.degree())).fillna(0).astype(int)
        # The ranks only (no intervals), as the selection reads them.
        prio = priorities.scope_ranks(data.subset(rows, priorities.filiera_weight(responses, cb, linked)), labels,
                                      seg.names, cfg.weights("priorita"))
    cands = champions.candidate_table(responses, cb, names, X, prio, champions.influence_centrality(graph), linked,
                                      p["priorita_coperte"], ready)
    scores = champions.score(cands, cfg.weights("champion"))
    shares = names.value_counts(normalize=True).to_dict()
    selection = champions.select(cands, scores, shares, cb.sector_labels, champion_rules(cfg, seg.k))
    return cands, scores, selection, shares


def champions_step(responses: pd.DataFrame, cb: Codebook, seg: segmentation.Segmentation, prio: pd.DataFrame,
                   net: Network, cfg: Config, weighting: weights.Weighting | None = None) -> ChampionResult:
    """The selection, its robustness to the weights (draws around the chosen weights) and to the data: the
    segmentation (its number of segments, started from its centres), priorities and selection redone on
    subsamples of :data:`analysis.champions.RESAMPLE_SHARE` of the companies."""
    p = cfg.step("champion")
    survey = weighting.weights if weighting is not None and weighting.weighted else None
    X = seg.features.X
    # What does not depend on which companies are present, computed once for the selection and its subsamples.
    ready = champions.readiness(responses, cb)
    undirected = net.graph.to_undirected()
    cands, scores, selection, shares = _choose(responses, X, seg.labels.to_numpy(), cb, seg, net, cfg, ready,
                                               undirected, prio)
    table = champions.champions_table(cands, scores, selection, cb)
    frequency = champions.robustness(cands, shares, cb.sector_labels, champion_rules(cfg, seg.k),
                                     cfg.weights("champion"), p["sorteggi"], p["variazione_pesi"], cfg["seed"])
    data = priorities.inputs(responses, cb, net.linked, survey)

    def choose(rows: np.ndarray) -> list[str]:
        return _choose(responses.iloc[rows], X[rows], segmentation.refit(X[rows], seg.centres), cb, seg, net, cfg,
                       ready.iloc[rows], undirected, data=data, rows=rows)[2].chosen

    resampled = champions.resampling_frequency(responses["company_id"], choose, p["ricampionamenti"],
                                               champions.RESAMPLE_SHARE, cfg["seed"])
    # Whether each Champion's choice is robust, as the last sentence of its reasons.
    kept = resampled.kept if resampled is not None and resampled.resamples else None
    table["reasons"] = [f"{why} {champions.robustness_sentence(frequency.get(c, 0.0), None if kept is None else kept.get(c, 0.0))}"
                        for c, why in zip(table["company_id"], table["reasons"], strict=True)]
    return ChampionResult(table, champions.candidates_table(cands, scores, frequency, table, resampled.kept),
                          dict(selection.minimum), list(selection.messages), resampled)


# --------------------------------------------------------------------------
# Startups

@dataclass
class StartupResult:
    matches: pd.DataFrame  # startup_matches.csv
    below_trl: pd.DataFrame  # startups_below_trl.csv
    pilots: pd.DataFrame  # startup_pilots.csv
    summary: dict = field(default_factory=dict)  # startups_summary.json


def startups_step(slist: startups.StartupList, responses: pd.DataFrame, cb: Codebook,
                  seg: segmentation.Segmentation, prio: pd.DataFrame, champs: pd.DataFrame,
                  cfg: Config) -> StartupResult:
    p = cfg.step("startup")
    matches = startups.match(slist.startups, cb, p["soglia_trl"], p["soglia_pertinenza"])
    matches, verdicts = startups.apply_verdicts(matches, slist.verdicts, slist.startups, cb)
    pilots = startups.pilot_proposals(champs, responses, matches, prio, p["proposte_per_champion"])
    below = matches.below_trl
    below = below[[c for c in ("nome_startup", "paese", "trl", "best_need", "best_score") if c in below]]
    summary = {**slist.summary(), "trl_threshold": p["soglia_trl"], "min_score": p["soglia_pertinenza"],
               "eligible": int(slist.startups["trl"].ge(p["soglia_trl"]).fillna(False).sum()),
               "rejected": slist.rejected.to_dict("records"), "cell_issues": slist.cell_issues.to_dict("records"),
               "verdicts": verdicts, "verdicts_file": slist.verdicts_file}
    return StartupResult(matches.table, below.reset_index(drop=True), pilots, summary)


# --------------------------------------------------------------------------
# All of them

@dataclass
class Analysis:
    needs: NeedsResult
    segmentation: segmentation.Segmentation
    priorities: pd.DataFrame
    champions: ChampionResult
    startups: StartupResult | None
    comparison: waves.Comparison | None = None


def analyse(responses: pd.DataFrame, cb: Codebook, cfg: Config, slist: startups.StartupList | None = None,
            register: weights.Register | None = None, weights_table: dict | None = None,
            previous: waves.Wave | None = None) -> Analysis:
    """Every step in order, in this process (the member register, weights table and previous wave already
    read)."""
    found_needs = needs_step(responses, cb, cfg, weights_step(responses, cb, cfg, register, weights_table), register)
    seg = segment_step(responses, cb, cfg)
    net = network_step(responses, cb)
    prio = priorities_step(responses, cb, seg, net, cfg, found_needs.weighting)
    champs = champions_step(responses, cb, seg, prio, net, cfg, found_needs.weighting)
    found = startups_step(slist, responses, cb, seg, prio, champs.table, cfg) if slist is not None else None
    compared = None
    if previous is not None:
        now = waves.Wave(None, responses, prio, segments_table(seg).set_index("company_id")["segment"], champs.table,
                         "")
        compared = waves.compare(previous, now, cb)
    return Analysis(found_needs, seg, prio, champs, found, compared)
