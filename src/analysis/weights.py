"""The association's member register, response rates and post-stratification weights.

A survey answered by more foundries than the membership holds overstates
what foundries need. Given the register of members (one row per company:
VAT number or name, sector group or ATECO code, employees or size class),
each answering company gets the weight

    (members in its cell / all members) / (respondents in its cell / all respondents)

with cells = sector group x size class. A cell with fewer than
``min_respondents`` respondents (or with no members) is merged with its
neighbouring size class within the same sector group, so no single company
carries an extreme weight. Respondents of unknown size take their sector
group's weight. Weights are scaled to average 1 over the respondents.

The register is read with the one table reader (:mod:`analysis.tables`: the
survey's header and value rules, its fields and header synonyms in the
codebook); every row is accounted for: used, left out with a message naming
file, sheet and row, or empty; flagged cells are named with their column.
A weights table (sector group, size class, weight) can be given instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.codebook import Codebook
from analysis.disclosure import Gate, shown
from analysis.identity import CompanyLookup, company_name_key
from analysis.reporting import fmt_int, fmt_num, fmt_pct
from analysis.values import (
    ateco_division,
)
from analysis.workbooks import FileProblem

SIZE = "size_class"
SIZE_FIELD = "classe_dimensionale"  # the size class as the register or weights table states it
UNKNOWN_SIZE = "non indicata"
TRIM_CAP = 3.0  # no respondent's weight above three times the mean


@dataclass
class Register:
    """Members read from the register file, with the accounting of every row."""

    members: pd.DataFrame  # partita_iva, name_key, gruppo_merceologico, size_class, source_row
    problems: list[str] = field(default_factory=list)  # one message per row left out or cell flagged
    read: int = 0
    used: int = 0
    left_out: int = 0
    empty: int = 0
    source: str = ""


def read_register(path: str | Path, cb: Codebook) -> Register:
    """Read the member register (every sheet with a register header, or a CSV, or every spreadsheet under a
    folder) with the one table reader. Raises :class:`FileProblem` when nothing can be read, naming why."""
    from analysis.tables import read_table

    table = read_table(path, cb, "register")
    problem = table.only_file_problem()
    if problem:
        raise FileProblem(f"registro soci non leggibile: {problem} (servono gruppo merceologico o codice ATECO, "
                          "e numero di dipendenti o classe dimensionale)")
    reg = Register(pd.DataFrame(), problems=table.cell_problems(),
                   source="; ".join(sorted({b.file + (f" [{b.sheet}]" if b.sheet else "") for b in table.blocks})))
    reg.problems += [f"{x['file']}: escluso ({x['reason']})" for x in table.left_out]
    records = []
    for block, i in table.rows():
        reg.read += 1
        if block.empty[i]:
            reg.empty += 1
            continue
        name = block.get("ragione_sociale")[i]
        sector = block.get("gruppo_merceologico")[i]
        if sector is None:
            sector = cb.sector_by_division.get(ateco_division(block.get("codice_ateco")[i]))
        size = cb.size_class(block.get("dipendenti")[i]) if block.get("dipendenti")[i] is not None else None
        size = size or block.get(SIZE_FIELD)[i]
        missing = [what for what, v in (("gruppo merceologico", sector), ("classe dimensionale", size)) if v is None]
        if missing:
            reg.left_out += 1
            reg.problems.append(f"{table.where(block, i)}: riga esclusa dai pesi: {' e '.join(missing)} "
                                "non riconoscibile")
            continue
        reg.used += 1
        records.append({"partita_iva": block.get("partita_iva")[i],
                        "name_key": company_name_key(name, cb.legal_forms) if name else "",
                        "gruppo_merceologico": sector, SIZE: size, "source_row": block.source_rows[i]})
    reg.members = pd.DataFrame(records, columns=["partita_iva", "name_key", "gruppo_merceologico", SIZE,
                                                 "source_row"])
    return reg


def _cells(cb: Codebook) -> pd.MultiIndex:
    return pd.MultiIndex.from_product([cb.sector_labels, list(cb.size_labels)], names=["gruppo_merceologico", SIZE])


def response_rates(responses: pd.DataFrame, register: Register, cb: Codebook) -> tuple[pd.DataFrame, int]:
    """Per sector group x size class of the register: members, respondents found among them (by VAT number or
    name, the identity rules of reading) and the rate; plus the number of respondents not in the register."""
    lookup = CompanyLookup(responses, cb.legal_forms)
    m = register.members
    found = [lookup.find(None, vat=v) if isinstance(v, str) else None for v in m["partita_iva"]]
    found = [f or (lookup.find(k) if k else None) for f, k in zip(found, m["name_key"], strict=True)]
    m = m.assign(company_id=found)
    m["responded"] = m["company_id"].notna()
    table = m.groupby(["gruppo_merceologico", SIZE]).agg(members=("responded", "size"),
                                                         respondents=("responded", "sum"))
    table = table.reindex(_cells(cb), fill_value=0)
    table["rate"] = table["respondents"] / table["members"].replace(0, np.nan)
    not_in_register = int((~responses["company_id"].isin(set(m["company_id"].dropna()))).sum())
    return table.reset_index(), not_in_register


UNWEIGHTED = "nessuna"  # the weighting source of a run without register or weight table


@dataclass
class Weighting:
    """Weights per responding company and the cells they come from."""

    weights: pd.Series  # index of responses, mean 1
    cells: pd.DataFrame  # gruppo_merceologico, cell (size classes merged), members, respondents, weight
    source: str  # "registro soci", "tabella dei pesi" or UNWEIGHTED
    cap: float | None = None  # weights trimmed at this multiple of the mean
    trimmed: int = 0  # respondents whose weight was over the cap

    @property
    def effective(self) -> float:
        """Kish's effective sample size of the weights."""
        return effective_size(self.weights)

    @property
    def weighted(self) -> bool:
        return self.source != UNWEIGHTED


