"""Board figures: matplotlib/seaborn, Italian labels, one palette for the sector groups.

Every function returns the figure (the notebooks show it; tests render it).
Figures draw the numbers the disclosure gate published for the tables: a
hidden value is left out and marked ``n.p.``.
"""

from __future__ import annotations

import functools
import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.text import Text
from scipy.cluster import hierarchy

from analysis.codebook import Codebook
from analysis.disclosure import SUPPRESSED, Gate, Published
from analysis.maturity import BAND_LABELS, NO_INDEX, weighted_mean
from analysis.needs import ALL_COMPANIES, NeedFamilies, display_order
from analysis.reporting import SECTOR_COLOR_NAMES, fmt_num, italian_ticks, sector_palette
from analysis.text import figure_text

BAND_COLORS = ["#C00000", "#ED7D31", "#70AD47", "#2E75B6"]
# Every figure is as wide as the printed page's text (A4 less margins, as the report lays it out) and no text in it
# is smaller than SMALL points: printed, it keeps that size (the browser test measures it).
PAGE_WIDTH_IN = 6.8
SMALL = 8.5
MAX_NAMES = 5  # Champions named beside one circle of the supply-chain figure; more are counted
MAX_ROWS = 24  # Champions in one criteria figure: more go to the next (a taller figure would print too small)
STARRED = 3  # priorities marked with a star in each column of the priority heatmap


def italian(figure_function):
    """Every figure's numeric axes and colour bars in Italian form (:func:`analysis.reporting.italian_ticks`)."""
    @functools.wraps(figure_function)
    def wrapper(*args, **kwargs):
        return italian_ticks(figure_function(*args, **kwargs))
    return wrapper


@italian
def needs_by_sector(summary: pd.DataFrame, cb: Codebook, weighted: bool = False):
    """Horizontal bars: share of companies rating each need 4-5, sector groups side by side, sorted by the
    share over all companies (``summary`` from :func:`analysis.needs.published_summary`)."""
    all_rows = summary[summary["gruppo_merceologico"] == ALL_COMPANIES].set_index("need")
    overall = all_rows["share_high"].where(~all_rows["share_hidden"].astype(bool))
    order = display_order(summary)
    part = summary[summary["gruppo_merceologico"] != ALL_COMPANIES].assign(hidden=lambda f: f["share_hidden"])
    palette = sector_palette(cb)
    groups = [g for g in cb.sector_labels if g in set(part["gruppo_merceologico"])]
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 0.12 * len(order) * max(len(groups), 1) + 0.9))
    height = 0.8 / max(len(groups), 1)
    y = np.arange(len(order))
    for i, g in enumerate(groups):
        rows = part[part["gruppo_merceologico"] == g].set_index("need").reindex(order)
        ys = y - 0.4 + height * (i + 0.5)
        shown = ~rows["hidden"].fillna(True).astype(bool)
        ax.barh(ys[shown.to_numpy()], rows.loc[shown, "share_high"] * 100, height=height, color=palette[g],
                label=cb.sector_short[g])
        for yy, (need, r) in zip(ys, rows.iterrows(), strict=True):
            text = SUPPRESSED if not shown[need] else f"{fmt_num(r['share_high'] * 100, 0)}%"
            ax.text((0 if not shown[need] else r["share_high"] * 100) + 0.8, yy, text, va="center", fontsize=SMALL,
                    zorder=4, bbox={"boxstyle": "square,pad=0.05", "fc": "white", "ec": "none", "alpha": 0.85})
    ax.scatter(overall.reindex(order) * 100, y, marker="|", s=160, color="black", zorder=3,
               label="Tutte le imprese")
    ax.set_yticks(y, [cb.by_key[k].short for k in order])
    ax.invert_yaxis()
    published = part.loc[~part["hidden"].astype(bool), "share_high"]
    top = float(published.max()) * 100 if len(published) else 50.0
    ax.set_xlim(0, min(100, max(5.0, top * 1.15 + 5)))
    ax.set_xlabel("Imprese che lo giudicano molto rilevante o prioritario (voto 4-5), %"
                  + (" - dati ponderati" if weighted else ""))
    ax.set_title("Bisogni per gruppo merceologico")
    ax.legend(loc="lower right", frameon=True)
    return fig


@italian
def sector_differences(comparison: pd.DataFrame, cb: Codebook):
    """Rank-biserial correlation per need: bars to the left are felt more by the second sector group, to the
    right by the first; credible differences (adjusted p < 0.05) in colour, the rest grey."""
    c = comparison.dropna(subset=["rank_biserial"]).sort_values("rank_biserial")
    palette = sector_palette(cb)
    first, second = cb.sector_labels[:2]
    colors = [palette[first] if (ok and r > 0) else palette[second] if ok else "#BFBFBF"
              for r, ok in zip(c["rank_biserial"], c["credible"], strict=True)]
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 0.27 * len(c) + 1.4))
    ax.barh([cb.by_key[k].short for k in c["need"]], c["rank_biserial"], color=colors)
    ax.axvline(0, color="black", lw=0.8)
    lim = max(0.3, float(c["rank_biserial"].abs().max()) * 1.1) if len(c) else 1
    ax.set_xlim(-lim, lim)
    ax.set_xlabel(f"<- più sentito da {cb.sector_short[second]}      "
                  f"più sentito da {cb.sector_short[first]} ->\n(ampiezza della differenza, da -1 a +1)")
    ax.set_title("Differenze tra i gruppi merceologici (in colore quelle credibili)")
    return fig


