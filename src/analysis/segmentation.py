"""Segments of companies by their needs (notebook 03).

Features
    Each company's importance vector over the codebook's needs (1-5),
    optionally followed by its six maturity answers rescaled to 1-5. A blank
    answer never drops a company: it is imputed, by default with the need's
    median in the company's sector group (``sector_median``), or with the
    company's own mean over the needs it rated (``company_mean``). How many
    cells were imputed is recorded per need.

Methods (one interface: :func:`cluster`)
    ``kmeans`` (default: k-means started from the segments of Ward's tree
    built on at most :data:`WARD_START` companies, on up to
    :data:`FIT_SAMPLE` companies, then one pass of Lloyd's algorithm over all
    of them from those centres; random starts halve a large segment before
    they separate a small one), ``ward`` (hierarchical, Ward linkage; memory
    grows with the square of the companies, so it refuses more than
    :data:`LIMITS` ``["ward"]``) and ``kmodes`` (k-modes from the ``kmodes``
    package, for the answers as categories; slow in pure Python, limited
    likewise).

Number of segments
    Every k of the range is fitted on at most :data:`FIT_SAMPLE` companies.
    First, some k must beat one single group: a gap statistic against
    reference data with the same answers and rank correlations but no groups
    (:func:`gap_statistic`); when none does, every company is in one segment
    ("no distinct segments"). Otherwise the k with the lowest BIC
    (:func:`bic`, the model behind k-means) is chosen. Silhouette,
    Calinski-Harabasz and bootstrap stability (the mean adjusted Rand index
    between the solution and solutions refitted on resamples) are reported
    beside it; a solution under stability 0.75 is flagged unstable. A
    parameter can force k.

Segments smaller than ``min_share`` of the companies are kept and flagged
(by default) or merged into the nearest other segment, with the sizes
stated. Segments are numbered by size, largest first, so the same input and
seed give the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.codebook import Codebook
from analysis.disclosure import OTHERS, Categories, Gate, with_note
from analysis.reporting import fmt_int, fmt_num, fmt_pct

METHODS = ("kmeans", "ward", "kmodes")
METHOD_LABELS = {"kmeans": "k-means", "ward": "gerarchico di Ward", "kmodes": "k-modes (risposte come categorie)"}
# The same methods for the board, in words (the method appendix names them).
METHOD_PLAIN = {"kmeans": "raggruppamento attorno a profili medi", "ward": "raggruppamento gerarchico per passi",
                "kmodes": "raggruppamento delle risposte come categorie"}
IMPUTATIONS = ("sector_median", "company_mean")
# Largest inputs each method accepts (companies), from benchmarks/bench_segmentation.py on the 2-core
# machine: k-means 1,000,000 in 30 s and 1.6 GiB; Ward keeps n^2/2 distances (15,000: 23 s, 2.0 GiB peak);
# k-modes is pure Python (10,000: 43 s; 50,000 about 3 minutes).
LIMITS = {"kmeans": None, "ward": 15_000, "kmodes": 50_000}
FIT_SAMPLE = 20_000
UNDIFFERENTIATED_SPAN = 1  # a company whose ratings span at most this many points (for example only 4 and 5)
SILHOUETTE_SAMPLE = 3_000
BOOT_SIZE = 2_000
WARD_START = 3_000  # companies Ward's tree is built on to start k-means (n^2 memory: 3,000 take 0.3 s)
STABLE = 0.75


class TooLarge(ValueError):
    """The chosen method cannot run on this many companies within the machine's memory or time."""


@dataclass
class Features:
    """The matrix the segmentation works on, one row per company (the order of ``responses``)."""

    X: np.ndarray
    columns: list[str]
    company_id: np.ndarray
    imputed: pd.Series  # column -> imputed cells
    imputation: str
    imputed_rows: np.ndarray  # True where a company had at least one imputed cell
    with_maturity: bool = False
    centred: bool = False  # need ratings taken relative to the company's own mean rating
    # Companies whose need ratings span at most one point (only 4-5, only 3): with centred ratings they say
    # little about what they need more, so they do not form the segments and are assigned afterwards.
    undifferentiated: np.ndarray | None = None
    blank: np.ndarray | None = None  # companies x columns: True where the answer was blank (imputed)

    @property
    def imputed_companies(self) -> int:
        return int(self.imputed_rows.sum())