def unweighted(responses: pd.DataFrame) -> Weighting:
    return Weighting(pd.Series(1.0, index=responses.index), pd.DataFrame(), UNWEIGHTED)


def _merge_classes(resp: list[int], memb: list[int], minimum: int) -> list[list[int]]:
    """Adjacent size classes merged until every group has ``minimum`` respondents and some members (classes
    with neither respondents nor members play no part)."""
    groups = [[i] for i in range(len(resp)) if resp[i] or memb[i]]

    def short(g):
        return sum(resp[i] for i in g) < minimum or sum(memb[i] for i in g) == 0

    while len(groups) > 1 and any(short(g) for g in groups):
        worst = min((g for g in groups if short(g)), key=lambda g: (sum(resp[i] for i in g), g[0]))
        k = groups.index(worst)
        neighbours = [j for j in (k - 1, k + 1) if 0 <= j < len(groups)]
        j = min(neighbours, key=lambda j: (sum(resp[i] for i in groups[j]), j))
        a, b = sorted((k, j))
        groups[a:b + 1] = [groups[a] + groups[b]]
    return groups


def poststratify(responses: pd.DataFrame, population: pd.Series, cb: Codebook, min_respondents: int = 3,
                 cap: float = TRIM_CAP) -> Weighting:
    """Post-stratification weights from member counts per (sector group, size class) in ``population``.

    Respondents of unknown size are spread over their sector group's cells in proportion to the members of
    each cell (fractional allocation): a cell's respondents are its known ones plus that share of the
    unknown ones, and an unknown-size respondent's weight is the member-weighted mean of its group's cell
    weights. So every cell's weighted respondents (the allocated shares included) and every group's total
    match the members exactly. Weights are then trimmed at ``cap`` times the mean (see :func:`trim`)."""
    sizes = list(cb.size_labels)
    known = responses[SIZE].isin(sizes)
    resp = responses[known].groupby(["gruppo_merceologico", SIZE]).size().reindex(_cells(cb), fill_value=0)
    unknown = responses[~known].groupby("gruppo_merceologico").size()
    pop = population.reindex(_cells(cb), fill_value=0)
    total_pop, total_resp = pop.sum(), len(responses)
    cell_of: dict[tuple[str, str], int] = {}
    rows = []
    for sector in cb.sector_labels:
        r = [int(resp[(sector, s)]) for s in sizes]
        p = [int(pop[(sector, s)]) for s in sizes]
        sector_pop = sum(p)
        spread = int(unknown.get(sector, 0))
        for group in _merge_classes(r, p, min_respondents):
            n_pop = sum(p[i] for i in group)
            n_resp = sum(r[i] for i in group) + (spread * n_pop / sector_pop if sector_pop else 0.0)
            w = (n_pop / total_pop) / (n_resp / total_resp) if n_resp and n_pop and total_pop else np.nan
            rows.append({"gruppo_merceologico": sector, "cell": "+".join(cb.size_labels[sizes[i]] for i in group),
                         "members": n_pop, "respondents": sum(r[i] for i in group), "weight": w})
            for i in group:
                cell_of[(sector, sizes[i])] = len(rows) - 1
    cells = pd.DataFrame(rows)
    # An unknown-size respondent: its group's cell weights averaged over the members.
    sector_w = {}
    for sector in cb.sector_labels:
        part = cells[(cells["gruppo_merceologico"] == sector) & cells["weight"].notna()]
        sector_w[sector] = float((part["weight"] * part["members"]).sum() / part["members"].sum()) \
            if len(part) and part["members"].sum() else np.nan
    w = [cells.at[cell_of[(g, s)], "weight"] if isinstance(s, str) and (g, s) in cell_of else sector_w.get(g, np.nan)
         for g, s in zip(responses["gruppo_merceologico"], responses[SIZE], strict=True)]
    weights = pd.Series(w, index=responses.index, dtype=float)
    # A respondent no member cell describes keeps weight 1 (listed in ``cells`` with no weight).
    weights = weights.fillna(1.0)
    scale = len(weights) / weights.sum()
    cells["weight"] = cells["weight"] * scale
    trimmed, factor = trim(weights * scale, cap)
    cells["weight"] = (cells["weight"] * factor).clip(upper=cap)
    return Weighting(trimmed, cells, "registro soci", cap, int((weights * scale > cap + 1e-9).sum()))