@italian
def need_families(families: NeedFamilies, cb: Codebook):
    """Dendrogram beside the correlation heatmap in dendrogram order, family boundaries outlined."""
    labels = [cb.by_key[k].short for k in families.order]
    # No numbers in the cells (they would be too small to print): the colours and the family table say how much.
    fig = plt.figure(figsize=(PAGE_WIDTH_IN, 0.24 * len(labels) + 2.4), layout="none")
    grid = fig.add_gridspec(1, 2, width_ratios=[1, 3.6], wspace=0.02, left=0.02, right=0.76, bottom=0.27, top=0.9)
    ax_d = fig.add_subplot(grid[0])
    hierarchy.dendrogram(families.linkage, orientation="left", ax=ax_d, no_labels=True,
                         color_threshold=1 - families.threshold, above_threshold_color="#7F7F7F")
    ax_d.set_ylim(10 * len(labels), 0)  # leaf i sits at 10 i + 5: row i of the heatmap
    ax_d.axvline(1 - families.threshold, color="#C00000", ls="--", lw=1)
    ax_d.set_yticks([])
    ax_d.set_xticks([])  # the tree's scale is in the text (the red line is the threshold); its ticks met the labels
    ax_d.grid(False)
    ax_h = fig.add_subplot(grid[1])
    sns.heatmap(families.correlation, cmap="RdBu_r", vmin=-1, vmax=1, center=0, square=False, ax=ax_h,
                xticklabels=labels, yticklabels=labels, cbar=False)
    ax_h.yaxis.tick_right()
    ax_h.tick_params(axis="y", rotation=0)
    ax_h.tick_params(axis="x", rotation=60)
    for label in ax_h.get_xticklabels():
        label.set_horizontalalignment("right")
    start = 0
    for members in families.members().values():
        ax_h.add_patch(plt.Rectangle((start, start), len(members), len(members), fill=False, ec="black", lw=2))
        start += len(members)
    ax_h.set_title("Quanto i voti di due bisogni vanno insieme: più scuro il rosso, più spesso\n(famiglie "
                   "riquadrate)", fontsize=9, fontweight="normal")
    fig.suptitle("Famiglie di bisogni: quali bisogni vengono chiesti insieme", fontweight="bold")
    return fig


@italian
def maturity_by_dimension(scores: pd.DataFrame, groups: pd.Series, cb: Codebook, gate: Gate,
                          weights: pd.Series | None = None):
    """Mean 0-100 score per maturity dimension (weighted when ``weights`` are given), sector groups side by
    side (``groups``: the board's sector labels, None where the breakdown is left out). A dimension
    answered by fewer than 3 companies of a group is hidden for both groups (the mean over all companies
    would give it away)."""
    dims = [(f.dimension, f.short) for f in cb.maturity if f.dimension in scores]
    frame = scores[[d for d, _ in dims]].assign(group=groups.to_numpy())
    present = [g for g in cb.sector_labels if g in set(frame["group"])]
    means = pd.DataFrame({d: [weighted_mean(frame.loc[frame["group"] == g, d],
                                            None if weights is None else weights[frame["group"] == g])
                              for g in present] for d, _ in dims}, index=present)
    counts = frame.groupby("group").count().reindex(means.index).fillna(0)
    hidden = gate.bases(counts.T, counts.sum(axis=0), "Maturità per dimensione e gruppo merceologico").T
    palette = sector_palette(cb)
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 3.4))
    x = np.arange(len(dims))
    width = 0.8 / max(len(means), 1)
    for i, (g, row) in enumerate(means.iterrows()):
        shown = ~hidden.loc[g]
        xs = x - 0.4 + width * (i + 0.5)
        ax.bar(xs[shown.to_numpy()], row[shown], width=width, color=palette[g], label=cb.sector_short[g])
        for xx, d in zip(xs, row.index, strict=True):
            ax.text(xx, (row[d] if shown[d] else 0) + 1, fmt_num(row[d], 0) if shown[d] else SUPPRESSED,
                    ha="center", fontsize=SMALL)
    ax.set_xticks(x, [textwrap.fill(s, 13) for _, s in dims])
    ax.set_ylim(0, 100)
    ax.set_ylabel("Punteggio medio (0-100)")
    ax.set_title("Maturità digitale per dimensione e gruppo merceologico")
    ax.legend()
    return fig


