"""The analysis steps: functions of data frames and the run configuration, no files, no formatting.

``python -m analysis run`` calls them in order (:func:`analyse`) and writes what they return through the
catalog; a notebook can call any of them again with other parameters (see :mod:`analysis.interactive`).

1. :func:`segment_step`: features, choice of k, segments and their names;
2. :func:`priorities_step`: the supply network and the priority score of every need, overall and per segment;
3. :func:`champions_step`: candidates, the exact selection, robustness over weight draws, alternates;
4. :func:`startups_step`: startup matches, startups under the TRL threshold, pilot proposals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis import champions, network, priorities, segmentation, startups
from analysis.codebook import Codebook
from analysis.config import Config

# --------------------------------------------------------------------------
# Segments

def segment_step(responses: pd.DataFrame, cb: Codebook, cfg: Config) -> segmentation.Segmentation:
    p = cfg.step("segmentazione")
    return segmentation.segment(responses, cb, method=p["metodo"], k_min=p["k_min"], k_max=p["k_max"],
                                force_k=p["k"] or None, seed=cfg["seed"], with_maturity=p["con_maturita"],
                                imputation=p["imputazione"], min_share=p["quota_minima"],
                                small_policy=p["segmenti_piccoli"], n_boot=p["ricampionamenti"], names=p["nomi"])


def segmentation_record(seg: segmentation.Segmentation) -> dict:
    """What the catalog keeps of a segmentation beside ``segments.csv`` (and what rebuilds it)."""
    crit = seg.selection.criteria
    return {
        "method": seg.method, "seed": seg.seed, "k": seg.k, "imputation": seg.features.imputation,
        "with_maturity": seg.features.with_maturity, "names": {str(k): v for k, v in seg.names.items()},
        "criteria": [{"k": int(r.k), "silhouette": _num(r.silhouette), "calinski_harabasz": _num(r.calinski_harabasz),
                      "stability": _num(r.stability), "stable": bool(r.stable)} for r in crit.itertuples()],
        "chosen_k": int(seg.selection.k), "forced": bool(seg.selection.forced), "stable": bool(seg.selection.stable),
        "reason": seg.selection.reason, "merged": list(seg.merged), "small": [int(s) for s in seg.small],
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
    feats = segmentation.build_features(responses, cb, record["with_maturity"], record["imputation"])
    centres = np.array([feats.X[(labels == n).to_numpy()].mean(axis=0) for n in sorted(names)])
    crit = pd.DataFrame(record["criteria"], columns=["k", "silhouette", "calinski_harabasz", "stability", "stable"])
    crit[["silhouette", "calinski_harabasz", "stability"]] = crit[["silhouette", "calinski_harabasz",
                                                                   "stability"]].astype(float)
    selection = segmentation.Selection(crit, record["chosen_k"], record["forced"], record["stable"], record["reason"])
    return segmentation.Segmentation(labels, names, record["method"], record["seed"], selection, feats, centres,
                                     list(record["merged"]), list(record["small"]))


# --------------------------------------------------------------------------
# Priorities

def priorities_step(responses: pd.DataFrame, cb: Codebook, seg: segmentation.Segmentation,
                    cfg: Config) -> pd.DataFrame:
    """Every need's score and rank, for all companies and for each segment, with its five components."""
    edges, _ = network.supply_edges(responses, cb)
    linked = network.linked_companies(responses, edges)
    return priorities.priority_table(responses, cb, seg.labels, linked, cfg.weights("priorita"), seg.names)


# --------------------------------------------------------------------------
# Champions

@dataclass
class ChampionResult:
    table: pd.DataFrame  # champions.csv
    candidates: pd.DataFrame  # champion_candidates.csv
    minimum: dict[str, int]
    messages: list[str]


def champion_rules(cfg: Config) -> champions.Rules:
    p = cfg.step("champion")
    return champions.Rules(p["max_totale"], p["max_per_segmento"], p["min_per_segmento"], p["extra_per_quota"])


def champions_step(responses: pd.DataFrame, cb: Codebook, seg: segmentation.Segmentation, prio: pd.DataFrame,
                   cfg: Config) -> ChampionResult:
    p = cfg.step("champion")
    names = seg.named()
    edges, _ = network.supply_edges(responses, cb)
    linked = network.linked_companies(responses, edges)
    graph = network.supply_graph(responses, edges)
    weights = cfg.weights("champion")
    cands = champions.candidate_table(responses, cb, names, seg.features.X, prio,
                                      champions.influence_centrality(graph), linked, p["priorita_coperte"])
    scores = champions.score(cands, weights)
    rules = champion_rules(cfg)
    shares = names.value_counts(normalize=True).to_dict()
    selection = champions.select(cands, scores, shares, cb.sector_labels, rules)
    table = champions.champions_table(cands, scores, selection, cb)
    frequency = champions.robustness(cands, shares, cb.sector_labels, rules, weights, p["sorteggi"],
                                     p["variazione_pesi"], cfg["seed"])
    return ChampionResult(table, champions.candidates_table(cands, scores, frequency, table),
                          dict(selection.minimum), list(selection.messages))


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
    matches = startups.match(slist.startups, cb, responses, seg.named(), p["soglia_trl"],
                             {"tag": p["peso_tag"], "testo": p["peso_testo"]})
    pilots = startups.pilot_proposals(champs, responses, matches, prio, p["proposte_per_champion"])
    below = matches.below_trl
    below = below[[c for c in ("nome_startup", "paese", "trl", "best_need", "best_score") if c in below]]
    summary = {**slist.summary(), "trl_threshold": p["soglia_trl"],
               "eligible": int(slist.startups["trl"].ge(p["soglia_trl"]).fillna(False).sum()),
               "rejected": slist.rejected.to_dict("records"), "cell_issues": slist.cell_issues.to_dict("records")}
    return StartupResult(matches.table, below.reset_index(drop=True), pilots, summary)


# --------------------------------------------------------------------------
# All of them

@dataclass
class Analysis:
    segmentation: segmentation.Segmentation
    priorities: pd.DataFrame
    champions: ChampionResult
    startups: StartupResult | None


def analyse(responses: pd.DataFrame, cb: Codebook, cfg: Config,
            slist: startups.StartupList | None = None) -> Analysis:
    """Every step in order, in this process."""
    seg = segment_step(responses, cb, cfg)
    prio = priorities_step(responses, cb, seg, cfg)
    champs = champions_step(responses, cb, seg, prio, cfg)
    found = startups_step(slist, responses, cb, seg, prio, champs.table, cfg) if slist is not None else None
    return Analysis(seg, prio, champs, found)