def trim(weights: pd.Series, cap: float = TRIM_CAP) -> tuple[pd.Series, float]:
    """Weights capped at ``cap`` times their mean, the others scaled up so the mean stays 1, repeated until no
    weight is over the cap (a few steps). Returns the weights and the factor the uncapped ones were scaled
    by. One company carrying eight times the others would decide every weighted figure alone."""
    w = weights.astype(float).copy()
    factor = 1.0
    if not len(w) or cap <= 1:
        return w, factor
    for _ in range(50):
        over = w > cap + 1e-12
        if not over.any():
            break
        free = ~over
        if not free.any():
            break
        excess = (w[over] - cap).sum()
        step = 1 + excess / w[free].sum()
        w[over] = cap
        w[free] *= step
        factor *= step
    return w, factor


def effective_size(weights: pd.Series) -> float:
    """Kish's effective sample size: ``(sum w)^2 / sum w^2``; equal weights give the number of respondents."""
    w = weights.to_numpy(dtype=float)
    return float(w.sum() ** 2 / (w ** 2).sum()) if len(w) and (w ** 2).sum() > 0 else 0.0


def register_population(register: Register) -> pd.Series:
    return register.members.groupby(["gruppo_merceologico", SIZE]).size()


def read_weights_cells(path: str | Path, cb: Codebook) -> dict[tuple[str, str], float]:
    """A weights table (sector group, size class, weight; one row per cell) read with the one table reader:
    (sector group, size class) -> weight, for the readable rows with a positive weight."""
    from analysis.tables import read_table

    t = read_table(path, cb, "weights")
    problem = t.only_file_problem()
    if problem:
        raise FileProblem(f"tabella dei pesi non leggibile: {problem} (servono gruppo merceologico, classe "
                          "dimensionale e peso)")
    table = {}
    for block, i in t.rows():
        g, s, w = (block.get(k)[i] for k in ("gruppo_merceologico", SIZE_FIELD, "peso"))
        if g and s and w is not None and w > 0:
            table[(g, s)] = float(w)
    return table