@italian
def maturity_bands(table: pd.DataFrame, published: Published, title: str, labels: dict[str, str] | None = None,
                   bands: list[str] = BAND_LABELS, what: str = "maturità"):
    """Stacked horizontal bars: share of companies in each DMA band per group (rows of
    :func:`analysis.maturity.maturity_by_group`; another index's ``bands``, named ``what``, the same way). Band
    counts the gate hid (``published``, from :func:`analysis.maturity.band_counts`) are pooled into one grey
    "non pubblicabile" segment; groups whose size is hidden are left out."""
    keep = ~published.row_hidden if published.row_hidden is not None else pd.Series(True, index=table.index)
    table, hidden = table[keep.to_numpy()], published.hidden[keep.to_numpy()]
    columns = [*bands, NO_INDEX]
    # Shares of the group's size (published), never of the companies with an index (not published).
    counts = table[columns].where(~hidden[columns], 0)
    shares = counts.div(table[columns].sum(axis=1), axis=0) * 100
    shares["n.p."] = 100 - shares.sum(axis=1)
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 0.34 * len(shares) + 1.3))
    left = np.zeros(len(shares))
    names = [(labels or {}).get(g, g) for g in shares.index]
    for band, color in zip([*columns, "n.p."], [*BAND_COLORS, "#EFE8D8", "#A6A6A6"], strict=True):
        if band in (NO_INDEX, "n.p.") and not (shares[band] > 0.01).any():
            continue
        ax.barh(names, shares[band], left=left, color=color,
                label={"n.p.": "non pubblicabile", NO_INDEX: "senza indice"}.get(band, band))
        for y, (lo, v) in enumerate(zip(left, shares[band], strict=True)):
            if v >= 6 and band in bands:
                ax.text(lo + v / 2, y, f"{fmt_num(v, 0)}%", ha="center", va="center", color="white", fontsize=SMALL)
        left += shares[band].to_numpy()
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel(f"Imprese per fascia di {what} (%)")
    ax.set_title(title, pad=22)  # the legend sits between the title and the bars
    ax.legend(ncol=len(ax.get_legend_handles_labels()[0]), loc="lower center", bbox_to_anchor=(0.5, 1.0),
              frameon=False, fontsize=SMALL, handlelength=1.2, columnspacing=1.0)
    return fig


_LEADER = {"arrowstyle": "-", "lw": 0.5, "color": "#7F7F7F"}  # the thin line from a label moved off its point


def annotate_points(ax, xs, ys, labels, fontsize: float = SMALL, sizes=None) -> None:
    """Label points without overlapping labels or bubbles.

    Each label tries positions right and left of its point, then further up and down (with a thin leader
    line), and takes the first that stays inside the axes and clears the legend, the labels already placed and
    the bubbles (``sizes``: the scatter's marker areas in points², when the points are bubbles), highest points
    first. The figure's
    automatic layout is switched off first: it would move the axes after the labels were placed.
    """
    from matplotlib.transforms import Bbox

    fig = ax.figure
    fig.set_layout_engine("none")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    placed = []
    if sizes is not None:  # each bubble as its bounding square, in display pixels
        centres = ax.transData.transform(np.column_stack([np.asarray(xs, float), np.asarray(ys, float)]))
        for (cx, cy), area in zip(centres, np.asarray(sizes, float), strict=True):
            r = np.sqrt(area) / 2 * fig.dpi / 72 * 0.8  # a little inside the circle: its corners are empty
            placed.append(Bbox([[cx - r, cy - r], [cx + r, cy + r]]))
    own = len(placed)
    legend = ax.get_legend()
    if legend is not None:  # labels keep clear of the legend too
        placed.append(legend.get_window_extent(renderer))
    frame = ax.get_window_extent(renderer)  # and inside the axes: not over the tick labels or the axis titles
    step = fontsize * 1.2
    candidates = [(side, k, dx) for k in range(0, 18) for dx in (7, 35) for side in (1, -1)]
    for i in np.argsort(-np.asarray(ys, dtype=float), kind="stable"):
        others = [b for j, b in enumerate(placed) if j != i or j >= own]  # its own bubble may touch
        best = None  # where no place is clear: the place inside the axes that covers the fewest others
        for side, k, dx in candidates:
            for sign in ((1,) if k == 0 else (1, -1)):
                dy = sign * k * step
                text = ax.annotate(labels[i], (xs[i], ys[i]), xytext=(dx * side, dy), textcoords="offset points",
                                   fontsize=fontsize, va="center", ha="left" if side > 0 else "right",
                                   arrowprops=_LEADER if dy or dx > 7 else None)
                text.update_positions(renderer)  # an annotation computes its place only when drawn
                box = Text.get_window_extent(text, renderer).expanded(1.03, 1.2)  # the label, not its leader
                text.remove()
                inside = (box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0 and box.y1 <= frame.y1)
                cost = (not inside, sum(box.overlaps(other) for other in others), k, dx)
                if best is None or cost < best[0]:
                    best = (cost, side * dx, dy, box)
                if cost[:2] == (False, 0):
                    break
            if best[0][:2] == (False, 0):
                break
        _, dx, dy, box = best
        ax.annotate(labels[i], (xs[i], ys[i]), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                    va="center", ha="left" if dx > 0 else "right", arrowprops=_LEADER if dy or abs(dx) > 7 else None)
        placed.append(box)


