"""The disclosure gate (spec section 8): every number the board sees passes through here.

A board table is a grid of company counts (or of the bases of shares and
means) whose row and column totals the report shows, here or elsewhere; the
whole-survey total is always shown. :meth:`Gate.counts` returns what may be
published:

* **primary suppression**: a cell about 1 or 2 companies;
* **secondary suppression**: more cells, chosen so that no hidden cell can be
  worked out from what is published, even within bounds. For each hidden
  small cell the smallest and largest values consistent with every published
  cell and total are found by linear programming; the largest must reach 3,
  so that the board cannot tell that the cell is small, let alone its value.
  Candidate cells are tried cheapest first (the companies they hide), and
  cells that turn out not to be needed are released again.

Every hidden cell is shown the same way, ``n.p.`` (non pubblicabile): a
separate mark for small cells would itself tell the reader they are 1 or 2.

Categories come before cells: :meth:`Gate.categories` merges a category of
fewer than 3 companies into a neighbouring one (ordered categories such as
size classes) or into "altre imprese", and when merging cannot help (a
sector group of 2 beside one other group) the breakdown is left out with a
sentence saying why. ``audience = "analyst"`` publishes everything; it is for
interactive work and is never exported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linprog

AUDIENCES = ("board", "analyst")
MIN_COMPANIES = 3
SUPPRESSED = "n.p."
OTHERS = "altre imprese"
LEGEND = ("n.p. = non pubblicabile: riguarda meno di 3 imprese, oppure è nascosto perché quel dato non si possa "
          "ricavare per differenza dai totali.")
# Cells tried per step of the search before settling for the best improvement (keeps big tables fast).
_TRIES = 40


def check_audience(audience: str) -> str:
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {AUDIENCES}, not {audience!r}")
    return audience


# --------------------------------------------------------------------------
# A grid with its totals, as linear relations between cells

@dataclass(frozen=True)
class Grid:
    """``values`` (rows x columns) with the relations the report exposes.

    Cells are numbered: the interior row by row, then the row totals (when
    ``row_totals``), the column totals (when ``column_totals``) and the grand
    total. Totals are public: they are never hidden unless they are small
    themselves. ``lower`` is what a reader knows about each interior cell
    without seeing it: 1 when the table lists only categories that occur, or
    the companies of that cell the report names one by one (Champions).
    """

    values: np.ndarray
    row_totals: bool = True
    column_totals: bool = True
    lower: float | np.ndarray = 0.0

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape

    def cells(self) -> np.ndarray:
        v = np.asarray(self.values, dtype=float)
        parts = [v.ravel()]
        if self.row_totals:
            parts.append(v.sum(axis=1))
        if self.column_totals:
            parts.append(v.sum(axis=0))
        parts.append(np.array([v.sum()]))
        return np.concatenate(parts)

    def interior(self) -> int:
        return self.values.size

    def relations(self) -> np.ndarray:
        """One row per relation ``sum(members) - total = 0``."""
        R, C = self.shape
        n = len(self.cells())
        grand = n - 1
        cell = np.arange(R * C).reshape(R, C)

        def relation(members, total) -> np.ndarray:
            a = np.zeros(n)
            a[members] = 1
            a[total] = -1
            return a

        rows = []
        at = R * C
        for shown, lines in ((self.row_totals, cell), (self.column_totals, cell.T)):
            if shown:  # each line sums to its total, and the totals to the grand total
                rows += [relation(line, at + i) for i, line in enumerate(lines)]
                rows.append(relation(np.arange(at, at + len(lines)), grand))
                at += len(lines)
        if not self.row_totals and not self.column_totals:
            rows.append(relation(cell.ravel(), grand))
        return np.array(rows)

    def lower_bounds(self) -> np.ndarray:
        lb = np.zeros(len(self.cells()))
        lb[:self.interior()] = np.ravel(np.broadcast_to(self.lower, self.values.shape))
        return lb

    def rectangle_partners(self, cell: int) -> list[tuple[int, int, int]]:
        """For an interior cell, the other three corners of every rectangle it spans (both totals shown)."""
        R, C = self.shape
        if cell >= R * C or not (self.row_totals and self.column_totals):
            return []
        i, j = divmod(cell, C)
        return [(i * C + jj, ii * C + j, ii * C + jj) for ii in range(R) for jj in range(C) if ii != i and jj != j]


def interval(cells: np.ndarray, relations: np.ndarray, hidden: np.ndarray, lower: np.ndarray,
             cell: int, sides: tuple[int, ...] = (1, -1)) -> tuple[float, float]:
    """Smallest and largest value of hidden ``cell`` consistent with every published cell and relation
    (``sides=(-1,)`` computes the largest only; the smallest is then returned as -inf)."""
    idx = np.flatnonzero(hidden)
    pos = int(np.searchsorted(idx, cell))
    A = relations[:, idx]
    b = -relations[:, ~hidden] @ cells[~hidden]
    used = np.any(A != 0, axis=1)
    A, b = A[used], b[used]
    bounds = [(lower[i], None) for i in idx]
    found = {1: -np.inf, -1: np.inf}
    for sign in sides:
        c = np.zeros(len(idx))
        c[pos] = sign
        res = linprog(c, A_eq=A if len(A) else None, b_eq=b if len(A) else None, bounds=bounds, method="highs")
        if res.status == 3:  # unbounded
            continue
        # Any other failure cannot happen for the true values; counting the cell as pinned stays on the safe side.
        found[sign] = sign * res.fun if res.status == 0 else cells[cell]
    return found[1], found[-1]


def _largest(cells, relations, hidden, lower, p) -> float:
    return interval(cells, relations, hidden, lower, p, sides=(-1,))[1]


def _exposed(cells, relations, hidden, lower, primary) -> list[int]:
    """The primary cells whose largest possible value is still under 3."""
    return [p for p in np.flatnonzero(primary) if _largest(cells, relations, hidden, lower, p) < MIN_COMPANIES - 1e-7]


def protect(grid: Grid) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(hidden, primary, possible)`` over :meth:`Grid.cells`: the cells to hide so that every small cell is
    protected, hiding as few companies as the search finds; ``possible`` is False when even hiding every
    interior cell leaves one exposed (the caller then leaves the table out)."""
    cells = grid.cells()
    relations = grid.relations()
    lower = grid.lower_bounds()
    interior = grid.interior()
    primary = (cells > 0) & (cells < MIN_COMPANIES)
    hidden = primary.copy()
    # Cost of hiding a cell: the companies it hides, and a little per cell so that ties hide fewer cells.
    cost = cells + 0.01
    candidate = np.zeros(len(cells), bool)
    candidate[:interior] = True
    members = [set(np.flatnonzero(r)) for r in relations]

    def open_(pattern) -> bool:
        return all(candidate[c] or hidden[c] for c in pattern) and any(not hidden[c] for c in pattern)

    def cover(p) -> bool:
        """Hide the cheapest cells (one, or the three other corners of a rectangle) that protect ``p``, or
        the ones that help most; False when nothing is left to hide."""
        partners = sorted({c for m in members if p in m for c in m if c != p and candidate[c] and not hidden[c]},
                          key=lambda c: cost[c])
        patterns = [(c,) for c in partners] + [r for r in grid.rectangle_partners(p) if open_(r)]
        patterns.sort(key=lambda pat: sum(cost[c] for c in pat if not hidden[c]))
        best, best_hi = None, _largest(cells, relations, hidden, lower, p)
        for pat in patterns[:_TRIES]:
            trial = hidden.copy()
            trial[list(pat)] = True
            hi = _largest(cells, relations, trial, lower, p)
            if hi >= MIN_COMPANIES - 1e-7:
                best = pat
                break
            if hi > best_hi + 1e-7:
                best, best_hi = pat, hi
        if best is None:  # nothing single helps: open everything around the cell, then the whole table
            best = [c for m in members if p in m for c in m if candidate[c]]
            best += [c for r in grid.rectangle_partners(p) for c in r]
            if all(hidden[c] for c in best):
                best = list(np.flatnonzero(candidate))
                if all(hidden[c] for c in best):
                    return False
        hidden[list(best)] = True
        return True

    exposed = _exposed(cells, relations, hidden, lower, primary)
    while exposed:
        for p in exposed:
            if _largest(cells, relations, hidden, lower, p) < MIN_COMPANIES - 1e-7 and not cover(p):
                return hidden, primary, False
        exposed = _exposed(cells, relations, hidden, lower, primary)
    # Release the cells that turned out not to be needed, most companies first.
    for c in sorted(np.flatnonzero(hidden & ~primary), key=lambda c: -cost[c]):
        hidden[c] = False
        if _exposed(cells, relations, hidden, lower, primary):
            hidden[c] = True
    return hidden, primary, True