def build_features(responses: pd.DataFrame, cb: Codebook, with_maturity: bool = False,
                   imputation: str = "sector_median", centred: bool = False) -> Features:
    """Importance vectors (and maturity, rescaled 0-5 -> 1-5, when asked), blanks imputed. ``centred``: each
    company's need ratings minus its own mean rating, so that how generously a company rates (everything one
    point higher, only 4-5) does not become a segment; what remains is what it needs more than the rest. A
    blank is then imputed on that relative scale (the company's own mean plus the need's median relative
    rating in its sector group, or plus nothing with ``company_mean``), so a generous rater's blank is not
    read as a low rating."""
    if imputation not in IMPUTATIONS:
        raise ValueError(f"imputation must be one of {IMPUTATIONS}, not {imputation!r}")
    cols = [k for k in cb.need_keys if k in responses]
    lo, hi = cb.importance_range
    frame = responses[cols].astype("Float64").astype(float)
    missing_needs = frame.isna()
    span = (frame.max(axis=1) - frame.min(axis=1)).fillna(0).to_numpy()
    sector = responses["gruppo_merceologico"].fillna("").to_numpy()
    if centred:
        # Relative ratings first (over the answered needs), blanks imputed on that scale.
        own = frame.mean(axis=1).fillna((lo + hi) / 2)
        relative = frame.sub(own, axis=0)
        if imputation == "company_mean":
            relative = relative.fillna(0.0)
        else:
            median = relative.groupby(sector).transform("median")
            relative = relative.fillna(median.fillna(relative.median()).fillna(0.0))
        frame = relative.sub(relative.mean(axis=1), axis=0)  # imputed cells move the mean a little: re-centre
    else:
        by_sector = frame.groupby(sector).transform("median")
        fallback = by_sector.fillna(frame.median()).fillna((lo + hi) / 2)
        if imputation == "company_mean":
            frame = frame.apply(lambda c: c.fillna(frame.mean(axis=1))).fillna(fallback)
        else:
            frame = frame.fillna(fallback)
    missing = missing_needs
    if with_maturity:
        mat = [f.key for f in cb.maturity if f.key in responses]
        raw = responses[mat].astype("Float64").astype(float) / 5 * (hi - lo) + lo
        missing = pd.concat([missing_needs, raw.isna()], axis=1)
        by_sector = raw.groupby(sector).transform("median")
        frame = pd.concat([frame, raw.fillna(by_sector.fillna(raw.median()).fillna((lo + hi) / 2))], axis=1)
        cols = cols + mat
    X = frame.to_numpy(dtype=float, copy=True)
    return Features(X=np.ascontiguousarray(X), columns=cols,
                    company_id=responses["company_id"].to_numpy(), imputed=missing.sum(), imputation=imputation,
                    imputed_rows=missing.any(axis=1).to_numpy(), with_maturity=with_maturity, centred=centred,
                    undifferentiated=(span <= UNDIFFERENTIATED_SPAN) if centred else np.zeros(len(X), dtype=bool),
                    blank=missing.to_numpy())


# --------------------------------------------------------------------------
# Methods: labels for several k at once (Ward cuts one tree for every k)

def _sklearn_kmeans():
    # scikit-learn is imported when a segmentation is computed, not when a report shows one (1.5 s per kernel).
    from sklearn.cluster import KMeans

    return KMeans