def apply_weights_table(table: dict[tuple[str, str], float], responses: pd.DataFrame, cb: Codebook,
                        cap: float = TRIM_CAP) -> Weighting:
    """Weights from a table of cells: respondents in a cell the table lacks keep weight 1; scaled to mean 1 and
    trimmed at ``cap`` (:func:`trim`)."""
    keys = list(zip(responses["gruppo_merceologico"], responses[SIZE], strict=True))
    raw = pd.Series([table.get(k, 1.0) for k in keys], index=responses.index, dtype=float)
    scale = len(raw) / raw.sum()
    weights = raw * scale
    trimmed, factor = trim(weights, cap)
    cells = pd.DataFrame([{"gruppo_merceologico": g, "cell": cb.size_labels[s], "members": np.nan,
                           "respondents": sum(1 for k in keys if k == (g, s)), "weight": min(w * scale * factor, cap)}
                          for (g, s), w in table.items()])
    return Weighting(trimmed, cells, "tabella dei pesi", cap, int((weights > cap + 1e-9).sum()))


def read_weights_table(path: str | Path, responses: pd.DataFrame, cb: Codebook, cap: float = TRIM_CAP) -> Weighting:
    """:func:`read_weights_cells` then :func:`apply_weights_table`."""
    return apply_weights_table(read_weights_cells(path, cb), responses, cb, cap)


def rates_table(rates: pd.DataFrame, cb: Codebook, gate: Gate) -> pd.DataFrame:
    """:func:`response_rates` for the report: member and respondent counts protected against their group and
    class totals (both are public), and a rate hidden wherever either count is."""
    members = gate.long(rates, "gruppo_merceologico", SIZE, "members", "Soci per gruppo e classe")
    respondents = gate.long(rates, "gruppo_merceologico", SIZE, "respondents", "Rispondenti per gruppo e classe")
    hidden = members | respondents
    return pd.DataFrame({
        "Gruppo": rates["gruppo_merceologico"].map(cb.sector_short), "Classe": rates[SIZE].map(cb.size_labels),
        "Soci": shown(rates["members"], members, fmt_int), "Rispondenti": shown(rates["respondents"], respondents, fmt_int),
        "Tasso di risposta": shown(rates["rate"], hidden, fmt_pct)})


def cells_table(weighting: Weighting, cb: Codebook, gate: Gate) -> pd.DataFrame:
    """The weighting cells for the report: member and respondent counts protected against the group totals,
    and a weight hidden wherever a count is (weight = members / respondents would give them away)."""
    c = weighting.cells.fillna({"members": 0})
    members = gate.long(c, "gruppo_merceologico", "cell", "members", "Soci per cella di ponderazione")
    respondents = gate.long(c, "gruppo_merceologico", "cell", "respondents", "Rispondenti per cella di ponderazione")
    hidden = members | respondents
    return pd.DataFrame({"Gruppo": c["gruppo_merceologico"].map(cb.sector_short), "Classi": c["cell"],
                         "Soci": shown(c["members"], members, fmt_int)
                         if weighting.cells["members"].notna().any() else "–",
                         "Rispondenti": shown(c["respondents"], respondents, fmt_int),
                         "Peso": shown(c["weight"], hidden, lambda v: fmt_num(v, 2))})