def _bubble_legend(ax, counts, area, title: str) -> None:
    """A legend for bubble sizes: three round reference counts within the data's range, drawn with the same
    ``area(count)`` as the bubbles (reference sizes, not any company's figure)."""
    counts = np.asarray(counts, float)
    if not len(counts) or counts.max() <= 0:
        return
    lo, hi = max(1.0, counts.min()), counts.max()
    raw = [lo, np.sqrt(lo * hi), hi]
    nice = sorted({float(10 ** np.floor(np.log10(v)) * min((1, 2, 5, 10), key=lambda m: abs(
        m * 10 ** np.floor(np.log10(v)) - v))) for v in raw})
    handles = [ax.scatter([], [], s=area(v), color="#7F7F7F", alpha=0.5, edgecolor="white") for v in nice]
    ax.legend(handles, [fmt_num(v, 0) for v in nice], title=title, loc="lower right", fontsize=SMALL,
              title_fontsize=SMALL, labelspacing=1.3, borderpad=1.0, frameon=True)


@italian
def need_gap(gap: pd.DataFrame, cb: Codebook, gate: Gate):
    """Intensity of each need against the maturity, in the related dimension, of the companies that rate it
    4-5; bubble size = those companies."""
    g = gap.dropna(subset=["maturity_high"])
    g = g[~gate.small(g["n_high"].to_numpy())]
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 3.7))
    def area(n):
        return np.asarray(n, float) * 5

    ax.scatter(g["maturity_high"], g["intensity"], s=area(g["n_high"]), alpha=0.55, color="#1F4E79",
               edgecolor="white")
    ax.set_xlabel("Maturità nella dimensione collegata delle imprese che lo chiedono (0-100)")
    ax.set_ylabel("Intensità del bisogno (importanza media, 0-100)")
    ax.set_title("Bisogni e maturità: in alto a sinistra i bisogni con il divario maggiore")
    # The axis spans the points (not 0-100): labels need the room more than the scale needs its origin.
    ax.set_xlim(*((max(0.0, float(g["maturity_high"].min()) - 6), min(100.0, float(g["maturity_high"].max()) + 12))
                  if len(g) else (0, 100)))
    ax.set_ylim(max(0, float(g["intensity"].min()) - 8) if len(g) else 0,
                min(100, float(g["intensity"].max()) + 8) if len(g) else 100)
    _bubble_legend(ax, g["n_high"], area, "Imprese che lo\ngiudicano 4-5")
    annotate_points(ax, g["maturity_high"].to_numpy(), g["intensity"].to_numpy(),
                    [cb.by_key[k].short for k in g["need"]], sizes=area(g["n_high"]))
    return fig


# --------------------------------------------------------------------------
# Segments and priorities (notebook 03)

@italian
def k_criteria(criteria: pd.DataFrame, chosen: int, stable_threshold: float):
    """BIC (the criterion), silhouette and resampling stability against k, the chosen k marked (k = 1, no
    distinct segments, marked at the left edge)."""
    fig, axes = plt.subplots(1, 3, figsize=(PAGE_WIDTH_IN, 2.9))
    specs = [("bic", "BIC (più basso è meglio: il criterio)"),
             ("silhouette", "Silhouette (più alta è meglio)"),
             ("stability", "Stabilità sui ricampionamenti (ARI medio)")]
    for ax, (col, title) in zip(axes, specs, strict=True):
        ax.plot(criteria["k"], criteria[col], marker="o", color="#1F4E79")
        ax.axvline(chosen, color="#C00000", ls="--", lw=1)
        ax.set_title(textwrap.fill(title, 24), fontsize=9)
        ax.set_xlabel("Numero di segmenti (k)")
        ax.set_xticks(criteria["k"])
    axes[2].axhline(stable_threshold, color="#7F7F7F", ls=":", lw=1)
    axes[2].text(criteria["k"].min(), stable_threshold, " soglia di stabilità", va="bottom", fontsize=SMALL)
    axes[2].set_ylim(min(0, float(criteria["stability"].min()) - 0.05), 1.05)
    fig.suptitle(f"Scelta del numero di segmenti (scelto k = {chosen}, linea rossa)", fontweight="bold")
    return fig


@italian
def profile_heatmap(means: pd.DataFrame, lift: pd.DataFrame, names: dict, cb: Codebook, gate: Gate,
                    sizes: pd.Series):
    """Segments x needs: mean importance (colour and number); cells with a lift of 1.25 or more in bold."""
    order = block_order(means)
    shown = means[order]
    hide = np.asarray(gate.small(sizes.reindex(shown.index).fillna(0).to_numpy()), dtype=bool)
    annot = shown.map(lambda v: fmt_num(v, 1)).to_numpy().astype(object)
    annot[hide] = SUPPRESSED
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 0.36 * len(shown) + 2.0))
    sns.heatmap(shown.where(np.repeat(~hide[:, None], shown.shape[1], axis=1)), annot=annot, fmt="", cmap="YlOrRd",
                vmin=1, vmax=5, linewidths=0.5, annot_kws={"fontsize": 8},
                cbar_kws={"label": "importanza media (1-5)", "shrink": 0.8, "pad": 0.02}, ax=ax)
    strong = lift.reindex(shown.index)[order].to_numpy() >= 1.25
    for text in ax.texts:  # seaborn writes one text per shown cell, centred in it
        x, y = text.get_position()
        if strong[int(y), int(x)]:
            text.set_fontweight("bold")
    ax.set_yticklabels([textwrap.fill(figure_text(names[s]), 30) for s in shown.index], rotation=0, fontsize=SMALL)
    ax.set_xticklabels([cb.by_key[k].short for k in order], rotation=60, ha="right", fontsize=SMALL)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title("Profilo dei segmenti: importanza media di ogni bisogno\n(in grassetto: almeno +25% sulla media)")
    return fig