# --------------------------------------------------------------------------
# What a board table may show

@dataclass
class Published:
    """A protected count table: the counts, which cells are hidden, and why a table may be left out."""

    counts: pd.DataFrame
    hidden: pd.DataFrame
    row_hidden: pd.Series | None = None
    column_hidden: pd.Series | None = None
    omitted: str | None = None

    def show(self, fmt=None) -> pd.DataFrame:
        """The counts as text, hidden cells as ``n.p.``."""
        from analysis.reporting import fmt_int

        fmt = fmt or fmt_int
        text = self.counts.map(fmt).astype(object)
        return text.mask(self.hidden, SUPPRESSED)

    def row_total_text(self, fmt=None) -> list[str]:
        from analysis.reporting import fmt_int

        totals = self.counts.sum(axis=1)
        hide = self.row_hidden if self.row_hidden is not None else np.zeros(len(totals), bool)
        return shown(totals, hide, fmt or fmt_int)

    @property
    def companies_hidden(self) -> int:
        return int(self.counts.where(self.hidden, 0).to_numpy().sum())


def shown(values, hidden, fmt) -> list[str]:
    """Each value as ``fmt`` writes it, or ``n.p.`` where ``hidden``: how every board column shows what the gate
    decided."""
    return [SUPPRESSED if h else fmt(v) for v, h in zip(values, hidden, strict=True)]