def _kmeans(X: np.ndarray, ks: list[int], seed: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """k-means started from Ward's segments (on at most :data:`WARD_START` companies drawn with ``seed``).
    Random starts (k-means++) split a large segment in two before they separate a small one, because halving
    a large group lowers the within-segment spread more; Ward's tree keeps small distinct groups, and
    k-means then refines them. Deterministic for a seed."""
    from scipy.cluster import hierarchy

    rng = np.random.default_rng(seed)
    S = X[np.sort(rng.choice(len(X), WARD_START, replace=False))] if len(X) > WARD_START else X
    tree = hierarchy.linkage(S, method="ward")
    out = {}
    for k in ks:
        start = _centres(S, hierarchy.fcluster(tree, t=k, criterion="maxclust") - 1)
        km = _sklearn_kmeans()(n_clusters=len(start), init=start, n_init=1, max_iter=300).fit(X)
        out[k] = (km.labels_, km.cluster_centers_)
    return out


def _ward(X: np.ndarray, ks: list[int], seed: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    from scipy.cluster import hierarchy

    tree = hierarchy.linkage(X, method="ward")
    out = {}
    for k in ks:
        labels = hierarchy.fcluster(tree, t=k, criterion="maxclust") - 1
        out[k] = (labels, _centres(X, labels))
    return out


def _kmodes(X: np.ndarray, ks: list[int], seed: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    from kmodes.kmodes import KModes

    cats = answer_levels(X)
    out = {}
    for k in ks:
        # Cao's initialisation is deterministic (density-based), so one run is enough.
        km = KModes(n_clusters=k, init="Cao", n_init=1, random_state=seed, n_jobs=1).fit(cats)
        labels = np.asarray(km.labels_, dtype=int)
        out[k] = (labels, _centres(X, labels))
    return out


def answer_levels(X: np.ndarray) -> np.ndarray:
    """Answers as three categories for k-modes: low (1-2), relevant (3), high (4-5). Five raw categories
    make every pair of companies differ almost everywhere; three keep what the scale means."""
    return np.digitize(np.rint(X), [2.5, 3.5]).astype(np.int8)


_FIT = {"kmeans": _kmeans, "ward": _ward, "kmodes": _kmodes}


def _centres(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    k = int(labels.max()) + 1
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, labels, X)
    counts = np.bincount(labels, minlength=k)[:, None]
    return sums / np.maximum(counts, 1)


def check_size(n: int, method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    limit = LIMITS[method]
    if limit is not None and n > limit:
        raise TooLarge(f"il metodo {METHOD_LABELS[method]} accetta al massimo {limit:,} imprese (qui {n:,}): "
                       "usate kmeans".replace(",", "."))


# --------------------------------------------------------------------------
# Choosing k

@dataclass
class Selection:
    criteria: pd.DataFrame  # k, silhouette, calinski_harabasz, bic, stability, stable, gap, gap_se
    k: int  # 1 when the companies do not split into distinct groups
    forced: bool
    stable: bool
    reason: str
    one_group: tuple[float, float] = (np.nan, np.nan)  # gap statistic and its error for a single group

    @property
    def structured(self) -> bool:
        return self.k > 1


NO_SEGMENTS = "Tutte le imprese (nessun segmento distinto)"
NO_SEGMENTS_SENTENCE = ("Le imprese non si dividono in gruppi con bisogni distinti: nessun numero di segmenti "
                        "descrive le risposte meglio di un gruppo unico, quindi priorità e Champion valgono per "
                        "tutte le imprese.")
GAP_REFERENCES = 10


def copula_reference(X: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """``m`` companies drawn from one group with the same answers as ``X``: the same distribution of answers per
    feature and the same rank correlations between features (a Gaussian copula), but no groups. Data with one
    continuous "appetite for innovation" factor, or independent answers, look like this reference; data made
    of distinct groups do not."""
    from scipy import stats

    n, d = X.shape
    ranks = np.apply_along_axis(stats.rankdata, 0, X)
    Z = stats.norm.ppf((ranks - 0.5) / n)
    R = np.nan_to_num(np.corrcoef(Z, rowvar=False)) if d > 1 else np.ones((1, 1))
    np.fill_diagonal(R, 1.0)
    U = stats.norm.cdf(rng.multivariate_normal(np.zeros(d), R, size=m, method="eigh"))
    return np.column_stack([np.quantile(X[:, j], U[:, j], method="inverted_cdf") for j in range(d)])


def gap_statistic(X: np.ndarray, ks: list[int], seed: int, references: int = GAP_REFERENCES
                  ) -> dict[int, tuple[float, float]]:
    """``{k: (gap, error)}`` for k = 1 and every k of ``ks`` (Tibshirani, Walther and Hastie, 2001): how much
    more k-means reduces the within-segment spread on the data than on :func:`copula_reference` data, in log
    units, with the error of the reference mean. On at most :data:`BOOT_SIZE` companies."""
    rng = np.random.default_rng(seed)
    if len(X) > BOOT_SIZE:
        X = X[np.sort(rng.choice(len(X), BOOT_SIZE, replace=False))]
    refs = [copula_reference(X, len(X), rng) for _ in range(references)]
    KMeans = _sklearn_kmeans()

    def log_w(data, k, s):
        return float(np.log(KMeans(n_clusters=k, n_init=3, random_state=s).fit(data).inertia_ / len(data) + 1e-12))

    out = {}
    for k in [1, *ks]:
        ref = np.array([log_w(R, k, seed + 1 + b) for b, R in enumerate(refs)])
        out[k] = (float(ref.mean() - log_w(X, k, seed)), float(ref.std() * np.sqrt(1 + 1 / references)))
    return out


def bic(X: np.ndarray, labels: np.ndarray) -> float:
    """Bayesian information criterion of a segmentation read as a mixture of groups with a common spherical
    spread (the model behind k-means): ``-2 log L + p log n`` with the classification likelihood, the
    segments' shares included, and ``p = k d + k`` parameters (centres, shares, one spread). Lower is better.
    A segment earns its parameters when its companies are closer to their own centre than to any other by
    more than chance: a small group that stands apart pays for itself, half of a large group does not."""
    n, d = X.shape
    ids, position, counts = np.unique(labels, return_inverse=True, return_counts=True)
    within = float(((X - _centres(X, position)[position]) ** 2).sum())
    spread = max(within / (n * d), 1e-12)
    log_l = -n * d / 2 * (np.log(2 * np.pi * spread) + 1) + float((counts * np.log(counts / n)).sum())
    return -2 * log_l + (len(ids) * d + len(ids)) * np.log(n)


def choose_k(X: np.ndarray, method: str = "kmeans", k_min: int = 2, k_max: int = 8, seed: int = 42,
             n_boot: int = 20, force_k: int | None = None) -> Selection:
    """Score every k in ``k_min..k_max`` (see the module notes) and choose one."""
    from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, silhouette_score

    check_size(len(X), method)
    rng = np.random.default_rng(seed)
    Xs = X[np.sort(rng.choice(len(X), FIT_SAMPLE, replace=False))] if len(X) > FIT_SAMPLE else X
    ks = [k for k in range(k_min, k_max + 1) if 2 <= k < len(Xs)]
    if force_k is not None and force_k not in ks:
        ks = sorted({*ks, force_k})
    if not ks:
        raise ValueError(f"troppo poche imprese ({len(X)}) per formare segmenti")
    fits = _FIT[method](Xs, ks, seed)
    rows = []
    # Subsamples of 80% without replacement: bootstrap duplicates would make small segments look unstable.
    boots = [np.sort(rng.choice(len(Xs), min(int(0.8 * len(Xs)), BOOT_SIZE), replace=False)) for _ in range(n_boot)]
    boot_fits = [_FIT[method](Xs[idx], ks, seed + 1 + b) for b, idx in enumerate(boots)]
    for k in ks:
        labels = fits[k][0]
        distinct = len(np.unique(labels))
        sil = silhouette_score(Xs, labels, sample_size=min(SILHOUETTE_SAMPLE, len(Xs)), random_state=seed) \
            if distinct > 1 else np.nan
        ch = calinski_harabasz_score(Xs, labels) if distinct > 1 else np.nan
        aris = [adjusted_rand_score(labels[idx], bf[k][0]) for idx, bf in zip(boots, boot_fits, strict=True)]
        rows.append({"k": k, "silhouette": sil, "calinski_harabasz": ch, "bic": bic(Xs, labels),
                     "stability": float(np.mean(aris)) if aris else np.nan})
    crit = pd.DataFrame(rows)
    crit["stable"] = crit["stability"] >= STABLE
    gaps = gap_statistic(Xs, ks, seed)
    crit["gap"] = [gaps[k][0] for k in crit["k"]]
    crit["gap_se"] = [gaps[k][1] for k in crit["k"]]
    one = gaps[1]
    if force_k is not None:
        row = crit[crit["k"] == force_k].iloc[0]
        return Selection(crit, force_k, True, bool(row["stable"]), f"k = {force_k} imposto dal parametro", one)
    # "No distinct segments" is a possible answer: some k must beat one single group by more than the
    # uncertainty of both (gap statistic against a reference with the same answers and no groups).
    if not ((crit["gap"] - crit["gap_se"]) > one[0] + one[1]).any():
        return Selection(crit, 1, False, True, "le imprese non si dividono in gruppi di bisogni distinti: nessun "
                         "numero di segmenti descrive le risposte meglio di un gruppo unico (statistica gap)", one)
    # Some k beats one group, so there are segments; how many is the lowest BIC over the whole range (the gap
    # is the switch, BIC the count): small distinct segments are kept, large ones are not halved.
    best = crit.sort_values(["bic", "k"]).iloc[0]
    k = int(best["k"])
    reason = f"k = {k}: il criterio BIC più basso (il modello con {k} gruppi spiega le risposte meglio degli altri)"
    if not best["stable"]:
        reason += f"; la soluzione non è stabile (stabilità sotto {STABLE:.2f})".replace(".", ",")
    return Selection(crit, k, False, bool(best["stable"]), reason, one)


# --------------------------------------------------------------------------
# The final segmentation

@dataclass
class Segmentation:
    labels: pd.Series  # segment number (1 = largest) per company, index of responses
    names: dict[int, str]
    method: str
    seed: int
    selection: Selection
    features: Features
    centres: np.ndarray  # (segments, features), in segment-number order
    merged: list[str] = field(default_factory=list)  # what happened to segments under min_share
    small: list[int] = field(default_factory=list)  # segments under min_share kept (policy "flag")
    stability: dict[int, float] = field(default_factory=dict)  # segment -> mean best Jaccard over subsamples
    latent: LatentCheck | None = None  # the latent class cross-check, when run

    @property
    def assigned_afterwards(self) -> int:
        """Companies that did not form the segments (ratings spanning at most one point) but were assigned."""
        return int(self.selection.structured and (~forming(self.features)).sum())

    @property
    def unstable(self) -> list[int]:
        """Segments that do not come back on most subsamples (:data:`SEGMENT_STABLE`)."""
        return [s for s, v in sorted(self.stability.items()) if v < SEGMENT_STABLE]

    @property
    def k(self) -> int:
        return len(self.names)

    def named(self) -> pd.Series:
        return self.labels.map(self.names)


# Hennig's reading of the cluster-wise Jaccard: under 0.6 a segment dissolves on resampling; 0.75 and more it is
# a real pattern.
SEGMENT_STABLE = 0.6


def segment_stability(X: np.ndarray, labels: np.ndarray, method: str, seed: int, n_boot: int) -> dict[int, float]:
    """For each segment, how well it comes back when the segmentation is refitted on subsamples of 80% of the
    companies (at most :data:`BOOT_SIZE`) with the same number of segments: the mean over subsamples of its
    best Jaccard index (shared members over members of either) with a segment found there (Hennig, 2007)."""
    ids = np.unique(labels)
    if len(ids) < 2:
        return {int(s): 1.0 for s in ids}
    rng = np.random.default_rng(seed + 7919)
    scores = {int(s): [] for s in ids}
    for b in range(n_boot):
        idx = np.sort(rng.choice(len(X), min(int(0.8 * len(X)), BOOT_SIZE), replace=False))
        found = _FIT[method](X[idx], [len(ids)], seed + 1 + b)[len(ids)][0]
        mine = labels[idx]
        for s in ids:
            a = mine == s
            if not a.any():
                continue
            scores[int(s)].append(max((a & (found == f)).sum() / (a | (found == f)).sum() for f in np.unique(found)))
    return {s: float(np.mean(v)) if v else float("nan") for s, v in scores.items()}


def cluster(X: np.ndarray, k: int, method: str = "kmeans", seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    """Labels (0..k-1) and centres for all companies with ``k`` segments."""
    check_size(len(X), method)
    if method == "kmeans" and len(X) > FIT_SAMPLE:
        rng = np.random.default_rng(seed)
        sample = X[np.sort(rng.choice(len(X), FIT_SAMPLE, replace=False))]
        _, centres = _kmeans(sample, [k], seed)[k]
        km = _sklearn_kmeans()(n_clusters=k, init=centres, n_init=1, max_iter=100, random_state=seed).fit(X)
        return km.labels_, km.cluster_centers_
    return _FIT[method](X, [k], seed)[k]


def _refine_blanks(feats: Features, fit: np.ndarray, labels: np.ndarray, centres: np.ndarray,
                   rounds: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """k-means on the answers given: a company with blanks is compared with each centre on the needs it rated
    only, allowing for its own level on those needs (the distance after the best common shift), and each
    centre is the mean of its members' answers, need by need. Imputed values then decide nothing: a blank
    filled from the sector group cannot pull a company away from the companies it resembles. Afterwards each
    blank holds its segment centre's value at the company's level (``feats.X`` is updated)."""
    X, observed = feats.X[fit], ~feats.blank[fit]
    answered = observed.sum(axis=1).clip(min=1)
    start_labels, start_centres = labels, centres
    for _ in range(rounds):
        # Squared distance on the answered columns, minus what a shift of the company's level explains.
        diff = np.where(observed[:, None, :], X[:, None, :] - centres[None, :, :], 0.0)
        dist = (diff ** 2).sum(axis=2) - diff.sum(axis=2) ** 2 / answered[:, None]
        new = dist.argmin(axis=1)
        shift = diff[np.arange(len(X)), new].sum(axis=1) / answered
        moved = np.where(observed, X - shift[:, None], np.nan)
        updated = np.array([np.nanmean(moved[new == j], axis=0) if (new == j).any() else centres[j]
                            for j in range(len(centres))])
        updated = np.where(np.isnan(updated), centres, updated)
        done = np.array_equal(new, labels) and np.allclose(updated, centres)
        labels, centres = new, updated
        if done:
            break
    if len(np.unique(labels)) < len(centres):  # a segment emptied: keep the partition k-means found
        return start_labels, start_centres
    diff = np.where(observed, X - centres[labels], 0.0)
    shift = diff.sum(axis=1) / answered
    rows = np.flatnonzero(fit)
    feats.X[rows] = np.where(observed, X, centres[labels] + shift[:, None])
    return labels, centres


def forming(feats: Features) -> np.ndarray:
    """The companies that form the segments: all but those whose ratings span at most one point
    (:data:`UNDIFFERENTIATED_SPAN`), which are assigned afterwards (:func:`nearest_by_direction`). However many
    those are, they never form segments: a survey where most companies answer only 4-5 says little about
    groups of needs, and letting them in makes segments of response styles."""
    if feats.undifferentiated is None:
        return np.ones(len(feats.X), dtype=bool)
    return ~feats.undifferentiated


MIN_FORMING = 10  # companies with differentiated ratings needed to look for segments at all


def _nearest(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """For each row, the index of the nearest centre (squared Euclidean distance)."""
    return np.argmin(((X[:, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)


def nearest_by_direction(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """For each row, the centre pointing the same way (highest cosine): a company answering only 4 and 5 with
    5 on three needs points where the companies that need those three do, only less far. A row with no
    direction (every rating equal) goes to the nearest centre."""
    if not len(X):
        return np.zeros(0, dtype=int)
    norms = np.linalg.norm(X, axis=1)
    cos = (X @ centres.T) / np.maximum(norms[:, None] * np.linalg.norm(centres, axis=1)[None, :], 1e-12)
    return np.where(norms > 1e-9, cos.argmax(axis=1), _nearest(X, centres))


def refit(X: np.ndarray, centres: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
    """Segment numbers (1..k) for the companies ``X`` (each counted ``counts`` times) by k-means started from a
    segmentation's ``centres`` (in segment order, so segment j keeps its number): the same segments, refitted
    on other companies."""
    if len(centres) == 1 or len(X) == 0:
        return np.ones(len(X), dtype=int)
    if len(X) < len(centres):  # too few companies to refit: each to its nearest centre
        return _nearest(X, centres) + 1
    km = _sklearn_kmeans()(n_clusters=len(centres), init=centres, n_init=1, max_iter=300).fit(X, sample_weight=counts)
    return km.labels_ + 1


def _merge_small(X: np.ndarray, labels: np.ndarray, too_small) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Move the members of segments ``too_small(companies, all companies)`` says are too small to the nearest
    remaining centre, smallest first (two segments at least remain)."""
    labels = labels.copy()
    moves = []
    while True:
        ids, counts = np.unique(labels, return_counts=True)
        small = [(c, i) for i, c in zip(ids, counts, strict=True) if too_small(c, len(labels))]
        if not small or len(ids) <= 2:
            return labels, moves
        _, victim = min(small)
        keep = [i for i in ids if i != victim]
        centres = np.array([X[labels == i].mean(axis=0) for i in keep])
        members = labels == victim
        nearest = _nearest(X[members], centres)
        labels[members] = np.asarray(keep)[nearest]
        moves.append((int(victim), int(counts[list(ids).index(victim)])))


def _renumber(X: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segments numbered 1.. by size (largest first; ties by their first company), with their centres."""
    ids, first, counts = np.unique(labels, return_index=True, return_counts=True)
    order = sorted(range(len(ids)), key=lambda j: (-counts[j], first[j]))
    mapping = {int(ids[j]): n for n, j in enumerate(order, start=1)}
    new = np.vectorize(mapping.get, otypes=[int])(labels) if len(labels) else labels
    centres = np.array([X[new == n].mean(axis=0) for n in range(1, len(order) + 1)])
    return new, centres


def segment(responses: pd.DataFrame, cb: Codebook, method: str = "kmeans", k_min: int = 2, k_max: int = 8,
            force_k: int | None = None, seed: int = 42, with_maturity: bool = False,
            imputation: str = "sector_median", min_share: float = 0.05, small_policy: str = "flag",
            n_boot: int = 20, names: dict | None = None, centred: bool = True) -> Segmentation:
    """Features, the choice of k, the final clustering, small segments, numbering and names."""
    if small_policy not in ("merge", "flag"):
        raise ValueError(f"small_policy must be merge or flag, not {small_policy!r}")
    feats = build_features(responses, cb, with_maturity, imputation, centred)
    check_size(len(feats.X), method)
    fit = forming(feats)
    if fit.sum() < MIN_FORMING and force_k is None:
        selection = Selection(pd.DataFrame(columns=["k", "silhouette", "calinski_harabasz", "bic", "stability",
                                                    "stable", "gap", "gap_se"]), 1, False, True,
                              f"solo {int(fit.sum())} imprese hanno dato voti differenziati (non tutti in un solo "
                              "punto): troppo poche per cercare gruppi di bisogni distinti")
    else:
        fit = fit if fit.sum() >= max(MIN_FORMING, force_k or 0) else np.ones(len(feats.X), dtype=bool)
        selection = choose_k(feats.X[fit], method, k_min, k_max, seed, n_boot, force_k)
    if not selection.structured:  # every company in one segment: priorities and Champions cover them all
        labels = np.zeros(len(feats.X), dtype=int)
        series = pd.Series(_renumber(feats.X, labels)[0], index=responses.index, name="segment")
        chosen = {1: str((names or {}).get(1, (names or {}).get("1", NO_SEGMENTS)))}
        return Segmentation(series, chosen, method, seed, selection, feats, feats.X.mean(axis=0, keepdims=True))
    labels = np.zeros(len(feats.X), dtype=int)
    labels[fit], centres = cluster(feats.X[fit], selection.k, method, seed)
    if method == "kmeans" and feats.centred and not feats.with_maturity and feats.blank[fit].any():
        labels[fit], centres = _refine_blanks(feats, fit, labels[fit], centres)
    labels[~fit] = nearest_by_direction(feats.X[~fit], centres)
    merged, small = [], []
    if small_policy == "merge":
        labels, moves = _merge_small(feats.X, labels, lambda c, n: c < min_share * n)
        merged = [f"un segmento di {n} imprese (sotto il {min_share:.0%}) è stato unito ai segmenti più vicini"
                  .replace(".", ",") for _, n in moves if not Gate("board").small(n)]
    # A group of companies too small to publish is no segment: its companies join the nearest ones, in the
    # analysis itself, so that no report can tell such a group existed from the number of segments.
    labels, tiny = _merge_small(feats.X, labels, lambda c, n: bool(Gate("board").small(c)))
    if tiny or (small_policy == "merge" and len(merged) < len(moves)):
        merged.append("le imprese con un profilo troppo raro per formare un segmento pubblicabile sono state unite "
                      "ai segmenti più vicini")
    labels, centres = _renumber(feats.X, labels)
    if small_policy == "flag":
        counts = np.bincount(labels)[1:]
        small = [i + 1 for i, c in enumerate(counts) if c < min_share * len(labels)]
    series = pd.Series(labels, index=responses.index, name="segment")
    auto = segment_names(responses, series, cb)
    chosen = {n: str((names or {}).get(n, (names or {}).get(str(n), auto[n]))) for n in auto}
    stability = segment_stability(feats.X[fit], labels[fit], method, seed, n_boot)
    return Segmentation(series, chosen, method, seed, selection, feats, centres, merged, small, stability)


def _lower_first(text: str) -> str:
    # "Decarbonizzazione" -> "decarbonizzazione", but an acronym such as "IA ..." stays as written.
    return text if len(text) > 1 and text[1].isupper() else text[:1].lower() + text[1:]


def need_lift(responses: pd.DataFrame, labels: pd.Series, cb: Codebook) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean importance per segment and need (answers as given, blanks left out) and its lift: the segment's
    mean over the mean of all companies."""
    keys = [k for k in cb.need_keys if k in responses]
    values = responses[keys].astype("Float64").astype(float)
    means = values.groupby(labels.to_numpy()).mean()
    lift = means / values.mean()
    return means, lift


# A need names a segment only when the segment rates it clearly above all companies (10% above the mean).
MIN_LIFT = 1.10
UNDIFFERENTIATED = "Senza bisogni distintivi"


def distinctive(lift: pd.Series) -> list[str]:
    """The needs a segment rates clearly above all companies (lift at least :data:`MIN_LIFT`), highest first."""
    ordered = lift.sort_values(ascending=False, kind="stable")
    return ordered[ordered >= MIN_LIFT].index.tolist()


def segment_names(responses: pd.DataFrame, labels: pd.Series, cb: Codebook) -> dict[int, str]:
    """An Italian name per segment from its two needs with the highest lift (a third when two segments would
    share a name), for example "Efficienza energetica, decarbonizzazione"; only needs the segment rates
    clearly above the rest count (:func:`distinctive`), and a segment without any is "Senza bisogni
    distintivi"."""
    _, lift = need_lift(responses, labels, cb)
    names: dict[int, str] = {}
    for s in lift.index:
        shorts = [cb.by_key[k].short for k in distinctive(lift.loc[s])]
        name = UNDIFFERENTIATED
        for n in range(min(2, len(shorts)), len(shorts) + 1) if shorts else ():
            name = ", ".join([shorts[0], *(_lower_first(x) for x in shorts[1:n])])
            if name not in names.values():
                break
        while name in names.values():  # no distinctive need left to tell two segments apart
            name = f"{name} ({int(s)})"
        names[int(s)] = name
    return names


# --------------------------------------------------------------------------
# A cross-check: latent classes on the answers as categories

LATENT_SAMPLE = 600  # companies the latent class models are fitted on (2,000 take 54 s, 600 about 12 s)
LATENT_STARTS = 5


@dataclass
class LatentCheck:
    """Latent class models (StepMix) on the need answers as three categories, for every k of the range."""

    criteria: pd.DataFrame  # k, bic, agreement (adjusted Rand index with the chosen segmentation)
    k: int  # the number of classes with the lowest BIC
    agreement: float  # ARI between the segmentation and the latent classes at the segmentation's own k
    companies: int  # how many companies the models were fitted on

    def sentence(self, chosen: int) -> str:
        if chosen == 1:
            return (f"Verifica con un modello a classi latenti sulle risposte come categorie (basso 1-2, medio 3, alto "
                    f"4-5): il BIC più basso è con {self.k} classi. Quel modello legge i voti così come sono, quindi "
                    "separa anche chi vota tutto più alto da chi vota più basso; i segmenti, che guardano che cosa "
                    "ogni impresa chiede più degli altri suoi bisogni, non battono un gruppo unico.")
        agree = fmt_num(self.agreement, 2)
        same = ("sceglie lo stesso numero di gruppi" if self.k == chosen else
                f"sceglie {self.k} gruppi (il BIC più basso) invece di {chosen}")
        words = ("le due divisioni coincidono" if self.agreement >= 0.995 else
                 "le due divisioni coincidono quasi del tutto" if self.agreement >= 0.8 else
                 "le due divisioni concordano in parte" if self.agreement >= 0.5 else
                 "le due divisioni concordano poco: i segmenti vanno letti con cautela")
        return (f"Verifica con un modello a classi latenti sulle risposte come categorie (basso 1-2, medio 3, alto "
                f"4-5): {same}; con {chosen} gruppi l'accordo con i segmenti è {agree} (indice di Rand corretto: 1 "
                f"identici, 0 = accordo casuale), quindi {words}.")


def latent_class_check(responses: pd.DataFrame, cb: Codebook, labels: pd.Series, k_min: int = 2, k_max: int = 8,
                       seed: int = 42) -> LatentCheck:
    """Fit a latent class model (StepMix, categorical measurement with blanks allowed, :data:`LATENT_STARTS`
    starts) for every k in ``k_min..k_max`` on at most :data:`LATENT_SAMPLE` companies; report each BIC and the
    agreement of its classes with the segmentation ``labels``. It reads the answers raw (no centring), so where
    the two disagree a response style may be at work."""
    import warnings

    from sklearn.metrics import adjusted_rand_score
    from stepmix.stepmix import StepMix

    keys = [k for k in cb.need_keys if k in responses]
    X = responses[keys].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    cats = np.where(np.isnan(X), np.nan, np.digitize(X, [2.5, 3.5]))
    truth = labels.to_numpy()
    if len(cats) > LATENT_SAMPLE:
        idx = np.sort(np.random.default_rng(seed).choice(len(cats), LATENT_SAMPLE, replace=False))
        cats, truth = cats[idx], truth[idx]
    rows = []
    for k in range(max(2, k_min), min(k_max, len(cats) - 1) + 1):
        # A tolerance of 1e-5 on the log-likelihood gives the same BIC to the unit as StepMix's 1e-10, in a third
        # of the time (5.4 s -> 1.9 s for k 2-8 on the sample).
        model = StepMix(n_components=k, measurement="categorical_nan", verbose=0, progress_bar=0,
                        random_state=seed, n_init=LATENT_STARTS, abs_tol=1e-5)
        with warnings.catch_warnings():  # convergence notes of single starts: the best start is kept
            warnings.simplefilter("ignore")
            model.fit(cats)
        rows.append({"k": k, "bic": float(model.bic(cats)),
                     "agreement": float(adjusted_rand_score(truth, model.predict(cats)))})
    crit = pd.DataFrame(rows, columns=["k", "bic", "agreement"])
    if crit.empty:
        return LatentCheck(crit, 1, float("nan"), len(cats))
    best = int(crit.sort_values(["bic", "k"]).iloc[0]["k"])
    own = crit.loc[crit["k"] == len(np.unique(truth)), "agreement"]
    return LatentCheck(crit, best, float(own.iloc[0]) if len(own) else float("nan"), len(cats))


# --------------------------------------------------------------------------
# Profiles for the report

def board_segments(seg: Segmentation, gate: Gate) -> Categories:
    """The segments as the board sees them: numbered names, those under 3 companies merged into "altre
    imprese" (the analyst view keeps every segment); no breakdown when the companies form one group."""
    if not seg.selection.structured:
        return Categories({s: None for s in seg.names}, [], omitted=NO_SEGMENTS_SENTENCE)
    sizes = seg.labels.value_counts().reindex(sorted(seg.names), fill_value=0)
    return gate.categories(sizes, {s: f"{s}. {seg.names[s]}" for s in sizes.index}, what="segmento")


def board_segment_names(seg: Segmentation, segments: Categories) -> dict[str, str]:
    """Each segment's name as the board sees it: its own, or "altre imprese" when it was merged (the one group
    of companies without distinct segments keeps its name)."""
    if not seg.selection.structured:
        return {name: name for name in seg.names.values()}
    return {name: name if segments.board.get(s) == f"{s}. {name}" else OTHERS for s, name in seg.names.items()}


def segment_overview(responses: pd.DataFrame, seg: Segmentation, cb: Codebook, gate: Gate, segments: Categories,
                     sectors: Categories, top: int = 3, named: pd.Index | None = None,
                     weights: pd.Series | None = None) -> pd.DataFrame:
    """One row per segment as the board sees it (``segments``, ``sectors``: from
    :meth:`analysis.disclosure.Gate.categories`): companies, share, companies per sector group (small cells
    protected against the segment and group totals, and against the companies ``named`` one by one elsewhere
    in the report, by their segment and group) and its top needs by lift. With post-stratification
    ``weights`` (index of ``responses``) each segment's share of the membership is shown beside its share of
    the respondents."""
    if segments.omitted:
        return with_note(pd.DataFrame(columns=["Segmento"]), segments.omitted)
    board = segments.labels(seg.labels)
    means, lift = need_lift(responses, board, cb)
    sizes = board.value_counts().reindex(segments.order)
    out = pd.DataFrame({"Segmento": segments.order, "Imprese": [fmt_int(n) for n in sizes],
                        "Quota": [fmt_pct(n / len(board)) for n in sizes],
                        # How generously the segment rates: segments are formed on ratings relative to each
                        # company's own mean, so the level is shown beside the profile instead.
                        "Voto medio": [fmt_num(means.loc[s].mean(), 1) for s in segments.order]})
    if weights is not None:
        weighted = weights.groupby(board.to_numpy()).sum().reindex(segments.order) / weights.sum()
        out.insert(3, "Quota pesata (soci)", [fmt_pct(v) for v in weighted])
    if not sectors.omitted:
        counts = pd.crosstab(board, sectors.labels(responses["gruppo_merceologico"])).reindex(
            index=segments.order, columns=sectors.order, fill_value=0)
        known = None
        if named is not None:
            mine = responses["company_id"].isin(named).to_numpy()
            known = pd.crosstab(board[mine], sectors.labels(responses["gruppo_merceologico"])[mine])
        shown = gate.counts(counts, "Segmenti per gruppo merceologico", known=known).show()
        for label in sectors.order:
            out[label] = shown[label].to_numpy()
    out["Bisogni distintivi"] = [
        ", ".join(f"{cb.by_key[k].short} ({fmt_num(lift.at[s, k], 1)}x)" for k in distinctive(lift.loc[s])[:top])
        or "nessuno sopra la media" for s in segments.order]
    notes = {label: [] for label in segments.order}
    for s in seg.small:
        notes[segments.board[s]].append("piccolo (sotto la quota minima)")
    for s in seg.unstable:
        notes[segments.board[s]].append("poco stabile sui ricampionamenti")
    if any(notes.values()):
        out["Nota"] = ["; ".join(dict.fromkeys(notes[s])) for s in segments.order]
    return out


def segment_mix(responses: pd.DataFrame, seg: Segmentation, segments: Categories, column: Categories,
                values: pd.Series, gate: Gate, caption: str, named=None) -> pd.DataFrame:
    """Companies per segment and category of a breakdown (size class, supply-chain position; ``column`` and
    ``values`` its categories and answers), small cells protected against the segment and category totals
    and against the companies ``named`` one by one elsewhere with their category."""
    if segments.omitted or column.omitted:
        return with_note(pd.DataFrame(columns=["Segmento"]), segments.omitted or column.omitted)
    rows, cols = segments.labels(seg.labels), column.labels(values)
    counts = pd.crosstab(rows, cols).reindex(index=segments.order, columns=column.order, fill_value=0)
    known = None
    if named is not None:
        mine = responses["company_id"].isin(named).to_numpy()
        known = pd.crosstab(rows[mine], cols[mine])
    published = gate.counts(counts, caption, known=known)
    out = published.show()
    out.insert(0, "Segmento", segments.order)
    return with_note(out.reset_index(drop=True), published.omitted)


def pca_map(seg: Segmentation, max_points: int = 5_000) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """Coordinates on the first two principal components (of at most ``max_points`` companies, drawn with the
    segmentation's seed), their segments and the variance the two components explain. The components come
    from a singular value decomposition of the centred features, each signed so that its largest loading is
    positive (scikit-learn's convention), so the map is the same on every run."""
    X, labels = seg.features.X, seg.labels.to_numpy()
    if len(X) > max_points:
        idx = np.sort(np.random.default_rng(seg.seed).choice(len(X), max_points, replace=False))
        X, labels = X[idx], labels[idx]
    centre = seg.features.X.mean(axis=0)
    _, s, vt = np.linalg.svd(seg.features.X - centre, full_matrices=False)
    vt = vt[:2] * np.sign(vt[:2][np.arange(2), np.abs(vt[:2]).argmax(axis=1)])[:, None]
    total = float((s ** 2).sum())
    ratio = (s[:2] ** 2 / total) if total > 0 else np.zeros(2)
    return (X - centre) @ vt.T, labels, tuple(float(v) for v in ratio)