SEGMENT_COLORS = sns.color_palette("tab10", 10).as_hex()


def block_order(matrix: pd.DataFrame) -> list:
    """Columns grouped by the row where they peak (in row order), highest first within a row: a segments x
    needs table then reads as blocks along the diagonal."""
    values = matrix.to_numpy(dtype=float)
    peak = np.nanargmax(np.nan_to_num(values, nan=-np.inf), axis=0)
    return [matrix.columns[j] for j in sorted(range(values.shape[1]), key=lambda j: (peak[j], -values[peak[j], j]))]


@italian
def segment_map(coords: np.ndarray, labels: np.ndarray, order: list[str], explained: tuple[float, float]):
    """Companies on the first two principal components, coloured by segment (``labels`` as the board sees
    them, in ``order``; no names: dots only)."""
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 4.4))
    for i, name in enumerate(order):
        pts = coords[labels == name]
        ax.scatter(pts[:, 0], pts[:, 1], s=10, alpha=0.65, color=SEGMENT_COLORS[i % 10],
                   label=textwrap.fill(figure_text(name), 40))
    # The two principal components, in words (the method appendix names them).
    ax.set_xlabel(f"Prima direzione in cui le imprese differiscono (spiega il {fmt_num(explained[0] * 100, 0)}% delle "
                  "differenze)")
    ax.set_ylabel(f"Seconda direzione (spiega il {fmt_num(explained[1] * 100, 0)}%)")
    ax.set_title("Mappa delle imprese per segmento (ogni punto è un'impresa)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False, fontsize=SMALL)
    return fig


@italian
def priority_matrix(table: pd.DataFrame, cb: Codebook, scope: str, title: str, gate: Gate, top: int = 5):
    """Importance (share rating 4-5) against the maturity gap; bubble size = companies rating it 4-5; the
    scope's first priorities (whole tiers: :func:`analysis.priorities.leading`) in dark blue."""
    from analysis.priorities import leading

    t = table[table["scope"] == scope]
    t = t[~gate.small(t["n_high"].to_numpy())]
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 4.0))
    first = set(leading(table, scope, top))  # whole tiers, as every list of the first priorities
    colors = np.where(t["need"].isin(first).to_numpy(), "#1F4E79", "#9DC3E6")
    biggest = max(1, int(t["n_high"].max())) if len(t) else 1

    def area(n):
        return np.asarray(n, float) / biggest * 600 + 20

    ax.scatter(t["divario"] * 100, t["diffusione"] * 100, s=area(t["n_high"]), color=colors, alpha=0.75,
               edgecolor="white")
    ax.set_xlabel("Divario di maturità: distanza dalla piena maturità, nella dimensione collegata,\ndelle imprese "
                  "che lo giudicano 4-5 (0-100)")
    ax.set_ylabel("Imprese che lo giudicano 4-5 (%)")
    tiers_in = table.loc[(table["scope"] == scope) & table["need"].isin(first), "tier"].nunique()
    ax.set_title(title + (" (in blu scuro la prima fascia)" if tiers_in == 1 else
                          f" (in blu scuro le prime {tiers_in} fasce)"))
    if len(t):
        gx = t["divario"] * 100
        ax.set_xlim(max(0, float(gx.min()) - 8), min(100, float(gx.max()) + 8))
        ax.set_ylim(0, min(100, float(t["diffusione"].max()) * 100 * 1.2 + 3))
        _bubble_legend(ax, t["n_high"], area, "Imprese che lo\ngiudicano 4-5")
        annotate_points(ax, gx.to_numpy(), (t["diffusione"] * 100).to_numpy(),
                        [cb.by_key[k].short for k in t["need"]], sizes=area(t["n_high"]))
    return fig


@italian
def priority_heatmap(table: pd.DataFrame, cb: Codebook, scopes: list[str]):
    """Scopes (all companies, then each segment) x needs: the priority score, rank 1-3 marked."""
    pivot = table.pivot(index="scope", columns="need", values="score").reindex(scopes)
    ranks = table.pivot(index="scope", columns="need", values="rank").reindex(scopes)
    order = block_order(pivot.iloc[1:]) if len(scopes) > 1 else \
        list(pivot.loc[scopes[0]].sort_values(ascending=False).index)
    pivot, ranks = pivot[order], ranks[order]
    annot = np.array([["–" if v != v else f"{v:.0f}" + ("*" if r <= STARRED else "") for v, r in zip(vs, rs, strict=True)]
                      for vs, rs in zip(pivot.to_numpy(float), ranks.to_numpy(float), strict=True)], dtype=object)
    annot = annot.reshape(pivot.shape)
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 0.36 * len(scopes) + 2.0))
    sns.heatmap(pivot, annot=annot, fmt="", cmap="Blues", vmin=0, vmax=100, linewidths=0.5, annot_kws={"fontsize": 8},
                cbar_kws={"label": "punteggio di priorità (0-100)", "shrink": 0.8, "pad": 0.02}, ax=ax)
    ax.set_yticklabels([textwrap.fill("Tutte le imprese" if s == scopes[0] else figure_text(s), 30) for s in scopes],
                       rotation=0, fontsize=SMALL)
    ax.set_xticklabels([cb.by_key[k].short for k in order], rotation=60, ha="right", fontsize=SMALL)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title("Punteggio di priorità per segmento\n(* = tra le prime tre del segmento)")
    return fig


