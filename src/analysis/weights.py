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

The register is read with the survey's header and value rules (labels,
aliases, VAT, ATECO, sector aliases); every row is accounted for: used,
left out with a message naming file, sheet, row and column, or empty.
A weights table (sector group, size class, weight) can be given instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.codebook import Codebook
from analysis.confidentiality import suppress_counts
from analysis.headers import HEADER_SEARCH_ROWS, match_header
from analysis.identity import CompanyLookup, company_name_key
from analysis.reporting import fmt_int, fmt_num, fmt_pct
from analysis.text import normalise
from analysis.values import (
    ateco_division,
    cell_text,
    is_blank,
    parse_ateco,
    parse_integer,
    parse_number,
    parse_number_text,
    parse_sector,
    parse_vat_cell,
)
from analysis.workbooks import FileProblem, csv_candidates, workbook_sheets

SIZE_CLASS_HEADERS = {"classe dimensionale", "classe di dimensione", "dimensione", "dimensione impresa",
                      "size class", "company size", "size"}
WEIGHT_HEADERS = {"peso", "pesi", "weight", "coefficiente"}
REGISTER_FIELDS = ("partita_iva", "ragione_sociale", "gruppo_merceologico", "codice_ateco", "dipendenti")
SIZE = "size_class"
UNKNOWN_SIZE = "non indicata"


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


def _first_table(path: Path) -> tuple[str, list[list]]:
    if path.suffix.lower() == ".csv":
        candidates = csv_candidates(path)
        best = max(candidates, key=lambda s: max((len(r) for r in s.rows[:HEADER_SEARCH_ROWS]), default=0))
        return "", best.rows
    sheets, _ = workbook_sheets(path)
    if not sheets:
        raise FileProblem("nessun foglio visibile")
    name, load = sheets[0]
    sheet = load()
    return name, [[None if c == "" else c for c in r] for r in sheet.rows]


def _register_columns(row: list, cb: Codebook) -> dict[str, int]:
    cols: dict[str, int] = {}
    for j, cell in enumerate(row):
        if not isinstance(cell, str):
            continue
        if normalise(cell) in SIZE_CLASS_HEADERS:
            cols.setdefault(SIZE, j)
            continue
        hit = match_header(cell, cb)
        if hit is not None and hit.option is None and hit.key in REGISTER_FIELDS:
            cols.setdefault(hit.key, j)
    return cols


def read_register(path: str | Path, cb: Codebook) -> Register:
    """Read the member register (first visible sheet, or a CSV). Raises :class:`FileProblem` when the file
    cannot be read or holds no usable header (a sector or ATECO column and an employees or size column)."""
    path = Path(path)
    sheet, rows = _first_table(path)
    where_file = f"{path.name}" + (f" [{sheet}]" if sheet else "")
    header_row, cols = None, {}
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found = _register_columns(row, cb)
        if len(found) > len(cols):
            header_row, cols = i, found
    has_sector = "gruppo_merceologico" in cols or "codice_ateco" in cols
    has_size = "dipendenti" in cols or SIZE in cols
    if header_row is None or not (has_sector and has_size):
        raise FileProblem(f"{where_file}: intestazione del registro soci non trovata (servono gruppo merceologico o "
                          "codice ATECO, e numero di dipendenti o classe dimensionale)")
    headers = rows[header_row]
    reg = Register(pd.DataFrame(), source=where_file)
    records = []
    for i, row in enumerate(rows[header_row + 1:], start=header_row + 2):
        reg.read += 1
        cell = {k: row[j] if j < len(row) else None for k, j in cols.items()}
        if all(is_blank(v) for v in cell.values()):
            reg.empty += 1
            continue

        def note(key: str, text: str, row_number: int = i) -> None:
            reg.problems.append(f"{where_file}, riga {row_number}, colonna {headers[cols[key]]!s}: {text}")

        vat = None
        if not is_blank(cell.get("partita_iva")):
            p = parse_vat_cell(cell["partita_iva"], cb.by_key["partita_iva"], cb)
            vat = p.value
            if p.reason:
                note("partita_iva", f"partita IVA non valida ({cell_text(cell['partita_iva'])})")
        name_key = company_name_key(cell.get("ragione_sociale"), cb.legal_forms) \
            if isinstance(cell.get("ragione_sociale"), str) else ""
        sector = None
        if not is_blank(cell.get("gruppo_merceologico")):
            sector = parse_sector(cell["gruppo_merceologico"], cb.by_key["gruppo_merceologico"], cb).value
        if sector is None and not is_blank(cell.get("codice_ateco")):
            sector = cb.sector_by_division.get(ateco_division(parse_ateco(cell["codice_ateco"]).value))
        size = None
        if not is_blank(cell.get("dipendenti")):
            size = cb.size_class(parse_integer(cell["dipendenti"], cb.by_key["dipendenti"], cb).value)
        if size is None and not is_blank(cell.get(SIZE)):
            size = cb.size_class_names.get(normalise(cell_text(cell[SIZE])))
            if size is None:  # a number written in a size-class column
                size = cb.size_class(parse_number(cell[SIZE], cb.by_key["dipendenti"], cb).value)
        missing = [what for what, v in (("gruppo merceologico", sector), ("classe dimensionale", size)) if v is None]
        if missing:
            reg.left_out += 1
            key = "gruppo_merceologico" if sector is None and "gruppo_merceologico" in cols else \
                "codice_ateco" if sector is None else "dipendenti" if "dipendenti" in cols else SIZE
            note(key, f"riga esclusa dai pesi: {' e '.join(missing)} non riconoscibile")
            continue
        reg.used += 1
        records.append({"partita_iva": vat, "name_key": name_key, "gruppo_merceologico": sector, SIZE: size,
                        "source_row": i})
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