def with_note(frame: pd.DataFrame, omitted: str | None) -> pd.DataFrame:
    """A table the gate left out: no rows, and the sentence saying why (shown by :func:`reporting.table`)."""
    if omitted:
        frame = frame.iloc[0:0].copy()
        frame.attrs["omitted"] = omitted
    return frame


@dataclass
class Categories:
    """How one breakdown (sector groups, size classes, segments) is shown to the board."""

    board: dict  # original category -> label shown (None when the breakdown is left out)
    order: list  # labels shown, in order
    omitted: str | None = None

    def labels(self, values: pd.Series) -> pd.Series:
        return values.map(self.board)


@dataclass
class Ledger:
    """What the gate hid in one report: one entry per table (for the closing note and the audit)."""

    entries: list = field(default_factory=list)

    def add(self, caption: str, published: Published, primary: int, seconds: float) -> None:
        self.entries.append({"table": caption, "cells": int(published.counts.size), "primary": primary,
                             "secondary": int(published.hidden.to_numpy().sum()) - primary,
                             "companies_hidden": published.companies_hidden,
                             "omitted": bool(published.omitted), "seconds": round(seconds, 4)})



class Gate:
    """The one place that decides what the board may see; ``audience="analyst"`` publishes everything."""

    def __init__(self, audience: str = "board") -> None:
        self.audience = check_audience(audience)
        self.ledger = Ledger()

    @property
    def board(self) -> bool:
        return self.audience == "board"

    @property
    def analyst(self) -> bool:
        return self.audience == "analyst"

    # -- single aggregates ------------------------------------------------

    def small(self, n) -> bool | np.ndarray:
        """Whether an aggregate over ``n`` companies is hidden from this audience (no totals involved)."""
        n = np.asarray(n, dtype=float)
        out = (n < MIN_COMPANIES) & self.board
        return bool(out) if out.ndim == 0 else out

    def share(self, share, n) -> np.ndarray:
        """Whether a share of ``n`` companies (for example those rating a need 4-5) is hidden: the share times
        ``n`` is a count, so it is hidden when either side of the split, or ``n``, is 1 or 2 companies. For a
        share shown beside other groups' and a total's, use :meth:`counts` on the split instead."""
        n = np.nan_to_num(np.asarray(n, dtype=float))
        yes = np.rint(np.nan_to_num(np.asarray(share, dtype=float)) * n)
        return np.asarray(self.small(np.where(n > 0, n, MIN_COMPANIES)) | self.small(np.where(yes > 0, yes, MIN_COMPANIES))
                          | self.small(np.where(n - yes > 0, n - yes, MIN_COMPANIES)), dtype=bool)

    # -- count tables -------------------------------------------------------

    def counts(self, table: pd.DataFrame, caption: str, row_totals: bool = True, column_totals: bool = True,
               listed_only: bool = False, known: pd.DataFrame | None = None) -> Published:
        """A table of company counts safe for the board, given that its row totals (``row_totals``), column
        totals (``column_totals``) and grand total are shown here or elsewhere. ``listed_only``: the table
        lists only categories that occur, so a reader knows each cell is at least 1; ``known``: per cell, the
        companies the report shows one by one elsewhere (Champions and their alternatives), a lower bound
        every reader has."""
        counts = table.fillna(0).astype(float)
        none = pd.DataFrame(False, index=counts.index, columns=counts.columns)
        if not self.board or counts.empty:
            return Published(table, none)
        lower = np.full(counts.shape, 1.0 if listed_only else 0.0)
        if known is not None:
            lower = np.maximum(lower, known.reindex(index=counts.index, columns=counts.columns).fillna(0).to_numpy())
        grid = Grid(counts.to_numpy(), row_totals, column_totals, lower)
        started = time.perf_counter()
        hidden, primary, possible = protect(grid)
        R, C = grid.shape
        mask = pd.DataFrame(hidden[:R * C].reshape(R, C), index=counts.index, columns=counts.columns)
        at = R * C
        row_hidden = pd.Series(hidden[at:at + R], index=counts.index) if row_totals else None
        at += R if row_totals else 0
        column_hidden = pd.Series(hidden[at:at + C], index=counts.columns) if column_totals else None
        omitted = None
        if not possible or hidden[-1]:
            mask[:] = True
            omitted = ("Il dettaglio non è mostrato: riguarda meno di 3 imprese e non si può nascondere senza che "
                       "si ricavi dai totali.")
        out = Published(table, mask, row_hidden, column_hidden, omitted)
        self.ledger.add(caption, out, int(primary[:R * C].sum()), time.perf_counter() - started)
        return out

    def bases(self, n: pd.DataFrame, total: pd.Series | None, caption: str) -> pd.DataFrame:
        """Which group aggregates (shares, means) to hide: ``n`` holds the companies behind each (rows x
        groups, for example needs x sector groups) and ``total`` the companies behind the row's value over all
        groups, which the report shows; a group's share or mean over the total and the other groups' would
        give its own away, so the same secondary suppression applies as to counts."""
        if not self.board:
            return pd.DataFrame(False, index=n.index, columns=n.columns)
        counts = n.fillna(0)
        if total is not None:
            # Rows whose total is small are hidden whole (the total itself is hidden where it is shown).
            published = self.counts(counts, caption, row_totals=True, column_totals=False)
            return published.hidden | pd.DataFrame(np.repeat(self.small(total.reindex(n.index).fillna(0)
                                                                         .to_numpy())[:, None], n.shape[1], axis=1),
                                                    index=n.index, columns=n.columns)
        return pd.DataFrame(self.small(counts.to_numpy()), index=n.index, columns=n.columns)

    # -- categories ---------------------------------------------------------

    def categories(self, counts: pd.Series, labels: dict | None = None, ordered: bool = False,
                   what: str = "categoria") -> Categories:
        """How a breakdown appears: categories (``counts`` in display order) of fewer than 3 companies merged
        into a neighbour (``ordered``) or into "altre imprese"; left out, with a sentence why, when fewer than
        two categories would remain. Empty categories are not shown."""
        labels = {k: (labels or {}).get(k, str(k)) for k in counts.index}
        if not self.board:
            return Categories({k: labels[k] for k in counts.index}, [labels[k] for k in counts.index])
        present = [k for k in counts.index if counts[k] > 0]
        groups = [[k] for k in present]
        size = {k: float(counts[k]) for k in present}

        def total(g):
            return sum(size[k] for k in g)

        if ordered:
            while len(groups) > 1 and any(total(g) < MIN_COMPANIES for g in groups):
                i = min((i for i, g in enumerate(groups) if total(g) < MIN_COMPANIES), key=lambda i: total(groups[i]))
                neighbours = [j for j in (i - 1, i + 1) if 0 <= j < len(groups)]
                j = min(neighbours, key=lambda j: total(groups[j]))
                a, b = sorted((i, j))
                groups[a:b + 1] = [groups[a] + groups[b]]
            names = [labels[g[0]] if len(g) == 1 else labels[g[0]] + " - " + labels[g[-1]].lower() for g in groups]
        else:
            big = [g for g in groups if total(g) >= MIN_COMPANIES]
            small = [k for g in groups if total(g) < MIN_COMPANIES for k in g]
            while small and sum(size[k] for k in small) < MIN_COMPANIES and big:
                smallest = min(big, key=total)
                big.remove(smallest)
                small += smallest
            groups = big + ([small] if small else [])
            names = [labels[g[0]] if len(g) == 1 and g[0] not in small else OTHERS for g in groups]
        if len(groups) < 2 or any(total(g) < MIN_COMPANIES for g in groups):
            return Categories({k: None for k in counts.index}, [],
                              omitted=f"Il dettaglio per {what} non è mostrato: almeno un gruppo ha meno di 3 imprese "
                                      "e, unendolo agli altri, non resterebbe un confronto da mostrare.")
        board = {k: None for k in counts.index}
        for g, name in zip(groups, names, strict=True):
            for k in g:
                board[k] = name
        return Categories(board, names)

    def long(self, frame: pd.DataFrame, rows: str, columns: str, value: str, caption: str) -> pd.Series:
        """:meth:`counts` for a table in long form (one row per ``rows`` x ``columns`` cell): which of its rows
        to hide."""
        grid = frame.pivot_table(index=rows, columns=columns, values=value, aggfunc="sum", fill_value=0,
                                 observed=True, sort=False)
        hidden = self.counts(grid, caption).hidden.stack()
        return pd.Series([bool(hidden.get((r, c), False)) for r, c in zip(frame[rows], frame[columns], strict=True)],
                         index=frame.index)

    # -- names --------------------------------------------------------------

    def names(self, responses: pd.DataFrame, key: bytes, mark: bool = False) -> pd.Series:
        """How each company appears to this audience (see :func:`analysis.confidentiality.company_names`)."""
        from analysis.confidentiality import company_names

        return company_names(responses, key, self.audience, mark)