# --------------------------------------------------------------------------
# Champions (notebook 04)

@italian
def supply_chain(responses: pd.DataFrame, edges: pd.DataFrame, champions: list[str], labels: dict[str, str],
                 cb: Codebook, gate: Gate, top_flows: int = 10, by_sector: bool = True):
    """The supply network aggregated so that its structure shows: one circle per sector group and position in the
    chain (suppliers on the left, final producers on the right; size = companies), arrows from suppliers to
    customers with the number of links between the two groups (the ``top_flows`` strongest), and each Champion
    named beside its group (by the naming rule). Groups the disclosure gate hides show no number; links between
    two groups too few to publish are not drawn (they would describe one or two pairs of companies)."""
    from matplotlib.patches import FancyArrowPatch

    positions = [*cb.by_key["posizione_filiera"].options, "Non indicata"]
    # Left to right as goods flow: further suppliers, contract work, first tier, final producers; unknown apart.
    column = {positions[2]: 0, positions[3]: 0.9, positions[1]: 1.8, positions[0]: 2.7, "Non indicata": 3.8}
    where = responses.assign(pos=responses["posizione_filiera"].fillna("Non indicata"))
    if not by_sector:  # the board may not see the sector groups: one row, all companies
        where = where.assign(gruppo_merceologico=ALL_COMPANIES)
    sectors = ([s for s in cb.sector_labels if s in set(where["gruppo_merceologico"])] if by_sector
               else [ALL_COMPANIES])
    row = {s: len(sectors) - 1 - i for i, s in enumerate(sectors)}
    group = dict(zip(where["company_id"], zip(where["gruppo_merceologico"], where["pos"], strict=True), strict=True))
    counts = where.groupby(["gruppo_merceologico", "pos"]).size().unstack(fill_value=0).reindex(
        index=sectors, columns=[p for p in positions], fill_value=0)
    # A position held by fewer than 3 companies in all is not drawn (its column would count them, and a public
    # total of 1 or 2 would leave the gate no way to protect the other circles).
    total = counts.sum(axis=0)
    counts = counts.loc[:, (total > 0) & ~np.asarray(gate.small(total.to_numpy()), dtype=bool)]
    published = gate.counts(counts, "Imprese per gruppo merceologico e posizione nella filiera")

    named: dict[tuple, list[str]] = {}
    for c in champions:
        if c in group:
            named.setdefault(group[c], []).append(textwrap.fill(figure_text(labels[c]), 16, max_lines=3,
                                                                placeholder=" …"))
    for key, names_ in named.items():  # a stack of names stays short: the rest are counted
        if len(names_) > MAX_NAMES:
            named[key] = names_[:MAX_NAMES - 1] + [f"e altri {len(names_) - MAX_NAMES + 1} Champion"]
    lines = max([sum(n.count("\n") + 1 for n in names_) for names_ in named.values()] + [0])
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 1.5 + 1.1 * len(sectors) + 0.12 * lines * min(2, len(sectors))))
    palette = sector_palette(cb)
    xy = {}
    for (sector, pos_), n in counts.stack().items():
        if n == 0:
            continue
        x, y = column[pos_], row[sector] * 2.2
        xy[(sector, pos_)] = (x, y)
        hidden = bool(published.hidden.loc[sector, pos_])
        size = 480 if hidden else 220 + 1500 * np.sqrt(n / max(1, counts.to_numpy().max()))
        ax.scatter([x], [y], s=size, color=palette.get(sector, "#7F7F7F"), alpha=0.85, edgecolor="white", zorder=3)
        ax.text(x, y, SUPPRESSED if hidden else fmt_num(n, 0), ha="center", va="center", fontsize=8 if hidden else 9,
                color="white", fontweight="bold", zorder=4)
    links = edges.assign(a=edges["supplier"].map(group), b=edges["customer"].map(group)).dropna(subset=["a", "b"])
    flows = links.groupby(["a", "b"]).size()
    flows = flows[[a != b and a in xy and b in xy for a, b in flows.index]]
    flows = flows[~np.asarray(gate.small(flows.to_numpy()), dtype=bool)]
    strongest = flows.sort_values(ascending=False, kind="stable").head(top_flows)
    for (a, b), k in strongest.items():
        (x0, y0), (x1, y1) = xy[a], xy[b]
        arrow = FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=10, shrinkA=17, shrinkB=17,
                                connectionstyle="arc3,rad=0.18", lw=0.6 + 4 * k / strongest.max(), color="#595959",
                                alpha=0.55, zorder=2)
        ax.add_patch(arrow)
        # On the arc: matplotlib's arc3 bends towards (dy, -dx) by rad; the curve's middle is half way there.
        mx, my = (x0 + x1) / 2 + 0.5 * 0.18 * (y1 - y0), (y0 + y1) / 2 - 0.5 * 0.18 * (x1 - x0)
        ax.text(mx, my, fmt_num(k, 0), fontsize=SMALL, ha="center", va="center", color="#262626",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8}, zorder=5)
    top_row = max(row.values()) if row else 0
    placed_names = []
    for key, names_ in named.items():
        if key in xy:  # names away from the arrows: above the top row, below the others
            x, y = xy[key]
            up = row[key[0]] == top_row and len(sectors) > 1
            placed_names.append(ax.text(x, y + (0.5 if up else -0.5), "\n".join(names_), ha="center",
                                        va="bottom" if up else "top", fontsize=8, color="#1F1F1F", zorder=5))
    for sector in sectors:
        ax.text(-0.75, row[sector] * 2.2, textwrap.fill(cb.sector_short.get(sector, sector), 14), ha="right", va="center",
                fontsize=10, fontweight="bold", color=palette.get(sector, "#404040"))
    used = sorted({p for (_, p) in xy}, key=lambda p: column[p])
    headers = [ax.text(column[p], top_row * 2.2 + 1.2, textwrap.fill(p, 14), ha="center", va="bottom",
                       fontsize=SMALL) for p in used]
    ax.set_xlim(-1.5, max(column[p] for p in used) + 0.8 if used else 3.5)
    _fit_rows(ax, placed_names, headers, top_row * 2.2 + 0.9, -1.0)
    ax.set_axis_off()
    flows_text = ("" if strongest.empty else
                  f",\n{'il legame' if len(strongest) == 1 else f'i {len(strongest)} legami'} cliente-fornitore più "
                  "frequenti tra i gruppi (sulle frecce, dal fornitore al cliente)")
    ax.set_title(f"La filiera locale: imprese per gruppo e posizione (nei cerchi){flows_text}\ne i Champion accanto "
                 "al loro gruppo", fontsize=9.5)
    return fig