@dataclass
class Weighting:
    """Weights per responding company and the cells they come from."""

    weights: pd.Series  # index of responses, mean 1
    cells: pd.DataFrame  # gruppo_merceologico, cell (size classes merged), members, respondents, weight
    source: str  # "registro soci", "tabella dei pesi" or "nessuna"

    @property
    def weighted(self) -> bool:
        return self.source != "nessuna"


def unweighted(responses: pd.DataFrame) -> Weighting:
    return Weighting(pd.Series(1.0, index=responses.index), pd.DataFrame(), "nessuna")


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


def poststratify(responses: pd.DataFrame, population: pd.Series, cb: Codebook, min_respondents: int = 3
                 ) -> Weighting:
    """Post-stratification weights from member counts per (sector group, size class) in ``population``."""
    sizes = list(cb.size_labels)
    resp = responses.groupby(["gruppo_merceologico", SIZE]).size().reindex(_cells(cb), fill_value=0)
    pop = population.reindex(_cells(cb), fill_value=0)
    # Weights are proportional to members per respondent; shares over all respondents keep the cell and the
    # sector-level (unknown size) weights on one scale.
    total_pop, total_resp = pop.sum(), len(responses)
    cell_of: dict[tuple[str, str], int] = {}
    rows = []
    for sector in cb.sector_labels:
        r = [int(resp[(sector, s)]) for s in sizes]
        p = [int(pop[(sector, s)]) for s in sizes]
        for group in _merge_classes(r, p, min_respondents):
            n_resp, n_pop = sum(r[i] for i in group), sum(p[i] for i in group)
            w = (n_pop / total_pop) / (n_resp / total_resp) if n_resp and n_pop and total_pop else np.nan
            rows.append({"gruppo_merceologico": sector, "cell": "+".join(cb.size_labels[sizes[i]] for i in group),
                         "members": n_pop, "respondents": n_resp, "weight": w})
            for i in group:
                cell_of[(sector, sizes[i])] = len(rows) - 1
    cells = pd.DataFrame(rows)
    # Sector-level weight for respondents of unknown size.
    sector_w = {}
    for sector in cb.sector_labels:
        n_pop, n_resp = pop.loc[sector].sum(), (responses["gruppo_merceologico"] == sector).sum()
        sector_w[sector] = (n_pop / total_pop) / (n_resp / len(responses)) if n_pop and n_resp else np.nan
    w = [cells.at[cell_of[(g, s)], "weight"] if isinstance(s, str) and (g, s) in cell_of else sector_w.get(g, np.nan)
         for g, s in zip(responses["gruppo_merceologico"], responses[SIZE], strict=True)]
    weights = pd.Series(w, index=responses.index, dtype=float)
    # A respondent no member cell describes keeps weight 1 (listed in ``cells`` with no weight).
    weights = weights.fillna(1.0)
    scale = len(weights) / weights.sum()
    cells["weight"] = cells["weight"] * scale
    return Weighting(weights * scale, cells, "registro soci")


def register_population(register: Register) -> pd.Series:
    return register.members.groupby(["gruppo_merceologico", SIZE]).size()


