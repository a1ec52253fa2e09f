"""Harder synthetic answers: the conditions segments, priorities and Champions are checked on.

The bundled sample (:mod:`analysis.sample`) plants five well separated
segments; any method finds them. Real answers are harder, so the project's
own tests, benchmarks and ``python -m analysis sample --scenario NAME`` can
draw the need ratings from one of these conditions instead:

``stili`` (response styles)
    Four need segments of random sizes, each rating four needs of its own
    1.6 points higher than realistic averages (2.0-3.2), noise 0.7; then 30%
    of the companies rate everything one point higher and 15% answer only
    4-5 (5 on their segment's needs).
``mancanti`` (missing answers)
    Four segments as above; 25% of the need answers blank, at random but
    twice as often among companies under 50 employees as among larger ones.
``indipendenti`` (no groups)
    Every need answered independently, each with its own realistic
    distribution of 1-5.
``continuo`` (one continuous factor, no groups)
    One "appetite for innovation" factor moves every need: companies differ
    in how much they want, not in what.
``piccoli`` (small segments)
    One segment of 76% and four of 6%, each rating three needs of its own
    1.6 points higher.
``deboli`` (weak contrasts)
    Four segments that differ by +1.5 points on only two needs each.

Every condition also plants the programme's overall top needs
(:attr:`Scenario.top_needs` needs, average 3.9 instead of 2.0-3.0), so
that a priority ranking has a known answer. :func:`generate` returns the
ratings with the truth (segment per company, or -1 when there are no groups;
the planted top needs), the company sizes and the sector groups. Seeded:
the same scenario, seed and codebook give the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from analysis.codebook import Codebook

MECC = "Meccaniche"
METAL = "Metallurgiche, Siderurgiche e Fonderie"
STRUCTURES = ("segments", "independent", "continuum")
SMALL_COMPANY = 50  # employees: below this, a company leaves answers blank twice as often


@dataclass(frozen=True)
class Scenario:
    """How the need ratings are drawn (see the module notes for the named conditions)."""

    structure: str = "segments"
    segments: int = 4
    shares: tuple[float, ...] | None = None  # None: random sizes (Dirichlet with concentration 8)
    needs_per_segment: int = 4
    contrast: float = 1.6  # points a segment adds to its own needs
    noise: float = 0.7
    shift: float = 0.0  # share of companies rating everything one point higher
    acquiescent: float = 0.0  # share of companies answering only 4-5
    missing: float = 0.0  # share of need answers left blank (more among small companies)
    top_needs: int = 2  # needs every company rates high on average: the planted priorities


SCENARIOS: dict[str, Scenario] = {
    "stili": Scenario(shift=0.30, acquiescent=0.15),
    "mancanti": Scenario(missing=0.25),
    "indipendenti": Scenario(structure="independent"),
    "continuo": Scenario(structure="continuum"),
    "piccoli": Scenario(segments=5, shares=(0.76, 0.06, 0.06, 0.06, 0.06), needs_per_segment=3),
    "deboli": Scenario(needs_per_segment=2, contrast=1.5),
}


@dataclass
class Synthetic:
    """Ratings (one row per company, the codebook's need keys, Int64 with blanks) and what was planted."""

    ratings: pd.DataFrame
    segment: np.ndarray  # planted segment per company (0..k-1), -1 when the condition has no groups
    top_needs: list[str]  # the planted overall priorities
    segment_needs: dict[int, list[str]]  # the needs each planted segment rates higher
    employees: np.ndarray
    sector: np.ndarray
    profile: pd.DataFrame  # supply-chain position, investment horizon and the six maturity answers

    def responses(self) -> pd.DataFrame:
        """The ratings as a responses table (``company_id``, sector group, employees, profile, needs): enough
        for the segmentation, the needs tables and the priorities."""
        out = pd.concat([self.profile, self.ratings], axis=1)
        out.insert(0, "company_id", [f"IT{i:011d}" for i in range(len(out))])
        out.insert(1, "gruppo_merceologico", self.sector)
        out.insert(2, "dipendenti", pd.array(self.employees, dtype="Int64"))
        return out


def company_sizes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Employees as in the membership: 18% micro, 46% small, 28% medium, 8% large (log-uniform within)."""
    cls = rng.choice(4, size=n, p=[0.18, 0.46, 0.28, 0.08])
    lo = np.array([2, 10, 50, 250])[cls]
    hi = np.array([10, 50, 250, 1201])[cls]
    return np.rint(np.exp(rng.uniform(np.log(lo), np.log(hi)))).astype(int)


def generate(scenario: Scenario | str, cb: Codebook, seed: int, companies: int = 300) -> Synthetic:
    """Ratings of ``companies`` companies under ``scenario`` (a :class:`Scenario` or a name of
    :data:`SCENARIOS`)."""
    sc = SCENARIOS[scenario] if isinstance(scenario, str) else scenario
    if sc.structure not in STRUCTURES:
        raise ValueError(f"structure must be one of {STRUCTURES}, not {sc.structure!r}")
    rng = np.random.default_rng(seed)
    keys = list(cb.need_keys)
    d = len(keys)
    top = [keys[j] for j in sorted(rng.choice(d, size=min(sc.top_needs, d), replace=False))]
    base = rng.uniform(2.0, 3.0, d)
    base[[keys.index(k) for k in top]] = 3.9
    employees = company_sizes(rng, companies)
    sector = np.where(rng.random(companies) < 0.6, MECC, METAL)
    truth = np.full(companies, -1)
    own: dict[int, list[str]] = {}
    if sc.structure == "independent":
        # Each need its own distribution of answers, centred on its average.
        X = np.column_stack([rng.choice(np.arange(1, 6), companies, p=_answer_distribution(rng, b)) for b in base])
    elif sc.structure == "continuum":
        factor = rng.normal(0, 1, companies)
        X = base + np.outer(factor, rng.uniform(0.5, 1.0, d)) + rng.normal(0, sc.noise * 0.85, (companies, d))
    else:
        k = sc.segments
        shares = np.asarray(sc.shares if sc.shares is not None else rng.dirichlet(np.full(k, 8.0)), dtype=float)
        counts = np.floor(shares / shares.sum() * companies).astype(int)
        counts[: companies - counts.sum()] += 1
        truth = rng.permutation(np.repeat(np.arange(k), counts))
        # Segments take their needs in turn from those that are not the overall priorities.
        pool = [key for key in keys if key not in top]
        own = {s: [pool[(s * sc.needs_per_segment + j) % len(pool)] for j in range(sc.needs_per_segment)]
               for s in range(k)}
        lift = np.zeros((k, d))
        for s, needs in own.items():
            lift[s, [keys.index(n) for n in needs]] = sc.contrast
        X = base + lift[truth] + rng.normal(0, sc.noise, (companies, d))
    X = np.clip(np.rint(X), 1, 5)
    style = rng.random(companies)
    X[style < sc.shift] = np.minimum(X[style < sc.shift] + 1, 5)
    acquiescent = (style >= sc.shift) & (style < sc.shift + sc.acquiescent)
    for i in np.flatnonzero(acquiescent):
        mine = set(own.get(int(truth[i]), []))
        X[i] = [5 if key in mine else 4 + (rng.random() < 0.15) for key in keys]
    ratings = pd.DataFrame(X.astype(int), columns=keys).astype("Int64")
    if sc.missing:
        # Twice as often among small companies, with the overall share as asked.
        small = employees < SMALL_COMPANY
        rate = sc.missing / (small.mean() + (1 - small.mean()) / 2)
        p = np.where(small, rate, rate / 2)[:, None]
        blank = rng.random((companies, d)) < p
        blank[blank.all(axis=1), 0] = False  # a company with no need answered would be rejected at ingest
        ratings = ratings.mask(blank)
    return Synthetic(ratings, truth, top, own, employees, sector, _profile(rng, cb, companies))


def _profile(rng: np.random.Generator, cb: Codebook, n: int) -> pd.DataFrame:
    """Position in the supply chain, investment horizon and maturity (0-5), drawn independently of the needs."""
    out = {}
    for key, p in (("posizione_filiera", [0.12, 0.30, 0.33, 0.25]), ("orizzonte_investimento", [0.35, 0.45, 0.20])):
        if key in cb.by_key:
            options = list(cb.by_key[key].options)
            out[key] = rng.choice(options, n, p=p if len(p) == len(options) else None)
    for f in cb.maturity:
        out[f.key] = pd.array(rng.choice(6, n, p=[0.15, 0.3, 0.25, 0.15, 0.1, 0.05]), dtype="Int64")
    return pd.DataFrame(out)


def _answer_distribution(rng: np.random.Generator, mean: float) -> np.ndarray:
    """A realistic distribution over 1-5 with roughly the given mean (a Dirichlet draw tilted towards it)."""
    levels = np.arange(1, 6)
    p = rng.dirichlet(np.full(5, 2.0)) * np.exp(-0.8 * (levels - mean) ** 2)
    return p / p.sum()


def variant(name: str, **changes) -> Scenario:
    """A named condition with some settings changed, for example ``variant("piccoli", noise=0.9)``."""
    return replace(SCENARIOS[name], **changes)