def _fit_rows(ax, names: list, headers: list, top: float, bottom: float) -> None:
    """The vertical range of the supply-chain figure: the column headers just above the tallest stack of names over
    the top row (at least ``top``), and room below for the names under the bottom row (at least ``bottom``). Text
    has a fixed size in points while the data range decides its size in data units, so a few rounds settle it."""
    import warnings

    fig = ax.figure
    for _ in range(4):
        with warnings.catch_warnings():  # the automatic layout may give up on a tall stack of names: no matter
            warnings.simplefilter("ignore", UserWarning)
            fig.canvas.draw()
        renderer = fig.canvas.get_renderer()

        def y_of(pixels: float) -> float:
            return float(ax.transData.inverted().transform((0, pixels))[1])

        high = max([y_of(t.get_window_extent(renderer).y1) for t in names if t.get_va() == "bottom"] + [top])
        low = min([y_of(t.get_window_extent(renderer).y0) for t in names if t.get_va() == "top"] + [bottom])
        gap = y_of(ax.transData.transform((0, 0))[1] + 6) - y_of(ax.transData.transform((0, 0))[1])  # 6 pixels
        for h in headers:
            h.set_y(high + gap)
        roof = max([y_of(h.get_window_extent(renderer).y1) for h in headers] + [high]) + gap
        ax.set_ylim(low - gap, roof)


@italian
def champion_criteria(cands: pd.DataFrame, chosen: list[str], labels: dict[str, str], cb: Codebook,
                      by_sector: bool = True):
    """Champions x their five criteria on the report's one scale (0-100): one row per Champion, the value in each
    cell; names in their sector group's colour (one colour when the board may not see the sector groups:
    ``by_sector`` False)."""
    from analysis.champions import CRITERIA, CRITERIA_LABELS

    rows = cands.set_index("company_id").loc[chosen]
    values = pd.DataFrame({CRITERIA_LABELS[c]: rows[c].to_numpy(dtype=float) * 100 for c in CRITERIA},
                          index=[textwrap.fill(figure_text(labels[c]), 34, max_lines=2, placeholder=" …")
                                 for c in chosen])
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 0.3 * len(chosen) + 1.5))
    # Each cell states its value: no colour bar, so the criteria get the width.
    sns.heatmap(values, annot=values.map(lambda v: "–" if v != v else fmt_num(v, 0)).to_numpy(), fmt="", cmap="Blues", vmin=0,
                vmax=100, linewidths=0.5, annot_kws={"fontsize": 8}, ax=ax, cbar=False)
    palette = sector_palette(cb)
    for text, sector in zip(ax.get_yticklabels(), rows["gruppo_merceologico"], strict=True):
        text.set_color(palette.get(sector, "#262626") if by_sector else "#262626")
    ax.tick_params(axis="y", rotation=0, labelsize=SMALL)
    ax.xaxis.tick_top()
    ax.set_xticklabels([textwrap.fill(t.get_text(), 16, break_long_words=False) for t in ax.get_xticklabels()],
                       rotation=0, fontsize=8)
    ax.set_xlabel("")
    ax.set_ylabel("")
    title = "I criteri di ogni Champion (da 0 a 100)"
    if by_sector:
        title += "\n(" + ", ".join(f"{cb.sector_short[s]} in {SECTOR_COLOR_NAMES[i % len(SECTOR_COLOR_NAMES)]}"
                                   for i, s in enumerate(cb.sector_labels)) + ")"
    ax.set_title(title, pad=28)
    return fig


