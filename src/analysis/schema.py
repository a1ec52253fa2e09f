"""Dataframe schemas (pandera): what every table of the catalog may hold, built from the codebook.

Validated lazily, so every failure is reported at once.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from analysis.codebook import Codebook
from analysis.values import STORED_ANSWER

NULLABLE_BOOL_TYPES = {"yes_no", "consent"}


class SchemaError(ValueError):
    """The accepted responses break the schema (a bug in reading, never bad input)."""


def _list_check(allowed: set[str]) -> pa.Check:
    def ok(series: pd.Series) -> pd.Series:
        # Vectorised: every cell missing or a list, and every element (exploded) a string among the options.
        listlike = series.map(lambda v: v is None or (hasattr(v, "__len__") and not isinstance(v, str)))
        filled = listlike & series.map(lambda v: v is not None and len(v) > 0)
        elements = series[filled].explode()
        strings = elements.map(lambda x: isinstance(x, str))
        good = strings & elements.isin(allowed) if allowed else strings
        bad_rows = good.index[~good.to_numpy(dtype=bool)]
        return listlike & ~series.index.isin(bad_rows)

    return pa.Check(ok, element_wise=False, error="lists of allowed option strings")


def responses_schema(cb: Codebook) -> pa.DataFrameSchema:
    cols: dict[str, pa.Column] = {
        "company_id": pa.Column(str, unique=True, nullable=False,
                                checks=pa.Check.str_matches(r"^(IT\d{11}|NOME:.+)$")),
    }
    for f in cb.fields:
        t = f.type
        checks: list[pa.Check] = []
        if t in ("integer", "importance", "maturity"):
            dtype = "Int64"
            lo, hi = {"importance": cb.importance_range,
                      "maturity": (cb.maturity_scale["min"], cb.maturity_scale["max"])}.get(t, (f.min, f.max))
            if lo is not None:
                checks.append(pa.Check.ge(lo))
            if hi is not None:
                checks.append(pa.Check.le(hi))
        elif t in ("number", "percent"):
            dtype = "Float64"
            lo, hi = (0, 100) if t == "percent" else (f.min, f.max)
            if lo is not None:
                checks.append(pa.Check.ge(lo))
            if hi is not None:
                checks.append(pa.Check.le(hi))
        elif t in NULLABLE_BOOL_TYPES:
            dtype = "boolean"
        elif t == "date":
            dtype = "datetime64[us]"
        elif t == "multi":
            dtype = None
            checks.append(_list_check(set(f.options)))
        else:
            dtype = str
            if t == "choice":
                checks.append(pa.Check.isin(list(f.options)))
            elif t == "sector":
                checks.append(pa.Check.isin(cb.sector_labels))
            elif t == "vat":
                checks.append(pa.Check.str_matches(r"^\d{11}$"))
            elif t == "ateco":
                checks.append(pa.Check.str_matches(r"^\d{2}(\.\d{1,2}){0,2}$"))
            elif t == "yes_no_maybe":
                checks.append(pa.Check.isin(list(STORED_ANSWER.values())))
        nullable = not (f.key == "gruppo_merceologico" or t == "consent")
        cols[f.key] = pa.Column(dtype, checks=checks, nullable=nullable)
    cols["size_class"] = pa.Column(str, pa.Check.isin([s.key for s in cb.size_classes]), nullable=True)
    cols["source_file"] = pa.Column(str, nullable=False)
    cols["source_sheet"] = pa.Column(str, nullable=False)
    cols["source_row"] = pa.Column("int64", pa.Check.ge(1))
    return pa.DataFrameSchema(cols, strict=True, ordered=True)


def validate_responses(frame: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """Check the accepted responses; raise :class:`SchemaError` listing every failure."""
    try:
        return responses_schema(cb).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases[["column", "check", "failure_case"]].head(20).to_string(index=False)
        raise SchemaError(f"responses break the schema ({len(exc.failure_cases)} failures):\n{cases}") from exc


# --------------------------------------------------------------------------
# The tables one step hands to another (see analysis.catalog)

def _text(nullable: bool = False, **kw) -> pa.Column:
    return pa.Column(str, nullable=nullable, **kw)


def _needs_check(cb) -> pa.Check:
    return pa.Check.isin(list(cb.need_keys)) if cb is not None else pa.Check(lambda s: s.str.len() > 0)


def _source_columns() -> dict[str, pa.Column]:
    return {"source_file": _text(), "source_sheet": _text(True), "source_row": pa.Column("int64", pa.Check.ge(1))}


def rejected_schema(cb) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({**_source_columns(), "reason": _text(), "message": _text(True),
                               "original": _text(True)}, strict=True, ordered=True, coerce=True)


def issues_schema(cb) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({**_source_columns(), "column": _text(True), "field": _text(True),
                               "value": _text(True), "reason": _text(), "action": pa.Column(str, pa.Check.isin(
                                   ["dropped", "kept"]))}, strict=True, ordered=True, coerce=True)


def segments_schema(cb) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({"company_id": _text(unique=True), "segment": _text(checks=pa.Check.str_length(min_value=1))},
                               strict=True, ordered=True)


def priorities_schema(cb) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {"scope": _text(), "need": _text(checks=_needs_check(cb)), "score": pa.Column(float, pa.Check.in_range(0, 100)),
         "rank": pa.Column(int, pa.Check.ge(1)),
         # Intervals and tiers: not in the outputs of earlier versions, which a wave comparison still reads.
         "tier": pa.Column(int, pa.Check.ge(1), required=False),
         "score_lo": pa.Column(float, pa.Check.in_range(0, 100), required=False),
         "score_hi": pa.Column(float, pa.Check.in_range(0, 100), required=False),
         "rank_lo": pa.Column(int, pa.Check.ge(1), required=False),
         "rank_median": pa.Column(int, pa.Check.ge(1), required=False),
         "rank_hi": pa.Column(int, pa.Check.ge(1), required=False)},
        unique=["scope", "need"], strict=False, ordered=False)


def champions_schema(cb) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {"company_id": _text(unique=True), "ragione_sociale": _text(True), "gruppo_merceologico": _text(),
         "segment": _text(), "score": pa.Column(float, pa.Check.in_range(0, 1)), "reasons": _text()},
        strict=True, ordered=True, coerce=True)


def candidates_schema(cb) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({"company_id": _text(unique=True), "segment": _text(),
                               "score": pa.Column(float, pa.Check.in_range(0, 1)), "champion": pa.Column(bool)},
                              strict=False)


def matches_schema(cb) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {"startup": _text(), "need": _text(checks=_needs_check(cb)), "scope": _text(),
         "score": pa.Column(float, pa.Check.in_range(0, 100)), "rank": pa.Column(int, pa.Check.ge(1)),
         "trl": pa.Column("Int64", pa.Check.in_range(1, 9), nullable=True), "explanation": _text(True)},
        unique=["startup", "need", "scope"], strict=False)


def pilots_schema(cb) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({"company_id": _text(), "segment": _text(), "need": _text(True),
                               "startup": _text(True)}, strict=False)


def below_trl_schema(cb) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({"nome_startup": _text(), "trl": pa.Column("Int64", nullable=True)}, strict=False)


def weights_schema(cb) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({"company_id": _text(unique=True), "weight": pa.Column(float, pa.Check.ge(0))},
                              strict=True, ordered=True)


def needs_summary_schema(cb) -> pa.DataFrameSchema:
    share = pa.Column(float, pa.Check.in_range(0, 1), nullable=True)
    return pa.DataFrameSchema({"need": _text(checks=_needs_check(cb)), "group": _text(),
                               "n": pa.Column(int, pa.Check.ge(0)), "n_high": pa.Column(int, pa.Check.ge(0)),
                               "share_high": share,
                               "mean": pa.Column(float, nullable=True), "ci_low": pa.Column(float, nullable=True),
                               "ci_high": pa.Column(float, nullable=True)},
                              unique=["need", "group"], strict=True, ordered=True)


def comparison_schema(cb) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({"need": _text(unique=True, checks=_needs_check(cb)),
                               "p_adj": pa.Column(float, pa.Check.in_range(0, 1), nullable=True),
                               "credible": pa.Column(bool), "verdict": _text()}, strict=False)


def maturity_scores_schema(cb) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({"company_id": _text(unique=True),
                               "indice_maturita": pa.Column(float, pa.Check.in_range(0, 100), nullable=True),
                               "banda": _text(True)}, strict=False)


def governance_scores_schema(cb) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({"company_id": _text(unique=True),
                               "indice_governance": pa.Column(float, pa.Check.in_range(0, 100), nullable=True),
                               "banda_governance": _text(True),
                               "componenti_risposte": pa.Column(int, pa.Check.ge(0))}, strict=False)


def challenge_themes_schema(cb) -> pa.DataFrameSchema:
    def known_need(frame: pd.DataFrame) -> pd.Series:  # a theme of kind "bisogno" is a codebook need
        return (frame["tipo"] != "bisogno") | frame["tema"].isin(list(cb.need_keys) if cb is not None else frame["tema"])

    return pa.DataFrameSchema({"company_id": _text(), "tipo": _text(checks=pa.Check.isin(["bisogno", "nuovo"])),
                               "tema": _text(), "etichetta": _text(True), "parole": _text(True)},
                              checks=pa.Check(known_need, error="tema of a known need is a codebook need"),
                              unique=["company_id", "tema"], strict=False)


def maturity_groups_schema(cb) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({"group": _text(unique=True), "n": pa.Column(int, pa.Check.ge(0)),
                               "indice_medio": pa.Column(float, nullable=True)}, strict=False)


def need_gap_schema(cb) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({"need": _text(unique=True, checks=_needs_check(cb)), "dimension": _text(True),
                               "n_high": pa.Column(int, pa.Check.ge(0))}, strict=False)


def wave_needs_schema(cb) -> pa.DataFrameSchema:
    share = pa.Column(float, pa.Check.in_range(0, 1), nullable=True)
    return pa.DataFrameSchema({"need": _text(unique=True, checks=_needs_check(cb)), "share_before": share,
                               "share_now": share}, strict=False)


def wave_moves_schema(cb) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({"prima": _text(), "ora": _text(), "imprese": pa.Column(int, pa.Check.ge(1))},
                              unique=["prima", "ora"], strict=True, ordered=True, coerce=True)


def wave_champions_schema(cb) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({"company_id": _text(unique=True), "ragione_sociale": _text(True),
                               "status": pa.Column(str, pa.Check.isin(["confermato", "nuovo", "non più Champion"]))},
                              strict=True, ordered=True, coerce=True)


# --------------------------------------------------------------------------
# The JSON outputs: the type of every entry, and the shapes that must agree

_NUMBER = (int, float)
_NONE = type(None)
JSON_SHAPES: dict[str, dict[str, type | tuple]] = {
    "ingest_summary": {"totals": dict, "files": list},
    "weighting": {"source": str, "cells": list, "register": (dict, _NONE), "rates": (list, _NONE),
                  "outside": (int, _NONE)},
    "need_families": {"order": list, "threshold": _NUMBER, "family": dict, "correlation": list, "linkage": list},
    "segmentation": {"method": str, "seed": int, "k": int, "imputation": str, "with_maturity": bool, "names": dict,
                     "criteria": list, "reason": str},
    "champion_selection": {"minimum": dict, "messages": list},  # and "resampling" (resamples, share) when run
    "startups_summary": {"totals": dict, "balance": list, "left_out": list, "rejected": list, "cell_issues": list},
    "wave_comparison": {"previous_wave": str, "both": int, "new": int, "gone": int, "accepted_before": int,
                        "accepted_now": int},
}


def json_problems(name: str, obj) -> list[str]:
    """What is wrong with a JSON output (empty when nothing): missing entries, wrong types, shapes that do not
    agree (a correlation matrix that is not square over the needs, segment names that are not one per segment)."""
    shape = JSON_SHAPES.get(name, {})
    if not isinstance(obj, dict):
        return ["non è un oggetto JSON"]
    problems = [f"manca {k}" for k in shape if k not in obj]
    problems += [f"{k} di tipo {type(obj[k]).__name__}" for k, t in shape.items()
                 if k in obj and (not isinstance(obj[k], t) or (t in (int, _NUMBER) and isinstance(obj[k], bool)))]
    if problems:
        return problems
    if name == "need_families":
        n = len(obj["order"])
        if len(obj["correlation"]) != n or any(not isinstance(r, list) or len(r) != n for r in obj["correlation"]):
            problems.append("la matrice delle correlazioni non è quadrata sui bisogni")
        if len(obj["linkage"]) != max(n - 1, 0) or set(obj["family"]) != set(obj["order"]):
            problems.append("albero o famiglie non corrispondono ai bisogni")
    if name == "segmentation" and (len(obj["names"]) != obj["k"]
                                   or not all(isinstance(v, str) and v for v in obj["names"].values())):
        problems.append("i nomi dei segmenti non sono uno per segmento")
    return problems