def read_weights_table(path: str | Path, responses: pd.DataFrame, cb: Codebook) -> Weighting:
    """A weights table given directly: columns sector group, size class and weight (one row per cell).
    Respondents in a cell the table lacks keep weight 1; weights are scaled to average 1."""
    path = Path(path)
    sheet, rows = _first_table(path)
    header = next((i for i, r in enumerate(rows[:HEADER_SEARCH_ROWS])
                   if any(isinstance(c, str) and normalise(c) in WEIGHT_HEADERS for c in r)), None)
    if header is None:
        raise FileProblem(f"{path.name}: nessuna colonna 'peso' nella tabella dei pesi")
    names = [normalise(c) if isinstance(c, str) else "" for c in rows[header]]
    col = {"w": next(j for j, n in enumerate(names) if n in WEIGHT_HEADERS),
           "s": next((j for j, n in enumerate(names) if n in SIZE_CLASS_HEADERS), None),
           "g": next((j for j, c in enumerate(rows[header]) if isinstance(c, str) and
                      getattr(match_header(c, cb), "key", None) == "gruppo_merceologico"), None)}
    if col["g"] is None or col["s"] is None:
        raise FileProblem(f"{path.name}: servono le colonne gruppo merceologico, classe dimensionale e peso")
    table = {}
    for r in rows[header + 1:]:
        get = {k: (r[j] if j is not None and j < len(r) else None) for k, j in col.items()}
        g = cb.sector_names.get(normalise(cell_text(get["g"])))
        s = cb.size_class_names.get(normalise(cell_text(get["s"])))
        w = get["w"] if isinstance(get["w"], (int, float)) else parse_number_text(cell_text(get["w"]))[0]
        if g and s and w is not None and w > 0:
            table[(g, s)] = float(w)
    keys = list(zip(responses["gruppo_merceologico"], responses[SIZE], strict=True))
    weights = pd.Series([table.get(k, 1.0) for k in keys], index=responses.index, dtype=float)
    weights *= len(weights) / weights.sum()
    cells = pd.DataFrame([{"gruppo_merceologico": g, "cell": cb.size_labels[s], "members": np.nan,
                           "respondents": sum(1 for k in keys if k == (g, s)), "weight": w}
                          for (g, s), w in table.items()])
    return Weighting(weights, cells, "tabella dei pesi")


def load_weighting(responses: pd.DataFrame, cb: Codebook, members_path: str = "", weights_path: str = "",
                   min_respondents: int = 3) -> tuple[Weighting, Register | None]:
    """The weighting a notebook uses: from the member register, else from a weights table, else none."""
    if members_path:
        register = read_register(members_path, cb)
        return poststratify(responses, register_population(register), cb, min_respondents), register
    if weights_path:
        return read_weights_table(weights_path, responses, cb), None
    return unweighted(responses), None


def _count_text(values: pd.Series) -> list[str]:
    return [v if isinstance(v, str) else fmt_int(v) for v in values]


def _shown_counts(frame: pd.DataFrame, audience: str) -> pd.DataFrame:
    """Member and respondent counts of a table for the report: each column suppressed under 3 (with one
    more cell per column, since its total can be known)."""
    return pd.concat([suppress_counts(frame[[c]], audience, totals="columns") for c in ("members", "respondents")],
                     axis=1)


def rates_table(rates: pd.DataFrame, cb: Codebook, audience: str = "board") -> pd.DataFrame:
    """:func:`response_rates` for the report; member and respondent counts under 3 suppressed, and a rate
    wherever either count is."""
    shown = _shown_counts(rates, audience)
    hidden = shown.map(lambda v: isinstance(v, str)).any(axis=1)
    return pd.DataFrame({
        "Gruppo": rates["gruppo_merceologico"].map(cb.sector_short), "Classe": rates[SIZE].map(cb.size_labels),
        "Soci": _count_text(shown["members"]), "Rispondenti": _count_text(shown["respondents"]),
        "Tasso di risposta": ["n.p." if h else fmt_pct(r) for h, r in zip(hidden, rates["rate"], strict=True)]})


def cells_table(weighting: Weighting, cb: Codebook, audience: str = "board") -> pd.DataFrame:
    """The weighting cells for the report (member and respondent counts under 3 suppressed)."""
    c = weighting.cells
    shown = _shown_counts(c.fillna({"members": 0}), audience)
    return pd.DataFrame({"Gruppo": c["gruppo_merceologico"].map(cb.sector_short), "Classi": c["cell"],
                         "Soci": _count_text(shown["members"]) if c["members"].notna().any() else "–",
                         "Rispondenti": _count_text(shown["respondents"]),
                         "Peso": c["weight"].map(lambda v: fmt_num(v, 2))})