@italian
def startup_coverage(table: pd.DataFrame, cb: Codebook, needs: list[str], scope: str, threshold: float = 40.0):
    """For each need (in the order given), how many startups on the list answer it (relevance at or above
    ``threshold``): where scouting has answers and where it still has to look."""
    t = table[table["scope"] == scope]
    counts = [int((t["need"] == k).sum()) for k in needs]
    labels = [cb.by_key[k].short for k in needs]
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 0.3 * len(needs) + 1.3))
    ax.barh(labels, counts, color="#1F4E79")
    for y, n in enumerate(counts):
        ax.text(n + 0.05, y, str(n) if n else "nessuna: da cercare", va="center", fontsize=SMALL,
                color="#404040" if n else "#C00000")
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.set_xlim(0, max(counts + [1]) * 1.35)
    ax.set_xlabel(f"Startup che rispondono al bisogno\n(pertinenza almeno {fmt_num(threshold, 0)}, TRL sopra la soglia)")
    ax.set_title("Quante startup rispondono a ogni priorità (in ordine di priorità)")
    return fig


TIER_COLOURS = ("#1F4E79", "#5B9BD5", "#9DC3E6", "#D9D9D9")


@italian
def priority_bars(prio: pd.DataFrame, cb: Codebook, n: int = 10, scope: str = "tutte"):
    """The ``n`` highest priority scores of a scope, highest on top, with their 90% intervals and coloured by
    tier (needs of one tier cannot be told apart by the data)."""
    from analysis.priorities import tier_name

    t = prio[prio["scope"] == scope].nsmallest(n, "rank")
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 0.23 * len(t) + 1.1))
    colours = [TIER_COLOURS[min(int(k), len(TIER_COLOURS)) - 1] for k in t["tier"]]
    y = np.arange(len(t))
    ax.barh(y, t["score"], color=colours)
    ax.errorbar(t["score"], y, xerr=[t["score"] - t["score_lo"], t["score_hi"] - t["score"]], fmt="none",
                ecolor="#404040", elinewidth=1, capsize=3)
    for yy, (v, hi) in enumerate(zip(t["score"], t["score_hi"], strict=True)):
        ax.text(hi + 0.8, yy, fmt_num(v, 0), va="center", fontsize=SMALL)
    ax.set_yticks(y, [cb.by_key[k].short for k in t["need"]])
    ax.invert_yaxis()
    ax.set_xlim(0, max(10.0, float(t["score_hi"].max()) * 1.15) if len(t) else 100)
    ax.set_xlabel("Punteggio di priorità (0-100); la linea nera è l'intervallo al 90%\nricampionando le imprese")
    handles = [plt.Rectangle((0, 0), 1, 1, color=TIER_COLOURS[min(int(k), len(TIER_COLOURS)) - 1])
               for k in sorted(t["tier"].unique())]
    if handles:  # above the bars, below the title
        ax.legend(handles, [tier_name(k) for k in sorted(t["tier"].unique())], loc="lower center", fontsize=SMALL,
                  frameon=False, bbox_to_anchor=(0.5, 1.0), ncol=len(handles))
    ax.set_title("Le priorità della filiera (tutte le imprese), per fascia", pad=20)
    return fig


# --------------------------------------------------------------------------
# Waves (notebook 06)

@italian
def needs_change(table: pd.DataFrame, cb: Codebook, label_before: str, label_now: str):
    """Share rating each need 4-5, previous wave against this one (grey dot to blue dot), sorted by now."""
    t = table.sort_values("share_now", ascending=True)
    y = np.arange(len(t))
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 0.3 * len(t) + 1.3))
    ax.hlines(y, t["share_before"] * 100, t["share_now"] * 100, color="#BFBFBF", lw=2)
    ax.scatter(t["share_before"] * 100, y, color="#7F7F7F", label=label_before, zorder=3)
    ax.scatter(t["share_now"] * 100, y, color="#1F4E79", label=label_now, zorder=3)
    for yy, (b, n) in enumerate(zip(t["share_before"], t["share_now"], strict=True)):
        if b == b and n == n:
            ax.text(max(b, n) * 100 + 1, yy, f"{'+' if n >= b else ''}{fmt_num((n - b) * 100, 0)} punti",
                    va="center", fontsize=SMALL)
    ax.set_yticks(y, [cb.by_key[k].short for k in t["need"]])
    shown = t[["share_before", "share_now"]].to_numpy(dtype=float)
    ax.set_xlim(0, min(100, (float(np.nanmax(shown)) if np.isfinite(shown).any() else 0.5) * 100 + 15))
    ax.set_xlabel("Imprese che lo giudicano 4-5 (%)")
    ax.set_title("Bisogni: rilevazione precedente e attuale")
    ax.legend(loc="lower right")
    return fig
